package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/datasource/guard"
	"github.com/inlay/inlay/internal/datasource/postgres"
	"github.com/inlay/inlay/internal/health"
)

// sourceDialects gives each data-source type's dialect, known before any connection exists.
var sourceDialects = map[string]datasource.Dialect{
	config.TypeDuckDB:   duckdb.Dialect{},
	config.TypePostgres: postgres.Dialect{},
}

// superviseSources opens every configured data source under supervision: a source that cannot
// be opened now is retried with backoff in the background while the others serve, and its
// widgets answer 503 datasource_unavailable meanwhile. Each source runs at most its
// max_concurrent_queries at once, with max_queued_queries waiting. Only an unknown type fails.
func superviseSources(ctx context.Context, cfg *config.Config, logger *slog.Logger) (map[string]datasource.Source, error) {
	out := map[string]datasource.Source{}
	for _, name := range sortedNames(cfg.DataSources) {
		dc := cfg.DataSources[name]
		open, ok := sourceOpeners[dc.Type]
		if !ok {
			closeSources(out)
			return nil, fmt.Errorf("data source %q: unknown type %q", name, dc.Type)
		}
		sup := guard.Supervise(ctx, name, sourceDialects[dc.Type], func(ctx context.Context) (datasource.Source, error) {
			return open(ctx, dc)
		}, guard.SuperviseOptions{Logger: logger})
		out[name] = guard.Limit(sup, concurrentQueries(dc), queuedQueries(dc))
	}
	return out, nil
}

// concurrentQueries is a source's cap on queries running at once.
func concurrentQueries(dc config.DataSourceConfig) int {
	switch {
	case dc.MaxConcurrentQueries > 0:
		return dc.MaxConcurrentQueries
	case dc.Type == config.TypePostgres && dc.MaxConns > 0:
		return dc.MaxConns
	case dc.Type == config.TypePostgres:
		return max(4, runtime.NumCPU()) // pgxpool's default pool size
	default:
		return 2 * runtime.NumCPU()
	}
}

func queuedQueries(dc config.DataSourceConfig) int {
	if dc.MaxQueuedQueries > 0 {
		return dc.MaxQueuedQueries
	}
	return config.DefaultMaxQueuedQueries
}

// healthSources finds, under each source's wrappers, the ones that can report their state.
func healthSources(sources map[string]datasource.Source) []health.Source {
	var out []health.Source
	for _, name := range sortedNames(sources) {
		var s any = sources[name]
		found := false
		for s != nil {
			if hs, ok := s.(health.Source); ok {
				out, found = append(out, hs), true
				break
			}
			u, ok := s.(interface{ Unwrap() datasource.Source })
			if !ok {
				break
			}
			s = u.Unwrap()
		}
		if !found {
			// A source opened directly (the demo's, the tests'): probed the same way, so
			// /readyz lists every source.
			out = append(out, &probedSource{name: name, src: sources[name]})
		}
	}
	return out
}

// probedSource reports an unsupervised data source's state from a trivial query.
type probedSource struct {
	name  string
	src   datasource.Source
	mu    sync.Mutex
	state guard.State
	since time.Time
}

func (p *probedSource) Check(ctx context.Context) guard.Status {
	_, err := p.src.Query(ctx, datasource.Query{SQL: "SELECT 1", MaxRows: 1, Timeout: 2 * time.Second})
	state := guard.StateUp
	if err != nil {
		state = guard.StateDown
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if state != p.state {
		p.state, p.since = state, time.Now()
	}
	return guard.Status{Name: p.name, State: p.state, Since: p.since}
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
