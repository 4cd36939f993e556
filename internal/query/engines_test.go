package query_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/compile"
	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/datasource/postgres"
	"github.com/inlay/inlay/internal/demo"
	"github.com/inlay/inlay/internal/demo/dashboards"
	"github.com/inlay/inlay/internal/query"
	"github.com/inlay/inlay/internal/rls"
)

// TestSampleDashboardsAgreeAcrossEngines loads the same sample rows into DuckDB and PostgreSQL
// and checks that every widget and filter of the sample dashboards gives the same answer on both:
// the dialects (placeholders, time buckets, quoting) and the type mapping must agree.
func TestSampleDashboardsAgreeAcrossEngines(t *testing.T) {
	dsn := os.Getenv("INLAY_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("set INLAY_TEST_POSTGRES_DSN (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run against PostgreSQL")
	}
	ctx := t.Context()
	duck, err := duckdb.Open(ctx, duckdb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { duck.Close() })
	if err := demo.Generate(ctx, duck.Exec, 3000, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}

	// A schema of its own, so parallel runs and other tests' tables do not collide.
	var b [4]byte
	_, _ = rand.Read(b[:])
	schema := "inlay_xengine_" + hex.EncodeToString(b[:])
	admin, err := postgres.Open(ctx, postgres.Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = admin.Exec(t.Context(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		admin.Close()
	})
	if err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	pg, err := postgres.Open(ctx, postgres.Config{DSN: dsn + sep + "search_path=" + schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	copySales(t, duck, pg)

	dashes, problems := dashboard.LoadFS(dashboards.FS, ".")
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	value := "Sales"
	viewer := rls.Viewer{ID: "x", ExternalValue: &value, Attributes: map[string][]string{
		"department": {"Sales"}, "regions": {"East", "West"}}}
	engines := map[string]*query.Engine{
		"duckdb":   query.New(map[string]datasource.Source{"default": duck}, query.Options{Timeout: time.Minute}),
		"postgres": query.New(map[string]datasource.Source{"default": pg}, query.Options{Timeout: time.Minute}),
	}
	filterSets := []compile.FilterValues{nil, mustFilters(t, dashes, `{"region":["East"],"period":{"from":"2025-03-01","to":"2025-09-30"},"amount":{"min":50}}`)}
	for _, d := range dashes {
		for i, f := range filterSets {
			if i > 0 && d.ID != "sales" {
				continue
			}
			results := map[string]map[string]query.WidgetResult{}
			for name, e := range engines {
				r, err := e.Run(ctx, planOf(t, e, d), viewer, nil, f)
				if err != nil {
					t.Fatalf("%s %s: %v", name, d.ID, err)
				}
				results[name] = r
			}
			for _, w := range d.Widgets {
				if w.Type == dashboard.WidgetText {
					continue // Markdown, rendered at load: nothing runs on an engine
				}
				dr, pr := results["duckdb"][w.Name], results["postgres"][w.Name]
				if dr.Err != nil || pr.Err != nil {
					t.Errorf("%s/%s: duckdb %v, postgres %v", d.ID, w.Name, dr.Err, pr.Err)
					continue
				}
				if len(dr.Result.Rows) == 0 {
					t.Errorf("%s/%s: no rows, so the comparison would prove nothing", d.ID, w.Name)
				}
				if got, want := render(t, pr.Result), render(t, dr.Result); !slices.Equal(got, want) {
					t.Errorf("%s/%s (filters %d): engines disagree\npostgres: %.5q\nduckdb:   %.5q", d.ID, w.Name, i, got, want)
				}
			}
		}
		opts := map[string]map[string]query.FilterOptions{}
		for name, e := range engines {
			o, err := e.FilterOptions(ctx, planOf(t, e, d), viewer)
			if err != nil {
				t.Fatal(err)
			}
			opts[name] = o
		}
		for name, o := range opts["duckdb"] {
			p := opts["postgres"][name]
			if o.Err != nil || p.Err != nil || fmt.Sprint(norm(o.Values), norm(o.Min), norm(o.Max)) != fmt.Sprint(norm(p.Values), norm(p.Min), norm(p.Max)) {
				t.Errorf("%s filter %s: duckdb %v %v %v (%v), postgres %v %v %v (%v)", d.ID, name, o.Values, o.Min, o.Max, o.Err, p.Values, p.Min, p.Max, p.Err)
			}
		}
	}
}

func mustFilters(t *testing.T, dashes []*dashboard.Dashboard, raw string) compile.FilterValues {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	for _, d := range dashes {
		if d.ID == "sales" {
			f, err := compile.ParseFilters(d, m)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	t.Fatal("no sales dashboard")
	return nil
}

// copySales copies the sample table from DuckDB into PostgreSQL with bound multi-row inserts.
func copySales(t *testing.T, from *duckdb.Source, to *postgres.Source) {
	t.Helper()
	ctx := t.Context()
	if err := to.Exec(ctx, `CREATE TABLE sales (id BIGINT, ts TIMESTAMP, region TEXT, department TEXT, product TEXT, customer TEXT, amount NUMERIC(12,2))`); err != nil {
		t.Fatal(err)
	}
	res, err := from.Query(ctx, datasource.Query{SQL: "SELECT id, ts, region, department, product, customer, CAST(amount AS VARCHAR) FROM sales ORDER BY id"})
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < len(res.Rows); start += 500 {
		batch := res.Rows[start:min(start+500, len(res.Rows))]
		var sb strings.Builder
		var args []any
		sb.WriteString("INSERT INTO sales VALUES ")
		for i, row := range batch {
			if i > 0 {
				sb.WriteString(",")
			}
			n := len(args)
			fmt.Fprintf(&sb, "($%d,$%d,$%d,$%d,$%d,$%d,CAST($%d AS NUMERIC))", n+1, n+2, n+3, n+4, n+5, n+6, n+7)
			args = append(args, row...)
		}
		if err := to.Exec(ctx, sb.String(), args...); err != nil {
			t.Fatal(err)
		}
	}
}

// render turns a result into comparable text rows (sorted: ties may come back in any order),
// with numbers rounded so that float and decimal arithmetic agree.
func render(t *testing.T, r *datasource.Result) []string {
	t.Helper()
	out := make([]string, 0, len(r.Rows))
	for _, row := range r.Rows {
		cells := make([]string, len(row))
		for i, v := range row {
			cells[i] = fmt.Sprint(norm(v))
		}
		out = append(out, strings.Join(cells, "|"))
	}
	slices.Sort(out)
	names := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		names[i] = c.Name
	}
	return append([]string{strings.Join(names, "|")}, out...)
}

func norm(v any) any {
	var f float64
	switch x := v.(type) {
	case []any:
		out := make([]any, len(x))
		for i := range x {
			out[i] = norm(x[i])
		}
		return out
	case json.Number:
		f, _ = x.Float64()
	case float64:
		f = x
	case int64:
		f = float64(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	default:
		return v
	}
	return math.Round(f*1e4) / 1e4
}

// planOf compiles d for e's sources, as loading a dashboard does.
func planOf(tb testing.TB, e *query.Engine, d *dashboard.Dashboard) *compile.Plan {
	tb.Helper()
	c, _, err := e.Compile([]*dashboard.Dashboard{d})
	if err != nil {
		tb.Fatal(err)
	}
	p, _ := c.Plan(d.ID)
	return p
}
