package token

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/memory"
)

const testIssuer = "https://inlay.example.com"

var sentinels = []error{ErrMalformed, ErrSignature, ErrExpired, ErrWrongKind, ErrUnknownKey, ErrClaims}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// countingStore counts key loads, to check how often the ring goes to the store.
type countingStore struct {
	storage.Store
	lists atomic.Int64
}

func (s *countingStore) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	s.lists.Add(1)
	return s.Store.ListSigningKeys(ctx)
}

func newKeys(t testing.TB) *secret.Keys {
	t.Helper()
	master, err := secret.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

type fixture struct {
	clock    *clock
	store    storage.Store
	keys     *secret.Keys
	ring     *KeyRing
	issuer   *Issuer
	verifier *Verifier
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{clock: newClock(), store: memory.New(), keys: newKeys(t)}
	f.ring = f.newRing(t)
	f.issuer = NewIssuer(f.ring, testIssuer)
	f.verifier = NewVerifier(f.ring, testIssuer, 30*time.Second)
	return f
}

func (f *fixture) newRing(t testing.TB) *KeyRing {
	t.Helper()
	ring, err := NewKeyRing(context.Background(), f.store, f.keys, KeyRingOptions{
		RotateEvery: 7 * 24 * time.Hour,
		MaxTokenTTL: 2 * time.Hour,
		Now:         f.clock.Now,
		Sleep:       func(_ context.Context, d time.Duration) error { f.clock.Advance(d); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	return ring
}

func ptr(s string) *string { return &s }

func embedClaims() Claims {
	return Claims{
		Kind:          KindEmbed,
		Subject:       "inlay-0123456789abcdef",
		DashboardID:   "sales",
		ViewerID:      "alice@example.com",
		ExternalValue: ptr("Sales"),
		Attributes:    map[string][]string{"region": {"East", "West"}},
		Capabilities:  []string{"download"},
	}
}

func claimsOf(k Kind) Claims {
	switch k {
	case KindService:
		return Claims{Kind: KindService, Subject: "inlay-0123456789abcdef", Scope: "all-apis"}
	default:
		return embedClaims()
	}
}

func (f *fixture) issue(t testing.TB, c Claims, ttl time.Duration) string {
	t.Helper()
	raw, _, err := f.issuer.Issue(c, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
	for _, s := range sentinels {
		if s != want && errors.Is(err, s) {
			t.Fatalf("error %v also matches %v", err, s)
		}
	}
}

func decodeSegment(t *testing.T, seg string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func encodeSegment(t *testing.T, m map[string]any) string {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// signRaw signs arbitrary header and claims with the ring's active key, to build tokens our
// Issuer would never make but a leaked-key-free attacker cannot either (wrong aud and so on).
func (f *fixture) signRaw(t *testing.T, header, claims map[string]any) string {
	t.Helper()
	key, err := f.ring.signer()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := header["kid"]; !ok {
		header["kid"] = key.kid
	}
	signing := encodeSegment(t, header) + "." + encodeSegment(t, claims)
	return signing + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(key.private, []byte(signing)))
}

func (f *fixture) validClaims(kind Kind) map[string]any {
	now := f.clock.Now().Unix()
	info := kinds[kind]
	return map[string]any{
		"iss": testIssuer, "aud": info.aud, "sub": "inlay-x", "iat": now, "nbf": now,
		"exp": now + 600, "jti": "j1", "dashboard_id": "sales",
	}
}

func header(kind Kind) map[string]any {
	return map[string]any{"alg": "EdDSA", "typ": kinds[kind].typ}
}

func TestIssueVerifyRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, kind := range []Kind{KindService, KindEmbed} {
		t.Run(string(kind), func(t *testing.T) {
			in := claimsOf(kind)
			raw, exp, err := f.issuer.Issue(in, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if want := f.clock.Now().Add(time.Hour); !exp.Equal(want) {
				t.Fatalf("exp %v, want %v", exp, want)
			}
			parts := strings.Split(raw, ".")
			h := decodeSegment(t, parts[0])
			if h["alg"] != "EdDSA" || h["typ"] != kinds[kind].typ || h["kid"] == "" {
				t.Fatalf("header %v", h)
			}
			p := decodeSegment(t, parts[1])
			for _, claim := range []string{"iss", "aud", "sub", "iat", "exp", "jti"} {
				if _, ok := p[claim]; !ok {
					t.Fatalf("payload lacks %q: %v", claim, p)
				}
			}

			got, err := f.verifier.Verify(raw, kind)
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != kind || got.Subject != in.Subject || got.Scope != in.Scope ||
				got.DashboardID != in.DashboardID || got.ViewerID != in.ViewerID ||
				!got.ExpiresAt.Equal(exp) || !got.IssuedAt.Equal(f.clock.Now()) || got.ID == "" {
				t.Fatalf("claims: got %+v, want %+v", got, in)
			}
			if (got.ExternalValue == nil) != (in.ExternalValue == nil) ||
				(in.ExternalValue != nil && *got.ExternalValue != *in.ExternalValue) {
				t.Fatalf("external value: got %v, want %v", got.ExternalValue, in.ExternalValue)
			}
			if kind != KindService && (!got.Has("download") || got.Attributes["region"][1] != "West") {
				t.Fatalf("attributes or capabilities lost: %+v", got)
			}
		})
	}
	a := f.issue(t, claimsOf(KindEmbed), time.Hour)
	b := f.issue(t, claimsOf(KindEmbed), time.Hour)
	ca, _ := f.verifier.Verify(a, KindEmbed)
	cb, _ := f.verifier.Verify(b, KindEmbed)
	if ca.ID == cb.ID {
		t.Fatal("two tokens share a jti")
	}
}

// "No external value" and "the empty string" mean different things to row-level security.
func TestExternalValueNilVersusEmpty(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name  string
		value *string
	}{
		{"absent", nil},
		{"empty", ptr("")},
		{"quote and NUL", ptr("x' OR '1'='1\x00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := embedClaims()
			c.ExternalValue = tt.value
			raw := f.issue(t, c, time.Hour)
			_, present := decodeSegment(t, strings.Split(raw, ".")[1])["external_value"]
			if present != (tt.value != nil) {
				t.Fatalf("external_value present in payload = %v", present)
			}
			got, err := f.verifier.Verify(raw, KindEmbed)
			if err != nil {
				t.Fatal(err)
			}
			if tt.value == nil {
				if got.ExternalValue != nil {
					t.Fatalf("got %q, want nil", *got.ExternalValue)
				}
			} else if got.ExternalValue == nil || *got.ExternalValue != *tt.value {
				t.Fatalf("got %v, want %q", got.ExternalValue, *tt.value)
			}
		})
	}
}

func TestIssueRejects(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		c    Claims
		ttl  time.Duration
	}{
		{"ttl over maximum", claimsOf(KindEmbed), 2*time.Hour + time.Second},
		{"zero ttl", claimsOf(KindEmbed), 0},
		{"unknown kind", Claims{Kind: "admin"}, time.Hour},
		{"embed without dashboard", Claims{Kind: KindEmbed}, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if raw, _, err := f.issuer.Issue(tt.c, tt.ttl); err == nil {
				t.Fatalf("issued %s", raw)
			}
		})
	}
}

// No kind of token is accepted as another kind.
func TestKindsAreNotInterchangeable(t *testing.T) {
	f := newFixture(t)
	all := []Kind{KindService, KindEmbed}
	for _, issued := range all {
		raw := f.issue(t, claimsOf(issued), time.Hour)
		for _, want := range all {
			if issued == want {
				continue
			}
			t.Run(string(issued)+" as "+string(want), func(t *testing.T) {
				_, err := f.verifier.Verify(raw, want)
				wantErr(t, err, ErrWrongKind)
			})
		}
	}
}

func TestVerifyRejects(t *testing.T) {
	f := newFixture(t)
	good := f.issue(t, claimsOf(KindEmbed), time.Hour)
	parts := strings.Split(good, ".")
	key, _ := f.ring.signer()
	pub := key.private.Public().(ed25519.PublicKey)

	tamperedPayload := func() string {
		p := decodeSegment(t, parts[1])
		p["dashboard_id"] = "finance"
		return parts[0] + "." + encodeSegment(t, p) + "." + parts[2]
	}()
	tamperedValue := func() string {
		p := decodeSegment(t, parts[1])
		p["external_value"] = "Finance"
		return parts[0] + "." + encodeSegment(t, p) + "." + parts[2]
	}()
	tamperedHeader := func() string {
		h := decodeSegment(t, parts[0])
		h["typ"] = "inlay-service+jwt"
		return encodeSegment(t, h) + "." + parts[1] + "." + parts[2]
	}()
	algNone := func() string {
		h := map[string]any{"alg": "none", "typ": kinds[KindEmbed].typ, "kid": key.kid}
		return encodeSegment(t, h) + "." + parts[1] + "."
	}()
	algNoneUpper := func() string {
		h := map[string]any{"alg": "None", "typ": kinds[KindEmbed].typ, "kid": key.kid}
		return encodeSegment(t, h) + "." + parts[1] + "."
	}()
	// Algorithm confusion: an HMAC signed with the (public) verification key as its secret.
	hs256 := func() string {
		h := map[string]any{"alg": "HS256", "typ": kinds[KindEmbed].typ, "kid": key.kid}
		signing := encodeSegment(t, h) + "." + parts[1]
		m := hmac.New(sha256.New, pub)
		m.Write([]byte(signing))
		return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}()
	otherKey := func() string {
		other := newFixture(t) // another ring, another store: its kid is unknown here
		return other.issue(t, claimsOf(KindEmbed), time.Hour)
	}()
	forgedKid := func() string {
		// Our kid on a token signed by someone else's key.
		_, priv, _ := ed25519.GenerateKey(nil)
		h := map[string]any{"alg": "EdDSA", "typ": kinds[KindEmbed].typ, "kid": key.kid}
		signing := encodeSegment(t, h) + "." + parts[1]
		return signing + "." + base64.RawURLEncoding.EncodeToString(ed25519.Sign(priv, []byte(signing)))
	}()
	wrongAud := f.validClaims(KindEmbed)
	wrongAud["aud"] = "inlay-api"
	twoAuds := f.validClaims(KindEmbed)
	twoAuds["aud"] = []string{"inlay-embed", "inlay-api"}
	noExp := f.validClaims(KindEmbed)
	delete(noExp, "exp")
	noIat := f.validClaims(KindEmbed)
	delete(noIat, "iat")
	futureIat := f.validClaims(KindEmbed)
	futureIat["iat"] = f.clock.Now().Add(time.Hour).Unix()
	notYet := f.validClaims(KindEmbed)
	notYet["nbf"] = f.clock.Now().Add(time.Hour).Unix()
	otherIss := f.validClaims(KindEmbed)
	otherIss["iss"] = "https://evil.example.com"
	noDashboard := f.validClaims(KindEmbed)
	delete(noDashboard, "dashboard_id")
	stringExp := f.validClaims(KindEmbed)
	stringExp["exp"] = "tomorrow"

	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"tampered payload", tamperedPayload, ErrSignature},
		{"tampered external value", tamperedValue, ErrSignature},
		{"tampered header", tamperedHeader, ErrSignature},
		{"signature from another token", parts[0] + "." + parts[1] + "." + strings.Split(f.issue(t, claimsOf(KindEmbed), time.Hour), ".")[2], ErrSignature},
		{"stripped signature", parts[0] + "." + parts[1] + ".", ErrSignature},
		{"alg none", algNone, ErrSignature},
		{"alg None", algNoneUpper, ErrSignature},
		{"HS256 with the public key", hs256, ErrSignature},
		{"our kid, foreign key", forgedKid, ErrSignature},
		{"unknown kid", otherKey, ErrUnknownKey},
		{"no kid", f.signRaw(t, map[string]any{"alg": "EdDSA", "typ": kinds[KindEmbed].typ, "kid": ""}, f.validClaims(KindEmbed)), ErrUnknownKey},
		{"wrong audience", f.signRaw(t, header(KindEmbed), wrongAud), ErrWrongKind},
		{"extra audience", f.signRaw(t, header(KindEmbed), twoAuds), ErrWrongKind},
		{"wrong typ", f.signRaw(t, header(KindService), f.validClaims(KindEmbed)), ErrWrongKind},
		{"no typ", f.signRaw(t, map[string]any{"alg": "EdDSA"}, f.validClaims(KindEmbed)), ErrWrongKind},
		{"issuer mismatch", f.signRaw(t, header(KindEmbed), otherIss), ErrClaims},
		{"missing exp", f.signRaw(t, header(KindEmbed), noExp), ErrClaims},
		{"missing iat", f.signRaw(t, header(KindEmbed), noIat), ErrClaims},
		{"iat in the future", f.signRaw(t, header(KindEmbed), futureIat), ErrClaims},
		{"not yet valid", f.signRaw(t, header(KindEmbed), notYet), ErrClaims},
		{"no dashboard", f.signRaw(t, header(KindEmbed), noDashboard), ErrClaims},
		{"exp not a number", f.signRaw(t, header(KindEmbed), stringExp), ErrMalformed},
		{"empty", "", ErrMalformed},
		{"one segment", "abc", ErrMalformed},
		{"two segments", parts[0] + "." + parts[1], ErrMalformed},
		{"four segments", good + ".x", ErrMalformed},
		{"garbage segments", "a.b.c", ErrMalformed},
		{"dots", "..", ErrMalformed},
		{"header not JSON", base64.RawURLEncoding.EncodeToString([]byte("hello")) + "." + parts[1] + "." + parts[2], ErrMalformed},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], ErrMalformed},
		{"bearer prefix", "Bearer " + good, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := f.verifier.Verify(tt.raw, KindEmbed)
			if c != nil {
				t.Fatalf("accepted: %+v", c)
			}
			wantErr(t, err, tt.want)
		})
	}
	if _, err := NewVerifier(f.ring, "https://other.example.com", 0).Verify(good, KindEmbed); !errors.Is(err, ErrClaims) {
		t.Fatalf("verifier with another issuer: got %v, want ErrClaims", err)
	}
	if _, err := f.verifier.Verify(good, KindEmbed); err != nil {
		t.Fatalf("the untampered token no longer verifies: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	f := newFixture(t) // leeway 30 s
	raw := f.issue(t, claimsOf(KindEmbed), time.Minute)
	f.clock.Advance(time.Minute + 20*time.Second)
	if _, err := f.verifier.Verify(raw, KindEmbed); err != nil {
		t.Fatalf("within leeway: %v", err)
	}
	f.clock.Advance(20 * time.Second)
	_, err := f.verifier.Verify(raw, KindEmbed)
	wantErr(t, err, ErrExpired)
}

func TestPrivateKeyIsSealed(t *testing.T) {
	f := newFixture(t)
	stored, err := f.store.ListSigningKeys(t.Context())
	if err != nil || len(stored) != 1 {
		t.Fatalf("keys %v, %v", stored, err)
	}
	active, _ := f.ring.signer()
	k := stored[0]
	if strings.Contains(string(k.PrivateKey), string(active.private.Seed())) {
		t.Fatal("the store holds the private key in the clear")
	}
	if _, err := f.keys.Open(k.PrivateKey, []byte("another-kid")); err == nil {
		t.Fatal("sealed key opens under another kid")
	}
	// A ring with another master key cannot use the store's key.
	if _, err := NewKeyRing(t.Context(), f.store, newKeys(t), KeyRingOptions{Now: f.clock.Now}); err == nil {
		t.Fatal("NewKeyRing opened a key sealed with another master key")
	}
}

type jwks struct {
	Keys []map[string]string `json:"keys"`
}

func parseJWKS(t *testing.T, r *KeyRing) []string {
	t.Helper()
	b, err := r.JWKS()
	if err != nil {
		t.Fatal(err)
	}
	var set jwks
	if err := json.Unmarshal(b, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		if k["kty"] != "OKP" || k["crv"] != "Ed25519" || k["use"] != "sig" || k["alg"] != "EdDSA" || k["kid"] == "" {
			t.Fatalf("JWK %v", k)
		}
		x, err := base64.RawURLEncoding.DecodeString(k["x"])
		if err != nil || len(x) != ed25519.PublicKeySize {
			t.Fatalf("JWK x %q: %v", k["x"], err)
		}
		if _, ok := k["d"]; ok {
			t.Fatal("JWKS publishes a private key")
		}
		kids = append(kids, k["kid"])
	}
	return kids
}

func kidOf(t *testing.T, raw string) string {
	t.Helper()
	return decodeSegment(t, strings.Split(raw, ".")[0])["kid"].(string)
}

func TestRotation(t *testing.T) {
	f := newFixture(t)
	oldTok := f.issue(t, claimsOf(KindEmbed), 2*time.Hour) // the longest allowed
	oldKid := kidOf(t, oldTok)
	if kids := parseJWKS(t, f.ring); len(kids) != 1 || kids[0] != oldKid {
		t.Fatalf("JWKS before rotation: %v", kids)
	}

	f.clock.Advance(time.Minute)
	if err := f.ring.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	newTok := f.issue(t, claimsOf(KindEmbed), time.Hour)
	newKid := kidOf(t, newTok)
	if newKid == oldKid {
		t.Fatal("rotation did not change the signing key")
	}
	if kids := parseJWKS(t, f.ring); len(kids) != 2 || kids[0] != newKid || kids[1] != oldKid {
		t.Fatalf("JWKS after rotation: %v, want [%s %s]", kids, newKid, oldKid)
	}

	// The old token stays valid to its last second.
	f.clock.Advance(2*time.Hour - time.Minute - time.Second)
	if _, err := f.verifier.Verify(oldTok, KindEmbed); err != nil {
		t.Fatalf("old token just before its expiry: %v", err)
	}
	if err := f.ring.MaybeRotate(t.Context()); err != nil { // nothing to clean up yet
		t.Fatal(err)
	}
	if kids := parseJWKS(t, f.ring); len(kids) != 2 {
		t.Fatalf("JWKS while old tokens may live: %v", kids)
	}

	// Past VerifyUntil the old key is cleaned up everywhere.
	f.clock.Advance(retireGrace + 2*time.Minute)
	if err := f.ring.MaybeRotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if kids := parseJWKS(t, f.ring); len(kids) != 1 || kids[0] != newKid {
		t.Fatalf("JWKS after clean-up: %v, want [%s]", kids, newKid)
	}
	stored, _ := f.store.ListSigningKeys(t.Context())
	if len(stored) != 1 || stored[0].ID != newKid {
		t.Fatalf("store after clean-up: %v", stored)
	}
	_, err := f.verifier.Verify(oldTok, KindEmbed)
	if !errors.Is(err, ErrExpired) && !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("old token after clean-up: %v", err)
	}
}

