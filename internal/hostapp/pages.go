package hostapp

import "html/template"

type loginData struct {
	Users []User
}

type dashboardData struct {
	User     User
	InlayURL string
}

// initials is used for the avatar circles.
func initials(name string) string {
	out := []rune{}
	for i, r := range []rune(name) {
		if i == 0 || (i > 0 && []rune(name)[i-1] == ' ') {
			out = append(out, r)
		}
	}
	return string(out)
}

var funcs = template.FuncMap{"initials": initials}

// styles is shared by both pages: a plain, product-like look with no external assets.
const styles = `
:root { --bg:#f5f6fa; --surface:#fff; --text:#111827; --muted:#6b7280; --line:#e5e7eb;
  --brand:#4f46e5; --brand-dark:#4338ca; --ok:#059669; --err:#dc2626; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.5 Inter, ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background:var(--bg); color:var(--text); }
button { font:inherit; cursor:pointer; }
.brand { display:flex; align-items:center; gap:10px; font-weight:700; font-size:16px; letter-spacing:-.01em; }
.logo { width:30px; height:30px; border-radius:8px; background:linear-gradient(135deg,#6366f1,#8b5cf6 60%,#ec4899);
  display:grid; place-items:center; color:#fff; font-size:15px; }
.avatar { width:34px; height:34px; border-radius:50%; display:grid; place-items:center; font-weight:600;
  color:#fff; background:#6366f1; flex:none; }
.avatar.bob { background:#0ea5e9; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px; font-weight:500;
  background:#eef2ff; color:var(--brand-dark); }
.btn { border:1px solid var(--line); background:var(--surface); border-radius:8px; padding:6px 12px; color:var(--text); }
.btn:hover { background:#f9fafb; }
.btn.primary { background:var(--brand); border-color:var(--brand); color:#fff; }
.btn.primary:hover { background:var(--brand-dark); }
.btn:disabled { opacity:.55; cursor:default; }
.brand, .btn { white-space:nowrap; }
`

