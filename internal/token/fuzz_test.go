package token

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: Verify never panics, fails only with one of the package's sentinels, and accepts
// nothing but the exact tokens our Issuer produced.
func FuzzVerify(f *testing.F) {
	fx := newFixture(f)
	issued := map[string]bool{}
	for _, kind := range []Kind{KindService, KindEmbed} {
		raw := fx.issue(f, claimsOf(kind), time.Hour)
		issued[raw] = true
		f.Add(raw)
		parts := strings.Split(raw, ".")
		f.Add(parts[0] + "." + parts[1] + ".")
		f.Add(parts[0] + ".." + parts[2])
		f.Add(strings.ToUpper(raw))
	}
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJFZERTQSJ9.e30.AAAA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, kind := range []Kind{KindService, KindEmbed} {
			c, err := fx.verifier.Verify(raw, kind)
			if err == nil {
				if !issued[raw] {
					t.Fatalf("accepted a token we never issued: %q", raw)
				}
				if c == nil || c.Kind != kind {
					t.Fatalf("accepted with claims %+v", c)
				}
				continue
			}
			matched := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					matched++
				}
			}
			if matched != 1 {
				t.Fatalf("error %v matches %d sentinels, want exactly 1", err, matched)
			}
		}
	})
}

func BenchmarkIssue(b *testing.B) {
	fx := newFixture(b)
	c := claimsOf(KindEmbed)
	for b.Loop() {
		if _, _, err := fx.issuer.Issue(c, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	fx := newFixture(b)
	raw := fx.issue(b, claimsOf(KindEmbed), time.Hour)
	for b.Loop() {
		if _, err := fx.verifier.Verify(raw, KindEmbed); err != nil {
			b.Fatal(err)
		}
	}
}
