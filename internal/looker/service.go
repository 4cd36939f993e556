package looker

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
)

// Token lifetimes (Looker's).
const (
	AuthTokenTTL  = 30 * time.Second
	TokenTTL      = 10 * time.Minute // navigation and API tokens
	APILoginTTL   = time.Hour        // POST /api/4.0/login access tokens
	nonceLifetime = 2*MaxClockSkew + time.Minute
)

// Record kinds in the store.
const (
	kindUser        = "looker.user"
	kindSession     = "looker.session"
	kindNonce       = "looker.nonce"
	kindAuthToken   = "looker.auth_token"
	kindSecret      = "looker.embed_secret"
	kindAPILogin    = "looker.api_login"
	macPurpose      = "looker-embed-session"
	secretADPrefix  = "looker.embed_secret:"
	sessionIDLength = 16
)

// Token prefixes: each kind of token is recognisable and none passes as another (the prefix is
// part of what the MAC covers).
const (
	prefixAPI       = "lka"
	prefixNav       = "lkn"
	prefixReference = "lkr"
	prefixCookie    = "lkc"
	prefixAuth      = "lkt"
	prefixAPILogin  = "lkl"
)

// IsAPIToken reports whether a bearer credential looks like a cookieless API token (so the
// caller can route it here rather than to JWT verification).
func IsAPIToken(s string) bool { return strings.HasPrefix(s, prefixAPI+".") }

// Service runs the Looker embedding flows over the store.
type Service struct {
	store storage.Store
	keys  *secret.Keys
	mac   *secret.MAC
	now   func() time.Time
}

// New returns a Service. now may be nil for time.Now.
func New(store storage.Store, keys *secret.Keys, now func() time.Time) (*Service, error) {
	if now == nil {
		now = time.Now
	}
	mac, err := keys.MAC(macPurpose)
	if err != nil {
		return nil, err
	}
	return &Service{store: store, keys: keys, mac: mac, now: now}, nil
}

// Session is a live embed session as the HTTP layer sees it.
type Session struct {
	ID          string
	Cookieless  bool
	User        User
	EmbedDomain string
	// Principal started the session: "embed_secret:<id>" or the API client id.
	Principal string
	ExpiresAt time.Time
	// TokenExpiresAt is when the credential used to find the session expires (API and
	// navigation tokens); the session's expiry for cookies.
	TokenExpiresAt time.Time
}

