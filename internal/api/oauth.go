package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/oauth"
	"github.com/inlay/inlay/internal/token"
)

// The OAuth integrations API (Posit Connect's shapes under /__api__/v1, so that code written for
// Connect works against Inlay by changing the host), the viewer login under /__oauth__, and the
// embed API's view of what a dashboard needs. The rules live in internal/oauth; these handlers
// parse and render.

// binderCookie carries the browser binder of a login from its start to the callback.
const binderCookie = "inlay_oauth_binder"

// oauthToAPI maps broker errors onto Inlay's envelope.
func oauthToAPI(err error) error {
	var ve *oauth.ValidationError
	var oe *oauth.Error
	switch {
	case errors.As(err, &ve):
		return &Error{Status: http.StatusBadRequest, Code: "invalid_integration", Message: ve.Error(),
			Details: map[string]any{"problems": ve.Problems}, Cause: err}
	case errors.Is(err, oauth.ErrNotFound):
		return errorf(http.StatusNotFound, "not_found", "no such integration, content or session")
	case errors.Is(err, oauth.ErrNameTaken):
		return errorf(http.StatusConflict, "name_taken", "an integration with that name exists")
	case errors.Is(err, oauth.ErrDeclared):
		return errorf(http.StatusConflict, "declared_in_config", "this integration is declared in inlay.yaml: change it there")
	case errors.As(err, &oe):
		status := http.StatusBadRequest
		switch oe.Code {
		case oauth.CodeInvalidClient:
			status = http.StatusUnauthorized
		case oauth.CodeLoginRequired, oauth.CodeRefreshFailed:
			status = http.StatusForbidden
		case oauth.CodeProviderUnavailable:
			status = http.StatusServiceUnavailable
		case oauth.CodeProviderRejected:
			status = http.StatusBadGateway
		}
		details := map[string]any{}
		if oe.LoginURL != "" {
			details["login_url"] = oe.LoginURL
		}
		if oe.Integration != "" {
			details["oauth_integration_guid"] = oe.Integration
		}
		return &Error{Status: status, Code: oe.Code, Message: oe.Message, Details: details, Cause: err}
	}
	return err
}

// oauthJSON adapts a handler of the integrations API: Inlay's envelope, broker errors mapped.
func (s *Server) oauthJSON(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.OAuth == nil {
			return errorf(http.StatusNotFound, "not_found", "OAuth integrations are not enabled")
		}
		return oauthToAPI(h(w, r))
	}
}

// oauthAdmin accepts the admin key as "Authorization: Key <key>" (as Posit Connect's API keys
// are sent) or as a bearer token (Inlay's admin API).
func (s *Server) oauthAdmin(h handlerFunc) http.Handler {
	return s.plain(s.oauthJSON(func(w http.ResponseWriter, r *http.Request) error {
		if s.opts.AdminKey == "" {
			return errorf(http.StatusNotFound, "not_found", "the admin API is disabled (set admin_key)")
		}
		raw, ok := apiKey(r)
		if !ok {
			raw, ok = bearer(r)
		}
		want := sha256.Sum256([]byte(s.opts.AdminKey))
		got := sha256.Sum256([]byte(raw))
		if !ok || !hmac.Equal(want[:], got[:]) {
			return &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "a valid admin key is required",
				Details: map[string]any{"reason": "bad_admin_key"}}
		}
		return h(w, r)
	}))
}

// apiKey reads "Authorization: Key <key>".
func apiKey(r *http.Request) (string, bool) {
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Key") || strings.TrimSpace(raw) == "" {
		return "", false
	}
	return strings.TrimSpace(raw), true
}

type integrationBody struct {
	Name        *string                    `json:"name"`
	Description *string                    `json:"description"`
	Template    *string                    `json:"template"`
	AuthType    *string                    `json:"auth_type"`
	Config      map[string]json.RawMessage `json:"config"`
}

func (s *Server) handleListIntegrations(w http.ResponseWriter, r *http.Request) error {
	its, err := s.OAuth.ListIntegrations(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, its)
	return nil
}

func (s *Server) handleCreateIntegration(w http.ResponseWriter, r *http.Request) error {
	var in oauth.Input
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	it, err := s.OAuth.CreateIntegration(r.Context(), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, it)
	return nil
}

