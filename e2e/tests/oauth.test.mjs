// Browser test of an OAuth integration in the embedded viewer: a dashboard whose data source runs
// with each viewer's own credentials shows "Connect your Databricks account", the login opens in
// a popup at a real OpenID provider (npm oidc-provider, playing the data platform), and once the
// viewer has logged in and consented the widgets render.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { launch, waitFor } from '../lib/browser.mjs';
import { inlayBinary, repoRoot } from '../lib/demo.mjs';

const providerDir = path.join(repoRoot, 'internal', 'oauth', 'testdata', 'provider');
const artifacts = path.join(repoRoot, 'e2e', 'artifacts');
const children = [];
let browser;
let host;
let inlayURL;

/** Spawns a process and resolves with the first stdout match of re. */
function spawnUntil(cmd, args, opts, re, what) {
  const child = spawn(cmd, args, { ...opts, stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${output}`)), 60_000);
    const onData = (c) => {
      output += c;
      const m = re.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (c) => {
      output += c;
      if (process.env.E2E_VERBOSE) process.stderr.write(c);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}):\n${output}`));
    });
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  if (!existsSync(path.join(providerDir, 'node_modules', 'oidc-provider'))) {
    execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: providerDir, stdio: 'inherit' });
  }
  const bin = inlayBinary();
  const port = await freePort();
  inlayURL = `http://127.0.0.1:${port}`;
  const [, issuer] = await spawnUntil('node', ['provider.mjs'], {
    cwd: providerDir,
    env: { ...process.env, REDIRECT_URIS: `${inlayURL}/__oauth__/integrations/callback` },
  }, /"issuer":"([^"]+)"/, 'the OpenID provider');

  // The host application: mints an embed token for alice through Inlay's three-call flow.
  let creds;
  host = createServer(async (req, res) => {
    if (req.url === '/token') {
      const basic = 'Basic ' + Buffer.from(`${creds.client_id}:${creds.client_secret}`).toString('base64');
      const svc = await (await fetch(`${inlayURL}/oidc/v1/token`, { method: 'POST', headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials&scope=all-apis' })).json();
      const info = await (await fetch(`${inlayURL}/api/2.0/lakeview/dashboards/warehouse/published/tokeninfo?external_viewer_id=alice%40example.com`, { headers: { Authorization: `Bearer ${svc.access_token}` } })).json();
      const form = new URLSearchParams({ grant_type: 'client_credentials' });
      for (const [k, v] of Object.entries(info)) form.set(k, typeof v === 'string' ? v : JSON.stringify(v));
      const tok = await (await fetch(`${inlayURL}/oidc/v1/token`, { method: 'POST', headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' }, body: form })).json();
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ token: tok.access_token }));
      return;
    }
    res.setHeader('Content-Type', 'text/html');
    res.end(`<!doctype html><body><div id="dash"></div><script type="module">
      import { InlayDashboard } from '${inlayURL}/sdk/inlay-embed.js';
      const token = async () => (await (await fetch('/token')).json()).token;
      const d = new InlayDashboard({ instanceUrl: '${inlayURL}', dashboardId: 'warehouse', token: await token(), getNewToken: token,
        container: document.getElementById('dash') });
      await d.initialize();
    </script></body>`);
  });
  await new Promise((r) => host.listen(0, '127.0.0.1', r));
  const hostOrigin = `http://127.0.0.1:${host.address().port}`;

  // A project: the warehouse source runs with each viewer's credentials of the "Databricks"
  // integration (the local provider plays Databricks; DuckDB stands in for the warehouse).
  const dir = mkdtempSync(path.join(tmpdir(), 'inlay-oauth-e2e-'));
  const table = `CREATE TABLE sales AS SELECT * FROM (VALUES ('East', 10), ('West', 32)) t(region, amount)`;
  writeFileSync(path.join(dir, 'inlay.yaml'), `listen: 127.0.0.1:${port}
admin_key: e2e-admin-key-0123456789
data_sources:
  warehouse: {type: duckdb, oauth_integration: Databricks, init_sql: ["${table}"]}
embed: {allowed_origins: ["${hostOrigin}"]}
oauth:
  integrations:
    Databricks:
      template: oidc
      config: {issuer: "${issuer}", client_id: inlay-confidential, client_secret: confidential-secret, scopes: "openid offline_access"}
`);
  mkdirSync(path.join(dir, 'dashboards'));
  writeFileSync(path.join(dir, 'dashboards', 'warehouse.yaml'), `id: warehouse
title: Warehouse
datasets:
  - {name: sales, source: warehouse, sql: SELECT * FROM sales}
widgets:
  - {name: total, type: counter, dataset: sales, value: {expr: sum(amount), label: Total}, layout: {x: 0, y: 0, w: 3, h: 2}}
`);
  creds = JSON.parse(execFileSync(bin, ['principal', 'create', '--project', dir, '--name', 'host', '--json'], { encoding: 'utf8' }));
  await spawnUntil(bin, ['serve', '--project', dir], { cwd: dir }, /^Inlay:\s+http/m, 'inlay serve');
  browser = await launch();
});

after(async () => {
  await browser?.close();
  host?.close();
  for (const c of children) c.kill('SIGTERM');
});

describe('OAuth integration in the embedded viewer', () => {
  test('connect prompt, popup login and consent at the provider, then the widgets render', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    page.on('pageerror', (err) => console.error('page error:', err.message));
    try {
      await page.goto(`http://127.0.0.1:${host.address().port}/`);
      const frame = page.frameLocator('#dash iframe');
      const connect = frame.getByRole('button', { name: 'Connect your Databricks account' });
      await connect.waitFor({ timeout: 30_000 });
      assert.equal(await frame.locator('[data-widget]').count(), 0, 'no widgets before connecting');
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'oauth-connect.png') });

      const popupOpened = context.waitForEvent('page');
      await connect.click();
      const popup = await popupOpened;
      await popup.waitForLoadState();
      await popup.locator('input[name="login"]').fill('alice');
      await popup.locator('input[name="password"]').fill('any');
      await popup.locator('button[type="submit"]').click();
      await popup.locator('button[type="submit"]', { hasText: 'Continue' }).click(); // consent
      await waitFor(() => popup.isClosed(), { what: 'the login popup to close itself' });

      await frame.locator('[data-widget="total"][data-status="complete"]').waitFor({ timeout: 30_000 });
      const text = await frame.locator('[data-widget="total"]').innerText();
      assert.match(text, /42/, `the counter shows the sum (got ${JSON.stringify(text)})`);
      await page.screenshot({ path: path.join(artifacts, 'oauth-connected.png') });

      // Alice is connected for good: a new page load renders without asking again.
      await page.reload();
      await frame.locator('[data-widget="total"][data-status="complete"]').waitFor({ timeout: 30_000 });
      assert.equal(await frame.getByRole('button', { name: /Connect your/ }).count(), 0);
    } finally {
      await context.close();
    }
  });
});
