package lvdash

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlay/inlay/internal/dashboard"
)

// exportWidgets counts the widgets of an export (every page, filters included).
func exportWidgets(t *testing.T, data []byte) int {
	t.Helper()
	var ex export
	if err := json.Unmarshal(data, &ex); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range ex.Pages {
		n += len(p.Layout)
	}
	return n
}

// TestFixturesConvertAndPassCheck converts real public exports (testdata/README.md names their
// sources): each result passes the dashboard check, and every widget of the export is either
// converted (to a widget or a filter) or listed, with its name and a reason.
func TestFixturesConvertAndPassCheck(t *testing.T) {
	tests := []struct {
		file    string
		widgets map[string]int // converted widgets by type, at least
		filters map[string]int // converted filters by type, at least
		notes   []string       // fragments the notes must contain
	}{
		{"jobs_monitor.lvdash.json",
			map[string]int{"counter": 4, "bar": 2, "line": 1, "pie": 1, "table": 3},
			map[string]int{"multi_select": 2},
			[]string{`widget "titulo" (page "Visão Geral"): its heading "Monitor de Jobs Databricks" is the dashboard's title`,
				`widget "subtitulo" (page "Visão Geral"): text boxes`, "canvas pages are stacked"}},
		{"nyc_taxi_trip_analysis.lvdash.json",
			map[string]int{"counter": 1, "bar": 2, "table": 1},
			map[string]int{"date_range": 1, "multi_select": 2},
			[]string{`widget "Daily Fare Trends by Day of Week" (page "Summary"): scatter widgets have no Inlay equivalent`,
				`"Number Trips" as number_trips`}},
		{"engine_failure_analytics.lvdash.json",
			map[string]int{"bar": 2, "pie": 5},
			nil,
			[]string{"histogram widgets have no Inlay equivalent", "heatmap widgets have no Inlay equivalent", "box widgets have no Inlay equivalent",
				"default catalog"}},
		{"system_sync.lvdash.json",
			map[string]int{"bar": 30, "pivot": 3, "table": 1},
			map[string]int{"single_select": 10},
			[]string{"query parameters", "combo widgets have no Inlay equivalent"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			id := strings.ReplaceAll(strings.TrimSuffix(tt.file, ".lvdash.json"), "_", "-")
			r, err := Convert(data, Options{ID: id})
			if err != nil {
				t.Fatal(err)
			}
			out, err := r.YAML(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), id+".yaml")
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			d, problems := dashboard.Parse(path, out)
			for _, p := range problems {
				t.Errorf("check: %s", p)
			}
			if d == nil {
				t.Fatal("no dashboard parsed")
			}

			got := map[string]int{}
			for _, w := range d.Widgets {
				got[w.Type]++
			}
			for typ, n := range tt.widgets {
				if got[typ] < n {
					t.Errorf("%d %s widgets converted, want at least %d (all: %v)", got[typ], typ, n, got)
				}
			}
			gotF := map[string]int{}
			for _, f := range d.Filters {
				gotF[f.Type]++
			}
			for typ, n := range tt.filters {
				if gotF[typ] < n {
					t.Errorf("%d %s filters converted, want at least %d (all: %v)", gotF[typ], typ, n, gotF)
				}
			}

			dropped := 0
			var notes []string
			for _, n := range r.Notes {
				notes = append(notes, n.String())
				if n.Dropped {
					dropped++
					if n.Widget == "" || n.Reason == "" {
						t.Errorf("a dropped item without its widget or reason: %+v", n)
					}
				}
			}
			all := strings.Join(notes, "\n")
			for _, frag := range tt.notes {
				if !strings.Contains(all, frag) {
					t.Errorf("no note says %q; notes:\n%s", frag, all)
				}
			}
			if total := exportWidgets(t, data); len(d.Widgets)+len(d.Filters)+dropped != total {
				t.Errorf("%d widgets + %d filters + %d dropped != %d widgets in the export", len(d.Widgets), len(d.Filters), dropped, total)
			}
			// The file lists what was not converted, for the author.
			if dropped > 0 && !strings.Contains(string(out), "# Not converted or changed:") {
				t.Error("the YAML does not list what was not converted")
			}
		})
	}
}

