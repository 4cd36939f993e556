package demo

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
)

const testRows = 200_000

var testNow = time.Date(2026, 11, 22, 15, 4, 5, 0, time.UTC)

func generate(t testing.TB, rows int, now time.Time) *duckdb.Source {
	t.Helper()
	src, err := duckdb.Open(t.Context(), duckdb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	if err := Generate(t.Context(), src.Exec, rows, now); err != nil {
		t.Fatal(err)
	}
	return src
}

func query(t *testing.T, src *duckdb.Source, sql string, args ...any) [][]any {
	t.Helper()
	res, err := src.Query(t.Context(), datasource.Query{SQL: sql, Args: args})
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res.Rows
}

func TestGenerate(t *testing.T) {
	src := generate(t, testRows, testNow)

	t.Run("columns", func(t *testing.T) {
		res, err := src.Query(t.Context(), datasource.Query{SQL: "SELECT * FROM sales LIMIT 1"})
		if err != nil {
			t.Fatal(err)
		}
		want := []datasource.Column{
			{Name: "id", Type: datasource.TypeInteger}, {Name: "ts", Type: datasource.TypeTimestamp},
			{Name: "region", Type: datasource.TypeString}, {Name: "department", Type: datasource.TypeString},
			{Name: "product", Type: datasource.TypeString}, {Name: "customer", Type: datasource.TypeString},
			{Name: "amount", Type: datasource.TypeDecimal},
		}
		if !slices.Equal(res.Columns, want) {
			t.Errorf("columns = %v, want %v", res.Columns, want)
		}
	})

	t.Run("row count and ids", func(t *testing.T) {
		got := query(t, src, "SELECT count(*), count(DISTINCT id), min(id), max(id) FROM sales")[0]
		want := []any{int64(testRows), int64(testRows), int64(1), int64(testRows)}
		if !slices.Equal(got, want) {
			t.Errorf("count, distinct ids, min, max = %v, want %v", got, want)
		}
	})

	t.Run("every category present", func(t *testing.T) {
		for _, c := range []struct {
			column string
			want   []string
		}{
			{"region", Regions},
			{"department", Departments},
			{"product", productNames()},
		} {
			var got []string
			for _, r := range query(t, src, fmt.Sprintf("SELECT DISTINCT %s FROM sales ORDER BY 1", c.column)) {
				got = append(got, r[0].(string))
			}
			want := slices.Sorted(slices.Values(c.want))
			if !slices.Equal(got, want) {
				t.Errorf("%s values = %v, want %v", c.column, got, want)
			}
		}
	})

	t.Run("customers", func(t *testing.T) {
		got := query(t, src, "SELECT count(DISTINCT customer), min(customer), max(customer) FROM sales")[0]
		if n := got[0].(int64); n < Customers*9/10 || n > Customers {
			t.Errorf("%d distinct customers, want about %d", n, Customers)
		}
		if got[1] != CustomerName(1) || got[2].(string) > CustomerName(Customers) {
			t.Errorf("customer names range %v..%v", got[1], got[2])
		}
	})

	t.Run("time span", func(t *testing.T) {
		got := query(t, src, "SELECT min(ts), max(ts), count(DISTINCT CAST(ts AS DATE)) FROM sales")[0]
		lo, hi := got[0].(time.Time), got[1].(time.Time)
		if lo.Before(testNow.AddDate(-2, 0, 0)) || !hi.Before(testNow) {
			t.Errorf("ts from %v to %v, want within the two years before %v", lo, hi, testNow)
		}
		if hi.Sub(lo) < 720*24*time.Hour {
			t.Errorf("ts spans only %v", hi.Sub(lo))
		}
		if days := got[2].(int64); days != Days {
			t.Errorf("%d distinct days, want %d (a sale every day)", days, Days)
		}
	})

	t.Run("amounts positive and skewed", func(t *testing.T) {
		got := query(t, src, "SELECT min(amount) > 0, count(*) FILTER (WHERE amount IS NULL), avg(amount) > 1.5 * median(amount) FROM sales")[0]
		if got[0] != true || got[1] != int64(0) {
			t.Errorf("min(amount) > 0 = %v, null amounts = %v", got[0], got[1])
		}
		if got[2] != true {
			t.Error("amounts are not right-skewed (mean should be well above median)")
		}
	})

	t.Run("volume grows and seasons show", func(t *testing.T) {
		got := query(t, src, `SELECT
			count(*) FILTER (WHERE ts >= CAST(? AS TIMESTAMPTZ) - INTERVAL 90 DAY) AS last_quarter,
			count(*) FILTER (WHERE ts < CAST(? AS TIMESTAMPTZ) - INTERVAL 640 DAY) AS first_quarter
			FROM sales`, testNow, testNow)[0]
		if last, first := got[0].(int64), got[1].(int64); float64(last) < 1.8*float64(first) {
			t.Errorf("last 90 days %d sales, first 90 days %d: no growth trend", last, first)
		}
		got = query(t, src, `SELECT
			avg(amount) FILTER (WHERE month(ts) = 12) / avg(amount) FILTER (WHERE month(ts) = 6)
			FROM sales`)[0]
		if ratio := decimal(t, got[0]); ratio < 1.3 {
			t.Errorf("December/June average amount = %.2f, want a visible seasonal peak", ratio)
		}
	})

	t.Run("department mix follows the weights in every region", func(t *testing.T) {
		// Shares per region catch correlated pseudo-random columns, which skew charts.
		rows := query(t, src, `SELECT region, department, count(*) / sum(count(*)) OVER (PARTITION BY region)
			FROM sales GROUP BY region, department`)
		if len(rows) != len(Regions)*len(Departments) {
			t.Fatalf("%d region/department pairs", len(rows))
		}
		for _, r := range rows {
			d := slices.Index(Departments, r[1].(string))
			if share := r[2].(float64); share < departmentWeights[d]*0.85 || share > departmentWeights[d]*1.15 {
				t.Errorf("%s/%s share %.3f, weight %.2f", r[0], r[1], share, departmentWeights[d])
			}
		}
	})

	t.Run("sales and engineering totals differ", func(t *testing.T) {
		totals := departmentTotals(t, src)
		s, e := decimal(t, totals["Sales"]), decimal(t, totals["Engineering"])
		if s == e || s <= 0 || e <= 0 {
			t.Errorf("Sales total %v, Engineering total %v", s, e)
		}
		if diff := (s - e) / max(s, e); diff < 0.05 && diff > -0.05 {
			t.Errorf("Sales %v and Engineering %v are within 5%% of each other", s, e)
		}
	})
}

func TestGenerateDeterministic(t *testing.T) {
	a := departmentTotals(t, generate(t, 50_000, testNow))
	// Another time on the same day gives the same rows.
	b := departmentTotals(t, generate(t, 50_000, testNow.Add(3*time.Hour)))
	if len(a) != len(Departments) {
		t.Fatalf("totals for %d departments", len(a))
	}
	for dept, total := range a {
		if b[dept] != total {
			t.Errorf("%s: %v then %v", dept, total, b[dept])
		}
	}
	// A different day shifts the dates; the amounts change with the seasons.
	c := departmentTotals(t, generate(t, 50_000, testNow.AddDate(0, 4, 0)))
	if c["Sales"] == a["Sales"] {
		t.Error("generation ignores now")
	}
}

func TestGenerateEmptyAndInvalid(t *testing.T) {
	src := generate(t, 0, testNow)
	if got := query(t, src, "SELECT count(*) FROM sales")[0][0]; got != int64(0) {
		t.Errorf("count = %v", got)
	}
	if err := Generate(t.Context(), src.Exec, -1, testNow); err == nil {
		t.Error("negative rows accepted")
	}
	// The table exists already: the error is reported, not swallowed.
	if err := Generate(t.Context(), src.Exec, 10, testNow); err == nil {
		t.Error("generating over an existing table did not fail")
	}
}

func departmentTotals(t *testing.T, src *duckdb.Source) map[string]any {
	t.Helper()
	totals := map[string]any{}
	for _, r := range query(t, src, "SELECT department, sum(amount) FROM sales GROUP BY department") {
		totals[r[0].(string)] = r[1]
	}
	return totals
}

func decimal(t *testing.T, v any) float64 {
	t.Helper()
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			t.Fatal(err)
		}
		return f
	case float64:
		return n
	}
	t.Fatalf("%v (%T) is not a number", v, v)
	return 0
}

// BenchmarkGenerate measures generation at the demo's default size and at 10M rows:
// go test -run '^$' -bench Generate -benchtime 1x ./internal/demo/
func BenchmarkGenerate(b *testing.B) {
	for _, rows := range []int{DefaultRows, 10_000_000} {
		b.Run(fmt.Sprint(rows), func(b *testing.B) {
			for b.Loop() {
				src, err := duckdb.Open(b.Context(), duckdb.Config{})
				if err != nil {
					b.Fatal(err)
				}
				if err := Generate(b.Context(), src.Exec, rows, testNow); err != nil {
					b.Fatal(err)
				}
				src.Close()
			}
		})
	}
}
