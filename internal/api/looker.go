package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/looker"
	"github.com/inlay/inlay/internal/principal"
	"github.com/inlay/inlay/internal/storage"
)

// LookerCookie is the signed-URL embed session cookie.
const LookerCookie = "inlay_looker_session"

// logPath is a request path as the access log shows it: Looker paths that carry tokens (a login
// target may hold a navigation token, the session-end path is a reference token) are cut.
func logPath(p string) string {
	if strings.HasPrefix(p, looker.LoginPathPrefix) {
		return looker.LoginPathPrefix + "…"
	}
	const ses = "/api/4.0/embed/cookieless_session/"
	if rest, ok := strings.CutPrefix(p, ses); ok && rest != "acquire" && rest != "generate_tokens" {
		return ses + "…"
	}
	return p
}

// lookerError turns a looker refusal into the API's Error.
func lookerError(le *looker.Error) *Error {
	status := http.StatusBadRequest
	switch le.Class {
	case looker.Unauthenticated:
		status = http.StatusUnauthorized
	case looker.Forbidden:
		status = http.StatusForbidden
	}
	return &Error{Status: status, Code: le.Code, Message: le.Message, Details: le.Details, Cause: le}
}

func (s *Server) lookerEnabled() error {
	if s.looker == nil {
		return errorf(http.StatusNotFound, "not_found", "Looker embedding is not enabled on this server")
	}
	return nil
}

// lookerAPI adapts a /api/4.0 handler: errors in Looker's shape {"message", "code"}.
func (s *Server) lookerAPI(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		w.Header().Set("Cache-Control", "no-store")
		err := s.lookerEnabled()
		sw := &startedWriter{ResponseWriter: w}
		if err == nil {
			err = h(sw, r)
		}
		if err != nil && sw.started {
			// Never a second status line: log, and cut the response short.
			s.Logger.ErrorContext(r.Context(), "request failed after the response started; response cut short",
				"request_id", RequestID(r.Context()), "path", r.URL.Path, "err", err)
			panic(http.ErrAbortHandler)
		}
		if err != nil {
			e := toAPIError(err)
			if e.Status >= 500 {
				s.Logger.ErrorContext(r.Context(), "request failed", "code", e.Code, "err", err)
			}
			body := map[string]any{"message": e.Message, "code": e.Code}
			if len(e.Details) > 0 {
				body["details"] = e.Details
			}
			writeJSON(w, e.Status, body)
		}
	})
}

// apiClient authenticates an /api/4.0 call: "Authorization: token <t>" or "Bearer <t>".
func (s *Server) apiClient(r *http.Request) (string, error) {
	scheme, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	raw = strings.TrimSpace(raw)
	if raw == "" || !(strings.EqualFold(scheme, "token") || strings.EqualFold(scheme, "bearer")) {
		return "", &Error{Status: http.StatusUnauthorized, Code: looker.CodeUnauthorized,
			Message: "an API access token is required: Authorization: token <access_token> (POST /api/4.0/login)"}
	}
	return s.looker.APIClient(r.Context(), raw)
}

// handleAPILogin is POST /api/4.0/login: client_id and client_secret of a service principal
// (form body or query) -> {access_token, token_type, expires_in}.
func (s *Server) handleAPILogin(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errorf(http.StatusBadRequest, "invalid_parameter", "the body must be a form")
	}
	id, sec := r.Form.Get("client_id"), r.Form.Get("client_secret")
	if id == "" || sec == "" {
		return &Error{Status: http.StatusBadRequest, Code: looker.CodeMissingParameter, Message: "client_id and client_secret are required"}
	}
	p, err := s.Principals.Authenticate(r.Context(), id, sec)
	if errors.Is(err, principal.ErrInvalidCredentials) {
		return &Error{Status: http.StatusUnauthorized, Code: looker.CodeUnauthorized, Message: "invalid client_id or client_secret"}
	}
	if err != nil {
		return err
	}
	if err := s.limitToken(w, p.ClientID); err != nil {
		return err
	}
	tok, ttl, err := s.looker.APILogin(r.Context(), p.ClientID)
	if err != nil {
		return err
	}
	if err := s.auditLookerMint(r, p.ClientID, "", "looker.api_login"); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": int64(ttl / time.Second)})
	return nil
}

