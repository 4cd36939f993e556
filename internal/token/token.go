// Package token issues and verifies Inlay's tokens. It imports no HTTP code; signing keys come
// from the storage contract through KeyRing, sealed with package secret.
//
// Kinds of token, none accepted as another (JWTs carry their own "typ" header and "aud" claim):
//   - service tokens: the OAuth client-credentials JWT a host backend gets with scope all-apis;
//   - grants: what tokeninfo returns, exchanged for an embed token; sealed, not signed, since
//     Inlay is their only reader (GrantSealer);
//   - embed tokens: JWTs scoped to one dashboard and one viewer, handed to the browser.
package token

import (
	"errors"
	"time"
)

// Kind is the kind of an Inlay token.
type Kind string

const (
	KindService Kind = "service"
	KindGrant   Kind = "grant"
	KindEmbed   Kind = "embed"
)

// Claims are the decoded, verified contents of a token.
type Claims struct {
	Kind      Kind
	ID        string // jti
	Subject   string // the service principal's client id
	IssuedAt  time.Time
	ExpiresAt time.Time

	// Scope is the OAuth scope string (service tokens: "all-apis").
	Scope string

	// Embed tokens and grants:
	DashboardID   string
	ViewerID      string              // external_viewer_id, for audit
	ExternalValue *string             // external_value; nil when the token carries none
	Attributes    map[string][]string // named viewer attributes for structured RLS rules
	// Capabilities granted to the viewer, e.g. "download".
	Capabilities []string
	// Lifetime is, in a grant, the embed token lifetime the caller asked for (0: the default).
	Lifetime time.Duration
}

// Has reports whether the claims grant capability c.
func (c *Claims) Has(capability string) bool {
	for _, x := range c.Capabilities {
		if x == capability {
			return true
		}
	}
	return false
}

// Verification failures. Each maps to a stable reason code in the API's 401 response.
var (
	ErrMalformed  = errors.New("token: malformed")           // not a JWT at all
	ErrSignature  = errors.New("token: bad signature")       // wrong key, tampered, alg none
	ErrExpired    = errors.New("token: expired")             // exp in the past
	ErrWrongKind  = errors.New("token: wrong token type")    // typ or aud of another kind
	ErrUnknownKey = errors.New("token: unknown signing key") // kid not published
	ErrClaims     = errors.New("token: invalid claims")      // iss wrong, required claim missing
)
