package compile

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/rls"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// dollarDialect spells parameters $n like PostgreSQL, so the golden files show that markers are
// numbered in argument order.
type dollarDialect struct{}

func (dollarDialect) Name() string               { return "pgstyle" }
func (dollarDialect) Placeholder(n int) string   { return "$" + strconv.Itoa(n) }
func (dollarDialect) QuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
func (dollarDialect) TimeBucket(g datasource.Grain, expr string) string {
	return "date_trunc('" + string(g) + "', " + expr + ")"
}

func str(s string) *string { return &s }

func fld(expr string) *dashboard.Field { return &dashboard.Field{Expr: expr} }

func flds(exprs ...string) []dashboard.Field {
	out := make([]dashboard.Field, len(exprs))
	for i, e := range exprs {
		out[i] = dashboard.Field{Expr: e}
	}
	return out
}

// testDashboard has one dataset per RLS style and one widget of every type.
func testDashboard() *dashboard.Dashboard {
	return &dashboard.Dashboard{
		ID: "sales",
		Datasets: []dashboard.Dataset{
			// Rows of the viewer's department, through the external value.
			{Name: "dept", SQL: "SELECT * FROM sales WHERE department = __aibi_external_value -- viewer's rows\n;"},
			// Rows of the viewer's region, through a structured rule.
			{Name: "by_region", Source: "warehouse", SQL: "SELECT * FROM sales", RLS: []dashboard.RLSRule{{Column: "region", Attribute: "region"}}},
			// Rows of the viewer's products, through an "in" rule.
			{Name: "by_product", SQL: "SELECT * FROM sales", RLS: []dashboard.RLSRule{{Column: "product", Attribute: "products", Operator: "in"}}},
			{Name: "all", SQL: "SELECT * FROM sales"},
		},
		Filters: []dashboard.Filter{
			{Name: "region", Type: dashboard.FilterMultiSelect, Targets: []dashboard.FilterTarget{{Dataset: "dept", Column: "region"}, {Dataset: "all", Column: "region"}}},
			{Name: "product", Type: dashboard.FilterSingleSelect, Targets: []dashboard.FilterTarget{{Dataset: "dept", Column: "product"}}},
			{Name: "period", Type: dashboard.FilterDateRange, Targets: []dashboard.FilterTarget{{Dataset: "dept", Column: "ts"}}},
			{Name: "amount", Type: dashboard.FilterNumericRange, Targets: []dashboard.FilterTarget{{Dataset: "dept", Column: "amount"}}},
		},
		Widgets: []dashboard.Widget{
			{Name: "revenue", Type: dashboard.WidgetCounter, Dataset: "dept", Value: fld("sum(amount)")},
			{Name: "orders", Type: dashboard.WidgetCounter, Dataset: "dept", Value: fld("count(*)")},
			{Name: "by_region_bar", Type: dashboard.WidgetBar, Dataset: "dept", X: fld("region"), Y: flds("sum(amount)", "count(*)")},
			{Name: "by_month", Type: dashboard.WidgetLine, Dataset: "dept", X: fld("month(ts)"), Y: flds("sum(amount)"), Series: fld("region")},
			{Name: "area_month", Type: dashboard.WidgetArea, Dataset: "dept", X: fld("month(ts)"), Y: flds("count(distinct product)")},
			{Name: "share", Type: dashboard.WidgetPie, Dataset: "dept", Label: fld("product"), Value: fld("sum(amount)")},
			{Name: "raw", Type: dashboard.WidgetTable, Dataset: "dept", Columns: flds("region", "product", "amount"), Sort: []dashboard.Sort{{Field: "amount", Desc: true}}, Limit: 2},
			{Name: "summary", Type: dashboard.WidgetTable, Dataset: "dept", Columns: flds("region", "sum(amount)", "max(amount)")},
			{Name: "pivot", Type: dashboard.WidgetPivot, Dataset: "dept", Rows: flds("region"), PivotColumns: flds("product"), Values: flds("sum(amount)")},
			{Name: "region_count", Type: dashboard.WidgetCounter, Dataset: "by_region", Value: fld("count(*)")},
			{Name: "product_count", Type: dashboard.WidgetCounter, Dataset: "by_product", Value: fld("count(*)")},
			{Name: "all_by_region", Type: dashboard.WidgetBar, Dataset: "all", X: fld("region"), Y: flds("sum(amount)"), Sort: []dashboard.Sort{{Field: "region"}}},
		},
	}
}

// testViewer can read every dataset of testDashboard.
func testViewer() rls.Viewer {
	return rls.Viewer{ID: "alice", ExternalValue: str("Sales"), Attributes: map[string][]string{
		"region": {"East"}, "products": {"A", "B"},
	}}
}

