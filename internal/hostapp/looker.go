package hostapp

// Looker mode of the demo host (docs/embedding.md, "Looker mode"): a page that drives Inlay with
// the unmodified @looker/embed-sdk, in its two sign-in modes, and the backend endpoints such a
// host writes for it: /looker/auth signs embed URLs with the embed secret (what Looker's
// createSignedUrl helper does), /looker/acquire and /looker/generate call Inlay's
// /api/4.0/embed/cookieless_session endpoints with the browser's User-Agent, and keep the
// session reference token on the server (it never reaches the browser).

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// LookerConfig turns on the host's Looker mode.
type LookerConfig struct {
	// Host is Inlay as the Looker SDK is given it: host[:port], served over HTTPS.
	Host string
	// EmbedSecret signs /login/embed URLs; empty leaves out the signed mode.
	EmbedSecret string
	// Users maps a host username to its Looker embed user: the fields a Looker host signs or
	// sends to acquire (external_user_id, permissions, models, user_attributes, access_filters,
	// session_length, ...), as JSON values. A host user without one cannot open the Looker page.
	Users map[string]map[string]any
	// HostOrigin is this host page's origin, sent as embed_domain in acquire calls (a host maps
	// users to domains itself rather than trusting the browser's).
	HostOrigin string
}

// lookerUser is the embed user definition for one of the host's users, and false if it has none.
func (a *App) lookerUser(u User) (map[string]any, bool) {
	def, ok := a.cfg.Looker.Users[u.Username]
	if !ok {
		return nil, false
	}
	out := make(map[string]any, len(def)+1)
	for k, v := range def {
		out[k] = v
	}
	out["force_logout_login"] = true // a new sign-in replaces this browser's embed session
	return out, true
}

func (a *App) lookerRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /looker", a.handleLookerPage)
	mux.HandleFunc("GET /looker/embed-sdk.js", a.handleLookerSDK)
	mux.HandleFunc("GET /looker/auth", a.requireUser(a.handleLookerAuth))
	mux.HandleFunc("GET /looker/acquire", a.requireUser(a.handleLookerAcquire))
	mux.HandleFunc("PUT /looker/generate", a.requireUser(a.handleLookerGenerate))
	mux.HandleFunc("POST /looker/session/end", a.requireUser(a.handleLookerEnd))
}

// ---- signed URLs ----

func (a *App) handleLookerAuth(w http.ResponseWriter, r *http.Request, user User) {
	if a.cfg.Looker.EmbedSecret == "" {
		writeError(w, http.StatusNotFound, "signed_mode_off", "this host has no embed secret")
		return
	}
	src := r.URL.Query().Get("src")
	if !strings.HasPrefix(src, "/embed/") {
		writeError(w, http.StatusBadRequest, "invalid_src", "src must be an /embed/ path")
		return
	}
	def, ok := a.lookerUser(user)
	if !ok {
		writeError(w, http.StatusForbidden, "no_embed_user", "this user has no Looker embed user")
		return
	}
	signed, err := signEmbedURL(a.cfg.Looker.Host, a.cfg.Looker.EmbedSecret, src, def, time.Now())
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal", "could not sign the embed URL")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]string{"url": signed})
}

// signedParams are the signed embed URL's parameters in the order of the string to sign (after
// host and path); the optional ones are signed only when present, as Looker's TypeScript helper
// does.
var signedParams = []struct {
	name     string
	optional bool
}{
	{"nonce", false}, {"time", false}, {"session_length", false}, {"external_user_id", false},
	{"permissions", false}, {"models", false}, {"group_ids", true}, {"external_group_id", true},
	{"user_attributes", true}, {"access_filters", false},
}

