// Package principal manages service principals: the client id and secret a host application's
// backend uses to obtain tokens. A secret is shown once, at creation, and stored only as a keyed
// hash (secret.Keys.HashSecret).
package principal

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
)

const (
	// ClientIDPrefix starts every client id.
	ClientIDPrefix = "inlay-"
	// SecretPrefix starts every client secret, so secret scanners can recognise a leaked one.
	SecretPrefix = "inlay_secret_"
	// MaxNameLength bounds a principal's display name, in characters.
	MaxNameLength = 200
)

var (
	// ErrInvalidCredentials is returned for an unknown client id and for a wrong secret alike,
	// so a caller cannot learn which client ids exist.
	ErrInvalidCredentials = errors.New("principal: invalid client credentials")
	// ErrInvalidName is returned for an empty, overlong or non-UTF-8 name.
	ErrInvalidName = errors.New("principal: invalid name")
)

// Service creates, authenticates, lists and deletes service principals.
type Service struct {
	store storage.Store
	keys  *secret.Keys
	now   func() time.Time
	// dummyHash is compared against when the client id is unknown, so that path costs the same
	// hash and comparison as a wrong secret.
	dummyHash []byte
}

// NewService returns a Service over store. now may be nil for time.Now.
func NewService(store storage.Store, keys *secret.Keys, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, keys: keys, now: now, dummyHash: keys.HashSecret(SecretPrefix + "dummy")}
}

// Create stores a new principal and returns its client id and secret. The secret is not kept
// and cannot be shown again.
func (s *Service) Create(ctx context.Context, name string) (clientID, clientSecret string, err error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > MaxNameLength || !utf8.ValidString(name) {
		return "", "", fmt.Errorf("%w: must be 1 to %d characters of UTF-8", ErrInvalidName, MaxNameLength)
	}
	idBytes, err := random(8)
	if err != nil {
		return "", "", err
	}
	secretBytes, err := random(32)
	if err != nil {
		return "", "", err
	}
	clientID = ClientIDPrefix + hex.EncodeToString(idBytes)
	clientSecret = SecretPrefix + base64.RawURLEncoding.EncodeToString(secretBytes)
	p := storage.Principal{
		ClientID:   clientID,
		Name:       name,
		SecretHash: s.keys.HashSecret(clientSecret),
		CreatedAt:  s.now().UTC(),
	}
	if err := s.store.CreatePrincipal(ctx, p); err != nil {
		return "", "", fmt.Errorf("create principal: %w", err)
	}
	return clientID, clientSecret, nil
}

// Authenticate checks a client id and secret. Both an unknown id and a wrong secret give
// ErrInvalidCredentials after the same work; other errors are the store's (a 500, not a 401).
func (s *Service) Authenticate(ctx context.Context, clientID, clientSecret string) (storage.Principal, error) {
	p, err := s.store.GetPrincipal(ctx, clientID)
	if errors.Is(err, storage.ErrNotFound) {
		s.keys.VerifySecret(clientSecret, s.dummyHash)
		return storage.Principal{}, ErrInvalidCredentials
	}
	if err != nil {
		return storage.Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if !s.keys.VerifySecret(clientSecret, p.SecretHash) {
		return storage.Principal{}, ErrInvalidCredentials
	}
	p.SecretHash = nil
	return p, nil
}

// List returns every principal, oldest first, without secret hashes.
func (s *Service) List(ctx context.Context) ([]storage.Principal, error) {
	ps, err := s.store.ListPrincipals(ctx)
	if err != nil {
		return nil, fmt.Errorf("list principals: %w", err)
	}
	for i := range ps {
		ps[i].SecretHash = nil
	}
	return ps, nil
}

// Delete removes a principal; storage.ErrNotFound if there is none with that id. Tokens already
// issued to it stay valid until they expire.
func (s *Service) Delete(ctx context.Context, clientID string) error {
	if err := s.store.DeletePrincipal(ctx, clientID); err != nil {
		return fmt.Errorf("delete principal: %w", err)
	}
	return nil
}

func random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("principal: random: %w", err)
	}
	return b, nil
}
