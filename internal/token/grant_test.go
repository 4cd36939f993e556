package token_test

import (
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage/memory"
	"github.com/inlay/inlay/internal/token"
)

func newSealer(t *testing.T, now func() time.Time) (*token.GrantSealer, *secret.Keys) {
	t.Helper()
	master, err := secret.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	return token.NewGrantSealer(keys, now), keys
}

func TestGrantRoundTrip(t *testing.T) {
	g, _ := newSealer(t, nil)
	v := ""
	raw, err := g.Seal(token.Claims{Subject: "inlay-1", DashboardID: "sales", ViewerID: "a@b", ExternalValue: &v,
		Attributes: map[string][]string{"regions": {"East", "West"}}, Capabilities: []string{"download"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c, err := g.Open(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "inlay-1" || c.DashboardID != "sales" || c.ExternalValue == nil || *c.ExternalValue != "" ||
		len(c.Attributes["regions"]) != 2 || !c.Has("download") || c.Kind != token.KindGrant {
		t.Errorf("opened %+v", c)
	}
}

func TestGrantRejected(t *testing.T) {
	now := time.Now()
	g, _ := newSealer(t, func() time.Time { return now })
	other, _ := newSealer(t, nil)
	raw, err := g.Seal(token.Claims{Subject: "inlay-1", DashboardID: "sales"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := other.Seal(token.Claims{Subject: "inlay-1", DashboardID: "sales"}, time.Minute)
	sealed, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(raw, "ig1."))
	if err != nil {
		t.Fatal(err)
	}
	flipped := slices.Clone(sealed)
	flipped[len(flipped)-5] ^= 1
	flip := "ig1." + base64.RawURLEncoding.EncodeToString(flipped)
	truncated := "ig1." + base64.RawURLEncoding.EncodeToString(sealed[:len(sealed)-3])
	tests := []struct {
		name string
		raw  string
		want error
	}{
		{"empty", "", token.ErrMalformed},
		{"a JWT", "eyJhbGciOiJFZERTQSJ9.e30.sig", token.ErrMalformed},
		{"bad base64", "ig1.***", token.ErrMalformed},
		{"altered", flip, token.ErrSignature},
		{"truncated", truncated, token.ErrSignature},
		{"sealed by another Inlay", foreign, token.ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := g.Open(tt.raw); !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		now = now.Add(2 * time.Minute)
		defer func() { now = now.Add(-2 * time.Minute) }()
		if _, err := g.Open(raw); !errors.Is(err, token.ErrExpired) {
			t.Errorf("Open = %v, want ErrExpired", err)
		}
	})
	if !strings.HasPrefix(raw, "ig1.") {
		t.Errorf("grant %q lacks its version prefix", raw)
	}
}

// Grants exist only sealed: no JWT of the grant kind can be issued or accepted.
func TestNoGrantJWTs(t *testing.T) {
	_, keys := newSealer(t, nil)
	ring, err := token.NewKeyRing(t.Context(), memory.New(), keys, token.KeyRingOptions{})
	if err != nil {
		t.Fatal(err)
	}
	issuer, verifier := token.NewIssuer(ring, "https://inlay.test"), token.NewVerifier(ring, "https://inlay.test", 0)
	if _, _, err := issuer.Issue(token.Claims{Kind: token.KindGrant, Subject: "inlay-1", DashboardID: "sales"}, time.Minute); err == nil {
		t.Error("Issue signed a grant JWT")
	}
	raw, _, err := issuer.Issue(token.Claims{Kind: token.KindEmbed, Subject: "inlay-1", DashboardID: "sales"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier.Verify(raw, token.KindGrant); err == nil {
		t.Error("an embed token verified as a grant")
	}
}
