// Package conformance is the test suite every storage.Store implementation runs, so that callers
// can rely on the contract whichever store is configured.
package conformance

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

// base is a fixed instant the tests build times from (UTC, with sub-second precision so a
// store that truncates times is caught).
var base = time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.UTC)

// Run runs the suite. open must return a new, empty store; the suite closes it.
func Run(t *testing.T, open func(t *testing.T) storage.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s storage.Store)
	}{
		{"Principals", testPrincipals},
		{"PrincipalOrder", testPrincipalOrder},
		{"SigningKeys", testSigningKeys},
		{"UpdateSigningKey", testUpdateSigningKey},
		{"UpdateSigningKeyConcurrent", testUpdateSigningKeyConcurrent},
		{"DeleteExpiredSigningKeys", testDeleteExpiredSigningKeys},
		{"Audit", testAudit},
		{"AuditFilters", testAuditFilters},
		{"AuditLimit", testAuditLimit},
		{"Records", testRecords},
		{"RecordExpiry", testRecordExpiry},
		{"ListRecords", testListRecords},
		{"SingleUseConcurrent", testSingleUseConcurrent},
		{"UpdateRecordConcurrent", testUpdateRecordConcurrent},
		{"Leases", testLeases},
		{"CreateRecordAudited", testCreateRecordAudited},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("close: %v", err)
				}
			})
			tt.fn(t, s)
		})
	}
}

// RunReopen checks that data survives closing and reopening a store. open must return a store
// over the same persistent location every time it is called within one test.
func RunReopen(t *testing.T, open func(t *testing.T) storage.Store) {
	ctx := t.Context()
	s := open(t)
	p := storage.Principal{ClientID: "inlay-a", Name: "A", SecretHash: []byte{1, 2, 3}, CreatedAt: base}
	k := key("k1", base)
	ev := storage.AuditEvent{Time: base, Kind: storage.AuditTokenMinted, ViewerID: "alice"}
	must(t, s.CreatePrincipal(ctx, p))
	must(t, s.CreateSigningKey(ctx, k))
	must(t, s.AppendAudit(ctx, []storage.AuditEvent{ev}))
	must(t, s.Close())

	s = open(t)
	defer s.Close()
	gotP, err := s.GetPrincipal(ctx, "inlay-a")
	must(t, err)
	equalPrincipal(t, gotP, p)
	keys, err := s.ListSigningKeys(ctx)
	must(t, err)
	if len(keys) != 1 {
		t.Fatalf("after reopen: %d keys, want 1", len(keys))
	}
	equalKey(t, keys[0], k)
	events, err := s.ListAudit(ctx, storage.AuditFilter{})
	must(t, err)
	if len(events) != 1 || events[0].ViewerID != "alice" || !events[0].Time.Equal(base) {
		t.Fatalf("after reopen: audit %+v", events)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func equalPrincipal(t *testing.T, got, want storage.Principal) {
	t.Helper()
	if got.ClientID != want.ClientID || got.Name != want.Name ||
		string(got.SecretHash) != string(want.SecretHash) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("principal: got %+v, want %+v", got, want)
	}
}

func equalKey(t *testing.T, got, want storage.SigningKey) {
	t.Helper()
	if got.ID != want.ID || got.Algorithm != want.Algorithm ||
		string(got.PublicKey) != string(want.PublicKey) || string(got.PrivateKey) != string(want.PrivateKey) ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.RetiredAt.Equal(want.RetiredAt) ||
		!got.VerifyUntil.Equal(want.VerifyUntil) {
		t.Fatalf("signing key: got %+v, want %+v", got, want)
	}
	if want.RetiredAt.IsZero() != got.RetiredAt.IsZero() || want.VerifyUntil.IsZero() != got.VerifyUntil.IsZero() {
		t.Fatalf("signing key: zero times not kept: got %+v, want %+v", got, want)
	}
}

func key(id string, created time.Time) storage.SigningKey {
	return storage.SigningKey{
		ID:         id,
		Algorithm:  "EdDSA",
		PublicKey:  []byte("public-" + id),
		PrivateKey: []byte("sealed-private-" + id),
		CreatedAt:  created,
	}
}

func testPrincipals(t *testing.T, s storage.Store) {
	ctx := t.Context()
	if _, err := s.GetPrincipal(ctx, "inlay-missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("get unknown: got %v, want ErrNotFound", err)
	}
	if err := s.DeletePrincipal(ctx, "inlay-missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("delete unknown: got %v, want ErrNotFound", err)
	}
	list, err := s.ListPrincipals(ctx)
	must(t, err)
	if list == nil || len(list) != 0 {
		t.Fatalf("empty store: got %#v, want an empty non-nil list", list)
	}

	p := storage.Principal{ClientID: "inlay-a", Name: "Acme backend", SecretHash: []byte{0, 1, 2, 255}, CreatedAt: base}
	must(t, s.CreatePrincipal(ctx, p))
	got, err := s.GetPrincipal(ctx, "inlay-a")
	must(t, err)
	equalPrincipal(t, got, p)

	dup := p
	dup.Name = "impostor"
	if err := s.CreatePrincipal(ctx, dup); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate client id: got %v, want ErrAlreadyExists", err)
	}
	got, err = s.GetPrincipal(ctx, "inlay-a")
	must(t, err)
	equalPrincipal(t, got, p) // the failed create changed nothing

	// The store must not keep a reference to the caller's slice.
	p.SecretHash[0] = 99
	got, err = s.GetPrincipal(ctx, "inlay-a")
	must(t, err)
	if got.SecretHash[0] != 0 {
		t.Fatal("store aliases the caller's SecretHash")
	}

	must(t, s.DeletePrincipal(ctx, "inlay-a"))
	if _, err := s.GetPrincipal(ctx, "inlay-a"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("get after delete: got %v, want ErrNotFound", err)
	}
	if err := s.DeletePrincipal(ctx, "inlay-a"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second delete: got %v, want ErrNotFound", err)
	}
}