// signEmbedURL builds https://{host}/login/embed/{encodeURIComponent(target)}?... signed with
// HMAC-SHA1 over host, path and the JSON-encoded values, one a line (Looker's documented
// algorithm).
func signEmbedURL(host, secret, target string, user map[string]any, now time.Time) (string, error) {
	nonce := make([]byte, 16)
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	values := map[string]string{}
	for k, v := range user {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		values[k] = string(b)
	}
	values["nonce"] = strconv.Quote(hex.EncodeToString(nonce))
	values["time"] = strconv.FormatInt(now.Unix(), 10)
	path := "/login/embed/" + encodeURIComponent(target)
	lines := []string{host, path}
	for _, p := range signedParams {
		v, ok := values[p.name]
		if !ok && p.optional {
			continue
		}
		lines = append(lines, v)
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(strings.Join(lines, "\n")))
	values["signature"] = base64.StdEncoding.EncodeToString(mac.Sum(nil))
	order := []string{"nonce", "time", "session_length", "external_user_id", "permissions", "models", "group_ids",
		"external_group_id", "user_attributes", "access_filters", "first_name", "last_name", "force_logout_login",
		"user_timezone", "signature"}
	var q []string
	for _, k := range order {
		if v, ok := values[k]; ok {
			q = append(q, k+"="+url.QueryEscape(v))
		}
	}
	return "https://" + host + path + "?" + strings.Join(q, "&"), nil
}

// encodeURIComponent is JavaScript's: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is
// percent-encoded (UTF-8).
func encodeURIComponent(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.!~*'()", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// ---- cookieless ----

// cookielessSession is what the host keeps of one embed session (per host session and browser).
type cookielessSession struct {
	Reference, APIToken, Navigation string
}

// cookielessAnswer is Inlay's answer to acquire and generate_tokens.
type cookielessAnswer struct {
	cookielessTokens
	SessionReferenceToken string `json:"session_reference_token"`
}

// cookielessTokens are the fields the browser may see (never the session reference token).
type cookielessTokens struct {
	AuthenticationToken      string `json:"authentication_token,omitempty"`
	AuthenticationTokenTTL   *int64 `json:"authentication_token_ttl,omitempty"`
	NavigationToken          string `json:"navigation_token"`
	NavigationTokenTTL       int64  `json:"navigation_token_ttl"`
	APIToken                 string `json:"api_token"`
	APITokenTTL              int64  `json:"api_token_ttl"`
	SessionReferenceTokenTTL int64  `json:"session_reference_token_ttl"`
}

type lookerAPI struct {
	mu      sync.Mutex
	token   string
	exp     time.Time
	session map[string]cookielessSession // host session id + user agent -> embed session
}

func (a *App) cookielessKey(r *http.Request) string {
	c, _ := r.Cookie(sessionCookie)
	return c.Value + "\x00" + r.UserAgent()
}

func (a *App) handleLookerAcquire(w http.ResponseWriter, r *http.Request, user User) {
	body, ok := a.lookerUser(user)
	if !ok {
		writeError(w, http.StatusForbidden, "no_embed_user", "this user has no Looker embed user")
		return
	}
	body["embed_domain"] = a.cfg.Looker.HostOrigin
	key := a.cookielessKey(r)
	a.looker.mu.Lock()
	if s, ok := a.looker.session[key]; ok {
		body["session_reference_token"] = s.Reference // join the session this browser has
	}
	a.looker.mu.Unlock()
	var resp cookielessAnswer
	if err := a.lookerCall(r.Context(), http.MethodPost, "/api/4.0/embed/cookieless_session/acquire", r.UserAgent(), body, &resp); err != nil {
		a.log.ErrorContext(r.Context(), "looker acquire", "user", user.Username, "err", err)
		writeError(w, http.StatusBadGateway, "acquire_failed", "could not start an embed session at Inlay")
		return
	}
	a.looker.mu.Lock()
	a.looker.session[key] = cookielessSession{Reference: resp.SessionReferenceToken, APIToken: resp.APIToken, Navigation: resp.NavigationToken}
	a.looker.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, resp.cookielessTokens)
}

