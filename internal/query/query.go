// Package query is the engine between the API and the data sources: it compiles each dashboard
// once into a plan (package compile, where row-level security is applied) and keeps the current
// plans in a Catalog swapped atomically on reload; per request it binds the viewer's values into
// a plan's SQL and runs the queries concurrently with a timeout and row cap, answers repeats from a result cache keyed by the exact SQL and bound
// arguments (so by the viewer's RLS values too), and runs identical concurrent queries once.
package query

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/rls"
)

// ErrUnknownSource: a dataset names a data source the engine was not given (a configuration
// mistake).
var ErrUnknownSource = errors.New("query: unknown data source")

// Options configure an Engine. Zero values pick the defaults noted.
type Options struct {
	Timeout       time.Duration // per query; 0 means only the caller's context bounds it
	MaxRows       int           // rows per widget result; 0 means 10,000
	ExportMaxRows int           // rows per export; 0 means 1,000,000
	// CacheTTL is how long a result is served from the cache; 0 disables the cache.
	CacheTTL time.Duration
	// CacheMaxBytes bounds the cache by the estimated size of the results; 0 means 256 MiB.
	CacheMaxBytes uint64
	// Parallelism bounds how many of one Run's widget queries run at once; 0 means 8.
	Parallelism int
	// Shared is an optional cache shared by replicas, behind the in-process one (see SharedCache).
	Shared SharedCache
	// Credentials supplies per-query credentials for the sources in CredentialedSources (their
	// queries run with the viewer's, or a service account's, own token; see credentials.go).
	Credentials         CredentialsFunc
	CredentialedSources map[string]struct{}
}

// Stats counts what the engine did since it was built.
type Stats struct {
	Executed  int64 // queries sent to a database
	CacheHits int64 // answers from the result cache
	Coalesced int64 // requests that joined an identical query already running
	Canceled  int64 // executions stopped because every waiter went away
	InFlight  int64 // executions running now
	// SharedHits counts answers from the shared (Redis) cache, which ran nothing here.
	SharedHits int64
}

// WidgetResult is one widget's outcome. Result is shared with the cache and other requests:
// callers must not modify it.
type WidgetResult struct {
	Result   *datasource.Result
	Duration time.Duration
	Cached   bool
	Err      error
}

// FilterOptions are a filter's choices: Values for select filters, Min and Max for ranges.
// Err is set instead when the filter's query failed (e.g. a missing RLS attribute).
type FilterOptions struct {
	Values   []any
	Min, Max any
	Err      error
}

// Engine runs dashboard queries. It is safe for concurrent use.
type Engine struct {
	sources map[string]datasource.Source
	opts    Options
	cache   *otter.Cache[cacheKey, cacheEntry] // nil when disabled
	group   group

	executed, cacheHits, canceled, inFlight, sharedHits atomic.Int64

	catalog atomic.Pointer[Catalog]
}

type cacheKey [sha256.Size]byte

type cacheEntry struct {
	res    *datasource.Result
	weight uint32
}

// New builds an engine over the named data sources (the names datasets use; "default" for
// datasets that name none).
func New(sources map[string]datasource.Source, opts Options) *Engine {
	if opts.MaxRows <= 0 {
		opts.MaxRows = 10_000
	}
	if opts.ExportMaxRows <= 0 {
		opts.ExportMaxRows = 1_000_000
	}
	if opts.CacheMaxBytes == 0 {
		opts.CacheMaxBytes = 256 << 20
	}
	if opts.Parallelism <= 0 {
		opts.Parallelism = 8
	}
	e := &Engine{sources: sources, opts: opts}
	e.catalog.Store(&Catalog{plans: map[string]*compile.Plan{}})
	if opts.CacheTTL > 0 {
		e.cache = otter.Must(&otter.Options[cacheKey, cacheEntry]{
			MaximumWeight:    opts.CacheMaxBytes,
			Weigher:          func(_ cacheKey, v cacheEntry) uint32 { return v.weight },
			ExpiryCalculator: otter.ExpiryWriting[cacheKey, cacheEntry](opts.CacheTTL),
		})
	}
	return e
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	return Stats{
		Executed:  e.executed.Load(),
		CacheHits: e.cacheHits.Load(),
		Coalesced: e.group.joins.Load(),
		Canceled:  e.canceled.Load(),
		InFlight:  e.inFlight.Load(),

		SharedHits: e.sharedHits.Load(),
	}
}

