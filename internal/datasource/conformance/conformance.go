// Package conformance is the test suite every datasource.Source implementation runs, so the
// query engine can rely on the same types, limits and errors whatever the database.
package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/datasource"
)

// Harness tells Run how to reach the implementation under test.
type Harness struct {
	// Open returns a ready source; it registers its own cleanup with t.
	Open func(t *testing.T) datasource.Source
	// SlowSQL is a query that runs for many seconds (a minute or more), used to test timeouts
	// and cancellation. It must not return before it is stopped.
	SlowSQL string
}

// Run runs every conformance subtest against h.
func Run(t *testing.T, h Harness) {
	t.Helper()
	src := h.Open(t)
	tests := []struct {
		name string
		fn   func(*testing.T, datasource.Source)
	}{
		{"Types", testTypes},
		{"Nulls", testNulls},
		{"Decimals", testDecimals},
		{"Timestamps", testTimestamps},
		{"EmptyResult", testEmptyResult},
		{"Params", testParams},
		{"ParamRoundTrip", testParamRoundTrip},
		{"Placeholders", testPlaceholders},
		{"LargeResult", testLargeResult},
		{"RowCap", testRowCap},
		{"InvalidQuery", testInvalidQuery},
		{"TimeBuckets", testTimeBuckets},
		{"QuoteIdent", testQuoteIdent},
		{"Concurrent", testConcurrent},
		{"Timeout", func(t *testing.T, s datasource.Source) { testTimeout(t, s, h.SlowSQL) }},
		{"Cancel", func(t *testing.T, s datasource.Source) { testCancel(t, s, h.SlowSQL) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, src) })
	}
}

// query runs q and fails the test on error.
func query(t *testing.T, src datasource.Source, q datasource.Query) *datasource.Result {
	t.Helper()
	res, err := src.Query(t.Context(), q)
	if err != nil {
		t.Fatalf("Query(%q): %v", q.SQL, err)
	}
	if res.Rows == nil || res.Columns == nil {
		t.Fatalf("Query(%q): nil Rows or Columns in %+v", q.SQL, res)
	}
	return res
}

// one runs q, expects exactly one row, and returns it.
func one(t *testing.T, src datasource.Source, sql string, args ...any) (*datasource.Result, []any) {
	t.Helper()
	res := query(t, src, datasource.Query{SQL: sql, Args: args})
	if len(res.Rows) != 1 {
		t.Fatalf("Query(%q) returned %d rows, want 1", sql, len(res.Rows))
	}
	return res, res.Rows[0]
}

// ph builds SQL with the dialect's placeholders: each "{}" in sql becomes the next marker.
func ph(d datasource.Dialect, sql string) string {
	var b strings.Builder
	n := 0
	for {
		before, after, found := strings.Cut(sql, "{}")
		b.WriteString(before)
		if !found {
			return b.String()
		}
		n++
		b.WriteString(d.Placeholder(n))
		sql = after
	}
}

// typed is one expected column: its contract type and its value.
type typed struct {
	typ string
	val any
}

func checkRow(t *testing.T, res *datasource.Result, row []any, want []typed) {
	t.Helper()
	if len(res.Columns) != len(want) || len(row) != len(want) {
		t.Fatalf("got %d columns and %d values, want %d", len(res.Columns), len(row), len(want))
	}
	for i, w := range want {
		col := res.Columns[i]
		if col.Type != w.typ {
			t.Errorf("column %d (%s): type %q, want %q", i, col.Name, col.Type, w.typ)
		}
		got := row[i]
		if gt, ok := got.(time.Time); ok {
			wt, _ := w.val.(time.Time)
			if !gt.Equal(wt) || gt.Location() != time.UTC {
				t.Errorf("column %d (%s): %v (%s), want %v in UTC", i, col.Name, gt, gt.Location(), wt)
			}
			continue
		}
		if got != w.val {
			t.Errorf("column %d (%s): %#v (%T), want %#v (%T)", i, col.Name, got, got, w.val, w.val)
		}
	}
}

