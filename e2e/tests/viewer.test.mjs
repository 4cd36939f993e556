// Browser tests of the viewer in Chromium against `inlay demo`: failures (inverted ranges, one
// dashboard banner, tile Retry, a new token re-running what failed), tables (pages, sorts, the
// pivot), the multi-select combobox, cross-filtering, chart data tables, PNG and the update time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ROUTED_PAGES, launch, waitFor } from '../lib/browser.mjs';
import { inlayBinary, startDemo } from '../lib/demo.mjs';
import { openDashboard } from '../lib/embed.mjs';
import { embedConfigFor, parseDisplayed, widgetValues } from '../lib/inlay.mjs';

const EMBED_TTL_SECONDS = 5;
let demo;
let browser;

before(async () => {
  demo = await startDemo(inlayBinary(), { rows: 50_000, embedTTL: `${EMBED_TTL_SECONDS}s` });
  browser = await launch(ROUTED_PAGES);
});

after(async () => {
  await browser?.close();
  await demo?.stop();
});

async function open({ width = 1440, height = 1000, route } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  if (route) await route(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(demo.hostURL);
  return { context, page };
}

const runs = (page) => page.locator('#event-log li[data-event="dashboard:run:complete"]').count();

async function settled(page, minRuns = 1, timeout = 30_000) {
  const frame = page.frameLocator('#dashboard iframe');
  await frame.locator('[data-widget]').first().waitFor({ timeout: 30_000 });
  await waitFor(
    async () => (await frame.locator('[data-widget][data-status="loading"]').count()) === 0 && (await runs(page)) >= minRuns,
    { timeout, what: 'all widgets settled' },
  );
  return frame;
}

async function login(page, username = 'alice') {
  await page.click(`button[data-username="${username}"]`);
  await page.waitForSelector('#dashboard iframe');
  return settled(page);
}

describe('viewer failures in Chromium', () => {
  test('an inverted range is refused at the input, naming the filter, and the data stays', async () => {
    const { context, page } = await open();
    try {
      const frame = await login(page);
      const min = frame.locator('[data-filter="amount"] input').first();
      const max = frame.locator('[data-filter="amount"] input').nth(1);
      await min.fill('3000');
      await min.dispatchEvent('change');
      await settled(page, (await runs(page)) + 1);
      const n = await runs(page);
      await max.fill('2000');
      await max.dispatchEvent('change');
      const msg = frame.locator('[data-filter="amount"] .filter-msg');
      await msg.waitFor({ state: 'visible' });
      assert.match(await msg.innerText(), /Order amount/);
      assert.match(await msg.innerText(), /minimum \(3000\) is above the maximum \(2000\)/);
      assert.equal(await max.getAttribute('aria-invalid'), 'true');
      await page.waitForTimeout(300); // a run, if one were coming
      assert.equal(await runs(page), n, 'no run with the inverted range');
      assert.equal(await frame.locator('[data-widget][data-stale]').count(), 0, 'the data stays current');
      assert.equal(await frame.locator('[data-widget][data-status="error"]').count(), 0);
      // Fixing the range clears the message and runs.
      await max.fill('4000');
      await max.dispatchEvent('change');
      await settled(page, n + 1);
      assert.equal(await msg.isVisible(), false);
      assert.equal(await max.getAttribute('aria-invalid'), null);
    } finally {
      await context.close();
    }
  });

  test('a filter the server refuses gives one banner naming it; tiles keep their data; Reset filters recovers', async () => {
    const { context, page } = await open();
    try {
      const frame = await login(page);
      const before = await frame.locator('[data-widget="revenue"] .counter-value').innerText();
      const n = await runs(page);
      await page.evaluate(() => window.acmeDashboard.setFilters({ amount: { min: 3000, max: 2000 } }));
      await settled(page, n + 1);
      const banner = frame.locator('.banner');
      await banner.waitFor({ state: 'visible' });
      assert.equal(await banner.getAttribute('data-kind'), 'filter');
      assert.match(await banner.locator('.banner-title').innerText(), /“Order amount”/);
      assert.equal(await frame.locator('.banner').count(), 1, 'one banner');
      assert.equal(await frame.locator('[data-widget] [role="alert"]').count(), 0, 'no per-tile copies of the error');
      assert.equal(await frame.locator('[data-widget="revenue"] .counter-value').innerText(), before, 'last good data kept');
      assert.equal(await frame.locator('[data-widget="revenue"]').getAttribute('data-stale'), 'true');

      await banner.locator('button[data-action="reset"]').click();
      await settled(page, n + 2);
      await waitFor(async () => !(await banner.isVisible()), { what: 'banner gone' });
      assert.equal(await frame.locator('[data-widget][data-stale]').count(), 0);
    } finally {
      await context.close();
    }
  });

  test('after the session lapses, a token from the host once it is back re-runs the failed tiles', async () => {
    const { context, page } = await open();
    try {
      const frame = await login(page);
      // The host's token endpoint goes down; the token expires; a run fails for want of a session.
      let down = true;
      await context.route(/\/api\/dashboard\/embed-config/, (route) => (down ? route.fulfill({ status: 503, body: 'down' }) : route.continue()));
      // The server accepts a token up to 30 s after its expiry (clock skew).
      await page.waitForTimeout((EMBED_TTL_SECONDS + 31) * 1000);
      const n = await runs(page);
      await page.click('#refresh');
      await settled(page, n + 1);
      const banner = frame.locator('.banner');
      await banner.waitFor({ state: 'visible' });
      assert.equal(await banner.getAttribute('data-kind'), 'session');
      assert.match(await banner.locator('.banner-title').innerText(), /expired/);
      assert.equal(await frame.locator('.banner').count(), 1);
      assert.equal(await frame.locator('[data-widget] [role="alert"]').count(), 0, 'no per-tile copies');

      // The endpoint comes back: the SDK's next retry (backoff, at most 60 s apart) gets a token,
      // and the viewer runs again by itself.
      const m = await runs(page);
      down = false;
      await settled(page, m + 1, 90_000);
      await waitFor(async () => !(await banner.isVisible()), { timeout: 60_000, what: 'banner gone' });
      assert.equal(await frame.locator('[data-widget][data-status="error"]').count(), 0, 'no tile left in error');
      assert.equal(await frame.locator('[data-widget][data-stale]').count(), 0, 'no stale tile');
    } finally {
      await context.close();
    }
  });

  test('a failed tile has its own Retry and no download or full-screen buttons', async () => {
    let block = true;
    const { context, page } = await open({
      route: (ctx) => ctx.route(/\/embed\/assets\/chunks\/charts-/, (r) => (block ? r.abort('connectionreset') : r.continue())),
    });
    try {
      const frame = await login(page);
      const tile = frame.locator('[data-widget="by_region"]');
      assert.equal(await tile.getAttribute('data-status'), 'error');
      assert.equal(await tile.locator('[data-action="download"]').isVisible(), false, 'no download on an error tile');
      assert.equal(await tile.locator('[data-action="fullscreen"]').isVisible(), false, 'no full screen on an error tile');
      assert.equal(await frame.locator('.banner').isVisible(), false, 'a tile failure is not a dashboard banner');
      block = false;
      await tile.locator('.tile-retry').click();
      await waitFor(async () => (await tile.getAttribute('data-status')) === 'complete', { what: 'tile retried' });
      assert.equal(await tile.locator('canvas').count() > 0, true, 'the chart drew');
    } finally {
      await context.close();
    }
  });

  test('a garbage token is "not valid", not "session ended"', async () => {
    const context = await browser.newContext();
    await context.route(`${demo.hostURL}/garbage`, (route) =>
      route.fulfill({
        contentType: 'text/html',
        body: `<!doctype html><html lang="en"><body><div id="c"></div><script type="module">
          import { InlayDashboard } from '${demo.inlayURL}/sdk/inlay-embed.js';
          const d = new InlayDashboard({ instanceUrl: '${demo.inlayURL}', dashboardId: 'sales', token: 'not-a-token',
            getNewToken: () => 'not-a-token', container: document.getElementById('c') });
          window.result = d.initialize().then(() => 'loaded', (e) => e.code);
        </script></body></html>`,
      }),
    );
    const page = await context.newPage();
    try {
      await page.goto(`${demo.hostURL}/garbage`);
      const frame = page.frameLocator('iframe');
      const state = frame.locator('.page-state');
      await state.waitFor({ timeout: 20_000 });
      const text = await state.innerText();
      assert.match(text, /not valid/);
      assert.doesNotMatch(text, /ended|expired/);
      assert.equal(await state.locator('button').innerText(), 'Reload');
    } finally {
      await context.close();
    }
  });

  test('tables: a sort survives refresh and filter changes; the pivot keeps its Total in view; hidden rows are cued; an unset Period reads All time', async () => {
    const { context, page } = await open({ width: 1024 });
    try {
      const frame = await login(page);
      // The Period filter with no value reads "All time", not "Custom" beside empty dates.
      const presetSel = frame.locator('[data-filter="period"] select.input--preset');
      assert.equal(await presetSel.evaluate((e) => e.selectedOptions[0]?.textContent), 'All time');
      // The pivot is wider than its tile: the Total column stays in view, on the right.
      const pivot = frame.locator('[data-widget="region_product"]');
      const tileBox = await pivot.boundingBox();
      const totalBox = await pivot.locator('thead th.pv-total').boundingBox();
      assert.ok(totalBox.x + totalBox.width <= tileBox.x + tileBox.width + 1, `Total (right edge ${totalBox.x + totalBox.width}) inside the tile (${tileBox.x + tileBox.width})`);
      assert.ok(totalBox.x >= tileBox.x, 'Total not left of the tile');
      const wrap = pivot.locator('.table-wrap');
      assert.ok(await wrap.evaluate((e) => e.scrollWidth > e.clientWidth), 'the pivot does scroll sideways at this width');
      assert.ok(await pivot.locator('.scroll-box').evaluate((e) => e.classList.contains('more-right')), 'a shadow cues the hidden columns');
      // The sticky Total is opaque (scrolled numbers do not show through), its left edge carries
      // the scroll shadow, and the card hugs its table (no empty band below the Total row).
      const totalCell = pivot.locator('tbody td.pv-total').first();
      const looks = await totalCell.evaluate((e) => {
        const bg = getComputedStyle(e).backgroundColor;
        const m = /rgba?\(([^)]+)\)/.exec(bg);
        const parts = m ? m[1].split(/[ ,/]+/).filter(Boolean) : [];
        return { bg, alpha: parts.length === 4 ? Number(parts[3]) : bg === 'transparent' ? 0 : 1, shadow: getComputedStyle(e, '::before').backgroundImage };
      });
      assert.equal(looks.alpha, 1, `the sticky Total has an opaque background (${looks.bg})`);
      assert.match(looks.shadow, /gradient/, 'a shadow marks the sticky Total edge while columns hide beneath it');
      const tableBox = await pivot.locator('table').boundingBox();
      const cardBox = await pivot.boundingBox();
      const gap = cardBox.y + cardBox.height - (tableBox.y + tableBox.height);
      assert.ok(gap <= 20, `the pivot card ends near its table (${gap.toFixed(0)} px below the Total row)`);
      const table = frame.locator('[data-widget="top_customers"]');
      const ordersHead = table.locator('thead th', { hasText: 'Orders' });
      await ordersHead.locator('button').click();
      await waitFor(async () => (await ordersHead.getAttribute('aria-sort')) === 'descending', { what: 'sorted' });
      const col = async () => (await table.locator('tbody tr td:nth-child(2)').allInnerTexts()).map((t) => Number(t.replace(/,/g, '')));
      const sortedDesc = (xs) => xs.every((x, i) => i === 0 || xs[i - 1] >= x);
      assert.ok(sortedDesc(await col()), 'sorted by orders, descending');

      let n = await runs(page);
      await page.click('#refresh');
      await settled(page, n + 1);
      assert.equal(await ordersHead.getAttribute('aria-sort'), 'descending', 'sort kept after refresh');
      assert.ok(sortedDesc(await col()), 'rows still sorted after refresh');

      n = await runs(page);
      const select = frame.locator('[data-filter="product"] select');
      await select.selectOption({ index: 1 });
      await settled(page, n + 1);
      assert.equal(await ordersHead.getAttribute('aria-sort'), 'descending', 'sort kept after a filter change');
      assert.ok(sortedDesc(await col()), 'rows still sorted after a filter change');

      // Rows hidden below the fold are cued with a shadow; the note gives the row count.
      assert.match(await table.locator('.table-note').innerText(), /^\d+ rows?$|Showing the first/);

    } finally {
      await context.close();
    }
  });

  test('the multi-select is a keyboard combobox: ArrowDown enters the list, Space toggles with aria-selected, Tab applies, Escape discards', async () => {
    const { context, page } = await open();
    try {
      const frame = await login(page);
      const ms = frame.locator('[data-filter="region"]');
      const button = ms.locator('.ms-button');
      await button.focus();
      await button.press('ArrowDown');
      const search = ms.locator('.ms-search');
      await waitFor(async () => (await button.getAttribute('aria-expanded')) === 'true', { what: 'menu open' });
      assert.ok(await search.evaluate((e) => e === document.activeElement), 'focus moved into the list’s search field');
      const first = ms.locator('[role="option"]').first();
      assert.equal(await search.getAttribute('aria-activedescendant'), await first.getAttribute('id'), 'the first option is active');
      await search.press('ArrowDown');
      const second = ms.locator('[role="option"]').nth(1);
      assert.equal(await search.getAttribute('aria-activedescendant'), await second.getAttribute('id'));
      assert.equal(await second.getAttribute('aria-selected'), 'false');
      await search.press(' ');
      assert.equal(await second.getAttribute('aria-selected'), 'true', 'Space selects the active option');
      const value = (await second.innerText()).trim();

      // Escape discards: no run, nothing selected.
      let n = await runs(page);
      await search.press('Escape');
      assert.equal(await button.getAttribute('aria-expanded'), 'false');
      await page.waitForTimeout(300);
      assert.equal(await runs(page), n, 'Escape does not run');
      assert.equal(await ms.locator('.ms-summary').innerText(), 'All');

      // Again, and Tab: the list closes and the selection applies.
      await button.press('ArrowDown');
      await search.press('ArrowDown');
      await search.press(' ');
      n = await runs(page);
      await search.press('Tab');
      assert.equal(await button.getAttribute('aria-expanded'), 'false', 'Tab closes the list');
      assert.equal(await ms.locator('.ms-menu').isVisible(), false);
      await settled(page, n + 1);
      assert.equal(await ms.locator('.ms-summary').innerText(), value, 'the selection applied');
    } finally {
      await context.close();
    }
  });

  test('a long table pages on the server with a row count; a server-side sort spans every page', async () => {
    const { context, frame } = await openDashboard(browser, demo, 'operations', { width: 1440 });
    try {
      const table = frame.locator('[data-widget="latest_orders"]');
      const pager = table.locator('.pager-text');
      assert.equal(await pager.innerText(), '1–25 of 100 rows');
      assert.equal(await table.locator('tbody tr').count(), 25);
      const ids = async () => table.locator('tbody tr td:nth-child(2)').allInnerTexts();
      const page1 = await ids();
      await table.locator('[data-action="next-page"]').click();
      await waitFor(async () => (await pager.innerText()) === '26–50 of 100 rows', { what: 'second page' });
      const page2 = await ids();
      assert.equal(page2.length, 25);
      assert.deepEqual(page1.filter((id) => page2.includes(id)), [], 'pages do not overlap');

      // Sorting by amount (ascending after two clicks) goes back to page 1 and orders all 100 rows.
      const amountHead = table.locator('thead th', { hasText: 'Amount' });
      await amountHead.locator('button').click(); // numbers sort descending first
      await waitFor(async () => (await pager.innerText()) === '1–25 of 100 rows', { what: 'back to page 1' });
      const amounts = async () => (await table.locator('tbody tr td:nth-child(6)').allInnerTexts()).map((t) => Number(t.replace(/[$,]/g, '')));
      await waitFor(async () => {
        const a = await amounts();
        return a.every((x, i) => i === 0 || a[i - 1] >= x);
      }, { what: 'descending amounts' });
      const top = (await amounts())[0];
      // The largest amount on the first page is the largest of all 100 rows.
      await table.locator('[data-action="next-page"]').click();
      await waitFor(async () => (await pager.innerText()) === '26–50 of 100 rows', { what: 'second sorted page' });
      assert.ok((await amounts()).every((x) => x <= top), 'page 2 holds smaller amounts than page 1');
      assert.equal(await amountHead.getAttribute('aria-sort'), 'descending');
    } finally {
      await context.close();
    }
  });

  test('cross-filtering: a click on a pie slice filters every tile, the host hears it, Clear undoes it', async () => {
    const { context, page } = await open();
    try {
      const frame = await login(page);
      const pie = frame.locator('[data-widget="by_product"] .chart');
      await pie.scrollIntoViewIfNeeded(); // a click outside the viewport reaches nothing
      const box = await pie.boundingBox();
      // The donut: centre at 31% / 50%, radii 40%-62% of half the shorter side; the largest slice
      // starts at 12 o'clock and runs clockwise, so 25 degrees past 12 is inside it.
      const r = (Math.min(box.width, box.height) / 2) * 0.51;
      const cx = box.x + box.width * 0.31;
      const cy = box.y + box.height * 0.5;
      const a = (25 * Math.PI) / 180;
      const n = await runs(page);
      // The chart may still be settling its layout: click until the click starts a run.
      const x = cx + r * Math.sin(a);
      const y = cy - r * Math.cos(a);
      await waitFor(
        async () => {
          if ((await page.locator('#event-log li[data-event="dashboard:run:start"]').count()) > n) return true;
          await page.mouse.move(x, y);
          await page.mouse.click(x, y);
          await page.waitForTimeout(300);
          return false;
        },
        { timeout: 15_000, interval: 200, what: 'a run started by the click' },
      );
      await settled(page, n + 1);
      const product = await frame.locator('[data-filter="product"] select').inputValue();
      assert.ok(product, 'the product filter is set by the click');
      const truth = await widgetValues(await embedConfigFor(demo.hostURL, 'alice'), ['orders'], { product });
      assert.equal(parseDisplayed(await frame.locator('[data-widget="orders"] .counter-value').innerText()), truth.orders, 'other tiles filtered');
      const chip = frame.locator('.cross-chip');
      assert.match(await chip.innerText(), new RegExp(`Product: ${product}`));
      await waitFor(async () => (await page.locator('#event-log li[data-event="dashboard:crossfilter"]').count()) > 0, { what: 'host heard the cross-filter' });

      const m = await runs(page);
      await chip.locator('[data-action="clear-cross-filter"]').click();
      await settled(page, m + 1);
      assert.equal(await frame.locator('[data-filter="product"] select').inputValue(), '', 'back to All');
      assert.equal(await chip.isVisible(), false);
    } finally {
      await context.close();
    }
  });

  test('every chart has a data table; a chart saves as PNG and Excel; the page says when it was updated', async () => {
    const { context, page } = await open();
    try {
      const frame = await login(page);
      assert.match(await frame.locator('.dash-updated').innerText(), /^Updated \d{1,2}:\d{2}/);
      const tile = frame.locator('[data-widget="by_region"]');
      await tile.hover();
      const toggle = tile.locator('[data-action="as-table"]');
      await toggle.focus();
      await toggle.press('Enter');
      assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
      const heads = await tile.locator('thead th').allInnerTexts();
      assert.deepEqual(heads.map((x) => x.trim()), ['Region', 'Revenue']);
      assert.equal(await tile.locator('tbody tr').count(), 4);
      await toggle.press('Enter');
      assert.equal(await tile.locator('canvas').count() > 0, true, 'back to the chart');

      const download = page.waitForEvent('download');
      await tile.locator('[data-action="png"]').click();
      const file = await download;
      assert.equal(file.suggestedFilename(), 'by_region.png');

      // An Excel workbook from the server (a zip: PK).
      const xlsx = page.waitForEvent('download');
      await tile.locator('[data-action="download-xlsx"]').click();
      const book = await xlsx;
      assert.equal(book.suggestedFilename(), 'sales-by_region.xlsx');
      const stream = await book.createReadStream();
      const first = await new Promise((resolve) => stream.once('data', resolve));
      assert.equal(first.subarray(0, 2).toString(), 'PK');

      // A refresh within the cache's lifetime: tiles say their data came from the cache.
      const n = await runs(page);
      await page.click('#refresh');
      await settled(page, n + 1);
      assert.ok((await frame.locator('.tile-meta:not([hidden])', { hasText: 'cached' }).count()) > 0, 'a cached hint');
    } finally {
      await context.close();
    }
  });

  test('even padding on both sides; a counter card is balanced; a full-screen tile fills the frame with no strip', async () => {
    const { context, page } = await open({ width: 1440 });
    try {
      const frame = await login(page);
      const gaps = await frame.locator('.grid').evaluate((g) => {
        const r = g.getBoundingClientRect();
        return { left: r.left, right: document.documentElement.clientWidth - r.right };
      });
      assert.ok(Math.abs(gaps.left - gaps.right) <= 1, `left ${gaps.left}px, right ${gaps.right}px`);
      // A counter's title and value sit together, centred in the card (no wide gap between them).
      const kpi = await frame.locator('[data-widget="revenue"]').evaluate((el) => {
        const card = el.getBoundingClientRect();
        const title = el.querySelector('.tile-title').getBoundingClientRect();
        const value = el.querySelector('.counter-value').getBoundingClientRect();
        return { between: value.top - title.bottom, above: title.top - card.top, below: card.bottom - value.bottom };
      });
      assert.ok(kpi.between <= 16, `title to value ${kpi.between}px`);
      assert.ok(Math.abs(kpi.above - kpi.below) <= 16, `space above the title ${kpi.above}px, below the value ${kpi.below}px`);
      const tile = frame.locator('[data-widget="by_region"]');
      await tile.hover();
      await tile.locator('[data-action="fullscreen"]').click();
      await waitFor(async () => (await tile.getAttribute('class')).includes('tile--full'), { what: 'full screen' });
      await page.waitForTimeout(300);
      const fit = await tile.evaluate((el) => {
        const r = el.getBoundingClientRect();
        return { w: r.width, h: r.height, vw: window.innerWidth, vh: window.innerHeight, left: r.left, top: r.top };
      });
      assert.ok(Math.abs(fit.w - fit.vw) <= 1 && fit.left <= 1, `tile ${fit.w}px wide at ${fit.left}, frame ${fit.vw}px`);
      assert.ok(Math.abs(fit.h - fit.vh) <= 1 && fit.top <= 1, `tile ${fit.h}px high at ${fit.top}, frame ${fit.vh}px`);
    } finally {
      await context.close();
    }
  });

  test('a compared counter shows its change against the previous period once a period is selected', async () => {
    const { context, page } = await open();
    try {
      const frame = await login(page);
      const revenue = frame.locator('[data-widget="revenue"]');
      assert.equal(await revenue.locator('.counter-change').count(), 0, 'no period, no comparison');
      const n = await runs(page);
      await page.evaluate(() => window.acmeDashboard.setFilters({ period: { from: '2026-07-01', to: '2026-09-30' } }));
      await settled(page, n + 1);
      const change = revenue.locator('.counter-change');
      await change.waitFor();
      assert.match(await change.innerText(), /^[▲▼] [\d.]+% vs previous period$/);
      assert.match(await change.getAttribute('class'), /counter-change--(good|bad)/);
    } finally {
      await context.close();
    }
  });
});
