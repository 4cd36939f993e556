package api_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestSeedFlow runs seed 000's three calls over real HTTP, exactly as its Flask backend does, and
// checks that each viewer's dashboard shows their department's numbers and only those.
func TestSeedFlow(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, dept := range []string{"Sales", "Engineering"} {
		t.Run(dept, func(t *testing.T) {
			tok := e.embedToken(salesDash, strings.ToLower(dept)+"@example.com", dept, nil)
			got := widgetValue(t, e.query(tok, salesDash, `{"widgets":["revenue","orders"]}`), "revenue")
			want := e.scalar("SELECT sum(amount) FROM sales WHERE department = ?", dept)
			all := e.scalar("SELECT sum(amount) FROM sales")
			if got != want {
				t.Errorf("revenue = %v, want %v (the %s rows)", got, want, dept)
			}
			if got <= 0 || got >= all {
				t.Errorf("revenue %v should be a strict part of the total %v", got, all)
			}
			orders := widgetValue(t, e.query(tok, salesDash, `{"widgets":["orders"]}`), "orders")
			if want := e.scalar("SELECT count(*) FROM sales WHERE department = ?", dept); orders != want {
				t.Errorf("orders = %v, want %v", orders, want)
			}
		})
	}
}

func TestTokenInfoResponseShape(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.tokenInfo(e.serviceToken(), salesDash, url.Values{"external_viewer_id": {"alice@example.com"}, "external_value": {"Sales"}})
	if r.status != 200 {
		t.Fatalf("tokeninfo: %d %s", r.status, r.body)
	}
	m := r.json(t)
	if got, want := m["custom_claim"], "urn:aibi:external_data:Sales:alice@example.com:sales"; got != want {
		t.Errorf("custom_claim = %v, want %v", got, want)
	}
	details, ok := m["authorization_details"].([]any)
	if !ok || len(details) != 1 || details[0].(map[string]any)["type"] == "" {
		t.Errorf("authorization_details = %v, want one RFC 9396 entry with a type", m["authorization_details"])
	}
	if m["scope"] == "" {
		t.Error("scope is empty")
	}
}

