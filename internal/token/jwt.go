package token

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// kindInfo is what tells the kinds apart on the wire: the "typ" header and the "aud" claim.
// Grants are not JWTs (GrantSealer seals them), so Issue and Verify refuse KindGrant.
type kindInfo struct{ typ, aud string }

var kinds = map[Kind]kindInfo{
	KindService: {typ: "inlay-service+jwt", aud: "inlay-api"},
	KindEmbed:   {typ: "inlay-embed+jwt", aud: "inlay-embed"},
}

// wireClaims is the JWT payload. ExternalValue is a pointer so that "no value" (absent) and ""
// stay distinct.
type wireClaims struct {
	jwt.RegisteredClaims
	Scope         string              `json:"scope,omitempty"`
	DashboardID   string              `json:"dashboard_id,omitempty"`
	ViewerID      string              `json:"external_viewer_id,omitempty"`
	ExternalValue *string             `json:"external_value,omitempty"`
	Attributes    map[string][]string `json:"attributes,omitempty"`
	Capabilities  []string            `json:"capabilities,omitempty"`
}

// Issuer signs tokens with the ring's active key.
type Issuer struct {
	ring   *KeyRing
	issuer string
}

// NewIssuer returns an Issuer whose tokens carry iss = issuer (Inlay's public base URL).
func NewIssuer(ring *KeyRing, issuer string) *Issuer {
	return &Issuer{ring: ring, issuer: issuer}
}

// Issue signs c as a token of kind c.Kind valid for ttl (at most the ring's MaxTokenTTL). The
// token id, issue and expiry times are set here; c.ID, c.IssuedAt and c.ExpiresAt are ignored.
func (is *Issuer) Issue(c Claims, ttl time.Duration) (raw string, exp time.Time, err error) {
	info, ok := kinds[c.Kind]
	if !ok {
		return "", time.Time{}, fmt.Errorf("token: unknown kind %q", c.Kind)
	}
	if ttl <= 0 || ttl > is.ring.MaxTokenTTL() {
		return "", time.Time{}, fmt.Errorf("token: lifetime %v outside (0, %v]", ttl, is.ring.MaxTokenTTL())
	}
	if c.Kind != KindService && c.DashboardID == "" {
		return "", time.Time{}, fmt.Errorf("token: a %s token needs a dashboard id", c.Kind)
	}
	key, err := is.ring.signer()
	if err != nil {
		return "", time.Time{}, err
	}
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", time.Time{}, fmt.Errorf("token: id: %w", err)
	}
	// JWT times are whole seconds: truncate so exp reported to the caller is what the token says.
	now := is.ring.now().Truncate(time.Second)
	exp = now.Add(ttl)
	wc := wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    is.issuer,
			Subject:   c.Subject,
			Audience:  jwt.ClaimStrings{info.aud},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        base64.RawURLEncoding.EncodeToString(jti),
		},
		Scope:         c.Scope,
		DashboardID:   c.DashboardID,
		ViewerID:      c.ViewerID,
		ExternalValue: c.ExternalValue,
		Attributes:    c.Attributes,
		Capabilities:  c.Capabilities,
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, wc)
	t.Header["kid"] = key.kid
	t.Header["typ"] = info.typ
	raw, err = t.SignedString(key.private)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("token: sign: %w", err)
	}
	return raw, exp, nil
}

// Verifier checks tokens against the ring's public keys.
type Verifier struct {
	ring   *KeyRing
	issuer string
	leeway time.Duration
	parser *jwt.Parser
}

// NewVerifier returns a Verifier accepting tokens from issuer, allowing leeway of clock skew on
// exp, nbf and iat.
func NewVerifier(ring *KeyRing, issuer string, leeway time.Duration) *Verifier {
	return &Verifier{
		ring:   ring,
		issuer: issuer,
		leeway: leeway,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{Algorithm}), // pinned: never none, never HMAC
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
			jwt.WithTimeFunc(ring.now),
			jwt.WithStrictDecoding(), // one encoding per token: no malleable base64
		),
	}
}

