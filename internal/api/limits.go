package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/query"
)

// DefaultMaxFilterValues bounds the values one multi_select filter may carry in a request. A
// viewer picks from the filter's options, which are capped far below this; a request with more
// is not a viewer's and would only make the engine bind (and the database compare) a huge list.
const DefaultMaxFilterValues = 1000

// checkFilterValues refuses a request whose filters carry more values than allowed, before
// anything is parsed, compiled or bound. Only lists are counted: every other filter value is one
// value or a small object that ParseFilters checks.
func checkFilterValues(raw map[string]json.RawMessage, max int) error {
	for name, msg := range raw {
		t := bytes.TrimSpace(msg)
		if len(t) == 0 || t[0] != '[' {
			continue
		}
		n, err := countArray(t, max)
		if err != nil {
			continue // not a list after all: ParseFilters says what is wrong
		}
		if n > max {
			return &Error{Status: http.StatusBadRequest, Code: "too_many_filter_values",
				Message: "filter " + strconvQuote(name) + " has more values than allowed",
				Details: map[string]any{"filter": name, "max": max}}
		}
	}
	return nil
}

// countArray counts the elements of a JSON array, stopping as soon as there are more than max.
func countArray(b []byte, max int) (int, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // '['
		return 0, err
	}
	n := 0
	for dec.More() {
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return 0, err
		}
		n++
		if n > max {
			break
		}
	}
	return n, nil
}

// withDeadline bounds everything a request does from here on (compiling, binding, waiting for a
// connection or a queue slot, the engine) by the configured request timeout.
func (s *Server) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if s.opts.RequestTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, s.opts.RequestTimeout)
}

// within runs fn and returns its result, or ctx's error as soon as ctx ends, whichever is first.
// fn must itself stop on ctx; within only makes sure the response does not wait for it.
func within[T any](ctx context.Context, fn func(context.Context) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, contextErr(ctx.Err())
	}
}

// contextErr maps a request context's end onto the errors the API knows: a passed deadline is a
// query_timeout, anything else a cancellation.
func contextErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: request deadline: %w", datasource.ErrTimeout, err)
	}
	return fmt.Errorf("%w: %w", datasource.ErrCanceled, err)
}

// timedOut is the answer for every requested widget (all of d's when none are named) when the
// request deadline passed before the engine answered.
func timedOut(d *dashboard.Dashboard, names []string, err error, took time.Duration) map[string]query.WidgetResult {
	if len(names) == 0 {
		for _, w := range d.Widgets {
			if w.Queried() {
				names = append(names, w.Name)
			}
		}
	}
	out := make(map[string]query.WidgetResult, len(names))
	for _, n := range names {
		out[n] = query.WidgetResult{Err: err, Duration: took}
	}
	return out
}

// allBusy returns the error of results when every widget was refused because its data source's
// queue was full, so the request answers 503 as a whole; nil otherwise.
func allBusy(results map[string]query.WidgetResult) error {
	var first error
	for _, r := range results {
		if r.Err == nil || !errors.Is(r.Err, datasource.ErrBusy) {
			return nil
		}
		first = r.Err
	}
	return first
}