func TestListDashboards(t *testing.T) {
	e := newEnv(t, envOptions{})
	r := e.do("GET", "/api/2.0/lakeview/dashboards", map[string]string{"Authorization": "Bearer " + e.serviceToken()}, nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var body struct {
		Dashboards []struct {
			DashboardID string `json:"dashboard_id"`
			DisplayName string `json:"display_name"`
		} `json:"dashboards"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, d := range body.Dashboards {
		if d.DashboardID == salesDash && d.DisplayName != "" {
			found = true
		}
	}
	if !found {
		t.Errorf("dashboards %s do not list %q with a display name", r.body, salesDash)
	}
	if r := e.do("GET", "/api/2.0/lakeview/dashboards", nil, nil); r.status != 401 {
		t.Errorf("without a token: %d, want 401", r.status)
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	good := url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}}
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
	}
	tests := []struct {
		name        string
		auth        string
		form        url.Values
		contentType string
		status      int
		code        string
	}{
		{"no client authentication", "", good, "", 401, "invalid_client"},
		{"wrong secret", basic(e.clientID, "inlay_secret_wrong"), good, "", 401, "invalid_client"},
		{"unknown client", basic("inlay-nobody", e.clientSecret), good, "", 401, "invalid_client"},
		{"password grant", e.basic(), url.Values{"grant_type": {"password"}, "scope": {"all-apis"}}, "", 400, "unsupported_grant_type"},
		{"missing grant type", e.basic(), url.Values{"scope": {"all-apis"}}, "", 400, "unsupported_grant_type"},
		{"other scope", e.basic(), url.Values{"grant_type": {"client_credentials"}, "scope": {"admin"}}, "", 400, "invalid_scope"},
		{"JSON body", e.basic(), good, "application/json", 400, "invalid_request"},
		{"repeated parameter", e.basic(), url.Values{"grant_type": {"client_credentials", "client_credentials"}, "scope": {"all-apis"}}, "", 400, "invalid_request"},
		{"secret in form and header", e.basic(), url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"}, "client_secret": {e.clientSecret}}, "", 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
			if tt.contentType != "" {
				h["Content-Type"] = tt.contentType
			}
			if tt.auth != "" {
				h["Authorization"] = tt.auth
			}
			r := e.do("POST", "/oidc/v1/token", h, strings.NewReader(tt.form.Encode()))
			if r.status != tt.status || r.json(t)["error"] != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
			if strings.Contains(string(r.body), e.clientSecret) {
				t.Error("the response echoes the client secret")
			}
			if tt.code == "invalid_client" && r.header.Get("WWW-Authenticate") == "" {
				t.Error("invalid_client without WWW-Authenticate")
			}
		})
	}
	t.Run("form client authentication", func(t *testing.T) {
		r := e.postToken("", url.Values{"grant_type": {"client_credentials"}, "scope": {"all-apis"},
			"client_id": {e.clientID}, "client_secret": {e.clientSecret}})
		if r.status != 200 || r.json(t)["access_token"] == "" || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("got %d %s (Cache-Control %q)", r.status, r.body, r.header.Get("Cache-Control"))
		}
	})
}

func TestTokenInfoErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	svc := e.serviceToken()
	embed := e.embedToken(salesDash, "alice@example.com", "Sales", nil)
	ok := url.Values{"external_viewer_id": {"alice@example.com"}, "external_value": {"Sales"}}
	tests := []struct {
		name   string
		token  string
		dash   string
		query  url.Values
		status int
		code   string
	}{
		{"missing viewer id", svc, salesDash, url.Values{"external_value": {"Sales"}}, 400, "INVALID_PARAMETER_VALUE"},
		{"missing external value", svc, salesDash, url.Values{"external_viewer_id": {"alice@example.com"}}, 400, "INVALID_PARAMETER_VALUE"},
		{"no parameters", svc, salesDash, url.Values{}, 400, "INVALID_PARAMETER_VALUE"},
		{"empty external value", svc, salesDash, url.Values{"external_viewer_id": {"a"}, "external_value": {""}}, 400, "INVALID_PARAMETER_VALUE"},
		{"empty external value, attribute-only dashboard", svc, "operations", url.Values{"external_viewer_id": {"a"}, "external_value": {""}}, 400, "INVALID_PARAMETER_VALUE"},
		{"lifetime above max_embed_ttl", svc, salesDash, url.Values{"external_viewer_id": {"a"}, "external_value": {"Sales"}, "expires_in": {"86401"}}, 400, "INVALID_PARAMETER_VALUE"},
		{"lifetime not a number", svc, salesDash, url.Values{"external_viewer_id": {"a"}, "external_value": {"Sales"}, "expires_in": {"1h"}}, 400, "INVALID_PARAMETER_VALUE"},
		{"lifetime zero", svc, salesDash, url.Values{"external_viewer_id": {"a"}, "external_value": {"Sales"}, "expires_in": {"0"}}, 400, "INVALID_PARAMETER_VALUE"},
		{"NUL in external value", svc, salesDash, url.Values{"external_viewer_id": {"a"}, "external_value": {"Sales\x00"}}, 400, "INVALID_PARAMETER_VALUE"},
		{"invalid UTF-8", svc, salesDash, url.Values{"external_viewer_id": {"a"}, "external_value": {"Sal\xffes"}}, 400, "INVALID_PARAMETER_VALUE"},
		{"very long value", svc, salesDash, url.Values{"external_viewer_id": {"a"}, "external_value": {strings.Repeat("x", 100_000)}}, 400, "INVALID_PARAMETER_VALUE"},
		{"attributes not JSON", svc, salesDash, url.Values{"external_viewer_id": {"a"}, "external_value": {"Sales"}, "attributes": {"{"}}, 400, "INVALID_PARAMETER_VALUE"},
		{"unknown capability", svc, salesDash, url.Values{"external_viewer_id": {"a"}, "external_value": {"Sales"}, "capabilities": {"admin"}}, 400, "INVALID_PARAMETER_VALUE"},
		{"no token", "", salesDash, ok, 401, "UNAUTHENTICATED"},
		{"embed token instead of service token", embed, salesDash, ok, 401, "UNAUTHENTICATED"},
		{"unknown dashboard", svc, "nope", ok, 404, "RESOURCE_DOES_NOT_EXIST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.token != "" {
				h["Authorization"] = "Bearer " + tt.token
			}
			r := e.do("GET", "/api/2.0/lakeview/dashboards/"+tt.dash+"/published/tokeninfo?"+tt.query.Encode(), h, nil)
			if r.status != tt.status || r.json(t)["error_code"] != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.body, tt.status, tt.code)
			}
		})
	}
}

// TestExchangeRejectsEditedGrant: the scoped-token call must carry exactly what tokeninfo
// returned; a host (or attacker) who edits the viewer's value in between gets nothing.
func TestExchangeRejectsEditedGrant(t *testing.T) {
	e := newEnv(t, envOptions{})
	info := e.tokenInfo(e.serviceToken(), salesDash, url.Values{"external_viewer_id": {"alice@example.com"}, "external_value": {"Sales"}}).json(t)
	edit := func(f func(form url.Values)) url.Values {
		form := exchangeForm(t, info)
		f(form)
		return form
	}
	tests := []struct {
		name string
		form url.Values
		code string
	}{
		{"external value in authorization_details", edit(func(f url.Values) {
			f.Set("authorization_details", strings.Replace(f.Get("authorization_details"), `"Sales"`, `"Engineering"`, 1))
		}), "invalid_request"},
		{"dashboard in authorization_details", edit(func(f url.Values) {
			f.Set("authorization_details", strings.Replace(f.Get("authorization_details"), `"dashboard_id":"sales"`, `"dashboard_id":"operations"`, 1))
		}), "invalid_request"},
		{"capability added", edit(func(f url.Values) {
			f.Set("authorization_details", strings.Replace(f.Get("authorization_details"), `"capabilities":["download"]`, `"capabilities":["download","admin"]`, 1))
		}), "invalid_request"},
		{"custom claim", edit(func(f url.Values) {
			f.Set("custom_claim", "urn:aibi:external_data:Engineering:alice@example.com:sales")
		}), "invalid_request"},
		{"grant dropped", edit(func(f url.Values) { f.Del("inlay_grant") }), "invalid_request"},
		{"grant tampered", edit(func(f url.Values) { f.Set("inlay_grant", f.Get("inlay_grant")+"x") }), "invalid_grant"},
		{"grant replaced by a service token", edit(func(f url.Values) { f.Set("inlay_grant", e.serviceToken()) }), "invalid_grant"},
		{"authorization_details not JSON", edit(func(f url.Values) { f.Set("authorization_details", "[{") }), "invalid_request"},
		{"two entries", edit(func(f url.Values) {
			d := f.Get("authorization_details")
			f.Set("authorization_details", "["+d[1:len(d)-1]+","+d[1:len(d)-1]+"]")
		}), "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.postToken(e.basic(), tt.form)
			if r.status != 400 || r.json(t)["error"] != tt.code {
				t.Fatalf("got %d %s, want 400 %s", r.status, r.body, tt.code)
			}
		})
	}
	t.Run("python json.dumps spacing is accepted", func(t *testing.T) {
		form := exchangeForm(t, info)
		spaced := strings.NewReplacer(`":`, `": `, `,"`, `, "`).Replace(form.Get("authorization_details"))
		form.Set("authorization_details", spaced)
		if r := e.postToken(e.basic(), form); r.status != 200 {
			t.Fatalf("got %d %s", r.status, r.body)
		}
	})
	t.Run("another principal cannot use the grant", func(t *testing.T) {
		other := newEnvPrincipal(t, e)
		if r := e.postToken(other, exchangeForm(t, info)); r.status != 400 || r.json(t)["error"] != "invalid_grant" {
			t.Fatalf("got %d %s, want 400 invalid_grant", r.status, r.body)
		}
	})
}

// newEnvPrincipal creates a second principal on e and returns its Basic header.
func newEnvPrincipal(t *testing.T, e *testEnv) string {
	t.Helper()
	id, secret := createPrincipal(t, e, "second host")
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

// TestExternalValueOnlyWhereUsed: a dashboard filtered only by attributes (operations) needs no
// external_value, and its token works; the sales dashboard, which names __aibi_external_value,
// still requires one.
func TestExternalValueOnlyWhereUsed(t *testing.T) {
	e := newEnv(t, envOptions{})
	svc := e.serviceToken()
	info := e.tokenInfo(svc, "operations", url.Values{"external_viewer_id": {"ops@example.com"},
		"attributes": {`{"department":"Sales","regions":["EMEA"]}`}})
	if info.status != 200 {
		t.Fatalf("tokeninfo without external_value on an attribute-only dashboard: %d %s", info.status, info.body)
	}
	details := info.json(t)["authorization_details"].([]any)[0].(map[string]any)
	if v, present := details["external_value"]; !present || v != nil {
		t.Errorf("external_value = %v (present %v), want null", v, present)
	}
	r := e.postToken(e.basic(), exchangeForm(t, info.json(t)))
	if r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	tok := r.json(t)["access_token"].(string)
	q := e.query(tok, "operations", `{}`)
	if q.status != 200 {
		t.Fatalf("query: %d %s", q.status, q.body)
	}
	for name, res := range q.json(t)["results"].(map[string]any) {
		if res.(map[string]any)["error"] != nil {
			t.Errorf("widget %s: %v", name, res.(map[string]any)["error"])
		}
	}

	r2 := e.tokenInfo(svc, salesDash, url.Values{"external_viewer_id": {"a"}})
	if r2.status != 400 || !strings.Contains(string(r2.body), "__aibi_external_value") {
		t.Errorf("sales without external_value: %d %s, want 400 naming __aibi_external_value", r2.status, r2.body)
	}
}

// TestEmbedLifetimeAsked: a caller may ask for a shorter or a longer embed token than
// tokens.embed_ttl, up to max_embed_ttl; the lifetime is sealed in the grant, so editing it in
// the exchange is refused.
func TestEmbedLifetimeAsked(t *testing.T) {
	e := newEnv(t, envOptions{embedTTL: time.Hour})
	svc := e.serviceToken()
	for _, secs := range []int{60, 7200} {
		info := e.tokenInfo(svc, salesDash, url.Values{"external_viewer_id": {"a"}, "external_value": {"Sales"},
			"expires_in": {strconv.Itoa(secs)}})
		if info.status != 200 {
			t.Fatalf("tokeninfo: %d %s", info.status, info.body)
		}
		form := exchangeForm(t, info.json(t))
		r := e.postToken(e.basic(), form)
		if r.status != 200 {
			t.Fatalf("exchange: %d %s", r.status, r.body)
		}
		if got := r.json(t)["expires_in"].(float64); got > float64(secs) || got < float64(secs-5) {
			t.Errorf("asked %ds, got expires_in %v", secs, got)
		}
		edited := strings.Replace(form.Get("authorization_details"), `"expires_in":`+strconv.Itoa(secs), `"expires_in":86400`, 1)
		if edited == form.Get("authorization_details") {
			t.Fatalf("authorization_details carries no expires_in: %s", edited)
		}
		form.Set("authorization_details", edited)
		if r := e.postToken(e.basic(), form); r.status != 400 {
			t.Errorf("edited lifetime: %d %s, want 400", r.status, r.body)
		}
	}
}

// TestRLSValueMissingShapes: a token lacking an attribute the dashboard's rules need gets
// rls_value_missing as a 403 for the definition and the export, and as each widget's error (in
// a 200 answer) on the query endpoint, as docs/api.md says.
func TestRLSValueMissingShapes(t *testing.T) {
	e := newEnv(t, envOptions{})
	info := e.tokenInfo(e.serviceToken(), "operations", url.Values{"external_viewer_id": {"v"}})
	if info.status != 200 {
		t.Fatalf("tokeninfo: %d %s", info.status, info.body)
	}
	r := e.postToken(e.basic(), exchangeForm(t, info.json(t)))
	if r.status != 200 {
		t.Fatalf("exchange: %d %s", r.status, r.body)
	}
	tok := r.json(t)["access_token"].(string)
	auth := map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json"}

	def := e.do("GET", "/api/v1/embed/dashboards/operations", auth, nil)
	if def.status != 403 || def.errorCode(t) != "rls_value_missing" {
		t.Errorf("definition: %d %s, want 403 rls_value_missing", def.status, def.body)
	}
	q := e.query(tok, "operations", `{}`)
	if q.status != 200 {
		t.Fatalf("query: %d %s, want 200 with per-widget errors", q.status, q.body)
	}
	results := q.json(t)["results"].(map[string]any)
	if len(results) == 0 {
		t.Fatal("no widget results")
	}
	var widget string
	for name, res := range results {
		widget = name
		errObj, _ := res.(map[string]any)["error"].(map[string]any)
		if errObj == nil || errObj["code"] != "rls_value_missing" {
			t.Errorf("widget %s: %v, want error rls_value_missing", name, res)
		}
	}
	ex := e.do("POST", "/api/v1/embed/dashboards/operations/widgets/"+widget+"/export", auth, strings.NewReader(`{}`))
	if ex.status != 403 || ex.errorCode(t) != "rls_value_missing" {
		t.Errorf("export: %d %s, want 403 rls_value_missing", ex.status, ex.body)
	}
}
