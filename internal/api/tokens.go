package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlay/inlay/internal/principal"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/token"
)

const (
	scopeAllAPIs        = "all-apis"
	scopeDashboardEmbed = "dashboards.embed"
	detailType          = "inlay_dashboard"
	capabilityDownload  = "download"

	maxViewerIDBytes      = 512
	maxExternalValueBytes = 4096
	maxAttributes         = 32
	maxAttributeValues    = 256
)

// knownCapabilities are the capabilities an embed token may carry.
var knownCapabilities = []string{capabilityDownload}

// authorizationDetail is Inlay's RFC 9396 authorization_details entry, returned by tokeninfo and
// sent back unchanged to exchange for an embed token.
type authorizationDetail struct {
	Type             string              `json:"type"`
	DashboardID      string              `json:"dashboard_id"`
	ExternalViewerID string              `json:"external_viewer_id"`
	ExternalValue    *string             `json:"external_value"`
	Attributes       map[string][]string `json:"attributes,omitempty"`
	Capabilities     []string            `json:"capabilities"`
}

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
		return &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "the body must be application/x-www-form-urlencoded"}
	}
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &oauthError{Status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Description: "the request body is too large"}
		}
		return &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "the form body could not be parsed"}
	}
	form := r.PostForm
	for k, v := range form {
		if len(v) > 1 {
			return &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "parameter " + k + " is repeated"}
		}
	}
	p, err := s.authenticateClient(r)
	if err != nil {
		return err
	}
	if s.limitToken(w, p.ClientID) {
		return &oauthError{Status: http.StatusTooManyRequests, Code: "rate_limited", Description: "too many token requests for this client; retry after the time in Retry-After"}
	}
	if gt := form.Get("grant_type"); gt != "client_credentials" {
		return &oauthError{Status: http.StatusBadRequest, Code: "unsupported_grant_type", Description: "only grant_type=client_credentials is supported"}
	}
	now := s.Now()
	var claims token.Claims
	var ttl time.Duration
	if form.Has("authorization_details") {
		c, err := s.exchangeGrant(p, form)
		if err != nil {
			return err
		}
		claims, ttl = c, s.opts.EmbedTTL
	} else {
		if scope := form.Get("scope"); scope != scopeAllAPIs {
			return &oauthError{Status: http.StatusBadRequest, Code: "invalid_scope", Description: "scope must be all-apis (or send authorization_details from tokeninfo)"}
		}
		claims = token.Claims{Kind: token.KindService, Subject: p.ClientID, Scope: scopeAllAPIs}
		ttl = s.opts.ServiceTTL
	}
	raw, exp, err := s.Issuer.Issue(claims, ttl)
	if err != nil {
		return err
	}
	s.Observer.TokenMinted(string(claims.Kind))
	s.Audit.Record(storage.AuditEvent{Time: now, Kind: storage.AuditTokenMinted, PrincipalID: p.ClientID,
		ViewerID: claims.ViewerID, DashboardID: claims.DashboardID, Outcome: "ok", Detail: string(claims.Kind)})
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
			return storage.Principal{}, &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client", Description: "malformed client credentials"}
		}
		if r.PostForm.Has("client_secret") {
			return storage.Principal{}, &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: "use one client authentication method"}
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" || secret == "" {
		return storage.Principal{}, &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client", Description: "client authentication is required"}
	}
	p, err := s.Principals.Authenticate(r.Context(), id, secret)
	if errors.Is(err, principal.ErrInvalidCredentials) {
		return storage.Principal{}, &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client", Description: "unknown client or wrong secret", Cause: err}
	}
	return p, err
}