func testTypes(t *testing.T, src datasource.Source) {
	res, row := one(t, src, `SELECT
		CAST('héllo' AS VARCHAR) AS s,
		CAST(9007199254740993 AS BIGINT) AS i8,
		CAST(-7 AS INTEGER) AS i4,
		CAST(3 AS SMALLINT) AS i2,
		CAST(1.5 AS DOUBLE PRECISION) AS f8,
		CAST(0.25 AS REAL) AS f4,
		CAST(1234.5 AS DECIMAL(18,2)) AS d,
		TRUE AS b,
		FALSE AS b2,
		CAST('2024-03-10 12:34:56.789' AS TIMESTAMP) AS ts,
		CAST('2024-02-29' AS DATE) AS dt,
		CAST('1 day' AS INTERVAL) AS iv`)
	checkRow(t, res, row, []typed{
		{datasource.TypeString, "héllo"},
		{datasource.TypeInteger, int64(9007199254740993)},
		{datasource.TypeInteger, int64(-7)},
		{datasource.TypeInteger, int64(3)},
		{datasource.TypeFloat, 1.5},
		{datasource.TypeFloat, 0.25},
		{datasource.TypeDecimal, json.Number("1234.50")},
		{datasource.TypeBoolean, true},
		{datasource.TypeBoolean, false},
		{datasource.TypeTimestamp, time.Date(2024, 3, 10, 12, 34, 56, 789_000_000, time.UTC)},
		{datasource.TypeDate, "2024-02-29"},
		// The text form is the engine's own; only its presence and kind are portable.
		{datasource.TypeOther, row[11]},
	})
	if s, ok := row[11].(string); !ok || !strings.Contains(s, "1 day") {
		t.Errorf("interval: %#v, want engine text containing %q", row[11], "1 day")
	}
	wantNames := []string{"s", "i8", "i4", "i2", "f8", "f4", "d", "b", "b2", "ts", "dt", "iv"}
	for i, c := range res.Columns {
		if c.Name != wantNames[i] {
			t.Errorf("column %d name %q, want %q", i, c.Name, wantNames[i])
		}
	}
}

func testNulls(t *testing.T, src datasource.Source) {
	res, row := one(t, src, `SELECT
		CAST(NULL AS VARCHAR) AS s,
		CAST(NULL AS BIGINT) AS i,
		CAST(NULL AS DOUBLE PRECISION) AS f,
		CAST(NULL AS DECIMAL(18,2)) AS d,
		CAST(NULL AS BOOLEAN) AS b,
		CAST(NULL AS TIMESTAMP) AS ts,
		CAST(NULL AS TIMESTAMPTZ) AS tz,
		CAST(NULL AS DATE) AS dt,
		CAST(NULL AS INTERVAL) AS iv`)
	checkRow(t, res, row, []typed{
		{datasource.TypeString, nil},
		{datasource.TypeInteger, nil},
		{datasource.TypeFloat, nil},
		{datasource.TypeDecimal, nil},
		{datasource.TypeBoolean, nil},
		{datasource.TypeTimestamp, nil},
		{datasource.TypeTimestamp, nil},
		{datasource.TypeDate, nil},
		{datasource.TypeOther, nil},
	})
}

func testDecimals(t *testing.T, src datasource.Source) {
	tests := []struct {
		name string
		expr string
		want string
	}{
		{"beyond float precision", "CAST(12345678901234.56 AS DECIMAL(18,2))", "12345678901234.56"},
		{"trailing zero kept", "CAST(10 AS DECIMAL(10,3))", "10.000"},
		{"negative fraction", "CAST(-0.05 AS DECIMAL(6,2))", "-0.05"},
		{"zero", "CAST(0 AS DECIMAL(6,2))", "0.00"},
		{"integer scale", "CAST(987654321 AS DECIMAL(12,0))", "987654321"},
		{"wide", "CAST('12345678901234567890123456.123456789012' AS DECIMAL(38,12))", "12345678901234567890123456.123456789012"},
		{"sum exact", "(SELECT SUM(x) FROM (VALUES (CAST(0.10 AS DECIMAL(18,2))), (CAST(0.20 AS DECIMAL(18,2)))) AS v(x))", "0.30"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, row := one(t, src, "SELECT "+tc.expr+" AS d")
			if res.Columns[0].Type != datasource.TypeDecimal {
				t.Errorf("type %q, want %q", res.Columns[0].Type, datasource.TypeDecimal)
			}
			if got, ok := row[0].(json.Number); !ok || string(got) != tc.want {
				t.Errorf("value %#v (%T), want json.Number(%q)", row[0], row[0], tc.want)
			}
		})
	}
}