// handleAPILogout is DELETE /api/4.0/logout.
func (s *Server) handleAPILogout(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.apiClient(r); err != nil {
		return err
	}
	_, raw, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if err := s.looker.APILogout(r.Context(), strings.TrimSpace(raw)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleAcquire is POST /api/4.0/embed/cookieless_session/acquire.
func (s *Server) handleAcquire(w http.ResponseWriter, r *http.Request) error {
	client, err := s.apiClient(r)
	if err != nil {
		return err
	}
	if err := s.limitToken(w, client); err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := decodeLookerJSON(r, &fields); err != nil {
		return err
	}
	t, err := s.looker.Acquire(r.Context(), looker.AcquireRequest{Fields: fields, UserAgent: r.UserAgent(), Principal: client})
	if err != nil {
		return err
	}
	if err := s.auditLookerMint(r, client, viewerIDOf(fields), "looker.cookieless_acquire"); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// auditLookerMint stores the audit event of a Looker credential before it is handed out, as the
// token endpoint does: if the event cannot be stored the request fails (503 while the store is
// down) and no credential leaves, so a replica killed right after leaves no unaudited session.
func (s *Server) auditLookerMint(r *http.Request, client, viewer, detail string) error {
	return s.Audit.RecordNow(r.Context(), storage.AuditEvent{Time: s.Now(), Kind: storage.AuditTokenMinted,
		PrincipalID: client, ViewerID: viewer, Outcome: "ok", Detail: detail})
}

func viewerIDOf(fields map[string]json.RawMessage) string {
	var id string
	_ = json.Unmarshal(fields["external_user_id"], &id)
	return id
}

// handleCreateSSOURL is POST /api/4.0/embed/sso_url (Looker's create_sso_embed_url): a signed
// embed URL for the user in the body, signed with the newest embed secret.
func (s *Server) handleCreateSSOURL(w http.ResponseWriter, r *http.Request) error {
	client, err := s.apiClient(r)
	if err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := decodeLookerJSON(r, &fields); err != nil {
		return err
	}
	host, scheme := r.Host, "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if u, err := url.Parse(s.opts.Issuer); err == nil && u.Host != "" {
		host, scheme = u.Host, u.Scheme
	}
	signed, err := s.looker.CreateSignedURL(r.Context(), scheme, host, fields)
	if err != nil {
		return err
	}
	if err := s.auditLookerMint(r, client, viewerIDOf(fields), "looker.sso_url"); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": signed})
	return nil
}

// handleGenerateTokens is PUT /api/4.0/embed/cookieless_session/generate_tokens.
func (s *Server) handleGenerateTokens(w http.ResponseWriter, r *http.Request) error {
	client, err := s.apiClient(r)
	if err != nil {
		return err
	}
	if err := s.limitToken(w, client); err != nil {
		return err
	}
	var req looker.GenerateRequest
	if err := decodeLookerJSON(r, &req); err != nil {
		return err
	}
	t, err := s.looker.GenerateTokens(r.Context(), req, r.UserAgent())
	if err != nil {
		return err
	}
	if t.APIToken != "" { // an ended session answers empty tokens: nothing was minted
		if err := s.auditLookerMint(r, client, "", "looker.generate_tokens"); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

// handleEndSession is DELETE /api/4.0/embed/cookieless_session/{session_reference_token}.
func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.apiClient(r); err != nil {
		return err
	}
	if err := s.looker.EndSession(r.Context(), r.PathValue("token")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decodeLookerJSON reads a JSON object body (any content type: Looker's SDKs send JSON).
func decodeLookerJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	if _, ok := v.(*looker.GenerateRequest); ok {
		dec.DisallowUnknownFields()
	}
	err := dec.Decode(v)
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return &Error{Status: http.StatusBadRequest, Code: looker.CodeInvalidParameter, Message: "a JSON body is required"}
	case errors.As(err, &tooBig):
		return errorf(http.StatusRequestEntityTooLarge, "body_too_large", "the request body is larger than %d bytes", tooBig.Limit)
	case err != nil:
		return &Error{Status: http.StatusBadRequest, Code: looker.CodeInvalidParameter, Message: "invalid JSON body: " + err.Error()}
	}
	return nil
}

// handleLookerLogin is GET /login/embed/{target}: a signed embed URL (sets the session cookie)
// or a cookieless first load (?embed_authentication_token=...). Both answer 302 to the target.
func (s *Server) handleLookerLogin(w http.ResponseWriter, r *http.Request) error {
	if err := s.lookerEnabled(); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	escaped := r.URL.EscapedPath()
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: looker.CodeInvalidParameter, Message: "the query string is not URL-encoded correctly"}
	}
	if auth, ok := q["embed_authentication_token"]; ok {
		if len(auth) != 1 || len(q) != 1 {
			return &Error{Status: http.StatusBadRequest, Code: looker.CodeInvalidParameter,
				Message: "a cookieless login takes embed_authentication_token only", Details: map[string]any{"parameter": "embed_authentication_token"}}
		}
		encoded, _ := strings.CutPrefix(escaped, looker.LoginPathPrefix)
		target, err := looker.DecodeTarget(encoded)
		if err != nil {
			return err
		}
		tu, _ := url.Parse(target)
		nav := tu.Query().Get("embed_navigation_token")
		if nav == "" {
			return &Error{Status: http.StatusBadRequest, Code: looker.CodeMissingParameter,
				Message: "the target must carry embed_navigation_token", Details: map[string]any{"parameter": "embed_navigation_token"}}
		}
		if _, err := s.looker.RedeemAuthentication(r.Context(), auth[0], r.UserAgent(), nav); err != nil {
			return err
		}
		http.Redirect(w, r, target, http.StatusFound)
		return nil
	}
	var current string
	if c, err := r.Cookie(LookerCookie); err == nil {
		current = c.Value
	}
	res, err := s.looker.LoginSigned(r.Context(), s.lookerHosts(r), escaped, q, current)
	if err != nil {
		return err
	}
	if err := s.auditLookerMint(r, res.Principal, res.ExternalUserID, "looker.signed_login"); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: LookerCookie, Value: res.Cookie, Path: "/", MaxAge: int(res.MaxAge / time.Second),
		HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode, Partitioned: true})
	http.Redirect(w, r, res.Target, http.StatusFound)
	return nil
}

