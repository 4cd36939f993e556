// Screenshots of every sample dashboard at 1440, 1024 and 390 px, light and dark, into
// e2e/artifacts/screens (npm --prefix e2e run screenshots). Look at them after UI changes.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ROUTED_PAGES, launch } from './lib/browser.mjs';
import { inlayBinary, repoRoot, startDemo } from './lib/demo.mjs';
import { demoCredentials, openDashboard } from './lib/embed.mjs';

const out = path.join(repoRoot, 'e2e', 'artifacts', 'screens');
mkdirSync(out, { recursive: true });
const only = process.argv.slice(2);
const demo = await startDemo(inlayBinary(), { rows: Number(process.env.ROWS ?? 200_000), embedTTL: '1h' });
const browser = await launch(ROUTED_PAGES);
try {
  await demoCredentials(demo);
  const dashboards = /^Dashboards:\s+(.+)$/m.exec(demo.output())[1].split(',').map((s) => s.trim());
  for (const id of dashboards) {
    if (only.length && !only.includes(id)) continue;
    for (const theme of ['light', 'dark']) {
      for (const width of [1440, 1024, 390]) {
        const { context, page } = await openDashboard(browser, demo, id, { width, theme });
        await page.waitForTimeout(300); // charts finish their first layout
        const file = path.join(out, `${id}-${width}-${theme}.png`);
        await page.screenshot({ path: file, fullPage: true });
        console.log(file);
        await context.close();
      }
    }
  }
} finally {
  await browser.close();
  await demo.stop();
}
