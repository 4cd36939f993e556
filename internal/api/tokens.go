package api

import (
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/principal"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/token"
)

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// handleToken is POST /oidc/v1/token: client credentials, either for a service token
// (scope=all-apis) or, with the fields of a tokeninfo response, for a scoped embed token.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return errorf(http.StatusBadRequest, codeInvalidRequest, "the body must be application/x-www-form-urlencoded")
	}
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errorf(http.StatusRequestEntityTooLarge, codeInvalidRequest, "the request body is too large")
		}
		return errorf(http.StatusBadRequest, codeInvalidRequest, "the form body could not be parsed")
	}
	form := r.PostForm
	for k, v := range form {
		if len(v) > 1 {
			return errorf(http.StatusBadRequest, codeInvalidRequest, "parameter %s is repeated", k)
		}
	}
	p, err := s.authenticateClient(r)
	if err != nil {
		return err
	}
	if err := s.limitToken(w, p.ClientID); err != nil {
		return err
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		return errorf(http.StatusBadRequest, codeUnsupportedGrantType, "only grant_type=client_credentials is supported")
	}
	now := s.Now()
	var claims token.Claims
	var ttl time.Duration
	if form.Has("authorization_details") {
		params := make(map[string]string, len(form))
		for k := range form {
			if k != "client_id" && k != "client_secret" {
				params[k] = form.Get(k)
			}
		}
		claims, ttl, err = s.exchange.Embed(r.Context(), token.ExchangeRequest{Subject: p.ClientID, Params: params})
		if err != nil {
			return err
		}
	} else {
		if scope := form.Get("scope"); scope != token.ScopeAllAPIs {
			return errorf(http.StatusBadRequest, codeInvalidScope, "scope must be all-apis (or send authorization_details from tokeninfo)")
		}
		claims = token.Claims{Kind: token.KindService, Subject: p.ClientID, Scope: token.ScopeAllAPIs}
		ttl = s.opts.ServiceTTL
	}
	raw, exp, err := s.Issuer.Issue(claims, ttl)
	if err != nil {
		return err
	}
	// Stored before the token is handed out: no token exists that the audit log does not show,
	// even if this replica dies the next instant.
	if err := s.Audit.RecordNow(r.Context(), storage.AuditEvent{Time: now, Kind: storage.AuditTokenMinted, PrincipalID: p.ClientID,
		ViewerID: claims.ViewerID, DashboardID: claims.DashboardID, Outcome: "ok", Detail: string(claims.Kind)}); err != nil {
		return err
	}
	s.Observer.TokenMinted(string(claims.Kind))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeJSON(w, http.StatusOK, tokenResponse{AccessToken: raw, TokenType: "Bearer", ExpiresIn: remaining(exp, now), Scope: claims.Scope})
	return nil
}

// authenticateClient reads client credentials from HTTP Basic (RFC 6749 2.3.1: form-encoded id
// and secret) or from the form, never both.
func (s *Server) authenticateClient(r *http.Request) (storage.Principal, error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return storage.Principal{}, errorf(http.StatusUnauthorized, codeInvalidClient, "malformed client credentials")
		}
		if r.PostForm.Has("client_secret") {
			return storage.Principal{}, errorf(http.StatusBadRequest, codeInvalidRequest, "use one client authentication method")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" || secret == "" {
		return storage.Principal{}, errorf(http.StatusUnauthorized, codeInvalidClient, "client authentication is required")
	}
	p, err := s.Principals.Authenticate(r.Context(), id, secret)
	if errors.Is(err, principal.ErrInvalidCredentials) {
		return storage.Principal{}, &Error{Status: http.StatusUnauthorized, Code: codeInvalidClient, Message: "unknown client or wrong secret", Cause: err}
	}
	return p, err
}

// serviceClaims authenticates a service token for the /api/2.0 endpoints.
func (s *Server) serviceClaims(r *http.Request) (*token.Claims, error) {
	raw, ok := bearer(r)
	if !ok {
		return nil, &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "a bearer token is required",
			Details: map[string]any{"reason": "missing"}}
	}
	c, err := s.Verifier.Verify(raw, token.KindService)
	if err != nil {
		return nil, &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "invalid token (" + token.Reason(err) + ")",
			Details: map[string]any{"reason": token.Reason(err)}, Cause: err}
	}
	return c, nil
}

// handleTokenInfo is GET /api/2.0/lakeview/dashboards/{id}/published/tokeninfo.
func (s *Server) handleTokenInfo(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.serviceClaims(r)
	if err != nil {
		return err
	}
	if err := s.limitToken(w, svc.Subject); err != nil {
		return err
	}
	id := r.PathValue("id")
	plan, ok := s.plan(id)
	if !ok {
		return errorf(http.StatusNotFound, "not_found", "no dashboard with id %s", strconvQuote(id))
	}
	q := r.URL.Query()
	for k, v := range q {
		if len(v) > 1 {
			return errorf(http.StatusBadRequest, codeInvalidRequest, "parameter %s is repeated", k)
		}
	}
	param := func(name string) token.Param { return token.Param{Value: q.Get(name), Set: q.Has(name)} }
	info, err := s.exchange.TokenInfo(r.Context(), token.InfoRequest{
		Subject: svc.Subject, DashboardID: id, UsesExternalValue: plan.UsesExternalValue(),
		ViewerID: q.Get("external_viewer_id"), ExternalValue: param("external_value"),
		Attributes: param("attributes"), Capabilities: param("capabilities"), ExpiresIn: param("expires_in"),
	})
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, info)
	return nil
}

// handleListDashboards is GET /api/2.0/lakeview/dashboards.
func (s *Server) handleListDashboards(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.serviceClaims(r); err != nil {
		return err
	}
	type item struct {
		DashboardID    string `json:"dashboard_id"`
		DisplayName    string `json:"display_name"`
		LifecycleState string `json:"lifecycle_state"`
	}
	cat := s.Engine.Catalog()
	out := make([]item, 0, cat.Len())
	for _, id := range cat.IDs() {
		p, _ := cat.Plan(id)
		out = append(out, item{DashboardID: id, DisplayName: p.Dashboard.Title, LifecycleState: "ACTIVE"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"dashboards": out})
	return nil
}

// handleDiscovery is GET /.well-known/openid-configuration.
func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request) error {
	iss := strings.TrimSuffix(s.opts.Issuer, "/")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"token_endpoint":                        iss + "/oidc/v1/token",
		"jwks_uri":                              iss + "/oidc/v1/keys",
		"grant_types_supported":                 []string{"client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"id_token_signing_alg_values_supported": []string{"EdDSA"},
		"scopes_supported":                      []string{token.ScopeAllAPIs, token.ScopeDashboardEmbed},
		"authorization_details_types_supported": []string{token.DetailType},
		"response_types_supported":              []string{"token"},
		"subject_types_supported":               []string{"public"},
	})
	return nil
}

// handleJWKS is GET /oidc/v1/keys.
func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request) error {
	b, err := s.Keys.JWKS()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err = w.Write(b)
	return err
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
