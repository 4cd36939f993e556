package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/inlay/inlay/internal/storage"
)

// AccessToken is a token handed to content.
type AccessToken struct {
	Token  string
	Type   string // "Bearer"
	Expiry time.Time
	// Owner says whose credentials these are: "viewer:<id>" or "service:<integration guid>".
	Owner string
}

// tokenRecord is a viewer's stored session with an integration. The tokens are sealed, bound to
// the record's key.
type tokenRecord struct {
	Session     string    `json:"session"`
	Viewer      string    `json:"viewer"`
	Integration string    `json:"integration"`
	HasRefresh  bool      `json:"has_refresh_token"`
	Expiry      time.Time `json:"expiry"`
	Created     time.Time `json:"created"`
	Sealed      []byte    `json:"sealed"`
}

type tokenSet struct {
	Access  string    `json:"a"`
	Refresh string    `json:"r,omitempty"`
	Type    string    `json:"t,omitempty"`
	Expiry  time.Time `json:"e"`
}

func tokenKey(viewer, guid string) string { return url.PathEscape(viewer) + "/" + guid }

func tokenAD(key string) []byte { return []byte(kindToken + "/" + key) }

func (b *Broker) openToken(r storage.Record) (tokenRecord, tokenSet, error) {
	var rec tokenRecord
	var set tokenSet
	if err := json.Unmarshal(r.Value, &rec); err != nil {
		return rec, set, fmt.Errorf("oauth: stored token: %w", err)
	}
	plain, err := b.keys.Open(rec.Sealed, tokenAD(r.Key))
	if err != nil {
		return rec, set, fmt.Errorf("oauth: stored token: %w", err)
	}
	if err := json.Unmarshal(plain, &set); err != nil {
		return rec, set, fmt.Errorf("oauth: stored token: %w", err)
	}
	return rec, set, nil
}

func (b *Broker) sealToken(r storage.Record, rec tokenRecord, set tokenSet) (storage.Record, error) {
	plain, err := json.Marshal(set)
	if err != nil {
		return r, err
	}
	if rec.Sealed, err = b.keys.Seal(plain, tokenAD(r.Key)); err != nil {
		return r, err
	}
	rec.HasRefresh, rec.Expiry = set.Refresh != "", set.Expiry
	r.Value, err = json.Marshal(rec)
	return r, err
}

// saveLogin stores the tokens of a completed login, replacing any earlier session of the viewer
// with the integration.
func (b *Broker) saveLogin(ctx context.Context, viewer, guid string, tok *oauth2.Token) error {
	key := tokenKey(viewer, guid)
	rec := tokenRecord{Session: newGUID(), Viewer: viewer, Integration: guid, Created: b.now().UTC()}
	r, err := b.sealToken(storage.Record{Kind: kindToken, Key: key}, rec, b.setOf(tok, ""))
	if err != nil {
		return err
	}
	b.local.Delete(key)
	return b.store.PutRecord(ctx, r)
}

// setOf is what is stored of a token response. The expiry is taken from expires_in on the
// broker's clock (the one fresh() reads), falling back to what the client library computed.
func (b *Broker) setOf(tok *oauth2.Token, previousRefresh string) tokenSet {
	s := tokenSet{Access: tok.AccessToken, Refresh: tok.RefreshToken, Type: tok.Type(), Expiry: tok.Expiry.UTC()}
	if tok.ExpiresIn > 0 {
		s.Expiry = b.now().Add(time.Duration(tok.ExpiresIn) * time.Second).UTC()
	}
	if s.Refresh == "" {
		s.Refresh = previousRefresh // no rotation: the refresh token stays valid
	}
	return s
}

type localToken struct {
	tok   AccessToken
	until time.Time // when this replica must read the store again
}

// fresh reports whether a token expiring at exp is still good to hand out.
func (b *Broker) fresh(exp time.Time) bool {
	return exp.IsZero() || b.now().Add(b.opts.RefreshSkew).Before(exp)
}