// exchangeGrant checks that the form carries exactly what tokeninfo returned (compared by
// meaning, since clients re-encode the JSON) and turns the signed grant into embed claims.
func (s *Server) exchangeGrant(p storage.Principal, form url.Values) (token.Claims, error) {
	invalid := func(desc string) error {
		return &oauthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc}
	}
	rawGrant := form.Get("inlay_grant")
	if rawGrant == "" {
		return token.Claims{}, invalid("inlay_grant is missing: send every field of the tokeninfo response")
	}
	grant, err := s.Grants.Open(rawGrant)
	if err != nil {
		return token.Claims{}, &oauthError{Status: http.StatusBadRequest, Code: "invalid_grant", Description: "the tokeninfo grant is invalid or expired (" + tokenReason(err) + ")", Cause: err}
	}
	if grant.Subject != p.ClientID {
		return token.Claims{}, &oauthError{Status: http.StatusBadRequest, Code: "invalid_grant", Description: "the tokeninfo grant was issued to another client"}
	}
	var details []authorizationDetail
	dec := json.NewDecoder(strings.NewReader(form.Get("authorization_details")))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&details); err != nil || dec.More() {
		return token.Claims{}, invalid("authorization_details is not the JSON tokeninfo returned")
	}
	want := detailsFor(grant)
	if len(details) != 1 || !sameDetail(details[0], want[0]) {
		return token.Claims{}, invalid("authorization_details differs from what tokeninfo returned")
	}
	if form.Get("custom_claim") != customClaim(grant) {
		return token.Claims{}, invalid("custom_claim differs from what tokeninfo returned")
	}
	if form.Has("scope") && form.Get("scope") != scopeDashboardEmbed {
		return token.Claims{}, invalid("scope differs from what tokeninfo returned")
	}
	for k := range form {
		switch k {
		case "grant_type", "authorization_details", "custom_claim", "scope", "inlay_grant", "client_id", "client_secret":
		default:
			return token.Claims{}, invalid("unexpected parameter " + k)
		}
	}
	return token.Claims{Kind: token.KindEmbed, Subject: p.ClientID, Scope: scopeDashboardEmbed,
		DashboardID: grant.DashboardID, ViewerID: grant.ViewerID, ExternalValue: grant.ExternalValue,
		Attributes: grant.Attributes, Capabilities: grant.Capabilities}, nil
}

func sameDetail(a, b authorizationDetail) bool {
	norm := func(d authorizationDetail) authorizationDetail {
		if len(d.Attributes) == 0 {
			d.Attributes = nil
		}
		for k, v := range d.Attributes {
			if v == nil {
				d.Attributes[k] = []string{}
			}
		}
		if d.Capabilities == nil {
			d.Capabilities = []string{}
		}
		return d
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func detailsFor(c *token.Claims) []authorizationDetail {
	caps := c.Capabilities
	if caps == nil {
		caps = []string{}
	}
	return []authorizationDetail{{Type: detailType, DashboardID: c.DashboardID, ExternalViewerID: c.ViewerID,
		ExternalValue: c.ExternalValue, Attributes: c.Attributes, Capabilities: caps}}
}

// customClaim is Databricks' claim format: urn:aibi:external_data:<value>:<viewer>:<dashboard>.
func customClaim(c *token.Claims) string {
	v := ""
	if c.ExternalValue != nil {
		v = *c.ExternalValue
	}
	return "urn:aibi:external_data:" + v + ":" + c.ViewerID + ":" + c.DashboardID
}

// serviceClaims authenticates a service token for the /api/2.0 endpoints.
func (s *Server) serviceClaims(r *http.Request) (*token.Claims, error) {
	raw, ok := bearer(r)
	if !ok {
		return nil, &databricksError{Status: http.StatusUnauthorized, Code: "UNAUTHENTICATED", Message: "a bearer token is required"}
	}
	c, err := s.Verifier.Verify(raw, token.KindService)
	if err != nil {
		return nil, &databricksError{Status: http.StatusUnauthorized, Code: "UNAUTHENTICATED", Message: "invalid token (" + tokenReason(err) + ")"}
	}
	return c, nil
}

// handleTokenInfo is GET /api/2.0/lakeview/dashboards/{id}/published/tokeninfo.
func (s *Server) handleTokenInfo(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.serviceClaims(r)
	if err != nil {
		return err
	}
	if s.limitToken(w, svc.Subject) {
		return &databricksError{Status: http.StatusTooManyRequests, Code: "REQUEST_LIMIT_EXCEEDED", Message: "too many token requests for this service principal; retry after the time in Retry-After"}
	}
	id := r.PathValue("id")
	if _, ok := s.dashboards[id]; !ok {
		return &databricksError{Status: http.StatusNotFound, Code: "RESOURCE_DOES_NOT_EXIST", Message: "no dashboard with id " + strconvQuote(id)}
	}
	q := r.URL.Query()
	bad := func(msg string) error {
		return &databricksError{Status: http.StatusBadRequest, Code: "INVALID_PARAMETER_VALUE", Message: msg}
	}
	for k, v := range q {
		if len(v) > 1 {
			return bad("parameter " + k + " is repeated")
		}
	}
	viewer := q.Get("external_viewer_id")
	if viewer == "" {
		return bad("external_viewer_id is required")
	}
	if !q.Has("external_value") {
		return bad("external_value is required")
	}
	value := q.Get("external_value")
	if err := checkText("external_viewer_id", viewer, maxViewerIDBytes); err != nil {
		return bad(err.Error())
	}
	if err := checkText("external_value", value, maxExternalValueBytes); err != nil {
		return bad(err.Error())
	}
	attrs, err := parseAttributes(q.Get("attributes"))
	if err != nil {
		return bad(err.Error())
	}
	caps := slices.Clone(s.opts.DefaultCapabilities)
	if q.Has("capabilities") {
		caps = []string{}
		for _, c := range strings.Split(q.Get("capabilities"), ",") {
			if c = strings.TrimSpace(c); c == "" {
				continue
			}
			if !slices.Contains(knownCapabilities, c) {
				return bad("unknown capability " + strconvQuote(c))
			}
			if !slices.Contains(caps, c) {
				caps = append(caps, c)
			}
		}
	}
	if caps == nil {
		caps = []string{}
	}
	grant := token.Claims{Kind: token.KindGrant, Subject: svc.Subject, DashboardID: id, ViewerID: viewer,
		ExternalValue: &value, Attributes: attrs, Capabilities: caps}
	raw, err := s.Grants.Seal(grant, grantTTL)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"authorization_details": detailsFor(&grant),
		"custom_claim":          customClaim(&grant),
		"scope":                 scopeDashboardEmbed,
		"inlay_grant":           raw,
	})
	return nil
}