// Run runs the named widgets' queries (all widgets when names is empty) of plan p for viewer v
// with filter values f, at most Options.Parallelism at a time. Each widget's failure stays in its
// WidgetResult; an unknown widget name fails the whole call with compile.ErrUnknownWidget. The
// request only binds v and f into the plan's SQL: the plan was compiled when the dashboard loaded.
func (e *Engine) Run(ctx context.Context, p *compile.Plan, v rls.Viewer, widgets []string, f compile.FilterValues) (map[string]WidgetResult, error) {
	var plans []*compile.WidgetPlan
	ctx = withViewer(ctx, v.ID)
	if len(widgets) == 0 {
		plans = p.Widgets()
	} else {
		// Name check first, so a typo fails fast without running anything.
		plans = make([]*compile.WidgetPlan, len(widgets))
		for i, name := range widgets {
			w, err := p.Widget(name)
			if err != nil {
				return nil, err
			}
			plans[i] = w
		}
	}
	// Counters over the same dataset share one scan; every other widget is a query of its own.
	var tasks [][]*compile.WidgetPlan
	var counters map[string]int // dataset -> index in tasks
	for _, w := range plans {
		if w.Counter() {
			if i, seen := counters[w.Dataset]; seen {
				tasks[i] = append(tasks[i], w)
				continue
			}
			if counters == nil {
				counters = map[string]int{}
			}
			counters[w.Dataset] = len(tasks)
		}
		tasks = append(tasks, []*compile.WidgetPlan{w})
	}
	out := make(map[string]WidgetResult, len(plans))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, e.opts.Parallelism)
	for _, ws := range tasks {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var rs map[string]WidgetResult
			if len(ws) == 1 {
				rs = map[string]WidgetResult{ws[0].Name: e.widget(ctx, ws[0], v, f, e.opts.MaxRows)}
			} else {
				rs = e.counters(ctx, p, ws, v, f)
			}
			mu.Lock()
			maps.Copy(out, rs)
			mu.Unlock()
		})
	}
	wg.Wait()
	return out, nil
}

// counters runs counter widgets over one dataset. Counters found in the cache are answered from
// it; the rest run as one query (Plan.Counters), whose row is split into the results each
// widget's own query would give, and cached under that query's key. If the shared query fails
// for a reason other than time, each counter runs alone, so one broken counter cannot break
// the others.
func (e *Engine) counters(ctx context.Context, p *compile.Plan, ws []*compile.WidgetPlan, v rls.Viewer, f compile.FilterValues) map[string]WidgetResult {
	start := time.Now()
	out := make(map[string]WidgetResult, len(ws))
	src, err := e.source(ws[0].Source)
	if err != nil {
		for _, w := range ws {
			out[w.Name] = WidgetResult{Err: err, Duration: time.Since(start)}
		}
		return out
	}
	if e.credentialed(ws[0].Source) {
		// Per-viewer credentials: each counter goes through exec, whose cache key has the owner.
		for _, w := range ws {
			out[w.Name] = e.widget(ctx, w, v, f, e.opts.MaxRows)
		}
		return out
	}
	var missing []*compile.WidgetPlan
	keys := map[string]cacheKey{}
	for _, w := range ws {
		q, err := w.Bind(v, f, e.opts.MaxRows)
		if err != nil {
			out[w.Name] = WidgetResult{Err: err, Duration: time.Since(start)}
			continue
		}
		keys[w.Name] = keyOf(q, e.opts.MaxRows)
		if e.cache != nil {
			if ent, ok := e.cache.GetIfPresent(keys[w.Name]); ok {
				e.cacheHits.Add(1)
				out[w.Name] = WidgetResult{Result: ent.res, Cached: true, Duration: time.Since(start)}
				continue
			}
		}
		if res, ok := e.sharedGet(ctx, keys[w.Name]); ok {
			out[w.Name] = WidgetResult{Result: res, Cached: true, Duration: time.Since(start)}
			continue
		}
		missing = append(missing, w)
	}
	alone := func(ws []*compile.WidgetPlan) {
		for _, w := range ws {
			out[w.Name] = e.widget(ctx, w, v, f, e.opts.MaxRows)
		}
	}
	if len(missing) < 2 {
		alone(missing)
		return out
	}
	cq, err := p.Counters(missing, v, f)
	if err != nil {
		alone(missing)
		return out
	}
	res, _, err := e.exec(ctx, src, cq.Query, e.opts.MaxRows)
	switch {
	case err == nil && len(res.Rows) == 1 && len(res.Columns) == len(missing):
		for i, w := range missing {
			one := &datasource.Result{
				Columns: []datasource.Column{{Name: cq.Keys[i], Type: res.Columns[i].Type}},
				Rows:    [][]any{{res.Rows[0][i]}},
			}
			if e.cache != nil {
				e.cache.Set(keys[w.Name], cacheEntry{res: one, weight: weigh(one)})
			}
			e.sharedSet(keys[w.Name], one)
			out[w.Name] = WidgetResult{Result: one, Duration: time.Since(start)}
		}
	case err != nil && (errors.Is(err, datasource.ErrTimeout) || errors.Is(err, datasource.ErrCanceled)):
		for _, w := range missing {
			out[w.Name] = WidgetResult{Err: err, Duration: time.Since(start)}
		}
	default:
		alone(missing)
	}
	return out
}