// ViewerToken returns viewer's access token for the integration, refreshing it first when it
// is within the refresh skew of expiry: one refresh at a time per (viewer, integration) across
// replicas, the rotated refresh token saved atomically. Without a session it fails with
// CodeLoginRequired; when the provider refuses the refresh token, with CodeRefreshFailed (the
// session is dropped: the viewer must log in again). Both carry a login URL.
func (b *Broker) ViewerToken(ctx context.Context, it Integration, viewer string) (AccessToken, error) {
	key := tokenKey(viewer, it.GUID)
	if v, ok := b.local.Load(key); ok {
		lt := v.(localToken)
		if b.now().Before(lt.until) && b.fresh(lt.tok.Expiry) {
			return lt.tok, nil
		}
	}
	tok, err := b.readFresh(ctx, key, viewer)
	if err == nil || !errors.Is(err, errStale) {
		return tok, b.withLogin(err, viewer, it)
	}
	v, err, _ := b.flights.Do(key, func() (any, error) {
		// Detached from the caller: a refresh that the provider answered must be saved even if
		// the request that started it has gone, or a rotated refresh token would be lost.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return b.refresh(rctx, it, viewer, key)
	})
	if err != nil {
		return AccessToken{}, b.withLogin(err, viewer, it)
	}
	return v.(AccessToken), nil
}

var errStale = errors.New("oauth: token needs a refresh")

// readFresh returns the stored token when it is fresh; errStale when it needs a refresh.
func (b *Broker) readFresh(ctx context.Context, key, viewer string) (AccessToken, error) {
	r, err := b.store.GetRecord(ctx, kindToken, key)
	if errors.Is(err, storage.ErrNotFound) {
		return AccessToken{}, newErr(CodeLoginRequired, "interaction_required", "the viewer has not logged in to this integration")
	} else if err != nil {
		return AccessToken{}, err
	}
	rec, set, err := b.openToken(r)
	if err != nil {
		return AccessToken{}, err
	}
	if !b.fresh(set.Expiry) {
		if set.Refresh == "" {
			return AccessToken{}, newErr(CodeLoginRequired, "interaction_required", "the viewer's token has expired and there is no refresh token: log in again")
		}
		return AccessToken{}, errStale
	}
	tok := AccessToken{Token: set.Access, Type: tokenType(set.Type), Expiry: set.Expiry, Owner: "viewer:" + rec.Viewer}
	b.remember(key, tok)
	return tok, nil
}

func (b *Broker) remember(key string, tok AccessToken) {
	b.local.Store(key, localToken{tok: tok, until: b.now().Add(b.opts.LocalCacheTTL)})
}

func tokenType(t string) string {
	if t == "" || strings.EqualFold(t, "bearer") {
		return "Bearer"
	}
	return t
}

// refresh runs under the (viewer, integration) lease. A replica that does not get the lease
// waits for the holder to store the new token.
func (b *Broker) refresh(ctx context.Context, it Integration, viewer, key string) (AccessToken, error) {
	lease := "oauth.refresh/" + key
	holder := b.holderID
	for {
		ok, err := b.store.AcquireLease(ctx, lease, holder, 30*time.Second)
		if err != nil {
			return AccessToken{}, err
		}
		if ok {
			break
		}
		select {
		case <-ctx.Done():
			return AccessToken{}, &Error{Code: CodeProviderUnavailable, OAuth: "temporarily_unavailable",
				Message: "another refresh of this token did not finish in time", Cause: ctx.Err()}
		case <-time.After(50 * time.Millisecond):
		}
		if tok, err := b.readFresh(ctx, key, viewer); !errors.Is(err, errStale) {
			return tok, err
		}
	}
	defer func() { _ = b.store.ReleaseLease(context.WithoutCancel(ctx), lease, holder) }()
	// Another replica may have refreshed between our read and the lease.
	if tok, err := b.readFresh(ctx, key, viewer); !errors.Is(err, errStale) {
		return tok, err
	}
	r, err := b.store.GetRecord(ctx, kindToken, key)
	if err != nil {
		return AccessToken{}, err
	}
	_, set, err := b.openToken(r)
	if err != nil {
		return AccessToken{}, err
	}
	p, err := b.endpoints(ctx, it)
	if err != nil {
		return AccessToken{}, err
	}
	usedRefresh := set.Refresh
	src := b.oauth2Config(it, p).TokenSource(b.clientCtx(ctx), &oauth2.Token{RefreshToken: usedRefresh, Expiry: time.Unix(1, 0)})
	b.refreshes.Add(1)
	newTok, err := src.Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.ErrorCode == "invalid_grant" {
			// The grant is dead (revoked, expired, or replayed and so revoked): only a new login
			// helps. Drop the session so the viewer is asked to log in.
			_ = b.deleteIfRefresh(ctx, key, usedRefresh)
			return AccessToken{}, &Error{Code: CodeRefreshFailed, OAuth: "interaction_required",
				Message: "the provider refused the refresh token: log in again", Cause: err}
		}
		return AccessToken{}, &Error{Code: CodeProviderUnavailable, OAuth: "temporarily_unavailable",
			Message: "the provider could not refresh the token", Cause: err}
	}
	next := b.setOf(newTok, usedRefresh)
	var out AccessToken
	_, err = b.store.UpdateRecord(ctx, kindToken, key, func(r storage.Record) (storage.Record, error) {
		rec, _, err := b.openToken(r)
		if err != nil {
			return r, err
		}
		out = AccessToken{Token: next.Access, Type: tokenType(next.Type), Expiry: next.Expiry, Owner: "viewer:" + rec.Viewer}
		return b.sealToken(r, rec, next)
	})
	if errors.Is(err, storage.ErrNotFound) {
		// The session was revoked while we refreshed: do not resurrect it.
		return AccessToken{}, newErr(CodeLoginRequired, "interaction_required", "the viewer's session was revoked")
	} else if err != nil {
		return AccessToken{}, err
	}
	b.remember(key, out)
	return out, nil
}