// checkText rejects values that could not survive a round trip through a JSON token unchanged
// (invalid UTF-8 would be silently replaced) or that no engine stores (NUL).
func checkText(name, v string, max int) error {
	switch {
	case len(v) > max:
		return errors.New(name + " is too long")
	case !utf8.ValidString(v):
		return errors.New(name + " is not valid UTF-8")
	case strings.IndexByte(v, 0) >= 0:
		return errors.New(name + " contains a NUL byte")
	}
	return nil
}

// parseAttributes reads the optional attributes parameter: a JSON object whose values are strings
// or lists of strings.
func parseAttributes(raw string) (map[string][]string, error) {
	if raw == "" {
		return nil, nil
	}
	var m map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	if err := dec.Decode(&m); err != nil || dec.More() {
		return nil, errors.New("attributes must be a JSON object of strings or string lists")
	}
	if len(m) > maxAttributes {
		return nil, errors.New("too many attributes")
	}
	out := make(map[string][]string, len(m))
	for k, v := range m {
		if err := checkText("attribute name", k, 64); err != nil || k == "" {
			return nil, errors.New("attribute names must be short non-empty text")
		}
		var one string
		var list []string
		if json.Unmarshal(v, &one) == nil {
			list = []string{one}
		} else if json.Unmarshal(v, &list) != nil || list == nil {
			return nil, errors.New("attribute " + strconvQuote(k) + " must be a string or a list of strings")
		}
		if len(list) > maxAttributeValues {
			return nil, errors.New("attribute " + strconvQuote(k) + " has too many values")
		}
		for _, x := range list {
			if err := checkText("attribute "+strconvQuote(k), x, maxExternalValueBytes); err != nil {
				return nil, err
			}
		}
		out[k] = list
	}
	return out, nil
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
	out := make([]item, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, item{DashboardID: id, DisplayName: s.dashboards[id].Title, LifecycleState: "ACTIVE"})
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
		"scopes_supported":                      []string{scopeAllAPIs, scopeDashboardEmbed},
		"authorization_details_types_supported": []string{detailType},
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