func testFilters(t *testing.T, d *dashboard.Dashboard) FilterValues {
	t.Helper()
	f, err := ParseFilters(d, map[string]json.RawMessage{
		"region": json.RawMessage(`["East","West"]`),
		"period": json.RawMessage(`{"from":"2024-01-01","to":"2024-02-29"}`),
		"amount": json.RawMessage(`{"min":5}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestGolden pins the SQL of every widget type, filter options and the RLS wrappers in both
// parameter styles. Refresh with: go test ./internal/compile -run TestGolden -update
func TestGolden(t *testing.T) {
	d := testDashboard()
	dialects := []datasource.Dialect{duckdb.Dialect{}, dollarDialect{}}
	for _, dia := range dialects {
		for _, w := range d.Widgets {
			for _, withFilters := range []bool{false, true} {
				name := w.Name + "." + dia.Name()
				f := FilterValues(nil)
				if withFilters {
					name += ".filtered"
					f = testFilters(t, d)
				}
				t.Run(name, func(t *testing.T) {
					q, err := Widget(d, w.Name, dia, testViewer(), f, Options{MaxRows: 1000})
					if err != nil {
						t.Fatal(err)
					}
					checkGolden(t, name, q)
					// The plan compiled once for the whole dashboard binds the same statement.
					wp, err := NewPlan(d, func(string) (datasource.Dialect, error) { return dia, nil }).Widget(w.Name)
					if err != nil {
						t.Fatal(err)
					}
					pq, err := wp.Bind(testViewer(), f, 1000)
					if err != nil {
						t.Fatal(err)
					}
					checkGolden(t, name, pq)
				})
			}
		}
		name := "counters_revenue_orders." + dia.Name()
		t.Run(name, func(t *testing.T) {
			q, err := Counters(d, []string{"revenue", "orders"}, dia, testViewer(), testFilters(t, d))
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(q.Widgets, q.Keys); got != "[revenue orders] [sum_amount count]" {
				t.Errorf("widgets and keys %s", got)
			}
			checkGolden(t, name, q.Query)
		})
		for _, flt := range d.Filters {
			name := "filter_" + flt.Name + "." + dia.Name()
			t.Run(name, func(t *testing.T) {
				q, err := FilterOptions(d, flt.Name, dia, testViewer(), Options{MaxRows: 10000})
				if err != nil {
					t.Fatal(err)
				}
				checkGolden(t, name, q)
			})
		}
	}
}

func checkGolden(t *testing.T, name string, q Query) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "-- source: %s\n%s\n-- args:\n", q.Source, q.SQL)
	for i, a := range q.Args {
		fmt.Fprintf(&b, "-- %d: %T %v\n", i+1, a, a)
	}
	got := b.String()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("SQL differs from %s (run with -update if intended):\ngot:\n%s\nwant:\n%s", path, got, want)
	}
	// Markers and arguments must agree: one argument per marker.
	if dollar := strings.Count(q.SQL, "$"); dollar > 0 && dollar != len(q.Args) {
		t.Errorf("%d $ markers for %d args", dollar, len(q.Args))
	}
	if qm := strings.Count(q.SQL, "?"); qm > 0 && qm != len(q.Args) {
		t.Errorf("%d ? markers for %d args", qm, len(q.Args))
	}
}

func TestLimit(t *testing.T) {
	d := testDashboard()
	tests := []struct {
		widget  string
		maxRows int
		want    string
	}{
		{"raw", 1000, " LIMIT 2"}, // the widget's own limit
		{"raw", 1, " LIMIT 2"},    // capped: cap+1 so truncation shows
		{"summary", 50, " LIMIT 51"},
		{"summary", 0, ""},
	}
	for _, tt := range tests {
		q, err := Widget(d, tt.widget, duckdb.Dialect{}, testViewer(), nil, Options{MaxRows: tt.maxRows})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if i := strings.Index(q.SQL, " LIMIT"); i >= 0 {
			got = q.SQL[i:]
		}
		if got != tt.want {
			t.Errorf("%s with MaxRows %d: limit %q, want %q", tt.widget, tt.maxRows, got, tt.want)
		}
	}
}

func TestErrors(t *testing.T) {
	d := testDashboard()
	noValue := testViewer()
	noValue.ExternalValue = nil
	emptyValue := testViewer()
	empty := ""
	emptyValue.ExternalValue = &empty
	noRegion := testViewer()
	delete(noRegion.Attributes, "region")
	twoRegions := testViewer()
	twoRegions.Attributes["region"] = []string{"East", "West"}

	tests := []struct {
		name   string
		widget string
		v      rls.Viewer
		want   error
		attr   string
	}{
		{"unknown widget", "nope", testViewer(), ErrUnknownWidget, ""},
		{"external value missing", "revenue", noValue, ErrRLSValueMissing, "external_value"},
		{"external value empty", "revenue", emptyValue, ErrRLSValueMissing, "external_value"},
		{"attribute missing", "region_count", noRegion, ErrRLSValueMissing, "region"},
		{"eq with two values", "region_count", twoRegions, ErrRLSValueMissing, "region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Widget(d, tt.widget, duckdb.Dialect{}, tt.v, nil, Options{})
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var re *RLSError
			if tt.attr != "" && (!errors.As(err, &re) || re.Attribute != tt.attr) {
				t.Errorf("err = %#v, want RLSError for %q", err, tt.attr)
			}
		})
	}
	// Filter options fail closed the same way.
	if _, err := FilterOptions(d, "region", duckdb.Dialect{}, noValue, Options{}); !errors.Is(err, ErrRLSValueMissing) {
		t.Errorf("filter options without external value: %v", err)
	}
	// So do shared counters, and they refuse what is not a set of counters over one dataset.
	if _, err := Counters(d, []string{"revenue", "orders"}, duckdb.Dialect{}, noValue, nil); !errors.Is(err, ErrRLSValueMissing) {
		t.Errorf("counters without external value: %v", err)
	}
	for _, names := range [][]string{{"revenue", "region_count"}, {"revenue", "share"}, {"revenue", "nope"}, nil} {
		if _, err := Counters(d, names, duckdb.Dialect{}, testViewer(), nil); err == nil {
			t.Errorf("Counters(%v) compiled", names)
		}
	}

	bad := testDashboard()
	bad.Widgets = []dashboard.Widget{
		{Name: "agg_x", Type: dashboard.WidgetBar, Dataset: "all", X: fld("sum(amount)"), Y: flds("count(*)")},
		{Name: "plain_value", Type: dashboard.WidgetCounter, Dataset: "all", Value: fld("amount")},
		{Name: "no_dataset", Type: dashboard.WidgetCounter, Dataset: "nope", Value: fld("count(*)")},
		{Name: "bad_sort", Type: dashboard.WidgetPie, Dataset: "all", Label: fld("region"), Value: fld("count(*)"), Sort: []dashboard.Sort{{Field: "amount"}}},
	}
	bad.Datasets = append(bad.Datasets, dashboard.Dataset{Name: "two", SQL: "SELECT 1; SELECT 2"})
	bad.Widgets = append(bad.Widgets, dashboard.Widget{Name: "two_statements", Type: dashboard.WidgetCounter, Dataset: "two", Value: fld("count(*)")})
	for _, w := range bad.Widgets {
		if _, err := Widget(bad, w.Name, duckdb.Dialect{}, testViewer(), nil, Options{}); !errors.Is(err, ErrDefinition) {
			t.Errorf("widget %s: err = %v, want ErrDefinition", w.Name, err)
		}
	}
}

func TestParseFilters(t *testing.T) {
	d := testDashboard()
	tests := []struct {
		name string
		raw  map[string]string
		want error
	}{
		{"valid", map[string]string{"region": `["East"]`, "product": `"A"`, "period": `{"from":"2024-01-01T00:00:00Z"}`, "amount": `{"min":1,"max":2}`}, nil},
		{"nulls and empty list do not restrict", map[string]string{"region": `[]`, "product": `null`}, nil},
		{"unknown filter", map[string]string{"nope": `"x"`}, ErrUnknownFilter},
		{"multi takes a list", map[string]string{"region": `"East"`}, ErrInvalidFilter},
		{"multi of objects", map[string]string{"region": `[{"a":1}]`}, ErrInvalidFilter},
		{"single takes a string", map[string]string{"product": `["A"]`}, ErrInvalidFilter},
		{"NUL byte", map[string]string{"product": `"A\u0000B"`}, ErrInvalidFilter},
		{"bad date", map[string]string{"period": `{"from":"yesterday"}`}, ErrInvalidFilter},
		{"from after to", map[string]string{"period": `{"from":"2024-02-01","to":"2024-01-01"}`}, ErrInvalidFilter},
		{"unknown range key", map[string]string{"period": `{"start":"2024-02-01"}`}, ErrInvalidFilter},
		{"numeric as string", map[string]string{"amount": `{"min":"1"}`}, ErrInvalidFilter},
		{"min above max", map[string]string{"amount": `{"min":3,"max":2}`}, ErrInvalidFilter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := map[string]json.RawMessage{}
			for k, v := range tt.raw {
				raw[k] = json.RawMessage(v)
			}
			f, err := ParseFilters(d, raw)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if tt.want == nil && tt.name == "nulls and empty list do not restrict" && len(f) != 0 {
				t.Errorf("got restrictions %v", f)
			}
			var fe *FilterError
			if errors.As(err, &fe) && fe.Filter == "" {
				t.Errorf("FilterError without a filter name: %v", err)
			}
		})
	}
}

// BenchmarkWidget measures compiling one filtered widget query per request, as the server did
// before plans: find the widget and dataset, parse its expressions, render, bind.
func BenchmarkWidget(b *testing.B) {
	d := testDashboard()
	f := FilterValues{"region": {Values: []string{"East", "West"}}}
	v := testViewer()
	for b.Loop() {
		if _, err := Widget(d, "by_month", duckdb.Dialect{}, v, f, Options{MaxRows: 1000}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBind measures the request path with a plan: binding the viewer's values and the
// filters into the widget's SQL compiled at load. Compare with BenchmarkWidget in the same run.
func BenchmarkBind(b *testing.B) {
	d := testDashboard()
	f := FilterValues{"region": {Values: []string{"East", "West"}}}
	v := testViewer()
	wp, err := NewPlan(d, func(string) (datasource.Dialect, error) { return duckdb.Dialect{}, nil }).Widget("by_month")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := wp.Bind(v, f, 1000); err != nil {
			b.Fatal(err)
		}
	}
}
