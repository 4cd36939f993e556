package hostapp

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
)

func newTestApp(t *testing.T) (*httptest.Server, *http.Client) {
	t.Helper()
	app, err := New(Config{InlayURL: "http://127.0.0.1:1", ClientID: "id", ClientSecret: "secret", DashboardID: "sales"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app.Handler())
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return srv, &http.Client{Jar: jar}
}

func do(t *testing.T, c *http.Client, method, url, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no url", Config{ClientID: "a", ClientSecret: "b", DashboardID: "d"}, "InlayURL"},
		{"relative url", Config{InlayURL: "/x", ClientID: "a", ClientSecret: "b", DashboardID: "d"}, "InlayURL"},
		{"no secret", Config{InlayURL: "http://x", ClientID: "a", DashboardID: "d"}, "ClientSecret"},
		{"no dashboard", Config{InlayURL: "http://x", ClientID: "a", ClientSecret: "b"}, "DashboardID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New() error = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestLoggedOutRequestsAreRefused(t *testing.T) {
	srv, c := newTestApp(t)
	for _, path := range []string{"/api/auth/me", "/api/dashboard/embed-config"} {
		resp, body := do(t, c, http.MethodGet, srv.URL+path, "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s logged out: status %d, want 401", path, resp.StatusCode)
		}
		if !strings.Contains(body, `"unauthenticated"`) {
			t.Errorf("GET %s: body %s lacks the error code", path, body)
		}
	}
	// A made-up session cookie is no better.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/auth/me", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: "forged"})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("forged session: status %d, want 401", resp.StatusCode)
	}
}

func TestLoginPageWhenLoggedOut(t *testing.T) {
	srv, c := newTestApp(t)
	resp, body := do(t, c, http.MethodGet, srv.URL+"/", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET / status %d", resp.StatusCode)
	}
	for _, want := range []string{"Acme Analytics", `data-username="alice"`, `data-username="bob"`, "Alice Johnson", "Engineering"} {
		if !strings.Contains(body, want) {
			t.Errorf("login page lacks %q", want)
		}
	}
	if strings.Contains(body, "inlay-embed.js") {
		t.Error("login page loads the SDK")
	}
}

func TestLoginSessionLogout(t *testing.T) {
	tests := []struct {
		username, name, email, dept string
	}{
		{"alice", "Alice Johnson", "alice@example.com", "Sales"},
		{"Bob", "Bob Smith", "bob@example.com", "Engineering"},
	}
	for _, tt := range tests {
		t.Run(tt.username, func(t *testing.T) {
			srv, c := newTestApp(t)
			resp, _ := do(t, c, http.MethodPost, srv.URL+"/api/auth/login", `{"username":"`+tt.username+`"}`)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("login status %d", resp.StatusCode)
			}
			var cookie *http.Cookie
			for _, ck := range resp.Cookies() {
				if ck.Name == sessionCookie {
					cookie = ck
				}
			}
			if cookie == nil {
				t.Fatal("login set no session cookie")
			}
			if !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/" {
				t.Errorf("cookie flags: HttpOnly=%v SameSite=%v Path=%q, want HttpOnly, Lax, /", cookie.HttpOnly, cookie.SameSite, cookie.Path)
			}
			if len(cookie.Value) < 40 {
				t.Errorf("session id %q looks too short to be unguessable", cookie.Value)
			}

			resp, body := do(t, c, http.MethodGet, srv.URL+"/api/auth/me", "")
			var me struct{ User User }
			if err := json.Unmarshal([]byte(body), &me); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("me: status %d body %s err %v", resp.StatusCode, body, err)
			}
			if me.User.Name != tt.name || me.User.Email != tt.email || me.User.Department != tt.dept {
				t.Errorf("me = %+v, want %s <%s> in %s", me.User, tt.name, tt.email, tt.dept)
			}

			_, page := do(t, c, http.MethodGet, srv.URL+"/", "")
			for _, want := range []string{tt.name, tt.dept, `"http://127.0.0.1:1"`, "/sdk/inlay-embed.js", `id="event-log"`, `id="logout"`} {
				if !strings.Contains(page, want) {
					t.Errorf("dashboard page lacks %q", want)
				}
			}

			resp, _ = do(t, c, http.MethodPost, srv.URL+"/api/auth/logout", "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("logout status %d", resp.StatusCode)
			}
			resp, _ = do(t, c, http.MethodGet, srv.URL+"/api/auth/me", "")
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("me after logout: status %d, want 401", resp.StatusCode)
			}
			// The old session id is dead on the server too, not only forgotten by the browser.
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/api/auth/me", nil)
			req.AddCookie(cookie)
			r2, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			r2.Body.Close()
			if r2.StatusCode != http.StatusUnauthorized {
				t.Errorf("old session id after logout: status %d, want 401", r2.StatusCode)
			}
		})
	}
}

func TestLoginRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, body string
		want       int
	}{
		{"unknown user", `{"username":"mallory"}`, http.StatusUnauthorized},
		{"not json", `username=alice`, http.StatusBadRequest},
		{"unknown field", `{"username":"alice","admin":true}`, http.StatusBadRequest},
		{"empty", ``, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c := newTestApp(t)
			resp, _ := do(t, c, http.MethodPost, srv.URL+"/api/auth/login", tt.body)
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if len(resp.Cookies()) != 0 {
				t.Error("a failed login set a cookie")
			}
		})
	}
}

func TestEmbedConfigWhenInlayIsDown(t *testing.T) {
	srv, c := newTestApp(t) // InlayURL points at a closed port
	do(t, c, http.MethodPost, srv.URL+"/api/auth/login", `{"username":"alice"}`)
	resp, body := do(t, c, http.MethodGet, srv.URL+"/api/dashboard/embed-config", "")
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "token_mint_failed") {
		t.Fatalf("status %d body %s, want 502 token_mint_failed", resp.StatusCode, body)
	}
	if strings.Contains(body, "secret") {
		t.Error("error body mentions the client secret")
	}
}

// TestLookerPageSaysItNeedsHTTPS: without HTTPS (no Looker mode) /looker tells the user how to
// turn it on instead of a bare 404.
func TestLookerPageSaysItNeedsHTTPS(t *testing.T) {
	srv, c := newTestApp(t)
	resp, body := do(t, c, http.MethodGet, srv.URL+"/looker", "")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "DEMO_FLAGS=--https") {
		t.Fatalf("GET /looker: %d %q", resp.StatusCode, body)
	}
}