// Export runs a widget's query for download, capped at Options.ExportMaxRows rows, through the
// same plan (RLS and filters apply) and cache.
func (e *Engine) Export(ctx context.Context, p *compile.Plan, widget string, v rls.Viewer, f compile.FilterValues) (*datasource.Result, error) {
	w, err := p.Widget(widget)
	ctx = withViewer(ctx, v.ID)
	if err != nil {
		return nil, err
	}
	src, err := e.source(w.Source)
	if err != nil {
		return nil, err
	}
	q, err := w.Bind(v, f, e.opts.ExportMaxRows)
	if err != nil {
		return nil, err
	}
	res, _, err := e.exec(ctx, src, q, e.opts.ExportMaxRows)
	return res, err
}

// FilterOptions computes every filter's choices for viewer v (RLS applies; other filters do
// not). A filter's failure is in its entry's Err.
func (e *Engine) FilterOptions(ctx context.Context, p *compile.Plan, v rls.Viewer) (map[string]FilterOptions, error) {
	ctx = withViewer(ctx, v.ID)
	filters := p.Filters()
	out := make(map[string]FilterOptions, len(filters))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, e.opts.Parallelism)
	for _, flt := range filters {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			fo := e.filterOptions(ctx, flt, v)
			mu.Lock()
			out[flt.Name] = fo
			mu.Unlock()
		})
	}
	wg.Wait()
	return out, nil
}

func (e *Engine) filterOptions(ctx context.Context, flt *compile.FilterPlan, v rls.Viewer) FilterOptions {
	src, err := e.source(flt.Source)
	if err != nil {
		return FilterOptions{Err: err}
	}
	q, err := flt.Bind(v, compile.FilterOptionsLimit)
	if err != nil {
		return FilterOptions{Err: err}
	}
	res, _, err := e.exec(ctx, src, q, compile.FilterOptionsLimit)
	if err != nil {
		return FilterOptions{Err: err}
	}
	var fo FilterOptions
	switch flt.Type {
	case dashboard.FilterSingleSelect, dashboard.FilterMultiSelect:
		fo.Values = make([]any, 0, len(res.Rows))
		for _, row := range res.Rows {
			fo.Values = append(fo.Values, row[0])
		}
	default:
		if len(res.Rows) == 1 && len(res.Rows[0]) == 2 {
			fo.Min, fo.Max = res.Rows[0][0], res.Rows[0][1]
		}
	}
	return fo
}

