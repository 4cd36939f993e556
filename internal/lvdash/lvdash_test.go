package lvdash

import (
	"encoding/json"
	"maps"
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

// TestFixturesConvertAndPassCheck converts the exports in testdata (testdata/README.md says where
// each comes from): each result passes the dashboard check, every widget of the export is either
// converted (to a widget or a filter) or listed with its name and a reason, and named widgets and
// filters come out as the export means them.
func TestFixturesConvertAndPassCheck(t *testing.T) {
	tests := []struct {
		file    string
		widgets map[string]int // converted widgets by type, exactly
		filters map[string]int // converted filters by type, exactly
		notes   []string       // fragments the notes must contain
		check   func(t *testing.T, d *dashboard.Dashboard)
	}{
		{"synthetic_sales_overview.lvdash.json",
			map[string]int{"counter": 3, "bar": 1, "line": 1, "pie": 1, "table": 1, "text": 1},
			map[string]int{"single_select": 1, "multi_select": 1, "date_range": 1},
			[]string{`filters of a canvas page now apply to every page`,
				`widget "5d2e8a11" (page "Overview"): its heading "Sales overview" is the dashboard's title`,
				`widget "Amount against units" (page "Overview"): scatter widgets have no Inlay equivalent`,
				`widget "Refunds" (page "Overview"): column ` + "`refund`" + ` is shown as sum(refund)`,
				`dataset "orders": columns renamed to plain identifiers: "Unit Count" as unit_count`},
			func(t *testing.T, d *dashboard.Dashboard) {
				if d.Title != "Sales overview" {
					t.Errorf("title = %q", d.Title)
				}
				// The two canvas pages are Inlay pages; the global filters page is not a page.
				var pages []string
				for _, p := range d.Pages {
					pages = append(pages, p.Name+"|"+p.Title)
				}
				if got := strings.Join(pages, ","); got != "overview|Overview,order_details|Order details" {
					t.Errorf("pages = %s", got)
				}
				// The second page's text box is a text tile with its Markdown lines joined.
				var text *dashboard.Widget
				for i := range d.Widgets {
					if d.Widgets[i].Type == dashboard.WidgetText {
						text = &d.Widgets[i]
					}
				}
				if text == nil || text.Name != "order_details" || text.Page != "order_details" ||
					text.Content != "## Order details\n\nOrders of the **last 90 days**; refunds are on the *Overview* page." ||
					text.Layout != (dashboard.Layout{X: 0, Y: 0, W: 12, H: 2}) {
					t.Errorf("text widget = %+v", text)
				}
				// Each page has its own grid: the table keeps its place on its page, not
				// stacked under the first page.
				if table := widgetTitled(t, d, "Recent orders"); table.Page != "order_details" || table.Layout != (dashboard.Layout{X: 0, Y: 2, W: 12, H: 6}) {
					t.Errorf("table page %q layout %+v", table.Page, table.Layout)
				}
				if w := widgetTitled(t, d, "Revenue"); w.Page != "overview" {
					t.Errorf("Revenue is on page %q", w.Page)
				}
				wantField(t, widgetTitled(t, d, "Revenue").Value, "sum(amount)", "Revenue")
				wantField(t, widgetTitled(t, d, "Customers").Value, "count(distinct customer_id)", "Customers")
				wantField(t, widgetTitled(t, d, "Refunds").Value, "sum(refund)", "")
				bar := widgetTitled(t, d, "Revenue by region")
				wantField(t, bar.X, "region", "Region")
				wantField(t, bar.Series, "channel", "Channel")
				if len(bar.Y) != 1 || bar.Y[0].Expr != "sum(amount)" || bar.Horizontal {
					t.Errorf("bar y = %+v, horizontal %v", bar.Y, bar.Horizontal)
				}
				// The 6-column grid is doubled to Inlay's 12 columns.
				if bar.Layout != (dashboard.Layout{X: 0, Y: 4, W: 6, H: 6}) {
					t.Errorf("bar layout = %+v", bar.Layout)
				}
				line := widgetTitled(t, d, "Monthly revenue and units")
				wantField(t, line.X, "month(order_date)", "Month")
				if len(line.Y) != 2 || line.Y[0].Expr != "sum(amount)" || line.Y[1].Expr != "sum(unit_count)" || line.Y[1].Label != "Units" {
					t.Errorf("line y = %+v", line.Y)
				}
				pie := widgetTitled(t, d, "Refunds by reason")
				wantField(t, pie.Label, "reason", "Reason")
				wantField(t, pie.Value, "sum(refund)", "Refunds")
				table := widgetTitled(t, d, "Recent orders")
				var cols []string
				for _, c := range table.Columns {
					cols = append(cols, c.Expr+"|"+c.Label)
				}
				// Column headers come from the title when displayName only repeats the field name.
				if got := strings.Join(cols, ","); got != "order_id|Order,order_date|Date,region|,unit_count|,amount|Amount" {
					t.Errorf("table columns = %s", got)
				}
				if !strings.HasPrefix(d.Datasets[0].SQL, `SELECT *, "Unit Count" AS unit_count FROM (`) {
					t.Errorf("orders SQL = %q", d.Datasets[0].SQL)
				}
				wantTargets(t, filterTitled(t, d, "Region"), "multi_select", "orders.region", "returns.region")
				wantTargets(t, filterTitled(t, d, "Order date"), "date_range", "orders.order_date")
				wantTargets(t, filterTitled(t, d, "Channel"), "single_select", "orders.channel")
			}},
		{"synthetic_metric_view_finance.lvdash.json",
			map[string]int{"counter": 1, "area": 1, "pivot": 1},
			nil,
			[]string{`dataset "Financial rollup": left out: it reads metric view finance.gl.mv_financial_rollup`,
				`widget "Total actual" (page "Finance"): its query reads dataset "Financial rollup", a metric view Inlay cannot query`,
				`widget "Actual by business unit" (page "Finance"): its query reads dataset "Financial rollup"`,
				`widget "Fiscal quarter" (page "Finance"): it filters dataset "Financial rollup", a metric view Inlay cannot query`,
				`widget "Fiscal year" (page "Finance"): it sets query parameters, which Inlay does not have`,
				"expression MEDIAN(`actual`) is not one Inlay has",
				`dataset "budget_lines": the SQL uses query parameters`,
				`default catalog "finance" and schema "gl"`},
			func(t *testing.T, d *dashboard.Dashboard) {
				// The metric view has no SQL: it is left out rather than written as an empty
				// dataset that fails the check.
				if len(d.Datasets) != 1 || d.Datasets[0].Name != "budget_lines" {
					t.Errorf("datasets = %+v", d.Datasets)
				}
				wantField(t, widgetTitled(t, d, "Total budget").Value, "sum(budget)", "Budget")
				area := widgetTitled(t, d, "Budget and actual by quarter")
				wantField(t, area.X, "quarter(period_start)", "Quarter")
				if len(area.Y) != 2 || area.Y[1].Expr != "sum(actual)" {
					t.Errorf("area y = %+v", area.Y)
				}
				// A 12-column export keeps its positions.
				if area.Layout != (dashboard.Layout{X: 6, Y: 2, W: 6, H: 6}) {
					t.Errorf("area layout = %+v", area.Layout)
				}
				pv := widgetTitled(t, d, "Actual by cost center and account group")
				if len(pv.Rows) != 1 || pv.Rows[0].Expr != "cost_center" || len(pv.PivotColumns) != 1 || pv.PivotColumns[0].Expr != "account_group" ||
					len(pv.Values) != 1 || pv.Values[0].Expr != "sum(actual)" {
					t.Errorf("pivot = rows %+v columns %+v values %+v", pv.Rows, pv.PivotColumns, pv.Values)
				}
			}},
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
			if !maps.Equal(got, tt.widgets) {
				t.Errorf("converted widgets by type = %v, want %v", got, tt.widgets)
			}
			gotF := map[string]int{}
			for _, f := range d.Filters {
				gotF[f.Type]++
			}
			if len(gotF)+len(tt.filters) > 0 && !maps.Equal(gotF, tt.filters) {
				t.Errorf("converted filters by type = %v, want %v", gotF, tt.filters)
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
			tt.check(t, d)
		})
	}
}

