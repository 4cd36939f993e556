package health_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/datasource/guard"
	"github.com/inlay/inlay/internal/health"
	"github.com/inlay/inlay/internal/storage/sqlite"
)

func TestReadiness(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	up := guard.Supervise(t.Context(), "local", duckdb.Dialect{}, func(ctx context.Context) (datasource.Source, error) {
		return duckdb.Open(ctx, duckdb.Config{})
	}, guard.SuperviseOptions{})
	t.Cleanup(func() { _ = up.Close() })
	down := guard.Supervise(t.Context(), "warehouse", duckdb.Dialect{}, func(ctx context.Context) (datasource.Source, error) {
		return nil, errors.New("unreachable")
	}, guard.SuperviseOptions{})
	t.Cleanup(func() { _ = down.Close() })

	c := health.New(store, []health.Source{up}, 0)
	if r := c.Check(t.Context()); r.Status != health.StatusOK || !r.Ready() || r.State != "up" {
		t.Errorf("all up: %+v", r)
	}
	c = health.New(store, []health.Source{up, down}, 0)
	r := c.Check(t.Context())
	if r.Status != health.StatusDegraded || !r.Ready() || r.Sources[1].State != guard.StateConnecting {
		t.Errorf("one source down: %+v, want degraded and still ready", r)
	}
	if r := health.New(store, []health.Source{down}, 0).Check(t.Context()); r.Ready() {
		t.Errorf("no source up: %+v, want unavailable", r)
	}
	c.SetDraining()
	if r := c.Check(t.Context()); r.Ready() || !r.Draining {
		t.Errorf("draining: %+v, want unavailable", r)
	}
	_ = store.Close()
	if r := health.New(store, []health.Source{up}, 0).Check(t.Context()); r.Ready() || r.State != "down" {
		t.Errorf("state store closed: %+v, want unavailable", r)
	}
}