func testTimestamps(t *testing.T, src datasource.Source) {
	tests := []struct {
		name string
		expr string
		want time.Time
	}{
		{"zone east converted", "CAST('2024-03-10 12:34:56.789+05:30' AS TIMESTAMPTZ)", time.Date(2024, 3, 10, 7, 4, 56, 789_000_000, time.UTC)},
		{"zone west crosses midnight", "CAST('2023-12-31 20:00:00-08:00' AS TIMESTAMPTZ)", time.Date(2024, 1, 1, 4, 0, 0, 0, time.UTC)},
		{"utc", "CAST('2024-06-01 00:00:00+00' AS TIMESTAMPTZ)", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)},
		{"microseconds kept", "CAST('2024-06-01 10:11:12.123456' AS TIMESTAMP)", time.Date(2024, 6, 1, 10, 11, 12, 123_456_000, time.UTC)},
		{"without zone as written", "CAST('1999-12-31 23:59:59' AS TIMESTAMP)", time.Date(1999, 12, 31, 23, 59, 59, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, row := one(t, src, "SELECT "+tc.expr+" AS ts")
			checkRow(t, res, row, []typed{{datasource.TypeTimestamp, tc.want}})
		})
	}
	t.Run("dates", func(t *testing.T) {
		res, row := one(t, src, "SELECT CAST('0001-01-01' AS DATE) AS a, CAST('2024-12-31' AS DATE) AS b, CAST('1970-01-01' AS DATE) AS c")
		checkRow(t, res, row, []typed{
			{datasource.TypeDate, "0001-01-01"},
			{datasource.TypeDate, "2024-12-31"},
			{datasource.TypeDate, "1970-01-01"},
		})
	})
}

func testEmptyResult(t *testing.T, src datasource.Source) {
	res := query(t, src, datasource.Query{SQL: "SELECT CAST(1 AS BIGINT) AS n, CAST('x' AS VARCHAR) AS s WHERE 1 = 0"})
	if len(res.Rows) != 0 || res.Truncated {
		t.Errorf("got %d rows, truncated=%v; want none", len(res.Rows), res.Truncated)
	}
	if len(res.Columns) != 2 || res.Columns[0].Type != datasource.TypeInteger || res.Columns[1].Type != datasource.TypeString {
		t.Errorf("columns %+v, want n integer and s string", res.Columns)
	}
}

// lit quotes s as an SQL string literal; only for the suite's own fixed test data.
func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func testParams(t *testing.T, src datasource.Source) {
	long := strings.Repeat("0123456789", 1000) // 10 kB
	strs := []string{"plain", "O'Brien", `a"b\c`, "héllo wörld ✓ 日本語 🎉", long, "' OR 1=1 --"}
	// The table holds every string except the injection attempt, which must match nothing
	// (if it were spliced into the SQL it would match every row).
	var values []string
	for i, s := range strs[:len(strs)-1] {
		values = append(values, fmt.Sprintf("(%d, %s, CAST(%d AS BIGINT), CAST(%d.5 AS DOUBLE PRECISION), %v, CAST('2024-01-0%d 10:00:00+00' AS TIMESTAMPTZ))",
			i+1, lit(s), (i+1)*100, i+1, i%2 == 0, i+1))
	}
	table := "(VALUES " + strings.Join(values, ", ") + ") AS t(id, s, i, f, b, ts)"
	d := src.Dialect()

	tests := []struct {
		name  string
		where string
		arg   any
		want  []int64
	}{
		{"plain string", "s = {}", "plain", []int64{1}},
		{"single quote", "s = {}", "O'Brien", []int64{2}},
		{"double quote and backslash", "s = {}", `a"b\c`, []int64{3}},
		{"unicode", "s = {}", "héllo wörld ✓ 日本語 🎉", []int64{4}},
		{"10 kB string", "s = {}", long, []int64{5}},
		{"injection attempt", "s = {}", "' OR 1=1 --", nil},
		{"sql comment text", "s = {}", "plain'; DROP TABLE t; --", nil},
		{"int", "i = {}", int64(300), []int64{3}},
		{"int greater", "i > {}", 300, []int64{4, 5}},
		{"float", "f = {}", 2.5, []int64{2}},
		{"bool", "b = {}", true, []int64{1, 3, 5}},
		{"time", "ts = {}", time.Date(2024, 1, 4, 10, 0, 0, 0, time.UTC), []int64{4}},
		{"time in other zone", "ts = {}", time.Date(2024, 1, 4, 11, 0, 0, 0, time.FixedZone("CET", 3600)), []int64{4}},
		{"time range", "ts >= {}", time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC), []int64{3, 4, 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sql := ph(d, "SELECT CAST(id AS BIGINT) AS id FROM "+table+" WHERE "+tc.where+" ORDER BY id")
			res := query(t, src, datasource.Query{SQL: sql, Args: []any{tc.arg}})
			var got []int64
			for _, r := range res.Rows {
				got = append(got, r[0].(int64))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("ids %v, want %v", got, tc.want)
			}
		})
	}
}