func widgetTitled(t *testing.T, d *dashboard.Dashboard, title string) dashboard.Widget {
	t.Helper()
	for _, w := range d.Widgets {
		if w.Title == title {
			return w
		}
	}
	t.Fatalf("no widget titled %q", title)
	return dashboard.Widget{}
}

func filterTitled(t *testing.T, d *dashboard.Dashboard, title string) dashboard.Filter {
	t.Helper()
	for _, f := range d.Filters {
		if f.Title == title {
			return f
		}
	}
	t.Fatalf("no filter titled %q", title)
	return dashboard.Filter{}
}

func wantField(t *testing.T, f *dashboard.Field, expr, label string) {
	t.Helper()
	if f == nil || f.Expr != expr || f.Label != label {
		t.Errorf("field = %+v, want %s labelled %q", f, expr, label)
	}
}

func wantTargets(t *testing.T, f dashboard.Filter, typ string, targets ...string) {
	t.Helper()
	var got []string
	for _, tg := range f.Targets {
		got = append(got, tg.Dataset+"."+tg.Column)
	}
	if f.Type != typ || strings.Join(got, ",") != strings.Join(targets, ",") {
		t.Errorf("filter %q = %s on %v, want %s on %v", f.Title, f.Type, got, typ, targets)
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

// TestTextBoxes: with --title given, the heading box is a text tile too; a single canvas page
// makes no pages; an empty text box is listed as dropped.
func TestTextBoxes(t *testing.T) {
	export := `{
  "datasets": [{"name": "d1", "query": "SELECT 1 AS amount"}],
  "pages": [{"name": "p", "displayName": "Main", "pageType": "PAGE_TYPE_CANVAS", "layout": [
    {"widget": {"name": "h", "multilineTextboxSpec": {"lines": ["# Sales\n"]}}, "position": {"x": 0, "y": 0, "width": 6, "height": 1}},
    {"widget": {"name": "e", "multilineTextboxSpec": {"lines": ["  \n"]}}, "position": {"x": 0, "y": 1, "width": 6, "height": 1}},
    {"widget": {"name": "n", "textbox_spec": "Figures are **net** of refunds."}, "position": {"x": 0, "y": 2, "width": 3, "height": 2}}]}]}`
	r, err := Convert([]byte(export), Options{ID: "sales", Title: "Sales 2026"})
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.YAML("sales.lvdash.json")
	if err != nil {
		t.Fatal(err)
	}
	d, problems := dashboard.Parse("sales.yaml", out)
	if len(problems) > 0 {
		t.Fatalf("problems: %v\n%s", problems, out)
	}
	if d.Title != "Sales 2026" || len(d.Pages) != 0 {
		t.Errorf("title %q, pages %+v", d.Title, d.Pages)
	}
	var got []string
	for _, w := range d.Widgets {
		got = append(got, w.Name+"|"+w.Type+"|"+w.Content+"|"+w.Page)
	}
	if s := strings.Join(got, ","); s != "sales|text|# Sales|,text|text|Figures are **net** of refunds.|" {
		t.Errorf("widgets = %s", s)
	}
	if len(r.Notes) != 1 || !r.Notes[0].Dropped || r.Notes[0].Widget != "e" {
		t.Errorf("notes = %+v", r.Notes)
	}
}