func (a *App) handleLookerGenerate(w http.ResponseWriter, r *http.Request, user User) {
	key := a.cookielessKey(r)
	a.looker.mu.Lock()
	s, ok := a.looker.session[key]
	a.looker.mu.Unlock()
	if !ok {
		writeError(w, http.StatusBadRequest, "no_session", "acquire an embed session first")
		return
	}
	var resp cookielessAnswer
	err := a.lookerCall(r.Context(), http.MethodPut, "/api/4.0/embed/cookieless_session/generate_tokens", r.UserAgent(),
		map[string]string{"session_reference_token": s.Reference, "api_token": s.APIToken, "navigation_token": s.Navigation}, &resp)
	if err != nil {
		a.log.ErrorContext(r.Context(), "looker generate tokens", "user", user.Username, "err", err)
		writeError(w, http.StatusBadGateway, "generate_failed", "could not refresh the embed session at Inlay")
		return
	}
	out := resp.cookielessTokens
	out.AuthenticationToken, out.AuthenticationTokenTTL = "", nil
	a.looker.mu.Lock()
	if out.SessionReferenceTokenTTL == 0 {
		delete(a.looker.session, key) // ended: the next acquire starts a new one
	} else {
		s.APIToken, s.Navigation = out.APIToken, out.NavigationToken
		a.looker.session[key] = s
	}
	a.looker.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, out)
}

// handleLookerEnd ends this browser's embed session at Inlay (what a host does at sign-out).
func (a *App) handleLookerEnd(w http.ResponseWriter, r *http.Request, user User) {
	key := a.cookielessKey(r)
	a.looker.mu.Lock()
	s, ok := a.looker.session[key]
	a.looker.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"ended": false})
		return
	}
	if err := a.lookerCall(r.Context(), http.MethodDelete, "/api/4.0/embed/cookieless_session/"+url.PathEscape(s.Reference), r.UserAgent(), nil, nil); err != nil {
		a.log.ErrorContext(r.Context(), "looker end session", "user", user.Username, "err", err)
		writeError(w, http.StatusBadGateway, "end_failed", "could not end the embed session at Inlay")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ended": true})
}

// lookerCall calls Inlay's /api/4.0 with the host's API session (logging in when needed) and
// the browser's user agent, and decodes the JSON answer into out.
func (a *App) lookerCall(ctx context.Context, method, path, userAgent string, body, out any) error {
	tok, err := a.lookerLogin(ctx)
	if err != nil {
		return err
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.cfg.InlayURL+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+tok)
	req.Header.Set("User-Agent", userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s %s: %v", errInlay, method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if res.StatusCode == http.StatusUnauthorized {
		a.looker.mu.Lock()
		a.looker.token = "" // log in again next time
		a.looker.mu.Unlock()
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %s %s: HTTP %d %s", errInlay, method, path, res.StatusCode, bytes.TrimSpace(b))
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// lookerLogin returns the host's /api/4.0 access token, logging in with the client id and
// secret when there is none or it is about to expire.
func (a *App) lookerLogin(ctx context.Context) (string, error) {
	a.looker.mu.Lock()
	if a.looker.token != "" && time.Now().Before(a.looker.exp) {
		t := a.looker.token
		a.looker.mu.Unlock()
		return t, nil
	}
	a.looker.mu.Unlock()
	form := url.Values{"client_id": {a.cfg.ClientID}, "client_secret": {a.cfg.ClientSecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.InlayURL+"/api/4.0/login", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: login: %v", errInlay, err)
	}
	defer res.Body.Close()
	var tok tokenResponse
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: login: HTTP %d", errInlay, res.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<10)).Decode(&tok); err != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("%w: login: unreadable answer", errInlay)
	}
	a.looker.mu.Lock()
	a.looker.token = tok.AccessToken
	a.looker.exp = time.Now().Add(time.Duration(tok.ExpiresIn)*time.Second - serviceTokenSlack)
	a.looker.mu.Unlock()
	return tok.AccessToken, nil
}
