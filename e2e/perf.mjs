// Measures the embedded viewer: JavaScript size (gzip) and the time from the SDK creating the
// iframe to the frame reporting every widget rendered (dashboard:run:complete), cold and warm,
// in headless Chromium against `inlay demo` on loopback.
//
//   node perf.mjs [--rows 10000000] [--warm 5] [--settle 3000] [--dashboard overview]
//
// With --dashboard, it also compares that sample dashboard with the sales dashboard, each
// embedded the same way (a page on the host's origin with @inlay/embed and a token minted
// beforehand): cold (alice's first load) and warm (reloads), iframe created -> run complete.
//
// Cold: the first load for alice, then the first for bob, each with Inlay's result cache empty
// for that viewer's rows and a fresh browser cache. The browser is launched and the host's login
// page loaded --settle ms before, so Chromium's own start-up work (a second or two of CPU on a
// small machine) is not counted as the dashboard's. Warm: reloads of bob's page.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { ROUTED_PAGES, launch } from './lib/browser.mjs';
import { inlayBinary, repoRoot, startDemo } from './lib/demo.mjs';
import { mintEmbedToken } from './lib/embed.mjs';

const { values } = parseArgs({
  options: { rows: { type: 'string', default: '10000000' }, warm: { type: 'string', default: '5' }, settle: { type: 'string', default: '3000' }, dashboard: { type: 'string' } },
});

function jsFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return jsFiles(p);
    return p.endsWith('.js') ? [p] : [];
  });
}

function gzipKB(files) {
  return files.reduce((n, f) => n + gzipSync(readFileSync(f), { level: 9 }).length, 0) / 1024;
}

const dist = path.join(repoRoot, 'internal', 'web', 'dist');
const viewerKB = gzipKB(jsFiles(path.join(dist, 'viewer')));
const sdkKB = gzipKB(jsFiles(path.join(dist, 'sdk')));

// Records, in the host page's clock, when the dashboard iframe is inserted and when the host
// page logs dashboard:run:complete (the log entry is written by the SDK event handler).
const probe = () => {
  window.__perf = {};
  new MutationObserver(() => {
    if (!window.__perf.iframe && document.querySelector('#dashboard iframe')) window.__perf.iframe = performance.now();
    if (!window.__perf.done && document.querySelector('#event-log li[data-event="dashboard:run:complete"]')) {
      window.__perf.done = performance.now();
    }
  }).observe(document, { subtree: true, childList: true });
};

async function measure(page, load) {
  await load();
  await page.waitForFunction(() => window.__perf && window.__perf.done, null, { timeout: 120_000 });
  const total = await page.evaluate(() => window.__perf.done - window.__perf.iframe);
  return { total, phases: await phases(page) };
}

// Where a load's time went, from the viewer's performance marks (main.ts) in the frame's clock:
// boot (script ran), token (handshake answered), results (query answered), rendered.
async function phases(page) {
  const frame = page.frames().find((f) => f.url().includes('/embed/dashboards/'));
  if (!frame) return '';
  const marks = await frame.evaluate(() => performance.getEntriesByType('mark').map((m) => [m.name.replace('inlay:', ''), m.startTime]));
  const at = Object.fromEntries(marks);
  const order = ['boot', 'token', 'results', 'rendered'].filter((k) => k in at);
  return order.map((k, i) => `${k} +${(at[k] - (i ? at[order[i - 1]] : 0)).toFixed(0)}`).join(', ');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function login(page, user) {
  await page.click(`button[data-username="${user}"]`);
}

// A page on the host's origin embedding dashboard id with @inlay/embed (token minted before the
// clock starts), whose SDK handler marks dashboard:run:complete for the probe.
async function measureDashboard(id) {
  const token = await mintEmbedToken(demo, id);
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  const url = `${demo.hostURL}/__perf/${id}`;
  await context.route(url, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${id}</title></head><body>
        <section id="dashboard"></section><ul id="event-log"></ul><script type="module">
        window.__perf = { iframe: 0 };
        new MutationObserver(() => { if (!window.__perf.iframe && document.querySelector('#dashboard iframe')) window.__perf.iframe = performance.now(); })
          .observe(document, { subtree: true, childList: true });
        const { InlayDashboard } = await import('${demo.inlayURL}/sdk/inlay-embed.js');
        const d = new InlayDashboard({ instanceUrl: '${demo.inlayURL}', dashboardId: '${id}', token: ${JSON.stringify(token)},
          getNewToken: () => ${JSON.stringify(token)}, container: document.getElementById('dashboard') });
        d.on('dashboard:run:complete', () => { if (!window.__perf.done) window.__perf.done = performance.now(); });
        d.initialize();
      </script></body></html>`,
    }),
  );
  const page = await context.newPage();
  try {
    const cold = await measure(page, () => page.goto(url));
    const warm = [];
    for (let i = 0; i < Number(values.warm); i++) warm.push((await measure(page, () => page.reload())).total);
    return { cold, warm };
  } finally {
    await context.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const demo = await startDemo(inlayBinary(), { rows: Number(values.rows), embedTTL: '1h', timeoutMs: 900_000 });
const browser = await launch(values.dashboard ? ROUTED_PAGES : []);
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  await context.addInitScript(probe);
  const page = await context.newPage();
  await page.goto(demo.hostURL);
  await sleep(Number(values.settle));
  const coldAlice = await measure(page, () => login(page, 'alice'));
  await page.click('#logout');
  await page.waitForSelector('button[data-username]');
  await page.evaluate(() => (window.__perf = {}));
  const coldBob = await measure(page, () => login(page, 'bob'));
  const warm = [];
  for (let i = 0; i < Number(values.warm); i++) warm.push((await measure(page, () => page.reload())).total);
  const ms = (x) => `${x.toFixed(0)} ms`;
  console.log(`rows: ${Number(values.rows).toLocaleString('en-US')} (headless Chromium, loopback)`);
  console.log(`viewer JS (gzip): ${viewerKB.toFixed(1)} KB; SDK bundle (gzip): ${sdkKB.toFixed(1)} KB`);
  console.log(`iframe created -> all widgets rendered:`);
  console.log(`  cold, alice: ${ms(coldAlice.total)} (${coldAlice.phases})`);
  console.log(`  cold, bob:   ${ms(coldBob.total)} (${coldBob.phases})`);
  console.log(`  warm median: ${ms(median(warm))} (${warm.map((x) => x.toFixed(0)).join(', ')})`);
  if (values.dashboard) {
    console.log(`same embedding for each dashboard (alice; iframe created -> run complete):`);
    for (const id of [values.dashboard, 'sales']) {
      const r = await measureDashboard(id);
      console.log(`  ${id.padEnd(10)} cold: ${ms(r.cold.total)} (${r.cold.phases}); warm median: ${ms(median(r.warm))} (${r.warm.map((x) => x.toFixed(0)).join(', ')})`);
    }
  }
} finally {
  await browser.close();
  await demo.stop();
}
