package api_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/api"
	"github.com/inlay/inlay/internal/audit"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/demo"
	"github.com/inlay/inlay/internal/demo/dashboards"
	"github.com/inlay/inlay/internal/principal"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/memory"
	"github.com/inlay/inlay/internal/token"
)

const (
	testRows     = 50_000
	hostOrigin   = "https://app.example.com"
	otherOrigin  = "https://evil.example.net"
	salesDash    = "sales"
	tokenTimeout = 5 * time.Second
)

// sample is the DuckDB sample data, generated once for the package's tests.
var sample struct {
	once sync.Once
	src  *duckdb.Source
	err  error
}

func sampleSource(t testing.TB) *duckdb.Source {
	t.Helper()
	sample.once.Do(func() {
		ctx := context.Background()
		sample.src, sample.err = duckdb.Open(ctx, duckdb.Config{})
		if sample.err == nil {
			sample.err = demo.Generate(ctx, sample.src.Exec, testRows, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
		}
	})
	if sample.err != nil {
		t.Fatalf("sample data: %v", sample.err)
	}
	return sample.src
}

// testEnv is a running Inlay over real HTTP with a service principal.
type testEnv struct {
	t            testing.TB
	srv          *httptest.Server
	clientID     string
	clientSecret string
	adminKey     string
	issuer       *token.Issuer
	ring         *token.KeyRing
	store        storage.Store
	src          *duckdb.Source
	engine       *query.Engine
	principals   *principal.Service
	keys         *secret.Keys
	issuerURL    string
}

type envOptions struct {
	embedTTL time.Duration
	cacheTTL time.Duration
	// source replaces the shared sample database.
	source *duckdb.Source
	// store replaces the in-memory state store.
	store storage.Store
	// editDashboards changes the sample dashboards before they are served.
	editDashboards func([]*dashboard.Dashboard)
	// apiOptions changes the API's options before the server is built.
	apiOptions func(*api.Options)
	// queryTimeout replaces the engine's per-query timeout (30 s).
	queryTimeout time.Duration
	// wrapSource wraps the data source the engine uses; deps changes the API's dependencies.
	wrapSource func(datasource.Source) datasource.Source
	deps       func(*api.Deps)
	// tls serves HTTPS (httptest's certificate; the env's client trusts it).
	tls bool
	// now replaces the server's clock.
	now func() time.Time
}

func newEnv(t testing.TB, o envOptions) *testEnv {
	t.Helper()
	if o.embedTTL == 0 {
		o.embedTTL = time.Hour
	}
	ctx := t.Context()
	src := o.source
	if src == nil {
		src = sampleSource(t)
	}
	dashes, problems := dashboard.LoadFS(dashboards.FS, ".")
	if len(problems) > 0 {
		t.Fatalf("sample dashboards: %v", problems)
	}
	if o.editDashboards != nil {
		o.editDashboards(dashes)
		for _, d := range dashes {
			d.Normalize()
		}
	}
	master, err := secret.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	var store storage.Store = memory.New()
	if o.store != nil {
		store = o.store
	}
	ring, err := token.NewKeyRing(ctx, store, keys, token.KeyRingOptions{RotateEvery: 24 * time.Hour, MaxTokenTTL: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	var engineSrc datasource.Source = src
	if o.wrapSource != nil {
		engineSrc = o.wrapSource(src)
	}
	engine := query.New(map[string]datasource.Source{"default": engineSrc}, query.Options{
		Timeout: cmp.Or(o.queryTimeout, 30*time.Second), MaxRows: 10_000, ExportMaxRows: 100_000, CacheTTL: o.cacheTTL})
	principals := principal.NewService(store, keys, time.Now)
	aw := audit.NewWriter(store, slog.New(slog.DiscardHandler), audit.Options{})
	t.Cleanup(func() { _ = aw.Close(context.Background()) })
	e := &testEnv{t: t, adminKey: "test-admin-key-0123456789", ring: ring, store: store, src: src, engine: engine, principals: principals, keys: keys}
	e.srv = httptest.NewUnstartedServer(nil)
	issuerURL := "http://" + e.srv.Listener.Addr().String()
	if o.tls {
		issuerURL = "https://" + e.srv.Listener.Addr().String()
	}
	e.issuer = token.NewIssuer(ring, issuerURL)
	e.issuerURL = issuerURL
	opts := api.Options{
		Issuer: issuerURL, AllowedOrigins: []string{hostOrigin}, DefaultCapabilities: []string{"download"},
		EmbedTTL: o.embedTTL, MaxEmbedTTL: 24 * time.Hour, ServiceTTL: time.Hour, AdminKey: e.adminKey,
	}
	if o.apiOptions != nil {
		o.apiOptions(&opts)
	}
	deps := api.Deps{Dashboards: dashes, Engine: engine, Principals: principals, Issuer: e.issuer,
		Verifier: token.NewVerifier(ring, issuerURL, 5*time.Second), Grants: token.NewGrantSealer(keys, nil), Keys: ring, Store: store, Audit: aw,
		Logger: slog.New(slog.DiscardHandler), Secrets: keys, Now: o.now}
	if o.deps != nil {
		o.deps(&deps)
	}
	s, err := api.New(opts, deps)
	if err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = s.Handler()
	if o.tls {
		e.srv.StartTLS()
	} else {
		e.srv.Start()
	}
	t.Cleanup(e.srv.Close)
	e.clientID, e.clientSecret, err = principals.Create(ctx, "test host")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.status, r.body)
	}
	return m
}

// errorCode reads the envelope's error code.
func (r response) errorCode(t testing.TB) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	if e == nil {
		t.Fatalf("no error envelope (%d): %s", r.status, r.body)
	}
	code, _ := e["code"].(string)
	return code
}