func TestMaybeRotate(t *testing.T) {
	f := newFixture(t)
	before := kidOf(t, f.issue(t, claimsOf(KindService), time.Hour))
	f.clock.Advance(6 * 24 * time.Hour)
	if err := f.ring.MaybeRotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if kid := kidOf(t, f.issue(t, claimsOf(KindService), time.Hour)); kid != before {
		t.Fatal("rotated a key younger than RotateEvery")
	}
	f.clock.Advance(24 * time.Hour)
	if err := f.ring.MaybeRotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if kid := kidOf(t, f.issue(t, claimsOf(KindService), time.Hour)); kid == before {
		t.Fatal("did not rotate a key older than RotateEvery")
	}
}

// Two replicas share one store: tokens from either verify on both, also across a rotation.
func TestTwoRingsOneStore(t *testing.T) {
	f := newFixture(t)
	ringB := f.newRing(t)
	issuerB := NewIssuer(ringB, testIssuer)
	verifierB := NewVerifier(ringB, testIssuer, 30*time.Second)

	if stored, _ := f.store.ListSigningKeys(t.Context()); len(stored) != 1 {
		t.Fatalf("the second replica created its own key: %d keys", len(stored))
	}
	fromA := f.issue(t, claimsOf(KindEmbed), time.Hour)
	fromB, _, err := issuerB.Issue(claimsOf(KindEmbed), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for name, check := range map[string]error{
		"A on B": func() error { _, err := verifierB.Verify(fromA, KindEmbed); return err }(),
		"B on A": func() error { _, err := f.verifier.Verify(fromB, KindEmbed); return err }(),
	} {
		if check != nil {
			t.Fatalf("%s: %v", name, check)
		}
	}

	// A rotates; B has not heard yet. B meets A's new kid and reloads.
	f.clock.Advance(time.Minute)
	if err := f.ring.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	newA := f.issue(t, claimsOf(KindEmbed), time.Hour)
	if _, err := verifierB.Verify(newA, KindEmbed); err != nil {
		t.Fatalf("B verifying A's token after A rotated: %v", err)
	}
	// Tokens B signed with the retired key keep verifying on A.
	staleB, _, _ := issuerB.Issue(claimsOf(KindEmbed), time.Hour)
	if _, err := f.verifier.Verify(staleB, KindEmbed); err != nil {
		t.Fatalf("A verifying B's token signed before B noticed the rotation: %v", err)
	}
	if err := ringB.MaybeRotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	freshB, _, _ := issuerB.Issue(claimsOf(KindEmbed), time.Hour)
	if kidOf(t, freshB) != kidOf(t, newA) {
		t.Fatal("after refreshing, B does not sign with the new active key")
	}
	if a, b := parseJWKS(t, f.ring), parseJWKS(t, ringB); strings.Join(a, ",") != strings.Join(b, ",") {
		t.Fatalf("replicas publish different JWKS: %v vs %v", a, b)
	}
}

// Two replicas rotating at the same moment still end with one agreed signing key.
func TestConcurrentRotation(t *testing.T) {
	f := newFixture(t)
	ringB := f.newRing(t)
	f.clock.Advance(time.Minute)
	var wg sync.WaitGroup
	for _, r := range []*KeyRing{f.ring, ringB} {
		wg.Go(func() {
			if err := r.Rotate(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, r := range []*KeyRing{f.ring, ringB} {
		if err := r.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	a, _ := f.ring.signer()
	b, _ := ringB.signer()
	if a.kid != b.kid {
		t.Fatalf("replicas sign with different keys: %s and %s", a.kid, b.kid)
	}
}

// A flood of tokens with made-up kids reloads from the store at most once per interval.
func TestUnknownKidReloadsAreRateLimited(t *testing.T) {
	f := newFixture(t)
	cs := &countingStore{Store: f.store}
	ring, err := NewKeyRing(t.Context(), cs, f.keys, KeyRingOptions{Now: f.clock.Now, MinReloadInterval: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(ring, testIssuer, 0)
	bogus := newFixture(t).issue(t, claimsOf(KindEmbed), time.Hour)

	f.clock.Advance(2 * time.Second)
	start := cs.lists.Load()
	for range 100 {
		if _, err := v.Verify(bogus, KindEmbed); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("got %v, want ErrUnknownKey", err)
		}
	}
	if n := cs.lists.Load() - start; n != 1 {
		t.Fatalf("100 unknown kids caused %d store reads, want 1", n)
	}
	// A reload that started after the token was signed has completed: the kid cannot appear.
	f.clock.Advance(2 * time.Second)
	v.Verify(bogus, KindEmbed)
	if n := cs.lists.Load() - start; n != 1 {
		t.Fatalf("after the interval: %d store reads, want still 1", n)
	}
	// Expired, or claiming another issuer: refused without a reload.
	f.clock.Advance(2 * time.Hour)
	v.Verify(newFixture(t).issue(t, claimsOf(KindEmbed), time.Hour), KindEmbed)
	if n := cs.lists.Load() - start; n != 1 {
		t.Fatalf("an expired token with an unknown kid caused a store read (%d)", n)
	}
}

// A key rotated on one replica verifies on another at the first token signed with it, even when
// that replica reloaded its keys a moment before (no throttle stands in the way of a real key).
func TestNewKeyFromOtherReplicaVerifiesAtOnce(t *testing.T) {
	f := newFixture(t)
	cs := &countingStore{Store: f.store}
	ringB, err := NewKeyRing(t.Context(), cs, f.keys, KeyRingOptions{
		Now: f.clock.Now, MinReloadInterval: time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error { f.clock.Advance(d); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	verifierB := NewVerifier(ringB, testIssuer, 30*time.Second)
	// B has just reloaded (at start); A rotates and signs with the new key in the same second.
	if err := f.ring.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	raw := f.issue(t, embedClaims(), time.Hour)
	if _, err := verifierB.Verify(raw, KindEmbed); err != nil {
		t.Fatalf("replica B rejects a token signed with A's new key: %v", err)
	}
	// B now also signs with the new key (the verify-reload picked it up).
	a, _ := f.ring.signer()
	b, _ := ringB.signer()
	if a.kid != b.kid {
		t.Fatalf("B signs with %s after seeing A's new key %s", b.kid, a.kid)
	}
}

// A replica that sees no token of the new key still signs with it soon after a rotation made
// elsewhere (inlay keys rotate): Issue reloads the keys when they are older than SignRefresh.
func TestSignerPicksUpRotationWithoutPeriodicRefresh(t *testing.T) {
	f := newFixture(t)
	ringB, err := NewKeyRing(t.Context(), f.store, f.keys, KeyRingOptions{Now: f.clock.Now, SignRefresh: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	issuerB := NewIssuer(ringB, testIssuer)
	if err := f.ring.Rotate(t.Context()); err != nil {
		t.Fatal(err)
	}
	a, _ := f.ring.signer()
	f.clock.Advance(11 * time.Second)
	raw, _, err := issuerB.Issue(embedClaims(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	head, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Kid string }
	if err := json.Unmarshal(head, &h); err != nil {
		t.Fatal(err)
	}
	if kid := h.Kid; kid != a.kid {
		t.Fatalf("B signs with kid %v, want the rotated key %s", kid, a.kid)
	}
}

// Many concurrent tokens with one made-up kid share one store read.
func TestUnknownKidFloodIsSingleFlight(t *testing.T) {
	f := newFixture(t)
	cs := &countingStore{Store: f.store}
	ring, err := NewKeyRing(t.Context(), cs, f.keys, KeyRingOptions{
		Now: f.clock.Now, MinReloadInterval: time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error { f.clock.Advance(d); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	// With 30 s of leeway, a reload before these tokens could not rule them out: only one that
	// started after they arrived can, and all of them share it.
	v := NewVerifier(ring, testIssuer, 30*time.Second)
	bogus := newFixture(t).issue(t, claimsOf(KindEmbed), time.Hour) // same fake time, unknown kid
	start := cs.lists.Load()
	// All 50 arrive while a reload (say, the periodic one) holds the ring, then share the next.
	ring.reloadMu.Lock()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := v.Verify(bogus, KindEmbed); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("got %v, want ErrUnknownKey", err)
			}
		})
	}
	for ring.waiting.Load() < 50 {
		runtime.Gosched()
	}
	ring.reloadMu.Unlock()
	wg.Wait()
	if n := cs.lists.Load() - start; n != 1 {
		t.Fatalf("50 concurrent unknown kids caused %d store reads, want 1", n)
	}
}
