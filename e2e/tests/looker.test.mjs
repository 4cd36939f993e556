// Browser tests of Looker-compatible embedding: the demo host's Looker page (another origin than
// Inlay) loads the unmodified @looker/embed-sdk from npm and embeds the sales dashboard from
// `inlay demo --https`, signed (LookerEmbedSDK.init(host, '/looker/auth')) and cookieless
// (initCookieless(host, acquire, generate)).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'playwright-core';
import { launch, waitFor } from '../lib/browser.mjs';
import { inlayBinary, startDemo } from '../lib/demo.mjs';
import { parseDisplayed } from '../lib/inlay.mjs';

let demo;
let browser;
let api; // HTTP client that accepts the demo's self-signed certificate

before(async () => {
  demo = await startDemo(inlayBinary(), { rows: 200_000, embedTTL: '1h', https: true });
  browser = await launch();
  api = await request.newContext({ ignoreHTTPSErrors: true });
});

after(async () => {
  await api?.dispose();
  await browser?.close();
  await demo?.stop();
});

/**
 * What a user's widgets should show: the host app's Inlay-mode token for that user (the seed-000
 * flow, the same department) asks Inlay's embed API directly.
 */
async function truth(username, filters = {}) {
  const ctx = await request.newContext({ ignoreHTTPSErrors: true });
  try {
    const login = await ctx.post(`${demo.hostURL}/api/auth/login`, { data: { username } });
    assert.ok(login.ok(), `host login ${username}: ${login.status()}`);
    const conf = await (await ctx.get(`${demo.hostURL}/api/dashboard/embed-config`)).json();
    const res = await api.post(`${conf.instance_url}/api/v1/embed/dashboards/${conf.dashboard_id}/query`, {
      headers: { Authorization: `Bearer ${conf.embed_token}` },
      data: { widgets: ['revenue', 'orders'], filters },
    });
    assert.ok(res.ok(), `query: ${res.status()} ${await res.text()}`);
    const body = await res.json();
    return { revenue: Number(body.results.revenue.rows[0][0]), orders: Number(body.results.orders.rows[0][0]) };
  } finally {
    await ctx.dispose();
  }
}

/** A fresh browser (own cookies, the demo's certificate accepted) signed in on the host's Looker page. */
async function openLooker(username, mode, query = '') {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, ignoreHTTPSErrors: true });
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  const login = await context.request.post(`${demo.hostURL}/api/auth/login`, { data: { username } });
  assert.ok(login.ok(), `host login ${username}`);
  await page.goto(`${demo.hostURL}/looker?mode=${mode}${query}`);
  // connect() resolved: the page stores the connection.
  await waitFor(() => page.evaluate(() => !!window.lookerConnection), { timeout: 30_000, what: 'connect() to resolve' });
  return { context, page, frame: page.frameLocator('#dashboard iframe') };
}

const events = (page, name) => page.evaluate((n) => window.lookerEvents.filter((e) => e.name === n).map((e) => e.payload), name);

async function waitForRuns(page, n) {
  return waitFor(async () => {
    const runs = await events(page, 'dashboard:run:complete');
    return runs.length >= n && runs;
  }, { timeout: 30_000, what: `${n} dashboard:run:complete event(s)` });
}

/** A counter's value as shown, with the precision it is shown at (large amounts have no cents). */
async function counter(frame, widget) {
  const text = await frame.locator(`[data-widget="${widget}"][data-status="complete"] .counter-value`).innerText();
  return { value: parseDisplayed(text), step: text.includes('.') ? 0.01 : 1 };
}

/** Whether a shown counter is the true value, rounded as displayed. */
const shows = (shown, truth) => Math.abs(shown.value - truth) <= shown.step / 2 + 1e-9;
const near = (a, b) => Math.abs(a - b) < 0.01;

