package web

import (
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

func builtAssets(t *testing.T) *assets {
	t.Helper()
	a := newAssets(fstest.MapFS{
		"viewer.js":  {Data: []byte("console.log('viewer')")},
		"viewer.css": {Data: []byte("body{margin:0}")},
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
			if !strings.Contains(body, `src="/embed/assets/viewer.js?v=`) || !strings.Contains(body, `href="/embed/assets/viewer.css?v=`) {
				t.Fatalf("page does not link the assets:\n%s", body)
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
	a.handler().ServeHTTP(res, httptest.NewRequest("GET", "/embed/assets/viewer.js", nil))
	if res.Code != http.StatusNotFound {
		t.Fatalf("assets of an unbuilt viewer: status %d, want 404", res.Code)
	}
}

func TestAssetsHandler(t *testing.T) {
	a := builtAssets(t)
	tests := []struct {
		name, target string
		wantStatus   int
		wantType     string
		wantBody     string
		wantCache    string
	}{
		{"js with current version", "/embed/assets/viewer.js?v=" + a.version, 200, "text/javascript; charset=utf-8", "console.log('viewer')", "public, max-age=31536000, immutable"},
		{"css without version", "/embed/assets/viewer.css", 200, "text/css; charset=utf-8", "body{margin:0}", "no-cache"},
		{"stale version", "/embed/assets/viewer.js?v=000000000000", 200, "text/javascript; charset=utf-8", "console.log('viewer')", "no-cache"},
		{"prefix already stripped", "/viewer.js", 200, "text/javascript; charset=utf-8", "console.log('viewer')", "no-cache"},
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
	a.handler().ServeHTTP(first, httptest.NewRequest("GET", "/embed/assets/viewer.js", nil))
	req := httptest.NewRequest("GET", "/embed/assets/viewer.js", nil)
	req.Header.Set("If-None-Match", first.Header().Get("ETag"))
	again := httptest.NewRecorder()
	a.handler().ServeHTTP(again, req)
	if again.Code != http.StatusNotModified {
		t.Fatalf("revalidation status %d, want 304", again.Code)
	}
}

func TestAssetsGzip(t *testing.T) {
	a := builtAssets(t)
	req := httptest.NewRequest("GET", "/embed/assets/viewer.js", nil)
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
	a.handler().ServeHTTP(plain, httptest.NewRequest("GET", "/embed/assets/viewer.js", nil))
	if plain.Header().Get("Content-Encoding") != "" || plain.Body.String() != "console.log('viewer')" {
		t.Fatalf("client without gzip got encoding %q body %q", plain.Header().Get("Content-Encoding"), plain.Body.String())
	}
	if plain.Header().Get("ETag") == rec.Header().Get("ETag") {
		t.Fatal("gzip and identity responses share an ETag")
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
	for _, name := range []string{"viewer.js", "viewer.css"} {
		res := httptest.NewRecorder()
		AssetsHandler().ServeHTTP(res, httptest.NewRequest("GET", AssetsPath+name, nil))
		if res.Code != 200 || res.Body.Len() == 0 {
			t.Fatalf("%s: status %d, %d bytes", name, res.Code, res.Body.Len())
		}
	}
}
