package hostapp

import (
	"html/template"
	"net/http"

	"github.com/inlay/inlay/internal/web"
)

type lookerPageData struct {
	User        User
	Mode        string // "signed" or "cookieless"
	Host        string
	DashboardID string
	Signed      bool // the signed mode is available (an embed secret is configured)
}

// handleLookerPage serves the Looker mode page: /looker?mode=signed|cookieless[&theme=..]
// [&_theme=..]; other query parameters become the embed's initial filters (withFilters, keyed
// by filter title).
func (a *App) handleLookerPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	user, ok := a.currentUser(r)
	var err error
	if !ok {
		err = loginPage.Execute(w, loginData{Users: []User{users["alice"], users["bob"]}})
	} else {
		mode := r.URL.Query().Get("mode")
		if mode != "cookieless" && (mode != "signed" || a.cfg.Looker.EmbedSecret == "") {
			mode = "cookieless"
			if a.cfg.Looker.EmbedSecret != "" && r.URL.Query().Get("mode") != "cookieless" {
				mode = "signed"
			}
		}
		err = lookerPage.Execute(w, lookerPageData{User: user, Mode: mode, Host: a.cfg.Looker.Host,
			DashboardID: a.cfg.DashboardID, Signed: a.cfg.Looker.EmbedSecret != ""})
	}
	if err != nil {
		a.log.ErrorContext(r.Context(), "render looker page", "err", err)
	}
}