func testPrincipalOrder(t *testing.T, s storage.Store) {
	ctx := t.Context()
	// Created out of order: the list follows CreatedAt, not insertion or client id.
	ids := []string{"inlay-c", "inlay-a", "inlay-b"}
	offsets := []time.Duration{2 * time.Second, 0, time.Second}
	for i, id := range ids {
		must(t, s.CreatePrincipal(ctx, storage.Principal{ClientID: id, Name: id, SecretHash: []byte{1}, CreatedAt: base.Add(offsets[i])}))
	}
	list, err := s.ListPrincipals(ctx)
	must(t, err)
	var got []string
	for _, p := range list {
		got = append(got, p.ClientID)
	}
	if fmt.Sprint(got) != "[inlay-a inlay-b inlay-c]" {
		t.Fatalf("principals by creation: got %v", got)
	}
}

func testSigningKeys(t *testing.T, s storage.Store) {
	ctx := t.Context()
	keys, err := s.ListSigningKeys(ctx)
	must(t, err)
	if keys == nil || len(keys) != 0 {
		t.Fatalf("empty store: got %#v, want an empty non-nil list", keys)
	}
	k1 := key("k1", base)
	k2 := key("k2", base.Add(2*time.Hour))
	k3 := key("k3", base.Add(time.Hour))
	k3.RetiredAt = base.Add(2 * time.Hour)
	k3.VerifyUntil = base.Add(3 * time.Hour)
	for _, k := range []storage.SigningKey{k1, k2, k3} {
		must(t, s.CreateSigningKey(ctx, k))
	}
	if err := s.CreateSigningKey(ctx, key("k1", base.Add(time.Minute))); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("duplicate key id: got %v, want ErrAlreadyExists", err)
	}
	keys, err = s.ListSigningKeys(ctx)
	must(t, err)
	if len(keys) != 3 {
		t.Fatalf("got %d keys, want 3", len(keys))
	}
	// Newest first.
	equalKey(t, keys[0], k2)
	equalKey(t, keys[1], k3)
	equalKey(t, keys[2], k1)
}

