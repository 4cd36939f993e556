package token

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestSignMatchesJWTLibrary: the token endpoint's own JWS encoding gives, byte for byte, the
// token the JWT library builds for the same key, header and claims (Ed25519 is deterministic),
// and the verifier accepts it.
func TestSignMatchesJWTLibrary(t *testing.T) {
	f := newFixture(t)
	key, err := f.ring.signer()
	if err != nil {
		t.Fatal(err)
	}
	now := f.clock.Now().Truncate(time.Second)
	c := embedClaims()
	wc := wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{Issuer: testIssuer, Subject: c.Subject, Audience: jwt.ClaimStrings{kinds[KindEmbed].aud},
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)), NotBefore: jwt.NewNumericDate(now), IssuedAt: jwt.NewNumericDate(now), ID: "abc"},
		Scope: ScopeDashboardEmbed, DashboardID: c.DashboardID, ViewerID: c.ViewerID, ExternalValue: c.ExternalValue,
		Attributes: c.Attributes, Capabilities: c.Capabilities,
	}
	got, err := sign(key, kinds[KindEmbed].typ, wc)
	if err != nil {
		t.Fatal(err)
	}
	lib := jwt.NewWithClaims(jwt.SigningMethodEdDSA, wc)
	lib.Header["kid"] = key.kid
	lib.Header["typ"] = kinds[KindEmbed].typ
	want, err := lib.SignedString(key.private)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("sign:\n got %s\nwant %s", got, want)
	}
	if _, err := f.verifier.Verify(got, KindEmbed); err != nil {
		t.Fatalf("verify: %v", err)
	}
}
