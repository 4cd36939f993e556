package api_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/api"
)

// clock is a settable clock for expiry tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// lookerEnv is a running Inlay over HTTPS with an embed secret.
type lookerEnv struct {
	*testEnv
	host   string
	secret string
	client *http.Client // does not follow redirects
	now    func() time.Time
}

const (
	browserUA = "Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/131.0 Safari/537.36"
	otherUA   = "Mozilla/5.0 (Macintosh) Safari/605.1.15"
)

func newLookerEnv(t *testing.T, o envOptions) *lookerEnv { return newLookerEnvTB(t, o) }

func newLookerEnvTB(t testing.TB, o envOptions) *lookerEnv {
	t.Helper()
	o.tls = true
	e := newEnv(t, o)
	l := &lookerEnv{testEnv: e, host: strings.TrimPrefix(e.srv.URL, "https://"), now: time.Now}
	if o.now != nil {
		l.now = o.now
	}
	c := *e.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	l.client = &c
	l.secret = l.createSecret()
	return l
}

func (l *lookerEnv) createSecret() string {
	l.t.Helper()
	r := l.do("POST", "/api/v1/admin/embed_secrets", map[string]string{"Authorization": "Bearer " + l.adminKey}, nil)
	if r.status != http.StatusCreated {
		l.t.Fatalf("create embed secret: %d %s", r.status, r.body)
	}
	return r.json(l.t)["secret"].(string)
}

// get sends a request without following redirects.
func (l *lookerEnv) send(method, path string, header map[string]string, body string) response {
	l.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, l.srv.URL+path, rd)
	if err != nil {
		l.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := l.client.Do(req)
	if err != nil {
		l.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func nonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (l *lookerEnv) sign(u signUser, target string) signedURL {
	return signedURL{host: l.host, target: target, secret: l.secret, nonce: nonce(), time: l.now().Unix(), user: u}
}

// sessionCookie returns the embed session cookie a response sets.
func sessionCookie(t testing.TB, r response) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "inlay_looker_session" {
			return c
		}
	}
	t.Fatalf("no session cookie (%d): %s", r.status, r.body)
	return nil
}

func (l *lookerEnv) records(kind string) int {
	l.t.Helper()
	rs, err := l.store.ListRecords(l.t.Context(), kind, "")
	if err != nil {
		l.t.Fatal(err)
	}
	return len(rs)
}

func (l *lookerEnv) stateCounts() map[string]int {
	out := map[string]int{}
	for _, k := range []string{"looker.session", "looker.user", "looker.nonce", "looker.auth_token"} {
		out[k] = l.records(k)
	}
	return out
}

var bootstrapRE = regexp.MustCompile(`<script type="application/json" id="inlay-bootstrap">(.*?)</script>`)

func bootstrap(t testing.TB, r response) map[string]any {
	t.Helper()
	m := bootstrapRE.FindSubmatch(r.body)
	if m == nil {
		t.Fatalf("no inlay-bootstrap element (%d): %s", r.status, r.body)
	}
	var out map[string]any
	if err := json.Unmarshal(m[1], &out); err != nil {
		t.Fatalf("bootstrap is not JSON: %s", m[1])
	}
	return out
}

func looker(code string, r response, t testing.TB) string {
	t.Helper()
	m := r.json(t)
	if c, ok := m["code"].(string); ok {
		return c
	}
	return r.errorCode(t)
}

func strp(s string) *string { return &s }
func boolp(b bool) *bool    { return &b }

// alice and bob differ in their access filters (operations) and external value (sales).
func alice() signUser {
	return signUser{ExternalUserID: "alice", FirstName: strp("Alice"), Permissions: []string{"access_data", "see_lookml_dashboards"},
		Models: []string{"sales", "operations"}, UserAttributes: obj{{"external_value", "Sales"}, {"team", "Société générale ✓"}},
		AccessFilters: obj{{"operations", obj{{"department", "Sales"}, {"regions", []any{"East", "West"}}}}}, SessionLength: 3600}
}

func bob() signUser {
	return signUser{ExternalUserID: "bob", Permissions: []string{"access_data", "see_user_dashboards", "download_with_limit"},
		Models: []string{"sales", "operations"}, UserAttributes: obj{{"external_value", "Engineering"}},
		AccessFilters: obj{{"operations", obj{{"department", "Engineering"}, {"regions", []any{"North"}}}}}, SessionLength: 600}
}

const salesTarget = "/embed/dashboards/sales?embed_domain=" + hostOrigin + "&sdk=3"

func (l *lookerEnv) login(u signUser, target string, python bool) *http.Cookie {
	l.t.Helper()
	s := l.sign(u, target)
	p := s.tsURL()
	if python {
		p = s.pyURL()
	}
	r := l.send("GET", p, nil, "")
	if r.status != http.StatusFound {
		l.t.Fatalf("signed login: %d %s", r.status, r.body)
	}
	return sessionCookie(l.t, r)
}

func cookieHeader(c *http.Cookie) map[string]string {
	return map[string]string{"Cookie": c.Name + "=" + c.Value, "Content-Type": "application/json"}
}

func TestLookerSignedURLsFromBothHelpersSignIn(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	for _, python := range []bool{false, true} {
		name := map[bool]string{false: "typescript", true: "python"}[python]
		t.Run(name, func(t *testing.T) {
			u := alice()
			u.ExternalUserID = "alice-" + name
			if !python {
				u.GroupIDs = []any{"7", 8} // only present when given
			}
			s := l.sign(u, salesTarget+"&Region=West")
			p := s.tsURL()
			if python {
				p = s.pyURL()
				if !strings.Contains(p, "%5Cu2713") || !strings.Contains(p, "%2C+") {
					t.Fatalf("the python signer does not write json.dumps style: %s", p)
				}
			}
			r := l.send("GET", p, nil, "")
			if r.status != http.StatusFound {
				t.Fatalf("login: %d %s", r.status, r.body)
			}
			if loc := r.header.Get("Location"); loc != salesTarget+"&Region=West" {
				t.Fatalf("Location = %q", loc)
			}
			c := sessionCookie(t, r)
			raw := r.header.Get("Set-Cookie")
			for _, attr := range []string{"HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/", "Max-Age=3600"} {
				if !strings.Contains(raw, attr) {
					t.Errorf("Set-Cookie %q lacks %s", raw, attr)
				}
			}
			page := l.send("GET", salesTarget+"&Region=West&theme=dark", cookieHeader(c), "")
			if page.status != 200 {
				t.Fatalf("viewer page: %d %s", page.status, page.body)
			}
			b := bootstrap(t, page)
			if b["mode"] != "looker" || b["auth"] != "cookie" || b["dashboard_id"] != "sales" || b["events"] != true ||
				b["embed_domain"] != hostOrigin || b["theme"] != "dark" {
				t.Fatalf("bootstrap = %v", b)
			}
			if f := b["filters"].(map[string]any); f["region"] != "West" {
				t.Fatalf("filters from titles = %v", f)
			}
			if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+hostOrigin) {
				t.Fatalf("CSP = %q", csp)
			}
			q := l.send("POST", "/api/v1/embed/dashboards/sales/query", cookieHeader(c), `{"widgets":["revenue"]}`)
			if got, want := widgetValue(t, q, "revenue"), l.scalar("SELECT sum(amount) FROM sales WHERE department = 'Sales'"); got != want {
				t.Fatalf("revenue = %v, want %v", got, want)
			}
		})
	}
	// The user was stored with its definition, non-ASCII intact from both helpers.
	for _, id := range []string{"alice-typescript", "alice-python"} {
		recs, _ := l.store.ListRecords(t.Context(), "looker.user", id)
		if len(recs) != 1 || !strings.Contains(string(recs[0].Value), "Société générale ✓") {
			t.Fatalf("stored user %s: %v", id, recs)
		}
	}
}

