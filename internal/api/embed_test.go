package api_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/token"
)

func TestEmbedTokenRejected(t *testing.T) {
	e := newEnv(t, envOptions{})
	good := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), "Sales", "Finance", 1))) + "." + parts[2]
	header, _ := base64.RawURLEncoding.DecodeString(parts[0])
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(header), `"EdDSA"`, `"none"`, 1)))
	algNone := noneHeader + "." + parts[1] + "."
	expired, _, err := e.pastIssuer().Issue(token.Claims{Kind: token.KindEmbed, Subject: e.clientID, DashboardID: salesDash,
		ViewerID: "alice@example.com", ExternalValue: ptr("Sales")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	otherKey := signWithForeignKey(t, payload, header)
	tests := []struct {
		name   string
		token  string
		dash   string
		status int
		code   string
		reason string
	}{
		{"missing", "", salesDash, 401, "invalid_token", "missing"},
		{"garbage", "not-a-jwt", salesDash, 401, "invalid_token", "malformed"},
		{"tampered payload", tampered, salesDash, 401, "invalid_token", "bad_signature"},
		{"alg none", algNone, salesDash, 401, "invalid_token", "bad_signature"},
		{"signed by another key with our kid", otherKey, salesDash, 401, "invalid_token", "bad_signature"},
		{"expired", expired, salesDash, 401, "invalid_token", "expired"},
		{"service token", e.serviceToken(), salesDash, 401, "invalid_token", "wrong_type"},
		{"other dashboard", good, "operations", 403, "forbidden", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.token != "" {
				h["Authorization"] = "Bearer " + tt.token
			}
			r := e.do("GET", "/api/v1/embed/dashboards/"+tt.dash, h, nil)
			if r.status != tt.status || r.errorCode(t) != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if tt.reason != "" {
				if got := r.json(t)["error"].(map[string]any)["details"].(map[string]any)["reason"]; got != tt.reason {
					t.Errorf("reason = %v, want %s", got, tt.reason)
				}
			}
		})
	}
}

func signWithForeignKey(t *testing.T, payload, header []byte) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	signing := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(payload)
	return signing + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(signing)))
}

func ptr[T any](v T) *T { return &v }

func TestDashboardDefinitionHidesSQL(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	r := e.do("GET", "/api/v1/embed/dashboards/"+salesDash, map[string]string{"Authorization": "Bearer " + tok}, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	body := string(r.body)
	for _, secret := range []string{"SELECT", "__aibi_external_value", `"datasets"`, `"sql"`, `"source"`, `"rls"`} {
		if strings.Contains(body, secret) {
			t.Errorf("the embed dashboard definition leaks %q", secret)
		}
	}
	var got struct {
		Dashboard struct {
			Filters []struct {
				Name    string `json:"name"`
				Options []any  `json:"options"`
			} `json:"filters"`
			Widgets []struct {
				Name string `json:"name"`
			} `json:"widgets"`
		} `json:"dashboard"`
		Viewer struct {
			ID           string   `json:"id"`
			Capabilities []string `json:"capabilities"`
		} `json:"viewer"`
	}
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Dashboard.Widgets) == 0 || got.Viewer.ID != "alice@example.com" {
		t.Errorf("dashboard = %s", r.body)
	}
	// The product options are exactly the products of Sales rows. A renamed or missing filter
	// fails the test rather than skipping the check.
	found := false
	for _, f := range got.Dashboard.Filters {
		if f.Name != "product" {
			continue
		}
		found = true
		res, err := e.src.Query(t.Context(), datasource.Query{SQL: "SELECT DISTINCT CAST(product AS VARCHAR) AS p FROM sales WHERE department = 'Sales' ORDER BY p"})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, row := range res.Rows {
			want = append(want, row[0].(string))
		}
		var opts []string
		for _, o := range f.Options {
			opts = append(opts, fmt.Sprint(o))
		}
		slices.Sort(opts)
		if len(want) == 0 || !slices.Equal(opts, want) {
			t.Errorf("product options %v, want %v", opts, want)
		}
	}
	if !found {
		t.Errorf("the sales dashboard has no \"product\" filter: %s", r.body)
	}
}

func TestQueryBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		detail string
	}{
		{"unknown widget", `{"widgets":["nope"]}`, 400, "unknown_widget", "nope"},
		{"unknown filter", `{"filters":{"colour":"red"}}`, 400, "unknown_filter", "colour"},
		{"multi select given a number", `{"filters":{"region":42}}`, 400, "invalid_filter", "region"},
		{"date range given a string", `{"filters":{"period":"yesterday"}}`, 400, "invalid_filter", "period"},
		{"numeric range given text", `{"filters":{"amount":{"min":"ten"}}}`, 400, "invalid_filter", "amount"},
		{"unknown field", `{"widgetz":[]}`, 400, "bad_request", ""},
		{"not JSON", `{"widgets":`, 400, "bad_request", ""},
		{"huge body", `{"widgets":["` + strings.Repeat("a", 2<<20) + `"]}`, 413, "body_too_large", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.query(tok, salesDash, tt.body)
			if r.status != tt.status || r.errorCode(t) != tt.code {
				t.Fatalf("got %d %.300s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if tt.detail != "" {
				details := r.json(t)["error"].(map[string]any)["details"].(map[string]any)
				if details["filter"] != tt.detail && details["widget"] != tt.detail {
					t.Errorf("details %v do not name %q", details, tt.detail)
				}
			}
			if strings.Contains(string(r.body), "SELECT") {
				t.Errorf("the error leaks SQL: %s", r.body)
			}
		})
	}
}