// lookerHosts are the hosts a signed URL may have been signed for: the one the request came to,
// and the public URL's.
func (s *Server) lookerHosts(r *http.Request) []string {
	hosts := []string{r.Host}
	if u, err := url.Parse(s.opts.Issuer); err == nil && u.Host != "" && u.Host != r.Host {
		hosts = append(hosts, u.Host)
	}
	return hosts
}

// ---- admin: embed secrets ----

// handleCreateEmbedSecret is POST /api/v1/admin/embed_secrets: the secret is in this answer only.
func (s *Server) handleCreateEmbedSecret(w http.ResponseWriter, r *http.Request) error {
	if err := s.lookerEnabled(); err != nil {
		return err
	}
	es, value, err := s.looker.CreateSecret(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, map[string]any{"id": es.ID, "secret": value, "created_at": es.CreatedAt})
	return nil
}

// handleListEmbedSecrets is GET /api/v1/admin/embed_secrets (never the secrets).
func (s *Server) handleListEmbedSecrets(w http.ResponseWriter, r *http.Request) error {
	if err := s.lookerEnabled(); err != nil {
		return err
	}
	list, err := s.looker.ListSecrets(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"embed_secrets": list})
	return nil
}

// handleRevokeEmbedSecret is DELETE /api/v1/admin/embed_secrets/{id}.
func (s *Server) handleRevokeEmbedSecret(w http.ResponseWriter, r *http.Request) error {
	if err := s.lookerEnabled(); err != nil {
		return err
	}
	err := s.looker.RevokeSecret(r.Context(), r.PathValue("id"))
	if errors.Is(err, looker.ErrSecretNotFound) {
		return errorf(http.StatusNotFound, "not_found", "no such embed secret")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