func TestLookerAccessFiltersSeparateUsers(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	target := "/embed/dashboards/operations?embed_domain=" + hostOrigin + "&sdk=3"
	ca, cb := l.login(alice(), target, false), l.login(bob(), target, true)
	count := func(c *http.Cookie) float64 {
		return widgetValue(t, l.send("POST", "/api/v1/embed/dashboards/operations/query", cookieHeader(c), `{"widgets":["order_count"]}`), "order_count")
	}
	wantA := l.scalar("SELECT count(*) FROM sales WHERE department = 'Sales' AND region IN ('East','West')")
	wantB := l.scalar("SELECT count(*) FROM sales WHERE department = 'Engineering' AND region IN ('North')")
	if wantA == wantB || wantA == 0 || wantB == 0 {
		t.Fatalf("sample data does not tell the users apart: %v %v", wantA, wantB)
	}
	if got := count(ca); got != wantA {
		t.Fatalf("alice sees %v orders, want %v", got, wantA)
	}
	if got := count(cb); got != wantB {
		t.Fatalf("bob sees %v orders, want %v", got, wantB)
	}
	// The same cookie opens another dashboard the user's models allow (dashboard:load).
	if got, want := widgetValue(t, l.send("POST", "/api/v1/embed/dashboards/sales/query", cookieHeader(cb), `{"widgets":["revenue"]}`), "revenue"),
		l.scalar("SELECT sum(amount) FROM sales WHERE department = 'Engineering'"); got != want {
		t.Fatalf("bob's sales revenue = %v, want %v", got, want)
	}
	// Downloads follow the permissions: bob has download_with_limit, alice nothing.
	exp := func(c *http.Cookie) response {
		return l.send("POST", "/api/v1/embed/dashboards/operations/widgets/latest_orders/export", cookieHeader(c), `{}`)
	}
	if r := exp(cb); r.status != 200 {
		t.Fatalf("bob's export: %d %s", r.status, r.body)
	}
	if r := exp(ca); r.status != http.StatusForbidden {
		t.Fatalf("alice's export: %d %s", r.status, r.body)
	}
	// A user without the access filter the rules need fails closed.
	u := alice()
	u.ExternalUserID, u.AccessFilters = "carol", nil
	cc := l.login(u, target, false)
	r := l.send("POST", "/api/v1/embed/dashboards/operations/query", cookieHeader(cc), `{"widgets":["order_count"]}`)
	res := r.json(t)["results"].(map[string]any)["order_count"].(map[string]any)
	if e, _ := res["error"].(map[string]any); e == nil || e["code"] != "rls_value_missing" {
		t.Fatalf("carol without access filters: %s", r.body)
	}
}

func TestLookerPermissionsAndModelsGateViewing(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	cases := []struct {
		name  string
		edit  func(*signUser)
		code  string
		dash  string
		allow bool
	}{
		{"viewer", func(*signUser) {}, "", "sales", true},
		{"no see permission", func(u *signUser) { u.Permissions = []string{"access_data"} }, "permission_denied", "sales", false},
		{"no access_data", func(u *signUser) { u.Permissions = []string{"see_user_dashboards"} }, "permission_denied", "sales", false},
		{"model not allowed", func(u *signUser) { u.Models = []string{"operations"} }, "model_not_allowed", "sales", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := alice()
			tc.edit(&u)
			target := "/embed/dashboards/" + tc.dash + "?embed_domain=" + hostOrigin + "&sdk=3"
			c := l.login(u, target, false)
			page := l.send("GET", target, cookieHeader(c), "")
			api := l.send("GET", "/api/v1/embed/dashboards/"+tc.dash, cookieHeader(c), "")
			if tc.allow {
				if page.status != 200 || api.status != 200 {
					t.Fatalf("page %d, api %d %s", page.status, api.status, api.body)
				}
				return
			}
			if page.status != http.StatusForbidden || page.header.Get("X-Inlay-Error-Code") != tc.code || bootstrapRE.Match(page.body) {
				t.Fatalf("page: %d %q", page.status, page.header.Get("X-Inlay-Error-Code"))
			}
			if api.status != http.StatusForbidden || api.errorCode(t) != tc.code {
				t.Fatalf("api: %d %s", api.status, api.body)
			}
		})
	}
}