func testParamRoundTrip(t *testing.T, src datasource.Source) {
	d := src.Dialect()
	long := strings.Repeat("ß'\"", 3500)
	when := time.Date(2024, 7, 1, 12, 30, 0, 0, time.UTC)
	res, row := one(t, src, ph(d, `SELECT CAST({} AS VARCHAR) AS s, CAST({} AS VARCHAR) AS inj, CAST({} AS BIGINT) AS i,
		CAST({} AS DOUBLE PRECISION) AS f, CAST({} AS BOOLEAN) AS b, CAST({} AS TIMESTAMPTZ) AS ts`),
		long, "' OR 1=1 --", int64(-42), 0.125, false, when)
	checkRow(t, res, row, []typed{
		{datasource.TypeString, long},
		{datasource.TypeString, "' OR 1=1 --"},
		{datasource.TypeInteger, int64(-42)},
		{datasource.TypeFloat, 0.125},
		{datasource.TypeBoolean, false},
		{datasource.TypeTimestamp, when},
	})
}

func testPlaceholders(t *testing.T, src datasource.Source) {
	d := src.Dialect()
	sql := ph(d, `SELECT CAST(n AS BIGINT) AS n FROM generate_series(1, 20) AS g(n)
		WHERE n >= {} AND n <= {} AND n <> {} AND n <> {} AND CAST({} AS VARCHAR) = 'go' ORDER BY n`)
	res := query(t, src, datasource.Query{SQL: sql, Args: []any{5, 10, 7, 9, "go"}})
	var got []int64
	for _, r := range res.Rows {
		got = append(got, r[0].(int64))
	}
	if fmt.Sprint(got) != "[5 6 8 10]" {
		t.Errorf("rows %v, want [5 6 8 10]", got)
	}
}

const largeSQL = `SELECT CAST(n AS BIGINT) AS n, CAST(n AS VARCHAR) AS s, CAST(n AS DOUBLE PRECISION) / 2 AS half
	FROM generate_series(1, 150000) AS g(n) ORDER BY n`

func testLargeResult(t *testing.T, src datasource.Source) {
	res := query(t, src, datasource.Query{SQL: largeSQL})
	if len(res.Rows) != 150000 || res.Truncated {
		t.Fatalf("got %d rows (truncated=%v), want 150000", len(res.Rows), res.Truncated)
	}
	var sum int64
	for i, r := range res.Rows {
		n := r[0].(int64)
		if n != int64(i+1) || r[1] != fmt.Sprint(i+1) || r[2] != float64(i+1)/2 {
			t.Fatalf("row %d = %v, want n=%d", i, r, i+1)
		}
		sum += n
	}
	if want := int64(150000) * 150001 / 2; sum != want {
		t.Errorf("sum %d, want %d", sum, want)
	}
}

func testRowCap(t *testing.T, src datasource.Source) {
	tests := []struct {
		name      string
		sql       string
		maxRows   int
		wantRows  int
		truncated bool
	}{
		{"cap below size", largeSQL, 1000, 1000, true},
		{"cap of one", largeSQL, 1, 1, true},
		{"cap equals size", "SELECT n FROM generate_series(1, 10) AS g(n) ORDER BY n", 10, 10, false},
		{"cap above size", "SELECT n FROM generate_series(1, 10) AS g(n) ORDER BY n", 11, 10, false},
		{"no cap", "SELECT n FROM generate_series(1, 10) AS g(n) ORDER BY n", 0, 10, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := query(t, src, datasource.Query{SQL: tc.sql, MaxRows: tc.maxRows})
			if len(res.Rows) != tc.wantRows || res.Truncated != tc.truncated {
				t.Fatalf("got %d rows truncated=%v, want %d truncated=%v", len(res.Rows), res.Truncated, tc.wantRows, tc.truncated)
			}
			for i, r := range res.Rows {
				if fmt.Sprint(r[0]) != fmt.Sprint(i+1) {
					t.Fatalf("row %d = %v, want %d", i, r, i+1)
				}
			}
		})
	}
}

