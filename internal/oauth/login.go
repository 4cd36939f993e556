package oauth

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/inlay/inlay/internal/storage"
)

// loginState is what a login's single-use state stands for, held server-side (sealed) until the
// callback takes it: who is logging in to what, the PKCE verifier, the OIDC nonce, the issuer the
// answer must come from, where to go afterwards, and a hash of the browser binder cookie.
type loginState struct {
	Viewer      string `json:"viewer"`
	Integration string `json:"integration"`
	Verifier    string `json:"verifier,omitempty"`
	Nonce       string `json:"nonce,omitempty"`
	Issuer      string `json:"issuer,omitempty"`
	ReturnTo    string `json:"return_to,omitempty"`
	BinderHash  []byte `json:"binder"`
}

// LoginRequest starts a login: GET /__oauth__/integrations/{guid}/login.
type LoginRequest struct {
	Integration string // guid or name, from the path
	Ticket      string
	ReturnTo    string
}

// LoginStart is where to send the browser, and the binder to set as a cookie scoped to the
// callback: the callback only accepts the state in the browser that started the login.
type LoginStart struct {
	RedirectURL string
	Binder      string
}

// BeginLogin checks the ticket and return_to, stores a single-use state and returns the
// provider's authorization URL (authorization code, PKCE S256, nonce for OIDC).
func (b *Broker) BeginLogin(ctx context.Context, req LoginRequest) (LoginStart, error) {
	tk, err := b.unseal(sealedLogin, "", req.Ticket)
	switch {
	case errors.Is(err, errSealedExpired):
		return LoginStart{}, newErr(CodeTicketExpired, "invalid_request", "the login link has expired: ask for a new one")
	case err != nil:
		return LoginStart{}, newErr(CodeTicketInvalid, "invalid_request", "the login link is not valid")
	}
	it, err := b.load(ctx, req.Integration)
	if errors.Is(err, ErrNotFound) {
		return LoginStart{}, newErr(CodeIntegrationNotFound, "invalid_request", "no such integration")
	} else if err != nil {
		return LoginStart{}, err
	}
	if tk.Integration != it.GUID {
		return LoginStart{}, newErr(CodeTicketInvalid, "invalid_request", "the login link is for another integration")
	}
	if it.AuthType != AuthViewer {
		return LoginStart{}, newErr(CodeNotViewerIntegration, "invalid_request", "this integration uses a service account: viewers do not log in to it")
	}
	if req.ReturnTo != "" && !b.returnToAllowed(req.ReturnTo) {
		return LoginStart{}, newErr(CodeReturnToNotAllowed, "invalid_request", "return_to must be a URL of an allowed origin")
	}
	p, err := b.endpoints(ctx, it)
	if err != nil {
		return LoginStart{}, err
	}
	st := loginState{Viewer: tk.Viewer, Integration: it.GUID, Issuer: p.issuer, ReturnTo: req.ReturnTo}
	binder := randomString(32)
	bh := sha256Sum([]byte(binder))
	st.BinderHash = bh[:]
	state := randomString(32)
	opts := []oauth2.AuthCodeOption{}
	if it.Config.PKCE() {
		st.Verifier = oauth2.GenerateVerifier()
		opts = append(opts, oauth2.S256ChallengeOption(st.Verifier))
	}
	scopes := strings.Fields(it.Config.Scopes)
	if p.verifier != nil && slices.Contains(scopes, "openid") {
		st.Nonce = randomString(24)
		opts = append(opts, oauth2.SetAuthURLParam("nonce", st.Nonce))
	}
	prompt := it.Config.Prompt
	if prompt == "" && it.Template == TemplateOIDC && slices.Contains(scopes, "offline_access") {
		prompt = "consent" // OpenID Connect Core 11: offline_access is ignored without it
	}
	if prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", prompt))
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return LoginStart{}, err
	}
	key := stateKey(state)
	sealed, err := b.keys.Seal(raw, []byte(kindState+"/"+key))
	if err != nil {
		return LoginStart{}, err
	}
	if err := b.store.CreateRecord(ctx, storage.Record{Kind: kindState, Key: key, Value: sealed,
		ExpiresAt: b.now().Add(b.opts.StateTTL)}); err != nil {
		return LoginStart{}, err
	}
	return LoginStart{RedirectURL: b.oauth2Config(it, p).AuthCodeURL(state, opts...), Binder: binder}, nil
}

// stateKey is the store key of a state: its hash, so the store never holds a usable state.
func stateKey(state string) string {
	h := sha256Sum([]byte(state))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// returnToAllowed accepts absolute http(s) URLs on Inlay's own origin or an allowed origin.
func (b *Broker) returnToAllowed(v string) bool {
	u, err := url.Parse(v)
	if err != nil || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return false
	}
	origin := u.Scheme + "://" + u.Host
	if self, err := url.Parse(b.opts.PublicURL); err == nil && origin == self.Scheme+"://"+self.Host {
		return true
	}
	return slices.Contains(b.opts.AllowedOrigins, origin)
}

