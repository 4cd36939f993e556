package conformance

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

// testCreateRecordAudited checks storage.CreateRecordAudited (and so the store's RecordAuditor,
// when it has one): the record and its events are stored together, a second create of the same
// key stores no event, and of concurrent creators exactly one succeeds and exactly its events are
// logged.
func testCreateRecordAudited(t *testing.T, s storage.Store) {
	ctx := t.Context()
	if _, ok := s.(storage.RecordAuditor); !ok {
		t.Logf("%T has no RecordAuditor: checking the two-call fallback", s)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	ev := func(viewer string) storage.AuditEvent {
		return storage.AuditEvent{Time: at, Kind: storage.AuditTokenMinted, PrincipalID: "p", ViewerID: viewer, DashboardID: "d", Outcome: "ok", Detail: "embed"}
	}
	rec := storage.Record{Kind: "grant", Key: "g1", ExpiresAt: time.Now().Add(time.Hour)}
	must(t, storage.CreateRecordAudited(ctx, s, rec, []storage.AuditEvent{ev("alice")}))
	if _, err := s.GetRecord(ctx, "grant", "g1"); err != nil {
		t.Fatalf("record after CreateRecordAudited: %v", err)
	}
	got, err := s.ListAudit(ctx, storage.AuditFilter{ViewerID: "alice"})
	must(t, err)
	if len(got) != 1 || got[0].Kind != storage.AuditTokenMinted || got[0].DashboardID != "d" || !got[0].Time.Equal(at) {
		t.Fatalf("audit after CreateRecordAudited = %+v, want the one event", got)
	}

	// The same key again: refused, and its event is not stored.
	err = storage.CreateRecordAudited(ctx, s, rec, []storage.AuditEvent{ev("mallory")})
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("second create = %v, want ErrAlreadyExists", err)
	}
	if got, err := s.ListAudit(ctx, storage.AuditFilter{ViewerID: "mallory"}); err != nil || len(got) != 0 {
		t.Fatalf("audit of a refused create = %+v, %v; want none", got, err)
	}

	// An expired record with the key is replaced, as by CreateRecord.
	must(t, s.PutRecord(ctx, storage.Record{Kind: "grant", Key: "old", ExpiresAt: time.Now().Add(-time.Minute)}))
	must(t, storage.CreateRecordAudited(ctx, s, storage.Record{Kind: "grant", Key: "old", ExpiresAt: time.Now().Add(time.Hour)}, []storage.AuditEvent{ev("bob")}))

	// Concurrent creators of one key: exactly one wins, and exactly one event is logged.
	const n = 50
	var wins atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := storage.CreateRecordAudited(ctx, s, storage.Record{Kind: "grant", Key: "race", ExpiresAt: time.Now().Add(time.Hour)},
				[]storage.AuditEvent{ev(fmt.Sprintf("racer-%d", i))})
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, storage.ErrAlreadyExists):
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	all, err := s.ListAudit(ctx, storage.AuditFilter{Kind: storage.AuditTokenMinted, Limit: 1000})
	must(t, err)
	racers := 0
	for _, e := range all {
		if len(e.ViewerID) > 6 && e.ViewerID[:6] == "racer-" {
			racers++
		}
	}
	if wins.Load() != 1 || racers != 1 {
		t.Fatalf("of %d concurrent creates %d succeeded and %d events were logged; want exactly one of each", n, wins.Load(), racers)
	}
}
