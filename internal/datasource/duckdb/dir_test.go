package duckdb

import (
	"os"
	"path/filepath"
	"testing"
)

// TestDirResolvesRelativePaths opens a database file whose init SQL reads Parquet files by a
// relative path, from a working directory elsewhere, twice: relative paths resolve against Dir
// (the project folder), on the first open, in the stored view on the second, and in queries.
func TestDirResolvesRelativePaths(t *testing.T) {
	project := t.TempDir()
	if err := os.Mkdir(filepath.Join(project, "orders"), 0o755); err != nil {
		t.Fatal(err)
	}
	{
		s := openTest(t, Config{})
		out := filepath.Join(project, "orders", "part-1.parquet")
		if err := s.Exec(t.Context(), "COPY (SELECT range AS id, range * 10 AS amount FROM range(5)) TO "+quoteLiteral(out)+" (FORMAT parquet)"); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(t.TempDir()) // the shell's folder is not the project's

	cfg := Config{
		Path:    filepath.Join(project, "warehouse.duckdb"),
		Dir:     project,
		InitSQL: []string{"CREATE OR REPLACE VIEW orders AS SELECT * FROM read_parquet('orders/*.parquet')"},
	}
	for start := 1; start <= 2; start++ {
		s, err := Open(t.Context(), cfg)
		if err != nil {
			t.Fatalf("start %d: %v", start, err)
		}
		res := query(t, s, "SELECT CAST(sum(amount) AS BIGINT) AS total FROM orders")
		if got := res.Rows[0][0]; got != int64(100) {
			t.Errorf("start %d: total = %v (%T), want 100", start, got, got)
		}
		// Dataset SQL naming a file directly resolves the same way.
		res = query(t, s, "SELECT count(*) AS n FROM 'orders/part-1.parquet'")
		if got := res.Rows[0][0]; got != int64(5) {
			t.Errorf("start %d: count = %v, want 5", start, got)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQuoteLiteral(t *testing.T) {
	if got := quoteLiteral("/a/it's"); got != "'/a/it''s'" {
		t.Errorf("quoteLiteral = %s", got)
	}
}
