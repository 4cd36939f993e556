package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/memory"
)

// flakyStore is the real memory store with AppendAudit failing on chosen calls.
type flakyStore struct {
	storage.Store
	mu    sync.Mutex
	calls int
	fail  func(call int) bool
}

func (f *flakyStore) AppendAudit(ctx context.Context, events []storage.AuditEvent) error {
	f.mu.Lock()
	f.calls++
	call := f.calls
	f.mu.Unlock()
	if f.fail(call) {
		return errors.New("disk on fire")
	}
	return f.Store.AppendAudit(ctx, events)
}

// stored returns every stored event in storage order.
func stored(t *testing.T, s storage.Store) []storage.AuditEvent {
	t.Helper()
	evs, err := s.ListAudit(t.Context(), storage.AuditFilter{Limit: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(evs, func(a, b storage.AuditEvent) int { return int(a.ID - b.ID) })
	return evs
}

// quiet keeps the timer out of the way, so only batch size, Flush and Close store events.
var quiet = Options{BatchSize: 1000, FlushEvery: time.Hour, Buffer: 16}

func TestConcurrentRecordsAllArriveInOrder(t *testing.T) {
	const goroutines, perGoroutine = 40, 250
	tests := []struct {
		name string
		opts Options
	}{
		{"small buffer and batches", Options{BatchSize: 7, FlushEvery: time.Millisecond, Buffer: 3}},
		{"defaults", Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memory.New()
			w := NewWriter(store, nil, tt.opts)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range perGoroutine {
						w.Record(storage.AuditEvent{
							Kind: storage.AuditDashboardQuery, ViewerID: fmt.Sprint("viewer-", g), Rows: int64(i),
						})
					}
				})
			}
			wg.Wait()
			if err := w.Close(t.Context()); err != nil {
				t.Fatal(err)
			}
			evs := stored(t, store)
			if len(evs) != goroutines*perGoroutine {
				t.Fatalf("stored %d events, want %d", len(evs), goroutines*perGoroutine)
			}
			next := map[string]int64{}
			for _, ev := range evs {
				if ev.Rows != next[ev.ViewerID] {
					t.Fatalf("%s: event %d stored where %d was expected: order lost", ev.ViewerID, ev.Rows, next[ev.ViewerID])
				}
				next[ev.ViewerID]++
				if ev.Time.IsZero() {
					t.Fatal("event stored without a time")
				}
			}
		})
	}
}

func TestFlushStoresEverythingRecordedBefore(t *testing.T) {
	store := memory.New()
	w := NewWriter(store, nil, quiet)
	defer w.Close(context.Background())
	for round := 1; round <= 3; round++ {
		for range 10 {
			w.Record(storage.AuditEvent{Kind: storage.AuditTokenMinted})
		}
		if err := w.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		if n := len(stored(t, store)); n != 10*round {
			t.Fatalf("after flush %d: %d events stored, want %d", round, n, 10*round)
		}
	}
}