func TestLookerSignedURLRefusals(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	// tamper changes one parameter of a correctly signed URL.
	tamper := func(name, value string) func(t *testing.T) string {
		return func(t *testing.T) string {
			p := l.sign(alice(), salesTarget).tsURL()
			u, _ := url.Parse(p)
			q := u.Query()
			if _, ok := q[name]; !ok {
				t.Fatalf("no %s in %s", name, p)
			}
			q.Set(name, value)
			return u.EscapedPath() + "?" + q.Encode()
		}
	}
	signed := func(edit func(*signUser), target string, shift time.Duration) func(t *testing.T) string {
		return func(t *testing.T) string {
			u := alice()
			edit(&u)
			s := l.sign(u, target)
			s.time = l.now().Add(shift).Unix()
			return s.tsURL()
		}
	}
	same := func(*signUser) {}
	cases := []struct {
		name   string
		url    func(t *testing.T) string
		status int
		code   string
	}{
		{"tampered signature", tamper("signature", "AAAAAAAAAAAAAAAAAAAAAAAAAAA="), 401, "invalid_signature"},
		{"tampered external_user_id", tamper("external_user_id", `"mallory"`), 401, "invalid_signature"},
		{"tampered permissions", tamper("permissions", `["access_data","see_lookml_dashboards","download_without_limit"]`), 401, "invalid_signature"},
		{"tampered models", tamper("models", `["sales","operations","finance"]`), 401, "invalid_signature"},
		{"tampered access_filters", tamper("access_filters", `{}`), 401, "invalid_signature"},
		{"tampered user_attributes", tamper("user_attributes", `{"external_value":"Engineering"}`), 401, "invalid_signature"},
		{"tampered session_length", tamper("session_length", "7200"), 401, "invalid_signature"},
		{"tampered nonce", tamper("nonce", `"other"`), 401, "invalid_signature"},
		{"tampered time", tamper("time", "1"), 401, "invalid_signature"},
		{"tampered target", func(t *testing.T) string {
			p := l.sign(alice(), salesTarget).tsURL()
			return strings.Replace(p, "sales%3F", "operations%3F", 1)
		}, 401, "invalid_signature"},
		{"signed for another host", func(t *testing.T) string {
			s := l.sign(alice(), salesTarget)
			s.host = "looker.example.com"
			return s.tsURL()
		}, 401, "invalid_signature"},
		{"wrong secret", func(t *testing.T) string {
			s := l.sign(alice(), salesTarget)
			s.secret = strings.Repeat("ab", 32)
			return s.tsURL()
		}, 401, "invalid_signature"},
		{"signature missing", func(t *testing.T) string {
			p := l.sign(alice(), salesTarget).tsURL()
			return p[:strings.Index(p, "&signature=")]
		}, 400, "missing_parameter"},
		{"parameter twice", func(t *testing.T) string {
			return l.sign(alice(), salesTarget).tsURL() + "&models=%5B%22x%22%5D"
		}, 400, "duplicate_parameter"},
		{"tampered group_ids", func(t *testing.T) string {
			u := alice()
			u.GroupIDs, u.ExternalGroupID = []any{"1"}, strp("grp")
			p := l.sign(u, salesTarget).tsURL()
			return strings.Replace(p, "group_ids=%5B%221%22%5D", "group_ids=%5B%222%22%5D", 1)
		}, 401, "invalid_signature"},
		{"tampered external_group_id", func(t *testing.T) string {
			u := alice()
			u.ExternalGroupID = strp("grp")
			return strings.Replace(l.sign(u, salesTarget).tsURL(), "%22grp%22", "%22admins%22", 1)
		}, 401, "invalid_signature"},
		{"signed optional parameter removed", func(t *testing.T) string {
			p := l.sign(alice(), salesTarget).tsURL()
			u, _ := url.Parse(p)
			q := u.Query()
			q.Del("user_attributes")
			return u.EscapedPath() + "?" + q.Encode()
		}, 401, "invalid_signature"},
		{"replayed URL", func(t *testing.T) string {
			p := l.sign(alice(), salesTarget).tsURL()
			if r := l.send("GET", p, nil, ""); r.status != http.StatusFound {
				t.Fatalf("first use: %d %s", r.status, r.body)
			}
			return p
		}, 401, "nonce_reused"},
		{"nonce reused in another URL", func(t *testing.T) string {
			s := l.sign(alice(), salesTarget)
			if r := l.send("GET", s.tsURL(), nil, ""); r.status != http.StatusFound {
				t.Fatalf("first use: %d %s", r.status, r.body)
			}
			s.user = bob()
			return s.pyURL()
		}, 401, "nonce_reused"},
		{"stale time", signed(same, salesTarget, -6*time.Minute), 401, "time_out_of_range"},
		{"future time", signed(same, salesTarget, 6*time.Minute), 401, "time_out_of_range"},
		{"oversized session_length", signed(func(u *signUser) { u.SessionLength = 2_592_001 }, salesTarget, 0), 400, "session_length_out_of_range"},
		{"zero session_length", signed(func(u *signUser) { u.SessionLength = 0 }, salesTarget, 0), 400, "session_length_out_of_range"},
		{"unknown permission", signed(func(u *signUser) { u.Permissions = append(u.Permissions, "administer") }, salesTarget, 0), 400, "unknown_permission"},
		{"permissions not a list", func(t *testing.T) string {
			s := l.sign(alice(), salesTarget)
			return signRaw(s, map[string]string{"permissions": `"access_data"`})
		}, 400, "invalid_parameter"},
		{"target outside /embed/", signed(same, "/api/v1/admin/audit", 0), 400, "invalid_target"},
		{"open redirect, absolute", signed(same, "https://evil.example.net/embed/dashboards/sales", 0), 400, "invalid_target"},
		{"open redirect, scheme-relative", signed(same, "//evil.example.net/embed/dashboards/sales", 0), 400, "invalid_target"},
		{"open redirect, backslash", signed(same, "/embed/\\evil.example.net", 0), 400, "invalid_target"},
		{"dot segments", signed(same, "/embed/../api/v1/admin/audit", 0), 400, "invalid_target"},
		{"encoded dot segments", signed(same, "/embed/%2e%2e/api/v1/admin/audit", 0), 400, "invalid_target"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.url(t) // may use a URL once first (replays)
			before := l.stateCounts()
			r := l.send("GET", u, nil, "")
			if r.status != tc.status || r.errorCode(t) != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
			if r.header.Get("Set-Cookie") != "" || r.header.Get("Location") != "" {
				t.Fatalf("a refused login set a cookie or redirected: %v", r.header)
			}
			if after := l.stateCounts(); !equalCounts(before, after) {
				t.Fatalf("a refused login created state: %v -> %v", before, after)
			}
		})
	}
}

// signRaw signs a TypeScript-style URL with some values replaced by raw text (for values the
// typed signer cannot write).
func signRaw(s signedURL, raw map[string]string) string {
	p := s.tsURL()
	u, _ := url.Parse(p)
	q := u.Query()
	for k, v := range raw {
		q.Set(k, v)
	}
	lines := []string{s.host, u.EscapedPath()}
	for _, name := range []string{"nonce", "time", "session_length", "external_user_id", "permissions", "models", "group_ids", "external_group_id", "user_attributes", "access_filters"} {
		if v, ok := q[name]; ok {
			lines = append(lines, v[0])
		}
	}
	q.Set("signature", hmacSHA1(s.secret, strings.Join(lines, "\n")))
	return u.EscapedPath() + "?" + q.Encode()
}

func equalCounts(a, b map[string]int) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

func TestLookerSignedURLIsSingleUseUnderConcurrency(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	p := l.sign(alice(), salesTarget).pyURL()
	const n = 50
	codes := make(chan string, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := l.send("GET", p, nil, "")
			if r.status == http.StatusFound {
				codes <- "ok"
				return
			}
			codes <- r.errorCode(t)
		}()
	}
	wg.Wait()
	close(codes)
	got := map[string]int{}
	for c := range codes {
		got[c]++
	}
	if got["ok"] != 1 || got["nonce_reused"] != n-1 {
		t.Fatalf("outcomes of %d concurrent uses of one URL: %v", n, got)
	}
	if s := l.records("looker.session"); s != 1 {
		t.Fatalf("%d sessions for one URL", s)
	}
}

