package duckdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"testing"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/conformance"
)

func openTest(t *testing.T, cfg Config) *Source {
	t.Helper()
	s, err := Open(t.Context(), cfg)
	if err != nil {
		t.Fatalf("Open(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		Open: func(t *testing.T) datasource.Source { return openTest(t, Config{}) },
		// A cross join of 10^12 rows: hours of work unless interrupted.
		SlowSQL: "SELECT SUM(a.range * b.range) AS s FROM range(1000000) AS a, range(1000000) AS b",
	})
}

// query runs sql and fails the test on error.
func query(t *testing.T, s *Source, sql string, args ...any) *datasource.Result {
	t.Helper()
	res, err := s.Query(t.Context(), datasource.Query{SQL: sql, Args: args})
	if err != nil {
		t.Fatalf("Query(%q): %v", sql, err)
	}
	return res
}

// TestInMemoryShared checks that an in-memory database is one database for every pooled
// connection: a table created through one connection is read through others while the first
// is still busy.
func TestInMemoryShared(t *testing.T) {
	s := openTest(t, Config{})
	if err := s.Exec(t.Context(), "CREATE TABLE shared_t AS SELECT range AS n FROM range(100)"); err != nil {
		t.Fatal(err)
	}

	// Keep one connection busy so the reads below must use other connections.
	ctx, cancel := context.WithCancel(t.Context())
	busy := make(chan error, 1)
	started := make(chan struct{})
	go func() {
		close(started)
		_, err := s.Query(ctx, datasource.Query{SQL: "SELECT SUM(a.range * b.range) FROM range(1000000) a, range(1000000) b"})
		busy <- err
	}()
	<-started

	var wg sync.WaitGroup
	counts := make([]any, 8)
	for i := range counts {
		wg.Go(func() {
			res, err := s.Query(t.Context(), datasource.Query{SQL: "SELECT COUNT(*) AS n FROM shared_t"})
			if err != nil {
				t.Errorf("reader %d: %v", i, err)
				return
			}
			counts[i] = res.Rows[0][0]
		})
	}
	wg.Wait()
	open := s.db.Stats().OpenConnections
	cancel()
	if err := <-busy; !errors.Is(err, datasource.ErrCanceled) {
		t.Errorf("busy query: %v, want ErrCanceled", err)
	}
	for i, c := range counts {
		if c != int64(100) {
			t.Errorf("reader %d saw %v rows, want 100", i, c)
		}
	}
	if open < 2 {
		t.Errorf("only %d connection(s) were open; the test did not exercise several", open)
	}
}

func TestReadCSVAndInitSQL(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "sales.csv")
	data := "region,amount,day\nnorth,10.50,2024-01-02\nsouth,3.25,2024-01-03\nnorth,1.00,2024-02-01\n"
	if err := os.WriteFile(csv, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	s := openTest(t, Config{
		Threads: 2,
		InitSQL: []string{
			"CREATE VIEW sales AS SELECT region, CAST(amount AS DECIMAL(10,2)) AS amount, CAST(day AS DATE) AS day FROM read_csv('" + csv + "', header = true)",
		},
	})
	res := query(t, s, "SELECT region, SUM(amount) AS total, MIN(day) AS first FROM sales WHERE region = ? GROUP BY region", "north")
	if len(res.Rows) != 1 {
		t.Fatalf("rows %v, want one", res.Rows)
	}
	if got := fmt.Sprint(res.Rows[0]); got != "[north 11.50 2024-01-02]" {
		t.Errorf("row %s, want [north 11.50 2024-01-02]", got)
	}
}

func TestOpenErrors(t *testing.T) {
	t.Run("bad init statement", func(t *testing.T) {
		_, err := Open(t.Context(), Config{InitSQL: []string{"CREATE VIEW v AS SELECT * FROM read_csv('" + filepath.Join(t.TempDir(), "missing.csv") + "')"}})
		if err == nil {
			t.Fatal("Open with a view over a missing file succeeded")
		}
	})
	t.Run("unopenable path", func(t *testing.T) {
		_, err := Open(t.Context(), Config{Path: filepath.Join(t.TempDir(), "no", "such", "dir", "db.duckdb")})
		if !errors.Is(err, datasource.ErrUnavailable) {
			t.Fatalf("Open: %v, want ErrUnavailable", err)
		}
	})
}

func TestFileDatabasePersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "inlay.duckdb")
	s, err := Open(t.Context(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(t.Context(), "CREATE TABLE kept AS SELECT ? AS v", "stays"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTest(t, Config{Path: path})
	if got := query(t, s, "SELECT v FROM kept").Rows; fmt.Sprint(got) != "[[stays]]" {
		t.Errorf("rows %v after reopening, want [[stays]]", got)
	}
}

// TestEngineTypes covers DuckDB types beyond the portable set in the conformance suite.
func TestEngineTypes(t *testing.T) {
	s := openTest(t, Config{})
	tests := []struct {
		name, expr, typ string
		want            any
	}{
		{"hugeint beyond int64", "CAST('170141183460469231731687303715884105727' AS HUGEINT)", datasource.TypeDecimal, json.Number("170141183460469231731687303715884105727")},
		{"sum of integers is hugeint", "(SELECT SUM(x) FROM (VALUES (1), (2)) v(x))", datasource.TypeDecimal, json.Number("3")},
		{"ubigint", "CAST(18446744073709551615 AS UBIGINT)", datasource.TypeDecimal, json.Number("18446744073709551615")},
		{"count is bigint", "(SELECT COUNT(*) FROM range(3))", datasource.TypeInteger, int64(3)},
		{"utinyint", "CAST(200 AS UTINYINT)", datasource.TypeInteger, int64(200)},
		{"uuid", "CAST('6ba7b810-9dad-11d1-80b4-00c04fd430c8' AS UUID)", datasource.TypeOther, "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
		{"list", "[1, 2, 3]", datasource.TypeOther, "[1,2,3]"},
		{"interval", "INTERVAL '1 year 2 months 3 days 04:05:06'", datasource.TypeOther, "1 year 2 months 3 days 04:05:06"},
		{"time of day", "CAST('13:14:15' AS TIME)", datasource.TypeOther, "13:14:15"},
		{"blob", "CAST('\\xAA\\xBB' AS BLOB)", datasource.TypeOther, `\xaabb`},
		{"enum", "CAST('b' AS ENUM('a', 'b'))", datasource.TypeString, "b"},
		{"timestamp_ns", "CAST('2024-01-01 00:00:00.123456789' AS TIMESTAMP_NS)", datasource.TypeTimestamp, time.Date(2024, 1, 1, 0, 0, 0, 123456789, time.UTC)},
		{"negative decimal", "CAST(-1234.5 AS DECIMAL(8,3))", datasource.TypeDecimal, json.Number("-1234.500")},
		{"decimal below one", "CAST(0.007 AS DECIMAL(5,3))", datasource.TypeDecimal, json.Number("0.007")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := query(t, s, "SELECT "+tc.expr+" AS v")
			if res.Columns[0].Type != tc.typ {
				t.Errorf("type %q, want %q", res.Columns[0].Type, tc.typ)
			}
			got := res.Rows[0][0]
			if w, ok := tc.want.(time.Time); ok {
				if g, ok := got.(time.Time); !ok || !g.Equal(w) {
					t.Errorf("value %#v, want %v", got, w)
				}
				return
			}
			if got != tc.want {
				t.Errorf("value %#v (%T), want %#v (%T)", got, got, tc.want, tc.want)
			}
		})
	}
}

func TestExecInvalid(t *testing.T) {
	s := openTest(t, Config{})
	if err := s.Exec(t.Context(), "CREATE TABLE"); !errors.Is(err, datasource.ErrInvalidQuery) {
		t.Errorf("Exec(bad SQL): %v, want ErrInvalidQuery", err)
	}
}

func TestClosed(t *testing.T) {
	s, err := Open(t.Context(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Query(t.Context(), datasource.Query{SQL: "SELECT 1"}); !errors.Is(err, datasource.ErrUnavailable) {
		t.Errorf("Query after Close: %v, want ErrUnavailable", err)
	}
}

func TestDialect(t *testing.T) {
	d := Dialect{}
	tests := []struct{ got, want string }{
		{d.Name(), "duckdb"},
		{d.Placeholder(3), "?"},
		{d.QuoteIdent(`a"b`), `"a""b"`},
		{d.TimeBucket(datasource.GrainWeek, "ts"), "date_trunc('week', ts)"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
