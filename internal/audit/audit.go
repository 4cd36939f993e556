// Package audit writes the audit log asynchronously, in batches, so that the query hot path does
// not wait on a disk write. Events go through a bounded buffer to one goroutine that stores them
// with storage.Store.AppendAudit.
package audit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

// ErrClosed is returned by Flush after Close.
var ErrClosed = errors.New("audit: writer closed")

// writeTimeout bounds one AppendAudit call, so a hung store cannot stall the writer forever.
const writeTimeout = 10 * time.Second

// retryPause is the wait before the one retry of a failed batch.
const retryPause = 200 * time.Millisecond

// maxHeldEvents bounds the events kept in memory while the store is unavailable; past it a
// batch that cannot be stored is logged and lost, so memory stays bounded.
const maxHeldEvents = 100_000

// Options tune the writer; zero fields take the defaults.
type Options struct {
	// BatchSize is the most events stored in one AppendAudit call (default 100).
	BatchSize int
	// FlushEvery is the longest an event waits before it is stored (default 1s).
	FlushEvery time.Duration
	// Buffer is how many events may wait to be stored before Record blocks (default 4096).
	Buffer int
	// Now stamps events recorded with a zero Time (default time.Now).
	Now func() time.Time
}

// Writer batches audit events into a storage.Store. Its methods are safe for concurrent use.
//
// Record never drops an event for load: when the buffer is full (the store is slower than the
// traffic) it blocks until there is room. An audit log with silent gaps would be worse than a
// slower query, and a bounded buffer keeps memory bounded. Events recorded by one goroutine are
// stored in the order it recorded them. While the store is unavailable, batches are kept and
// retried. Events are lost, never silently (each case is logged, and store failures are returned
// by Flush and Close), when the store fails a batch twice for another reason, when it stays
// unavailable past maxHeldEvents kept events, when the writer closes while it is unavailable,
// and when recorded after Close; and, with nothing logged, when the process dies before their
// batch is stored.
type Writer struct {
	store  storage.Store
	logger *slog.Logger
	opts   Options

	// mu guards closed and the closing of items: senders hold it for reading.
	mu     sync.RWMutex
	closed bool
	items  chan item
	done   chan struct{} // closed when run has stored everything and returned
	// closeErr is the last unreported store failure, read after done is closed.
	closeErr error
}

// item is an event, or (when flushed is set) a flush marker that follows every event sent
// before it.
type item struct {
	ev      storage.AuditEvent
	flushed chan error
}

// NewWriter starts a writer. Close it to store what is buffered and stop its goroutine.
func NewWriter(store storage.Store, logger *slog.Logger, opts Options) *Writer {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 100
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = time.Second
	}
	if opts.Buffer <= 0 {
		opts.Buffer = 4096
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	w := &Writer{
		store:  store,
		logger: logger,
		opts:   opts,
		items:  make(chan item, opts.Buffer),
		done:   make(chan struct{}),
	}
	go w.run()
	return w
}

// Record queues ev to be stored. It returns at once unless the buffer is full, when it waits for
// room (see Writer). After Close the event cannot be stored; it is logged as an error instead.
func (w *Writer) Record(ev storage.AuditEvent) {
	if ev.Time.IsZero() {
		ev.Time = w.opts.Now()
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.logger.Error("audit event recorded after the writer closed; not stored",
			"kind", ev.Kind, "principal", ev.PrincipalID, "viewer", ev.ViewerID, "dashboard", ev.DashboardID)
		return
	}
	w.items <- item{ev: ev}
}

// Queued is the number of events (and flush markers) waiting to be stored, for metrics.
func (w *Writer) Queued() int { return len(w.items) }

// RecordNow stores ev before it returns, bypassing the batch: for events that must survive the
// process dying right after (a token handed to a client must be in the log even if the replica is
// killed the next instant). It costs one store round trip; an error means ev was not stored.
func (w *Writer) RecordNow(ctx context.Context, ev storage.AuditEvent) error {
	if ev.Time.IsZero() {
		ev.Time = w.opts.Now()
	}
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	if err := w.store.AppendAudit(ctx, []storage.AuditEvent{ev}); err != nil {
		return fmt.Errorf("audit: storing a %s event: %w", ev.Kind, err)
	}
	return nil
}