// TestExternalValueKept: a dataset filtered by the embedding viewer's value keeps
// __aibi_external_value as it is, so the converted dashboard filters rows the same way.
func TestExternalValueKept(t *testing.T) {
	export := `{
  "datasets": [{"name": "d1", "displayName": "Orders", "queryLines": ["SELECT * FROM orders\n", "WHERE tenant = __aibi_external_value"]}],
  "pages": [{"name": "p", "displayName": "Main", "pageType": "PAGE_TYPE_CANVAS", "layout": [
    {"widget": {"name": "w1", "queries": [{"name": "main_query", "query": {"datasetName": "d1",
       "fields": [{"name": "sum(amount)", "expression": "SUM(` + "`amount`" + `)"}], "disaggregated": false}}],
       "spec": {"version": 2, "widgetType": "counter", "encodings": {"value": {"fieldName": "sum(amount)", "displayName": "Revenue"}},
                "frame": {"title": "Revenue", "showTitle": true}}},
     "position": {"x": 0, "y": 0, "width": 2, "height": 3}},
    {"widget": {"name": "w2", "queries": [{"name": "main_query", "query": {"datasetName": "d1",
       "fields": [{"name": "monthly(ts)", "expression": "DATE_TRUNC(\"MONTH\", ` + "`ts`" + `)"},
                  {"name": "count(*)", "expression": "COUNT(` + "`*`" + `)"},
                  {"name": "region", "expression": "` + "`region`" + `"}], "disaggregated": false}}],
       "spec": {"version": 3, "widgetType": "bar", "encodings": {
          "x": {"fieldName": "monthly(ts)", "scale": {"type": "temporal"}},
          "y": {"fieldName": "count(*)", "scale": {"type": "quantitative"}, "displayName": "Orders"},
          "color": {"fieldName": "region", "scale": {"type": "categorical"}}}}},
     "position": {"x": 2, "y": 0, "width": 4, "height": 6}}]}]}`
	r, err := Convert([]byte(export), Options{ID: "orders", Title: "Orders", Source: "warehouse"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.YAML("orders.lvdash.json")
	if err != nil {
		t.Fatal(err)
	}
	d, problems := dashboard.Parse("orders.yaml", out)
	if len(problems) > 0 {
		t.Fatalf("problems: %v\n%s", problems, out)
	}
	if got := d.Datasets[0].SQL; got != "SELECT * FROM orders\nWHERE tenant = __aibi_external_value" {
		t.Errorf("dataset SQL = %q", got)
	}
	if got := d.Datasets[0].Source; got != "warehouse" {
		t.Errorf("dataset source = %q, want warehouse", got)
	}
	w := d.Widgets[1]
	if w.X.Expr != "month(ts)" || w.Y[0].Expr != "count(*)" || w.Y[0].Label != "Orders" || w.Series.Expr != "region" {
		t.Errorf("bar = x %v y %v series %v", w.X, w.Y, w.Series)
	}
	// The 6-column grid is scaled to Inlay's 12 columns.
	if w.Layout != (dashboard.Layout{X: 4, Y: 0, W: 8, H: 6}) {
		t.Errorf("layout = %+v", w.Layout)
	}
	if len(r.Notes) != 0 {
		t.Errorf("notes = %v", r.Notes)
	}
}

func TestConvertField(t *testing.T) {
	c := &converter{}
	ds := &dsInfo{name: "d", renamed: map[string]string{}}
	tests := []struct {
		expr string
		want need
		out  string // "" means an error
	}{
		{"`region`", dimension, "region"},
		{"`amount`", aggregate, "sum(amount)"},
		{"SUM(`amount`)", aggregate, "sum(amount)"},
		{"avg(`amount`)", aggregate, "avg(amount)"},
		{"COUNT(`*`)", aggregate, "count(*)"},
		{"COUNT(*)", aggregate, "count(*)"},
		{"COUNT(DISTINCT `customer`)", aggregate, "count(distinct customer)"},
		{`DATE_TRUNC("MONTH", ` + "`ts`)", dimension, "month(ts)"},
		{`DATE_TRUNC("WEEK", ` + "`ts`)", anyExpr, "week(ts)"},
		{`DATE_TRUNC("MINUTE", ` + "`ts`)", dimension, ""},
		{"SUM(`amount`)", dimension, ""},
		{"MEDIAN(`amount`)", aggregate, ""},
		{"MEASURE(`Total Revenue`)", aggregate, ""},
		{"BIN_FLOOR(`x`, 10)", dimension, ""},
		{"`Total Revenue`", aggregate, "sum(total_revenue)"},
	}
	for _, tt := range tests {
		f, err := c.convertField(ds, tt.expr, tt.want)
		switch {
		case tt.out == "" && err == nil:
			t.Errorf("%s: converted to %q, want an error", tt.expr, f.Expr)
		case tt.out != "" && (err != nil || f.Expr != tt.out):
			t.Errorf("%s: %q, %v; want %q", tt.expr, f.Expr, err, tt.out)
		}
	}
}

func TestNotAnExport(t *testing.T) {
	for _, in := range []string{`[]`, `{}`, `not json`} {
		if _, err := Convert([]byte(in), Options{ID: "x", Title: "x"}); err == nil {
			t.Errorf("Convert(%s) accepted it", in)
		}
	}
}

func TestUniqueIdent(t *testing.T) {
	used := map[string]bool{}
	for _, c := range []struct{ in, want string }{
		{"Total de Execuções", "total_de_execucoes"},
		{"Total de Execuções", "total_de_execucoes_2"},
		{"Number Trips", "number_trips"},
		{"2024 revenue", "widget_2024_revenue"},
		{"???", "widget"},
	} {
		if got := uniqueIdent(c.in, "widget", used); got != c.want {
			t.Errorf("uniqueIdent(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
