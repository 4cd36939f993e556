package token

import (
	"cmp"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/inlay/inlay/internal/secret"
	"github.com/inlay/inlay/internal/storage"
)

// Algorithm is the only JWT algorithm Inlay signs with or accepts.
const Algorithm = "EdDSA"

// retireGrace is added to MaxTokenTTL when a key is retired: it covers clock skew and the time
// other replicas take to notice the rotation (they must call MaybeRotate or Refresh about once a
// minute) while they may still sign with the old key.
const retireGrace = 5 * time.Minute

// KeyRingOptions configure a KeyRing. Zero values take the defaults shown.
type KeyRingOptions struct {
	RotateEvery time.Duration // default 30 days: MaybeRotate rotates keys older than this
	MaxTokenTTL time.Duration // default 24 h: the longest lifetime Issue accepts
	// MinReloadInterval bounds how often meeting an unknown kid reloads keys from the store
	// (default 1 s), so a flood of made-up kids cannot hammer the store.
	MinReloadInterval time.Duration
	// SignRefresh is how old the loaded keys may be when Issue signs (default 10 s): older, Issue
	// reloads them first, so a rotation made elsewhere signs here within that time.
	SignRefresh time.Duration
	Now         func() time.Time // default time.Now
	// Sleep waits d or until ctx ends (default a timer); tests pass one that moves a fake clock.
	Sleep func(ctx context.Context, d time.Duration) error
}

// KeyRing holds the token-signing keys: one active Ed25519 key that signs, and the public keys
// of the recent ones that still verify. Keys live in the store (private keys sealed with
// secret.Keys), so several replicas over one store share them.
type KeyRing struct {
	store storage.Store
	keys  *secret.Keys
	opts  KeyRingOptions

	mu         sync.RWMutex
	active     *signingKey
	public     map[string]publicKey // by kid: every key that may still verify
	lastReload time.Time

	reloadMu sync.Mutex // serialises reloads
	// started counts reloads begun; done is the count of the latest that succeeded (under reloadMu).
	// A caller that read started = n on arrival knows done > n means a reload begun after it
	// arrived succeeded.
	started atomic.Uint64
	done    uint64
	waiting atomic.Int64 // callers waiting for a reload on an unknown kid (for tests)
}

type signingKey struct {
	kid       string
	private   ed25519.PrivateKey
	createdAt time.Time
}

type publicKey struct {
	key         ed25519.PublicKey
	createdAt   time.Time
	verifyUntil time.Time // zero while the key is not retired
}

// NewKeyRing loads the keys from store, creating the first signing key if there is none.
func NewKeyRing(ctx context.Context, store storage.Store, keys *secret.Keys, opts KeyRingOptions) (*KeyRing, error) {
	if opts.RotateEvery <= 0 {
		opts.RotateEvery = 30 * 24 * time.Hour
	}
	if opts.MaxTokenTTL <= 0 {
		opts.MaxTokenTTL = 24 * time.Hour
	}
	if opts.MinReloadInterval <= 0 {
		opts.MinReloadInterval = time.Second
	}
	if opts.SignRefresh <= 0 {
		opts.SignRefresh = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleep
	}
	r := &KeyRing{store: store, keys: keys, opts: opts}
	if err := r.Refresh(ctx); err != nil {
		return nil, err
	}
	r.mu.RLock()
	none := r.active == nil
	r.mu.RUnlock()
	if none {
		if err := r.Rotate(ctx); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// MaxTokenTTL is the longest token lifetime the ring's keys are kept for.
func (r *KeyRing) MaxTokenTTL() time.Duration { return r.opts.MaxTokenTTL }

func (r *KeyRing) now() time.Time { return r.opts.Now().UTC() }

// Refresh reloads the keys from the store, picking up rotations made by other replicas.
func (r *KeyRing) Refresh(ctx context.Context) error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	return r.reload(ctx)
}

// reload must be called with reloadMu held.
func (r *KeyRing) reload(ctx context.Context) error {
	now := r.now()
	gen := r.started.Add(1)
	stored, err := r.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: load signing keys: %w", err)
	}
	public := map[string]publicKey{}
	var newest *storage.SigningKey
	for i, k := range stored {
		if k.Algorithm != Algorithm || len(k.PublicKey) != ed25519.PublicKeySize {
			continue // not ours to use
		}
		if !k.RetiredAt.IsZero() && !now.Before(k.VerifyUntil) {
			continue // every token it signed has expired
		}
		public[k.ID] = publicKey{key: ed25519.PublicKey(k.PublicKey), createdAt: k.CreatedAt, verifyUntil: k.VerifyUntil}
		if k.RetiredAt.IsZero() && (newest == nil || newerThan(k, *newest)) {
			newest = &stored[i]
		}
	}

	// The active key is the newest unretired one: if two replicas rotated at once, they agree.
	r.mu.RLock()
	active := r.active
	r.mu.RUnlock()
	if newest == nil {
		active = nil
	} else if active == nil || active.kid != newest.ID {
		active, err = r.unseal(*newest)
		if err != nil {
			return err
		}
	}
	r.mu.Lock()
	r.active, r.public, r.lastReload = active, public, now
	r.mu.Unlock()
	r.done = gen
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func newerThan(a, b storage.SigningKey) bool {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID)) > 0
}

