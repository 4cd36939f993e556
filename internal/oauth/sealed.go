package oauth

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// Sealed tokens the broker issues: a login ticket (carried by a login URL, so a popup needs no
// cookie to say who is logging in), a user session token (names a viewer to the credential
// exchange, for applications that are not embedded) and a content session token (names the
// content, for service accounts). Each is AES-GCM sealed with the master key and its kind in the
// associated data, so one kind never opens as another, and carries its expiry.
const (
	sealedLogin   = "login"
	sealedUser    = "user"
	sealedContent = "content"

	userTokenPrefix    = "inlay_ust_"
	contentTokenPrefix = "inlay_cst_"
)

type sealedClaims struct {
	Viewer      string `json:"v,omitempty"`
	Integration string `json:"i,omitempty"`
	Content     string `json:"c,omitempty"`
	Exp         int64  `json:"e"`
}

var (
	errSealedInvalid = errors.New("invalid")
	errSealedExpired = errors.New("expired")
)

func sealedAD(kind string) []byte { return []byte("inlay/oauth/sealed/" + kind) }

func (b *Broker) seal(kind, prefix string, c sealedClaims) (string, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	s, err := b.keys.Seal(raw, sealedAD(kind))
	if err != nil {
		return "", err
	}
	return prefix + base64.RawURLEncoding.EncodeToString(s), nil
}

func (b *Broker) unseal(kind, prefix, tok string) (sealedClaims, error) {
	var c sealedClaims
	rest, ok := strings.CutPrefix(tok, prefix)
	if !ok || len(rest) > 4096 {
		return c, errSealedInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return c, errSealedInvalid
	}
	plain, err := b.keys.Open(raw, sealedAD(kind))
	if err != nil {
		return c, errSealedInvalid
	}
	if err := json.Unmarshal(plain, &c); err != nil {
		return c, errSealedInvalid
	}
	if !b.now().Before(time.Unix(c.Exp, 0)) {
		return c, errSealedExpired
	}
	return c, nil
}

// LoginURL returns the URL that logs viewer in to the integration, carrying a short-lived sealed
// ticket. returnTo may be empty (the callback then shows a page that tells the opener window and
// closes itself).
func (b *Broker) LoginURL(viewer, integrationGUID, returnTo string) (string, error) {
	t, err := b.seal(sealedLogin, "", sealedClaims{Viewer: viewer, Integration: integrationGUID,
		Exp: b.now().Add(b.opts.TicketTTL).Unix()})
	if err != nil {
		return "", err
	}
	u := b.opts.PublicURL + LoginPath(integrationGUID) + "?ticket=" + t
	if returnTo != "" {
		u += "&return_to=" + queryEscape(returnTo)
	}
	return u, nil
}

// UserSessionToken issues a token naming viewer to the credential exchange of content. The
// content's API key holder is trusted to say who its viewer is, as a host backend is for the
// external_viewer_id of an embed token.
func (b *Broker) UserSessionToken(content, viewer string, ttl time.Duration) (string, time.Time, error) {
	if viewer == "" || len(viewer) > 512 {
		return "", time.Time{}, newErr(CodeInvalidRequest, "invalid_request", "viewer_id must be 1 to 512 characters")
	}
	if ttl <= 0 || ttl > 24*time.Hour {
		ttl = b.opts.SessionTokenTTL
	}
	exp := b.now().Add(ttl)
	t, err := b.seal(sealedUser, userTokenPrefix, sealedClaims{Viewer: viewer, Content: content, Exp: exp.Unix()})
	return t, exp, err
}

// ContentSessionToken issues a token naming content, for service-account exchanges.
func (b *Broker) ContentSessionToken(content string, ttl time.Duration) (string, time.Time, error) {
	if ttl <= 0 || ttl > 24*time.Hour {
		ttl = b.opts.SessionTokenTTL
	}
	exp := b.now().Add(ttl)
	t, err := b.seal(sealedContent, contentTokenPrefix, sealedClaims{Content: content, Exp: exp.Unix()})
	return t, exp, err
}

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