func TestLookerForceLogoutLoginReplacesTheSession(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	first := l.login(alice(), salesTarget, false)
	api := func(c *http.Cookie) response {
		return l.send("GET", "/api/v1/embed/dashboards/sales", cookieHeader(c), "")
	}
	// Without force_logout_login the first session lives on.
	s := l.sign(alice(), salesTarget)
	r := l.send("GET", s.tsURL(), map[string]string{"Cookie": "inlay_looker_session=" + first.Value}, "")
	second := sessionCookie(t, r)
	if api(first).status != 200 || api(second).status != 200 {
		t.Fatal("both sessions should work without force_logout_login")
	}
	u := alice()
	u.ForceLogoutLogin = boolp(true)
	r = l.send("GET", l.sign(u, salesTarget).pyURL(), map[string]string{"Cookie": "inlay_looker_session=" + second.Value}, "")
	third := sessionCookie(t, r)
	if got := api(second); got.status != 401 || got.errorCode(t) != "session_expired" {
		t.Fatalf("the replaced session: %d %s", got.status, got.body)
	}
	if api(third).status != 200 || api(first).status != 200 {
		t.Fatal("the new session (and an unrelated older one) should work")
	}
}

func TestLookerSessionCookieRefusals(t *testing.T) {
	now := &clock{t: time.Now()}
	l := newLookerEnv(t, envOptions{now: now.Now})
	u := alice()
	u.SessionLength = 60
	c := l.login(u, salesTarget, false)
	// Another site's page cannot use the cookie.
	h := cookieHeader(c)
	h["Origin"] = otherOrigin
	if r := l.send("POST", "/api/v1/embed/dashboards/sales/query", h, `{}`); r.status != 403 || r.errorCode(t) != "cross_origin_request" {
		t.Fatalf("cross-origin: %d %s", r.status, r.body)
	}
	h["Origin"] = l.srv.URL
	if r := l.send("POST", "/api/v1/embed/dashboards/sales/query", h, `{"widgets":["revenue"]}`); r.status != 200 {
		t.Fatalf("same-origin: %d %s", r.status, r.body)
	}
	forged := *c
	forged.Value = c.Value[:len(c.Value)-2] + "AA"
	if r := l.send("GET", "/api/v1/embed/dashboards/sales", cookieHeader(&forged), ""); r.status != 401 || r.errorCode(t) != "invalid_token" {
		t.Fatalf("forged cookie: %d %s", r.status, r.body)
	}
	now.Advance(61 * time.Second)
	if r := l.send("GET", "/api/v1/embed/dashboards/sales", cookieHeader(c), ""); r.status != 401 || r.errorCode(t) != "session_expired" {
		t.Fatalf("expired session: %d %s", r.status, r.body)
	}
	page := l.send("GET", salesTarget, cookieHeader(c), "")
	if page.status != 401 || page.header.Get("X-Inlay-Error-Code") != "session_expired" {
		t.Fatalf("expired session page: %d", page.status)
	}
	// Without sdk=3 a stale cookie does not turn an Inlay page into a Looker one.
	if p := l.send("GET", "/embed/dashboards/sales?embed_domain="+hostOrigin, cookieHeader(c), ""); p.status != 200 || bootstrapRE.Match(p.body) {
		t.Fatalf("Inlay page with a stale cookie: %d", p.status)
	}
}

func TestLookerEmbedSecretsRotate(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	oldSecret := l.secret
	newSecret := l.createSecret()
	admin := map[string]string{"Authorization": "Bearer " + l.adminKey}
	list := l.do("GET", "/api/v1/admin/embed_secrets", admin, nil)
	if strings.Contains(string(list.body), oldSecret) || strings.Contains(string(list.body), newSecret) {
		t.Fatal("the list shows secrets")
	}
	items := list.json(t)["embed_secrets"].([]any)
	if len(items) != 2 {
		t.Fatalf("secrets: %s", list.body)
	}
	for _, sec := range []string{oldSecret, newSecret} {
		s := l.sign(alice(), salesTarget)
		s.secret = sec
		if r := l.send("GET", s.tsURL(), nil, ""); r.status != http.StatusFound {
			t.Fatalf("a URL signed with an active secret: %d %s", r.status, r.body)
		}
	}
	oldID := items[0].(map[string]any)["id"].(string)
	if r := l.do("DELETE", "/api/v1/admin/embed_secrets/"+oldID, admin, nil); r.status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	s := l.sign(alice(), salesTarget)
	s.secret = oldSecret
	if r := l.send("GET", s.tsURL(), nil, ""); r.status != 401 || r.errorCode(t) != "invalid_signature" {
		t.Fatalf("a URL signed with a revoked secret: %d %s", r.status, r.body)
	}
	if r := l.do("DELETE", "/api/v1/admin/embed_secrets/"+oldID, admin, nil); r.status != http.StatusNotFound {
		t.Fatalf("revoking twice: %d", r.status)
	}
	if r := l.do("POST", "/api/v1/admin/embed_secrets", nil, nil); r.status != 401 {
		t.Fatalf("creating without the admin key: %d", r.status)
	}
	_ = html.EscapeString
}

