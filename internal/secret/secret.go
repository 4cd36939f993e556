// Package secret holds Inlay's master key and what is derived from it: sealing (AES-256-GCM) for
// credentials kept in the state store, and the keyed hash of service-principal secrets.
//
// A master key never touches data directly. Independent subkeys are derived from it with HKDF, one
// per purpose, so a flaw in one use cannot leak another's key. Sealed bytes start with a short id
// of the master key that sealed them, so the master key can rotate: Keys holds the current key
// (used for everything new) and any previous ones (used only to open and verify old data).
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// MinKeySize is the shortest master key accepted, in bytes.
const MinKeySize = 32

// Sealed-data layout: version (1 byte) | key id (keyIDSize) | nonce (12) | ciphertext and tag.
const (
	sealVersion = 1
	keyIDSize   = 8
)

// HKDF "info" labels: one per purpose. Changing one invalidates everything derived from it.
const (
	infoKeyID = "inlay/v1/key-id"
	infoSeal  = "inlay/v1/seal"
	infoHash  = "inlay/v1/principal-secret-hash"
)

var (
	// ErrKeyTooShort is returned for a master key under MinKeySize bytes.
	ErrKeyTooShort = errors.New("secret: master key too short")
	// ErrOpen is returned when sealed data cannot be opened: tampered, truncated, sealed with
	// an unknown master key, or opened with the wrong associated data.
	ErrOpen = errors.New("secret: cannot open sealed data")
)

// Keys is the set of master keys in use. It is safe for concurrent use.
type Keys struct {
	current *derived
	all     []*derived // current first, then previous keys in the order given
}

type derived struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
	hash []byte // HMAC-SHA256 key for principal secrets
	// master is kept to derive per-purpose MAC keys (Keys.MAC).
	master []byte
}

// NewKeys derives the working keys from the current master key and any previous ones that data
// may still be sealed or hashed with.
func NewKeys(current []byte, previous ...[]byte) (*Keys, error) {
	ks := &Keys{}
	for i, master := range append([][]byte{current}, previous...) {
		d, err := derive(master)
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("current master key: %w", err)
			}
			return nil, fmt.Errorf("previous master key %d: %w", i, err)
		}
		for _, other := range ks.all {
			if hmac.Equal(other.id[:], d.id[:]) {
				return nil, fmt.Errorf("secret: master key %d given twice", i)
			}
		}
		ks.all = append(ks.all, d)
	}
	ks.current = ks.all[0]
	return ks, nil
}

func derive(master []byte) (*derived, error) {
	if len(master) < MinKeySize {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrKeyTooShort, len(master), MinKeySize)
	}
	id, err := hkdf.Key(sha256.New, master, nil, infoKeyID, keyIDSize)
	if err != nil {
		return nil, fmt.Errorf("secret: derive key id: %w", err)
	}
	sealKey, err := hkdf.Key(sha256.New, master, nil, infoSeal, 32)
	if err != nil {
		return nil, fmt.Errorf("secret: derive sealing key: %w", err)
	}
	hashKey, err := hkdf.Key(sha256.New, master, nil, infoHash, 32)
	if err != nil {
		return nil, fmt.Errorf("secret: derive hashing key: %w", err)
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret: %w", err)
	}
	d := &derived{aead: aead, hash: hashKey, master: append([]byte(nil), master...)}
	copy(d.id[:], id)
	return d, nil
}

// GenerateMasterKey returns a new random 32-byte master key.
func GenerateMasterKey() ([]byte, error) {
	k := make([]byte, MinKeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("secret: generate master key: %w", err)
	}
	return k, nil
}

