package api_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/api"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/oauth"
	"github.com/inlay/inlay/internal/oauth/oauthtest"
	"github.com/inlay/inlay/internal/principal"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/memory"
	pgstore "github.com/inlay/inlay/internal/storage/postgres"
	"github.com/inlay/inlay/internal/storage/postgres/pgtest"
	"github.com/inlay/inlay/internal/token"
)

// offsetClock is the broker's clock: real time plus an offset a test moves forward, so a token
// can be made "one minute from expiry" without waiting.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Advance(d time.Duration) { c.off.Add(int64(d)) }

type oauthEnv struct {
	t        testing.TB
	srv      *httptest.Server
	url      string
	prov     *oauthtest.Provider
	broker   *oauth.Broker
	adminKey string
	clock    *offsetClock
	store    storage.Store
	keys     *secret.Keys
	issuer   *token.Issuer // signs embed tokens the server accepts
}

type oauthEnvOptions struct {
	accessTTL  time.Duration
	noProvider bool
	// redirectURIs registered at the provider instead of Inlay's own callback.
	redirectURIs []string
	// store replaces the memory store.
	store storage.Store
	// deps changes the API's dependencies.
	deps func(*api.Deps)
}

func newOAuthEnv(t testing.TB, o oauthEnvOptions) *oauthEnv {
	t.Helper()
	e := &oauthEnv{t: t, adminKey: "oauth-admin-key-0123456789", clock: &offsetClock{}}
	e.srv = httptest.NewUnstartedServer(nil)
	e.url = "http://" + e.srv.Listener.Addr().String()
	if !o.noProvider {
		redirects := o.redirectURIs
		if redirects == nil {
			redirects = []string{e.url + oauth.CallbackPath}
		}
		e.prov = oauthtest.Start(t, oauthtest.Options{RedirectURIs: redirects, AccessTokenTTL: o.accessTTL})
	}
	master, _ := secret.GenerateMasterKey()
	keys, err := secret.NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	var store storage.Store = memory.New()
	if o.store != nil {
		store = o.store
	}
	e.store, e.keys = store, keys
	ring, err := token.NewKeyRing(t.Context(), store, keys, token.KeyRingOptions{RotateEvery: 24 * time.Hour, MaxTokenTTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	e.broker, err = oauth.NewBroker(store, keys, oauth.Options{PublicURL: e.url, AllowedOrigins: []string{hostOrigin}, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	e.issuer = token.NewIssuer(ring, e.url)
	deps := api.Deps{Engine: query.New(map[string]datasource.Source{}, query.Options{}), Principals: principal.NewService(store, keys, nil),
		Issuer: token.NewIssuer(ring, e.url), Verifier: token.NewVerifier(ring, e.url, 5*time.Second),
		Grants: token.NewGrantSealer(keys, nil), Keys: ring, Store: store, Logger: slog.New(slog.DiscardHandler), OAuth: e.broker}
	if o.deps != nil {
		o.deps(&deps)
	}
	s, err := api.New(api.Options{Issuer: e.url, AllowedOrigins: []string{hostOrigin}, EmbedTTL: time.Hour,
		MaxEmbedTTL: 24 * time.Hour, ServiceTTL: time.Hour, AdminKey: e.adminKey,
		OAuthSources: map[string]string{"default": "", "warehouse": "dbx"}}, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = s.Handler()
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

func (e *oauthEnv) do(method, path, auth string, body any) response {
	e.t.Helper()
	var r io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		r, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r, ct = strings.NewReader(string(raw)), "application/json"
	}
	req, err := http.NewRequest(method, e.url+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *oauthEnv) admin(method, path string, body any) response {
	e.t.Helper()
	return e.do(method, path, "Key "+e.adminKey, body)
}

func (e *oauthEnv) mustStatus(r response, want int) response {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	return r
}

// oidcIntegration registers the provider as an OIDC integration for client id/secret.
func (e *oauthEnv) oidcIntegration(name, clientID, clientSecret, authMethod string) string {
	e.t.Helper()
	cfg := map[string]any{"issuer": e.prov.Issuer, "client_id": clientID, "scopes": "openid offline_access"}
	if clientSecret == "" {
		cfg["auth_mode"] = "Public"
	} else {
		cfg["client_secret"] = clientSecret
		cfg["token_endpoint_auth_method"] = authMethod
	}
	r := e.mustStatus(e.admin("POST", "/__api__/v1/oauth/integrations", map[string]any{
		"name": name, "template": "oidc", "auth_type": "Viewer", "config": cfg}), 201)
	return r.json(e.t)["guid"].(string)
}

// app registers an external application associated with the integrations and returns its key.
func (e *oauthEnv) app(integrations ...string) (string, string) {
	e.t.Helper()
	r := e.mustStatus(e.admin("POST", "/__api__/v1/content", map[string]any{"name": "notebook"}), 201).json(e.t)
	guid, key := r["guid"].(string), r["api_key"].(string)
	var body []map[string]string
	for _, g := range integrations {
		body = append(body, map[string]string{"oauth_integration_guid": g})
	}
	e.mustStatus(e.admin("PUT", "/__api__/v1/content/"+guid+"/oauth/integrations/associations", body), 200)
	return guid, key
}

func (e *oauthEnv) userToken(appKey, viewer string) string {
	e.t.Helper()
	r := e.mustStatus(e.do("POST", "/__api__/v1/oauth/user-session-tokens", "Key "+appKey, map[string]any{"viewer_id": viewer}), 201)
	return r.json(e.t)["token"].(string)
}

func (e *oauthEnv) exchange(appKey, subject, audience string) response {
	e.t.Helper()
	form := url.Values{"grant_type": {oauth.GrantTokenExchange}, "subject_token_type": {oauth.TokenTypeUserSession},
		"subject_token": {subject}}
	if audience != "" {
		form.Set("audience", audience)
	}
	return e.do("POST", "/__api__/v1/oauth/integrations/credentials", "Key "+appKey, form)
}

// accessToken exchanges and returns the access token, failing the test otherwise.
func (e *oauthEnv) accessToken(appKey, subject string) string {
	e.t.Helper()
	r := e.mustStatus(e.exchange(appKey, subject, ""), 200).json(e.t)
	if r["issued_token_type"] != oauth.TokenTypeAccessToken || r["token_type"] != "Bearer" {
		e.t.Fatalf("exchange answer: %v", r)
	}
	return r["access_token"].(string)
}

// userinfo asks the provider whom an access token belongs to.
func (e *oauthEnv) userinfo(access string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.prov.Issuer+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	sub, _ := m["sub"].(string)
	return resp.StatusCode, sub
}

func (e *oauthEnv) loginURL(viewer, guid string) string {
	e.t.Helper()
	u, err := e.broker.LoginURL(viewer, guid, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// login completes a login for viewer as provider account user.
func (e *oauthEnv) login(viewer, guid, user string) {
	e.t.Helper()
	p := oauthtest.NewBrowser().Login(e.t, e.loginURL(viewer, guid), user)
	if p.Status != 200 || !strings.Contains(p.Body, "Connected") {
		e.t.Fatalf("login did not complete: %d %s\n%s", p.Status, p.URL, p.Body)
	}
}

func oauthErr(t testing.TB, r response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil || m["error"] == nil {
		t.Fatalf("not an OAuth error (%d): %s", r.status, r.body)
	}
	return m
}

func TestOAuthIntegrationsAdminAPI(t *testing.T) {
	e := newOAuthEnv(t, oauthEnvOptions{noProvider: true})
	create := map[string]any{"name": "dbx", "description": "Databricks", "template": "databricks", "auth_type": "Viewer",
		"config": map[string]any{"workspace_host": "adb-1.azuredatabricks.net", "client_id": "cid", "client_secret": "s3cret-value"}}

	if r := e.do("POST", "/__api__/v1/oauth/integrations", "Key wrong", create); r.status != 401 {
		t.Fatalf("wrong admin key: %d", r.status)
	}
	it := e.mustStatus(e.admin("POST", "/__api__/v1/oauth/integrations", create), 201)
	guid := it.json(t)["guid"].(string)
	if strings.Contains(string(it.body), "s3cret-value") {
		t.Fatalf("the secret came back: %s", it.body)
	}
	cfg := it.json(t)["config"].(map[string]any)
	if cfg["scopes"] != "all-apis offline_access" || cfg["use_pkce"] != nil && cfg["use_pkce"] != true {
		t.Fatalf("databricks defaults: %v", cfg)
	}

	// Inlay's own bearer admin auth works too; lookups by guid and by name.
	for _, path := range []string{guid, "dbx"} {
		r := e.mustStatus(e.do("GET", "/__api__/v1/oauth/integrations/"+path, "Bearer "+e.adminKey, nil), 200)
		if r.json(t)["guid"] != guid || strings.Contains(string(r.body), "s3cret-value") {
			t.Fatalf("get %s: %s", path, r.body)
		}
	}
	list := e.mustStatus(e.admin("GET", "/__api__/v1/oauth/integrations", nil), 200)
	if strings.Contains(string(list.body), "s3cret-value") || !strings.Contains(string(list.body), guid) {
		t.Fatalf("list: %s", list.body)
	}

	// PATCH merges config keys: rotating the secret leaves the rest.
	p := e.mustStatus(e.admin("PATCH", "/__api__/v1/oauth/integrations/dbx", map[string]any{
		"description": "Databricks (prod)", "config": map[string]any{"client_secret": "rotated-secret"}}), 200).json(t)
	if p["description"] != "Databricks (prod)" || p["config"].(map[string]any)["client_id"] != "cid" ||
		p["config"].(map[string]any)["workspace_host"] != "adb-1.azuredatabricks.net" {
		t.Fatalf("patch: %v", p)
	}
	stored, err := e.broker.Resolve(t.Context(), guid)
	if err != nil || stored.Config.ClientSecret != "rotated-secret" {
		t.Fatalf("the rotated secret is not what the broker uses: %v", err)
	}

	// Bad input: every problem, stable code, nothing created.
	bad := e.mustStatus(e.admin("POST", "/__api__/v1/oauth/integrations", map[string]any{
		"name": "has space", "template": "nope", "auth_type": "Viewer", "config": map[string]any{"auth_mode": "Public", "client_secret": "x"}}), 400)
	if bad.errorCode(t) != "invalid_integration" {
		t.Fatalf("code: %s", bad.body)
	}
	probs := bad.json(t)["error"].(map[string]any)["details"].(map[string]any)["problems"].(map[string]any)
	for _, k := range []string{"name", "template", "config.client_id", "config.client_secret"} {
		if probs[k] == nil {
			t.Errorf("problem %s not reported: %v", k, probs)
		}
	}
	if r := e.admin("POST", "/__api__/v1/oauth/integrations", create); r.status != 409 || r.errorCode(t) != "name_taken" {
		t.Fatalf("duplicate name: %d %s", r.status, r.body)
	}
	all := e.mustStatus(e.admin("GET", "/__api__/v1/oauth/integrations", nil), 200)
	var items []map[string]any
	_ = json.Unmarshal(all.body, &items)
	if len(items) != 1 {
		t.Fatalf("refused requests created integrations: %s", all.body)
	}

	// Associations: dashboards, data sources and registered applications; unknown ones refused.
	e.mustStatus(e.admin("PUT", "/__api__/v1/content/datasource:warehouse/oauth/integrations/associations",
		[]map[string]string{{"oauth_integration_guid": guid}}), 200)
	as := e.mustStatus(e.admin("GET", "/__api__/v1/content/datasource:warehouse/oauth/integrations/associations", nil), 200)
	if !strings.Contains(string(as.body), `"oauth_integration_guid":"`+guid+`"`) {
		t.Fatalf("associations: %s", as.body)
	}
	if r := e.mustStatus(e.admin("GET", "/__api__/v1/oauth/integrations/dbx/associations", nil), 200); !strings.Contains(string(r.body), `"app_guid":"datasource:warehouse"`) {
		t.Fatalf("integration associations: %s", r.body)
	}
	if r := e.admin("PUT", "/__api__/v1/content/datasource:nope/oauth/integrations/associations", []any{}); r.status != 404 {
		t.Fatalf("unknown content: %d", r.status)
	}
	appGUID, _ := e.app()
	if r := e.admin("PUT", "/__api__/v1/content/"+appGUID+"/oauth/integrations/associations",
		[]map[string]string{{"oauth_integration_guid": guid}, {"oauth_integration_guid": "00000000-0000-4000-8000-000000000000"}}); r.status != 400 {
		t.Fatalf("unknown integration in associations: %d %s", r.status, r.body)
	}
	if as := e.mustStatus(e.admin("GET", "/__api__/v1/content/"+appGUID+"/oauth/integrations/associations", nil), 200); string(as.body) != "[]\n" {
		t.Fatalf("a refused PUT changed the associations: %s", as.body)
	}

	e.mustStatus(e.admin("DELETE", "/__api__/v1/oauth/integrations/"+guid, nil), 204)
	if r := e.admin("GET", "/__api__/v1/oauth/integrations/"+guid, nil); r.status != 404 {
		t.Fatalf("after delete: %d", r.status)
	}
	if as := e.mustStatus(e.admin("GET", "/__api__/v1/content/datasource:warehouse/oauth/integrations/associations", nil), 200); string(as.body) != "[]\n" {
		t.Fatalf("deleting the integration left associations: %s", as.body)
	}
}

func TestOAuthLoginAndExchange(t *testing.T) {
	clients := []struct {
		name, id, secret, method string
		custom                   bool
	}{
		{"confidential_basic", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic", false},
		{"confidential_post", oauthtest.PostID, oauthtest.PostSecret, "client_secret_post", false},
		{"public_pkce", oauthtest.PublicID, "", "", false},
		// The custom template: endpoints given, no discovery and no ID-token check, iss checked
		// against the configured issuer.
		{"custom_template", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic", true},
	}
	e := newOAuthEnv(t, oauthEnvOptions{})
	for _, c := range clients {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			var guid string
			if c.custom {
				guid = e.mustStatus(e.admin("POST", "/__api__/v1/oauth/integrations", map[string]any{
					"name": "idp-" + c.name, "template": "custom", "auth_type": "Viewer", "config": map[string]any{
						"authorization_uri": e.prov.Issuer + "/auth", "token_uri": e.prov.Issuer + "/token",
						"revocation_uri": e.prov.Issuer + "/token/revocation", "issuer": e.prov.Issuer,
						"client_id": c.id, "client_secret": c.secret, "scopes": "openid offline_access", "prompt": "consent"}}), 201).json(t)["guid"].(string)
			} else {
				guid = e.oidcIntegration("idp-"+c.name, c.id, c.secret, c.method)
			}
			_, key := e.app(guid)
			viewer := "alice-" + c.name + "@example.com"
			ust := e.userToken(key, viewer)

			// Before logging in: a stable code and a login URL.
			r := e.exchange(key, ust, "")
			m := oauthErr(t, r)
			if r.status != 400 || m["error_code"] != oauth.CodeLoginRequired || m["login_url"] == nil {
				t.Fatalf("before login: %d %s", r.status, r.body)
			}
			p := oauthtest.NewBrowser().Login(t, m["login_url"].(string), "alice")
			if p.Status != 200 || !strings.Contains(p.Body, "Connected") {
				t.Fatalf("login: %d %s", p.Status, p.Body)
			}

			r = e.mustStatus(e.exchange(key, ust, ""), 200)
			got := r.json(t)
			exp := got["expires_in"].(float64)
			if exp < 3500 || exp > 3600 {
				t.Fatalf("expires_in %v", exp)
			}
			if status, sub := e.userinfo(got["access_token"].(string)); status != 200 || sub != "alice" {
				t.Fatalf("the access token is not alice's at the provider: %d %q", status, sub)
			}
			// By name as audience too.
			e.mustStatus(e.exchange(key, ust, "idp-"+c.name), 200)

			ss := e.mustStatus(e.admin("GET", "/__api__/v1/oauth/sessions?user_guid="+url.QueryEscape(viewer), nil), 200)
			var sessions []map[string]any
			_ = json.Unmarshal(ss.body, &sessions)
			if len(sessions) != 1 || sessions[0]["has_refresh_token"] != true || sessions[0]["oauth_integration_guid"] != guid {
				t.Fatalf("sessions: %s", ss.body)
			}
			if strings.Contains(string(ss.body), got["access_token"].(string)) {
				t.Fatal("the session list shows a token")
			}
		})
	}
}

func TestOAuthExchangeRefusals(t *testing.T) {
	e := newOAuthEnv(t, oauthEnvOptions{})
	guid := e.oidcIntegration("idp", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic")
	other := e.oidcIntegration("other", oauthtest.PostID, oauthtest.PostSecret, "client_secret_post")
	_, key := e.app(guid)
	_, otherKey := e.app(other)
	_, lonelyKey := e.app()
	e.login("bob", guid, "bob")
	ust := e.userToken(key, "bob")

	cases := []struct {
		name       string
		key, token string
		tokenType  string
		audience   string
		status     int
		oauthCode  string
		code       string
		loginURL   bool
	}{
		{"bad API key", "inlay_app_nope", ust, oauth.TokenTypeUserSession, "", 401, "invalid_client", oauth.CodeInvalidClient, false},
		{"subject token of another app", otherKey, ust, oauth.TokenTypeUserSession, "", 400, "invalid_grant", oauth.CodeSubjectTokenInvalid, false},
		{"tampered subject token", key, ust[:len(ust)-2] + "AA", oauth.TokenTypeUserSession, "", 400, "invalid_grant", oauth.CodeSubjectTokenInvalid, false},
		{"user token presented as content token", key, ust, oauth.TokenTypeContentSession, "", 400, "invalid_grant", oauth.CodeSubjectTokenInvalid, false},
		{"unknown token type", key, ust, "urn:x", "", 400, "invalid_request", oauth.CodeUnsupportedTokenType, false},
		{"unknown audience", key, ust, oauth.TokenTypeUserSession, "nope", 400, "invalid_target", oauth.CodeUnknownAudience, false},
		{"audience not associated", key, ust, oauth.TokenTypeUserSession, other, 400, "invalid_target", oauth.CodeNotAssociated, false},
		{"nothing associated", lonelyKey, e.userToken(lonelyKey, "bob"), oauth.TokenTypeUserSession, "", 400, "invalid_request", oauth.CodeNotAssociated, false},
		// carol never logged in: never bob's token, a login URL for carol instead.
		{"viewer not logged in", key, e.userToken(key, "carol"), oauth.TokenTypeUserSession, "", 400, "interaction_required", oauth.CodeLoginRequired, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{"grant_type": {oauth.GrantTokenExchange}, "subject_token_type": {c.tokenType}, "subject_token": {c.token}}
			if c.audience != "" {
				form.Set("audience", c.audience)
			}
			r := e.do("POST", "/__api__/v1/oauth/integrations/credentials", "Key "+c.key, form)
			m := oauthErr(t, r)
			if r.status != c.status || m["error"] != c.oauthCode || m["error_code"] != c.code || (m["login_url"] != nil) != c.loginURL {
				t.Fatalf("got %d %s", r.status, r.body)
			}
			if m["access_token"] != nil {
				t.Fatal("a token came with an error")
			}
		})
	}

	// An expired user session token.
	e.clock.Advance(2 * time.Hour)
	r := e.exchange(key, ust, "")
	if m := oauthErr(t, r); m["error_code"] != oauth.CodeSubjectTokenExpired {
		t.Fatalf("expired subject token: %s", r.body)
	}
}

func TestOAuthRefreshAndRotation(t *testing.T) {
	e := newOAuthEnv(t, oauthEnvOptions{})
	guid := e.oidcIntegration("idp", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic")
	_, key := e.app(guid)
	e.login("dana", guid, "dana")
	first := e.accessToken(key, e.userToken(key, "dana"))
	rt1 := e.prov.LastRefreshToken(t, "dana")

	// Still fresh: the same token, no refresh.
	if again := e.accessToken(key, e.userToken(key, "dana")); again != first {
		t.Fatal("a fresh token was replaced")
	}
	if n := e.prov.Stats(t)["refresh_token"][oauthtest.ConfidentialID]; n != 0 {
		t.Fatalf("%d refreshes of a fresh token", n)
	}

	// 59 minutes on, the token has 60 s left: it is refreshed first.
	e.clock.Advance(59 * time.Minute)
	second := e.accessToken(key, e.userToken(key, "dana"))
	if second == first {
		t.Fatal("a token within a minute of expiry was handed out")
	}
	rt2 := e.prov.LastRefreshToken(t, "dana")
	if rt2 == rt1 {
		t.Fatal("the provider did not rotate the refresh token")
	}
	if status, sub := e.userinfo(second); status != 200 || sub != "dana" {
		t.Fatalf("refreshed token at the provider: %d %q", status, sub)
	}
	// Again: this works only if the rotated refresh token was saved (replaying the first one
	// would revoke the whole grant at this provider).
	e.clock.Advance(59 * time.Minute)
	third := e.accessToken(key, e.userToken(key, "dana"))
	if third == second {
		t.Fatal("second refresh did not happen")
	}
	if status, _ := e.userinfo(third); status != 200 {
		t.Fatalf("the token after the second refresh is not valid: %d", status)
	}
	if n := e.prov.Stats(t)["refresh_token"][oauthtest.ConfidentialID]; n != 2 {
		t.Fatalf("%d refreshes, want 2", n)
	}
}

func TestOAuthRevokedRefreshTokenAsksForLogin(t *testing.T) {
	e := newOAuthEnv(t, oauthEnvOptions{})
	guid := e.oidcIntegration("idp", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic")
	_, key := e.app(guid)
	e.login("erin", guid, "erin")
	ust := e.userToken(key, "erin")
	e.accessToken(key, ust)
	e.prov.Revoke(t, oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, e.prov.LastRefreshToken(t, "erin"))

	e.clock.Advance(59 * time.Minute)
	r := e.exchange(key, e.userToken(key, "erin"), "")
	m := oauthErr(t, r)
	if r.status != 400 || m["error"] != "interaction_required" || m["error_code"] != oauth.CodeRefreshFailed || m["login_url"] == nil {
		t.Fatalf("revoked refresh token: %d %s", r.status, r.body)
	}
	// Logging in again through that URL fixes it.
	p := oauthtest.NewBrowser().Login(t, m["login_url"].(string), "erin")
	if !strings.Contains(p.Body, "Connected") {
		t.Fatalf("login again: %d %s", p.Status, p.Body)
	}
	e.accessToken(key, e.userToken(key, "erin"))
}

func TestOAuthConcurrentExchangesRefreshOnce(t *testing.T) {
	e := newOAuthEnv(t, oauthEnvOptions{})
	refreshOnce(t, e, e.store)
}

// TestOAuthRefreshOnceAcrossPostgresReplicas: the same with two replicas, each with its own
// connection pool to one PostgreSQL state store (the lease and the atomic update are the
// database's).
func TestOAuthRefreshOnceAcrossPostgresReplicas(t *testing.T) {
	dsn := pgtest.DSN(t)
	open := func() storage.Store {
		st, err := pgstore.Open(t.Context(), pgstore.Config{DSN: dsn})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	e := newOAuthEnv(t, oauthEnvOptions{store: open()})
	refreshOnce(t, e, open())
}

// refreshOnce: 50 concurrent exchanges for one viewer whose token is about to expire, half over
// HTTP on e's replica and half on a second replica over replicaStore, make exactly one refresh
// at the provider, and all get the same new token.
func refreshOnce(t *testing.T, e *oauthEnv, replicaStore storage.Store) {
	guid := e.oidcIntegration("idp", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic")
	_, key := e.app(guid)
	e.login("frank", guid, "frank")
	ust := e.userToken(key, "frank")
	first := e.accessToken(key, ust)
	e.clock.Advance(59*time.Minute + 30*time.Second)

	// A second replica sharing the store: half the exchanges go through it.
	replica, err := oauth.NewBroker(replicaStore, e.keys, oauth.Options{PublicURL: e.url, Now: e.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	it, err := replica.Resolve(t.Context(), guid)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	tokens := make([]string, 50)
	errs := make([]string, 50)
	for i := range 50 {
		wg.Go(func() {
			if i%2 == 1 {
				tok, err := replica.ViewerToken(t.Context(), it, "frank")
				if err != nil {
					errs[i] = err.Error()
				}
				tokens[i] = tok.Token
				return
			}
			r := e.do("POST", "/__api__/v1/oauth/integrations/credentials", "Key "+key, url.Values{
				"grant_type": {oauth.GrantTokenExchange}, "subject_token_type": {oauth.TokenTypeUserSession}, "subject_token": {ust}})
			if r.status != 200 {
				errs[i] = string(r.body)
				return
			}
			var m map[string]any
			_ = json.Unmarshal(r.body, &m)
			tokens[i], _ = m["access_token"].(string)
		})
	}
	wg.Wait()
	for i := range 50 {
		if errs[i] != "" {
			t.Fatalf("exchange %d failed: %s", i, errs[i])
		}
		if tokens[i] == first || tokens[i] != tokens[0] {
			t.Fatalf("exchange %d got a different or stale token (first %v, same as 0: %v); refreshes at the provider: %v", i, tokens[i] == first, tokens[i] == tokens[0], e.prov.Stats(t)["refresh_token"])
		}
	}
	if n := e.prov.Stats(t)["refresh_token"][oauthtest.ConfidentialID]; n != 1 {
		t.Fatalf("the provider saw %d refreshes for 50 concurrent exchanges on two replicas, want 1", n)
	}
}

func TestOAuthLoginAttacksRejected(t *testing.T) {
	e := newOAuthEnv(t, oauthEnvOptions{})
	guid := e.oidcIntegration("idp", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic")
	_, key := e.app(guid)
	isCallback := func(u *url.URL) bool { return u.Path == oauth.CallbackPath }

	// callbackOf runs a login up to the provider's redirect back, without following it.
	callbackOf := func(b *oauthtest.Browser, viewer string) *url.URL {
		t.Helper()
		b.StopAt = isCallback
		p := b.Login(t, e.loginURL(viewer, guid), viewer)
		u, err := url.Parse(p.Location)
		if err != nil || p.Location == "" || u.Query().Get("code") == "" {
			t.Fatalf("no redirect to the callback: %d %s", p.Status, p.Body)
		}
		return u
	}
	finish := func(b *oauthtest.Browser, u *url.URL) oauthtest.Page {
		t.Helper()
		b.StopAt = nil
		return b.Get(t, u.String())
	}
	refused := func(p oauthtest.Page, code string) {
		t.Helper()
		if p.Status != 400 || !strings.Contains(p.Body, `<code id="code">`+code+`</code>`) {
			t.Fatalf("want %s: %d %s", code, p.Status, p.Body)
		}
	}
	notConnected := func(viewer string) {
		t.Helper()
		if m := oauthErr(t, e.exchange(key, e.userToken(key, viewer), "")); m["error_code"] != oauth.CodeLoginRequired {
			t.Fatalf("%s got connected: %v", viewer, m)
		}
	}

	t.Run("tampered state", func(t *testing.T) {
		b := oauthtest.NewBrowser()
		u := callbackOf(b, "v-tamper")
		q := u.Query()
		q.Set("state", q.Get("state")+"x")
		u.RawQuery = q.Encode()
		refused(finish(b, u), oauth.CodeInvalidState)
		notConnected("v-tamper")
	})
	t.Run("replayed code", func(t *testing.T) {
		b := oauthtest.NewBrowser()
		u := callbackOf(b, "v-replay")
		if p := finish(b, u); !strings.Contains(p.Body, "Connected") {
			t.Fatalf("first use: %d %s", p.Status, p.Body)
		}
		refused(finish(b, u), oauth.CodeInvalidState)
	})
	t.Run("callback in another browser", func(t *testing.T) {
		u := callbackOf(oauthtest.NewBrowser(), "v-csrf")
		refused(finish(oauthtest.NewBrowser(), u), oauth.CodeStateNotBound)
		notConnected("v-csrf")
	})
	t.Run("code issued for another PKCE verifier", func(t *testing.T) {
		// The attacker's own login yields a code bound to the attacker's verifier; injected into
		// the victim's callback (with the victim's state and browser) it must not redeem.
		attacker := callbackOf(oauthtest.NewBrowser(), "v-attacker")
		b := oauthtest.NewBrowser()
		victim := callbackOf(b, "v-victim")
		q := victim.Query()
		q.Set("code", attacker.Query().Get("code"))
		victim.RawQuery = q.Encode()
		refused(finish(b, victim), oauth.CodeCodeExchangeFailed)
		notConnected("v-victim")
	})
	t.Run("answer from another issuer", func(t *testing.T) {
		b := oauthtest.NewBrowser()
		u := callbackOf(b, "v-mixup")
		q := u.Query()
		q.Set("iss", "https://evil.example.net")
		u.RawQuery = q.Encode()
		refused(finish(b, u), oauth.CodeIssuerMismatch)
		notConnected("v-mixup")
	})
	t.Run("answer without iss from a provider that always sends it", func(t *testing.T) {
		b := oauthtest.NewBrowser()
		u := callbackOf(b, "v-noiss")
		q := u.Query()
		q.Del("iss")
		u.RawQuery = q.Encode()
		refused(finish(b, u), oauth.CodeIssuerMismatch)
	})
	t.Run("return_to a foreign origin", func(t *testing.T) {
		login := e.loginURL("v-redirect", guid) + "&return_to=" + url.QueryEscape("https://evil.example.net/steal")
		b := oauthtest.NewBrowser()
		b.StopAt = func(u *url.URL) bool { return true }
		p := b.Get(t, login)
		if p.Status != 400 || !strings.Contains(p.Body, oauth.CodeReturnToNotAllowed) || p.Location != "" {
			t.Fatalf("foreign return_to: %d %q %s", p.Status, p.Location, p.Body)
		}
	})
	t.Run("return_to an allowed origin", func(t *testing.T) {
		login := e.loginURL("v-return", guid) + "&return_to=" + url.QueryEscape(hostOrigin+"/settings")
		b := oauthtest.NewBrowser()
		b.StopAt = func(u *url.URL) bool { return strings.HasPrefix(u.String(), hostOrigin) }
		p := b.Login(t, login, "v-return")
		if p.Status != 303 || !strings.HasPrefix(p.Location, hostOrigin+"/settings?") || !strings.Contains(p.Location, "oauth_status=connected") {
			t.Fatalf("allowed return_to: %d %q", p.Status, p.Location)
		}
	})
	t.Run("tampered login ticket", func(t *testing.T) {
		p := oauthtest.NewBrowser().Get(t, e.loginURL("v-ticket", guid)+"x")
		if p.Status != 400 || !strings.Contains(p.Body, oauth.CodeTicketInvalid) {
			t.Fatalf("tampered ticket: %d %s", p.Status, p.Body)
		}
	})
}

func TestOAuthMismatchedRedirectURIRefused(t *testing.T) {
	// The provider knows a callback on another port: it must refuse to send a code to ours.
	e := newOAuthEnv(t, oauthEnvOptions{redirectURIs: []string{"http://127.0.0.1:1" + oauth.CallbackPath}})
	guid := e.oidcIntegration("idp", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic")
	b := oauthtest.NewBrowser()
	b.StopAt = func(u *url.URL) bool { return u.Path == oauth.CallbackPath }
	p := b.Login(t, e.loginURL("v", guid), "v")
	if p.Status == 303 || strings.Contains(p.Location, "code=") || !strings.Contains(p.Body, "redirect_uri") {
		t.Fatalf("a mismatched redirect URI was accepted: %d %q %s", p.Status, p.Location, p.Body)
	}
}

func TestOAuthServiceAccount(t *testing.T) {
	e := newOAuthEnv(t, oauthEnvOptions{})
	r := e.mustStatus(e.admin("POST", "/__api__/v1/oauth/integrations", map[string]any{
		"name": "svc", "template": "custom", "auth_type": "Service Account", "config": map[string]any{
			"token_uri": e.prov.Issuer + "/token", "client_id": oauthtest.ServiceID, "client_secret": oauthtest.ServiceSecret, "scopes": "all-apis"}}), 201)
	guid := r.json(t)["guid"].(string)
	_, key := e.app(guid)
	cst := e.mustStatus(e.do("POST", "/__api__/v1/oauth/content-session-tokens", "Key "+key, nil), 201).json(t)["token"].(string)
	form := url.Values{"grant_type": {oauth.GrantTokenExchange}, "subject_token_type": {oauth.TokenTypeContentSession}, "subject_token": {cst}}
	first := e.mustStatus(e.do("POST", "/__api__/v1/oauth/integrations/credentials", "Key "+key, form), 200).json(t)
	second := e.mustStatus(e.do("POST", "/__api__/v1/oauth/integrations/credentials", "Key "+key, form), 200).json(t)
	if first["access_token"] != second["access_token"] {
		t.Fatal("a fresh service-account token was not reused")
	}
	e.clock.Advance(59*time.Minute + 30*time.Second)
	third := e.mustStatus(e.do("POST", "/__api__/v1/oauth/integrations/credentials", "Key "+key, form), 200).json(t)
	if third["access_token"] == first["access_token"] {
		t.Fatal("a service-account token near expiry was handed out")
	}
	if n := e.prov.Stats(t)["client_credentials"][oauthtest.ServiceID]; n != 2 {
		t.Fatalf("%d client-credentials grants, want 2", n)
	}
	// A viewer integration needs a viewer: a content session token does not do.
	vguid := e.oidcIntegration("idp", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic")
	_, vkey := e.app(vguid)
	vcst := e.mustStatus(e.do("POST", "/__api__/v1/oauth/content-session-tokens", "Key "+vkey, nil), 201).json(t)["token"].(string)
	form.Set("subject_token", vcst)
	if m := oauthErr(t, e.do("POST", "/__api__/v1/oauth/integrations/credentials", "Key "+vkey, form)); m["error_code"] != oauth.CodeViewerRequired {
		t.Fatalf("content token for a viewer integration: %v", m)
	}
}

func TestOAuthDeleteSessionRevokesAtProvider(t *testing.T) {
	e := newOAuthEnv(t, oauthEnvOptions{})
	guid := e.oidcIntegration("idp", oauthtest.ConfidentialID, oauthtest.ConfidentialSecret, "client_secret_basic")
	_, key := e.app(guid)
	e.login("gina", guid, "gina")
	access := e.accessToken(key, e.userToken(key, "gina"))
	ss := e.mustStatus(e.admin("GET", "/__api__/v1/oauth/sessions", nil), 200)
	var sessions []map[string]any
	_ = json.Unmarshal(ss.body, &sessions)
	if len(sessions) != 1 {
		t.Fatalf("sessions: %s", ss.body)
	}
	e.mustStatus(e.admin("DELETE", "/__api__/v1/oauth/sessions/"+sessions[0]["guid"].(string), nil), 204)
	if m := oauthErr(t, e.exchange(key, e.userToken(key, "gina"), "")); m["error_code"] != oauth.CodeLoginRequired {
		t.Fatalf("after delete: %v", m)
	}
	// Revoking the refresh token revoked the grant: the access token is dead at the provider.
	if status, _ := e.userinfo(access); status != 401 {
		t.Fatalf("the provider still accepts the access token: %d", status)
	}
}