func testUpdateSigningKey(t *testing.T, s storage.Store) {
	ctx := t.Context()
	called := false
	err := s.UpdateSigningKey(ctx, "missing", func(k storage.SigningKey) (storage.SigningKey, error) {
		called = true
		return k, nil
	})
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("update unknown: got %v, want ErrNotFound", err)
	}
	if called {
		t.Fatal("updater called for an unknown key")
	}

	k := key("k1", base)
	must(t, s.CreateSigningKey(ctx, k))
	retired := base.Add(time.Hour)
	must(t, s.UpdateSigningKey(ctx, "k1", func(got storage.SigningKey) (storage.SigningKey, error) {
		equalKey(t, got, k)
		got.RetiredAt = retired
		got.VerifyUntil = retired.Add(2 * time.Hour)
		return got, nil
	}))
	want := k
	want.RetiredAt = retired
	want.VerifyUntil = retired.Add(2 * time.Hour)
	keys, err := s.ListSigningKeys(ctx)
	must(t, err)
	equalKey(t, keys[0], want)

	// An updater error aborts the update and is returned.
	boom := errors.New("boom")
	err = s.UpdateSigningKey(ctx, "k1", func(got storage.SigningKey) (storage.SigningKey, error) {
		got.VerifyUntil = base.Add(100 * time.Hour)
		return got, boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("updater error: got %v, want it returned", err)
	}
	keys, err = s.ListSigningKeys(ctx)
	must(t, err)
	equalKey(t, keys[0], want)
}

