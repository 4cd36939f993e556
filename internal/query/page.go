package query

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/rls"
)

// PageResult is one page of a table widget with the number of rows the widget shows in all
// (TotalTruncated: more rows exist than the widget's limit or the row cap lets it show).
type PageResult struct {
	WidgetResult
	Total          int
	TotalTruncated bool
}

// Page runs one page of a table widget and the count of its rows (both cached and coalesced
// like any widget query).
func (e *Engine) Page(ctx context.Context, plan *compile.Plan, name string, v rls.Viewer, f compile.FilterValues, p compile.PageRequest) PageResult {
	start := time.Now()
	ctx = withViewer(ctx, v.ID) // for per-viewer credentials (OAuth integrations)
	fail := func(err error) PageResult {
		return PageResult{WidgetResult: WidgetResult{Err: err, Duration: time.Since(start)}}
	}
	w, err := plan.Widget(name)
	if err != nil {
		return fail(err)
	}
	src, err := e.source(w.Source)
	if err != nil {
		return fail(err)
	}
	pq, cq, err := w.BindPage(v, f, e.opts.MaxRows, p)
	if err != nil {
		return fail(err)
	}
	res, cached, err := e.exec(ctx, src, pq, p.Limit)
	if err != nil {
		return fail(err)
	}
	cres, _, err := e.exec(ctx, src, cq, 1)
	if err != nil {
		return fail(err)
	}
	total, err := countOf(cres.Rows)
	if err != nil {
		return fail(err)
	}
	out := PageResult{WidgetResult: WidgetResult{Result: res, Cached: cached, Duration: time.Since(start)}, Total: total}
	// The widget query asks for one row more than the cap, to tell that it was cut.
	if total > e.opts.MaxRows {
		out.Total, out.TotalTruncated = e.opts.MaxRows, true
	}
	return out
}

func countOf(rows [][]any) (int, error) {
	if len(rows) != 1 || len(rows[0]) != 1 {
		return 0, fmt.Errorf("query: count returned %d rows", len(rows))
	}
	n, err := strconv.ParseInt(fmt.Sprint(rows[0][0]), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("query: count is not an integer: %w", err)
	}
	return int(n), nil
}
