// Measures the embedded viewer: JavaScript size (gzip) and the time from the SDK creating the
// iframe to the frame reporting every widget rendered (dashboard:run:complete), cold and warm,
// in headless Chromium against `inlay demo` on loopback.
//
//   node perf.mjs [--rows 10000000] [--warm 5]
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { launch } from './lib/browser.mjs';
import { inlayBinary, repoRoot, startDemo } from './lib/demo.mjs';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '10000000' }, warm: { type: 'string', default: '5' } } });

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
  return page.evaluate(() => window.__perf.done - window.__perf.iframe);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const demo = await startDemo(inlayBinary(), { rows: Number(values.rows), embedTTL: '1h', timeoutMs: 900_000 });
const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1440, height: 1000 } });
  await context.addInitScript(probe);
  const page = await context.newPage();
  await page.goto(demo.hostURL);
  const cold = await measure(page, () => page.click('button[data-username="alice"]'));
  const warm = [];
  for (let i = 0; i < Number(values.warm); i++) warm.push(await measure(page, () => page.reload()));
  console.log(`rows: ${Number(values.rows).toLocaleString('en-US')} (headless Chromium, loopback)`);
  console.log(`viewer JS (gzip): ${viewerKB.toFixed(1)} KB; SDK bundle (gzip): ${sdkKB.toFixed(1)} KB`);
  console.log(`iframe created -> all widgets rendered: cold ${cold.toFixed(0)} ms; warm median ${median(warm).toFixed(0)} ms (${warm.map((x) => x.toFixed(0)).join(', ')})`);
} finally {
  await browser.close();
  await demo.stop();
}
