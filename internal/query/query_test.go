package query

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/rls"
)

func str(s string) *string { return &s }

// openSales opens an in-memory DuckDB with a small sales table: Sales has amounts 10+20+30,
// Eng 40+50+60.
func openSales(t *testing.T) *duckdb.Source {
	t.Helper()
	src, err := duckdb.Open(t.Context(), duckdb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	err = src.Exec(t.Context(), `CREATE TABLE sales AS SELECT * FROM (VALUES
		('East', 'Sales', 10), ('East', 'Sales', 20), ('West', 'Sales', 30),
		('West', 'Eng', 40), ('North', 'Eng', 50), ('East', 'Eng', 60)
	) AS t(region, department, amount)`)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// slowSQL never finishes in practice (10^12 rows): only cancellation can stop it.
const slowSQL = "SELECT a.range + b.range AS x FROM range(1000000) a CROSS JOIN range(1000000) b"

func testDashboard() *dashboard.Dashboard {
	return &dashboard.Dashboard{
		ID: "sales",
		Datasets: []dashboard.Dataset{
			{Name: "dept", SQL: "SELECT * FROM sales WHERE department = __aibi_external_value"},
			{Name: "slow", SQL: slowSQL},
			{Name: "broken", SQL: "SELECT * FROM no_such_table"},
		},
		Filters: []dashboard.Filter{
			{Name: "region", Type: dashboard.FilterMultiSelect, Targets: []dashboard.FilterTarget{{Dataset: "dept", Column: "region"}}},
			{Name: "amount", Type: dashboard.FilterNumericRange, Targets: []dashboard.FilterTarget{{Dataset: "dept", Column: "amount"}}},
		},
		Widgets: []dashboard.Widget{
			{Name: "total", Type: dashboard.WidgetCounter, Dataset: "dept", Value: &dashboard.Field{Expr: "sum(amount)"}},
			{Name: "by_region", Type: dashboard.WidgetBar, Dataset: "dept", X: &dashboard.Field{Expr: "region"}, Y: []dashboard.Field{{Expr: "count(*)"}}},
			{Name: "slow", Type: dashboard.WidgetCounter, Dataset: "slow", Value: &dashboard.Field{Expr: "sum(x)"}},
			{Name: "broken", Type: dashboard.WidgetCounter, Dataset: "broken", Value: &dashboard.Field{Expr: "count(*)"}},
		},
	}
}

func newEngine(t *testing.T, opts Options) *Engine {
	t.Helper()
	return New(map[string]datasource.Source{"default": openSales(t)}, opts)
}

func viewer(value string) rls.Viewer { return rls.Viewer{ID: value, ExternalValue: str(value)} }

func total(t *testing.T, r WidgetResult) string {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("widget failed: %v", r.Err)
	}
	return fmt.Sprint(r.Result.Rows[0][0])
}

func TestRunPerWidgetResults(t *testing.T) {
	e := newEngine(t, Options{})
	d := testDashboard()
	res, err := e.Run(t.Context(), planOf(t, e, d), viewer("Sales"), []string{"total", "by_region", "broken"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := total(t, res["total"]); got != "60" {
		t.Errorf("total = %s, want 60", got)
	}
	if n := len(res["by_region"].Result.Rows); n != 2 {
		t.Errorf("by_region has %d rows, want 2 (East, West)", n)
	}
	if err := res["broken"].Err; !errors.Is(err, datasource.ErrInvalidQuery) {
		t.Errorf("broken widget: err = %v, want ErrInvalidQuery", err)
	}

	if _, err := e.Run(t.Context(), planOf(t, e, d), viewer("Sales"), []string{"total", "nope"}, nil); !errors.Is(err, compile.ErrUnknownWidget) {
		t.Errorf("unknown widget: err = %v", err)
	}
	// A viewer without the value fails closed, in that widget.
	res, err = e.Run(t.Context(), planOf(t, e, d), rls.Viewer{ID: "x"}, []string{"total"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res["total"].Err, compile.ErrRLSValueMissing) || res["total"].Result != nil {
		t.Errorf("missing value: %+v", res["total"])
	}
}

func TestCacheKeyIncludesRLSValue(t *testing.T) {
	e := newEngine(t, Options{CacheTTL: time.Minute})
	d := testDashboard()
	f := compile.FilterValues{"amount": {Min: ptr(0.0)}}
	run := func(v rls.Viewer) WidgetResult {
		res, err := e.Run(t.Context(), planOf(t, e, d), v, []string{"total"}, f)
		if err != nil {
			t.Fatal(err)
		}
		return res["total"]
	}
	first := run(viewer("Sales"))
	if first.Cached || total(t, first) != "60" {
		t.Fatalf("first run: cached=%v total=%s", first.Cached, total(t, first))
	}
	again := run(viewer("Sales"))
	if !again.Cached || total(t, again) != "60" {
		t.Errorf("repeat: cached=%v total=%s, want a cache hit of 60", again.Cached, total(t, again))
	}
	// Same widget, same filters, another external value: never the cached answer.
	other := run(viewer("Eng"))
	if other.Cached || total(t, other) != "150" {
		t.Errorf("other viewer: cached=%v total=%s, want a fresh 150", other.Cached, total(t, other))
	}
	if s := e.Stats(); s.Executed != 2 || s.CacheHits != 1 {
		t.Errorf("stats %+v, want 2 executed, 1 hit", s)
	}
}

func TestErrorsAreNotCached(t *testing.T) {
	e := newEngine(t, Options{CacheTTL: time.Minute})
	d := testDashboard()
	for range 2 {
		res, err := e.Run(t.Context(), planOf(t, e, d), viewer("Sales"), []string{"broken"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res["broken"].Err == nil || res["broken"].Cached {
			t.Fatalf("broken widget: %+v", res["broken"])
		}
	}
	if s := e.Stats(); s.Executed != 2 {
		t.Errorf("executed %d times, want 2 (errors are retried, not cached)", s.Executed)
	}
}

func ptr[T any](v T) *T { return &v }

func TestCoalescing(t *testing.T) {
	// No cache, so only coalescing can save executions. The slow query keeps the first
	// execution running while the others arrive; the test then lets it finish by... it cannot,
	// so every waiter is cancelled at the end and the shared run must be stopped.
	e := newEngine(t, Options{})
	d := testDashboard()
	ctx, cancel := context.WithCancel(t.Context())
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			res, err := e.Run(ctx, planOf(t, e, d), viewer("Sales"), []string{"slow"}, nil)
			if err == nil {
				err = res["slow"].Err
			}
			errs[i] = err
		})
	}
	waitFor(t, "all requests to join one execution", func() bool {
		s := e.Stats()
		return s.Executed == 1 && s.Coalesced == n-1
	})
	cancel()
	wg.Wait()
	for i, err := range errs {
		if !errors.Is(err, datasource.ErrCanceled) {
			t.Errorf("request %d: err = %v, want ErrCanceled", i, err)
		}
	}
	waitFor(t, "the shared execution to stop", func() bool { return e.Stats().InFlight == 0 })
	if s := e.Stats(); s.Executed != 1 || s.Canceled != 1 {
		t.Errorf("stats %+v, want 1 execution, cancelled", s)
	}
}

func TestCoalescedWaiterLeavingDoesNotCancelOthers(t *testing.T) {
	src := openSales(t)
	e := New(map[string]datasource.Source{"default": src}, Options{})
	// A query slow enough to still be running when the first waiter leaves, but finite.
	d := testDashboard()
	d.Datasets[1].SQL = "SELECT a.range * 0 + 1 AS x FROM range(30000) a CROSS JOIN range(30000) b"

	leaving, leave := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	var leftErr error
	var stayed WidgetResult
	wg.Go(func() {
		res, err := e.Run(leaving, planOf(t, e, d), viewer("Sales"), []string{"slow"}, nil)
		if err == nil {
			err = res["slow"].Err
		}
		leftErr = err
	})
	waitFor(t, "the first request to start", func() bool { return e.Stats().InFlight == 1 })
	wg.Go(func() {
		res, _ := e.Run(t.Context(), planOf(t, e, d), viewer("Sales"), []string{"slow"}, nil)
		stayed = res["slow"]
	})
	waitFor(t, "the second request to join", func() bool { return e.Stats().Coalesced == 1 })
	leave()
	wg.Wait()
	if !errors.Is(leftErr, datasource.ErrCanceled) {
		t.Errorf("leaving request: err = %v, want ErrCanceled", leftErr)
	}
	if got := total(t, stayed); got != "900000000" {
		t.Errorf("staying request got %s, want 900000000", got)
	}
	if s := e.Stats(); s.Executed != 1 || s.Canceled != 0 {
		t.Errorf("stats %+v, want one uncancelled execution", s)
	}
}

func TestTimeout(t *testing.T) {
	e := newEngine(t, Options{Timeout: 50 * time.Millisecond})
	res, err := e.Run(t.Context(), planOf(t, e, testDashboard()), viewer("Sales"), []string{"slow"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res["slow"].Err, datasource.ErrTimeout) {
		t.Errorf("err = %v, want ErrTimeout", res["slow"].Err)
	}
}

func TestFilterOptionsAndExport(t *testing.T) {
	e := New(map[string]datasource.Source{"default": openSales(t)}, Options{MaxRows: 1, ExportMaxRows: 10})
	d := testDashboard()
	opts, err := e.FilterOptions(t.Context(), planOf(t, e, d), viewer("Eng"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(opts["region"].Values); got != "[East North West]" {
		t.Errorf("region options %s (err %v)", got, opts["region"].Err)
	}
	if got := fmt.Sprint(opts["amount"].Min, opts["amount"].Max); got != "40 60" {
		t.Errorf("amount range %s (err %v)", got, opts["amount"].Err)
	}
	opts, _ = e.FilterOptions(t.Context(), planOf(t, e, d), rls.Viewer{})
	if !errors.Is(opts["region"].Err, compile.ErrRLSValueMissing) {
		t.Errorf("options without value: %+v", opts["region"])
	}

	// The widget result is capped at MaxRows=1; the export at 10.
	res, _ := e.Run(t.Context(), planOf(t, e, d), viewer("Eng"), []string{"by_region"}, nil)
	if r := res["by_region"].Result; len(r.Rows) != 1 || !r.Truncated {
		t.Errorf("widget: %d rows, truncated=%v", len(r.Rows), r.Truncated)
	}
	exp, err := e.Export(t.Context(), planOf(t, e, d), "by_region", viewer("Eng"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(exp.Rows) != 3 || exp.Truncated {
		t.Errorf("export: %d rows, truncated=%v", len(exp.Rows), exp.Truncated)
	}
}

// waitFor polls cond until it holds; it fails the test if the test's own deadline comes first.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkRunCached measures a repeated widget request answered from the cache: compile, hash,
// lookup.
func BenchmarkRunCached(b *testing.B) {
	src, err := duckdb.Open(b.Context(), duckdb.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	if err := src.Exec(b.Context(), "CREATE TABLE sales AS SELECT 'East' AS region, 'Sales' AS department, 1 AS amount"); err != nil {
		b.Fatal(err)
	}
	e := New(map[string]datasource.Source{"default": src}, Options{CacheTTL: time.Hour})
	d := testDashboard()
	v := viewer("Sales")
	f := compile.FilterValues{"region": {Values: []string{"East", "West"}}}
	for b.Loop() {
		res, err := e.Run(b.Context(), planOf(b, e, d), v, []string{"by_region"}, f)
		if err != nil || res["by_region"].Err != nil {
			b.Fatal(err, res["by_region"].Err)
		}
	}
	if s := e.Stats(); s.Executed != 1 {
		b.Fatalf("executed %d times", s.Executed)
	}
}

// Counters over one dataset run as one query, give what each would alone, fill the cache for
// each, and one counter that fails in the database does not take the others down.
func TestCountersShareOneQuery(t *testing.T) {
	e := newEngine(t, Options{CacheTTL: time.Minute})
	d := testDashboard()
	d.Widgets = append(d.Widgets,
		dashboard.Widget{Name: "orders", Type: dashboard.WidgetCounter, Dataset: "dept", Value: &dashboard.Field{Expr: "count(*)"}},
		dashboard.Widget{Name: "largest", Type: dashboard.WidgetCounter, Dataset: "dept", Value: &dashboard.Field{Expr: "max(amount)"}},
		// sum of text: the database refuses it.
		dashboard.Widget{Name: "bad_sum", Type: dashboard.WidgetCounter, Dataset: "dept", Value: &dashboard.Field{Expr: "sum(region)"}},
	)
	d.Normalize()
	f := compile.FilterValues{"region": {Values: []string{"East", "West"}}}
	counters := []string{"total", "orders", "largest"}

	res, err := e.Run(t.Context(), planOf(t, e, d), viewer("Sales"), append(counters, "by_region"), f)
	if err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s.Executed != 2 {
		t.Errorf("executed %d queries for three counters and a chart, want 2", s.Executed)
	}
	want := map[string]string{"total": "60", "orders": "3", "largest": "30"}
	for _, name := range counters {
		if got := total(t, res[name]); got != want[name] {
			t.Errorf("%s = %s, want %s", name, got, want[name])
		}
		// The same columns as the widget's own query would give.
		alone := New(e.sources, Options{})
		single, _ := alone.Run(t.Context(), planOf(t, alone, d), viewer("Sales"), []string{name}, f)
		if fmt.Sprint(single[name].Result.Columns) != fmt.Sprint(res[name].Result.Columns) {
			t.Errorf("%s columns %v, alone %v", name, res[name].Result.Columns, single[name].Result.Columns)
		}
	}

	// Each counter alone is now a cache hit.
	again, _ := e.Run(t.Context(), planOf(t, e, d), viewer("Sales"), []string{"orders"}, f)
	if !again["orders"].Cached || total(t, again["orders"]) != "3" {
		t.Errorf("orders after the shared run: cached=%v", again["orders"].Cached)
	}

	// With a broken counter among them, the others still answer.
	res, err = e.Run(t.Context(), planOf(t, e, d), viewer("Eng"), []string{"total", "orders", "bad_sum"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(res["bad_sum"].Err, datasource.ErrInvalidQuery) {
		t.Errorf("bad_sum: err = %v, want ErrInvalidQuery", res["bad_sum"].Err)
	}
	if total(t, res["total"]) != "150" || total(t, res["orders"]) != "3" {
		t.Errorf("good counters next to a broken one: total %v, orders %v", res["total"], res["orders"])
	}
}

// planOf compiles d for e's sources, as loading a dashboard does.
func planOf(tb testing.TB, e *Engine, d *dashboard.Dashboard) *compile.Plan {
	tb.Helper()
	c, _, err := e.Compile([]*dashboard.Dashboard{d})
	if err != nil {
		tb.Fatal(err)
	}
	p, _ := c.Plan(d.ID)
	return p
}
