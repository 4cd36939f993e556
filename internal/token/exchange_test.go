package token

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func newExchange(t *testing.T) (*Exchange, *clock) {
	t.Helper()
	c := newClock()
	return &Exchange{Grants: NewGrantSealer(newKeys(t), c.Now),
		Policy: Policy{EmbedTTL: time.Hour, MaxEmbedTTL: 24 * time.Hour, DefaultCapabilities: []string{CapabilityDownload}}}, c
}

// params is what a host sends back: every tokeninfo field, authorization_details as JSON.
func params(t *testing.T, info *Info) map[string]string {
	t.Helper()
	b, err := json.Marshal(info.AuthorizationDetails)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]string{"grant_type": "client_credentials", "authorization_details": string(b),
		"custom_claim": info.CustomClaim, "scope": info.Scope, "inlay_grant": info.Grant}
}

func codeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestExchangeRoundTrip(t *testing.T) {
	x, _ := newExchange(t)
	info, err := x.TokenInfo(t.Context(), InfoRequest{Subject: "client-1", DashboardID: "sales", UsesExternalValue: true,
		ViewerID: "alice@example.com", ExternalValue: Value("Sales"), Attributes: Value(`{"regions":["East","West"]}`),
		ExpiresIn: Value("600")})
	if err != nil {
		t.Fatal(err)
	}
	if info.CustomClaim != "urn:aibi:external_data:Sales:alice@example.com:sales" || info.Scope != ScopeDashboardEmbed {
		t.Errorf("info = %+v", info)
	}
	claims, ttl, err := x.Embed(t.Context(), ExchangeRequest{Subject: "client-1", Params: params(t, info)})
	if err != nil {
		t.Fatal(err)
	}
	if claims.Kind != KindEmbed || claims.DashboardID != "sales" || *claims.ExternalValue != "Sales" ||
		len(claims.Attributes["regions"]) != 2 || ttl != 10*time.Minute || !claims.Has(CapabilityDownload) {
		t.Errorf("claims = %+v, ttl %v", claims, ttl)
	}
}

func TestTokenInfoRules(t *testing.T) {
	x, _ := newExchange(t)
	base := func() InfoRequest {
		return InfoRequest{Subject: "c", DashboardID: "sales", UsesExternalValue: true, ViewerID: "v", ExternalValue: Value("Sales")}
	}
	tests := []struct {
		name string
		edit func(*InfoRequest)
		ok   bool
	}{
		{"valid", func(*InfoRequest) {}, true},
		{"no viewer", func(r *InfoRequest) { r.ViewerID = "" }, false},
		{"empty external value", func(r *InfoRequest) { r.ExternalValue = Value("") }, false},
		{"empty external value on an attribute-only dashboard", func(r *InfoRequest) { r.UsesExternalValue = false; r.ExternalValue = Value("") }, false},
		{"no external value where the dashboard uses it", func(r *InfoRequest) { r.ExternalValue = Param{} }, false},
		{"no external value on an attribute-only dashboard", func(r *InfoRequest) { r.UsesExternalValue = false; r.ExternalValue = Param{} }, true},
		{"NUL", func(r *InfoRequest) { r.ExternalValue = Value("a\x00") }, false},
		{"bad UTF-8", func(r *InfoRequest) { r.ViewerID = "\xff" }, false},
		{"unknown capability", func(r *InfoRequest) { r.Capabilities = Value("admin") }, false},
		{"no capabilities", func(r *InfoRequest) { r.Capabilities = Value("") }, true},
		{"attributes not an object", func(r *InfoRequest) { r.Attributes = Value(`["a"]`) }, false},
		{"lifetime at the maximum", func(r *InfoRequest) { r.ExpiresIn = Value("86400") }, true},
		{"lifetime above the maximum", func(r *InfoRequest) { r.ExpiresIn = Value("86401") }, false},
		{"lifetime zero", func(r *InfoRequest) { r.ExpiresIn = Value("0") }, false},
		{"lifetime not seconds", func(r *InfoRequest) { r.ExpiresIn = Value("1h") }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base()
			tt.edit(&req)
			info, err := x.TokenInfo(t.Context(), req)
			switch {
			case tt.ok && err != nil:
				t.Fatalf("refused: %v", err)
			case !tt.ok && codeOf(err) != CodeInvalidRequest:
				t.Fatalf("got %v (info %v), want an invalid_request *Error", err, info)
			}
		})
	}
	if _, err := x.TokenInfo(t.Context(), InfoRequest{Subject: "c", DashboardID: "ops", ViewerID: "v"}); err != nil {
		t.Errorf("attribute-only dashboard without external_value: %v", err)
	}
}

func TestEmbedRefusesAnythingTokenInfoDidNotSay(t *testing.T) {
	x, clk := newExchange(t)
	info, err := x.TokenInfo(t.Context(), InfoRequest{Subject: "c", DashboardID: "sales", UsesExternalValue: true,
		ViewerID: "v", ExternalValue: Value("Sales")})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		subject string
		edit    func(map[string]string)
		code    ErrorCode
	}{
		{"another client", "d", func(map[string]string) {}, CodeInvalidGrant},
		{"no grant", "c", func(p map[string]string) { delete(p, "inlay_grant") }, CodeInvalidRequest},
		{"forged grant", "c", func(p map[string]string) { p["inlay_grant"] = "ig1.AAAA" }, CodeInvalidGrant},
		{"edited value", "c", func(p map[string]string) {
			p["authorization_details"] = `[{"type":"inlay_dashboard","dashboard_id":"sales","external_viewer_id":"v","external_value":"Engineering","capabilities":["download"]}]`
		}, CodeInvalidRequest},
		{"edited custom claim", "c", func(p map[string]string) { p["custom_claim"] = "urn:aibi:external_data:X:v:sales" }, CodeInvalidRequest},
		{"other scope", "c", func(p map[string]string) { p["scope"] = ScopeAllAPIs }, CodeInvalidRequest},
		{"extra parameter", "c", func(p map[string]string) { p["external_value"] = "Engineering" }, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := params(t, info)
			tt.edit(p)
			if _, _, err := x.Embed(t.Context(), ExchangeRequest{Subject: tt.subject, Params: p}); codeOf(err) != tt.code {
				t.Errorf("got %v, want code %s", err, tt.code)
			}
		})
	}
	clk.Advance(GrantTTL + time.Second)
	if _, _, err := x.Embed(t.Context(), ExchangeRequest{Subject: "c", Params: params(t, info)}); codeOf(err) != CodeInvalidGrant {
		t.Errorf("expired grant: %v, want invalid_grant", err)
	}
}