func (r *KeyRing) unseal(k storage.SigningKey) (*signingKey, error) {
	seed, err := r.keys.Open(k.PrivateKey, []byte(k.ID))
	if err != nil {
		return nil, fmt.Errorf("token: open signing key %s (was the master key changed?): %w", k.ID, err)
	}
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("token: signing key %s: bad private key size", k.ID)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	if !priv.Public().(ed25519.PublicKey).Equal(ed25519.PublicKey(k.PublicKey)) {
		return nil, fmt.Errorf("token: signing key %s: private key does not match its public key", k.ID)
	}
	return &signingKey{kid: k.ID, private: priv, createdAt: k.CreatedAt}, nil
}

// Rotate makes a new active key and retires the older unretired ones. A retired key keeps
// verifying until every token it may have signed has expired.
func (r *KeyRing) Rotate(ctx context.Context) error {
	r.reloadMu.Lock()
	defer r.reloadMu.Unlock()
	now := r.now()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("token: generate key: %w", err)
	}
	kidBytes := make([]byte, 12)
	if _, err := rand.Read(kidBytes); err != nil {
		return fmt.Errorf("token: generate key id: %w", err)
	}
	kid := base64.RawURLEncoding.EncodeToString(kidBytes)
	// The kid is the associated data: a sealed key copied onto another row will not open.
	sealed, err := r.keys.Seal(priv.Seed(), []byte(kid))
	if err != nil {
		return fmt.Errorf("token: seal key: %w", err)
	}
	created := storage.SigningKey{ID: kid, Algorithm: Algorithm, PublicKey: pub, PrivateKey: sealed, CreatedAt: now}
	if err := r.store.CreateSigningKey(ctx, created); err != nil {
		return fmt.Errorf("token: store key: %w", err)
	}

	stored, err := r.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: load signing keys: %w", err)
	}
	for _, k := range stored {
		// Only keys older than ours: if another replica rotated concurrently, the newer of the
		// two new keys wins and neither retires the other's survivor.
		if !k.RetiredAt.IsZero() || !newerThan(created, k) {
			continue
		}
		err := r.store.UpdateSigningKey(ctx, k.ID, func(k storage.SigningKey) (storage.SigningKey, error) {
			if k.RetiredAt.IsZero() {
				k.RetiredAt = now
				k.VerifyUntil = now.Add(r.opts.MaxTokenTTL + retireGrace)
			}
			return k, nil
		})
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("token: retire key %s: %w", k.ID, err)
		}
	}
	return r.reload(ctx)
}

// MaybeRotate reloads the keys, rotates if the active key is older than RotateEvery, and removes
// keys whose tokens have all expired. Call it periodically (about once a minute) on every replica.
func (r *KeyRing) MaybeRotate(ctx context.Context) error {
	if err := r.Refresh(ctx); err != nil {
		return err
	}
	r.mu.RLock()
	active := r.active
	r.mu.RUnlock()
	if active == nil || r.now().Sub(active.createdAt) >= r.opts.RotateEvery {
		if err := r.Rotate(ctx); err != nil {
			return err
		}
	}
	if _, err := r.store.DeleteExpiredSigningKeys(ctx, r.now()); err != nil {
		return fmt.Errorf("token: delete expired keys: %w", err)
	}
	return nil
}

