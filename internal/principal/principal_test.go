package principal_test

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/principal"
	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/memory"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newService(t *testing.T) (*principal.Service, *memory.Store, *secret.Keys) {
	t.Helper()
	master, err := secret.GenerateMasterKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.NewKeys(master)
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	return principal.NewService(store, keys, func() time.Time { return now }), store, keys
}

func TestCreateAndAuthenticate(t *testing.T) {
	svc, store, _ := newService(t)
	ctx := t.Context()
	id, sec, err := svc.Create(ctx, "  Acme backend ")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^inlay-[0-9a-f]{16}$`).MatchString(id) {
		t.Fatalf("client id %q has the wrong shape", id)
	}
	if !regexp.MustCompile(`^inlay_secret_[A-Za-z0-9_-]{43}$`).MatchString(sec) {
		t.Fatalf("client secret %q has the wrong shape", sec)
	}

	// Only a hash is stored, never the secret itself.
	stored, err := store.GetPrincipal(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored.SecretHash) == 0 || bytes.Contains(stored.SecretHash, []byte(sec)) || bytes.Contains(stored.SecretHash, []byte(sec[len(principal.SecretPrefix):])) {
		t.Fatalf("stored secret hash looks wrong: %x", stored.SecretHash)
	}
	if stored.Name != "Acme backend" || !stored.CreatedAt.Equal(now) {
		t.Fatalf("stored principal: %+v", stored)
	}

	p, err := svc.Authenticate(ctx, id, sec)
	if err != nil {
		t.Fatalf("authenticate with the right secret: %v", err)
	}
	if p.ClientID != id || p.Name != "Acme backend" || p.SecretHash != nil {
		t.Fatalf("authenticated principal: %+v", p)
	}

	id2, sec2, err := svc.Create(ctx, "Other")
	if err != nil {
		t.Fatal(err)
	}
	if id2 == id || sec2 == sec {
		t.Fatal("two principals share an id or secret")
	}

	tests := []struct{ name, id, secret string }{
		{"wrong secret", id, sec + "x"},
		{"truncated secret", id, sec[:len(sec)-1]},
		{"empty secret", id, ""},
		{"another principal's secret", id, sec2},
		{"unknown id", "inlay-0000000000000000", sec},
		{"empty id", "", sec},
		{"secret as id", sec, id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := svc.Authenticate(ctx, tt.id, tt.secret); !errors.Is(err, principal.ErrInvalidCredentials) {
				t.Fatalf("got %v, want ErrInvalidCredentials", err)
			}
		})
	}
}

func TestCreateRejectsBadNames(t *testing.T) {
	svc, _, _ := newService(t)
	for _, name := range []string{"", "   ", strings.Repeat("x", principal.MaxNameLength+1), "bad\xff"} {
		if _, _, err := svc.Create(t.Context(), name); !errors.Is(err, principal.ErrInvalidName) {
			t.Errorf("name %q: got %v, want ErrInvalidName", name, err)
		}
	}
}

func TestListAndDelete(t *testing.T) {
	svc, _, _ := newService(t)
	ctx := t.Context()
	a, secA, _ := svc.Create(ctx, "A")
	b, _, _ := svc.Create(ctx, "B")
	list, err := svc.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ClientID != a || list[1].ClientID != b {
		t.Fatalf("list: %+v", list)
	}
	for _, p := range list {
		if p.SecretHash != nil {
			t.Fatal("List exposes secret hashes")
		}
	}
	if err := svc.Delete(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Authenticate(ctx, a, secA); !errors.Is(err, principal.ErrInvalidCredentials) {
		t.Fatalf("deleted principal authenticates: %v", err)
	}
	if err := svc.Delete(ctx, a); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second delete: got %v, want ErrNotFound", err)
	}
	list, _ = svc.List(ctx)
	if len(list) != 1 || list[0].ClientID != b {
		t.Fatalf("after delete: %+v", list)
	}
}

// A master-key rotation must not lock existing principals out.
func TestAuthenticateAfterMasterKeyRotation(t *testing.T) {
	oldMaster, _ := secret.GenerateMasterKey()
	newMaster, _ := secret.GenerateMasterKey()
	oldKeys, _ := secret.NewKeys(oldMaster)
	store := memory.New()
	id, sec, err := principal.NewService(store, oldKeys, nil).Create(t.Context(), "A")
	if err != nil {
		t.Fatal(err)
	}
	rotated, _ := secret.NewKeys(newMaster, oldMaster)
	if _, err := principal.NewService(store, rotated, nil).Authenticate(t.Context(), id, sec); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
}