// testUpdateSigningKeyConcurrent has many updaters each push VerifyUntil one second further: if
// any read-modify-write were not atomic, an increment would be lost.
func testUpdateSigningKeyConcurrent(t *testing.T, s storage.Store) {
	ctx := t.Context()
	k := key("k1", base)
	k.RetiredAt = base
	k.VerifyUntil = base
	must(t, s.CreateSigningKey(ctx, k))
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			errs <- s.UpdateSigningKey(ctx, "k1", func(got storage.SigningKey) (storage.SigningKey, error) {
				got.VerifyUntil = got.VerifyUntil.Add(time.Second)
				return got, nil
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	keys, err := s.ListSigningKeys(ctx)
	must(t, err)
	if want := base.Add(n * time.Second); !keys[0].VerifyUntil.Equal(want) {
		t.Fatalf("after %d concurrent updates VerifyUntil = %v, want %v (updates lost)", n, keys[0].VerifyUntil, want)
	}
}

func testDeleteExpiredSigningKeys(t *testing.T, s storage.Store) {
	ctx := t.Context()
	now := base.Add(10 * time.Hour)
	active := key("active", base) // not retired: never removed, whatever its times
	expired := key("expired", base)
	expired.RetiredAt = base.Add(time.Hour)
	expired.VerifyUntil = now.Add(-time.Second)
	live := key("live", base)
	live.RetiredAt = base.Add(time.Hour)
	live.VerifyUntil = now.Add(time.Second)
	for _, k := range []storage.SigningKey{active, expired, live} {
		must(t, s.CreateSigningKey(ctx, k))
	}
	n, err := s.DeleteExpiredSigningKeys(ctx, now)
	must(t, err)
	if n != 1 {
		t.Fatalf("removed %d keys, want 1", n)
	}
	keys, err := s.ListSigningKeys(ctx)
	must(t, err)
	got := map[string]bool{}
	for _, k := range keys {
		got[k.ID] = true
	}
	if len(keys) != 2 || !got["active"] || !got["live"] {
		t.Fatalf("keys left: %v, want active and live", got)
	}
	n, err = s.DeleteExpiredSigningKeys(ctx, now)
	must(t, err)
	if n != 0 {
		t.Fatalf("second clean-up removed %d keys, want 0", n)
	}
}

func testAudit(t *testing.T, s storage.Store) {
	ctx := t.Context()
	events, err := s.ListAudit(ctx, storage.AuditFilter{})
	must(t, err)
	if events == nil || len(events) != 0 {
		t.Fatalf("empty store: got %#v, want an empty non-nil list", events)
	}
	must(t, s.AppendAudit(ctx, nil))

	in := []storage.AuditEvent{
		{Time: base, Kind: storage.AuditTokenMinted, PrincipalID: "inlay-a", ViewerID: "alice", DashboardID: "sales", Outcome: "ok", Detail: "embed"},
		{Time: base.Add(time.Second), Kind: storage.AuditDashboardQuery, PrincipalID: "inlay-a", ViewerID: "alice", DashboardID: "sales", Widget: "revenue", DurationMS: 42, Rows: 7, Outcome: "ok"},
	}
	must(t, s.AppendAudit(ctx, in))
	// Same time as the previous event: order of appending breaks the tie.
	must(t, s.AppendAudit(ctx, []storage.AuditEvent{{Time: base.Add(time.Second), Kind: storage.AuditDashboardQuery, ViewerID: "alice", Widget: "by_month", Outcome: "query_timeout"}}))

	events, err = s.ListAudit(ctx, storage.AuditFilter{})
	must(t, err)
	if len(events) != 3 {
		t.Fatalf("got %d events, want 3", len(events))
	}
	if events[0].Widget != "by_month" || events[1].Widget != "revenue" || events[2].Kind != storage.AuditTokenMinted {
		t.Fatalf("not newest first: %+v", events)
	}
	ids := map[int64]bool{}
	for _, e := range events {
		if e.ID == 0 || ids[e.ID] {
			t.Fatalf("event ids must be assigned and unique: %+v", events)
		}
		ids[e.ID] = true
	}
	got := events[1]
	want := in[1]
	want.ID = got.ID
	if !got.Time.Equal(want.Time) {
		t.Fatalf("time: got %v, want %v", got.Time, want.Time)
	}
	got.Time = want.Time
	if got != want {
		t.Fatalf("event: got %+v, want %+v", got, want)
	}
}

func testAuditFilters(t *testing.T, s storage.Store) {
	ctx := t.Context()
	var events []storage.AuditEvent
	for i := range 12 {
		kind := storage.AuditDashboardQuery
		if i%3 == 0 {
			kind = storage.AuditTokenMinted
		}
		events = append(events, storage.AuditEvent{
			Time:        base.Add(time.Duration(i) * time.Minute),
			Kind:        kind,
			ViewerID:    []string{"alice", "bob"}[i%2],
			DashboardID: []string{"sales", "ops"}[i/6],
			Widget:      fmt.Sprint("w", i),
			Outcome:     "ok",
		})
	}
	must(t, s.AppendAudit(ctx, events))
	tests := []struct {
		name string
		f    storage.AuditFilter
		want string // widgets, newest first
	}{
		{"all", storage.AuditFilter{}, "[w11 w10 w9 w8 w7 w6 w5 w4 w3 w2 w1 w0]"},
		{"kind", storage.AuditFilter{Kind: storage.AuditTokenMinted}, "[w9 w6 w3 w0]"},
		{"viewer", storage.AuditFilter{ViewerID: "bob"}, "[w11 w9 w7 w5 w3 w1]"},
		{"dashboard", storage.AuditFilter{DashboardID: "sales"}, "[w5 w4 w3 w2 w1 w0]"},
		{"since is inclusive", storage.AuditFilter{Since: base.Add(9 * time.Minute)}, "[w11 w10 w9]"},
		{"combined", storage.AuditFilter{ViewerID: "alice", DashboardID: "ops", Kind: storage.AuditDashboardQuery}, "[w10 w8]"},
		{"limit", storage.AuditFilter{Limit: 2, ViewerID: "alice"}, "[w10 w8]"},
		{"no match", storage.AuditFilter{ViewerID: "mallory' OR '1'='1"}, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tt.f)
			must(t, err)
			widgets := []string{}
			for _, e := range got {
				widgets = append(widgets, e.Widget)
			}
			if fmt.Sprint(widgets) != tt.want {
				t.Fatalf("got %v, want %v", widgets, tt.want)
			}
		})
	}
}

func testAuditLimit(t *testing.T, s storage.Store) {
	ctx := t.Context()
	events := make([]storage.AuditEvent, 150)
	for i := range events {
		events[i] = storage.AuditEvent{Time: base.Add(time.Duration(i) * time.Millisecond), Kind: storage.AuditDashboardQuery, Rows: int64(i)}
	}
	must(t, s.AppendAudit(ctx, events))
	got, err := s.ListAudit(ctx, storage.AuditFilter{})
	must(t, err)
	if len(got) != 100 {
		t.Fatalf("default limit: got %d events, want 100", len(got))
	}
	if got[0].Rows != 149 || got[99].Rows != 50 {
		t.Fatalf("default limit kept the wrong events: first %d, last %d", got[0].Rows, got[99].Rows)
	}
	got, err = s.ListAudit(ctx, storage.AuditFilter{Limit: 120})
	must(t, err)
	if len(got) != 120 {
		t.Fatalf("limit 120: got %d events", len(got))
	}
}
