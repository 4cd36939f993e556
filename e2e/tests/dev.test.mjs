// Browser test of `inlay dev`: the preview renders a dashboard as a chosen viewer, shows an
// overlay with file:line when a saved file is broken, and recovers by itself when it is fixed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, waitFor } from '../lib/browser.mjs';
import { inlayBinary, repoRoot } from '../lib/demo.mjs';
import { parseDisplayed } from '../lib/inlay.mjs';

const GOOD = `id: orders
title: Orders
datasets:
  - name: orders
    sql: SELECT * FROM orders WHERE tenant = __aibi_external_value
widgets:
  - name: total
    title: Total
    type: counter
    dataset: orders
    value: sum(amount)
    layout: {x: 0, y: 0, w: 3, h: 2}
`;

let dev;
let browser;
let dir;

/** Runs `inlay dev` on a free loopback port; resolves once it prints its preview address. */
function startDev(bin, project) {
  const child = spawn(bin, ['dev', '--project', project, '--addr', '127.0.0.1:0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const stop = () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { stop(); reject(new Error('inlay dev did not start:\n' + output)); }, 120_000);
    const onData = (chunk) => {
      output += chunk;
      const m = /^Preview:\s+(http\S+)/m.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve({ previewURL: m[1], output: () => output, stop });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (c) => { output += c; });
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`inlay dev exited (${code ?? signal}):\n${output}`)); });
  });
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'inlay-dev-e2e-'));
  writeFileSync(path.join(dir, 'inlay.yaml'), `data_sources:
  default:
    type: duckdb
    init_sql: ["CREATE TABLE orders AS SELECT * FROM (VALUES ('acme', 10), ('acme', 20), ('globex', 5)) AS t(tenant, amount)"]
`);
  mkdirSync(path.join(dir, 'dashboards'));
  writeFileSync(path.join(dir, 'dashboards', 'orders.yaml'), GOOD);
  dev = await startDev(inlayBinary(), dir);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await dev?.stop();
});

async function total(page) {
  const frame = page.frameLocator('#dashboard iframe');
  const text = await frame.locator('[data-widget="total"][data-status="complete"] .counter-value').innerText({ timeout: 30_000 });
  return parseDisplayed(text);
}

describe('inlay dev preview in Chromium', () => {
  test('renders as the chosen viewer, shows an overlay with file:line for a broken file, recovers on fix', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    try {
      await page.goto(dev.previewURL + '?external_value=acme');
      await page.locator('#dashboards a[data-id="orders"].active').waitFor({ timeout: 30_000 });
      assert.equal(await total(page), 30, 'acme sees its own rows');

      // Another viewer: RLS as for an embed token.
      await page.fill('#external-value', 'globex');
      await page.click('#viewer button[type="submit"]');
      await waitFor(async () => (await total(page)) === 5, { timeout: 30_000, what: "globex's total" });

      // Save a broken file: the overlay names the file and line, the page does not break.
      const file = path.join(dir, 'dashboards', 'orders.yaml');
      writeFileSync(file, GOOD.replace('sum(amount)', 'sum(amountt)'));
      await page.locator('#overlay').waitFor({ state: 'visible', timeout: 30_000 });
      const text = await page.locator('#problems').innerText();
      assert.ok(text.includes('orders.yaml:11:12'), 'the overlay gives file:line:col: ' + text);
      assert.ok(text.includes('has no column "amountt"'), 'the overlay says what is wrong: ' + text);
      // On a phone the preview and its overlay fit the width (no sideways scrolling).
      await page.setViewportSize({ width: 390, height: 844 });
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, 'no horizontal scroll at 390 px');
      await page.setViewportSize({ width: 1280, height: 900 });

      // Fix it differently: the overlay goes and the dashboard renders the new version by itself.
      const before = await page.evaluate(() => document.body.dataset.rendered);
      writeFileSync(file, GOOD.replace('sum(amount)', 'count(*)'));
      await page.locator('#overlay').waitFor({ state: 'hidden', timeout: 30_000 });
      await waitFor(async () => (await page.evaluate(() => document.body.dataset.rendered)) !== before, { timeout: 30_000, what: 'a new render' });
      await waitFor(async () => (await total(page)) === 1, { timeout: 30_000, what: "globex's new count" });
      assert.equal(readFileSync(file, 'utf8').includes('count(*)'), true);
    } finally {
      await context.close();
    }
  });
});