func testInvalidQuery(t *testing.T, src datasource.Source) {
	tests := []struct{ name, sql string }{
		{"syntax", "SELEC 1"},
		{"unknown table", "SELECT * FROM inlay_no_such_table"},
		{"unknown column", "SELECT no_such_column FROM (SELECT 1 AS a) AS t"},
		{"type mismatch", "SELECT CAST('abc' AS INTEGER) AS n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := src.Query(t.Context(), datasource.Query{SQL: tc.sql})
			if !errors.Is(err, datasource.ErrInvalidQuery) {
				t.Fatalf("Query(%q) = %v, %v; want ErrInvalidQuery", tc.sql, res, err)
			}
			if errors.Is(err, datasource.ErrUnavailable) || errors.Is(err, datasource.ErrTimeout) {
				t.Errorf("error %v also matches another sentinel", err)
			}
			// The engine's own message stays in the chain for the logs.
			if strings.TrimSpace(strings.TrimPrefix(err.Error(), datasource.ErrInvalidQuery.Error())) == "" {
				t.Errorf("error %q carries no engine message", err)
			}
		})
	}
	t.Run("source still usable", func(t *testing.T) {
		one(t, src, "SELECT 1 AS n")
	})
}

func testTimeBuckets(t *testing.T, src datasource.Source) {
	d := src.Dialect()
	utc := func(y int, m time.Month, day, h int) time.Time { return time.Date(y, m, day, h, 0, 0, 0, time.UTC) }
	// The same literal inputs and expected buckets for every engine, so the engines agree.
	inputs := []struct {
		expr string
		want map[datasource.Grain]time.Time
	}{
		{"CAST('2024-05-15 13:45:30' AS TIMESTAMP)", map[datasource.Grain]time.Time{ // a Wednesday
			datasource.GrainHour: utc(2024, 5, 15, 13), datasource.GrainDay: utc(2024, 5, 15, 0),
			datasource.GrainWeek: utc(2024, 5, 13, 0), datasource.GrainMonth: utc(2024, 5, 1, 0),
			datasource.GrainQuarter: utc(2024, 4, 1, 0), datasource.GrainYear: utc(2024, 1, 1, 0),
		}},
		{"CAST('2024-01-01 00:00:00' AS TIMESTAMP)", map[datasource.Grain]time.Time{ // a Monday
			datasource.GrainHour: utc(2024, 1, 1, 0), datasource.GrainDay: utc(2024, 1, 1, 0),
			datasource.GrainWeek: utc(2024, 1, 1, 0), datasource.GrainMonth: utc(2024, 1, 1, 0),
			datasource.GrainQuarter: utc(2024, 1, 1, 0), datasource.GrainYear: utc(2024, 1, 1, 0),
		}},
		{"CAST('2023-12-31 23:59:59' AS TIMESTAMP)", map[datasource.Grain]time.Time{ // a Sunday
			datasource.GrainHour: utc(2023, 12, 31, 23), datasource.GrainDay: utc(2023, 12, 31, 0),
			datasource.GrainWeek: utc(2023, 12, 25, 0), datasource.GrainMonth: utc(2023, 12, 1, 0),
			datasource.GrainQuarter: utc(2023, 10, 1, 0), datasource.GrainYear: utc(2023, 1, 1, 0),
		}},
		// With a zone: buckets are UTC buckets, whatever the machine's zone.
		{"CAST('2024-09-30 23:30:00-02:00' AS TIMESTAMPTZ)", map[datasource.Grain]time.Time{ // Tue 01:30 UTC
			datasource.GrainHour: utc(2024, 10, 1, 1), datasource.GrainDay: utc(2024, 10, 1, 0),
			datasource.GrainWeek: utc(2024, 9, 30, 0), datasource.GrainMonth: utc(2024, 10, 1, 0),
			datasource.GrainQuarter: utc(2024, 10, 1, 0), datasource.GrainYear: utc(2024, 1, 1, 0),
		}},
	}
	for _, in := range inputs {
		for _, g := range datasource.Grains {
			t.Run(string(g)+" "+in.expr, func(t *testing.T) {
				res, row := one(t, src, "SELECT "+d.TimeBucket(g, in.expr)+" AS bucket")
				checkRow(t, res, row, []typed{{datasource.TypeTimestamp, in.want[g]}})
			})
		}
	}
	t.Run("group by bucket", func(t *testing.T) {
		b := d.TimeBucket(datasource.GrainMonth, "ts")
		res := query(t, src, datasource.Query{SQL: `SELECT ` + b + ` AS m, COUNT(*) AS n FROM (VALUES
			(CAST('2024-01-05 00:00:00' AS TIMESTAMP)), (CAST('2024-01-31 23:00:00' AS TIMESTAMP)),
			(CAST('2024-02-01 00:00:00' AS TIMESTAMP))) AS v(ts) GROUP BY ` + b + ` ORDER BY m`})
		if len(res.Rows) != 2 || fmt.Sprint(res.Rows[0][1], res.Rows[1][1]) != "2 1" {
			t.Errorf("rows %v, want January 2 and February 1", res.Rows)
		}
	})
}

