package web

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
)

// testManifest is the shape of the manifest Vite writes for web/viewer.
const testManifest = `{
  "src/charts.ts": {"file": "chunks/charts-C4.js", "isDynamicEntry": true, "imports": ["src/main.ts"]},
  "src/main.ts": {"file": "viewer-M1.js", "isEntry": true, "dynamicImports": ["src/charts.ts"], "css": ["viewer-S2.css"]}
}`

func builtAssets(t *testing.T) *assets {
	t.Helper()
	a := newAssets(fstest.MapFS{
		".vite/manifest.json": {Data: []byte(testManifest)},
		"viewer-M1.js":        {Data: []byte("console.log('viewer')")},
		"viewer-S2.css":       {Data: []byte("body{margin:0}")},
		"chunks/charts-C4.js": {Data: []byte("export const charts = 1")},
	})
	if a.files == nil {
		t.Fatal("test assets not recognised as a built viewer")
	}
	return a
}

var configRE = regexp.MustCompile(`(?s)<script id="inlay-config" type="application/json">(.*?)</script>`)

func TestPageConfigCannotEscapeScript(t *testing.T) {
	tests := []struct {
		name string
		cfg  PageConfig
	}{
		{"plain", PageConfig{DashboardID: "sales", APIBase: "http://127.0.0.1:8470", EmbedDomain: "http://127.0.0.1:8471", Theme: "dark"}},
		{"script end in id", PageConfig{DashboardID: `</script><script>alert(1)</script>`, EmbedDomain: "http://a"}},
		{"script end in domain", PageConfig{DashboardID: "x", EmbedDomain: `http://a</SCRIPT><img src=x onerror=alert(1)>`}},
		{"html comment and quotes", PageConfig{DashboardID: `<!--"'&`, Theme: "\u2028light\u2029"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			if err := builtAssets(t).writePage(rec, tt.cfg); err != nil {
				t.Fatal(err)
			}
			body := rec.Body.String()
			if n := strings.Count(strings.ToLower(body), "</script"); n != 2 { // the module script and the config
				t.Fatalf("page has %d </script tags, want 2:\n%s", n, body)
			}
			if strings.Contains(body, "<img") || strings.Contains(body, "<!--") {
				t.Fatalf("config value leaked into markup:\n%s", body)
			}
			m := configRE.FindStringSubmatch(body)
			if m == nil {
				t.Fatalf("no config script in page:\n%s", body)
			}
			var got viewerConfig
			if err := json.Unmarshal([]byte(m[1]), &got); err != nil {
				t.Fatalf("config is not JSON: %v\n%s", err, m[1])
			}
			want := viewerConfig{DashboardID: tt.cfg.DashboardID, APIBase: tt.cfg.APIBase, EmbedDomain: tt.cfg.EmbedDomain, Theme: tt.cfg.Theme}
			if got != want {
				t.Fatalf("config round trip: got %+v, want %+v", got, want)
			}
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d", rec.Code)
			}
			if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("content type %q", ct)
			}
			for _, link := range []string{
				`<script type="module" src="/embed/assets/viewer-M1.js">`,
				`<link rel="stylesheet" href="/embed/assets/viewer-S2.css">`,
				`<link rel="modulepreload" href="/embed/assets/chunks/charts-C4.js">`,
			} {
				if !strings.Contains(body, link) {
					t.Fatalf("page lacks %s:\n%s", link, body)
				}
			}
		})
	}
}

func TestErrorPage(t *testing.T) {
	rec := httptest.NewRecorder()
	err := builtAssets(t).writePage(rec, PageConfig{
		DashboardID: "sales", EmbedDomain: "http://evil.example",
		Error:  `embed_domain "http://evil.example" <b>is not allowed</b>`,
		Status: http.StatusForbidden,
	})
	if err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status %d, want 403", rec.Code)
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "inlay-config") {
		t.Fatalf("error page loads the viewer:\n%s", body)
	}
	if !strings.Contains(body, "&lt;b&gt;is not allowed&lt;/b&gt;") {
		t.Fatalf("error text not shown escaped:\n%s", body)
	}
}

func TestNotBuiltPage(t *testing.T) {
	a := newAssets(fstest.MapFS{"other.txt": {Data: []byte("x")}})
	rec := httptest.NewRecorder()
	if err := a.writePage(rec, PageConfig{DashboardID: "sales"}); err != nil {
		t.Fatal(err)
	}
	body := rec.Body.String()
	if !strings.Contains(body, "npm --prefix web/viewer ci &amp;&amp; npm --prefix web/viewer run build") {
		t.Fatalf("not-built page does not say how to build:\n%s", body)
	}
	if strings.Contains(body, "<script") {
		t.Fatalf("not-built page links a script:\n%s", body)
	}

	res := httptest.NewRecorder()
	a.handler().ServeHTTP(res, httptest.NewRequest("GET", "/embed/assets/viewer-M1.js", nil))
	if res.Code != http.StatusNotFound {
		t.Fatalf("assets of an unbuilt viewer: status %d, want 404", res.Code)
	}
}

const immutable = "public, max-age=31536000, immutable"

