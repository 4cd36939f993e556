package api_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/inlay/inlay/internal/api"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/ratelimit"
	"github.com/inlay/inlay/internal/telemetry"
)

// One span per request (named for its route), per widget query and per data-source call, in one
// trace; no attribute holds a token, a secret, an RLS or filter value, or SQL.
func TestTracesHaveNoSecretsOrValues(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	e := newEnv(t, envOptions{
		wrapSource: func(s datasource.Source) datasource.Source { return telemetry.ObserveSource("default", s, nil, tp) },
		deps:       func(d *api.Deps) { d.Tracer = tp.Tracer(telemetry.TracerName) },
	})
	const rlsValue, filterValue = "Sales", "Widget Pro"
	tok := e.embedToken(salesDash, "alice@example.com", rlsValue, nil)
	r := e.query(tok, salesDash, `{"widgets":["revenue","by_region"],"filters":{"product":"`+filterValue+`"}}`)
	if r.status != http.StatusOK {
		t.Fatalf("query: %d %s", r.status, r.body)
	}

	var request sdktrace.ReadOnlySpan
	widgets := map[string]bool{}
	var sourceCalls []sdktrace.ReadOnlySpan
	for _, s := range rec.Ended() {
		switch s.Name() {
		case "POST /api/v1/embed/dashboards/{id}/query":
			request = s
		case "widget.query":
			for _, a := range s.Attributes() {
				if a.Key == "inlay.widget" {
					widgets[a.Value.AsString()] = true
				}
			}
		case "datasource.query":
			sourceCalls = append(sourceCalls, s)
		}
		for _, a := range s.Attributes() {
			v := a.Value.Emit()
			for _, secret := range []string{rlsValue, filterValue, tok, e.clientSecret, "SELECT", "alice@example.com"} {
				if strings.Contains(v, secret) {
					t.Errorf("span %q attribute %s = %q holds %q", s.Name(), a.Key, v, secret)
				}
			}
		}
	}
	if request == nil {
		t.Fatal("no span named for the query route")
	}
	if !widgets["revenue"] || !widgets["by_region"] {
		t.Errorf("widget spans for %v, want revenue and by_region", widgets)
	}
	if len(sourceCalls) < 2 {
		t.Fatalf("%d data-source spans, want one per query", len(sourceCalls))
	}
	for _, s := range sourceCalls {
		if s.SpanContext().TraceID() != request.SpanContext().TraceID() {
			t.Error("a data-source span is not in the request's trace")
		}
	}
}

