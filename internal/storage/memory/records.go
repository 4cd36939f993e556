package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

type recordID struct{ kind, key string }

type lease struct {
	holder string
	until  time.Time
}

// live returns the unexpired record at id; the caller holds s.mu.
func (s *Store) live(id recordID) (storage.Record, bool) {
	r, ok := s.records[id]
	if !ok {
		return storage.Record{}, false
	}
	if !r.ExpiresAt.IsZero() && !r.ExpiresAt.After(s.now()) {
		delete(s.records, id)
		return storage.Record{}, false
	}
	return r, true
}

func cloneRecord(r storage.Record) storage.Record {
	r.Value = slices.Clone(r.Value)
	return r
}

func notFound(kind, key string) error {
	return fmt.Errorf("record %s/%q: %w", kind, key, storage.ErrNotFound)
}

func (s *Store) CreateRecord(ctx context.Context, r storage.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := recordID{r.Kind, r.Key}
	if _, ok := s.live(id); ok {
		return fmt.Errorf("record %s/%q: %w", r.Kind, r.Key, storage.ErrAlreadyExists)
	}
	r = cloneRecord(r)
	r.Version, r.UpdatedAt = 1, s.now()
	s.records[id] = r
	return nil
}

func (s *Store) PutRecord(ctx context.Context, r storage.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := recordID{r.Kind, r.Key}
	old, _ := s.live(id)
	r = cloneRecord(r)
	r.Version, r.UpdatedAt = old.Version+1, s.now()
	s.records[id] = r
	return nil
}

func (s *Store) GetRecord(ctx context.Context, kind, key string) (storage.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.live(recordID{kind, key})
	if !ok {
		return storage.Record{}, notFound(kind, key)
	}
	return cloneRecord(r), nil
}

func (s *Store) ListRecords(ctx context.Context, kind, keyPrefix string) ([]storage.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []storage.Record{}
	for id := range s.records {
		if id.kind != kind || !strings.HasPrefix(id.key, keyPrefix) {
			continue
		}
		if r, ok := s.live(id); ok {
			out = append(out, cloneRecord(r))
		}
	}
	slices.SortFunc(out, func(a, b storage.Record) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

func (s *Store) UpdateRecord(ctx context.Context, kind, key string, fn func(storage.Record) (storage.Record, error)) (storage.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := recordID{kind, key}
	r, ok := s.live(id)
	if !ok {
		return storage.Record{}, notFound(kind, key)
	}
	updated, err := fn(cloneRecord(r))
	if err != nil {
		return storage.Record{}, err
	}
	updated = cloneRecord(updated)
	updated.Kind, updated.Key = kind, key
	updated.Version, updated.UpdatedAt = r.Version+1, s.now()
	s.records[id] = updated
	return cloneRecord(updated), nil
}

func (s *Store) DeleteRecord(ctx context.Context, kind, key string) error {
	_, err := s.TakeRecord(ctx, kind, key)
	return err
}

func (s *Store) TakeRecord(ctx context.Context, kind, key string) (storage.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := recordID{kind, key}
	r, ok := s.live(id)
	if !ok {
		return storage.Record{}, notFound(kind, key)
	}
	delete(s.records, id)
	return r, nil
}

func (s *Store) DeleteExpiredRecords(ctx context.Context, now time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id, r := range s.records {
		if !r.ExpiresAt.IsZero() && r.ExpiresAt.Before(now) {
			delete(s.records, id)
			n++
		}
	}
	return n, nil
}

func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if l, ok := s.leases[name]; ok && l.holder != holder && l.until.After(now) {
		return false, nil
	}
	s.leases[name] = lease{holder: holder, until: now.Add(ttl)}
	return true, nil
}

func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l, ok := s.leases[name]; ok && l.holder == holder {
		delete(s.leases, name)
	}
	return nil
}

var _ storage.RecordAuditor = (*Store)(nil)

// CreateRecordAudited creates r and appends events under one lock hold.
func (s *Store) CreateRecordAudited(ctx context.Context, r storage.Record, events []storage.AuditEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := recordID{r.Kind, r.Key}
	if _, ok := s.live(id); ok {
		return fmt.Errorf("record %s/%q: %w", r.Kind, r.Key, storage.ErrAlreadyExists)
	}
	r = cloneRecord(r)
	r.Version, r.UpdatedAt = 1, s.now()
	s.records[id] = r
	for _, e := range events {
		e.ID = s.next()
		if e.Time.IsZero() {
			e.Time = s.now()
		}
		e.Time = e.Time.Round(0)
		s.audit = append(s.audit, e)
	}
	return nil
}
