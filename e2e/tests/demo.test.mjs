// Browser tests of the seed 000 demo: `inlay demo` (viewer + token flow + host app) in Chromium.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, waitFor } from '../lib/browser.mjs';
import { inlayBinary, repoRoot, startDemo } from '../lib/demo.mjs';
import { embedConfigFor, parseDisplayed, widgetValues } from '../lib/inlay.mjs';

const EMBED_TTL_SECONDS = 5;
const artifacts = path.join(repoRoot, 'e2e', 'artifacts');

let demo;
let browser;

before(async () => {
  demo = await startDemo(inlayBinary(), { rows: 200_000, embedTTL: `${EMBED_TTL_SECONDS}s` });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

/** A fresh browser context (own cookies) on the host app's start page. */
// Large currency values show whole dollars (no cents): revenue is compared to half a dollar.
async function openHost({ width = 1440, height = 1000 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(demo.hostURL);
  return { context, page };
}

/** Signs in on the login page and waits until every widget has rendered. */
async function loginAs(page, username) {
  await page.click(`button[data-username="${username}"]`);
  await page.waitForSelector('#dashboard iframe');
  const frame = page.frameLocator('#dashboard iframe');
  await waitForRendered(page);
  return frame;
}

/** Waits until the frame shows every widget complete (none loading) and the host saw a run complete. */
async function waitForRendered(page, { minRuns = 1 } = {}) {
  const frame = page.frameLocator('#dashboard iframe');
  await frame.locator('[data-widget]').first().waitFor({ timeout: 30_000 });
  await waitFor(
    async () =>
      (await frame.locator('[data-widget][data-status="loading"]').count()) === 0 &&
      (await page.locator('#event-log li[data-event="dashboard:run:complete"]').count()) >= minRuns,
    { timeout: 30_000, what: 'all widgets rendered' },
  );
  return frame;
}

async function counterValue(frame, widget) {
  const text = await frame.locator(`[data-widget="${widget}"][data-status="complete"] .counter-value`).innerText();
  return parseDisplayed(text);
}

async function logout(page) {
  await page.click('#logout');
  await page.waitForSelector('button[data-username]');
}

describe('seed 000 demo in Chromium', () => {
  test('alice sees only Sales, bob only Engineering, and logging out and in switches the data', async () => {
    const sales = await widgetValues(await embedConfigFor(demo.hostURL, 'alice'), ['revenue', 'orders']);
    const engineering = await widgetValues(await embedConfigFor(demo.hostURL, 'bob'), ['revenue', 'orders']);
    assert.notEqual(sales.revenue, engineering.revenue, 'Sales and Engineering revenue should differ');
    assert.ok(sales.orders > 0 && engineering.orders > 0);

    const { context, page } = await openHost();
    try {
      let frame = await loginAs(page, 'alice');
      assert.equal(await page.locator('#user-department').innerText(), 'Sales');
      assert.ok(Math.abs((await counterValue(frame, 'revenue')) - sales.revenue) <= 0.5, 'alice revenue = Sales truth (shown without cents)');
      assert.equal(await counterValue(frame, 'orders'), sales.orders);

      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'demo.png'), fullPage: true });

      await logout(page);
      frame = await loginAs(page, 'bob');
      assert.equal(await page.locator('#user-department').innerText(), 'Engineering');
      assert.ok(Math.abs((await counterValue(frame, 'revenue')) - engineering.revenue) <= 0.5, 'bob revenue = Engineering truth (shown without cents)');
      assert.equal(await counterValue(frame, 'orders'), engineering.orders);

      await logout(page);
      frame = await loginAs(page, 'alice');
      assert.ok(Math.abs((await counterValue(frame, 'revenue')) - sales.revenue) <= 0.5, 'alice again sees Sales');
    } finally {
      await context.close();
    }
  });

  test('events from the frame reach the host page', async () => {
    const { context, page } = await openHost();
    try {
      await loginAs(page, 'alice');
      for (const ev of ['dashboard:loaded', 'dashboard:run:start', 'dashboard:run:complete', 'page:properties:changed']) {
        assert.ok((await page.locator(`#event-log li[data-event="${ev}"]`).count()) > 0, `${ev} in the event log`);
      }
      const complete = await page.locator('#event-log li[data-event="dashboard:run:complete"] .d').first().innerText();
      assert.match(complete, /^complete/);
      // An action from the host (Refresh -> dashboard:run) produces a new run in the frame.
      const runs = await page.locator('#event-log li[data-event="dashboard:run:complete"]').count();
      await page.click('#refresh');
      await waitForRendered(page, { minRuns: runs + 1 });
    } finally {
      await context.close();
    }
  });

  test('filters in the host page link apply to the first run (no second run)', async () => {
    const config = await embedConfigFor(demo.hostURL, 'bob');
    const product = (await fetch(`${config.instance_url}/api/v1/embed/dashboards/sales`, {
      headers: { Authorization: `Bearer ${config.embed_token}` },
    }).then((r) => r.json())).dashboard.filters.find((f) => f.name === 'product').options[1];
    const truth = await widgetValues(config, ['orders'], { product, region: ['East', 'West'] });
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    const page = await context.newPage();
    try {
      await page.goto(`${demo.hostURL}/?product=${encodeURIComponent(product)}&region=East&region=West`);
      const frame = await loginAs(page, 'bob');
      assert.equal(await counterValue(frame, 'orders'), truth.orders, 'orders with the linked filters');
      assert.equal(await frame.locator('[data-filter="product"] select').inputValue(), product, 'the filter bar shows the linked product');
      await page.waitForTimeout(500); // a second run, if one were coming
      assert.equal(await page.locator('#event-log li[data-event="dashboard:run:start"]').count(), 1, 'one run');
    } finally {
      await context.close();
    }
  });

  test('if the chart library cannot load, chart tiles say so and the rest of the dashboard works', async () => {
    const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
    await context.route(/\/embed\/assets\/chunks\/charts-/, (route) => route.abort('connectionreset'));
    const page = await context.newPage();
    try {
      await page.goto(demo.hostURL);
      const frame = await loginAs(page, 'alice');
      const truth = await widgetValues(await embedConfigFor(demo.hostURL, 'alice'), ['orders']);
      assert.equal(await counterValue(frame, 'orders'), truth.orders, 'counters still render');
      assert.equal(await frame.locator('[data-widget="top_customers"][data-status="complete"] tbody tr').count(), 10, 'tables still render');
      for (const chart of ['by_month', 'by_region', 'by_product']) {
        const tile = frame.locator(`[data-widget="${chart}"]`);
        assert.equal(await tile.getAttribute('data-status'), 'error', `${chart} is an error tile`);
        assert.equal(await tile.locator('.state-code').innerText(), 'network_error');
      }
    } finally {
      await context.close();
    }
  });

  test('short-lived tokens refresh for several expiries without losing the selected filter', async () => {
    const { context, page } = await openHost();
    try {
      const frame = await loginAs(page, 'alice');
      const select = frame.locator('[data-filter="product"] select');
      const product = await select.locator('option:not([value=""])').first().getAttribute('value');
      assert.ok(product, 'the product filter has options');
      let runs = await page.locator('#event-log li[data-event="dashboard:run:complete"]').count();
      await select.selectOption(product);
      await waitForRendered(page, { minRuns: runs + 1 });
      const truth = await widgetValues(await embedConfigFor(demo.hostURL, 'alice'), ['orders'], { product });
      assert.equal(await counterValue(frame, 'orders'), truth.orders, 'filtered orders');

      // Wait past three expiries: the SDK must have swapped in at least three new tokens.
      await page.waitForTimeout((3 * EMBED_TTL_SECONDS + 1) * 1000);
      const refreshed = await page.locator('#event-log li[data-event="token:refreshed"]').count();
      assert.ok(refreshed >= 3, `token refreshed ${refreshed} times, want >= 3`);
      assert.equal(await page.locator('#event-log li.error').count(), 0, 'no errors in the event log');

      runs = await page.locator('#event-log li[data-event="dashboard:run:complete"]').count();
      await page.click('#refresh');
      await waitForRendered(page, { minRuns: runs + 1 });
      assert.equal(await select.inputValue(), product, 'filter still selected');
      assert.equal(await counterValue(frame, 'orders'), truth.orders, 'filter still applied');
      assert.equal(await frame.locator('[data-widget][data-status="error"]').count(), 0, 'no error tiles');
      const last = await page.locator('#event-log li[data-event="dashboard:run:complete"] .d').first().innerText();
      assert.match(last, /^complete/);
    } finally {
      await context.close();
    }
  });

  test('on a phone the host page fits its width, and the theme button works from the first click', async () => {
    const { context, page } = await openHost({ width: 390, height: 844 });
    const errors = [];
    page.on('pageerror', (err) => errors.push(err.message));
    try {
      await page.click('button[data-username="alice"]');
      // Clicked as soon as it can be: before initialize() the SDK refuses theme changes, so the
      // button stays disabled until then (it used to throw and leave the theme unchanged).
      await page.click('#theme');
      const frame = await waitForRendered(page);
      await waitFor(async () => (await frame.locator('html').getAttribute('data-theme')) === 'dark', { what: 'dark theme' });
      assert.equal(await page.locator('#theme').innerText(), 'Light theme');
      assert.deepEqual(errors, []);
      const { scroll, header } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        header: [...document.querySelectorAll('header *')].filter((e) => e.getClientRects().length)
          .map((e) => e.getBoundingClientRect()).filter((r) => r.top < 0 || r.bottom > 61 || r.right > 390).length,
      }));
      assert.equal(scroll, 390, 'no horizontal scroll');
      assert.equal(header, 0, 'nothing in the header is cut off');
    } finally {
      await context.close();
    }
  });

  test('tile titles keep their full text when results come from the cache', async () => {
    const { context, page } = await openHost({ width: 1440, height: 900 });
    try {
      await loginAs(page, 'alice');
      await page.click('#refresh'); // the second run is answered from the cache: tiles say "cached"
      const frame = await waitForRendered(page, { minRuns: 2 });
      const clipped = await frame.locator('html').evaluate(() =>
        [...document.querySelectorAll('.tile-title')].filter((t) => t.scrollWidth > t.clientWidth + 1).map((t) => t.textContent));
      assert.deepEqual(clipped, [], 'titles cut off');
    } finally {
      await context.close();
    }
  });

  test('the iframe height follows the content as it grows and shrinks', async () => {
    const { context, page } = await openHost({ width: 1440, height: 900 });
    try {
      await loginAs(page, 'alice');
      const iframe = page.locator('#dashboard iframe');
      const height = async () => (await iframe.boundingBox()).height;
      const wide = await waitFor(async () => (await height()) > 150 && (await height()), { what: 'initial height' });

      // Narrow: the grid stacks its widgets, the content gets taller, so must the iframe.
      await page.setViewportSize({ width: 640, height: 900 });
      const narrow = await waitFor(async () => ((await height()) > wide * 1.3 ? await height() : 0), {
        what: `iframe taller than ${wide}px`,
      });
      // Wide again: it shrinks back.
      await page.setViewportSize({ width: 1440, height: 900 });
      const again = await waitFor(async () => ((await height()) < narrow * 0.8 ? await height() : 0), {
        what: `iframe shorter than ${narrow}px`,
      });
      assert.ok(Math.abs(again - wide) < wide * 0.1, `back near ${wide}px (got ${again}px)`);
      // And the frame shows all its content without an inner scrollbar.
      const inner = await page.frameLocator('#dashboard iframe').locator('html').evaluate((e) => e.scrollHeight);
      assert.ok(inner <= again + 2, `frame content ${inner}px overflows the ${again}px iframe (inner scrollbar)`);
    } finally {
      await context.close();
    }
  });

  test('a page on an origin that is not allowed cannot frame the viewer', async () => {
    // A tiny "attacker" page on another loopback port that frames the viewer directly and with the SDK.
    const server = createServer((req, res) => {
      const origin = `http://${req.headers.host}`;
      res.setHeader('Content-Type', 'text/html');
      res.end(`<!doctype html><body>
        <iframe id="raw" src="${demo.inlayURL}/embed/dashboards/sales?embed_domain=${encodeURIComponent(origin)}"></iframe>
        <div id="sdk"></div>
        <script type="module">
          import { InlayDashboard } from '${demo.inlayURL}/sdk/inlay-embed.js';
          const d = new InlayDashboard({ instanceUrl: '${demo.inlayURL}', dashboardId: 'sales',
            token: 'x.eyJleHAiOjQxMDI0NDQ4MDB9.x', getNewToken: () => 'x', loadTimeoutMs: 4000,
            container: document.getElementById('sdk') });
          window.result = d.initialize().then(() => 'loaded', (e) => e.code);
        </script></body>`);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const evilURL = `http://127.0.0.1:${server.address().port}/`;
    const context = await browser.newContext();
    const page = await context.newPage();
    const blocked = [];
    page.on('console', (m) => /frame-ancestors|Refused to frame/i.test(m.text()) && blocked.push(m.text()));
    try {
      const viewerResponse = page.waitForResponse((r) => r.url().includes('/embed/dashboards/sales'));
      await page.goto(evilURL);
      const csp = (await viewerResponse).headers()['content-security-policy'] ?? '';
      assert.match(csp, /frame-ancestors/, 'the viewer sends a frame-ancestors policy');
      assert.ok(!csp.includes(new URL(evilURL).host), 'the attacker origin is not in it');

      assert.equal(await page.evaluate(() => window.result), 'load_timeout', 'the SDK never gets dashboard:loaded');
      // Chromium replaced the blocked frame with an error page: no viewer content in it.
      const tiles = await Promise.all(
        page.frames().filter((f) => f !== page.mainFrame()).map((f) => f.locator('[data-widget]').count().catch(() => 0)),
      );
      assert.deepEqual(tiles.filter((n) => n > 0), [], 'no frame rendered dashboard widgets');
      await waitFor(() => blocked.length >= 2, { what: 'Chromium refusing both frames (console)' });
    } finally {
      await context.close();
      server.close();
    }
  });
});