// apiLogin logs in at /api/4.0/login with the env's service principal.
func (l *lookerEnv) apiLogin() string {
	l.t.Helper()
	r := l.send("POST", "/api/4.0/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		url.Values{"client_id": {l.clientID}, "client_secret": {l.clientSecret}}.Encode())
	if r.status != 200 {
		l.t.Fatalf("api login: %d %s", r.status, r.body)
	}
	m := r.json(l.t)
	if m["token_type"] != "Bearer" || m["expires_in"].(float64) != 3600 {
		l.t.Fatalf("api login answer: %s", r.body)
	}
	return m["access_token"].(string)
}

func (l *lookerEnv) acquire(api, ua string, body map[string]any) response {
	l.t.Helper()
	b, _ := json.Marshal(body)
	// An empty User-Agent value makes the client send none.
	h := map[string]string{"Authorization": "token " + api, "Content-Type": "application/json", "User-Agent": ua}
	return l.send("POST", "/api/4.0/embed/cookieless_session/acquire", h, string(b))
}

func (l *lookerEnv) generate(api, ua string, ref, apiTok, nav string) response {
	l.t.Helper()
	b, _ := json.Marshal(map[string]string{"session_reference_token": ref, "api_token": apiTok, "navigation_token": nav})
	return l.send("PUT", "/api/4.0/embed/cookieless_session/generate_tokens",
		map[string]string{"Authorization": "Bearer " + api, "Content-Type": "application/json", "User-Agent": ua}, string(b))
}

func cookielessUser(id string, extra map[string]any) map[string]any {
	m := map[string]any{
		"external_user_id": id, "first_name": "Pat", "session_length": 3600, "force_logout_login": true,
		"permissions": []string{"access_data", "see_user_dashboards"}, "models": []string{"sales", "operations"},
		"user_attributes": map[string]any{"external_value": "Sales"},
		"access_filters":  map[string]any{"operations": map[string]any{"department": "Sales", "regions": []string{"East"}}},
	}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

type cookieless struct {
	auth, nav, api, ref string
}

func tokensOf(t testing.TB, r response) cookieless {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("tokens: %d %s", r.status, r.body)
	}
	m := r.json(t)
	s := func(k string) string { v, _ := m[k].(string); return v }
	return cookieless{auth: s("authentication_token"), nav: s("navigation_token"), api: s("api_token"), ref: s("session_reference_token")}
}

// firstLoad is the SDK's first iframe URL of a cookieless session.
func firstLoad(target string, c cookieless) string {
	return "/login/embed/" + encodeURIComponent(target+"&embed_navigation_token="+c.nav) + "?embed_authentication_token=" + c.auth
}

func uaHeader(ua string) map[string]string {
	return map[string]string{"User-Agent": ua, "Content-Type": "application/json"}
}

func bearerUA(tok, ua string) map[string]string {
	return map[string]string{"Authorization": "Bearer " + tok, "User-Agent": ua, "Content-Type": "application/json"}
}

func TestLookerCookielessSession(t *testing.T) {
	now := &clock{t: time.Now()}
	l := newLookerEnv(t, envOptions{now: now.Now})
	api := l.apiLogin()
	r := l.acquire(api, browserUA, cookielessUser("pat", nil))
	m := r.json(t)
	for k, want := range map[string]float64{"authentication_token_ttl": 30, "navigation_token_ttl": 600, "api_token_ttl": 600, "session_reference_token_ttl": 3600} {
		if m[k] != want {
			t.Errorf("%s = %v, want %v", k, m[k], want)
		}
	}
	c := tokensOf(t, r)

	// First load: the authentication token is redeemed once, the answer is a redirect to the
	// target (no cookie), and the page works with the navigation token.
	loc := l.send("GET", firstLoad(salesTarget, c), uaHeader(browserUA), "")
	if loc.status != http.StatusFound || loc.header.Get("Set-Cookie") != "" {
		t.Fatalf("first load: %d %v %s", loc.status, loc.header, loc.body)
	}
	target := loc.header.Get("Location")
	if target != salesTarget+"&embed_navigation_token="+c.nav {
		t.Fatalf("Location = %q", target)
	}
	if again := l.send("GET", firstLoad(salesTarget, c), uaHeader(browserUA), ""); again.status != 401 || again.errorCode(t) != "invalid_authentication_token" {
		t.Fatalf("reused authentication token: %d %s", again.status, again.body)
	}
	page := l.send("GET", target, uaHeader(browserUA), "")
	if page.status != 200 {
		t.Fatalf("page: %d %s", page.status, page.body)
	}
	b := bootstrap(t, page)
	if b["auth"] != "cookieless" || b["api_token"] != c.api || b["events"] != true {
		t.Fatalf("bootstrap = %v", b)
	}
	revenue := func(tok, ua string) response {
		return l.send("POST", "/api/v1/embed/dashboards/sales/query", bearerUA(tok, ua), `{"widgets":["revenue"]}`)
	}
	want := l.scalar("SELECT sum(amount) FROM sales WHERE department = 'Sales'")
	if got := widgetValue(t, revenue(c.api, browserUA), "revenue"); got != want {
		t.Fatalf("revenue = %v, want %v", got, want)
	}
	// Another dashboard of the user's models, same token (page:load).
	if r := l.send("GET", "/api/v1/embed/dashboards/operations", bearerUA(c.api, browserUA), ""); r.status != 200 {
		t.Fatalf("operations with the same token: %d %s", r.status, r.body)
	}

	// Another browser cannot use the session's tokens.
	if r := revenue(c.api, otherUA); r.status != 403 || r.errorCode(t) != "user_agent_mismatch" {
		t.Fatalf("api token from another UA: %d %s", r.status, r.body)
	}
	if p := l.send("GET", target, uaHeader(otherUA), ""); p.status != 403 || p.header.Get("X-Inlay-Error-Code") != "user_agent_mismatch" {
		t.Fatalf("page from another UA: %d", p.status)
	}
	if g := l.generate(api, otherUA, c.ref, c.api, c.nav); g.status != 403 || looker("", g, t) != "user_agent_mismatch" {
		t.Fatalf("generate from another UA: %d %s", g.status, g.body)
	}

	// Refresh: new tokens; old ones keep working until their own expiry.
	g1 := tokensOf(t, l.generate(api, browserUA, c.ref, c.api, c.nav))
	if g1.api == c.api || g1.nav == c.nav || g1.ref != "" {
		t.Fatalf("generate_tokens did not make new tokens (or leaked the reference token): %+v", g1)
	}
	// Idempotent: the old tokens again give the same new ones.
	if g1b := tokensOf(t, l.generate(api, browserUA, c.ref, c.api, c.nav)); g1b != g1 {
		t.Fatalf("generate with the previous tokens: %+v, want %+v", g1b, g1)
	}
	if revenue(c.api, browserUA).status != 200 || revenue(g1.api, browserUA).status != 200 {
		t.Fatal("both the previous and the new api token should work")
	}
	// After ten minutes the first generation has expired; the current one too once another 10
	// minutes pass without refresh, but generate_tokens still works with expired tokens.
	now.Advance(10*time.Minute + time.Second)
	if r := revenue(c.api, browserUA); r.status != 401 || r.errorCode(t) != "session_expired" {
		t.Fatalf("expired api token: %d %s", r.status, r.body)
	}
	if revenue(g1.api, browserUA).status != 401 {
		t.Fatal("the second generation should have expired too (issued at the same clock time)")
	}
	g2 := tokensOf(t, l.generate(api, browserUA, c.ref, g1.api, g1.nav))
	if revenue(g2.api, browserUA).status != 200 {
		t.Fatal("tokens generated after expiry should work")
	}

	// Join: acquire with the reference token gives the same session (no user update).
	j := tokensOf(t, l.acquire(api, browserUA, cookielessUser("pat", map[string]any{"session_reference_token": c.ref,
		"user_attributes": map[string]any{"external_value": "Engineering"}})))
	if j.ref != c.ref || j.auth == "" || j.auth == c.auth || j.api != g2.api {
		t.Fatalf("join: %+v (current api token %s)", j, g2.api)
	}
	if got := widgetValue(t, revenue(j.api, browserUA), "revenue"); got != want {
		t.Fatalf("joining updated the user: revenue %v, want %v", got, want)
	}
	if r := l.acquire(api, otherUA, cookielessUser("pat", map[string]any{"session_reference_token": c.ref})); r.status != 403 || looker("", r, t) != "user_agent_mismatch" {
		t.Fatalf("join from another UA: %d %s", r.status, r.body)
	}

	// End: tokens stop working, generate says ttl 0, acquire with the ended reference makes a new session.
	del := l.send("DELETE", "/api/4.0/embed/cookieless_session/"+c.ref, map[string]string{"Authorization": "token " + api}, "")
	if del.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", del.status, del.body)
	}
	if r := revenue(j.api, browserUA); r.status != 401 || r.errorCode(t) != "session_expired" {
		t.Fatalf("api token of an ended session: %d %s", r.status, r.body)
	}
	end := l.generate(api, browserUA, c.ref, j.api, j.nav)
	if end.status != 200 || end.json(t)["session_reference_token_ttl"].(float64) != 0 {
		t.Fatalf("generate on an ended session: %d %s", end.status, end.body)
	}
	fresh := tokensOf(t, l.acquire(api, browserUA, cookielessUser("pat", map[string]any{"session_reference_token": c.ref})))
	if fresh.ref == c.ref {
		t.Fatal("acquire with an ended reference token joined it")
	}
}

