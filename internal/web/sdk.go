package web

import (
	"bytes"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
	"unicode/utf8"
)

// SDKHandler serves the browser bundle of @inlay/embed (built into dist/sdk by sdk/embed), so a
// host page can load it from Inlay as an ES module, like from a CDN. Mount it with
// http.StripPrefix; it answers 404 with the build command when the SDK is not built.
func SDKHandler() http.Handler {
	sub, err := fs.Sub(dist, "dist/sdk")
	if err != nil {
		panic(err) // fs.Sub fails only on an invalid path literal
	}
	return sdkHandler(sub)
}

// sdkHandler serves the regular files of files by name, and nothing else: no folder listings,
// no dot files, and 404 (never 500) for a name that is not a valid path, such as one that is not
// UTF-8.
func sdkHandler(files fs.FS) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := fs.Stat(files, "inlay-embed.js"); err != nil {
			http.Error(w, "the SDK is not built: run npm --prefix sdk/embed ci && npm --prefix sdk/embed run build", http.StatusNotFound)
			return
		}
		name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if !servableName(name) {
			http.NotFound(w, r)
			return
		}
		if st, err := fs.Stat(files, name); err != nil || !st.Mode().IsRegular() {
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
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	})
}

// servableName accepts a cleaned, slash-separated file name that is valid UTF-8, a valid fs
// path, and names no dot file or folder.
func servableName(name string) bool {
	if name == "" || name == "." || !utf8.ValidString(name) || !fs.ValidPath(name) {
		return false
	}
	return !strings.HasPrefix(name, ".") && !strings.Contains(name, "/.")
}
