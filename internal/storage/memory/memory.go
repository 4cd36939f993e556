// Package memory is an in-memory storage.Store for tests and throwaway demos. Nothing survives
// the process.
package memory

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

// DefaultAuditLimit is the number of audit events ListAudit returns when the filter has no limit.
const DefaultAuditLimit = 100

// Store is a mutex-guarded storage.Store. The zero value is not usable; call New.
type Store struct {
	mu         sync.Mutex
	principals map[string]storage.Principal
	keys       map[string]storage.SigningKey
	audit      []storage.AuditEvent // in append order
	seq        int64                // insertion counter, breaks ties between equal times
	order      map[string]int64     // insertion sequence of principals and keys, by kind+id
	records    map[recordID]storage.Record
	leases     map[string]lease
	now        func() time.Time
}

var _ storage.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		principals: map[string]storage.Principal{},
		keys:       map[string]storage.SigningKey{},
		order:      map[string]int64{},
		records:    map[recordID]storage.Record{},
		leases:     map[string]lease{},
		now:        time.Now,
	}
}

// NewWithClock returns an empty store that stamps audit events lacking a time with now().
func NewWithClock(now func() time.Time) *Store {
	s := New()
	s.now = now
	return s
}

func (s *Store) next() int64 {
	s.seq++
	return s.seq
}

func (s *Store) CreatePrincipal(ctx context.Context, p storage.Principal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.principals[p.ClientID]; ok {
		return fmt.Errorf("principal %q: %w", p.ClientID, storage.ErrAlreadyExists)
	}
	s.principals[p.ClientID] = clonePrincipal(p)
	s.order["p/"+p.ClientID] = s.next()
	return nil
}

func (s *Store) GetPrincipal(ctx context.Context, clientID string) (storage.Principal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.principals[clientID]
	if !ok {
		return storage.Principal{}, fmt.Errorf("principal %q: %w", clientID, storage.ErrNotFound)
	}
	return clonePrincipal(p), nil
}

func (s *Store) ListPrincipals(ctx context.Context) ([]storage.Principal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storage.Principal, 0, len(s.principals))
	for _, p := range s.principals {
		out = append(out, clonePrincipal(p))
	}
	slices.SortFunc(out, func(a, b storage.Principal) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(s.order["p/"+a.ClientID], s.order["p/"+b.ClientID]))
	})
	return out, nil
}

func (s *Store) DeletePrincipal(ctx context.Context, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.principals[clientID]; !ok {
		return fmt.Errorf("principal %q: %w", clientID, storage.ErrNotFound)
	}
	delete(s.principals, clientID)
	delete(s.order, "p/"+clientID)
	return nil
}

func (s *Store) CreateSigningKey(ctx context.Context, k storage.SigningKey) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keys[k.ID]; ok {
		return fmt.Errorf("signing key %q: %w", k.ID, storage.ErrAlreadyExists)
	}
	s.keys[k.ID] = cloneKey(k)
	s.order["k/"+k.ID] = s.next()
	return nil
}

func (s *Store) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]storage.SigningKey, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, cloneKey(k))
	}
	slices.SortFunc(out, func(a, b storage.SigningKey) int {
		return cmp.Or(b.CreatedAt.Compare(a.CreatedAt), cmp.Compare(s.order["k/"+b.ID], s.order["k/"+a.ID]))
	})
	return out, nil
}

func (s *Store) UpdateSigningKey(ctx context.Context, id string, fn func(storage.SigningKey) (storage.SigningKey, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.keys[id]
	if !ok {
		return fmt.Errorf("signing key %q: %w", id, storage.ErrNotFound)
	}
	updated, err := fn(cloneKey(k))
	if err != nil {
		return err
	}
	if updated.ID != id {
		return fmt.Errorf("signing key %q: updater changed the id to %q", id, updated.ID)
	}
	s.keys[id] = cloneKey(updated)
	return nil
}

func (s *Store) DeleteExpiredSigningKeys(ctx context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, k := range s.keys {
		if !k.RetiredAt.IsZero() && k.VerifyUntil.Before(now) {
			delete(s.keys, id)
			delete(s.order, "k/"+id)
			n++
		}
	}
	return n, nil
}

func (s *Store) AppendAudit(ctx context.Context, events []storage.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range events {
		e.ID = s.next()
		if e.Time.IsZero() {
			e.Time = s.now()
		}
		e.Time = e.Time.Round(0) // drop the monotonic reading, as a real store would
		s.audit = append(s.audit, e)
	}
	return nil
}

func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var matched []storage.AuditEvent
	for _, e := range s.audit {
		if (f.Kind == "" || e.Kind == f.Kind) &&
			(f.ViewerID == "" || e.ViewerID == f.ViewerID) &&
			(f.DashboardID == "" || e.DashboardID == f.DashboardID) &&
			(f.Since.IsZero() || !e.Time.Before(f.Since)) {
			matched = append(matched, e)
		}
	}
	// Newest first; ids follow append order and break ties between equal times.
	slices.SortFunc(matched, func(a, b storage.AuditEvent) int {
		return cmp.Or(b.Time.Compare(a.Time), cmp.Compare(b.ID, a.ID))
	})
	out := make([]storage.AuditEvent, 0, min(limit, len(matched)))
	return append(out, matched[:min(limit, len(matched))]...), nil
}

// Close does nothing; the data stays readable.
func (s *Store) Close() error { return nil }

func clonePrincipal(p storage.Principal) storage.Principal {
	p.SecretHash = bytes.Clone(p.SecretHash)
	return p
}

func cloneKey(k storage.SigningKey) storage.SigningKey {
	k.PublicKey = bytes.Clone(k.PublicKey)
	k.PrivateKey = bytes.Clone(k.PrivateKey)
	return k
}