// CallbackRequest is what the provider sent back to /__oauth__/integrations/callback, plus the
// binder cookie of the browser.
type CallbackRequest struct {
	State, Code, Iss string
	Error            string
	Binder           string
}

// LoginResult says whose login completed, and where to send the browser.
type LoginResult struct {
	Viewer      string
	Integration Integration
	ReturnTo    string
}

// CompleteLogin takes the state (once: a replayed callback fails), checks it was started in this
// browser, that the answer comes from the expected issuer, exchanges the code with the PKCE
// verifier, verifies the ID token and its nonce for OIDC providers, and stores the tokens. On
// failure after the state was taken, the result still carries ReturnTo.
func (b *Broker) CompleteLogin(ctx context.Context, req CallbackRequest) (LoginResult, error) {
	if req.State == "" {
		return LoginResult{}, newErr(CodeInvalidState, "invalid_request", "the login answer carries no state")
	}
	key := stateKey(req.State)
	rec, err := b.store.TakeRecord(ctx, kindState, key)
	if errors.Is(err, storage.ErrNotFound) {
		return LoginResult{}, newErr(CodeInvalidState, "invalid_request", "the login is unknown, expired or already used: start again")
	} else if err != nil {
		return LoginResult{}, err
	}
	raw, err := b.keys.Open(rec.Value, []byte(kindState+"/"+key))
	if err != nil {
		return LoginResult{}, &Error{Code: CodeInvalidState, OAuth: "invalid_request", Message: "the login state cannot be read", Cause: err}
	}
	var st loginState
	if err := json.Unmarshal(raw, &st); err != nil {
		return LoginResult{}, err
	}
	res := LoginResult{Viewer: st.Viewer, ReturnTo: st.ReturnTo}
	bh := sha256Sum([]byte(req.Binder))
	if req.Binder == "" || !hmac.Equal(bh[:], st.BinderHash) {
		return res, newErr(CodeStateNotBound, "invalid_request", "the login was started in another browser: start again")
	}
	if req.Error != "" {
		return res, newErr(CodeProviderError, "access_denied", "the provider refused the login: "+safeText(req.Error))
	}
	it, err := b.load(ctx, st.Integration)
	if errors.Is(err, ErrNotFound) {
		return res, newErr(CodeIntegrationNotFound, "invalid_request", "the integration was deleted during the login")
	} else if err != nil {
		return res, err
	}
	res.Integration = it
	res.Integration.Config = it.Config.Public()
	p, err := b.endpoints(ctx, it)
	if err != nil {
		return res, err
	}
	// RFC 9207: a mix-up attack makes one provider's answer arrive for another's login.
	if (req.Iss != "" && st.Issuer != "" && req.Iss != st.Issuer) || (req.Iss == "" && p.issRequired) {
		return res, newErr(CodeIssuerMismatch, "invalid_request", "the login answer comes from another issuer than the one asked")
	}
	if req.Code == "" {
		return res, newErr(CodeInvalidRequest, "invalid_request", "the login answer carries no code")
	}
	opts := []oauth2.AuthCodeOption{}
	if st.Verifier != "" {
		opts = append(opts, oauth2.VerifierOption(st.Verifier))
	}
	tok, err := b.oauth2Config(it, p).Exchange(b.clientCtx(ctx), req.Code, opts...)
	if err != nil {
		return res, &Error{Code: CodeCodeExchangeFailed, OAuth: "invalid_grant", Message: "the provider refused the authorization code", Cause: err}
	}
	if st.Nonce != "" {
		rawID, _ := tok.Extra("id_token").(string)
		if rawID == "" {
			return res, newErr(CodeIDTokenInvalid, "invalid_grant", "the provider returned no ID token")
		}
		idt, err := p.verifier.Verify(b.clientCtx(ctx), rawID)
		if err != nil {
			return res, &Error{Code: CodeIDTokenInvalid, OAuth: "invalid_grant", Message: "the provider's ID token is not valid", Cause: err}
		}
		if !hmac.Equal([]byte(idt.Nonce), []byte(st.Nonce)) {
			return res, newErr(CodeIDTokenInvalid, "invalid_grant", "the ID token's nonce does not match the login")
		}
	}
	if err := b.saveLogin(ctx, st.Viewer, it.GUID, tok); err != nil {
		return res, err
	}
	return res, nil
}

// safeText keeps a provider's error code printable and short.
func safeText(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r >= 0x20 && r < 0x7f {
			return r
		}
		return -1
	}, s)
}

func queryEscape(s string) string { return url.QueryEscape(s) }
