package preview

// page is the preview: dashboards on the left, the chosen viewer on top, the dashboard embedded
// through @inlay/embed (served by this Inlay at /sdk/) with a token minted for that viewer. The
// page listens to /dev/api/events: a check with problems shows them over the dashboard; a clean
// check renders the dashboard again from the new plans.
const page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Inlay dev preview</title>
<style>
* { box-sizing:border-box; }
body { margin:0; font:14px/1.5 ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  background:#f5f6fa; color:#111827; display:grid; grid-template-columns:240px 1fr; min-height:100vh; }
aside { background:#fff; border-right:1px solid #e5e7eb; padding:16px; }
aside h1 { font-size:15px; margin:0 0 12px; }
#dashboards { list-style:none; margin:0; padding:0; }
#dashboards a { display:block; padding:6px 8px; border-radius:6px; color:inherit; text-decoration:none; }
#dashboards a.active { background:#eef2ff; color:#3730a3; font-weight:600; }
#dashboards .id { color:#6b7280; font-size:12px; }
main { padding:16px; position:relative; min-width:0; }
form { display:flex; flex-wrap:wrap; gap:12px; align-items:end; background:#fff; border:1px solid #e5e7eb;
  border-radius:10px; padding:12px; margin-bottom:12px; }
label { display:flex; flex-direction:column; font-size:12px; color:#6b7280; gap:4px; }
input, textarea { font:inherit; color:#111827; border:1px solid #d1d5db; border-radius:6px; padding:5px 8px; }
textarea { width:260px; height:34px; }
button { font:inherit; cursor:pointer; border:1px solid #4f46e5; background:#4f46e5; color:#fff; border-radius:6px; padding:6px 14px; }
#state { font-size:12px; color:#6b7280; margin-left:auto; }
#state.ok::before { content:"● "; color:#059669; }
#state.bad::before { content:"● "; color:#dc2626; }
#dashboard { min-height:300px; }
#message { color:#991b1b; }
#overlay { display:none; position:fixed; inset:0; background:rgba(17,24,39,.55); z-index:10; padding:48px; overflow:auto; }
#overlay .box { max-width:960px; margin:0 auto; background:#1f2937; color:#f9fafb; border-radius:10px; padding:20px 24px;
  font:13px/1.5 ui-monospace, SFMono-Regular, Menlo, monospace; box-shadow:0 20px 50px rgba(0,0,0,.4); }
#overlay h2 { font:600 16px/1.3 ui-sans-serif, system-ui, sans-serif; margin:0 0 4px; color:#fca5a5; }
#overlay p.sub { font-family:ui-sans-serif, system-ui, sans-serif; color:#d1d5db; margin:0 0 12px; }
#problems { list-style:none; margin:0; padding:0; }
#problems li { padding:8px 0; border-top:1px solid #374151; white-space:pre-wrap; word-break:break-word; }
#problems .where { color:#93c5fd; }
#problems .code { color:#9ca3af; }
#problems .detail { color:#9ca3af; display:block; margin-top:4px; padding-left:12px; border-left:2px solid #4b5563; }
/* A phone or a narrow editor split: the dashboard list goes on top, fields take the width. */
@media (max-width: 700px) {
  body { grid-template-columns:minmax(0,1fr); }
  aside { border-right:0; border-bottom:1px solid #e5e7eb; }
  #dashboards { display:flex; flex-wrap:wrap; gap:4px; }
  main { padding:12px; }
  label, input, textarea { width:100%; }
  #overlay { padding:16px; }
}
</style></head>
<body>
<aside>
  <h1>Inlay dev preview</h1>
  <ul id="dashboards"></ul>
</aside>
<main>
  <form id="viewer">
    <label>Viewer id <input id="viewer-id" value="preview@localhost"></label>
    <label>External value <input id="external-value" placeholder="(none)"></label>
    <label>Attributes, one per line: name=v1,v2 <textarea id="attributes" placeholder="regions=East,West"></textarea></label>
    <button type="submit">View as this viewer</button>
    <span id="state"></span>
  </form>
  <div id="message" role="alert"></div>
  <section id="dashboard" aria-label="Dashboard"></section>
</main>
<div id="overlay" role="alertdialog" aria-labelledby="overlay-title">
  <div class="box">
    <h2 id="overlay-title">The project has problems</h2>
    <p class="sub">The preview keeps the last good version until they are fixed; it updates when you save.</p>
    <ul id="problems"></ul>
  </div>
</div>
<script type="module">
const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
let current = params.get('dashboard') || '';
let embedded = null;
let renderedVersion = 0;
let lastStatus = null;
$('viewer-id').value = params.get('viewer') || $('viewer-id').value;
$('external-value').value = params.get('external_value') || '';
$('attributes').value = (params.getAll('attr') || []).join('\n');

function viewer() {
  const attributes = {};
  for (const line of $('attributes').value.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    attributes[line.slice(0, i).trim()] = line.slice(i + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
  }
  const ev = $('external-value').value;
  return { viewer_id: $('viewer-id').value || 'preview', external_value: ev === '' ? null : ev, attributes };
}

async function mint() {
  const res = await fetch('/dev/api/token', { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ dashboard_id: current, ...viewer() }) });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ? body.error.message : 'HTTP ' + res.status);
  return body.embed_token;
}

async function listDashboards() {
  const res = await fetch('/dev/api/dashboards');
  const { dashboards } = await res.json();
  const ul = $('dashboards');
  ul.textContent = '';
  for (const d of dashboards) {
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.href = '?dashboard=' + encodeURIComponent(d.id);
    a.dataset.id = d.id;
    a.innerHTML = '<span class="t"></span><br><span class="id"></span>';
    a.querySelector('.t').textContent = d.title || d.id;
    a.querySelector('.id').textContent = d.id;
    if (d.id === current) a.className = 'active';
    a.addEventListener('click', (e) => { e.preventDefault(); select(d.id); });
    li.append(a);
    ul.append(li);
  }
  if (!current && dashboards.length) {
    current = dashboards[0].id;
    ul.querySelector('a').className = 'active';
    syncURL();
  }
  return dashboards;
}

function select(id) {
  current = id;
  for (const a of document.querySelectorAll('#dashboards a')) a.className = a.dataset.id === id ? 'active' : '';
  syncURL();
  render();
}

function syncURL() {
  const q = new URLSearchParams();
  if (current) q.set('dashboard', current);
  const v = viewer();
  q.set('viewer', v.viewer_id);
  if (v.external_value !== null) q.set('external_value', v.external_value);
  for (const line of $('attributes').value.split('\n')) if (line.trim()) q.append('attr', line.trim());
  history.replaceState(null, '', '?' + q.toString());
}

async function render() {
  if (!current) return;
  $('message').textContent = '';
  if (embedded) { embedded.destroy(); embedded = null; }
  $('dashboard').textContent = '';
  renderedVersion = lastStatus ? lastStatus.version : 0;
  try {
    const { InlayDashboard } = await import('/sdk/inlay-embed.js');
    const token = await mint();
    embedded = new InlayDashboard({ instanceUrl: location.origin, dashboardId: current, token,
      container: $('dashboard'), getNewToken: mint, onError: (e) => { $('message').textContent = e.code + ': ' + e.message; } });
    window.inlayPreview = embedded;
    await embedded.initialize();
    document.body.dataset.rendered = String(renderedVersion);
  } catch (e) {
    $('message').textContent = 'The dashboard could not be shown: ' + (e.code ? e.code + ': ' : '') + e.message;
  }
}

function showStatus(s) {
  lastStatus = s;
  document.body.dataset.version = String(s.version);
  const ul = $('problems');
  ul.textContent = '';
  for (const p of s.problems) {
    const li = document.createElement('li');
    const where = document.createElement('span');
    where.className = 'where';
    where.textContent = p.file + (p.line ? ':' + p.line + (p.column ? ':' + p.column : '') : '') + ': ';
    const code = document.createElement('span');
    code.className = 'code';
    code.textContent = ' [' + p.code + ']';
    li.append(where, document.createTextNode(p.message), code);
    if (p.detail) {
      const d = document.createElement('span');
      d.className = 'detail';
      d.textContent = p.detail;
      li.append(d);
    }
    ul.append(li);
  }
  const bad = s.problems.length > 0;
  $('overlay').style.display = bad ? 'block' : 'none';
  $('state').className = bad ? 'bad' : 'ok';
  $('state').textContent = bad ? s.problems.length + ' problem(s)' : 'checked ' + new Date(s.checked_at).toLocaleTimeString();
}

$('viewer').addEventListener('submit', (e) => { e.preventDefault(); syncURL(); render(); });

const events = new EventSource('/dev/api/events');
events.addEventListener('status', async (e) => {
  const s = JSON.parse(e.data);
  const first = lastStatus === null;
  showStatus(s);
  if (first) { await listDashboards(); render(); return; }
  if (s.problems.length > 0) return; // keep the last good dashboard under the overlay
  if (s.version !== renderedVersion) { await listDashboards(); render(); }
});
</script>
</body></html>`
