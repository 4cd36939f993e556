package secret

import (
	"bytes"
	"errors"
	"testing"
)

func newKey(t *testing.T) []byte {
	t.Helper()
	k, err := GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newKeys(t *testing.T, current []byte, previous ...[]byte) *Keys {
	t.Helper()
	ks, err := NewKeys(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestNewKeysRejectsShortKey(t *testing.T) {
	if _, err := NewKeys(make([]byte, 31)); !errors.Is(err, ErrKeyTooShort) {
		t.Fatalf("31-byte key: got %v, want ErrKeyTooShort", err)
	}
	if _, err := NewKeys(newKey(t), []byte("short")); !errors.Is(err, ErrKeyTooShort) {
		t.Fatalf("short previous key: got %v, want ErrKeyTooShort", err)
	}
	k := newKey(t)
	if _, err := NewKeys(k, k); err == nil {
		t.Fatal("same key as current and previous: want an error")
	}
}

func TestSealRoundTrip(t *testing.T) {
	ks := newKeys(t, newKey(t))
	for _, plain := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("secret"), 1000)} {
		sealed, err := ks.Seal(plain, []byte("kid-1"))
		if err != nil {
			t.Fatal(err)
		}
		// Only long plaintexts: random ciphertext contains any one byte by chance.
		if len(plain) > 16 && bytes.Contains(sealed, plain) {
			t.Fatal("sealed bytes contain the plaintext")
		}
		got, err := ks.Open(sealed, []byte("kid-1"))
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatalf("round trip: got %q, want %q", got, plain)
		}
	}
	a, _ := ks.Seal([]byte("same"), nil)
	b, _ := ks.Seal([]byte("same"), nil)
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same plaintext are identical: nonce reused")
	}
}

func TestOpenRejects(t *testing.T) {
	ks := newKeys(t, newKey(t))
	sealed, err := ks.Seal([]byte("private key"), []byte("kid-1"))
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	tests := []struct {
		name   string
		sealed []byte
		ad     []byte
	}{
		{"wrong associated data", sealed, []byte("kid-2")},
		{"missing associated data", sealed, nil},
		{"flipped version", flip(0), []byte("kid-1")},
		{"flipped key id", flip(1), []byte("kid-1")},
		{"flipped nonce", flip(1 + keyIDSize), []byte("kid-1")},
		{"flipped ciphertext", flip(len(sealed) - 20), []byte("kid-1")},
		{"flipped tag", flip(len(sealed) - 1), []byte("kid-1")},
		{"truncated", sealed[:len(sealed)-1], []byte("kid-1")},
		{"header only", sealed[:1+keyIDSize], []byte("kid-1")},
		{"empty", nil, []byte("kid-1")},
		{"other master key", mustSeal(t, newKeys(t, newKey(t)), "private key", "kid-1"), []byte("kid-1")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ks.Open(tt.sealed, tt.ad)
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("got %q, %v; want ErrOpen", got, err)
			}
		})
	}
}

func mustSeal(t *testing.T, ks *Keys, plain, ad string) []byte {
	t.Helper()
	s, err := ks.Seal([]byte(plain), []byte(ad))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRotation(t *testing.T) {
	oldKey, newMaster := newKey(t), newKey(t)
	before := newKeys(t, oldKey)
	sealedOld := mustSeal(t, before, "old data", "ad")
	hashOld := before.HashSecret("client secret")

	after := newKeys(t, newMaster, oldKey)
	got, err := after.Open(sealedOld, []byte("ad"))
	if err != nil || string(got) != "old data" {
		t.Fatalf("data sealed before rotation: got %q, %v", got, err)
	}
	if !after.VerifySecret("client secret", hashOld) {
		t.Fatal("secret hashed before rotation no longer verifies")
	}

	// New data is sealed with the new key: the old key alone cannot open it.
	sealedNew := mustSeal(t, after, "new data", "ad")
	if _, err := before.Open(sealedNew, []byte("ad")); !errors.Is(err, ErrOpen) {
		t.Fatalf("old key opened data sealed after rotation: %v", err)
	}
	// Once the old key is dropped, its data no longer opens.
	dropped := newKeys(t, newMaster)
	if _, err := dropped.Open(sealedOld, []byte("ad")); !errors.Is(err, ErrOpen) {
		t.Fatalf("data sealed with a dropped key opened: %v", err)
	}
	if dropped.VerifySecret("client secret", hashOld) {
		t.Fatal("hash made with a dropped key still verifies")
	}
}

func TestHashSecret(t *testing.T) {
	ks := newKeys(t, newKey(t))
	h := ks.HashSecret("inlay_secret_abc")
	if len(h) != 32 {
		t.Fatalf("hash length %d, want 32", len(h))
	}
	if !ks.VerifySecret("inlay_secret_abc", h) {
		t.Fatal("correct secret does not verify")
	}
	for _, wrong := range []string{"", "inlay_secret_abd", "inlay_secret_ab", "inlay_secret_abc "} {
		if ks.VerifySecret(wrong, h) {
			t.Fatalf("wrong secret %q verifies", wrong)
		}
	}
	if ks.VerifySecret("inlay_secret_abc", h[:16]) {
		t.Fatal("truncated hash verifies")
	}
	other := newKeys(t, newKey(t))
	if other.VerifySecret("inlay_secret_abc", h) {
		t.Fatal("hash verifies under another master key")
	}
	if bytes.Equal(other.HashSecret("inlay_secret_abc"), h) {
		t.Fatal("hash is not keyed")
	}
}

func TestMACPurposesAndRotation(t *testing.T) {
	oldMaster, _ := GenerateMasterKey()
	newMaster, _ := GenerateMasterKey()
	oldKeys, err := NewKeys(oldMaster)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := oldKeys.MAC("a")
	b, _ := oldKeys.MAC("b")
	sum := a.Sum([]byte("msg"))
	if !a.Verify([]byte("msg"), sum) {
		t.Fatal("a sum does not verify under its own purpose")
	}
	if b.Verify([]byte("msg"), sum) {
		t.Fatal("a sum verifies under another purpose")
	}
	if a.Verify([]byte("msh"), sum) {
		t.Fatal("a sum verifies for another message")
	}
	rotated, _ := NewKeys(newMaster, oldMaster)
	ra, _ := rotated.MAC("a")
	if !ra.Verify([]byte("msg"), sum) {
		t.Fatal("a sum made under the previous master key no longer verifies")
	}
	fresh, _ := NewKeys(newMaster)
	fa, _ := fresh.MAC("a")
	if fa.Verify([]byte("msg"), sum) {
		t.Fatal("a sum verifies under an unrelated master key")
	}
}