// deleteIfRefresh drops the session if it still holds the refresh token that failed (a newer
// login since must not be lost).
func (b *Broker) deleteIfRefresh(ctx context.Context, key, refresh string) error {
	r, err := b.store.GetRecord(ctx, kindToken, key)
	if err != nil {
		return err
	}
	_, set, err := b.openToken(r)
	if err != nil || set.Refresh != refresh {
		return err
	}
	b.local.Delete(key)
	return b.store.DeleteRecord(ctx, kindToken, key)
}

// withLogin adds the login URL to errors the viewer fixes by logging in.
func (b *Broker) withLogin(err error, viewer string, it Integration) error {
	var e *Error
	if err == nil || !errors.As(err, &e) || (e.Code != CodeLoginRequired && e.Code != CodeRefreshFailed) {
		return err
	}
	cp := *e
	cp.Integration = it.GUID
	if u, lerr := b.LoginURL(viewer, it.GUID, ""); lerr == nil {
		cp.LoginURL = u
	}
	return &cp
}

// serviceToken returns the service account's token (client credentials), cached in memory until
// it is within the refresh skew of expiry.
func (b *Broker) ServiceToken(ctx context.Context, it Integration) (AccessToken, error) {
	key := "service/" + it.GUID + "/" + it.UpdatedTime.Format(time.RFC3339Nano)
	if v, ok := b.local.Load(key); ok {
		if lt := v.(localToken); b.fresh(lt.tok.Expiry) {
			return lt.tok, nil
		}
	}
	v, err, _ := b.flights.Do(key, func() (any, error) {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		p, err := b.endpoints(rctx, it)
		if err != nil {
			return nil, err
		}
		cc := clientcredentials.Config{ClientID: it.Config.ClientID, ClientSecret: it.Config.ClientSecret,
			TokenURL: p.endpoint.TokenURL, Scopes: strings.Fields(it.Config.Scopes), AuthStyle: p.endpoint.AuthStyle}
		tok, err := cc.Token(b.clientCtx(rctx))
		if err != nil {
			var re *oauth2.RetrieveError
			if errors.As(err, &re) {
				return nil, &Error{Code: CodeProviderRejected, OAuth: "invalid_grant", Message: "the provider refused the service account's credentials", Cause: err}
			}
			return nil, &Error{Code: CodeProviderUnavailable, OAuth: "temporarily_unavailable", Message: "the provider could not be reached", Cause: err}
		}
		exp := tok.Expiry
		if tok.ExpiresIn > 0 {
			exp = b.now().Add(time.Duration(tok.ExpiresIn) * time.Second)
		}
		at := AccessToken{Token: tok.AccessToken, Type: tokenType(tok.TokenType), Expiry: exp, Owner: "service:" + it.GUID}
		b.local.Store(key, localToken{tok: at})
		return at, nil
	})
	if err != nil {
		return AccessToken{}, err
	}
	return v.(AccessToken), nil
}

