// Ground truth for the browser tests: the host app mints a token for a user (the real three-call
// flow), and the test asks Inlay's embed API for the numbers with that token.

/** Logs in to the host app as username and returns its embed-config answer. */
export async function embedConfigFor(hostURL, username) {
  const login = await fetch(`${hostURL}/api/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username }),
  });
  if (!login.ok) throw new Error(`login ${username}: HTTP ${login.status}`);
  const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const res = await fetch(`${hostURL}/api/dashboard/embed-config`, { headers: { cookie } });
  if (!res.ok) throw new Error(`embed-config ${username}: HTTP ${res.status} ${await res.text()}`);
  return res.json();
}

/** Runs widget queries through Inlay's embed API; returns {widget: first row's first value}. */
export async function widgetValues(config, widgets, filters = {}) {
  const res = await fetch(`${config.instance_url}/api/v1/embed/dashboards/${config.dashboard_id}/query`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${config.embed_token}` },
    body: JSON.stringify({ widgets, filters }),
  });
  if (!res.ok) throw new Error(`query: HTTP ${res.status} ${await res.text()}`);
  const body = await res.json();
  const out = {};
  for (const w of widgets) {
    const r = body.results[w];
    if (r.error) throw new Error(`widget ${w}: ${r.error.code}`);
    out[w] = Number(r.rows[0][0]);
  }
  return out;
}

/** "$1,234,567.89" or "12,345" -> number. */
export function parseDisplayed(text) {
  const n = Number(String(text).replace(/[^0-9.\-]/g, ''));
  if (!Number.isFinite(n) || String(text).trim() === '') throw new Error(`not a number: ${JSON.stringify(text)}`);
  return n;
}