// signer returns the active key, first reloading the keys if they are older than SignRefresh so
// that a rotation made on another replica (or by inlay keys rotate) signs here promptly. A failed
// reload is not fatal: the current key still verifies everywhere until it expires.
func (r *KeyRing) signer() (*signingKey, error) {
	r.mu.RLock()
	stale := r.now().Sub(r.lastReload) >= r.opts.SignRefresh
	r.mu.RUnlock()
	if stale && r.reloadMu.TryLock() { // one caller reloads; the others sign with what they have
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = r.reload(ctx)
		cancel()
		r.reloadMu.Unlock()
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.active == nil {
		return nil, errors.New("token: no active signing key")
	}
	return r.active, nil
}

// PublicKey returns the public key for kid if it may still verify tokens; ErrUnknownKey if not,
// even after one reload from the store.
func (r *KeyRing) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	return r.publicKeyIssuedAt(ctx, kid, r.now(), 0)
}

// publicKeyIssuedAt looks kid up for a token that says it was issued at iat, with clocks that may
// differ by up to skew. An unknown kid reloads the keys from the store unless a reload that
// started after the token was signed, or after this call began (the token existed by then), has
// completed: such a reload has seen every key that could have signed it (a key is stored before
// it signs). So a key rotated on another replica verifies here at its first token. Reloads are
// single-flight and at least MinReloadInterval apart: a caller that comes sooner waits for the
// next one, which every caller waiting meanwhile shares, so a flood of made-up kids costs at most
// one store read per interval.
func (r *KeyRing) publicKeyIssuedAt(ctx context.Context, kid string, iat time.Time, skew time.Duration) (ed25519.PublicKey, error) {
	arrived := r.started.Load()
	if k, ok := r.lookup(kid); ok {
		return k, nil
	}
	// JWT times are whole seconds, truncated down: the token may have been signed up to 1 s after iat.
	signedBy := iat.Add(time.Second + skew)
	r.waiting.Add(1)
	r.reloadMu.Lock()
	r.waiting.Add(-1)
	defer r.reloadMu.Unlock()
	if k, ok := r.lookup(kid); ok { // reloaded while we waited
		return k, nil
	}
	r.mu.RLock()
	last := r.lastReload
	r.mu.RUnlock()
	if r.done > arrived || !last.Before(signedBy) {
		return nil, ErrUnknownKey // that reload would have found it
	}
	if wait := r.opts.MinReloadInterval - r.now().Sub(last); wait > 0 {
		if err := r.opts.Sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
	if err := r.reload(ctx); err != nil {
		return nil, err
	}
	if k, ok := r.lookup(kid); ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

func (r *KeyRing) lookup(kid string) (ed25519.PublicKey, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok := r.public[kid]
	if !ok || (!k.verifyUntil.IsZero() && !r.now().Before(k.verifyUntil)) {
		return nil, false
	}
	return k.key, true
}

// jwk is an RFC 8037 OKP public key.
type jwk struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
}

// JWKS returns the JSON Web Key Set of every key that may still verify tokens (the active key and
// retired keys within their VerifyUntil), newest first, as served at /oidc/v1/keys.
func (r *KeyRing) JWKS() ([]byte, error) {
	type entry struct {
		kid string
		k   publicKey
	}
	now := r.now()
	r.mu.RLock()
	var entries []entry
	for kid, k := range r.public {
		if k.verifyUntil.IsZero() || now.Before(k.verifyUntil) {
			entries = append(entries, entry{kid, k})
		}
	}
	r.mu.RUnlock()
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(b.k.createdAt.Compare(a.k.createdAt), cmp.Compare(b.kid, a.kid))
	})
	set := struct {
		Keys []jwk `json:"keys"`
	}{Keys: []jwk{}}
	for _, e := range entries {
		set.Keys = append(set.Keys, jwk{
			Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(e.k.key),
			Kid: e.kid, Use: "sig", Alg: Algorithm,
		})
	}
	return json.Marshal(set)
}
