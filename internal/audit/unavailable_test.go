package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/memory"
)

// downStore fails AppendAudit with storage.ErrUnavailable while down is set, as the PostgreSQL
// store does while its database restarts.
type downStore struct {
	storage.Store
	down atomic.Bool
}

func (d *downStore) AppendAudit(ctx context.Context, events []storage.AuditEvent) error {
	if d.down.Load() {
		return fmt.Errorf("postgres state: append audit: %w: connection refused", storage.ErrUnavailable)
	}
	return d.Store.AppendAudit(ctx, events)
}

// TestUnavailableStoreKeepsEvents: events recorded while the store is unavailable are kept and
// stored once it is back; Flush meanwhile reports that they wait; Record never blocks the caller.
func TestUnavailableStoreKeepsEvents(t *testing.T) {
	store := &downStore{Store: memory.New()}
	store.down.Store(true)
	w := NewWriter(store, slog.New(slog.DiscardHandler), Options{BatchSize: 10, FlushEvery: 20 * time.Millisecond, Buffer: 16})
	for i := range 250 { // far more than the buffer: Record must not block on the outage
		w.Record(storage.AuditEvent{Kind: storage.AuditTokenMinted, ViewerID: fmt.Sprint(i)})
	}
	if err := w.Flush(t.Context()); !errors.Is(err, storage.ErrUnavailable) {
		t.Fatalf("Flush while the store is down = %v, want ErrUnavailable", err)
	}
	if n := len(stored(t, store)); n != 0 {
		t.Fatalf("%d events stored while down", n)
	}
	store.down.Store(false)
	if err := w.Flush(t.Context()); err != nil {
		t.Fatalf("Flush after the store came back = %v", err)
	}
	evs := stored(t, store)
	if len(evs) != 250 {
		t.Fatalf("%d events stored after the outage, want all 250", len(evs))
	}
	for i, e := range evs {
		if e.ViewerID != fmt.Sprint(i) {
			t.Fatalf("event %d is %s: order lost", i, e.ViewerID)
		}
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}
