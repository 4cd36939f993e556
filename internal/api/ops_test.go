package api_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// brokenConn is a ResponseWriter whose connection breaks after limit bytes of body, as when the
// client goes away during a download.
type brokenConn struct {
	*httptest.ResponseRecorder
	limit, written int
	statusLines    int
}

func (b *brokenConn) WriteHeader(code int) {
	b.statusLines++
	b.ResponseRecorder.WriteHeader(code)
}

func (b *brokenConn) Write(p []byte) (int, error) {
	if b.statusLines == 0 {
		b.WriteHeader(http.StatusOK)
	}
	if b.written+len(p) > b.limit {
		n := b.limit - b.written
		b.written += n
		b.ResponseRecorder.Write(p[:n])
		return n, errors.New("write: broken pipe")
	}
	b.written += len(p)
	return b.ResponseRecorder.Write(p)
}

// serveBroken serves req through the API into a brokenConn and reports whether the handler cut
// the response short (http.ErrAbortHandler).
func serveBroken(t *testing.T, h http.Handler, req *http.Request, limit int) (w *brokenConn, aborted bool) {
	t.Helper()
	w = &brokenConn{ResponseRecorder: httptest.NewRecorder(), limit: limit}
	func() {
		defer func() {
			if v := recover(); v != nil {
				if v != http.ErrAbortHandler {
					panic(v)
				}
				aborted = true
			}
		}()
		h.ServeHTTP(w, req)
	}()
	return w, aborted
}

// A CSV export whose connection breaks mid-stream gets no second status line and no JSON error
// appended to the CSV: the failure is logged and the response is cut short.
func TestErrorAfterResponseStartedIsNotWritten(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	req := httptest.NewRequest("POST", "/api/v1/embed/dashboards/sales/widgets/top_customers/export", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	w, aborted := serveBroken(t, e.srv.Config.Handler, req, 100)
	if w.statusLines != 1 {
		t.Errorf("%d status lines written, want 1 (codes end with %d)", w.statusLines, w.Code)
	}
	if w.Code != http.StatusOK {
		t.Errorf("status %d, want the 200 already sent", w.Code)
	}
	if body := w.Body.Bytes(); bytes.Contains(body, []byte(`"error"`)) || len(body) > 100 {
		t.Errorf("an error was appended to the CSV: %q", body)
	}
	if !aborted {
		t.Error("the response was not cut short: the client cannot tell the CSV is incomplete")
	}

	// JWKS the same way.
	w, _ = serveBroken(t, e.srv.Config.Handler, httptest.NewRequest("GET", "/oidc/v1/keys", nil), 10)
	if w.statusLines != 1 || bytes.Contains(w.Body.Bytes(), []byte("internal")) {
		t.Errorf("JWKS: %d status lines, body %q", w.statusLines, w.Body.Bytes())
	}
}

func TestLiveAndReady(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, path := range []string{"/livez", "/readyz", "/healthz"} {
		r := e.do("GET", path, nil, nil)
		if r.status != http.StatusOK || r.json(t)["status"] != "ok" {
			t.Errorf("%s: %d %s", path, r.status, r.body)
		}
	}
}
