// Browser tests of dashboard pages (tabs) and text tiles in Chromium against `inlay demo`, on the
// overview sample dashboard: the SDK's pageId opens a page, only the shown page's widgets run,
// the tabs work with the keyboard, the host hears of page changes, a token refresh keeps the
// page, counters draw their sparkline, and text tiles show their (server-sanitized) Markdown without query or buttons.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROUTED_PAGES, launch, waitFor } from '../lib/browser.mjs';
import { inlayBinary, startDemo } from '../lib/demo.mjs';
import { mintEmbedToken } from '../lib/embed.mjs';

let demo;
let browser;

before(async () => {
  demo = await startDemo(inlayBinary(), { rows: 20_000, embedTTL: '4s' });
  browser = await launch(ROUTED_PAGES);
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

/** A host page embedding the overview dashboard with pageId; it logs events in window.events. */
async function openOverview(pageId) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, reducedMotion: 'reduce' });
  const url = `${demo.hostURL}/__pages/overview`;
  await context.exposeBinding('mint', () => mintEmbedToken(demo, 'overview'));
  await context.route(url, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>overview</title></head><body><main id="c"></main>
        <script type="module">
        import { InlayDashboard } from '${demo.inlayURL}/sdk/inlay-embed.js';
        window.events = [];
        const d = new InlayDashboard({ instanceUrl: '${demo.inlayURL}', dashboardId: 'overview', token: await window.mint(),
          getNewToken: () => window.mint(), container: document.getElementById('c')${pageId ? `, pageId: '${pageId}'` : ''} });
        for (const e of ['dashboard:page:changed', 'token:refreshed', 'dashboard:run:complete']) d.on(e, (p) => window.events.push({ e, p }));
        window.done = d.initialize();
      </script></body></html>`,
    }),
  );
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  const queries = []; // the widgets each query response answered
  page.on('response', async (res) => {
    if (!res.url().endsWith('/query') || res.request().method() !== 'POST') return;
    try {
      queries.push(Object.keys((await res.json()).results).sort());
    } catch {
      queries.push(['<unreadable>']);
    }
  });
  await page.goto(url);
  const frame = page.frameLocator('#c iframe');
  await frame.locator('[role=tab]').first().waitFor({ timeout: 30_000 });
  return { context, page, frame, queries };
}

async function settled(frame) {
  await waitFor(async () => (await frame.locator('[data-widget]:visible[data-status="loading"]').count()) === 0, { timeout: 30_000, what: 'shown tiles settled' });
}

const selected = (frame) => frame.locator('[role=tab][aria-selected="true"]').innerText();
const events = (page, name) => page.evaluate((n) => window.events.filter((x) => x.e === n).map((x) => x.p), name);

describe('dashboard pages and text tiles in Chromium', () => {
  test('pageId opens its page, which alone runs; tabs switch by keyboard and tell the host; a token refresh keeps the page', async () => {
    const { context, page, frame, queries } = await openOverview('trends');
    try {
      await settled(frame);
      assert.deepEqual(await frame.locator('[role=tab]').allInnerTexts(), ['Summary', 'Trends', 'Customers']);
      assert.equal(await selected(frame), 'Trends');
      const panel = frame.locator('[role=tabpanel]');
      assert.equal(await panel.getAttribute('aria-labelledby'), 'inlay-tab-trends');
      assert.equal(await frame.locator('[data-widget="by_month"]').isVisible(), true);
      assert.equal(await frame.locator('[data-widget="revenue"]').isVisible(), false);
      await waitFor(() => queries.length >= 1, { what: 'first query answered' });
      assert.deepEqual(queries, [['by_month']], 'only the shown page ran (text tiles never query)');

      // Keyboard: ArrowLeft from Trends selects and focuses Summary, which runs its counters.
      await frame.locator('[role=tab][aria-selected="true"]').focus();
      await page.keyboard.press('ArrowLeft');
      await waitFor(async () => (await selected(frame)) === 'Summary', { what: 'Summary selected' });
      assert.equal(await frame.locator('[role=tab]:focus').innerText(), 'Summary');
      assert.equal(await frame.locator('[role=tab][data-page="trends"]').getAttribute('tabindex'), '-1');
      await waitFor(() => queries.length >= 2, { what: 'Summary query answered' });
      await settled(frame);
      assert.deepEqual(queries[1], ['average_order', 'orders', 'revenue']);
      assert.equal(await frame.locator('[data-widget="by_month"]').isVisible(), false);
      assert.match(await frame.locator('[data-widget="revenue"] .counter-value').innerText(), /\$/);
      // Revenue carries a sparkline by month (one point per month of data); orders has none.
      const spark = frame.locator('[data-widget="revenue"] svg.counter-spark');
      assert.equal(await spark.getAttribute('role'), 'img');
      assert.match(await spark.getAttribute('aria-label'), /^Revenue by month: \d+ points, now \$/);
      const points = (await spark.locator('polyline').getAttribute('points')).split(' ').length;
      assert.ok(points >= 2, `${points} sparkline points`);
      assert.equal(await frame.locator('[data-widget="orders"] svg.counter-spark').count(), 0);
      const changed = await events(page, 'dashboard:page:changed');
      assert.equal(changed.length, 1);
      assert.deepEqual(changed[0].page, { name: 'summary', title: 'Summary' });
      await page.keyboard.press('End');
      await waitFor(async () => (await selected(frame)) === 'Customers', { what: 'End selects the last tab' });
      await settled(frame);
      assert.equal(await frame.locator('[data-widget="top_customers"]').isVisible(), true);

      // The token lives 4 s: after the SDK refreshes it, the viewer is still on Customers.
      await waitFor(async () => (await events(page, 'token:refreshed')).length >= 1, { timeout: 20_000, what: 'a token refresh' });
      await frame.locator('[data-widget="top_customers"]').waitFor();
      assert.equal(await selected(frame), 'Customers');
      assert.equal(await frame.locator('[data-widget="top_customers"]').isVisible(), true);
    } finally {
      await context.close();
    }
  });

  test('a text tile renders its Markdown (headings, lists, links in a new tab) with no query and no buttons', async () => {
    const { context, frame, queries } = await openOverview();
    try {
      await settled(frame);
      assert.equal(await selected(frame), 'Summary', 'without pageId the first page opens');
      const tile = frame.locator('[data-widget="about"]');
      assert.equal(await tile.getAttribute('data-status'), 'complete');
      assert.equal(await tile.locator('h3').innerText(), 'How to read it');
      assert.equal(await tile.locator('li').count(), 3);
      assert.equal(await tile.locator('li strong').first().innerText(), 'Revenue');
      const link = tile.locator('a');
      assert.equal(await link.innerText(), 'metric definitions');
      assert.equal(await link.getAttribute('href'), 'https://example.com/metrics');
      assert.equal(await link.getAttribute('target'), '_blank');
      assert.match(await link.getAttribute('rel'), /noopener/);
      assert.equal(await tile.locator('button').count(), 0, 'no download or full-screen buttons');
      await waitFor(() => queries.length >= 1, { what: 'first query answered' });
      assert.ok(!queries.flat().includes('about'), 'the text tile is not queried');
    } finally {
      await context.close();
    }
  });
});