func TestLookerCookielessRefusals(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	api := l.apiLogin()
	a := tokensOf(t, l.acquire(api, browserUA, cookielessUser("pat", nil)))
	b := tokensOf(t, l.acquire(api, browserUA, cookielessUser("sam", nil)))
	cases := []struct {
		name   string
		do     func() response
		status int
		code   string
	}{
		{"acquire without api login", func() response { return l.acquire("lkl.nope", browserUA, cookielessUser("x", nil)) }, 401, "unauthorized"},
		{"acquire without user agent", func() response { return l.acquire(api, "", cookielessUser("x", nil)) }, 400, "user_agent_required"},
		{"acquire with unknown permission", func() response {
			return l.acquire(api, browserUA, cookielessUser("x", map[string]any{"permissions": []string{"access_data", "sudo"}}))
		}, 400, "unknown_permission"},
		{"acquire with oversized session_length", func() response {
			return l.acquire(api, browserUA, cookielessUser("x", map[string]any{"session_length": 2_592_001}))
		}, 400, "session_length_out_of_range"},
		{"acquire with a bad embed_domain", func() response {
			return l.acquire(api, browserUA, cookielessUser("x", map[string]any{"embed_domain": "https://app.example.com/path"}))
		}, 400, "invalid_embed_domain"},
		{"acquire with a forged reference token", func() response {
			return l.acquire(api, browserUA, cookielessUser("x", map[string]any{"session_reference_token": a.ref[:len(a.ref)-3] + "abc"}))
		}, 400, "invalid_session_reference_token"},
		{"acquire with an unknown field", func() response {
			return l.acquire(api, browserUA, cookielessUser("x", map[string]any{"is_admin": true}))
		}, 400, "invalid_parameter"},
		{"generate with an unknown reference token", func() response { return l.generate(api, browserUA, "lkr.nope.x", a.api, a.nav) }, 400, "invalid_session_reference_token"},
		{"generate with another session's api token", func() response { return l.generate(api, browserUA, a.ref, b.api, a.nav) }, 403, "token_session_mismatch"},
		{"generate with another session's navigation token", func() response { return l.generate(api, browserUA, a.ref, a.api, b.nav) }, 403, "token_session_mismatch"},
		{"generate with a navigation token as api token", func() response { return l.generate(api, browserUA, a.ref, a.nav, a.nav) }, 401, "invalid_token"},
		{"login with another session's navigation token", func() response {
			return l.send("GET", firstLoad(salesTarget, cookieless{auth: a.auth, nav: b.nav}), uaHeader(browserUA), "")
		}, 403, "token_session_mismatch"},
		{"login with an unknown authentication token", func() response {
			return l.send("GET", firstLoad(salesTarget, cookieless{auth: "lkt.unknown", nav: b.nav}), uaHeader(browserUA), "")
		}, 401, "invalid_authentication_token"},
		{"login to a target outside /embed/", func() response {
			return l.send("GET", "/login/embed/"+encodeURIComponent("/api/v1/admin/audit?embed_navigation_token="+b.nav)+"?embed_authentication_token="+b.auth, uaHeader(browserUA), "")
		}, 400, "invalid_target"},
		{"page with a forged navigation token", func() response {
			return l.send("GET", salesTarget+"&embed_navigation_token="+b.nav[:len(b.nav)-2]+"xx", uaHeader(browserUA), "")
		}, 401, "invalid_token"},
		{"api with an expired-looking token", func() response {
			return l.send("GET", "/api/v1/embed/dashboards/sales", bearerUA("lka.00000000000000000000000000000000.0.AAAA", browserUA), "")
		}, 401, "invalid_token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := l.stateCounts()
			r := tc.do()
			code := r.header.Get("X-Inlay-Error-Code")
			if code == "" {
				code = looker("", r, t)
			}
			if r.status != tc.status || code != tc.code {
				t.Fatalf("got %d %q (%s), want %d %s", r.status, code, r.body, tc.status, tc.code)
			}
			if after := l.stateCounts(); !equalCounts(before, after) {
				t.Fatalf("a refused request created state: %v -> %v", before, after)
			}
		})
	}
}

func TestLookerAuthenticationTokenRedeemedOnceUnder100WayConcurrency(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	api := l.apiLogin()
	c := tokensOf(t, l.acquire(api, browserUA, cookielessUser("pat", nil)))
	const n = 100
	var wg sync.WaitGroup
	results := make(chan int, n)
	start := make(chan struct{})
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results <- l.send("GET", firstLoad(salesTarget, c), uaHeader(browserUA), "").status
		}()
	}
	close(start)
	wg.Wait()
	close(results)
	got := map[int]int{}
	for s := range results {
		got[s]++
	}
	if got[http.StatusFound] != 1 || got[http.StatusUnauthorized] != n-1 {
		t.Fatalf("outcomes: %v", got)
	}
}

func TestLookerGenerateTokensConcurrentTabsBothKeepWorking(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	api := l.apiLogin()
	c := tokensOf(t, l.acquire(api, browserUA, cookielessUser("pat", nil)))
	const tabs = 8
	var wg sync.WaitGroup
	out := make([]cookieless, tabs)
	for i := range tabs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = tokensOf(t, l.generate(api, browserUA, c.ref, c.api, c.nav))
		}()
	}
	wg.Wait()
	for i := range tabs {
		if out[i] != out[0] {
			t.Fatalf("tab %d got other tokens than tab 0: %+v vs %+v", i, out[i], out[0])
		}
		r := l.send("GET", "/api/v1/embed/dashboards/sales", bearerUA(out[i].api, browserUA), "")
		if r.status != 200 {
			t.Fatalf("tab %d: %d %s", i, r.status, r.body)
		}
	}
	if r := l.send("GET", "/api/v1/embed/dashboards/sales", bearerUA(c.api, browserUA), ""); r.status != 200 {
		t.Fatalf("the previous token during the refresh: %d %s", r.status, r.body)
	}
}

