package preview

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/inlay/inlay/internal/check"
	"github.com/inlay/inlay/internal/rls"
)

func newPreview() *Preview {
	return New(Options{
		Dashboards: func() []Dashboard { return []Dashboard{{ID: "sales", Title: "Sales"}} },
		Mint: func(_ context.Context, id string, v rls.Viewer) (string, int64, error) {
			if id != "sales" {
				return "", 0, UnknownDashboard(id)
			}
			return "token-for-" + *v.ExternalValue, 60, nil
		},
	})
}

// TestLoopbackOnly: the preview answers loopback peers addressed by a loopback name, nobody else.
func TestLoopbackOnly(t *testing.T) {
	h := newPreview().Handler()
	for _, tt := range []struct {
		remote, host string
		want         int
	}{
		{"127.0.0.1:5000", "127.0.0.1:8470", 200},
		{"[::1]:5000", "localhost:8470", 200},
		{"192.0.2.7:5000", "127.0.0.1:8470", 403},
		{"127.0.0.1:5000", "rebound.example.com:8470", 403},
	} {
		req := httptest.NewRequest("GET", "/dev/api/status", nil)
		req.RemoteAddr, req.Host = tt.remote, tt.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("from %s to %s: %d, want %d", tt.remote, tt.host, rec.Code, tt.want)
		}
	}
}

// TestTokenRoute: JSON from the page's own origin gets a token; another origin, another content
// type or an unknown dashboard does not.
func TestTokenRoute(t *testing.T) {
	h := newPreview().Handler()
	post := func(body, ctype, origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/dev/api/token", strings.NewReader(body))
		req.RemoteAddr, req.Host = "127.0.0.1:5000", "127.0.0.1:8470"
		req.Header.Set("Content-Type", ctype)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := post(`{"dashboard_id":"sales","external_value":"acme"}`, "application/json", "http://127.0.0.1:8470"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "token-for-acme") {
		t.Errorf("same origin: %d %s", rec.Code, rec.Body)
	}
	if rec := post(`{"dashboard_id":"sales","external_value":"acme"}`, "application/json", "https://evil.example.com"); rec.Code != 403 {
		t.Errorf("other origin: %d", rec.Code)
	}
	if rec := post(`{"dashboard_id":"sales"}`, "text/plain", ""); rec.Code != 415 {
		t.Errorf("text/plain: %d", rec.Code)
	}
	if rec := post(`{"dashboard_id":"nope","external_value":"x"}`, "application/json", ""); rec.Code != 404 {
		t.Errorf("unknown dashboard: %d", rec.Code)
	}
}

// TestEventsFollowChecks: the event stream sends the status at once and again after a check.
func TestEventsFollowChecks(t *testing.T) {
	pv := newPreview()
	srv := httptest.NewServer(pv.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/dev/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	next := func() string {
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				return data
			}
		}
		t.Fatal("stream ended")
		return ""
	}
	if first := next(); !strings.Contains(first, `"version":0`) || !strings.Contains(first, `"problems":[]`) {
		t.Fatalf("first event %s", first)
	}
	pv.Publish([]check.Problem{{File: "dashboards/d.yaml", Line: 3, Column: 5, Code: "unknown_column", Message: "no column"}})
	if ev := next(); !strings.Contains(ev, `"version":1`) || !strings.Contains(ev, `"line":3`) {
		t.Fatalf("event after a check %s", ev)
	}
}