var loginPage = template.Must(template.New("login").Funcs(funcs).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Acme Analytics</title>
<style>` + styles + `
main { min-height:100vh; display:grid; place-items:center; padding:24px; }
.card { width:100%; max-width:420px; background:var(--surface); border:1px solid var(--line); border-radius:14px;
  padding:32px; box-shadow:0 10px 30px rgba(17,24,39,.06); }
h1 { font-size:20px; margin:24px 0 4px; }
p.sub { color:var(--muted); margin:0 0 20px; }
.user { width:100%; display:flex; align-items:center; gap:12px; text-align:left; padding:12px 14px; margin-top:10px;
  border:1px solid var(--line); border-radius:10px; background:var(--surface); }
.user:hover { border-color:var(--brand); box-shadow:0 0 0 3px #eef2ff; }
.user .who { flex:1; }
.user .name { font-weight:600; }
.user .mail { color:var(--muted); font-size:13px; }
.note { margin-top:20px; color:var(--muted); font-size:12px; }
#login-error { color:var(--err); min-height:1em; margin-top:10px; }
</style></head>
<body><main><div class="card">
  <div class="brand"><div class="logo">◆</div>Acme Analytics</div>
  <h1>Sign in to your workspace</h1>
  <p class="sub">Choose a demo account.</p>
  {{range .Users}}
  <button class="user" data-username="{{.Username}}">
    <span class="avatar {{.Username}}">{{initials .Name}}</span>
    <span class="who"><span class="name">{{.Name}}</span><br><span class="mail">{{.Email}}</span></span>
    <span class="badge">{{.Department}}</span>
  </button>
  {{end}}
  <div id="login-error" role="alert"></div>
  <p class="note">Each account sees only its own department's figures: the dashboard is filtered by
    Inlay's row-level security using the department in the user's embed token.</p>
</div></main>
<script type="module">
for (const b of document.querySelectorAll('button[data-username]')) {
  b.addEventListener('click', async () => {
    const res = await fetch('/api/auth/login', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: b.dataset.username }) });
    if (res.ok) location.reload();
    else document.getElementById('login-error').textContent = 'Sign-in failed (' + res.status + ').';
  });
}
</script>
</body></html>`))

var dashboardPage = template.Must(template.New("dashboard").Funcs(funcs).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sales · Acme Analytics</title>
<style>` + styles + `
header { height:60px; background:var(--surface); border-bottom:1px solid var(--line); display:flex; align-items:center;
  padding:0 24px; gap:32px; position:sticky; top:0; z-index:2; }
nav { display:flex; gap:4px; flex:1; }
nav a { color:var(--muted); text-decoration:none; padding:6px 10px; border-radius:6px; font-weight:500; }
nav a.active { color:var(--text); background:#f3f4f6; }
.me { display:flex; align-items:center; gap:10px; }
.me .name { font-weight:600; line-height:1.2; }
.me .dept { color:var(--muted); font-size:12px; }
.page { display:grid; grid-template-columns:minmax(0,1fr) 300px; gap:20px; padding:24px; max-width:1480px; margin:0 auto; }
.titlebar { grid-column:1/-1; display:flex; align-items:flex-end; justify-content:space-between; gap:16px; }
.titlebar h1 { margin:0; font-size:22px; letter-spacing:-.01em; }
.titlebar p { margin:2px 0 0; color:var(--muted); }
.tools { display:flex; gap:8px; align-items:center; }
.status { font-size:12px; color:var(--muted); display:flex; align-items:center; gap:6px; margin-right:6px; }
.dot { width:8px; height:8px; border-radius:50%; background:#d1d5db; }
.status.live .dot { background:var(--ok); }
.status.error .dot { background:var(--err); }
.panel { background:var(--surface); border:1px solid var(--line); border-radius:12px; }
#dashboard { min-height:200px; } /* the viewer draws its own surface */
aside h2 { font-size:13px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); margin:0;
  padding:14px 16px; border-bottom:1px solid var(--line); }
aside.panel { align-self:start; }
#event-log { list-style:none; margin:0; padding:0; max-height:640px; overflow:auto;
  font:12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
#event-log li { padding:8px 16px; border-bottom:1px solid #f3f4f6; }
#event-log .ev { color:var(--brand-dark); font-weight:600; }
#event-log .t { color:var(--muted); float:right; }
#event-log .d { color:#374151; word-break:break-word; }
#event-log li.error .ev { color:var(--err); }
#banner { grid-column:1/-1; display:none; padding:10px 14px; border-radius:8px; background:#fef2f2; color:#991b1b;
  border:1px solid #fecaca; }
@media (max-width: 1100px) { .page { grid-template-columns:1fr; } nav { display:none; } }
@media (max-width: 600px) {
  header { padding:0 12px; gap:12px; justify-content:space-between; }
  .me > div { display:none; } /* the avatar and Log out stay; the name is in the page's text */
  .page { padding:16px 12px; }
  .titlebar { flex-wrap:wrap; align-items:flex-start; }
}
</style></head>
<body>
<header>
  <div class="brand"><div class="logo">◆</div>Acme Analytics</div>
  <nav><a class="active" href="/">Sales</a><a href="/">Customers</a><a href="/">Reports</a><a href="/">Settings</a></nav>
  <div class="me">
    <span class="avatar {{.User.Username}}">{{initials .User.Name}}</span>
    <div><div class="name" id="user-name">{{.User.Name}}</div>
      <div class="dept">Department: <span id="user-department">{{.User.Department}}</span></div></div>
    <button class="btn" id="logout">Log out</button>
  </div>
</header>
<div class="page">
  <div class="titlebar">
    <div><h1>Overview</h1>
      <p>Live figures for the <span class="badge">{{.User.Department}}</span> department, embedded with Inlay.</p></div>
    <div class="tools">
      <span class="status" id="status"><span class="dot"></span><span id="status-text">Connecting…</span></span>
      <button class="btn" id="theme" disabled>Dark theme</button>
      <button class="btn primary" id="refresh" disabled>Refresh</button>
    </div>
  </div>
  <div id="banner" role="alert"></div>
  <section id="dashboard" aria-label="Sales dashboard"></section>
  <aside class="panel"><h2>Embed events</h2><ul id="event-log"></ul></aside>
</div>
<script id="acme-config" type="application/json">{"inlayURL": {{.InlayURL}}}</script>
<script type="module">
const cfg = JSON.parse(document.getElementById('acme-config').textContent);
const logEl = document.getElementById('event-log');
const statusEl = document.getElementById('status');

function log(name, detail, isError) {
  const li = document.createElement('li');
  li.dataset.event = name;
  if (isError) li.className = 'error';
  const t = new Date().toLocaleTimeString();
  li.innerHTML = '<span class="t"></span><span class="ev"></span><div class="d"></div>';
  li.querySelector('.t').textContent = t;
  li.querySelector('.ev').textContent = name;
  li.querySelector('.d').textContent = detail || '';
  logEl.prepend(li);
  while (logEl.children.length > 100) logEl.lastChild.remove();
}
function setStatus(kind, text) {
  statusEl.className = 'status ' + kind;
  document.getElementById('status-text').textContent = text;
}
function summary(name, p) {
  switch (name) {
    case 'dashboard:loaded': return p.dashboard && p.dashboard.title;
    case 'dashboard:run:complete': return p.status + ' · ' + (p.tileStatuses || []).length + ' widgets';
    case 'dashboard:filters:changed': return JSON.stringify((p.dashboard || {}).dashboard_filters || {});
    case 'dashboard:tile:download': return (p.tile || {}).title + ' · ' + p.rows + ' rows';
    case 'page:properties:changed': return 'height ' + p.height + 'px';
    case 'dashboard:error': return p.code + ': ' + p.message;
    case 'token:refreshed': return 'new token, expires ' + (p.expiresAt ? p.expiresAt.toLocaleTimeString() : '?');
    case 'token:refresh:error': return p.error.message + ' (retry in ' + Math.round(p.retryInMs / 1000) + ' s)';
    default: return '';
  }
}
async function embedConfig() {
  const res = await fetch('/api/dashboard/embed-config', { credentials: 'same-origin' });
  if (!res.ok) throw new Error('embed-config: HTTP ' + res.status);
  return res.json();
}

document.getElementById('logout').addEventListener('click', async () => {
  await fetch('/api/auth/logout', { method: 'POST' });
  location.reload();
});

// Deep links: /?product=Onboarding&region=East&region=West opens the dashboard with those
// filters (a repeated name is a list) in its first run.
function linkedFilters() {
  const params = new URLSearchParams(location.search);
  const filters = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    filters[name] = values.length > 1 ? values : values[0];
  }
  return filters;
}

try {
  const { InlayDashboard } = await import(cfg.inlayURL + '/sdk/inlay-embed.js');
  const conf = await embedConfig();
  const dashboard = new InlayDashboard({
    instanceUrl: conf.instance_url,
    dashboardId: conf.dashboard_id,
    token: conf.embed_token,
    container: document.getElementById('dashboard'),
    filters: linkedFilters(),
    getNewToken: () => embedConfig().then((r) => r.embed_token),
    onError: (e) => log('error', e.code + ': ' + e.message, true),
  });
  for (const name of ['dashboard:loaded', 'dashboard:run:start', 'dashboard:run:complete',
      'dashboard:filters:changed', 'dashboard:tile:download', 'dashboard:crossfilter', 'dashboard:error', 'page:properties:changed',
      'token:refreshed', 'token:refresh:error']) {
    dashboard.on(name, (p) => log(name, summary(name, p || {}), name.endsWith('error')));
  }
  window.acmeDashboard = dashboard; // handy in the console (and for the browser tests)
  let dark = false;
  document.getElementById('theme').addEventListener('click', async () => {
    dark = !dark;
    await dashboard.setTheme(dark ? 'dark' : 'light');
    document.getElementById('theme').textContent = dark ? 'Light theme' : 'Dark theme';
  });
  document.getElementById('refresh').addEventListener('click', () => dashboard.run());
  // The SDK refuses theme changes and runs until the dashboard has loaded: the buttons wait for
  // it. That is initialize() resolving or, when the viewer first asks to connect an account
  // (OAuth integrations), the dashboard:loaded that follows the connection.
  dashboard.on('dashboard:loaded', () => {
    document.getElementById('theme').disabled = false;
    document.getElementById('refresh').disabled = false;
    document.getElementById('banner').style.display = 'none';
    setStatus('live', 'Live');
  });
  try {
    await dashboard.initialize();
  } catch (e) {
    if (!(e.details && e.details.viewerCode === 'login_required')) throw e;
    setStatus('', 'Waiting for the account connection'); // the frame shows the Connect button
  }
} catch (e) {
  setStatus('error', 'Unavailable');
  const banner = document.getElementById('banner');
  banner.style.display = 'block';
  banner.textContent = 'The dashboard could not be loaded: ' + (e.code ? e.code + ': ' : '') + e.message;
  log('error', String(e.message || e), true);
}
</script>
</body></html>`))