// TestExternalValueInjection: hostile external values are bound parameters, so they match only
// rows whose department equals them exactly: none.
func TestExternalValueInjection(t *testing.T) {
	e := newEnv(t, envOptions{})
	payloads := []string{
		`' OR '1'='1`, `Sales' --`, `Sales' OR department <> '`, `"; DROP TABLE sales; --`, `Sales\`,
		`Sales''`, `%`, `__aibi_external_value`, strings.Repeat("Sales", 800),
	}
	for _, p := range payloads {
		t.Run(fmt.Sprintf("%.20q", p), func(t *testing.T) {
			tok := e.embedToken(salesDash, "mallory@example.com", p, nil)
			r := e.query(tok, salesDash, `{"widgets":["orders"]}`)
			if got := widgetValue(t, r, "orders"); got != 0 {
				t.Fatalf("orders = %v for a value that matches no department", got)
			}
			if strings.Contains(string(r.body), "SELECT") {
				t.Errorf("response leaks SQL: %s", r.body)
			}
		})
	}
	if e.scalar("SELECT count(*) FROM sales") != testRows {
		t.Fatal("the sales table was changed")
	}
}

func TestFiltersApply(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	r := e.query(tok, salesDash, `{"widgets":["revenue"],"filters":{"region":["East","West"],"amount":{"min":100}}}`)
	got := widgetValue(t, r, "revenue")
	want := e.scalar("SELECT sum(amount) FROM sales WHERE department = 'Sales' AND region IN ('East','West') AND amount >= 100")
	if got != want {
		t.Errorf("filtered revenue = %v, want %v", got, want)
	}
}

// The viewer's first run asks for the dashboard's defaults so it need not wait for the
// definition: defaults apply, given filters replace them, and null clears one.
func TestQueryWithDefaults(t *testing.T) {
	e := newEnv(t, envOptions{editDashboards: func(ds []*dashboard.Dashboard) {
		for _, d := range ds {
			if d.ID == salesDash {
				f, _ := d.Filter("region")
				f.Default = []any{"East"}
				f, _ = d.Filter("amount")
				f.Default = map[string]any{"min": 100}
			}
		}
	}})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	revenue := func(body string) any {
		t.Helper()
		return widgetValue(t, e.query(tok, salesDash, body), "revenue")
	}
	const sales = "SELECT sum(amount) FROM sales WHERE department = 'Sales'"
	for _, c := range []struct{ name, body, want string }{
		{"defaults apply", `{"widgets":["revenue"],"defaults":true}`, sales + " AND region = 'East' AND amount >= 100"},
		{"a given filter replaces its default", `{"widgets":["revenue"],"defaults":true,"filters":{"region":["West"]}}`, sales + " AND region = 'West' AND amount >= 100"},
		{"null clears a default", `{"widgets":["revenue"],"defaults":true,"filters":{"amount":null}}`, sales + " AND region = 'East'"},
		{"without defaults nothing restricts", `{"widgets":["revenue"]}`, sales},
	} {
		if got, want := revenue(c.body), e.scalar(c.want); got != want {
			t.Errorf("%s: revenue = %v, want %v", c.name, got, want)
		}
	}
	r := e.query(tok, salesDash, `{"defaults":true,"filters":{"nope":"x"}}`)
	if r.status != http.StatusBadRequest || r.errorCode(t) != "unknown_filter" {
		t.Errorf("unknown filter with defaults: %d %s", r.status, r.body)
	}
}

func TestCORS(t *testing.T) {
	e := newEnv(t, envOptions{})
	allowed := e.do("OPTIONS", "/api/v1/embed/dashboards/sales/query", map[string]string{"Origin": hostOrigin, "Access-Control-Request-Method": "POST"}, nil)
	if allowed.header.Get("Access-Control-Allow-Origin") != hostOrigin {
		t.Errorf("allowed origin: ACAO = %q", allowed.header.Get("Access-Control-Allow-Origin"))
	}
	denied := e.do("OPTIONS", "/api/v1/embed/dashboards/sales/query", map[string]string{"Origin": otherOrigin, "Access-Control-Request-Method": "POST"}, nil)
	if got := denied.header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("other origin: ACAO = %q, want none", got)
	}
	token := e.do("POST", "/oidc/v1/token", map[string]string{"Origin": hostOrigin}, nil)
	if token.header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("the token endpoint must not be callable from browsers")
	}
}

func TestViewerPageFraming(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.do("GET", "/embed/dashboards/sales?embed_domain="+url.QueryEscape(hostOrigin), nil, nil)
	csp := r.header.Get("Content-Security-Policy")
	if r.status != 200 || !strings.Contains(csp, "frame-ancestors "+hostOrigin) {
		t.Errorf("allowed: %d, CSP %q", r.status, csp)
	}
	if r.header.Get("X-Frame-Options") != "" {
		t.Error("X-Frame-Options would block every cross-origin embed")
	}
	r = e.do("GET", "/embed/dashboards/sales?embed_domain="+url.QueryEscape(otherOrigin), nil, nil)
	if r.status != 403 || !strings.Contains(r.header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("disallowed: %d, CSP %q", r.status, r.header.Get("Content-Security-Policy"))
	}
}

func TestExport(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	r := e.do("POST", "/api/v1/embed/dashboards/sales/widgets/by_region/export",
		map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}, strings.NewReader(`{"filters":{}}`))
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	records, err := csv.NewReader(strings.NewReader(string(r.body))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := e.scalar("SELECT count(DISTINCT region) FROM sales WHERE department = 'Sales'"); float64(len(records)-1) != want {
		t.Errorf("export has %d data rows, want %v", len(records)-1, want)
	}
	noDownload := e.embedToken(salesDash, "alice@example.com", "Sales", url.Values{"capabilities": {""}})
	r = e.do("POST", "/api/v1/embed/dashboards/sales/widgets/by_region/export",
		map[string]string{"Authorization": "Bearer " + noDownload}, nil)
	if r.status != 403 || r.errorCode(t) != "forbidden" {
		t.Errorf("without the download capability: %d %s", r.status, r.body)
	}
}

// TestJWKSVerifiesTokens checks another service can verify Inlay's tokens from discovery alone.
func TestJWKSVerifiesTokens(t *testing.T) {
	e := newEnv(t, envOptions{})
	disc := e.do("GET", "/.well-known/openid-configuration", nil, nil).json(t)
	jwksURL, _ := disc["jwks_uri"].(string)
	if !strings.HasPrefix(jwksURL, e.srv.URL) {
		t.Fatalf("jwks_uri = %q", jwksURL)
	}
	var jwks struct {
		Keys []struct{ Kid, Kty, Crv, X string } `json:"keys"`
	}
	if err := json.Unmarshal(e.do("GET", strings.TrimPrefix(jwksURL, e.srv.URL), nil, nil).body, &jwks); err != nil {
		t.Fatal(err)
	}
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	parsed, err := jwt.Parse(tok, func(tk *jwt.Token) (any, error) {
		for _, k := range jwks.Keys {
			if k.Kid == tk.Header["kid"] && k.Kty == "OKP" && k.Crv == "Ed25519" {
				x, err := base64.RawURLEncoding.DecodeString(k.X)
				return ed25519.PublicKey(x), err
			}
		}
		return nil, fmt.Errorf("kid %v not in JWKS", tk.Header["kid"])
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithIssuer(e.srv.URL), jwt.WithAudience("inlay-embed"))
	if err != nil || !parsed.Valid {
		t.Fatalf("a third party cannot verify the embed token with the JWKS: %v", err)
	}
}

func TestAuditRecordsTokensAndQueries(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	e.query(tok, salesDash, `{"widgets":["revenue"]}`)
	if r := e.do("GET", "/api/v1/admin/audit", map[string]string{"Authorization": "Bearer wrong"}, nil); r.status != 401 {
		t.Errorf("wrong admin key: %d", r.status)
	}
	r := e.do("GET", "/api/v1/admin/audit?viewer_id=alice%40example.com", map[string]string{"Authorization": "Bearer " + e.adminKey}, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var body struct {
		Events []struct {
			Kind        string `json:"kind"`
			ViewerID    string `json:"viewer_id"`
			DashboardID string `json:"dashboard_id"`
			Widget      string `json:"widget"`
			Outcome     string `json:"outcome"`
		} `json:"events"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	var minted, queried bool
	for _, ev := range body.Events {
		minted = minted || ev.Kind == "token.minted" && ev.DashboardID == salesDash
		queried = queried || ev.Kind == "dashboard.query" && ev.Widget == "revenue" && ev.Outcome == "ok"
	}
	if !minted || !queried {
		t.Errorf("audit %s lacks the minted token or the query", r.body)
	}
	if strings.Contains(string(r.body), e.clientSecret) || strings.Contains(string(r.body), tok) {
		t.Error("the audit log holds a secret or a token")
	}
}

// TestUnreachableDatabase: when the database is gone, viewers get 503 datasource_unavailable
// (per widget inside a query response), never a connection string.
func TestUnreachableDatabase(t *testing.T) {
	src, err := duckdb.Open(t.Context(), duckdb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Exec(t.Context(), "CREATE TABLE sales AS SELECT * FROM (VALUES (1, TIMESTAMP '2025-01-01', 'East', 'Sales', 'A', 'C', 1.0)) t(id, ts, region, department, product, customer, amount)"); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, envOptions{source: src})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	if got := widgetValue(t, e.query(tok, salesDash, `{"widgets":["orders"]}`), "orders"); got != 1 {
		t.Fatalf("orders before the outage = %v", got)
	}
	src.Close()
	r := e.do("GET", "/api/v1/embed/dashboards/"+salesDash, map[string]string{"Authorization": "Bearer " + tok}, nil)
	if r.status != 503 || r.errorCode(t) != "datasource_unavailable" {
		t.Errorf("dashboard load: %d %s, want 503 datasource_unavailable", r.status, r.body)
	}
	r = e.query(tok, salesDash, `{"widgets":["orders"]}`)
	res := r.json(t)["results"].(map[string]any)["orders"].(map[string]any)
	if code := res["error"].(map[string]any)["code"]; r.status != 200 || code != "datasource_unavailable" {
		t.Errorf("query: %d %s, want the widget to fail with datasource_unavailable", r.status, r.body)
	}
}

// TestEmptyResultShape: a widget with no rows still has "rows": [] and "truncated": false, and
// an errored widget has them too, so clients never meet a missing key.
func TestEmptyResultShape(t *testing.T) {
	e := newEnv(t, envOptions{})
	tok := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	r := e.query(tok, salesDash, `{"widgets":["by_region","top_customers"],"filters":{"amount":{"min":1e15}}}`)
	if r.status != 200 {
		t.Fatalf("query: %d %s", r.status, r.body)
	}
	var body struct {
		Results map[string]map[string]json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"by_region", "top_customers"} {
		res := body.Results[w]
		if got := string(res["rows"]); got != "[]" {
			t.Errorf("%s: rows = %q, want []", w, got)
		}
		if got := string(res["truncated"]); got != "false" {
			t.Errorf("%s: truncated = %q, want false", w, got)
		}
	}
}