// /metrics counts requests by route and status, tokens, queries by source and outcome, cache
// hits and RLS refusals.
func TestMetrics(t *testing.T) {
	m := telemetry.NewMetrics()
	var e *testEnv
	e = newEnv(t, envOptions{
		cacheTTL:   time.Minute,
		wrapSource: func(s datasource.Source) datasource.Source { return telemetry.ObserveSource("default", s, m, nil) },
		deps: func(d *api.Deps) {
			d.Observer = m
			d.Metrics = m.Handler()
			m.WatchEngine(d.Engine.Stats)
			m.WatchAuditQueue(d.Audit.Queued)
		},
	})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	for range 2 { // the second is answered from the cache
		if r := e.query(tok, salesDash, `{"widgets":["revenue"]}`); r.status != http.StatusOK {
			t.Fatalf("query: %d %s", r.status, r.body)
		}
	}
	e.do("GET", "/no/such/path", nil, nil)
	// A token without the "regions" attribute the operations dashboard's RLS needs.
	partial := e.embedToken("operations", "ops@example.com", "x", url.Values{"attributes": {`{"department":"Sales"}`}})
	if r := e.query(partial, "operations", `{}`); r.status != http.StatusOK || !strings.Contains(string(r.body), "rls_value_missing") {
		t.Fatalf("query without an RLS attribute: %d %s", r.status, r.body)
	}

	r := e.do("GET", "/metrics", nil, nil)
	if r.status != http.StatusOK {
		t.Fatalf("/metrics: %d", r.status)
	}
	body := string(r.body)
	for _, want := range []string{
		`inlay_http_requests_total{code="200",method="POST",route="POST /api/v1/embed/dashboards/{id}/query"} 3`,
		`inlay_http_requests_total{code="200",method="POST",route="POST /oidc/v1/token"} 4`,
		`inlay_http_requests_total{code="404",method="GET",route="/"} 1`,
		`inlay_http_request_duration_seconds_bucket{route="POST /api/v1/embed/dashboards/{id}/query",le="+Inf"} 3`,
		`inlay_tokens_minted_total{kind="embed"} 2`,
		`inlay_tokens_minted_total{kind="service"} 2`,
		`inlay_datasource_queries_total{outcome="ok",source="default"} 1`,
		`inlay_query_cache_hits_total 1`,
		`inlay_query_coalesced_total 0`,
		`inlay_audit_queue_depth `,
		`inlay_rls_refusals_total `,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(body, "inlay_rls_refusals_total 0") {
		t.Error("RLS refusals were not counted")
	}
	if strings.Contains(body, "alice") || strings.Contains(body, "Sales") {
		t.Error("/metrics holds a viewer's values")
	}
}

// Token endpoints are limited per principal, the embed API per embed token: 429 with
// Retry-After, and the other principal or token is unaffected.
func TestRateLimits(t *testing.T) {
	e := newEnv(t, envOptions{deps: func(d *api.Deps) {
		d.TokenLimiter = ratelimit.New(0.01, 4, nil)
		d.QueryLimiter = ratelimit.New(0.01, 2, nil)
	}})
	// embedToken takes 3 token requests (service token, tokeninfo, exchange).
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	svcResp := e.postToken(e.basic(), url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if svcResp.status != 200 {
		t.Fatalf("fourth token request: %d", svcResp.status)
	}
	r := e.postToken(e.basic(), url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if r.status != http.StatusTooManyRequests || r.json(t)["error"] != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("fifth token request: %d %v %s", r.status, r.header, r.body)
	}
	info := e.tokenInfo(svcResp.json(t)["access_token"].(string), salesDash, url.Values{"external_viewer_id": {"a"}, "external_value": {"Sales"}})
	if info.status != http.StatusTooManyRequests || info.json(t)["error_code"] != "REQUEST_LIMIT_EXCEEDED" || info.header.Get("Retry-After") == "" {
		t.Fatalf("tokeninfo over the limit: %d %s", info.status, info.body)
	}
	// Another principal has its own budget.
	id, secret := createPrincipal(t, e, "other host")
	other := e.postToken(basicAuth(id, secret), url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}})
	if other.status != http.StatusOK {
		t.Fatalf("another principal: %d %s", other.status, other.body)
	}

	for i := range 2 {
		if r := e.query(tok, salesDash, `{"widgets":["revenue"]}`); r.status != http.StatusOK {
			t.Fatalf("query %d: %d %s", i+1, r.status, r.body)
		}
	}
	r = e.query(tok, salesDash, `{"widgets":["revenue"]}`)
	if r.status != http.StatusTooManyRequests || r.errorCode(t) != "rate_limited" || r.header.Get("Retry-After") == "" {
		t.Fatalf("third query: %d %v %s", r.status, r.header, r.body)
	}
}

func basicAuth(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// The Looker API login is a token endpoint too: limited per service principal.
func TestLookerLoginRateLimited(t *testing.T) {
	l := newLookerEnv(t, envOptions{deps: func(d *api.Deps) { d.TokenLimiter = ratelimit.New(0.01, 1, nil) }})
	l.apiLogin()
	r := l.send("POST", "/api/4.0/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		url.Values{"client_id": {l.clientID}, "client_secret": {l.clientSecret}}.Encode())
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "rate_limited") {
		t.Fatalf("second login: %d %v %s", r.status, r.header, r.body)
	}
}