func TestLookerEmbedDomainAllowList(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	api := l.apiLogin()
	const dynamic = "https://tenant.example.org"
	c := tokensOf(t, l.acquire(api, browserUA, cookielessUser("pat", map[string]any{"embed_domain": dynamic})))
	load := func(domain, nav string) response {
		return l.send("GET", "/embed/dashboards/sales?embed_domain="+domain+"&sdk=3&embed_navigation_token="+nav, uaHeader(browserUA), "")
	}
	p := load(dynamic, c.nav)
	if b := bootstrap(t, p); b["events"] != true {
		t.Fatalf("the acquire-time embed_domain: %v", b)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, dynamic) {
		t.Fatalf("CSP lacks the session's embed_domain: %q", csp)
	}
	p = load(otherOrigin, c.nav)
	if b := bootstrap(t, p); b["events"] != false || b["events_refused"] != "embed_domain_not_allowed" {
		t.Fatalf("an embed_domain not on the list: %v", b)
	}
	if csp := p.header.Get("Content-Security-Policy"); strings.Contains(csp, otherOrigin) {
		t.Fatalf("CSP allows a domain not on the list: %q", csp)
	}
	// Another session without that embed_domain does not get it.
	d := tokensOf(t, l.acquire(api, browserUA, cookielessUser("sam", nil)))
	if b := bootstrap(t, load(dynamic, d.nav)); b["events"] != false {
		t.Fatalf("embed_domain leaked across sessions: %v", b)
	}
}

func TestLookerAcquireDefaultsAndAudit(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	api := l.apiLogin()
	u := cookielessUser("dana", nil)
	delete(u, "session_length")
	r := l.acquire(api, browserUA, u)
	if r.status != 200 || r.json(t)["session_reference_token_ttl"].(float64) != 300 {
		t.Fatalf("acquire without session_length: %d %s", r.status, r.body)
	}
	l.login(alice(), salesTarget, true)
	ev := l.do("GET", "/api/v1/admin/audit?kind=token.minted", map[string]string{"Authorization": "Bearer " + l.adminKey}, nil)
	body := string(ev.body)
	for _, want := range []string{`"detail":"looker.signed_login"`, `"viewer_id":"alice"`, `"detail":"looker.cookieless_acquire"`, `"viewer_id":"dana"`} {
		if !strings.Contains(body, want) {
			t.Errorf("audit lacks %s: %s", want, body)
		}
	}
	if strings.Contains(body, l.secret) {
		t.Error("the audit log holds the embed secret")
	}
}

func TestLookerAPILogin(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	bad := l.send("POST", "/api/4.0/login?client_id="+l.clientID+"&client_secret=wrong", nil, "")
	if bad.status != 401 || looker("", bad, t) != "unauthorized" {
		t.Fatalf("wrong secret: %d %s", bad.status, bad.body)
	}
	// Query form, as Looker's SDKs also send it.
	r := l.send("POST", "/api/4.0/login?client_id="+l.clientID+"&client_secret="+url.QueryEscape(l.clientSecret), nil, "")
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	tok := r.json(t)["access_token"].(string)
	for _, scheme := range []string{"token", "Bearer"} {
		a := l.send("POST", "/api/4.0/embed/cookieless_session/acquire", map[string]string{"Authorization": scheme + " " + tok, "User-Agent": browserUA}, `{"external_user_id":"x","permissions":[],"models":[]}`)
		if a.status != 200 {
			t.Fatalf("%s scheme: %d %s", scheme, a.status, a.body)
		}
	}
	if out := l.send("DELETE", "/api/4.0/logout", map[string]string{"Authorization": "token " + tok}, ""); out.status != 204 {
		t.Fatalf("logout: %d %s", out.status, out.body)
	}
	a := l.send("POST", "/api/4.0/embed/cookieless_session/acquire", map[string]string{"Authorization": "token " + tok, "User-Agent": browserUA}, `{"external_user_id":"x","permissions":[],"models":[]}`)
	if a.status != 401 || looker("", a, t) != "unauthorized" {
		t.Fatalf("after logout: %d %s", a.status, a.body)
	}
}

// TestLookerSingleUseOnEveryStore: a signed URL and a one-time authentication token each give
// exactly one success under concurrency, and concurrent generate_tokens calls agree, on every
// state store (several replicas share the SQLite or PostgreSQL one).
func TestLookerSingleUseOnEveryStore(t *testing.T) {
	for name, open := range grantStores(t) {
		t.Run(name, func(t *testing.T) {
			l := newLookerEnv(t, envOptions{store: open(t)})
			const n = 30
			count := func(do func() int) map[int]int {
				var wg sync.WaitGroup
				out := make(chan int, n)
				for range n {
					wg.Add(1)
					go func() { defer wg.Done(); out <- do() }()
				}
				wg.Wait()
				close(out)
				got := map[int]int{}
				for s := range out {
					got[s]++
				}
				return got
			}
			p := l.sign(alice(), salesTarget).pyURL()
			if got := count(func() int { return l.send("GET", p, nil, "").status }); got[http.StatusFound] != 1 || got[401] != n-1 {
				t.Fatalf("one signed URL used %d times at once: %v", n, got)
			}
			api := l.apiLogin()
			c := tokensOf(t, l.acquire(api, browserUA, cookielessUser("pat", nil)))
			if got := count(func() int { return l.send("GET", firstLoad(salesTarget, c), uaHeader(browserUA), "").status }); got[http.StatusFound] != 1 || got[401] != n-1 {
				t.Fatalf("one authentication token redeemed %d times at once: %v", n, got)
			}
			var mu sync.Mutex
			seen := map[string]bool{}
			count(func() int {
				r := l.generate(api, browserUA, c.ref, c.api, c.nav)
				mu.Lock()
				seen[tokensOf(t, r).api] = true
				mu.Unlock()
				return r.status
			})
			if len(seen) != 1 {
				t.Fatalf("concurrent generate_tokens gave %d different api tokens", len(seen))
			}
		})
	}
}