// Seal encrypts and authenticates plaintext with the current master key. associatedData is
// authenticated but not stored: Open must be given the same bytes (bind a sealed value to what
// it belongs to, e.g. a key id, so it cannot be swapped onto another record).
func (k *Keys) Seal(plaintext, associatedData []byte) ([]byte, error) {
	d := k.current
	nonceSize := d.aead.NonceSize()
	out := make([]byte, 1+keyIDSize+nonceSize, 1+keyIDSize+nonceSize+len(plaintext)+d.aead.Overhead())
	out[0] = sealVersion
	copy(out[1:], d.id[:])
	nonce := out[1+keyIDSize:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("secret: nonce: %w", err)
	}
	// The header (version and key id) is authenticated too, via the associated data.
	return d.aead.Seal(out, nonce, plaintext, sealAD(out[:1+keyIDSize], associatedData)), nil
}

// Open reverses Seal with whichever known master key sealed the data. Every failure is ErrOpen.
func (k *Keys) Open(sealed, associatedData []byte) ([]byte, error) {
	if len(sealed) < 1+keyIDSize || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%w: unknown format", ErrOpen)
	}
	header, id := sealed[:1+keyIDSize], sealed[1:1+keyIDSize]
	for _, d := range k.all {
		if !hmac.Equal(d.id[:], id) {
			continue
		}
		rest := sealed[1+keyIDSize:]
		if len(rest) < d.aead.NonceSize()+d.aead.Overhead() {
			return nil, fmt.Errorf("%w: truncated", ErrOpen)
		}
		nonce, ciphertext := rest[:d.aead.NonceSize()], rest[d.aead.NonceSize():]
		plain, err := d.aead.Open(nil, nonce, ciphertext, sealAD(header, associatedData))
		if err != nil {
			return nil, fmt.Errorf("%w: authentication failed", ErrOpen)
		}
		return plain, nil
	}
	return nil, fmt.Errorf("%w: sealed with an unknown master key", ErrOpen)
}

// sealAD prefixes the caller's associated data with the sealed header. The header has a fixed
// length, so the concatenation is unambiguous.
func sealAD(header, ad []byte) []byte {
	out := make([]byte, 0, len(header)+len(ad))
	return append(append(out, header...), ad...)
}

// HashSecret returns the keyed hash (HMAC-SHA256) of a principal secret under the current master
// key. The secrets are 256-bit random values, so a fast keyed hash is enough: a slow password
// hash would only slow down every token request.
func (k *Keys) HashSecret(secret string) []byte {
	return hashWith(k.current.hash, secret)
}

// VerifySecret reports whether secret matches hash, made by HashSecret under the current or a
// previous master key. Comparisons are constant-time.
func (k *Keys) VerifySecret(secret string, hash []byte) bool {
	ok := false
	// Check every key, without stopping early, so timing does not depend on which one matched.
	for _, d := range k.all {
		if hmac.Equal(hashWith(d.hash, secret), hash) {
			ok = true
		}
	}
	return ok
}

func hashWith(key []byte, secret string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// MAC is a keyed hash (HMAC-SHA256) for one purpose, with a key derived from each master key.
// Sum uses the current master key; Verify accepts a sum made under the current or a previous one.
type MAC struct {
	keys [][]byte // current first
}

// MAC derives the keyed hash of one purpose (e.g. "looker-session-token"). Different purposes
// get independent keys.
func (k *Keys) MAC(purpose string) (*MAC, error) {
	m := &MAC{}
	for _, d := range k.all {
		key, err := hkdf.Key(sha256.New, d.master, nil, "inlay/v1/mac/"+purpose, 32)
		if err != nil {
			return nil, fmt.Errorf("secret: derive mac key: %w", err)
		}
		m.keys = append(m.keys, key)
	}
	return m, nil
}

// Sum returns the keyed hash of msg under the current master key.
func (m *MAC) Sum(msg []byte) []byte {
	h := hmac.New(sha256.New, m.keys[0])
	h.Write(msg)
	return h.Sum(nil)
}

// Verify reports whether sum is msg's keyed hash under any known master key (constant-time).
func (m *MAC) Verify(msg, sum []byte) bool {
	ok := false
	for _, key := range m.keys {
		h := hmac.New(sha256.New, key)
		h.Write(msg)
		if hmac.Equal(h.Sum(nil), sum) {
			ok = true
		}
	}
	return ok
}