// Flush returns once every event recorded before it was called is stored, or ctx ends. It
// returns the store failures since the previous Flush (events that could not be stored even
// after a retry), so a caller can tell that the log has a gap.
func (w *Writer) Flush(ctx context.Context) error {
	reply := make(chan error, 1)
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.items <- item{flushed: reply}:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return fmt.Errorf("audit: flush: %w", ctx.Err())
	}
	select {
	case err := <-reply:
		return err
	case <-ctx.Done():
		return fmt.Errorf("audit: flush: %w", ctx.Err())
	}
}

// Close stores everything recorded and stops the writer. If ctx ends first, Close returns and
// the remaining events are still stored in the background. It returns unreported store failures,
// like Flush. Calling Close again waits the same way.
func (w *Writer) Close(ctx context.Context) error {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.items)
	}
	w.mu.Unlock()
	select {
	case <-w.done:
		return w.closeErr
	case <-ctx.Done():
		return fmt.Errorf("audit: close: %w", ctx.Err())
	}
}

// run is the single goroutine that owns the batch.
func (w *Writer) run() {
	defer close(w.done)
	ticker := time.NewTicker(w.opts.FlushEvery)
	defer ticker.Stop()
	batch := make([]storage.AuditEvent, 0, w.opts.BatchSize)
	var failed error // store failures not yet reported by Flush or Close
	// holding is set while the store is unavailable (a database restarting): the batch is kept
	// and retried on the next tick instead of being lost, up to maxHeldEvents.
	holding := false
	var nextTry time.Time // while holding: one attempt per FlushEvery, no retry pause
	write := func(force bool) {
		if len(batch) == 0 {
			return
		}
		var err error
		if holding {
			if !force && time.Now().Before(nextTry) && len(batch) < maxHeldEvents {
				return
			}
			ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
			err = w.store.AppendAudit(ctx, batch)
			cancel()
		} else {
			err = w.write(batch)
		}
		if err != nil && errors.Is(err, storage.ErrUnavailable) && len(batch) < maxHeldEvents {
			if !holding {
				w.logger.Warn("audit: the store is unavailable; keeping events to retry", "events", len(batch), "err", err)
			}
			holding, nextTry = true, time.Now().Add(w.opts.FlushEvery)
			return
		}
		if holding && err == nil {
			w.logger.Info("audit: the store is back; kept events stored", "events", len(batch))
		}
		holding = false
		if err != nil {
			w.logger.Error("audit: storing events failed; events lost", "events", len(batch), "err", err)
			failed = errors.Join(failed, err)
		}
		// A new slice: the store may keep the one it was given.
		batch = make([]storage.AuditEvent, 0, w.opts.BatchSize)
	}
	for {
		select {
		case it, ok := <-w.items:
			switch {
			case !ok:
				write(true)
				if holding {
					w.logger.Error("audit: closing while the store is unavailable; events lost", "events", len(batch))
					failed = errors.Join(failed, fmt.Errorf("audit: %d events not stored: %w", len(batch), storage.ErrUnavailable))
				}
				w.closeErr = failed
				return
			case it.flushed != nil:
				write(true)
				if holding {
					it.flushed <- errors.Join(failed, fmt.Errorf("audit: %d events waiting for the store: %w", len(batch), storage.ErrUnavailable))
				} else {
					it.flushed <- failed
				}
				failed = nil
			default:
				batch = append(batch, it.ev)
				if len(batch) >= w.opts.BatchSize && (!holding || len(batch) >= maxHeldEvents) {
					write(false)
				}
			}
		case <-ticker.C:
			write(false)
		}
	}
}

// write stores one batch, retrying once. A batch that fails twice is logged and reported.
func (w *Writer) write(batch []storage.AuditEvent) error {
	var err error
	for attempt := 1; attempt <= 2; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		err = w.store.AppendAudit(ctx, batch)
		cancel()
		if err == nil {
			return nil
		}
		if attempt == 1 {
			w.logger.Warn("audit: storing events failed; retrying", "events", len(batch), "err", err)
			time.Sleep(retryPause) // let a transient failure (a locked database) pass
		}
	}
	return fmt.Errorf("audit: %d events not stored: %w", len(batch), err)
}
