package web

import (
	"io/fs"
	"net/http"
)

// SDKHandler serves the browser bundle of @inlay/embed (built into dist/sdk by sdk/embed), so a
// host page can load it from Inlay as an ES module, like from a CDN. Mount it with
// http.StripPrefix; it answers 404 with the build command when the SDK is not built.
func SDKHandler() http.Handler {
	sub, err := fs.Sub(dist, "dist/sdk")
	if err != nil {
		panic(err) // fs.Sub fails only on an invalid path literal
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := fs.Stat(sub, "inlay-embed.js"); err != nil {
			http.Error(w, "the SDK is not built: run npm --prefix sdk/embed ci && npm --prefix sdk/embed run build", http.StatusNotFound)
			return
		}
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
