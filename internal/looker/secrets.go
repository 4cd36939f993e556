package looker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

// EmbedSecret describes an embed secret (never its value, except once at creation).
type EmbedSecret struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
}

type secretDoc struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	Sealed    []byte    `json:"sealed"`
}

// ErrSecretNotFound is returned when revoking an unknown embed secret.
var ErrSecretNotFound = errors.New("looker: no such embed secret")

// The embed secrets live in one record (kindSecret, secretsKey): a login reads them with one
// lookup on any store, and creation and revocation are atomic updates of that record.
const secretsKey = "all"

type secretsDoc struct {
	Secrets []secretDoc `json:"secrets"`
}

// CreateSecret makes a new embed secret (64 hex characters, as Looker's) and returns it; only
// its sealed form is stored, so it cannot be shown again.
func (s *Service) CreateSecret(ctx context.Context) (EmbedSecret, string, error) {
	idb := make([]byte, 8)
	val := make([]byte, 32)
	if _, err := rand.Read(idb); err != nil {
		return EmbedSecret{}, "", err
	}
	if _, err := rand.Read(val); err != nil {
		return EmbedSecret{}, "", err
	}
	id, value := "es_"+hex.EncodeToString(idb), hex.EncodeToString(val)
	sealed, err := s.keys.Seal([]byte(value), []byte(secretADPrefix+id))
	if err != nil {
		return EmbedSecret{}, "", err
	}
	doc := secretDoc{ID: id, CreatedAt: s.now().UTC(), Sealed: sealed}
	add := func(all secretsDoc) ([]byte, error) {
		all.Secrets = append(all.Secrets, doc)
		return json.Marshal(all)
	}
	for range 3 {
		_, err := s.store.UpdateRecord(ctx, kindSecret, secretsKey, func(r storage.Record) (storage.Record, error) {
			var all secretsDoc
			if err := json.Unmarshal(r.Value, &all); err != nil {
				return r, err
			}
			b, err := add(all)
			r.Value = b
			return r, err
		})
		if err == nil {
			return EmbedSecret{ID: id, CreatedAt: doc.CreatedAt}, value, nil
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return EmbedSecret{}, "", fmt.Errorf("looker: store embed secret: %w", err)
		}
		b, err := add(secretsDoc{})
		if err != nil {
			return EmbedSecret{}, "", err
		}
		err = s.store.CreateRecord(ctx, storage.Record{Kind: kindSecret, Key: secretsKey, Value: b})
		if err == nil {
			return EmbedSecret{ID: id, CreatedAt: doc.CreatedAt}, value, nil
		}
		if !errors.Is(err, storage.ErrAlreadyExists) {
			return EmbedSecret{}, "", fmt.Errorf("looker: store embed secret: %w", err)
		}
	}
	return EmbedSecret{}, "", fmt.Errorf("looker: store embed secret: too much contention")
}

// ListSecrets returns the active embed secrets, oldest first.
func (s *Service) ListSecrets(ctx context.Context) ([]EmbedSecret, error) {
	docs, err := s.secretDocs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]EmbedSecret, 0, len(docs))
	for _, d := range docs {
		out = append(out, EmbedSecret{ID: d.ID, CreatedAt: d.CreatedAt})
	}
	return out, nil
}

// RevokeSecret deletes an embed secret: URLs signed with it stop verifying at once.
func (s *Service) RevokeSecret(ctx context.Context, id string) error {
	found := false
	_, err := s.store.UpdateRecord(ctx, kindSecret, secretsKey, func(r storage.Record) (storage.Record, error) {
		var all secretsDoc
		if err := json.Unmarshal(r.Value, &all); err != nil {
			return r, err
		}
		kept := all.Secrets[:0]
		for _, d := range all.Secrets {
			if d.ID == id {
				found = true
				continue
			}
			kept = append(kept, d)
		}
		if !found {
			return r, ErrSecretNotFound
		}
		all.Secrets = kept
		b, err := json.Marshal(all)
		r.Value = b
		return r, err
	})
	if errors.Is(err, storage.ErrNotFound) || errors.Is(err, ErrSecretNotFound) {
		return ErrSecretNotFound
	}
	return err
}

// secretDocs returns the stored secrets, oldest first.
func (s *Service) secretDocs(ctx context.Context) ([]secretDoc, error) {
	r, err := s.store.GetRecord(ctx, kindSecret, secretsKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("looker: embed secrets: %w", err)
	}
	var all secretsDoc
	if err := json.Unmarshal(r.Value, &all); err != nil {
		return nil, fmt.Errorf("looker: embed secrets record: %w", err)
	}
	return all.Secrets, nil
}

func (s *Service) activeSecrets(ctx context.Context) ([]Secret, error) {
	docs, err := s.secretDocs(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Secret, 0, len(docs))
	for _, d := range docs {
		v, err := s.keys.Open(d.Sealed, []byte(secretADPrefix+d.ID))
		if err != nil {
			return nil, fmt.Errorf("looker: open embed secret %q: %w", d.ID, err)
		}
		out = append(out, Secret{ID: d.ID, Value: v})
	}
	return out, nil
}

// ---- API 4.0 logins ----

// APILogin issues an opaque API access token for an authenticated client id.
func (s *Service) APILogin(ctx context.Context, clientID string) (string, time.Duration, error) {
	raw, err := randomToken(32)
	if err != nil {
		return "", 0, err
	}
	tok := prefixAPILogin + "." + raw
	err = s.store.CreateRecord(ctx, storage.Record{Kind: kindAPILogin, Key: digest(tok), Value: []byte(clientID),
		ExpiresAt: s.now().Add(APILoginTTL)})
	if err != nil {
		return "", 0, fmt.Errorf("looker: api login: %w", err)
	}
	return tok, APILoginTTL, nil
}

// APIClient returns the client id an API access token was issued to.
func (s *Service) APIClient(ctx context.Context, tok string) (string, error) {
	r, err := s.store.GetRecord(ctx, kindAPILogin, digest(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return "", unauthenticated(CodeUnauthorized, "a valid API access token is required (POST /api/4.0/login)")
	}
	if err != nil {
		return "", fmt.Errorf("looker: api token: %w", err)
	}
	return string(r.Value), nil
}

// APILogout ends an API access token.
func (s *Service) APILogout(ctx context.Context, tok string) error {
	err := s.store.DeleteRecord(ctx, kindAPILogin, digest(tok))
	if errors.Is(err, storage.ErrNotFound) {
		return unauthenticated(CodeUnauthorized, "a valid API access token is required (POST /api/4.0/login)")
	}
	return err
}