// Verify checks raw's signature, lifetime, issuer and kind, and returns its claims. Failures wrap
// exactly one of ErrMalformed, ErrSignature, ErrExpired, ErrWrongKind, ErrUnknownKey, ErrClaims.
func (v *Verifier) Verify(raw string, want Kind) (*Claims, error) {
	info, ok := kinds[want]
	if !ok {
		return nil, fmt.Errorf("token: unknown kind %q", want)
	}
	var wc wireClaims
	t, err := v.parser.ParseWithClaims(raw, &wc, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, ErrUnknownKey
		}
		if k, ok := v.ring.lookup(kid); ok {
			return k, nil
		}
		// An unknown kid may be a key just rotated on another replica. Before going to the store,
		// the cheap checks the claims must pass anyway: a token that fails them is refused as
		// an unknown key without a reload. The reload itself is single-flight and at most one
		// per MinReloadInterval, so a flood of made-up kids costs at most one store read per interval.
		wc := t.Claims.(*wireClaims)
		now := v.ring.now()
		if wc.Issuer != v.issuer || wc.IssuedAt == nil || wc.ExpiresAt == nil ||
			wc.IssuedAt.After(now.Add(v.leeway)) || !now.Before(wc.ExpiresAt.Add(v.leeway)) {
			return nil, ErrUnknownKey
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return v.ring.publicKeyIssuedAt(ctx, kid, wc.IssuedAt.Time, v.leeway)
	})
	if err != nil {
		return nil, mapError(err)
	}
	// The signature is good: now the token must be of the wanted kind, by header and audience.
	if typ, _ := t.Header["typ"].(string); typ != info.typ {
		return nil, fmt.Errorf("%w: typ %q, want %q", ErrWrongKind, typ, info.typ)
	}
	if len(wc.Audience) != 1 || wc.Audience[0] != info.aud {
		return nil, fmt.Errorf("%w: aud %q, want %q", ErrWrongKind, []string(wc.Audience), info.aud)
	}
	if wc.Issuer != v.issuer {
		return nil, fmt.Errorf("%w: issuer %q", ErrClaims, wc.Issuer)
	}
	if wc.IssuedAt == nil || wc.ID == "" {
		return nil, fmt.Errorf("%w: iat and jti are required", ErrClaims)
	}
	if want != KindService && wc.DashboardID == "" {
		return nil, fmt.Errorf("%w: dashboard_id is required", ErrClaims)
	}
	return &Claims{
		Kind:          want,
		ID:            wc.ID,
		Subject:       wc.Subject,
		IssuedAt:      wc.IssuedAt.UTC(),
		ExpiresAt:     wc.ExpiresAt.UTC(),
		Scope:         wc.Scope,
		DashboardID:   wc.DashboardID,
		ViewerID:      wc.ViewerID,
		ExternalValue: wc.ExternalValue,
		Attributes:    wc.Attributes,
		Capabilities:  wc.Capabilities,
	}, nil
}

// mapError turns a jwt error into one of this package's sentinels. Order matters: our own
// sentinels (from the key lookup) first, then the most specific jwt errors.
func mapError(err error) error {
	var sentinel error
	switch {
	case errors.Is(err, ErrUnknownKey):
		sentinel = ErrUnknownKey
	case errors.Is(err, jwt.ErrTokenMalformed):
		sentinel = ErrMalformed
	case errors.Is(err, jwt.ErrTokenExpired):
		sentinel = ErrExpired
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		// Includes a disallowed or unknown alg (none, HS256, ...) and a key lookup failure
		// other than an unknown kid.
		sentinel = ErrSignature
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		// Missing exp, nbf or iat in the future, and so on.
		sentinel = ErrClaims
	default:
		sentinel = ErrMalformed
	}
	return fmt.Errorf("%w: %v", sentinel, err)
}
