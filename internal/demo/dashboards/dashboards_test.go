package dashboards_test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/demo/dashboards"
)

func load(t *testing.T) []*dashboard.Dashboard {
	t.Helper()
	ds, problems := dashboard.LoadFS(dashboards.FS, ".")
	for _, p := range problems {
		t.Error(p)
	}
	if len(ds) < 2 {
		t.Fatalf("loaded %d sample dashboards, want at least 2", len(ds))
	}
	return ds
}

func TestSamplesAreValid(t *testing.T) {
	load(t)
}

// TestSamplesCoverTheFormat: together the samples show every widget and filter type, both
// kinds of row-level security, and the sales dashboard the demo embeds is keyed on the viewer's
// external value.
func TestSamplesCoverTheFormat(t *testing.T) {
	widgetTypes, filterTypes, operators := map[string]bool{}, map[string]bool{}, map[string]bool{}
	var sales *dashboard.Dashboard
	for _, d := range load(t) {
		if d.ID == "sales" {
			sales = d
		}
		for _, w := range d.Widgets {
			widgetTypes[w.Type] = true
		}
		for _, f := range d.Filters {
			filterTypes[f.Type] = true
		}
		for _, ds := range d.Datasets {
			for _, r := range ds.RLS {
				operators[r.Operator] = true
			}
		}
	}
	for _, typ := range dashboard.WidgetTypes {
		if !widgetTypes[typ] {
			t.Errorf("no sample dashboard has a %s widget", typ)
		}
	}
	for _, typ := range dashboard.FilterTypes {
		if !filterTypes[typ] {
			t.Errorf("no sample dashboard has a %s filter", typ)
		}
	}
	if !operators[dashboard.OperatorEq] || !operators[dashboard.OperatorIn] {
		t.Errorf("sample rls operators %v, want eq and in", operators)
	}
	if sales == nil {
		t.Fatal("no sample dashboard with id sales (the one the demo embeds)")
	}
	if !strings.Contains(sales.Datasets[0].SQL, "__aibi_external_value") {
		t.Errorf("sales dataset does not use __aibi_external_value: %q", sales.Datasets[0].SQL)
	}
}

// TestSamplesMatchTheDemoTable runs each sample dataset against the demo table's schema in
// DuckDB and checks that every column a widget, filter or rule names exists with a fitting type
// (the validator cannot know the columns; a typo here would only show in the running demo).
func TestSamplesMatchTheDemoTable(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE sales(id BIGINT, ts TIMESTAMP, region VARCHAR,
		department VARCHAR, product VARCHAR, customer VARCHAR, amount DECIMAL(12,2))`); err != nil {
		t.Fatal(err)
	}
	for _, d := range load(t) {
		for _, ds := range d.Datasets {
			// The demo table has no other viewer-dependent parts: binding the external value as
			// a parameter is enough to describe the result.
			q := "SELECT * FROM (" + strings.ReplaceAll(ds.SQL, "__aibi_external_value", "?") + "\n) AS ds LIMIT 0"
			var args []any
			if strings.Contains(ds.SQL, "__aibi_external_value") {
				args = append(args, "Sales")
			}
			rows, err := db.QueryContext(t.Context(), q, args...)
			if err != nil {
				t.Errorf("%s dataset %s: %v", d.ID, ds.Name, err)
				continue
			}
			cts, err := rows.ColumnTypes()
			rows.Close()
			if err != nil {
				t.Fatal(err)
			}
			types := map[string]string{}
			for _, ct := range cts {
				types[ct.Name()] = ct.DatabaseTypeName()
			}
			has := func(where, col string, kinds ...string) {
				t.Helper()
				typ, ok := types[col]
				if !ok {
					t.Errorf("%s: %s: column %q is not in dataset %s", d.ID, where, col, ds.Name)
				} else if len(kinds) > 0 && !slices.ContainsFunc(kinds, func(k string) bool { return strings.HasPrefix(typ, k) }) {
					t.Errorf("%s: %s: column %q is %s, want one of %v", d.ID, where, col, typ, kinds)
				}
			}
			numeric := []string{"DECIMAL", "BIGINT", "INTEGER", "DOUBLE", "FLOAT"}
			for _, r := range ds.RLS {
				has("rls", r.Column, "VARCHAR")
			}
			for _, f := range d.Filters {
				for _, target := range f.Targets {
					if target.Dataset != ds.Name {
						continue
					}
					switch f.Type {
					case dashboard.FilterDateRange:
						has("filter "+f.Name, target.Column, "TIMESTAMP", "DATE")
					case dashboard.FilterNumericRange:
						has("filter "+f.Name, target.Column, numeric...)
					default:
						has("filter "+f.Name, target.Column)
					}
				}
			}
			for i := range d.Widgets {
				w := &d.Widgets[i]
				if w.Dataset != ds.Name {
					continue
				}
				for _, f := range w.Fields() {
					e, err := dashboard.ParseExpr(f.Expr)
					if err != nil || e.Column == "" {
						continue
					}
					switch {
					case e.Kind == dashboard.ExprBucket:
						has("widget "+w.Name, e.Column, "TIMESTAMP", "DATE")
					case e.Func == "sum" || e.Func == "avg":
						has("widget "+w.Name, e.Column, numeric...)
					default:
						has("widget "+w.Name, e.Column)
					}
				}
			}
		}
	}
}