// TestLookerTokensStayOutOfTheLog runs both flows with debug logging and looks for every secret
// and token in what was logged.
func TestLookerTokensStayOutOfTheLog(t *testing.T) {
	var buf syncBuf
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l := newLookerEnv(t, envOptions{deps: func(d *api.Deps) { d.Logger = logger }})
	c := l.login(alice(), salesTarget, false)
	l.send("GET", salesTarget, cookieHeader(c), "")
	l.send("GET", l.sign(alice(), "/api/v1/admin/audit").tsURL(), nil, "") // refused
	api := l.apiLogin()
	tk := tokensOf(t, l.acquire(api, browserUA, cookielessUser("pat", nil)))
	l.send("GET", firstLoad(salesTarget, tk), uaHeader(browserUA), "")
	l.send("GET", firstLoad(salesTarget, tk), uaHeader(browserUA), "") // refused: used
	l.send("GET", salesTarget+"&embed_navigation_token="+tk.nav, uaHeader(otherUA), "")
	l.send("POST", "/api/v1/embed/dashboards/sales/query", bearerUA(tk.api, browserUA), `{}`)
	l.generate(api, browserUA, tk.ref, tk.api, tk.nav)
	l.send("DELETE", "/api/4.0/embed/cookieless_session/"+tk.ref, map[string]string{"Authorization": "token " + api}, "")
	logged := buf.String()
	if !strings.Contains(logged, "/login/embed/") {
		t.Fatalf("nothing was logged: %q", logged)
	}
	for name, secret := range map[string]string{"embed secret": l.secret, "cookie": c.Value, "api login": api,
		"auth": tk.auth, "navigation": tk.nav, "api token": tk.api, "reference": tk.ref} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log holds the %s", name)
		}
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestLookerCreateSSOEmbedURL: POST /api/4.0/embed/sso_url (Looker's create_sso_embed_url) gives
// a signed URL that signs in once, for the user in the body.
func TestLookerCreateSSOEmbedURL(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	api := l.apiLogin()
	call := func(body string) response {
		return l.send("POST", "/api/4.0/embed/sso_url", map[string]string{"Authorization": "token " + api, "Content-Type": "application/json"}, body)
	}
	r := call(`{"target_url":"` + l.srv.URL + salesTarget + `","session_length":600,"external_user_id":"erin",` +
		`"permissions":["access_data","see_user_dashboards"],"models":["sales"],"user_attributes":{"external_value":"Engineering"},"first_name":"Erin"}`)
	if r.status != 200 {
		t.Fatalf("sso_url: %d %s", r.status, r.body)
	}
	signed := r.json(t)["url"].(string)
	p, ok := strings.CutPrefix(signed, l.srv.URL)
	if !ok || !strings.HasPrefix(p, "/login/embed/") {
		t.Fatalf("url = %q", signed)
	}
	login := l.send("GET", p, nil, "")
	if login.status != http.StatusFound || login.header.Get("Location") != salesTarget {
		t.Fatalf("signing in with the created URL: %d %s", login.status, login.body)
	}
	c := sessionCookie(t, login)
	q := l.send("POST", "/api/v1/embed/dashboards/sales/query", cookieHeader(c), `{"widgets":["revenue"]}`)
	if got, want := widgetValue(t, q, "revenue"), l.scalar("SELECT sum(amount) FROM sales WHERE department = 'Engineering'"); got != want {
		t.Fatalf("revenue = %v, want %v", got, want)
	}
	if again := l.send("GET", p, nil, ""); again.status != 401 || again.errorCode(t) != "nonce_reused" {
		t.Fatalf("second use: %d %s", again.status, again.body)
	}
	for _, tc := range []struct{ body, code string }{
		{`{"target_url":"https://evil.example.net/embed/dashboards/sales","external_user_id":"e","permissions":[],"models":[]}`, "invalid_target"},
		{`{"target_url":"/api/v1/admin/audit","external_user_id":"e","permissions":[],"models":[]}`, "invalid_target"},
		{`{"target_url":"` + salesTarget + `","external_user_id":"e","permissions":["root"],"models":[]}`, "unknown_permission"},
		{`{"target_url":"` + salesTarget + `","external_user_id":"e","permissions":[],"models":[],"secret_id":"es_nope"}`, "invalid_parameter"},
		{`{"external_user_id":"e","permissions":[],"models":[]}`, "missing_parameter"},
	} {
		if r := call(tc.body); r.status != 400 || looker("", r, t) != tc.code {
			t.Errorf("%s: %d %s, want %s", tc.body, r.status, r.body, tc.code)
		}
	}
}

func TestLookerSSOURLChoosesTheSecret(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	admin := map[string]string{"Authorization": "Bearer " + l.adminKey}
	first := l.do("GET", "/api/v1/admin/embed_secrets", admin, nil).json(t)["embed_secrets"].([]any)[0].(map[string]any)["id"].(string)
	l.createSecret()
	api := l.apiLogin()
	call := func(extra string) response {
		return l.send("POST", "/api/4.0/embed/sso_url", map[string]string{"Authorization": "token " + api},
			`{"target_url":"`+salesTarget+`","external_user_id":"e","permissions":["access_data","see_user_dashboards"],"models":["sales"]`+extra+`}`)
	}
	// Signed with the first secret on request: revoking the newer one leaves it working.
	r := call(`,"secret_id":"` + first + `"`)
	if r.status != 200 {
		t.Fatalf("sso_url: %d %s", r.status, r.body)
	}
	list := l.do("GET", "/api/v1/admin/embed_secrets", admin, nil).json(t)["embed_secrets"].([]any)
	second := list[1].(map[string]any)["id"].(string)
	l.do("DELETE", "/api/v1/admin/embed_secrets/"+second, admin, nil)
	p, _ := strings.CutPrefix(r.json(t)["url"].(string), l.srv.URL)
	if login := l.send("GET", p, nil, ""); login.status != http.StatusFound {
		t.Fatalf("URL signed with the chosen secret: %d %s", login.status, login.body)
	}
	l.do("DELETE", "/api/v1/admin/embed_secrets/"+first, admin, nil)
	if r := call(""); r.status != 400 || looker("", r, t) != "no_embed_secret" {
		t.Fatalf("without embed secrets: %d %s", r.status, r.body)
	}
}

func TestLookerBootstrapIsScriptSafe(t *testing.T) {
	l := newLookerEnv(t, envOptions{})
	c := l.login(alice(), salesTarget, false)
	evil := "</script><script>alert(1)</script>"
	page := l.send("GET", salesTarget+"&Region="+url.QueryEscape(evil)+"&theme="+url.QueryEscape(evil), cookieHeader(c), "")
	if page.status != 200 || strings.Contains(string(page.body), evil) {
		t.Fatalf("page %d holds the raw value", page.status)
	}
	if b := bootstrap(t, page); b["filters"].(map[string]any)["region"] != evil || b["theme"] != evil {
		t.Fatalf("bootstrap does not carry the values as data: %v", b)
	}
}
