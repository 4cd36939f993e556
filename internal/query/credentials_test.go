package query

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/rls"
)

// recordingSource runs queries on DuckDB and records the credential each one carried.
type recordingSource struct {
	datasource.Source
	mu     sync.Mutex
	tokens []string
}

func (s *recordingSource) Query(ctx context.Context, q datasource.Query) (*datasource.Result, error) {
	tok := "<none>"
	if q.Credential != nil {
		t, err := q.Credential(ctx)
		if err != nil {
			return nil, err
		}
		tok = q.CredentialOwner + "=" + t
	}
	s.mu.Lock()
	s.tokens = append(s.tokens, tok)
	s.mu.Unlock()
	return s.Source.Query(ctx, q)
}

// TestQueriesRunWithTheirViewersCredentials: a source that names an integration runs each
// viewer's queries with that viewer's token; results cached for one viewer are never served to
// another, not even for identical SQL; a viewer without credentials gets the broker's error and
// no cached result.
func TestQueriesRunWithTheirViewersCredentials(t *testing.T) {
	src := &recordingSource{Source: openSales(t)}
	errNotConnected := errors.New("not connected")
	creds := func(ctx context.Context, source, viewer string) (string, func(context.Context) (string, error), error) {
		if viewer == "carol" {
			return "", nil, errNotConnected
		}
		return "viewer:" + viewer, func(context.Context) (string, error) { return "token-of-" + viewer, nil }, nil
	}
	e := New(map[string]datasource.Source{"default": src}, Options{CacheTTL: time.Minute,
		Credentials: creds, CredentialedSources: map[string]struct{}{"default": {}}})
	d := testDashboard()
	sameRows := rls.Viewer{ExternalValue: str("Sales")} // identical SQL and arguments for everyone
	run := func(id string) WidgetResult {
		v := sameRows
		v.ID = id
		rs, err := e.Run(t.Context(), planOf(t, e, d), v, []string{"total"}, compile.FilterValues{})
		if err != nil {
			t.Fatal(err)
		}
		return rs["total"]
	}
	if r := run("alice"); r.Err != nil || r.Cached {
		t.Fatalf("alice: %+v", r)
	}
	if r := run("alice"); r.Err != nil || !r.Cached {
		t.Fatalf("alice again should be cached: %+v", r)
	}
	if r := run("bob"); r.Err != nil || r.Cached {
		t.Fatalf("bob was served alice's cached result: %+v", r)
	}
	if r := run("carol"); !errors.Is(r.Err, errNotConnected) {
		t.Fatalf("carol without credentials: %+v", r)
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	want := []string{"viewer:alice=token-of-alice", "viewer:bob=token-of-bob"}
	if len(src.tokens) != len(want) || src.tokens[0] != want[0] || src.tokens[1] != want[1] {
		t.Fatalf("the database saw %v, want %v", src.tokens, want)
	}
}

// TestTablePagesRunWithTheirViewersCredentials: a table widget's pages (the viewer's table
// fetches) run with the requesting viewer's credentials too, like its first run. They ran with no
// viewer at all, so every table of a dashboard on an OAuth source failed with viewer_required.
func TestTablePagesRunWithTheirViewersCredentials(t *testing.T) {
	src := &recordingSource{Source: openSales(t)}
	creds := func(ctx context.Context, source, viewer string) (string, func(context.Context) (string, error), error) {
		if viewer == "" {
			return "", nil, errors.New("no viewer")
		}
		return "viewer:" + viewer, func(context.Context) (string, error) { return "token-of-" + viewer, nil }, nil
	}
	e := New(map[string]datasource.Source{"default": src}, Options{CacheTTL: time.Minute,
		Credentials: creds, CredentialedSources: map[string]struct{}{"default": {}}})
	d := testDashboard()
	d.Widgets = append(d.Widgets, dashboard.Widget{Name: "rows", Type: dashboard.WidgetTable, Dataset: "dept",
		Columns: []dashboard.Field{{Expr: "region"}, {Expr: "amount"}}})
	v := viewer("Sales")
	v.ID = "alice"
	r := e.Page(t.Context(), planOf(t, e, d), "rows", v, compile.FilterValues{}, compile.PageRequest{Limit: 10})
	if r.Err != nil {
		t.Fatalf("page: %v", r.Err)
	}
	if len(r.Result.Rows) == 0 {
		t.Fatal("page has no rows")
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	for _, tok := range src.tokens {
		if tok != "viewer:alice=token-of-alice" {
			t.Fatalf("the database saw %v, want alice's token on every query", src.tokens)
		}
	}
}