func (s *Server) handleGetIntegration(w http.ResponseWriter, r *http.Request) error {
	it, err := s.OAuth.GetIntegration(r.Context(), r.PathValue("guid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

func (s *Server) handlePatchIntegration(w http.ResponseWriter, r *http.Request) error {
	var body integrationBody
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	it, err := s.OAuth.UpdateIntegration(r.Context(), r.PathValue("guid"), oauth.Patch{Name: body.Name,
		Description: body.Description, Template: body.Template, AuthType: body.AuthType, Config: body.Config})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, it)
	return nil
}

// handleIntegrationAssociations is GET /__api__/v1/oauth/integrations/{guid}/associations: the
// content the integration is associated with.
func (s *Server) handleIntegrationAssociations(w http.ResponseWriter, r *http.Request) error {
	ids, err := s.OAuth.ContentOf(r.Context(), r.PathValue("guid"))
	if err != nil {
		return err
	}
	out := make([]map[string]string, 0, len(ids))
	for _, id := range ids {
		out = append(out, map[string]string{"app_guid": id})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) handleDeleteIntegration(w http.ResponseWriter, r *http.Request) error {
	if err := s.OAuth.DeleteIntegration(r.Context(), r.PathValue("guid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// contentKnown reports whether a dashboard:/datasource: content id names one Inlay serves.
func (s *Server) contentKnown(id string) bool {
	if d, ok := strings.CutPrefix(id, oauth.ContentDashboard); ok {
		_, known := s.dashboard(d)
		return known
	}
	if ds, ok := strings.CutPrefix(id, oauth.ContentDataSource); ok {
		_, known := s.opts.OAuthSources[ds]
		return known
	}
	return false
}

func (s *Server) content(r *http.Request) (string, error) {
	id := r.PathValue("id")
	ok, err := s.OAuth.ContentExists(r.Context(), id, s.contentKnown)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errorf(http.StatusNotFound, "not_found", "no such content (dashboard:<id>, datasource:<name>, or an application guid)")
	}
	return id, nil
}

func (s *Server) handleGetAssociations(w http.ResponseWriter, r *http.Request) error {
	id, err := s.content(r)
	if err != nil {
		return err
	}
	as, err := s.OAuth.Associations(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, as)
	return nil
}

func (s *Server) handlePutAssociations(w http.ResponseWriter, r *http.Request) error {
	id, err := s.content(r)
	if err != nil {
		return err
	}
	var body []struct {
		GUID string `json:"oauth_integration_guid"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	guids := make([]string, 0, len(body))
	for _, b := range body {
		guids = append(guids, b.GUID)
	}
	as, err := s.OAuth.SetAssociations(r.Context(), id, guids)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, as)
	return nil
}

func (s *Server) handleCreateContent(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		Name string `json:"name"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	c, key, err := s.OAuth.CreateContent(r.Context(), body.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"guid": c.GUID, "name": c.Name, "created_time": c.CreatedTime, "api_key": key})
	return nil
}

func (s *Server) handleListContent(w http.ResponseWriter, r *http.Request) error {
	cs, err := s.OAuth.ListContent(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, cs)
	return nil
}

func (s *Server) handleDeleteContent(w http.ResponseWriter, r *http.Request) error {
	if err := s.OAuth.DeleteContent(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) handleListSessions(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.OAuth.ListSessions(r.Context(), r.URL.Query().Get("user_guid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ss)
	return nil
}

func (s *Server) handleDeleteSession(w http.ResponseWriter, r *http.Request) error {
	if err := s.OAuth.DeleteSession(r.Context(), r.PathValue("guid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// contentKeyed authenticates the content's API key ("Authorization: Key <key>").
func (s *Server) contentKeyed(h func(w http.ResponseWriter, r *http.Request, content string) error) http.Handler {
	return s.plain(s.oauthJSON(func(w http.ResponseWriter, r *http.Request) error {
		key, _ := apiKey(r)
		content, err := s.OAuth.AuthenticateContent(r.Context(), key)
		if err != nil {
			return err
		}
		return h(w, r, content)
	}))
}

// handleUserSessionToken is POST /__api__/v1/oauth/user-session-tokens: an application names its
// viewer and gets the token it sends to the credential exchange on that viewer's behalf.
func (s *Server) handleUserSessionToken(w http.ResponseWriter, r *http.Request, content string) error {
	var body struct {
		ViewerID string `json:"viewer_id"`
		TTL      int64  `json:"ttl_seconds"`
	}
	if err := decodeJSON(r, &body); err != nil {
		return err
	}
	t, exp, err := s.OAuth.UserSessionToken(content, body.ViewerID, time.Duration(body.TTL)*time.Second)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "token_type": oauth.TokenTypeUserSession,
		"expires_in": remaining(exp, s.Now())})
	return nil
}

func (s *Server) handleContentSessionToken(w http.ResponseWriter, r *http.Request, content string) error {
	t, exp, err := s.OAuth.ContentSessionToken(content, 0)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"token": t, "token_type": oauth.TokenTypeContentSession,
		"expires_in": remaining(exp, s.Now())})
	return nil
}

// handleCredentials is POST /__api__/v1/oauth/integrations/credentials (RFC 8693). Errors are
// OAuth-shaped: {"error", "error_description", "error_code", "login_url"?}.
func (s *Server) handleCredentials(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	w.Header().Set("Cache-Control", "no-store")
	if s.OAuth == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "invalid_request", "error_description": "OAuth integrations are not enabled"})
		return
	}
	key, _ := apiKey(r)
	// Limited per content API key (its public id: keys of no valid shape share one bucket), before
	// the body is read or the key is checked against the store.
	if s.ExchangeLimiter != nil {
		if ok, wait := s.ExchangeLimiter.Allow("content:" + oauth.AppKeyID(key)); !ok {
			s.Observer.RateLimited("oauth_exchange")
			secs := retryAfterSeconds(wait)
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "temporarily_unavailable", "error_code": codeRateLimited,
				"error_description": "too many credential exchanges for this API key; retry after " + strconv.Itoa(secs) + "s"})
			return
		}
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_code": oauth.CodeInvalidRequest,
			"error_description": "the body must be form-encoded"})
		return
	}
	f := r.PostForm
	resp, err := s.OAuth.Exchange(r.Context(), oauth.ExchangeRequest{APIKey: key, GrantType: f.Get("grant_type"),
		SubjectToken: f.Get("subject_token"), SubjectTokenType: f.Get("subject_token_type"),
		RequestedTokenType: f.Get("requested_token_type"), Audience: f.Get("audience")})
	if err == nil {
		writeJSON(w, http.StatusOK, resp)
		return
	}
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		s.Logger.ErrorContext(r.Context(), "credential exchange failed", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_code": "internal", "error_description": "internal error"})
		return
	}
	s.Logger.DebugContext(r.Context(), "credential exchange refused", "code", oe.Code, "err", err)
	status := oauthToAPI(err).(*Error).Status
	if status == http.StatusForbidden {
		status = http.StatusBadRequest // RFC 8693: errors of the request are 400
	}
	body := map[string]string{"error": oe.OAuth, "error_code": oe.Code, "error_description": oe.Message}
	if oe.LoginURL != "" {
		body["login_url"] = oe.LoginURL
	}
	if oe.Integration != "" {
		body["oauth_integration_guid"] = oe.Integration
	}
	if oe.Code == oauth.CodeInvalidClient {
		w.Header().Set("WWW-Authenticate", `Key realm="inlay"`)
	}
	writeJSON(w, status, body)
}

