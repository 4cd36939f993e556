// Package web serves the dashboard viewer: the HTML page inside the embed iframe and the built
// JavaScript/CSS assets of web/viewer, embedded into the binary with go:embed.
//
// The assets are built by `npm --prefix web/viewer ci && npm --prefix web/viewer run build`, which
// writes internal/web/dist/viewer/. The build output is not committed; a binary built without it
// serves a page that says how to build it.
package web

import (
	"bytes"
	"compress/gzip"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

//go:embed all:dist
var dist embed.FS

// AssetsPath is the URL prefix the API layer mounts AssetsHandler at.
const AssetsPath = "/embed/assets/"

// BuildCommand is what a developer runs to build the viewer into the binary.
const BuildCommand = "npm --prefix web/viewer ci && npm --prefix web/viewer run build"

// The viewer build's manifest (build.manifest in web/viewer/vite.config.ts) names the entry
// script, its stylesheet and the chunks it loads later. Every file it names carries a content
// hash, so each can be cached for good.
const (
	manifestPath = ".vite/manifest.json"
	entryKey     = "src/main.ts"
)

type manifestChunk struct {
	File           string   `json:"file"`
	CSS            []string `json:"css"`
	DynamicImports []string `json:"dynamicImports"`
}

// Viewer returns the built viewer files and true, or false when the binary was built without
// them.
func Viewer() (fs.FS, bool) {
	sub, err := fs.Sub(dist, "dist/viewer")
	if err != nil {
		return nil, false
	}
	if _, err := fs.Stat(sub, manifestPath); err != nil {
		return nil, false
	}
	return sub, true
}

// assets is a set of built viewer files: the embedded ones, or test files.
type assets struct {
	files fs.FS // nil when the viewer is not built
	entry string
	css   []string
	// preload are the chunks the entry imports later (the charts): the page asks for them at
	// once, so they download while the entry starts the handshake.
	preload []string
	// gzipped holds each text asset compressed, computed once (name -> []byte) when the build
	// did not leave a .gz next to it.
	gzipped sync.Map
}

func newAssets(files fs.FS) *assets {
	if files == nil {
		return &assets{}
	}
	b, err := fs.ReadFile(files, manifestPath)
	if err != nil {
		return &assets{}
	}
	var m map[string]manifestChunk
	if err := json.Unmarshal(b, &m); err != nil {
		return &assets{}
	}
	entry, ok := m[entryKey]
	if !ok || entry.File == "" {
		return &assets{}
	}
	a := &assets{files: files, entry: entry.File, css: entry.CSS}
	for _, key := range entry.DynamicImports {
		if c, ok := m[key]; ok && c.File != "" {
			a.preload = append(a.preload, c.File)
		}
	}
	return a
}

var embedded = sync.OnceValue(func() *assets {
	files, _ := Viewer()
	return newAssets(files)
})

// PageConfig is what the viewer page needs to boot.
type PageConfig struct {
	DashboardID string
	// APIBase is the base URL of the embed API ("" means the page's own origin).
	APIBase string
	// EmbedDomain is the host page's origin: the only origin the viewer talks to.
	EmbedDomain string
	// Theme is "light", "dark" or "" (light).
	Theme string
	// Error, when set, renders an error page instead of the viewer (for example when
	// embed_domain is not an allowed origin). The error page loads no script and sends no
	// messages. The text is shown to the viewer: keep secrets and internals out of it.
	Error string
	// Status is the HTTP status to answer with; 0 means 200.
	Status int
	// Bootstrap, when set, is written as JSON in <script type="application/json"
	// id="inlay-bootstrap"> (the Looker mode's bootstrap, docs/looker.md).
	Bootstrap any
}

// viewerConfig is the JSON the viewer reads from <script id="inlay-config">.
type viewerConfig struct {
	DashboardID string `json:"dashboardId"`
	APIBase     string `json:"apiBase"`
	EmbedDomain string `json:"embedDomain"`
	Theme       string `json:"theme"`
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>{{.Title}}</title>
{{- if and .Built (not .Error)}}
{{- range .CSS}}
<link rel="stylesheet" href="{{.}}">
{{- end}}
<script type="module" src="{{.JS}}"></script>
{{- range .Preload}}
<link rel="modulepreload" href="{{.}}">
{{- end}}
{{- end}}
<style>
.inlay-static{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;max-width:560px;margin:48px auto;padding:24px 28px;border:1px solid #e4e7eb;border-radius:12px;background:#fff;box-shadow:0 1px 2px rgba(16,24,40,.06)}
.inlay-static h1{font-size:17px;margin:0 0 8px}.inlay-static p{margin:8px 0;color:#52606d}
.inlay-static code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f3f4f6;padding:2px 6px;border-radius:4px;word-break:break-all}
</style>
</head>
<body>
{{- if .Error}}
<main class="inlay-static" role="alert"><h1>This dashboard cannot be shown here</h1><p>{{.Error}}</p></main>
{{- else if not .Built}}
<main class="inlay-static" role="alert"><h1>The Inlay viewer is not built</h1>
<p>This Inlay binary was compiled without the dashboard viewer. Build it, then rebuild Inlay:</p>
<p><code>{{.BuildCommand}}</code></p></main>
{{- else}}
<div id="app"></div>
<script id="inlay-config" type="application/json">{{.ConfigJSON}}</script>
{{- end}}
{{- if .BootstrapJSON}}
<script type="application/json" id="inlay-bootstrap">{{.BootstrapJSON}}</script>
{{- end}}
</body>
</html>
`))

// WritePage writes the viewer's HTML shell for one dashboard: the page configuration as JSON
// and links to the assets under AssetsPath. It does not set Content-Security-Policy (the caller
// sets frame-ancestors from the allowed origins).
func WritePage(w http.ResponseWriter, cfg PageConfig) error {
	return embedded().writePage(w, cfg)
}

func (a *assets) writePage(w http.ResponseWriter, cfg PageConfig) error {
	built := a.files != nil
	data := struct {
		Title, JS, Error, BuildCommand string
		CSS, Preload                   []string
		Built                          bool
		ConfigJSON                     template.JS
		BootstrapJSON                  template.JS
	}{
		Title:        "Inlay dashboard",
		JS:           AssetsPath + a.entry,
		CSS:          prefixed(a.css),
		Preload:      prefixed(a.preload),
		Error:        cfg.Error,
		BuildCommand: BuildCommand,
		Built:        built,
	}
	if cfg.Error == "" && built {
		js, err := configJSON(viewerConfig{
			DashboardID: cfg.DashboardID,
			APIBase:     cfg.APIBase,
			EmbedDomain: cfg.EmbedDomain,
			Theme:       cfg.Theme,
		})
		if err != nil {
			return err
		}
		// html/template treats an application/json script as JavaScript; template.JS inserts the
		// already script-safe JSON (see configJSON) as it is.
		data.ConfigJSON = template.JS(js)
	}
	if cfg.Error == "" && cfg.Bootstrap != nil {
		bj, err := scriptJSON(cfg.Bootstrap)
		if err != nil {
			return err
		}
		data.BootstrapJSON = template.JS(bj)
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		return fmt.Errorf("web: render viewer page: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	status := cfg.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("web: write viewer page: %w", err)
	}
	return nil
}

func prefixed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = AssetsPath + n
	}
	return out
}

// configJSON encodes the page config for a <script type="application/json"> element.
// encoding/json escapes <, > and & as \u003c, \u003e, \u0026 (and U+2028/U+2029), so no value
// can spell "</script" or "<!--" and end or confuse the script element; the browser's JSON.parse
// reads the escapes back as the original characters.
func configJSON(cfg viewerConfig) (string, error) {
	return scriptJSON(cfg)
}

// scriptJSON encodes v for a <script type="application/json"> element (see configJSON).
func scriptJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("web: encode viewer config: %w", err)
	}
	if bytes.ContainsAny(b, "<>") { // cannot happen with encoding/json's HTML escaping
		return "", fmt.Errorf("web: viewer config is not script-safe")
	}
	return string(b), nil
}

// AssetsHandler serves the built viewer files. Mount it at AssetsPath, with or without
// http.StripPrefix. Every file's name carries its content hash, so every answer may be cached
// for a year; the build's manifest and other dot files are not served.
func AssetsHandler() http.Handler {
	return embedded().handler()
}

func (a *assets) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		files := a.files
		if files == nil {
			http.Error(w, "the viewer is not built: run "+BuildCommand, http.StatusNotFound)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(r.URL.Path, AssetsPath)), "/")
		if !servableName(name) {
			http.NotFound(w, r)
			return
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType(name))
		h.Set("Vary", "Accept-Encoding")
		etag := name
		if acceptsGzip(r) && compressible(name) {
			b = a.gzip(name, b)
			h.Set("Content-Encoding", "gzip")
			etag += "-gz"
		}
		h.Set("X-Content-Type-Options", "nosniff")
		// The viewer page may be framed by another origin, but its assets come from Inlay's own
		// origin; allow the module script to be fetched in CORS mode by that page.
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		h.Set("ETag", `"`+etag+`"`)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	})
}

// gzip returns the compressed form of a file: the .gz the build wrote next to it
// (scripts/build-ui.sh), or else one computed once.
func (a *assets) gzip(name string, b []byte) []byte {
	if z, ok := a.gzipped.Load(name); ok {
		return z.([]byte)
	}
	z, err := fs.ReadFile(a.files, name+".gz")
	if err != nil {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(b)
		zw.Close()
		z = buf.Bytes()
	}
	actual, _ := a.gzipped.LoadOrStore(name, z)
	return actual.([]byte)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func compressible(name string) bool {
	switch path.Ext(name) {
	case ".js", ".mjs", ".css", ".map", ".json", ".svg":
		return true
	}
	return false
}

// contentType maps the extensions a Vite build emits; mime.TypeByExtension depends on the
// machine's /etc/mime.types, and a module script served with the wrong type does not run.
func contentType(name string) string {
	switch path.Ext(name) {
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".map", ".json":
		return "application/json"
	case ".svg":
		return "image/svg+xml"
	case ".woff2":
		return "font/woff2"
	case ".png":
		return "image/png"
	default:
		return "application/octet-stream"
	}
}