func TestCloseFlushesAndStops(t *testing.T) {
	store := memory.New()
	var logs bytes.Buffer
	w := NewWriter(store, slog.New(slog.NewTextHandler(&logs, nil)), quiet)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		w.Record(storage.AuditEvent{Kind: storage.AuditDashboardQuery, Time: now, Rows: int64(i), Detail: "d"})
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	evs := stored(t, store)
	if len(evs) != 5 || !evs[0].Time.Equal(now) || evs[4].Rows != 4 {
		t.Fatalf("stored %+v", evs)
	}
	// After Close: nothing panics, Flush says closed, and a late event is logged, not lost silently.
	w.Record(storage.AuditEvent{Kind: storage.AuditPrincipalChange, ViewerID: "late"})
	if err := w.Flush(t.Context()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
	if err := w.Close(t.Context()); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if !strings.Contains(logs.String(), "after the writer closed") || !strings.Contains(logs.String(), "late") {
		t.Errorf("late event not logged: %s", logs.String())
	}
	if len(stored(t, store)) != 5 {
		t.Error("late event stored")
	}
}

func TestStoreFailures(t *testing.T) {
	tests := []struct {
		name      string
		fail      func(call int) bool
		wantErr   bool
		wantCount int
		wantLog   string
	}{
		{"first attempt fails, retry succeeds", func(c int) bool { return c == 1 }, false, 3, "retrying"},
		{"both attempts fail", func(c int) bool { return c <= 2 }, true, 0, "events lost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &flakyStore{Store: memory.New(), fail: tt.fail}
			var logs bytes.Buffer
			w := NewWriter(store, slog.New(slog.NewTextHandler(&logs, nil)), quiet)
			for range 3 {
				w.Record(storage.AuditEvent{Kind: storage.AuditTokenMinted})
			}
			err := w.Flush(t.Context())
			if (err != nil) != tt.wantErr {
				t.Fatalf("Flush = %v, want error %v", err, tt.wantErr)
			}
			if n := len(stored(t, store)); n != tt.wantCount {
				t.Errorf("%d events stored, want %d", n, tt.wantCount)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs.String())
			}
			// The failure is reported once; the writer keeps working.
			w.Record(storage.AuditEvent{Kind: storage.AuditTokenMinted})
			if err := w.Close(t.Context()); err != nil {
				t.Errorf("Close after a reported failure = %v", err)
			}
			if n := len(stored(t, store)); n != tt.wantCount+1 {
				t.Errorf("%d events stored after Close, want %d", n, tt.wantCount+1)
			}
		})
	}
}

// blockingStore holds every AppendAudit until release is closed.
type blockingStore struct {
	storage.Store
	release chan struct{}
}

func (b *blockingStore) AppendAudit(ctx context.Context, events []storage.AuditEvent) error {
	<-b.release
	return b.Store.AppendAudit(ctx, events)
}

// TestFullBufferLosesNothing: with a stalled store and a tiny buffer, Record waits rather than
// dropping; once the store recovers every event is stored.
func TestFullBufferLosesNothing(t *testing.T) {
	store := &blockingStore{Store: memory.New(), release: make(chan struct{})}
	w := NewWriter(store, nil, Options{BatchSize: 2, FlushEvery: time.Hour, Buffer: 1})
	recorded := make(chan struct{})
	go func() {
		defer close(recorded)
		for i := range 50 {
			w.Record(storage.AuditEvent{Kind: storage.AuditDashboardQuery, Rows: int64(i)})
		}
	}()
	close(store.release)
	<-recorded
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(stored(t, store)); n != 50 {
		t.Fatalf("%d events stored, want 50", n)
	}
}

func TestFlushHonoursContext(t *testing.T) {
	store := &blockingStore{Store: memory.New(), release: make(chan struct{})}
	w := NewWriter(store, nil, quiet)
	w.Record(storage.AuditEvent{Kind: storage.AuditTokenMinted})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := w.Flush(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Flush with a cancelled context = %v, want context.Canceled", err)
	}
	close(store.release)
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := len(stored(t, store)); n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

// TestRecordNowCreating: the event is stored with the record, before the call returns; a second
// call for the same record is refused with ErrAlreadyExists and stores no event.
func TestRecordNowCreating(t *testing.T) {
	st := memory.New()
	w := NewWriter(st, nil, Options{})
	defer w.Close(context.Background())
	rec := storage.Record{Kind: "grant.redeemed", Key: "k", ExpiresAt: time.Now().Add(time.Minute)}
	ev := storage.AuditEvent{Kind: storage.AuditTokenMinted, ViewerID: "alice", Outcome: "ok"}
	if err := w.RecordNowCreating(t.Context(), rec, ev); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetRecord(t.Context(), rec.Kind, rec.Key); err != nil {
		t.Fatalf("record: %v", err)
	}
	if got := stored(t, st); len(got) != 1 || got[0].ViewerID != "alice" || got[0].Time.IsZero() {
		t.Fatalf("events without a flush = %+v, want alice's, stamped", got)
	}
	ev.ViewerID = "mallory"
	if err := w.RecordNowCreating(t.Context(), rec, ev); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("second call = %v, want ErrAlreadyExists", err)
	}
	if got := stored(t, st); len(got) != 1 {
		t.Fatalf("events after a refused call = %+v, want only alice's", got)
	}
}
