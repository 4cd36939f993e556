package compile

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/inlay/inlay/internal/dashboard"
	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
	"github.com/inlay/inlay/internal/rls"
)

// openSales opens an in-memory DuckDB holding a six-row sales table whose sums are easy to check:
//
//	region department product amount ts
//	East   Sales      A       10     2024-01-05
//	East   Sales      B       20     2024-01-20
//	West   Sales      A       30     2024-02-03
//	West   Eng        B       40     2024-02-10
//	North  Eng        A       50     2024-03-01
//	East   Eng        C       60     2024-03-15
func openSales(t *testing.T) *duckdb.Source {
	t.Helper()
	src, err := duckdb.Open(t.Context(), duckdb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	err = src.Exec(t.Context(), `CREATE TABLE sales AS SELECT * FROM (VALUES
		('East',  'Sales', 'A', 10.00::DECIMAL(10,2), TIMESTAMP '2024-01-05 10:00:00'),
		('East',  'Sales', 'B', 20.00, TIMESTAMP '2024-01-20 10:00:00'),
		('West',  'Sales', 'A', 30.00, TIMESTAMP '2024-02-03 10:00:00'),
		('West',  'Eng',   'B', 40.00, TIMESTAMP '2024-02-10 10:00:00'),
		('North', 'Eng',   'A', 50.00, TIMESTAMP '2024-03-01 10:00:00'),
		('East',  'Eng',   'C', 60.00, TIMESTAMP '2024-03-15 10:00:00')
	) AS t(region, department, product, amount, ts)`)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// rowsText renders a result as "a|b;c|d" so expectations read as tables.
func rowsText(res *datasource.Result) string {
	rows := make([]string, len(res.Rows))
	for i, r := range res.Rows {
		cells := make([]string, len(r))
		for j, c := range r {
			cells[j] = fmt.Sprint(c)
		}
		rows[i] = strings.Join(cells, "|")
	}
	return strings.Join(rows, ";")
}

func run(t *testing.T, src datasource.Source, q Query) *datasource.Result {
	t.Helper()
	res, err := src.Query(t.Context(), datasource.Query{SQL: q.SQL, Args: q.Args, MaxRows: 1000})
	if err != nil {
		t.Fatalf("query failed: %v\n%s", err, q.SQL)
	}
	return res
}

func TestWidgetsOnDuckDB(t *testing.T) {
	src := openSales(t)
	d := testDashboard()
	tests := []struct {
		widget  string
		filters map[string]string
		want    string
		columns string
	}{
		// The viewer is in Sales: rows 1-3 only.
		{"revenue", nil, "60.00", "sum_amount"},
		{"by_region_bar", nil, "East|30.00|2;West|30.00|1", "region,sum_amount,count"},
		{"by_month", nil, "2024-01-01 00:00:00 +0000 UTC|East|30.00;2024-02-01 00:00:00 +0000 UTC|West|30.00", "month_ts,region,sum_amount"},
		{"area_month", nil, "2024-01-01 00:00:00 +0000 UTC|2;2024-02-01 00:00:00 +0000 UTC|1", "month_ts,count_distinct_product"},
		{"share", nil, "A|40.00;B|20.00", "product,sum_amount"},
		{"raw", nil, "West|A|30.00;East|B|20.00", "region,product,amount"},
		{"summary", nil, "East|30.00|20.00;West|30.00|30.00", "region,sum_amount,max_amount"},
		{"pivot", nil, "East|A|10.00;East|B|20.00;West|A|30.00", "region,product,sum_amount"},
		{"all_by_region", nil, "East|90.00;North|50.00;West|70.00", "region,sum_amount"},
		// Filters.
		{"revenue", map[string]string{"region": `["West"]`}, "30.00", "sum_amount"},
		{"revenue", map[string]string{"product": `"A"`}, "40.00", "sum_amount"},
		{"revenue", map[string]string{"period": `{"from":"2024-01-06","to":"2024-01-20"}`}, "20.00", "sum_amount"}, // to is inclusive
		{"revenue", map[string]string{"period": `{"to":"2024-01-20T09:59:59Z"}`}, "10.00", "sum_amount"},
		{"revenue", map[string]string{"amount": `{"min":15,"max":30}`}, "50.00", "sum_amount"},
		{"revenue", map[string]string{"region": `["North"]`}, "<nil>", "sum_amount"},
		// The region filter targets "all" too; the product filter does not.
		{"all_by_region", map[string]string{"region": `["West","North"]`, "product": `"A"`}, "North|50.00;West|70.00", "region,sum_amount"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.widget, tt.filters), func(t *testing.T) {
			raw := map[string]json.RawMessage{}
			for k, v := range tt.filters {
				raw[k] = json.RawMessage(v)
			}
			f, err := ParseFilters(d, raw)
			if err != nil {
				t.Fatal(err)
			}
			q, err := Widget(d, tt.widget, src.Dialect(), testViewer(), f, Options{MaxRows: 100})
			if err != nil {
				t.Fatal(err)
			}
			res := run(t, src, q)
			if got := rowsText(res); got != tt.want {
				t.Errorf("rows %q, want %q", got, tt.want)
			}
			var names []string
			for _, c := range res.Columns {
				names = append(names, c.Name)
			}
			if got := strings.Join(names, ","); got != tt.columns {
				t.Errorf("columns %q, want %q", got, tt.columns)
			}
		})
	}
}

func TestTruncationOnDuckDB(t *testing.T) {
	src := openSales(t)
	d := testDashboard()
	q, err := Widget(d, "all_by_region", src.Dialect(), testViewer(), nil, Options{MaxRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	res, err := src.Query(t.Context(), datasource.Query{SQL: q.SQL, Args: q.Args, MaxRows: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Rows) != 2 || !res.Truncated {
		t.Errorf("got %d rows, truncated=%v; want 2 rows, truncated", len(res.Rows), res.Truncated)
	}
}

func TestFilterOptionsOnDuckDB(t *testing.T) {
	src := openSales(t)
	d := testDashboard()
	tests := []struct{ filter, want string }{
		{"region", "East;West"}, // Sales rows only: North is Eng
		{"product", "A;B"},
		{"amount", "10.00|30.00"},
		{"period", "2024-01-05 10:00:00 +0000 UTC|2024-02-03 10:00:00 +0000 UTC"},
	}
	for _, tt := range tests {
		q, err := FilterOptions(d, tt.filter, src.Dialect(), testViewer(), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := rowsText(run(t, src, q)); got != tt.want {
			t.Errorf("%s options %q, want %q", tt.filter, got, tt.want)
		}
	}
}

func TestStructuredRLSOnDuckDB(t *testing.T) {
	src := openSales(t)
	d := testDashboard()
	tests := []struct {
		name   string
		widget string
		attrs  map[string][]string
		want   string
	}{
		{"eq East", "region_count", map[string][]string{"region": {"East"}}, "3"},
		{"eq nowhere", "region_count", map[string][]string{"region": {"Mars"}}, "0"},
		{"in A,C", "product_count", map[string][]string{"products": {"A", "C"}}, "4"},
		{"in empty list sees nothing", "product_count", map[string][]string{"products": {}}, "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Widget(d, tt.widget, src.Dialect(), rls.Viewer{Attributes: tt.attrs}, nil, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := rowsText(run(t, src, q)); got != tt.want {
				t.Errorf("count %s, want %s", got, tt.want)
			}
		})
	}
}

// TestExternalValueInjection runs hostile external values and attributes through the compiled
// queries: each must see no more rows than an exact match of the value (here: none), and an
// error, if any, must not carry SQL text.
func TestExternalValueInjection(t *testing.T) {
	src := openSales(t)
	d := testDashboard()
	payloads := []string{
		`' OR '1'='1`,
		`Sales' --`,
		`Sales'; DROP TABLE sales; --`,
		`"Sales"`,
		`Sales\`,
		"Sales\x00",
		"Sales\x00' OR '1'='1",
		strings.Repeat("Sales' OR 1=1 -- ", 6000), // about 100 kB
		"Sales\xff\xfe",
		"\xc3\x28",
		`__aibi_external_value`,
		`$1`, `?`,
	}
	for _, p := range payloads {
		name := p
		if len(name) > 30 {
			name = name[:30]
		}
		t.Run(fmt.Sprintf("%q", name), func(t *testing.T) {
			checks := []struct {
				widget string
				v      rls.Viewer
			}{
				{"revenue", rls.Viewer{ExternalValue: &p}},
				{"region_count", rls.Viewer{Attributes: map[string][]string{"region": {p}}}},
				{"product_count", rls.Viewer{Attributes: map[string][]string{"products": {p, p + "x"}}}},
			}
			for _, c := range checks {
				q, err := Widget(d, c.widget, src.Dialect(), c.v, nil, Options{})
				if err != nil {
					t.Fatalf("%s: compile: %v", c.widget, err)
				}
				if strings.Contains(q.SQL, p) && len(p) > 2 {
					t.Fatalf("%s: the value appears in the SQL text", c.widget)
				}
				res, err := src.Query(t.Context(), datasource.Query{SQL: q.SQL, Args: q.Args})
				if err != nil {
					if strings.Contains(err.Error(), "SELECT") || strings.Contains(err.Error(), "rls_base") {
						t.Errorf("%s: error shows SQL: %v", c.widget, err)
					}
					continue // refusing is fine; returning rows is not
				}
				if got := rowsText(res); got != "<nil>" && got != "0" {
					t.Errorf("%s: payload matched rows: %s", c.widget, got)
				}
			}
		})
	}
}

// unkeyed is DuckDB's dialect without its bucket keys: every row is truncated.
type unkeyed struct{ d duckdb.Dialect }

func (u unkeyed) Name() string                                      { return u.d.Name() }
func (u unkeyed) Placeholder(n int) string                          { return u.d.Placeholder(n) }
func (u unkeyed) QuoteIdent(s string) string                        { return u.d.QuoteIdent(s) }
func (u unkeyed) TimeBucket(g datasource.Grain, expr string) string { return u.d.TimeBucket(g, expr) }

// Grouping time buckets by an integer key (DuckDB) must give exactly what truncating every row
// gives: the same columns and types, the same buckets, NULLs and boundaries included, for
// TIMESTAMP, TIMESTAMPTZ and DATE columns.
func TestKeyedTimeBucketsMatchTruncation(t *testing.T) {
	src, err := duckdb.Open(t.Context(), duckdb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	err = src.Exec(t.Context(), `CREATE TABLE times AS SELECT
		ts, CAST(ts AS TIMESTAMPTZ) AS tz, CAST(ts AS DATE) AS d, region, amount
		FROM (VALUES
			(TIMESTAMP '2023-12-31 23:59:59.999999', 'East', 1),
			(TIMESTAMP '2024-01-01 00:00:00', 'East', 2),
			(TIMESTAMP '2024-03-31 23:59:59', 'West', 4),
			(TIMESTAMP '2024-04-01 00:00:00', 'West', 8),
			(TIMESTAMP '2024-04-15 12:00:00', 'East', 16),
			(TIMESTAMP '2024-12-31 12:00:00', 'East', 32),
			(TIMESTAMP '2024-02-15 08:00:00', 'East', 256),
			(TIMESTAMP '2024-05-20 08:00:00', 'East', 512),
			(TIMESTAMP '2025-01-20 08:00:00', 'West', 1024),
			(NULL, 'West', 64),
			(NULL, 'East', 128)
			-- several months of one quarter and year per region, so a wrong key splits a bucket
		) AS t(ts, region, amount)`)
	if err != nil {
		t.Fatal(err)
	}
	d := &dashboard.Dashboard{ID: "t", Datasets: []dashboard.Dataset{{Name: "times", SQL: "SELECT * FROM times"}}}
	for _, col := range []string{"ts", "tz", "d"} {
		for _, grain := range []string{"year", "quarter", "month", "week", "day"} {
			d.Widgets = append(d.Widgets, dashboard.Widget{
				Name: grain + "_" + col, Type: dashboard.WidgetLine, Dataset: "times",
				X: fld(grain + "(" + col + ")"), Series: fld("region"), Y: flds("sum(amount)", "count(*)"),
			})
		}
	}
	d.Normalize()
	for _, w := range d.Widgets {
		t.Run(w.Name, func(t *testing.T) {
			keyed, err := Widget(d, w.Name, duckdb.Dialect{}, rls.Viewer{}, nil, Options{MaxRows: 100})
			if err != nil {
				t.Fatal(err)
			}
			plain, err := Widget(d, w.Name, unkeyed{}, rls.Viewer{}, nil, Options{MaxRows: 100})
			if err != nil {
				t.Fatal(err)
			}
			got, want := run(t, src, keyed), run(t, src, plain)
			if fmt.Sprint(got.Columns) != fmt.Sprint(want.Columns) || rowsText(got) != rowsText(want) {
				t.Errorf("keyed buckets differ from truncation:\n%s\n%v %s\nwant\n%s\n%v %s", keyed.SQL, got.Columns, rowsText(got), plain.SQL, want.Columns, rowsText(want))
			}
		})
	}
}
