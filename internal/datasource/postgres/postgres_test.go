package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/conformance"
)

const dsnVar = "INLAY_TEST_POSTGRES_DSN"

// openTest opens the test server named by INLAY_TEST_POSTGRES_DSN, or skips.
func openTest(t *testing.T) *Source {
	t.Helper()
	dsn := os.Getenv(dsnVar)
	if dsn == "" {
		t.Skipf("set %s (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run PostgreSQL tests", dsnVar)
	}
	s, err := Open(t.Context(), Config{DSN: dsn, MaxConns: 8})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	conformance.Run(t, conformance.Harness{
		Open:    func(t *testing.T) datasource.Source { return openTest(t) },
		SlowSQL: "SELECT pg_sleep(600) AS slept",
	})
}

func query(t *testing.T, s *Source, sql string, args ...any) *datasource.Result {
	t.Helper()
	res, err := s.Query(t.Context(), datasource.Query{SQL: sql, Args: args})
	if err != nil {
		t.Fatalf("Query(%q): %v", sql, err)
	}
	return res
}

func TestOpenUnreachable(t *testing.T) {
	// Port 1 on loopback: nothing listens there, so the connection is refused at once.
	_, err := Open(t.Context(), Config{DSN: "postgres://inlay:s3cret@127.0.0.1:1/none?sslmode=disable&connect_timeout=5"})
	if !errors.Is(err, datasource.ErrUnavailable) {
		t.Fatalf("Open: %v, want ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error reveals the password: %v", err)
	}
}

func TestOpenBadDSN(t *testing.T) {
	if _, err := Open(t.Context(), Config{DSN: "postgres://u:p@host:notaport/db"}); err == nil {
		t.Fatal("Open with a malformed DSN succeeded")
	}
}

// TestReadOnlyAndExec checks that queries cannot write while Exec can.
func TestReadOnlyAndExec(t *testing.T) {
	s := openTest(t)
	table := fmt.Sprintf("inlay_ds_test_%d", time.Now().UnixNano())
	_, err := s.Query(t.Context(), datasource.Query{SQL: "CREATE TABLE " + table + " (v text)"})
	if !errors.Is(err, datasource.ErrInvalidQuery) {
		t.Fatalf("CREATE TABLE through Query: %v, want ErrInvalidQuery (read-only)", err)
	}
	if err := s.Exec(t.Context(), "CREATE TABLE "+table+" (v text)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Exec(context.WithoutCancel(t.Context()), "DROP TABLE "+table); err != nil {
			t.Errorf("drop: %v", err)
		}
	})
	if err := s.Exec(t.Context(), "INSERT INTO "+table+" (v) VALUES ($1), ($2)", "a'b", "c"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Query(t.Context(), datasource.Query{SQL: "INSERT INTO " + table + " (v) VALUES ($1)", Args: []any{"x"}}); !errors.Is(err, datasource.ErrInvalidQuery) {
		t.Errorf("INSERT through Query: %v, want ErrInvalidQuery (read-only)", err)
	}
	if got := query(t, s, "SELECT v FROM "+table+" ORDER BY v").Rows; fmt.Sprint(got) != "[[a'b] [c]]" {
		t.Errorf("rows %v, want [[a'b] [c]]", got)
	}
	if err := s.Exec(t.Context(), "INSERT INTO no_such_table_inlay VALUES (1)"); !errors.Is(err, datasource.ErrInvalidQuery) {
		t.Errorf("Exec on a missing table: %v, want ErrInvalidQuery", err)
	}
}

// TestCancelStopsServerQuery checks that the server itself stops a cancelled query, not just
// the client.
func TestCancelStopsServerQuery(t *testing.T) {
	s := openTest(t)
	marker := fmt.Sprintf("inlay_cancel_%d", time.Now().UnixNano())
	for _, tc := range []struct {
		name    string
		timeout time.Duration
		want    error
	}{
		{"cancel", 0, datasource.ErrCanceled},
		{"timeout", 200 * time.Millisecond, datasource.ErrTimeout},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tc.timeout == 0 {
				time.AfterFunc(200*time.Millisecond, cancel)
			}
			// CPU-bound, so only a cancel request stops it: the backend does not notice a
			// closed connection until it has rows to send.
			sql := "SELECT COUNT(*) /* " + marker + " */ FROM generate_series(1, 100000) AS a, generate_series(1, 100000) AS b"
			if _, err := s.Query(ctx, datasource.Query{SQL: sql, Timeout: tc.timeout}); !errors.Is(err, tc.want) {
				t.Fatalf("Query: %v, want %v", err, tc.want)
			}
			// pg_stat_activity may lag a moment; poll a bounded number of times.
			var active any
			for range 50 {
				res := query(t, s, "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()", "%"+marker+"%")
				if active = res.Rows[0][0]; active == int64(0) {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
			t.Errorf("%v server queries still active after cancellation", active)
		})
	}
}

// TestEngineTypes covers PostgreSQL types beyond the portable set in the conformance suite.
func TestEngineTypes(t *testing.T) {
	s := openTest(t)
	tests := []struct {
		name, expr, typ string
		want            any
	}{
		{"numeric unconstrained", "CAST('123456789012345678901234567890.000123' AS NUMERIC)", datasource.TypeDecimal, json.Number("123456789012345678901234567890.000123")},
		{"sum of bigint is numeric", "(SELECT SUM(x) FROM (VALUES (CAST(9223372036854775807 AS BIGINT)), (1)) v(x))", datasource.TypeDecimal, json.Number("9223372036854775808")},
		{"numeric NaN", "CAST('NaN' AS NUMERIC)", datasource.TypeDecimal, nil},
		{"count is bigint", "(SELECT COUNT(*) FROM generate_series(1, 3))", datasource.TypeInteger, int64(3)},
		{"uuid", "CAST('6ba7b810-9dad-11d1-80b4-00c04fd430c8' AS UUID)", datasource.TypeOther, "6ba7b810-9dad-11d1-80b4-00c04fd430c8"},
		{"array", "ARRAY[1, 2, 3]", datasource.TypeOther, "{1,2,3}"},
		{"interval", "INTERVAL '1 year 2 months 3 days 04:05:06'", datasource.TypeOther, "1 year 2 mons 3 days 04:05:06"},
		{"jsonb", `CAST('{"a": 1}' AS JSONB)`, datasource.TypeOther, `{"a": 1}`},
		{"char", "CAST('ab' AS CHAR(3))", datasource.TypeString, "ab "},
		{"infinite timestamp", "CAST('infinity' AS TIMESTAMPTZ)", datasource.TypeTimestamp, nil},
		{"text", "'plain'", datasource.TypeString, "plain"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := query(t, s, "SELECT "+tc.expr+" AS v")
			if res.Columns[0].Type != tc.typ {
				t.Errorf("type %q, want %q", res.Columns[0].Type, tc.typ)
			}
			if got := res.Rows[0][0]; got != tc.want {
				t.Errorf("value %#v (%T), want %#v (%T)", got, got, tc.want, tc.want)
			}
		})
	}
}

func TestDialect(t *testing.T) {
	d := Dialect{}
	tests := []struct{ got, want string }{
		{d.Name(), "postgres"},
		{d.Placeholder(1), "$1"},
		{d.Placeholder(12), "$12"},
		{d.QuoteIdent(`a"b`), `"a""b"`},
		{d.TimeBucket(datasource.GrainQuarter, "ts"), "date_trunc('quarter', ts)"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