/** What both modes must do with the unmodified SDK. */
async function checkEmbed(mode) {
  const alice = await truth('alice');
  const aliceEast = await truth('alice', { region: ['East'] });
  const bob = await truth('bob');
  assert.ok(!near(alice.revenue, bob.revenue), 'Sales and Engineering revenue differ');
  assert.ok(!near(alice.revenue, aliceEast.revenue), 'the East filter changes the revenue');

  const a = await openLooker('alice', mode);
  try {
    // Run events with Looker's payload shapes.
    const [run] = await waitForRuns(a.page, 1);
    assert.equal(run.status, 'complete');
    assert.equal(run.dashboard.id, 'sales');
    assert.equal(typeof run.dashboard.title, 'string');
    assert.equal(run.dashboard.dashboard_filters.Region, '');
    assert.match(run.dashboard.url, /^\/embed\/dashboards\/sales\?/);
    assert.ok(run.dashboard.absoluteUrl.startsWith(demo.inlayURL), run.dashboard.absoluteUrl);
    assert.ok(run.dashboard.options.elements.revenue, 'options.elements has the revenue tile');
    assert.ok(run.tileStatuses.length > 0 && run.tileStatuses.every((t) => t.status === 'complete'));
    for (const name of ['dashboard:loaded', 'dashboard:run:start', 'dashboard:tile:start', 'dashboard:tile:complete', 'page:changed']) {
      assert.ok((await events(a.page, name)).length > 0, `${name} reached the host`);
    }
    const [changed] = await events(a.page, 'page:changed');
    assert.equal(changed.page.type, 'dashboards');
    assert.ok(shows(await counter(a.frame, 'revenue'), alice.revenue), 'alice sees Sales');

    // withDynamicIFrameHeight(): the iframe takes the height the frame reports.
    const iframe = a.page.locator('#dashboard iframe');
    await waitFor(async () => {
      const heights = (await events(a.page, 'page:properties:changed')).map((e) => e.height).filter((h) => h > 100);
      const box = await iframe.boundingBox();
      return heights.length > 0 && Math.abs(box.height - heights.at(-1)) <= 1;
    }, { what: 'iframe height = last page:properties:changed height' });
    const inner = await a.frame.locator('html').evaluate((e) => e.scrollHeight);
    assert.ok(inner <= (await iframe.boundingBox()).height + 2, `frame content ${inner}px overflows the iframe`);

    // dashboard:filters:update keyed by filter title, then dashboard:run shows the filtered rows.
    await a.page.evaluate(() => window.lookerConnection.asDashboardConnection().updateFilters({ Region: 'East' }));
    await waitFor(async () => (await events(a.page, 'dashboard:filters:changed')).some((e) => e.dashboard.dashboard_filters.Region === 'East'), {
      what: 'dashboard:filters:changed with Region East',
    });
    await a.page.evaluate(() => window.lookerConnection.asDashboardConnection().run());
    const runs = await waitForRuns(a.page, 2);
    assert.equal(runs[1].dashboard.dashboard_filters.Region, 'East');
    await waitFor(async () => shows(await counter(a.frame, 'revenue'), aliceEast.revenue), { what: 'revenue of Sales in the East' });

    // loadDashboard() (page:load, the viewer reports Looker 25) opens another dashboard in the
    // same frame and session: no new sign-in.
    await a.page.evaluate(() => window.lookerConnection.loadDashboard('operations'));
    const ops = await waitFor(async () => (await events(a.page, 'dashboard:run:complete')).find((e) => e.dashboard.id === 'operations'), {
      what: 'a run of the operations dashboard',
    });
    assert.equal(ops.status, 'complete', JSON.stringify(ops.tileStatuses));
    assert.ok((await events(a.page, 'page:changed')).some((e) => e.page.url.startsWith('/embed/dashboards/operations?')));
  } finally {
    await a.context.close();
  }

  // Another user, other access filters, other rows.
  const b = await openLooker('bob', mode);
  try {
    await waitForRuns(b.page, 1);
    assert.ok(shows(await counter(b.frame, 'revenue'), bob.revenue), 'bob sees Engineering');
    assert.equal((await counter(b.frame, 'orders')).value, bob.orders);
  } finally {
    await b.context.close();
  }
}

describe('Looker Embed SDK (unmodified, from npm) against inlay demo --https', () => {
  test('signed embed URLs: connect, run events, filters and run, dynamic height, per-user rows', async () => {
    await checkEmbed('signed');
  });

  test('cookieless: connect, run events, filters and run, dynamic height, per-user rows', async () => {
    await checkEmbed('cookieless');
  });

  test('withFilters, withTheme and withParams (_theme) take effect in the first run', async () => {
    const west = await truth('alice', { region: ['West'] });
    const theme = encodeURIComponent(JSON.stringify({ key_color: '#c0392b' }));
    const a = await openLooker('alice', 'signed', `&Region=West&theme=dark&_theme=${theme}`);
    try {
      const [run] = await waitForRuns(a.page, 1);
      assert.equal(run.dashboard.dashboard_filters.Region, 'West');
      assert.ok(shows(await counter(a.frame, 'revenue'), west.revenue), 'the first run is filtered to the West');
      const html = a.frame.locator('html');
      assert.equal(await html.getAttribute('data-theme'), 'dark');
      assert.equal(await html.evaluate((e) => e.style.getPropertyValue('--primary').trim()), '#c0392b');
    } finally {
      await a.context.close();
    }
  });

  test('cookieless: an ended session is reported as expired', async () => {
    const a = await openLooker('alice', 'cookieless');
    try {
      await waitForRuns(a.page, 1);
      const status = await waitFor(async () => (await events(a.page, 'session:status'))[0], { what: 'session:status' });
      assert.equal(status.expired, false);
      assert.ok(status.session_ttl > 0);
      // The host's acquire endpoint hands the browser tokens, never the session reference token.
      const acquired = await a.page.evaluate(() => fetch('/looker/acquire').then((r) => r.json()));
      assert.ok(acquired.api_token && acquired.navigation_token, 'acquire gave tokens');
      assert.equal('session_reference_token' in acquired, false);
      // The host ends the embed session at Inlay (DELETE cookieless_session/{reference}), then runs.
      await a.page.click('#end');
      await waitFor(async () => (await events(a.page, 'session:expired')).length > 0, { what: 'session:expired' });
      const statuses = await events(a.page, 'session:status');
      assert.equal(statuses.at(-1).expired, true);
      assert.equal(await a.page.evaluate(() => window.lookerConnection.hasSessionExpired()), true);
      await a.frame.locator('.state-code', { hasText: 'session_expired' }).waitFor({ timeout: 10_000 });
      assert.equal(await a.frame.locator('.state-title').innerText(), 'Your session has ended');
    } finally {
      await a.context.close();
    }
  });
});