// handleLookerSDK serves the unmodified @looker/embed-sdk browser bundle from npm.
func (a *App) handleLookerSDK(w http.ResponseWriter, r *http.Request) {
	b, ok := web.LookerSDK()
	if !ok {
		http.Error(w, "the Looker Embed SDK bundle is not built: run scripts/build-ui.sh", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

var lookerPage = template.Must(template.New("looker").Funcs(funcs).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sales (Looker Embed SDK) · Acme Analytics</title>
<style>` + styles + `
header { height:60px; background:var(--surface); border-bottom:1px solid var(--line); display:flex; align-items:center;
  padding:0 24px; gap:24px; }
header .grow { flex:1; }
.me { display:flex; align-items:center; gap:10px; }
.page { display:grid; grid-template-columns:minmax(0,1fr) 320px; gap:20px; padding:24px; max-width:1480px; margin:0 auto; }
.titlebar { grid-column:1/-1; display:flex; align-items:flex-end; justify-content:space-between; gap:16px; flex-wrap:wrap; }
.titlebar h1 { margin:0; font-size:22px; }
.titlebar p { margin:2px 0 0; color:var(--muted); }
.tools { display:flex; gap:8px; align-items:center; flex-wrap:wrap; }
.modes a { padding:5px 10px; border-radius:6px; color:var(--muted); text-decoration:none; border:1px solid var(--line); }
.modes a.on { background:var(--brand); border-color:var(--brand); color:#fff; }
#dashboard iframe { width:100%; border:0; display:block; min-height:200px; }
aside.panel { background:var(--surface); border:1px solid var(--line); border-radius:12px; align-self:start; }
aside h2 { font-size:13px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); margin:0;
  padding:14px 16px; border-bottom:1px solid var(--line); }
#event-log { list-style:none; margin:0; padding:0; max-height:640px; overflow:auto;
  font:12px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
#event-log li { padding:8px 16px; border-bottom:1px solid #f3f4f6; }
#event-log .ev { color:var(--brand-dark); font-weight:600; }
#event-log .d { color:#374151; word-break:break-word; }
#status { font-size:12px; color:var(--muted); }
#banner { grid-column:1/-1; display:none; padding:10px 14px; border-radius:8px; background:#fef2f2; color:#991b1b; border:1px solid #fecaca; }
@media (max-width: 1100px) { .page { grid-template-columns:1fr; } }
@media (max-width: 600px) {
  header { padding:0 12px; gap:12px; }
  header .badge, .me > div { display:none; } /* the avatar and the link back stay */
  .page { padding:16px 12px; }
}
</style></head>
<body>
<header>
  <div class="brand"><div class="logo">◆</div>Acme Analytics</div>
  <span class="badge">Looker Embed SDK</span>
  <span class="grow"></span>
  <div class="me"><span class="avatar {{.User.Username}}">{{initials .User.Name}}</span>
    <div><b>{{.User.Name}}</b><br><small>Department: {{.User.Department}}</small></div>
    <a class="btn" href="/">Inlay SDK page</a></div>
</header>
<div class="page">
  <div class="titlebar">
    <div><h1>Overview</h1>
      <p>The same dashboard, embedded with the unmodified <code>@looker/embed-sdk</code> ({{if eq .Mode "signed"}}signed SSO URL{{else}}cookieless session{{end}}).</p></div>
    <div class="tools">
      <span class="modes">{{if .Signed}}<a href="?mode=signed" class="{{if eq .Mode "signed"}}on{{end}}">Signed URL</a> {{end}}<a href="?mode=cookieless" class="{{if eq .Mode "cookieless"}}on{{end}}">Cookieless</a></span>
      <span id="status">Connecting…</span>
      <select id="region" aria-label="Region"><option value="">All regions</option><option>East</option><option>West</option><option>North</option><option>South</option></select>
      <button class="btn" id="stop">Stop</button>
      <button class="btn primary" id="run">Run</button>
      {{if eq .Mode "cookieless"}}<button class="btn" id="end">End embed session</button>{{end}}
    </div>
  </div>
  <div id="banner" role="alert"></div>
  <section id="dashboard" aria-label="Sales dashboard"></section>
  <aside class="panel"><h2>Looker events</h2><ul id="event-log"></ul></aside>
</div>
<script src="/looker/embed-sdk.js"></script>
<script id="acme-config" type="application/json">{"mode": {{.Mode}}, "host": {{.Host}}, "dashboardId": {{.DashboardID}}}</script>
<script>
(async () => {
  const cfg = JSON.parse(document.getElementById('acme-config').textContent);
  const { LookerEmbedSDK } = window.LookerEmbedSDK;
  const logEl = document.getElementById('event-log');
  // Every event the SDK delivers, in order (also read by the browser tests).
  const events = (window.lookerEvents = []);
  function log(name, p) {
    events.push({ name, payload: p });
    const li = document.createElement('li');
    li.dataset.event = name;
    li.innerHTML = '<span class="ev"></span><div class="d"></div>';
    li.querySelector('.ev').textContent = name;
    let d = '';
    if (name === 'dashboard:run:complete') d = p.status + ' · ' + (p.tileStatuses || []).length + ' tiles';
    else if (name === 'dashboard:filters:changed' || name === 'dashboard:loaded') d = JSON.stringify(p.dashboard.dashboard_filters);
    else if (name === 'page:properties:changed') d = 'height ' + p.height + 'px';
    else if (name === 'session:status') d = 'ttl ' + p.session_ttl + ' s' + (p.expired ? ' · expired' : '');
    li.querySelector('.d').textContent = d;
    logEl.prepend(li);
    while (logEl.children.length > 200) logEl.lastChild.remove();
  }
  const status = (t) => (document.getElementById('status').textContent = t);
  if (cfg.mode === 'signed') LookerEmbedSDK.init(cfg.host, '/looker/auth');
  else LookerEmbedSDK.initCookieless(cfg.host, '/looker/acquire', '/looker/generate');
  // Query parameters of this page are the initial filters (keyed by title), except mode, theme
  // (withTheme) and _theme (Looker's theme overrides, through withParams).
  const filters = {};
  const q = new URLSearchParams(location.search);
  for (const [k, v] of q) if (!['mode', 'theme', '_theme'].includes(k)) filters[k] = v;
  let builder = LookerEmbedSDK.createDashboardWithId(cfg.dashboardId)
    .appendTo('#dashboard')
    .withDynamicIFrameHeight()
    .withDialogScroll()
    .withScrollMonitor()
    .withAllowAttr('fullscreen')
    .withFilters(filters);
  if (q.get('theme')) builder = builder.withTheme(q.get('theme'));
  if (q.get('_theme')) builder = builder.withParams({ _theme: q.get('_theme') });
  for (const name of ['dashboard:loaded', 'dashboard:run:start', 'dashboard:run:complete', 'dashboard:filters:changed',
      'dashboard:tile:start', 'dashboard:tile:complete', 'dashboard:tile:download', 'page:changed',
      'page:properties:changed', 'env:client:dialog', 'session:status', 'session:expired']) {
    builder = builder.on(name, (p) => {
      log(name, p || {});
      if (name === 'session:expired') status('Session ended');
    });
  }
  try {
    const connection = await builder.build().connect();
    const dashboard = connection.asDashboardConnection();
    window.lookerConnection = connection;
    status('Connected');
    document.getElementById('run').addEventListener('click', () => dashboard.run());
    document.getElementById('stop').addEventListener('click', () => dashboard.stop());
    // As with Looker, updated filters apply at the next run.
    document.getElementById('region').addEventListener('change', (e) => {
      dashboard.updateFilters({ Region: e.target.value });
      dashboard.run();
    });
    const end = document.getElementById('end');
    if (end) end.addEventListener('click', async () => {
      await fetch('/looker/session/end', { method: 'POST' });
      dashboard.run(); // the next API call finds the session ended
    });
  } catch (e) {
    status('Unavailable');
    const banner = document.getElementById('banner');
    banner.style.display = 'block';
    banner.textContent = 'The dashboard could not be embedded: ' + (e && e.message ? e.message : e);
  }
})();
</script>
</body></html>`))
