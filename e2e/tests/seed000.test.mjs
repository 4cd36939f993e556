// Seed 000's React frontend against Inlay with only its SDK import changed: the component
// (fixtures/seed000) creates `new DatabricksDashboard({...})` from `@inlay/embed`, calls
// initialize() and destroy(), and talks to `inlay demo`'s host app as it would to the seed's
// Flask backend. Bundled with esbuild; served on the host app's origin through page routing.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { build } from 'esbuild';
import { ROUTED_PAGES, launch, waitFor } from '../lib/browser.mjs';
import { inlayBinary, repoRoot, startDemo } from '../lib/demo.mjs';
import { embedConfigFor, parseDisplayed, widgetValues } from '../lib/inlay.mjs';

const EMBED_TTL_SECONDS = 5;
let demo;
let browser;
let bundle;

before(async () => {
  const out = await build({
    entryPoints: [path.join(repoRoot, 'e2e/fixtures/seed000/src/main.jsx')],
    bundle: true,
    format: 'esm',
    jsx: 'automatic',
    write: false,
    logLevel: 'silent',
    // The package name resolves to this repository's SDK build (what `npm install` would give).
    alias: { '@inlay/embed': path.join(repoRoot, 'sdk/embed/dist/index.js') },
    define: { 'process.env.NODE_ENV': '"development"' }, // React's StrictMode mounts effects twice
  });
  bundle = out.outputFiles[0].text;
  demo = await startDemo(inlayBinary(), { rows: 50_000, embedTTL: `${EMBED_TTL_SECONDS}s` });
  browser = await launch(ROUTED_PAGES);
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

// Large currency values show whole dollars (no cents): revenue is compared to half a dollar.
async function openSeedApp() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.route(`${demo.hostURL}/seed000/`, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Seed 000</title></head><body><div id="root"></div><script type="module" src="/seed000/app.js"></script></body></html>',
    }),
  );
  await context.route(`${demo.hostURL}/seed000/app.js`, (route) => route.fulfill({ contentType: 'text/javascript', body: bundle }));
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  let tokenCalls = 0;
  page.on('request', (r) => r.url().endsWith('/api/dashboard/embed-config') && tokenCalls++);
  await page.goto(`${demo.hostURL}/seed000/`);
  return { context, page, errors, tokenCalls: () => tokenCalls };
}

async function loginAs(page, username) {
  await page.click(`button[data-login="${username}"]`);
  await page.locator('#embed-status[data-status="ready"]').waitFor({ timeout: 30_000 });
  const frame = page.frameLocator('#dashboard-container iframe');
  await frame.locator('[data-widget="revenue"][data-status="complete"] .counter-value').waitFor({ timeout: 30_000 });
  return frame;
}

describe('seed 000 frontend with `@inlay/embed`', () => {
  test('logs in, embeds with DatabricksDashboard, shows each user their rows, refreshes tokens, destroys on logout', async () => {
    const sales = await widgetValues(await embedConfigFor(demo.hostURL, 'alice'), ['revenue']);
    const engineering = await widgetValues(await embedConfigFor(demo.hostURL, 'bob'), ['revenue']);
    const { context, page, errors, tokenCalls } = await openSeedApp();
    try {
      let frame = await loginAs(page, 'alice');
      assert.equal(await page.locator('#department').innerText(), 'Sales');
      const shown = async () => parseDisplayed(await frame.locator('[data-widget="revenue"] .counter-value').getAttribute('title'));
      assert.ok(Math.abs((await shown()) - sales.revenue) <= 0.5, 'alice sees Sales revenue (whole dollars)');
      // StrictMode mounted the effect twice: the first dashboard was destroyed, one iframe remains.
      assert.equal(await page.locator('#dashboard-container iframe').count(), 1);

      // getNewToken keeps the session alive past several expiries (plus the server's leeway).
      const before = tokenCalls();
      await page.waitForTimeout((2 * EMBED_TTL_SECONDS + 1) * 1000);
      assert.ok(tokenCalls() - before >= 2, `getNewToken called ${tokenCalls() - before} times, want >= 2`);
      await frame.locator('button[aria-label="Refresh data"]').click();
      await waitFor(async () => (await frame.locator('[data-widget][data-status="loading"]').count()) === 0, { what: 'refreshed' });
      assert.equal(await frame.locator('[data-widget][data-status="error"]').count(), 0, 'no error tiles after refreshes');

      // Logging out unmounts the component: destroy() removes the iframe.
      await page.click('#logout');
      await waitFor(async () => (await page.locator('iframe').count()) === 0, { what: 'iframe removed' });

      frame = await loginAs(page, 'bob');
      assert.equal(await page.locator('#department').innerText(), 'Engineering');
      assert.ok(Math.abs((await shown()) - engineering.revenue) <= 0.5, 'bob sees Engineering revenue (whole dollars)');
      assert.deepEqual(errors, [], 'no page errors');
    } finally {
      await context.close();
    }
  });
});