func (e *Engine) widget(ctx context.Context, w *compile.WidgetPlan, v rls.Viewer, f compile.FilterValues, maxRows int) WidgetResult {
	start := time.Now()
	src, err := e.source(w.Source)
	if err != nil {
		return WidgetResult{Err: err, Duration: time.Since(start)}
	}
	q, err := w.Bind(v, f, maxRows)
	if err != nil {
		return WidgetResult{Err: err, Duration: time.Since(start)}
	}
	res, cached, err := e.exec(ctx, src, q, maxRows)
	return WidgetResult{Result: res, Cached: cached, Err: err, Duration: time.Since(start)}
}

func (e *Engine) source(name string) (datasource.Source, error) {
	src, ok := e.sources[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSource, name)
	}
	return src, nil
}

// exec answers q from the cache, or by joining an identical running query, or by running it.
// Only successful results are cached.
func (e *Engine) exec(ctx context.Context, src datasource.Source, q compile.Query, maxRows int) (*datasource.Result, bool, error) {
	key, owner, cred, err := e.credentials(ctx, q.Source, keyOf(q, maxRows))
	if err != nil {
		return nil, false, err
	}
	if e.cache != nil {
		if ent, ok := e.cache.GetIfPresent(key); ok {
			e.cacheHits.Add(1)
			return ent.res, true, nil
		}
	}
	res, _, err := e.group.do(ctx, key, func(runCtx context.Context) (*datasource.Result, error) {
		if res, ok := e.sharedGet(runCtx, key); ok {
			return res, nil
		}
		e.executed.Add(1)
		e.inFlight.Add(1)
		defer e.inFlight.Add(-1)
		res, err := src.Query(runCtx, datasource.Query{SQL: q.SQL, Args: q.Args, MaxRows: maxRows, Timeout: e.opts.Timeout, Credential: cred, CredentialOwner: owner})
		if err != nil {
			if runCtx.Err() != nil {
				e.canceled.Add(1)
			}
			return nil, err
		}
		if e.cache != nil {
			e.cache.Set(key, cacheEntry{res: res, weight: weigh(res)})
		}
		e.sharedSet(key, res)
		return res, nil
	})
	return res, false, err
}

// contextError maps a caller's context error onto the datasource errors the API knows.
func contextError(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", datasource.ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", datasource.ErrCanceled, err)
}

// keyOf hashes everything that determines a result: the source, the SQL text, every bound
// argument with its type, and the row cap. The viewer's RLS values are bound arguments, so two
// viewers with different values never share an entry.
func keyOf(q compile.Query, maxRows int) cacheKey {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	put := func(tag byte, b []byte) {
		h.Write([]byte{tag})
		h.Write(buf[:binary.PutUvarint(buf[:], uint64(len(b)))])
		h.Write(b)
	}
	u64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	put('S', []byte(q.Source))
	put('Q', []byte(q.SQL))
	put('M', u64(uint64(maxRows)))
	for _, a := range q.Args {
		switch v := a.(type) {
		case nil:
			put('n', nil)
		case string:
			put('s', []byte(v))
		case int64:
			put('i', u64(uint64(v)))
		case int:
			put('i', u64(uint64(v)))
		case float64:
			put('f', u64(math.Float64bits(v)))
		case bool:
			if v {
				put('b', []byte{1})
			} else {
				put('b', []byte{0})
			}
		case time.Time:
			b, _ := v.MarshalBinary() // instant and zone offset
			put('t', b)
		default:
			put('?', fmt.Appendf(nil, "%T:%#v", v, v))
		}
	}
	var k cacheKey
	h.Sum(k[:0])
	return k
}

// weigh estimates a result's memory in bytes for the cache bound.
func weigh(res *datasource.Result) uint32 {
	n := 64
	for _, c := range res.Columns {
		n += 32 + len(c.Name) + len(c.Type)
	}
	for _, row := range res.Rows {
		n += 24 + 16*len(row)
		for _, cell := range row {
			switch v := cell.(type) {
			case string:
				n += len(v)
			case json.Number:
				n += len(v)
			case fmt.Stringer:
				n += 24
			}
		}
	}
	return uint32(min(n, math.MaxUint32))
}