func testQuoteIdent(t *testing.T, src datasource.Source) {
	d := src.Dialect()
	for _, name := range []string{"total", "Total Sales", `we"ird`, "select"} {
		t.Run(name, func(t *testing.T) {
			res, row := one(t, src, "SELECT CAST(1 AS BIGINT) AS "+d.QuoteIdent(name))
			if res.Columns[0].Name != name || row[0] != int64(1) {
				t.Errorf("column %q = %v, want %q = 1", res.Columns[0].Name, row[0], name)
			}
		})
	}
}

func testConcurrent(t *testing.T, src datasource.Source) {
	d := src.Dialect()
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			res, err := src.Query(t.Context(), datasource.Query{
				SQL:  ph(d, "SELECT CAST(SUM(n) AS BIGINT) AS s FROM generate_series(1, 10000) AS g(n) WHERE n <= {}"),
				Args: []any{int64(i * 100)},
			})
			if err != nil {
				errs <- err
				return
			}
			if want := int64(i*100) * int64(i*100+1) / 2; len(res.Rows) != 1 || (i > 0 && res.Rows[0][0] != want) {
				errs <- fmt.Errorf("query %d: rows %v, want sum %d", i, res.Rows, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// promptly is how long a stopped slow query may take to return. It is far above the expected
// time and far below the slow query's own run time, so it cannot flake yet still fails when
// the query is not stopped.
const promptly = 20 * time.Second

func testTimeout(t *testing.T, src datasource.Source, slow string) {
	start := time.Now()
	_, err := src.Query(t.Context(), datasource.Query{SQL: slow, Timeout: 300 * time.Millisecond})
	if !errors.Is(err, datasource.ErrTimeout) {
		t.Fatalf("slow query with timeout: %v, want ErrTimeout", err)
	}
	if errors.Is(err, datasource.ErrCanceled) || errors.Is(err, datasource.ErrInvalidQuery) {
		t.Errorf("error %v also matches another sentinel", err)
	}
	if took := time.Since(start); took > promptly {
		t.Errorf("timeout took %v to be reported", took)
	}
	one(t, src, "SELECT 1 AS n") // the pool recovers
}

func testCancel(t *testing.T, src datasource.Source, slow string) {
	ctx, cancel := context.WithCancel(t.Context())
	timer := time.AfterFunc(300*time.Millisecond, cancel)
	defer timer.Stop()
	start := time.Now()
	_, err := src.Query(ctx, datasource.Query{SQL: slow, Timeout: time.Hour})
	if !errors.Is(err, datasource.ErrCanceled) {
		t.Fatalf("cancelled slow query: %v, want ErrCanceled", err)
	}
	if errors.Is(err, datasource.ErrTimeout) {
		t.Errorf("error %v also matches ErrTimeout", err)
	}
	if took := time.Since(start); took > promptly {
		t.Errorf("cancellation took %v to be reported", took)
	}
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := src.Query(ctx, datasource.Query{SQL: "SELECT 1 AS n"}); !errors.Is(err, datasource.ErrCanceled) {
			t.Errorf("query on cancelled context: %v, want ErrCanceled", err)
		}
	})
	one(t, src, "SELECT 1 AS n")
}
