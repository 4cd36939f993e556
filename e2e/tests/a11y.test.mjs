// Accessibility: axe-core (injected into the viewer's frame) finds no violations on any sample
// dashboard, in light and dark theme, at desktop and phone widths, and with a filter menu open.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before, describe, test } from 'node:test';
import { ROUTED_PAGES, launch } from '../lib/browser.mjs';
import { inlayBinary, startDemo } from '../lib/demo.mjs';
import { demoCredentials, openDashboard } from '../lib/embed.mjs';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
let demo;
let browser;
let dashboards;

before(async () => {
  demo = await startDemo(inlayBinary(), { rows: 50_000, embedTTL: '1h' });
  await demoCredentials(demo);
  dashboards = /^Dashboards:\s+(.+)$/m.exec(demo.output())[1].split(',').map((s) => s.trim());
  browser = await launch(ROUTED_PAGES);
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

/** Runs axe in the viewer's frame; returns violations as "rule: target (summary)" lines. */
async function violations(page) {
  const frame = page.frames().find((f) => f.url().includes('/embed/dashboards/'));
  assert.ok(frame, 'the viewer frame');
  await frame.evaluate(axeSource);
  const result = await frame.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(' ')} (${n.failureSummary.split('\n').slice(1).join(' ').trim()})`));
}

const variants = [
  { name: 'light', theme: 'light', width: 1440 },
  { name: 'dark', theme: 'dark', width: 1440 },
  { name: 'mobile', theme: 'light', width: 390 },
];

describe('axe-core on the sample dashboards', () => {
  for (const v of variants) {
    test(`every sample dashboard, ${v.name}, also with a filter menu open`, async () => {
      for (const id of dashboards) {
        const { context, page, frame } = await openDashboard(browser, demo, id, { width: v.width, theme: v.theme });
        try {
          assert.deepEqual(await violations(page), [], `${id} (${v.name})`);
          const ms = frame.locator('.ms-button').first();
          if (await ms.count()) {
            await ms.click();
            await frame.locator('.ms-menu').first().waitFor();
            assert.deepEqual(await violations(page), [], `${id} (${v.name}) with the multi-select open`);
          }
        } finally {
          await context.close();
        }
      }
    });
  }
});
