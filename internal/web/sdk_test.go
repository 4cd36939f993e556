package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// The SDK is served file by file: a folder is never listed, and a name that is not a valid path
// (not UTF-8, say) is a 404, not a 500.
func TestSDKHandlerServesFilesOnly(t *testing.T) {
	files := fstest.MapFS{
		"inlay-embed.js":      {Data: []byte("export const embed = 1")},
		"inlay-embed.d.ts":    {Data: []byte("export declare const embed: number")},
		"chunks/extra.js":     {Data: []byte("export const extra = 2")},
		".vite/manifest.json": {Data: []byte("{}")},
	}
	h := http.StripPrefix("/sdk/", sdkHandler(files))
	tests := []struct {
		name, target string
		wantStatus   int
		wantBody     string
	}{
		{"bundle", "/sdk/inlay-embed.js", 200, "export const embed = 1"},
		{"nested file", "/sdk/chunks/extra.js", 200, "export const extra = 2"},
		{"folder listing", "/sdk/", 404, ""},
		{"sub-folder listing", "/sdk/chunks/", 404, ""},
		{"sub-folder without slash", "/sdk/chunks", 404, ""},
		{"not UTF-8", "/sdk/%ff", 404, ""},
		{"not UTF-8 in a folder", "/sdk/chunks/%ff%fe.js", 404, ""},
		{"dot folder", "/sdk/.vite/manifest.json", 404, ""},
		{"missing", "/sdk/nope.js", 404, ""},
		{"traversal", "/sdk/../web.go", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tt.target, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %q", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if tt.wantStatus == 200 && rec.Body.String() != tt.wantBody {
				t.Fatalf("body %q, want %q", rec.Body.String(), tt.wantBody)
			}
			if tt.wantStatus != 200 && strings.Contains(rec.Body.String(), "inlay-embed") {
				t.Fatalf("a refused request lists files: %q", rec.Body.String())
			}
		})
	}
}

// The viewer's assets refuse the same names.
func TestAssetsHandlerRefusesBadNames(t *testing.T) {
	a := builtAssets(t)
	for _, target := range []string{"/embed/assets/", "/embed/assets/%ff", "/embed/assets/chunks/", "/embed/assets/chunks/%ff.js"} {
		rec := httptest.NewRecorder()
		a.handler().ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", target, rec.Code)
		}
	}
}