// sessionDoc is a session record's value.
type sessionDoc struct {
	Cookieless  bool      `json:"cookieless"`
	User        User      `json:"user"`
	UserAgent   string    `json:"ua,omitempty"` // hex SHA-256 of the User-Agent (cookieless)
	EmbedDomain string    `json:"embed_domain,omitempty"`
	Principal   string    `json:"principal"`
	CreatedAt   time.Time `json:"created_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	// Tokens come in generations: Gen is the current one, issued at GenIssuedAt; the previous
	// one (Gen-1) was issued at PrevIssuedAt and stays valid until its own expiry.
	Gen          int64     `json:"gen"`
	GenIssuedAt  time.Time `json:"gen_issued_at"`
	PrevIssuedAt time.Time `json:"prev_issued_at,omitzero"`
}

func (d *sessionDoc) session(id string) Session {
	return Session{ID: id, Cookieless: d.Cookieless, User: d.User, EmbedDomain: d.EmbedDomain,
		Principal: d.Principal, ExpiresAt: d.ExpiresAt, TokenExpiresAt: d.ExpiresAt}
}

func uaHash(ua string) string {
	h := sha256.Sum256([]byte(ua))
	return hex.EncodeToString(h[:])
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("looker: random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func digest(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// ---- keyed session tokens: "<prefix>.<session id>[.<generation>].<mac>" ----

func (s *Service) token(prefix, sid string, gen int64) string {
	body := prefix + "." + sid
	if gen >= 0 {
		body += "." + strconv.FormatInt(gen, 10)
	}
	return body + "." + base64.RawURLEncoding.EncodeToString(s.mac.Sum([]byte(body)))
}

// parseToken checks a token's prefix and MAC and returns its session id and generation (-1 for
// tokens without one). A forged or mangled token is a 401 invalid_token.
func (s *Service) parseToken(prefix, tok string, withGen bool) (sid string, gen int64, err error) {
	bad := unauthenticated(CodeInvalidToken, "the token is not valid").with("reason", "malformed")
	if len(tok) > 256 {
		return "", 0, bad
	}
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return "", 0, bad
	}
	body, sum := tok[:i], tok[i+1:]
	parts := strings.Split(body, ".")
	want := 2
	if withGen {
		want = 3
	}
	if len(parts) != want || parts[0] != prefix || len(parts[1]) != 2*sessionIDLength {
		return "", 0, bad
	}
	if _, err := hex.DecodeString(parts[1]); err != nil {
		return "", 0, bad
	}
	gen = -1
	if withGen {
		if gen, err = strconv.ParseInt(parts[2], 10, 64); err != nil || gen < 0 {
			return "", 0, bad
		}
	}
	mac, err := base64.RawURLEncoding.DecodeString(sum)
	if err != nil || !s.mac.Verify([]byte(body), mac) {
		return "", 0, unauthenticated(CodeInvalidToken, "the token is not valid").with("reason", "bad_signature")
	}
	return parts[1], gen, nil
}

func newSessionID() (string, error) {
	b := make([]byte, sessionIDLength)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("looker: random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// ---- sessions ----

func (s *Service) getSession(ctx context.Context, sid string) (*sessionDoc, error) {
	r, err := s.store.GetRecord(ctx, kindSession, sid)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, unauthenticated(CodeSessionExpired, "the embed session has ended or expired")
	}
	if err != nil {
		return nil, fmt.Errorf("looker: get session: %w", err)
	}
	var d sessionDoc
	if err := json.Unmarshal(r.Value, &d); err != nil {
		return nil, fmt.Errorf("looker: session record: %w", err)
	}
	if !s.now().Before(d.ExpiresAt) {
		return nil, unauthenticated(CodeSessionExpired, "the embed session has ended or expired")
	}
	return &d, nil
}

func (s *Service) createSession(ctx context.Context, d *sessionDoc) (string, error) {
	sid, err := newSessionID()
	if err != nil {
		return "", err
	}
	b, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	if err := s.store.CreateRecord(ctx, storage.Record{Kind: kindSession, Key: sid, Value: b, ExpiresAt: d.ExpiresAt}); err != nil {
		return "", fmt.Errorf("looker: create session: %w", err)
	}
	return sid, nil
}

// upsertUser stores the embed user's definition under its external id, replacing the previous
// one (Looker updates the user at every sign-in).
func (s *Service) upsertUser(ctx context.Context, u User) error {
	now := s.now().UTC()
	type doc struct {
		User
		CreatedAt time.Time `json:"created_at"`
		UpdatedAt time.Time `json:"updated_at"`
	}
	for range 3 {
		_, err := s.store.UpdateRecord(ctx, kindUser, u.ExternalUserID, func(r storage.Record) (storage.Record, error) {
			var old struct {
				CreatedAt time.Time `json:"created_at"`
			}
			_ = json.Unmarshal(r.Value, &old) // only the creation time is kept
			b, err := json.Marshal(doc{User: u, CreatedAt: old.CreatedAt, UpdatedAt: now})
			r.Value = b
			return r, err
		})
		if err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("looker: update user: %w", err)
		}
		b, err := json.Marshal(doc{User: u, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		err = s.store.CreateRecord(ctx, storage.Record{Kind: kindUser, Key: u.ExternalUserID, Value: b})
		if err == nil {
			return nil
		}
		if !errors.Is(err, storage.ErrAlreadyExists) {
			return fmt.Errorf("looker: create user: %w", err)
		}
	}
	return fmt.Errorf("looker: upsert user %q: too much contention", u.ExternalUserID)
}

// ---- signed URLs ----

// SignedResult is what a signed login produced.
type SignedResult struct {
	Target string
	Cookie string
	MaxAge time.Duration
	// ExternalUserID and Principal ("embed_secret:<id>") are for the audit log.
	ExternalUserID string
	Principal      string
}

// LoginSigned verifies a signed embed URL (VerifySigned with the active secrets), consumes its
// nonce, upserts the user and starts a cookie session. currentCookie is the session cookie the
// request already carries ("" for none): with force_logout_login, that session is ended.
func (s *Service) LoginSigned(ctx context.Context, hosts []string, escapedPath string, q map[string][]string, currentCookie string) (*SignedResult, error) {
	secrets, err := s.activeSecrets(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	login, err := VerifySigned(hosts, escapedPath, q, secrets, now)
	if err != nil {
		return nil, err
	}
	err = s.store.CreateRecord(ctx, storage.Record{Kind: kindNonce, Key: login.Nonce, Value: []byte("{}"), ExpiresAt: now.Add(nonceLifetime)})
	if errors.Is(err, storage.ErrAlreadyExists) {
		return nil, unauthenticated(CodeNonceReused, "this signed URL (its nonce) has been used already")
	}
	if err != nil {
		return nil, fmt.Errorf("looker: nonce: %w", err)
	}
	if err := s.upsertUser(ctx, login.User()); err != nil {
		return nil, err
	}
	if login.ForceLogoutLogin() && currentCookie != "" {
		if sid, _, err := s.parseToken(prefixCookie, currentCookie, false); err == nil {
			if err := s.store.DeleteRecord(ctx, kindSession, sid); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return nil, fmt.Errorf("looker: end session: %w", err)
			}
		}
	}
	d := &sessionDoc{User: login.User(), Principal: "embed_secret:" + login.SecretID, CreatedAt: now.UTC(),
		ExpiresAt: now.Add(login.user.sessionDuration()).UTC(), GenIssuedAt: now.UTC()}
	sid, err := s.createSession(ctx, d)
	if err != nil {
		return nil, err
	}
	return &SignedResult{Target: login.Target, Cookie: s.token(prefixCookie, sid, -1), MaxAge: login.user.sessionDuration(),
		ExternalUserID: login.user.ExternalUserID, Principal: d.Principal}, nil
}

// SessionFromCookie returns the live session of a session cookie.
func (s *Service) SessionFromCookie(ctx context.Context, cookie string) (*Session, error) {
	sid, _, err := s.parseToken(prefixCookie, cookie, false)
	if err != nil {
		return nil, err
	}
	d, err := s.getSession(ctx, sid)
	if err != nil {
		return nil, err
	}
	if d.Cookieless {
		return nil, unauthenticated(CodeInvalidToken, "the token is not valid").with("reason", "wrong_type")
	}
	ses := d.session(sid)
	return &ses, nil
}

// ---- cookieless ----

// TokenKind names the two session tokens a page or API call may carry.
type TokenKind int

const (
	APIToken TokenKind = iota
	NavigationToken
)

func (k TokenKind) prefix() string {
	if k == NavigationToken {
		return prefixNav
	}
	return prefixAPI
}

// SessionFromToken returns the live cookieless session of an API or navigation token presented
// from userAgent.
func (s *Service) SessionFromToken(ctx context.Context, kind TokenKind, tok, userAgent string) (*Session, error) {
	sid, gen, err := s.parseToken(kind.prefix(), tok, true)
	if err != nil {
		return nil, err
	}
	d, err := s.getSession(ctx, sid)
	if err != nil {
		return nil, err
	}
	if err := d.checkUA(userAgent); err != nil {
		return nil, err
	}
	exp, err := d.tokenExpiry(gen, s.now())
	if err != nil {
		return nil, err
	}
	ses := d.session(sid)
	ses.TokenExpiresAt = exp
	return &ses, nil
}

func (d *sessionDoc) checkUA(ua string) error {
	if ua == "" {
		return invalid(CodeUserAgentRequired, "the browser's User-Agent is required")
	}
	if uaHash(ua) != d.UserAgent {
		return forbidden(CodeUserAgentMismatch, "the embed session belongs to another browser (User-Agent)")
	}
	return nil
}

// tokenExpiry is when a token of generation gen expires; an error once it has.
func (d *sessionDoc) tokenExpiry(gen int64, now time.Time) (time.Time, error) {
	var exp time.Time
	switch gen {
	case d.Gen:
		exp = d.GenIssuedAt.Add(TokenTTL)
	case d.Gen - 1:
		exp = d.PrevIssuedAt.Add(TokenTTL)
	default:
		return time.Time{}, unauthenticated(CodeSessionExpired, "the token has been replaced and has expired")
	}
	if exp.After(d.ExpiresAt) {
		exp = d.ExpiresAt
	}
	if !now.Before(exp) {
		return time.Time{}, unauthenticated(CodeSessionExpired, "the token has expired; ask the host for new tokens")
	}
	return exp, nil
}

// AcquireRequest is the body of POST /api/4.0/embed/cookieless_session/acquire.
type AcquireRequest struct {
	Fields    map[string]json.RawMessage
	UserAgent string
	Principal string // the API client id
}

// Tokens is the answer of acquire and generate_tokens (fields and names as Looker's).
type Tokens struct {
	AuthenticationToken      string `json:"authentication_token,omitempty"`
	AuthenticationTokenTTL   *int64 `json:"authentication_token_ttl,omitempty"`
	NavigationToken          string `json:"navigation_token"`
	NavigationTokenTTL       int64  `json:"navigation_token_ttl"`
	APIToken                 string `json:"api_token"`
	APITokenTTL              int64  `json:"api_token_ttl"`
	SessionReferenceToken    string `json:"session_reference_token,omitempty"`
	SessionReferenceTokenTTL int64  `json:"session_reference_token_ttl"`
}

// acquireFields are the body fields acquire knows besides the user's.
var acquireFields = map[string]bool{
	"external_user_id": true, "first_name": true, "last_name": true, "session_length": true,
	"force_logout_login": true, "permissions": true, "models": true, "group_ids": true,
	"external_group_id": true, "user_attributes": true, "access_filters": true, "user_timezone": true,
	"session_reference_token": true, "embed_domain": true,
}

// Acquire starts a cookieless session, or joins the one an unexpired session_reference_token
// names (no extension, no user update: its current API and navigation tokens and a new one-time
// authentication token).
func (s *Service) Acquire(ctx context.Context, req AcquireRequest) (*Tokens, error) {
	for name := range req.Fields {
		if !acquireFields[name] {
			return nil, badParam(name, "is not a field of the acquire request")
		}
	}
	if req.UserAgent == "" {
		return nil, invalid(CodeUserAgentRequired, "send the browser's User-Agent header with acquire")
	}
	ref, err := optionalString(func(n string) (json.RawMessage, bool) { v, ok := req.Fields[n]; return v, ok }, "session_reference_token")
	if err != nil {
		return nil, err
	}
	// Join an unexpired session.
	if ref != "" {
		sid, _, err := s.parseToken(prefixReference, ref, false)
		if err != nil {
			return nil, invalid(CodeInvalidReferenceToken, "session_reference_token is not a reference token Inlay issued")
		}
		d, err := s.getSession(ctx, sid)
		var le *Error
		switch {
		case errors.As(err, &le) && le.Code == CodeSessionExpired:
			// expired or ended: ignored, a new session is made below
		case err != nil:
			return nil, err
		default:
			if err := d.checkUA(req.UserAgent); err != nil {
				return nil, err
			}
			// The current generation, not a new one: tabs already using it keep working.
			return s.tokens(ctx, sid, d, true)
		}
	}
	get := func(n string) (json.RawMessage, bool) { v, ok := req.Fields[n]; return v, ok }
	u, err := parseUser(get)
	if err != nil {
		return nil, err
	}
	domain, err := optionalString(get, "embed_domain")
	if err != nil {
		return nil, err
	}
	if domain != "" && !ValidOrigin(domain) {
		return nil, invalid(CodeInvalidEmbedDomain, "embed_domain must be an origin: scheme://host[:port]").with("embed_domain", domain)
	}
	now := s.now()
	if err := s.upsertUser(ctx, u.User); err != nil {
		return nil, err
	}
	d := &sessionDoc{Cookieless: true, User: u.User, UserAgent: uaHash(req.UserAgent), EmbedDomain: domain,
		Principal: req.Principal, CreatedAt: now.UTC(), ExpiresAt: now.Add(u.sessionDuration()).UTC(), GenIssuedAt: now.UTC()}
	sid, err := s.createSession(ctx, d)
	if err != nil {
		return nil, err
	}
	return s.tokens(ctx, sid, d, true)
}

// advance moves the session to its next token generation when move says so, atomically, and
// returns the session as stored.
func (s *Service) advance(ctx context.Context, sid string, move func(cur *sessionDoc) bool) (*sessionDoc, error) {
	now := s.now().UTC()
	var d sessionDoc
	_, err := s.store.UpdateRecord(ctx, kindSession, sid, func(r storage.Record) (storage.Record, error) {
		var cur sessionDoc
		if err := json.Unmarshal(r.Value, &cur); err != nil {
			return r, err
		}
		if move(&cur) {
			cur.PrevIssuedAt, cur.GenIssuedAt, cur.Gen = cur.GenIssuedAt, now, cur.Gen+1
		}
		b, err := json.Marshal(&cur)
		r.Value = b
		d = cur
		return r, err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil, unauthenticated(CodeSessionExpired, "the embed session has ended or expired")
	}
	if err != nil {
		return nil, fmt.Errorf("looker: update session: %w", err)
	}
	if !s.now().Before(d.ExpiresAt) {
		return nil, unauthenticated(CodeSessionExpired, "the embed session has ended or expired")
	}
	return &d, nil
}

// tokens renders the current generation's tokens of a session; with auth, also the reference
// token and a new one-time authentication token.
func (s *Service) tokens(ctx context.Context, sid string, d *sessionDoc, auth bool) (*Tokens, error) {
	now := s.now()
	exp := d.GenIssuedAt.Add(TokenTTL)
	if exp.After(d.ExpiresAt) {
		exp = d.ExpiresAt
	}
	t := &Tokens{
		NavigationToken: s.token(prefixNav, sid, d.Gen), NavigationTokenTTL: ttl(exp, now),
		APIToken: s.token(prefixAPI, sid, d.Gen), APITokenTTL: ttl(exp, now),
		SessionReferenceTokenTTL: ttl(d.ExpiresAt, now),
	}
	if !auth {
		return t, nil
	}
	t.SessionReferenceToken = s.token(prefixReference, sid, -1)
	raw, err := randomToken(32)
	if err != nil {
		return nil, err
	}
	tok := prefixAuth + "." + raw
	authExp := now.Add(AuthTokenTTL)
	if authExp.After(d.ExpiresAt) {
		authExp = d.ExpiresAt
	}
	if err := s.store.CreateRecord(ctx, storage.Record{Kind: kindAuthToken, Key: digest(tok), Value: []byte(sid), ExpiresAt: authExp}); err != nil {
		return nil, fmt.Errorf("looker: authentication token: %w", err)
	}
	n := ttl(authExp, now)
	t.AuthenticationToken, t.AuthenticationTokenTTL = tok, &n
	return t, nil
}

func ttl(exp, now time.Time) int64 {
	n := int64(exp.Sub(now).Round(time.Second) / time.Second)
	if n < 0 {
		return 0
	}
	return n
}

// GenerateRequest is the body of PUT /api/4.0/embed/cookieless_session/generate_tokens.
type GenerateRequest struct {
	SessionReferenceToken string `json:"session_reference_token"`
	APIToken              string `json:"api_token"`
	NavigationToken       string `json:"navigation_token"`
}

// GenerateTokens returns the next API and navigation tokens of a session. It is idempotent:
// tokens of an older generation get the current generation again. An ended or expired session
// is not an error: the answer has session_reference_token_ttl 0 and empty tokens.
func (s *Service) GenerateTokens(ctx context.Context, req GenerateRequest, userAgent string) (*Tokens, error) {
	if userAgent == "" {
		return nil, invalid(CodeUserAgentRequired, "send the browser's User-Agent header with generate_tokens")
	}
	for name, v := range map[string]string{"session_reference_token": req.SessionReferenceToken, "api_token": req.APIToken, "navigation_token": req.NavigationToken} {
		if v == "" {
			return nil, invalid(CodeMissingParameter, "%s is required", name).with("parameter", name)
		}
	}
	sid, _, err := s.parseToken(prefixReference, req.SessionReferenceToken, false)
	if err != nil {
		return nil, invalid(CodeInvalidReferenceToken, "session_reference_token is not a reference token Inlay issued")
	}
	gens := [2]int64{}
	for i, tk := range []struct {
		kind TokenKind
		tok  string
	}{{APIToken, req.APIToken}, {NavigationToken, req.NavigationToken}} {
		tsid, gen, err := s.parseToken(tk.kind.prefix(), tk.tok, true)
		if err != nil {
			return nil, err
		}
		if tsid != sid {
			return nil, forbidden(CodeTokenSessionMismatch, "the token belongs to another embed session")
		}
		gens[i] = gen
	}
	d, err := s.getSession(ctx, sid)
	var le *Error
	if errors.As(err, &le) && le.Code == CodeSessionExpired {
		return &Tokens{}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := d.checkUA(userAgent); err != nil {
		return nil, err
	}
	// Only the holder of the current generation moves the session on; a caller with an older
	// one (another tab already refreshed) gets the current generation.
	from := min(gens[0], gens[1])
	nd, err := s.advance(ctx, sid, func(cur *sessionDoc) bool { return from == cur.Gen })
	if errors.As(err, &le) && le.Code == CodeSessionExpired {
		return &Tokens{}, nil
	}
	if err != nil {
		return nil, err
	}
	return s.tokens(ctx, sid, nd, false)
}

// EndSession ends the session a reference token names. Ending an ended session is not an error.
func (s *Service) EndSession(ctx context.Context, reference string) error {
	sid, _, err := s.parseToken(prefixReference, reference, false)
	if err != nil {
		return invalid(CodeInvalidReferenceToken, "not a session reference token Inlay issued")
	}
	if err := s.store.DeleteRecord(ctx, kindSession, sid); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("looker: end session: %w", err)
	}
	return nil
}

// RedeemAuthentication uses up a one-time authentication token (exactly one of concurrent
// redeemers succeeds) and returns its live session. The navigation token inside the target,
// when given, must belong to the same session. Every check is made before the token is used up,
// so a refused request leaves it usable.
func (s *Service) RedeemAuthentication(ctx context.Context, tok, userAgent, navigation string) (*Session, error) {
	unknown := unauthenticated(CodeInvalidAuthToken, "the authentication token is unknown, used or expired")
	if !strings.HasPrefix(tok, prefixAuth+".") || len(tok) > 128 {
		return nil, unknown
	}
	r, err := s.store.GetRecord(ctx, kindAuthToken, digest(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, unknown
	}
	if err != nil {
		return nil, fmt.Errorf("looker: authentication token: %w", err)
	}
	sid := string(r.Value)
	if navigation != "" {
		nsid, _, err := s.parseToken(prefixNav, navigation, true)
		if err != nil {
			return nil, err
		}
		if nsid != sid {
			return nil, forbidden(CodeTokenSessionMismatch, "the navigation token belongs to another embed session")
		}
	}
	d, err := s.getSession(ctx, sid)
	if err != nil {
		return nil, err
	}
	if err := d.checkUA(userAgent); err != nil {
		return nil, err
	}
	taken, err := s.store.TakeRecord(ctx, kindAuthToken, digest(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, unknown
	}
	if err != nil {
		return nil, fmt.Errorf("looker: take authentication token: %w", err)
	}
	if string(taken.Value) != sid {
		return nil, unknown
	}
	ses := d.session(sid)
	return &ses, nil
}

// ValidOrigin reports whether s is scheme://host[:port] with http or https and nothing else.
func ValidOrigin(s string) bool {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || (scheme != "https" && scheme != "http") || rest == "" {
		return false
	}
	return !strings.ContainsAny(rest, "/?#@\\ \t\r\n")
}

// CurrentTokens returns the current API and navigation tokens of a live session (what
// generate_tokens last handed out), without changing anything.
func (s *Service) CurrentTokens(ctx context.Context, sid string) (*Tokens, error) {
	d, err := s.getSession(ctx, sid)
	if err != nil {
		return nil, err
	}
	return s.tokens(ctx, sid, d, false)
}