// handleOAuthLogin is GET /__oauth__/integrations/{guid}/login?ticket=..&return_to=..: a top-level
// (popup) page that sends the browser to the provider.
func (s *Server) handleOAuthLogin(w http.ResponseWriter, r *http.Request) {
	if s.OAuth == nil {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	start, err := s.OAuth.BeginLogin(r.Context(), oauth.LoginRequest{Integration: r.PathValue("guid"),
		Ticket: q.Get("ticket"), ReturnTo: q.Get("return_to")})
	if err != nil {
		s.loginPage(w, r, err, "")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: binderCookie, Value: start.Binder, Path: "/__oauth__/integrations/",
		MaxAge: 600, HttpOnly: true, Secure: strings.HasPrefix(s.opts.Issuer, "https://"), SameSite: http.SameSiteLaxMode})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(w, r, start.RedirectURL, http.StatusSeeOther)
}

// handleOAuthCallback is GET /__oauth__/integrations/callback, the one redirect URI.
func (s *Server) handleOAuthCallback(w http.ResponseWriter, r *http.Request) {
	if s.OAuth == nil {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	var binder string
	if c, err := r.Cookie(binderCookie); err == nil {
		binder = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: binderCookie, Value: "", Path: "/__oauth__/integrations/", MaxAge: -1, HttpOnly: true})
	res, err := s.OAuth.CompleteLogin(r.Context(), oauth.CallbackRequest{State: q.Get("state"), Code: q.Get("code"),
		Iss: q.Get("iss"), Error: q.Get("error"), Binder: binder})
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	if err == nil && res.ReturnTo != "" {
		u, _ := url.Parse(res.ReturnTo)
		v := u.Query()
		v.Set("oauth_integration", res.Integration.GUID)
		v.Set("oauth_status", "connected")
		u.RawQuery = v.Encode()
		http.Redirect(w, r, u.String(), http.StatusSeeOther)
		return
	}
	s.loginPage(w, r, err, res.Integration.GUID)
}

var loginPageTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{if .OK}}Connected{{else}}Login failed{{end}}</title>
<style>body{font:15px system-ui,sans-serif;margin:3rem auto;max-width:28rem;color:#222}code{color:#666}</style>
</head><body>
{{if .OK}}<h1>Connected</h1><p>You can close this window.</p>
{{else}}<h1>Login failed</h1><p>{{.Message}}</p><p><code id="code">{{.Code}}</code></p>{{end}}
<script nonce="{{.Nonce}}">
(function(){var m={type:"inlay:oauth",status:{{if .OK}}"connected"{{else}}"error"{{end}},integration:{{.Integration}},code:{{.Code}}};
if(window.opener){try{window.opener.postMessage(m,{{.Origin}});}catch(e){}{{if .OK}}window.close();{{end}}}})();
</script></body></html>`))

// loginPage renders the end of a login in the popup: it tells the opener (the viewer page, on
// Inlay's origin) and closes itself on success.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, err error, integration string) {
	data := struct {
		OK                                        bool
		Code, Message, Integration, Origin, Nonce string
	}{OK: err == nil, Integration: integration, Nonce: newRequestID()}
	if u, perr := url.Parse(s.opts.Issuer); perr == nil {
		data.Origin = u.Scheme + "://" + u.Host
	}
	status := http.StatusOK
	if err != nil {
		var oe *oauth.Error
		if errors.As(err, &oe) {
			data.Code, data.Message, status = oe.Code, oe.Message, http.StatusBadRequest
			if oe.Code == oauth.CodeProviderUnavailable {
				status = http.StatusBadGateway
			}
			s.Logger.InfoContext(r.Context(), "oauth login failed", "code", oe.Code, "err", err)
		} else {
			data.Code, data.Message, status = "internal", "internal error", http.StatusInternalServerError
			s.Logger.ErrorContext(r.Context(), "oauth login failed", "err", err)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-"+data.Nonce+"'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = loginPageTmpl.Execute(w, data)
}

// oauthNeed is one integration a dashboard's data sources need, as the embedded viewer sees it.
type oauthNeed struct {
	GUID      string `json:"guid"`
	Name      string `json:"name"`
	Template  string `json:"template"`
	Connected bool   `json:"connected"`
	LoginURL  string `json:"login_url,omitempty"`
}

// handleEmbedOAuth is GET /api/v1/embed/dashboards/{id}/oauth: the Viewer integrations the
// dashboard's data sources run with, whether this viewer has connected each, and the login URL
// (a popup) for those not connected.
func (s *Server) handleEmbedOAuth(w http.ResponseWriter, r *http.Request, c *token.Claims, p *compile.Plan) error {
	d := p.Dashboard
	needs := []oauthNeed{}
	if s.OAuth != nil {
		seen := map[string]bool{}
		for _, ds := range d.Datasets {
			src := ds.Source
			if src == "" {
				src = "default"
			}
			name, ok := s.opts.OAuthSources[src]
			if !ok || name == "" || seen[name] {
				continue
			}
			seen[name] = true
			it, err := s.OAuth.Resolve(r.Context(), name)
			if err != nil {
				return oauthToAPI(err)
			}
			if it.AuthType != oauth.AuthViewer {
				continue
			}
			n := oauthNeed{GUID: it.GUID, Name: it.Name, Template: it.Template}
			if _, err := s.OAuth.ViewerToken(r.Context(), it, c.ViewerID); err == nil {
				n.Connected = true
			} else if u, lerr := s.OAuth.LoginURL(c.ViewerID, it.GUID, ""); lerr == nil {
				n.LoginURL = u
			}
			needs = append(needs, n)
		}
		slices.SortFunc(needs, func(a, b oauthNeed) int { return strings.Compare(a.Name, b.Name) })
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{"integrations": needs})
	return nil
}

// oauthQueryError renders the broker's errors that reach the API through a query (a data source
// that runs with the viewer's credentials): the viewer sees the code and, where logging in to
// the integration fixes it, the login URL.
func oauthQueryError(err error) *Error {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return nil
	}
	return oauthToAPI(err).(*Error)
}