func (e *testEnv) do(method, path string, header map[string]string, body io.Reader) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *testEnv) basic() string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(e.clientID+":"+e.clientSecret))
}

func (e *testEnv) postToken(auth string, form url.Values) response {
	e.t.Helper()
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	if auth != "" {
		h["Authorization"] = auth
	}
	return e.do("POST", "/oidc/v1/token", h, strings.NewReader(form.Encode()))
}

func (e *testEnv) serviceToken() string {
	e.t.Helper()
	r := e.postToken(e.basic(), url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if r.status != 200 {
		e.t.Fatalf("service token: %d %s", r.status, r.body)
	}
	return r.json(e.t)["access_token"].(string)
}

func (e *testEnv) tokenInfo(svc, dashboardID string, q url.Values) response {
	e.t.Helper()
	return e.do("GET", "/api/2.0/lakeview/dashboards/"+dashboardID+"/published/tokeninfo?"+q.Encode(),
		map[string]string{"Authorization": "Bearer " + svc}, nil)
}

// exchangeForm builds the third call's form exactly as seed 000's backend does: every tokeninfo
// field, authorization_details JSON-encoded, plus grant_type.
func exchangeForm(t testing.TB, info map[string]any) url.Values {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	for k, v := range info {
		if k == "authorization_details" {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			form.Set(k, string(b))
			continue
		}
		form.Set(k, v.(string))
	}
	return form
}

// embedToken runs the three-call flow for one viewer.
func (e *testEnv) embedToken(dashboardID, viewer, value string, extra url.Values) string {
	e.t.Helper()
	q := url.Values{"external_viewer_id": {viewer}, "external_value": {value}}
	for k, v := range extra {
		q[k] = v
	}
	info := e.tokenInfo(e.serviceToken(), dashboardID, q)
	if info.status != 200 {
		e.t.Fatalf("tokeninfo: %d %s", info.status, info.body)
	}
	r := e.postToken(e.basic(), exchangeForm(e.t, info.json(e.t)))
	if r.status != 200 {
		e.t.Fatalf("scoped token: %d %s", r.status, r.body)
	}
	return r.json(e.t)["access_token"].(string)
}

func (e *testEnv) query(tok, dashboardID, body string) response {
	e.t.Helper()
	return e.do("POST", "/api/v1/embed/dashboards/"+dashboardID+"/query",
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, strings.NewReader(body))
}

// scalar runs SQL directly on the sample DuckDB and returns the first value as a float.
func (e *testEnv) scalar(sql string, args ...any) float64 {
	e.t.Helper()
	res, err := e.src.Query(e.t.Context(), datasource.Query{SQL: sql, Args: args})
	if err != nil {
		e.t.Fatal(err)
	}
	return number(e.t, res.Rows[0][0])
}

func number(t testing.TB, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			t.Fatal(err)
		}
		return f
	case nil:
		return 0
	}
	t.Fatalf("not a number: %T %v", v, v)
	return 0
}

// widgetValue reads the single value of a counter widget from a query response.
func widgetValue(t testing.TB, r response, widget string) float64 {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("query: %d %s", r.status, r.body)
	}
	res := r.json(t)["results"].(map[string]any)[widget].(map[string]any)
	if res["error"] != nil {
		t.Fatalf("widget %s: %v", widget, res["error"])
	}
	rows := res["rows"].([]any)
	if len(rows) != 1 {
		t.Fatalf("widget %s: %d rows", widget, len(rows))
	}
	return number(t, jsonNumber(rows[0].([]any)[0]))
}

func jsonNumber(v any) any {
	if f, ok := v.(float64); ok {
		return f
	}
	return v
}

func createPrincipal(t testing.TB, e *testEnv, name string) (string, string) {
	t.Helper()
	id, secret, err := e.principals.Create(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	return id, secret
}

// pastIssuer signs with the environment's keys but a clock two hours behind, for expired tokens.
func (e *testEnv) pastIssuer() *token.Issuer {
	e.t.Helper()
	ring, err := token.NewKeyRing(e.t.Context(), e.store, e.keys, token.KeyRingOptions{RotateEvery: 24 * time.Hour,
		MaxTokenTTL: 24 * time.Hour, Now: func() time.Time { return time.Now().Add(-2 * time.Hour) }})
	if err != nil {
		e.t.Fatal(err)
	}
	return token.NewIssuer(ring, e.issuerURL)
}