// Session is a viewer's stored login to an integration, as listed (never tokens).
type Session struct {
	GUID                 string    `json:"guid"`
	UserGUID             string    `json:"user_guid"`
	OAuthIntegrationGUID string    `json:"oauth_integration_guid"`
	HasRefreshToken      bool      `json:"has_refresh_token"`
	ExpiresTime          time.Time `json:"access_token_expires_time"`
	CreatedTime          time.Time `json:"created_time"`
	UpdatedTime          time.Time `json:"updated_time"`
}

// ListSessions lists the sessions of viewer (every viewer's when viewer is "").
func (b *Broker) ListSessions(ctx context.Context, viewer string) ([]Session, error) {
	prefix := ""
	if viewer != "" {
		prefix = url.PathEscape(viewer) + "/"
	}
	rs, err := b.store.ListRecords(ctx, kindToken, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]Session, 0, len(rs))
	for _, r := range rs {
		var rec tokenRecord
		if err := json.Unmarshal(r.Value, &rec); err != nil {
			return nil, fmt.Errorf("oauth: stored token: %w", err)
		}
		out = append(out, Session{GUID: rec.Session, UserGUID: rec.Viewer, OAuthIntegrationGUID: rec.Integration,
			HasRefreshToken: rec.HasRefresh, ExpiresTime: rec.Expiry, CreatedTime: rec.Created, UpdatedTime: r.UpdatedAt.UTC()})
	}
	slices.SortFunc(out, func(a, b Session) int { return a.CreatedTime.Compare(b.CreatedTime) })
	return out, nil
}

// DeleteSession removes a session and revokes its tokens at the provider when it has a
// revocation endpoint (a failure there is logged: the session is gone from Inlay either way).
func (b *Broker) DeleteSession(ctx context.Context, sessionGUID string) error {
	return b.deleteSession(ctx, "", sessionGUID)
}

// DeleteViewerSession is DeleteSession for one viewer's own session: a session of any other
// viewer is ErrNotFound, exactly as one that does not exist. viewer must not be empty.
func (b *Broker) DeleteViewerSession(ctx context.Context, viewer, sessionGUID string) error {
	if viewer == "" {
		return ErrNotFound
	}
	return b.deleteSession(ctx, viewer, sessionGUID)
}

// deleteSession deletes the session sessionGUID, of viewer only unless viewer is "".
func (b *Broker) deleteSession(ctx context.Context, viewer, sessionGUID string) error {
	prefix := ""
	if viewer != "" {
		prefix = url.PathEscape(viewer) + "/"
	}
	rs, err := b.store.ListRecords(ctx, kindToken, prefix)
	if err != nil {
		return err
	}
	for _, r := range rs {
		var rec tokenRecord
		if json.Unmarshal(r.Value, &rec) != nil || rec.Session != sessionGUID || (viewer != "" && rec.Viewer != viewer) {
			continue
		}
		taken, err := b.store.TakeRecord(ctx, kindToken, r.Key)
		if errors.Is(err, storage.ErrNotFound) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		b.local.Delete(r.Key)
		_, set, err := b.openToken(taken)
		if err != nil {
			return nil
		}
		if it, err := b.load(ctx, rec.Integration); err == nil {
			b.revoke(ctx, it, set)
		}
		return nil
	}
	return ErrNotFound
}

// revoke calls the provider's revocation endpoint (RFC 7009): the refresh token, which revokes
// the grant, else the access token.
func (b *Broker) revoke(ctx context.Context, it Integration, set tokenSet) {
	p, err := b.endpoints(ctx, it)
	if err != nil || p.revoke == "" {
		return
	}
	form := url.Values{"token": {set.Refresh}, "token_type_hint": {"refresh_token"}}
	if set.Refresh == "" {
		form = url.Values{"token": {set.Access}, "token_type_hint": {"access_token"}}
	}
	c := it.Config
	if c.TokenEndpointAuthMethod != AuthMethodBasic {
		form.Set("client_id", c.ClientID)
		if c.AuthMode == ModeConfidential {
			form.Set("client_secret", c.ClientSecret)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.revoke, strings.NewReader(form.Encode()))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.TokenEndpointAuthMethod == AuthMethodBasic {
		req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	}
	resp, err := b.opts.HTTPClient.Do(req)
	if err != nil {
		b.log.WarnContext(ctx, "oauth: token revocation failed", "integration", it.GUID, "err", err)
		return
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.log.WarnContext(ctx, "oauth: token revocation refused", "integration", it.GUID, "status", resp.StatusCode)
	}
}
