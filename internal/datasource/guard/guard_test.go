package guard_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/datasource/guard"
)

// A source that cannot open at start answers ErrUnavailable, is retried in the background, and
// serves once it can open.
func TestSuperviseRetriesUntilOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not-yet")
	path := filepath.Join(dir, "db.duckdb")
	open := func(ctx context.Context) (datasource.Source, error) {
		return duckdb.Open(ctx, duckdb.Config{Path: path})
	}
	s := guard.Supervise(t.Context(), "late", duckdb.Dialect{}, open, guard.SuperviseOptions{MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	t.Cleanup(func() { _ = s.Close() })

	if st := s.Check(t.Context()); st.State != guard.StateConnecting || st.Name != "late" {
		t.Fatalf("state %+v, want connecting", st)
	}
	if _, err := s.Query(t.Context(), datasource.Query{SQL: "SELECT 1"}); !errors.Is(err, datasource.ErrUnavailable) {
		t.Fatalf("query before open: %v, want ErrUnavailable", err)
	}
	if s.Dialect().Name() != "duckdb" {
		t.Error("the dialect is not known before the source opens")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for s.Check(t.Context()).State != guard.StateUp {
		select {
		case <-t.Context().Done():
			t.Fatal("never opened")
		case <-time.After(10 * time.Millisecond):
		}
	}
	res, err := s.Query(t.Context(), datasource.Query{SQL: "SELECT 42"})
	if err != nil || res.Rows[0][0] != int64(42) {
		t.Fatalf("query after open: %v %v", res, err)
	}
}

// Close stops the retries of a source that never opens.
func TestSuperviseCloseStopsRetrying(t *testing.T) {
	open := func(ctx context.Context) (datasource.Source, error) {
		return nil, errors.New("unreachable")
	}
	s := guard.Supervise(t.Context(), "never", duckdb.Dialect{}, open, guard.SuperviseOptions{MinBackoff: time.Millisecond})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// With one query slot and one queue place, a third concurrent query is refused at once with
// ErrBusy; the queued one runs when the slot frees.
func TestLimitQueuesThenRefuses(t *testing.T) {
	src, err := duckdb.Open(t.Context(), duckdb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	l := guard.Limit(src, 1, 1)
	t.Cleanup(func() { _ = l.Close() })

	slowCtx, stopSlow := context.WithCancel(t.Context())
	slow := make(chan error, 1)
	go func() {
		_, err := l.Query(slowCtx, datasource.Query{SQL: "SELECT sum(hash(r)) FROM range(1000000000000) t(r)"})
		slow <- err
	}()
	waitFor(t, func() bool { return l.Running() == 1 })

	queued := make(chan error, 1)
	go func() {
		_, err := l.Query(t.Context(), datasource.Query{SQL: "SELECT 1"})
		queued <- err
	}()
	waitFor(t, func() bool { return l.Queued() == 1 })

	if _, err := l.Query(t.Context(), datasource.Query{SQL: "SELECT 1"}); !errors.Is(err, datasource.ErrBusy) {
		t.Fatalf("third query: %v, want ErrBusy", err)
	}
	stopSlow()
	if err := <-slow; !errors.Is(err, datasource.ErrCanceled) {
		t.Errorf("slow query: %v, want canceled", err)
	}
	if err := <-queued; err != nil {
		t.Errorf("queued query: %v", err)
	}

	// A queued query whose deadline passes while waiting is a timeout.
	hold, release := context.WithCancel(t.Context())
	go func() {
		_, _ = l.Query(hold, datasource.Query{SQL: "SELECT sum(hash(r)) FROM range(1000000000000) t(r)"})
	}()
	waitFor(t, func() bool { return l.Running() == 1 })
	short, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Query(short, datasource.Query{SQL: "SELECT 1"}); !errors.Is(err, datasource.ErrTimeout) {
		t.Errorf("queued past its deadline: %v, want ErrTimeout", err)
	}
	release()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-t.Context().Done():
			t.Fatal("condition never held")
		case <-time.After(time.Millisecond):
		}
	}
}
