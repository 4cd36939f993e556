// Opens any sample dashboard in a page on the demo host app's origin (the allowed embed origin),
// with a token minted through Inlay's three-call flow using the demo's printed client credentials.
// Used by the screenshot command and the accessibility test.
import { waitFor } from './browser.mjs';

/** The client id and secret `inlay demo` prints (after its addresses: wait for them). */
export async function demoCredentials(demo) {
  const out = await waitFor(() => /^Dashboards:.*\n/m.test(demo.output()) && demo.output(), { what: 'demo credentials' });
  const id = /^Client id:\s+(\S+)/m.exec(out)?.[1];
  const secret = /^Client secret:\s+(\S+)/m.exec(out)?.[1];
  if (!id || !secret) throw new Error('inlay demo did not print client credentials');
  return { id, secret };
}

/** Mints an embed token for a dashboard: service token, tokeninfo, scoped token. */
export async function mintEmbedToken(demo, dashboardId, { viewer = 'alice@example.com', value = 'Sales', attributes = { department: 'Sales', regions: ['East', 'North', 'South', 'West'] } } = {}) {
  const { id, secret } = await demoCredentials(demo);
  const basic = 'Basic ' + Buffer.from(`${id}:${secret}`).toString('base64');
  const post = async (form) => {
    const res = await fetch(`${demo.inlayURL}/oidc/v1/token`, {
      method: 'POST',
      headers: { Authorization: basic, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    if (!res.ok) throw new Error(`token: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  const svc = (await post({ grant_type: 'client_credentials', scope: 'all-apis' })).access_token;
  const q = new URLSearchParams({ external_viewer_id: viewer, external_value: value, attributes: JSON.stringify(attributes) });
  const infoRes = await fetch(`${demo.inlayURL}/api/2.0/lakeview/dashboards/${dashboardId}/published/tokeninfo?${q}`, {
    headers: { Authorization: `Bearer ${svc}` },
  });
  if (!infoRes.ok) throw new Error(`tokeninfo: HTTP ${infoRes.status} ${await infoRes.text()}`);
  const info = await infoRes.json();
  const form = { grant_type: 'client_credentials' };
  for (const [k, v] of Object.entries(info)) form[k] = typeof v === 'string' ? v : JSON.stringify(v);
  return (await post(form)).access_token;
}

/**
 * A page that embeds dashboardId with @inlay/embed at the given width and theme, waiting until
 * every tile has settled. Returns {context, page, frame}.
 */
export async function openDashboard(browser, demo, dashboardId, { width = 1440, height = 900, theme = 'light' } = {}) {
  const token = await mintEmbedToken(demo, dashboardId);
  const context = await browser.newContext({ viewport: { width, height }, colorScheme: theme, reducedMotion: 'reduce' });
  const url = `${demo.hostURL}/__dashboard/${dashboardId}`;
  const bg = theme === 'dark' ? '#0f131a' : '#f5f6f8';
  await context.route(url, (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${dashboardId}</title>
        <style>body{margin:0;background:${bg}}</style></head><body><main id="c"></main><script type="module">
        import { InlayDashboard } from '${demo.inlayURL}/sdk/inlay-embed.js';
        const token = ${JSON.stringify(token)};
        const d = new InlayDashboard({ instanceUrl: '${demo.inlayURL}', dashboardId: '${dashboardId}', token,
          getNewToken: () => token, theme: '${theme}', container: document.getElementById('c') });
        window.done = d.initialize().then(() => 'loaded', (e) => e.code);
      </script></body></html>`,
    }),
  );
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error('page error:', err.message));
  await page.goto(url);
  const frame = page.frameLocator('#c iframe');
  await frame.locator('[data-widget]').first().waitFor({ timeout: 30_000 });
  await waitFor(async () => (await frame.locator('[data-widget][data-status="loading"]').count()) === 0, {
    timeout: 30_000,
    what: `${dashboardId} settled`,
  });
  return { context, page, frame };
}