func TestAssetsHandler(t *testing.T) {
	a := builtAssets(t)
	tests := []struct {
		name, target string
		wantStatus   int
		wantType     string
		wantBody     string
		wantCache    string
	}{
		{"entry script", "/embed/assets/viewer-M1.js", 200, "text/javascript; charset=utf-8", "console.log('viewer')", immutable},
		{"stylesheet", "/embed/assets/viewer-S2.css", 200, "text/css; charset=utf-8", "body{margin:0}", immutable},
		{"chunk", "/embed/assets/chunks/charts-C4.js", 200, "text/javascript; charset=utf-8", "export const charts = 1", immutable},
		{"prefix already stripped", "/viewer-M1.js", 200, "text/javascript; charset=utf-8", "console.log('viewer')", immutable},
		{"the manifest is not served", "/embed/assets/.vite/manifest.json", 404, "", "", ""},
		{"missing file", "/embed/assets/nope.js", 404, "", "", ""},
		{"traversal", "/embed/assets/../../web.go", 404, "", "", ""},
		{"directory", "/embed/assets/", 404, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			a.handler().ServeHTTP(rec, httptest.NewRequest("GET", tt.target, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if tt.wantStatus != 200 {
				return
			}
			if got := rec.Header().Get("Content-Type"); got != tt.wantType {
				t.Errorf("content type %q, want %q", got, tt.wantType)
			}
			if got := rec.Header().Get("Cache-Control"); got != tt.wantCache {
				t.Errorf("cache control %q, want %q", got, tt.wantCache)
			}
			if got := rec.Body.String(); got != tt.wantBody {
				t.Errorf("body %q, want %q", got, tt.wantBody)
			}
		})
	}

	// A revalidation with the ETag answers 304 without the body.
	first := httptest.NewRecorder()
	a.handler().ServeHTTP(first, httptest.NewRequest("GET", "/embed/assets/viewer-M1.js", nil))
	req := httptest.NewRequest("GET", "/embed/assets/viewer-M1.js", nil)
	req.Header.Set("If-None-Match", first.Header().Get("ETag"))
	again := httptest.NewRecorder()
	a.handler().ServeHTTP(again, req)
	if again.Code != http.StatusNotModified {
		t.Fatalf("revalidation status %d, want 304", again.Code)
	}
}

func TestAssetsGzip(t *testing.T) {
	a := builtAssets(t)
	req := httptest.NewRequest("GET", "/embed/assets/viewer-M1.js", nil)
	req.Header.Set("Accept-Encoding", "br, gzip")
	rec := httptest.NewRecorder()
	a.handler().ServeHTTP(rec, req)
	if rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("Content-Encoding %q, want gzip", rec.Header().Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(rec.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "console.log('viewer')" {
		t.Fatalf("decompressed body %q", b)
	}

	plain := httptest.NewRecorder()
	a.handler().ServeHTTP(plain, httptest.NewRequest("GET", "/embed/assets/viewer-M1.js", nil))
	if plain.Header().Get("Content-Encoding") != "" || plain.Body.String() != "console.log('viewer')" {
		t.Fatalf("client without gzip got encoding %q body %q", plain.Header().Get("Content-Encoding"), plain.Body.String())
	}
	if plain.Header().Get("ETag") == rec.Header().Get("ETag") {
		t.Fatal("gzip and identity responses share an ETag")
	}
}

// A .gz the build wrote next to a file is served as it is, not compressed again.
func TestAssetsPrecompressed(t *testing.T) {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write([]byte("console.log('compressed by the build')"))
	zw.Close()
	a := newAssets(fstest.MapFS{
		".vite/manifest.json": {Data: []byte(testManifest)},
		"viewer-M1.js":        {Data: []byte("console.log('viewer')")},
		"viewer-M1.js.gz":     {Data: z.Bytes()},
	})
	req := httptest.NewRequest("GET", "/embed/assets/viewer-M1.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	rec := httptest.NewRecorder()
	a.handler().ServeHTTP(rec, req)
	if !bytes.Equal(rec.Body.Bytes(), z.Bytes()) || rec.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("got encoding %q and %d bytes, want the build's .gz (%d bytes)", rec.Header().Get("Content-Encoding"), rec.Body.Len(), z.Len())
	}
}

// TestEmbeddedBuild checks the embedded viewer when `npm run build` has run; without a build the
// exported functions must serve the how-to-build page.
func TestEmbeddedBuild(t *testing.T) {
	rec := httptest.NewRecorder()
	if err := WritePage(rec, PageConfig{DashboardID: "sales"}); err != nil {
		t.Fatal(err)
	}
	_, built := Viewer()
	if !built {
		if !strings.Contains(rec.Body.String(), "not built") {
			t.Fatalf("unbuilt binary page:\n%s", rec.Body.String())
		}
		t.Skip("viewer not built; run " + BuildCommand)
	}
	a := embedded()
	names := append(append([]string{a.entry}, a.css...), a.preload...)
	if len(a.css) == 0 || len(a.preload) == 0 {
		t.Fatalf("the build's manifest names no stylesheet or no chunk to preload: %v", names)
	}
	for _, name := range names {
		res := httptest.NewRecorder()
		AssetsHandler().ServeHTTP(res, httptest.NewRequest("GET", AssetsPath+name, nil))
		if res.Code != 200 || res.Body.Len() == 0 {
			t.Fatalf("%s: status %d, %d bytes", name, res.Code, res.Body.Len())
		}
		// The compressed form is the same file (a build step that compressed too early would
		// serve browsers something else than the file).
		req := httptest.NewRequest("GET", AssetsPath+name, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		zres := httptest.NewRecorder()
		AssetsHandler().ServeHTTP(zres, req)
		zr, err := gzip.NewReader(zres.Body)
		if err != nil {
			t.Fatalf("%s: gzip answer: %v", name, err)
		}
		unzipped, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(unzipped, res.Body.Bytes()) {
			t.Fatalf("%s: the gzip answer is not the file (err %v)", name, err)
		}
	}
}
