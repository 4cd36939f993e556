package duckdb_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/inlay/inlay/internal/datasource"
	"github.com/inlay/inlay/internal/datasource/duckdb"
)

func TestSandbox(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	private := filepath.Join(dir, "data-private")
	for _, d := range []string{data, private} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFile := func(path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(filepath.Join(data, "orders.csv"), "tenant,amount\nacme,10\nglobex,5\n")
	writeFile(filepath.Join(private, "secret.csv"), "k\nsecret-value\n")

	src, err := duckdb.Open(t.Context(), duckdb.Config{
		// init_sql runs before the sandbox, so it may set up what it likes.
		InitSQL: []string{
			"CREATE VIEW orders AS SELECT * FROM read_csv('" + filepath.Join(data, "orders.csv") + "')",
			"SET threads = 2",
		},
		Sandbox:            true,
		AllowedDirectories: []string{data},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	query := func(sql string) (*datasource.Result, error) {
		return src.Query(t.Context(), datasource.Query{SQL: sql, MaxRows: 100})
	}

	// Allowed: the view init_sql made, and any file in the configured folder.
	if res, err := query("SELECT sum(amount) FROM orders"); err != nil || len(res.Rows) != 1 {
		t.Fatalf("view over an allowed file: %v %v", res, err)
	}
	if _, err := query("SELECT * FROM read_csv('" + filepath.Join(data, "orders.csv") + "')"); err != nil {
		t.Fatalf("read_csv in an allowed folder: %v", err)
	}

	refused := []struct{ name, sql string }{
		{"a system file", "SELECT * FROM read_csv('/etc/passwd')"},
		{"a sibling folder sharing the prefix", "SELECT * FROM read_csv('" + filepath.Join(private, "secret.csv") + "')"},
		{"a relative escape", "SELECT * FROM read_csv('" + data + "/../data-private/secret.csv')"},
		{"listing files", "SELECT * FROM glob('/etc/*')"},
		{"the network", "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')"},
		// DuckDB's allowed_directories grant writing too: only folders outside are protected.
		{"writing a file outside", "COPY (SELECT 1) TO '" + filepath.Join(dir, "out.csv") + "'"},
		{"attaching a database", "ATTACH '" + filepath.Join(dir, "other.db") + "'"},
		{"installing an extension", "INSTALL httpfs"},
		{"turning access back on", "SET enable_external_access = true"},
		{"widening the folders", "SET allowed_directories = ['/']"},
		{"unlocking", "SET lock_configuration = false"},
		{"resetting", "RESET enable_external_access"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			res, err := query(tt.sql)
			if err == nil {
				t.Fatalf("%s: allowed, got %v", tt.sql, res.Rows)
			}
			if !errors.Is(err, datasource.ErrInvalidQuery) {
				t.Errorf("%s: %v, want an invalid query (the author's SQL is refused; not an outage)", tt.sql, err)
			}
			if strings.Contains(err.Error(), "secret-value") || strings.Contains(err.Error(), "root:") {
				t.Errorf("the error leaks file contents: %v", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "out.csv")); err == nil {
		t.Error("COPY wrote a file")
	}

	// New connections after the lock still open, in UTC.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			res, err := query("SELECT current_setting('TimeZone'), count(*) FROM range(2000000)")
			if err != nil {
				t.Errorf("query on a new connection: %v", err)
				return
			}
			if res.Rows[0][0] != "UTC" {
				t.Errorf("time zone %v, want UTC", res.Rows[0][0])
			}
		})
	}
	wg.Wait()
}

// Without the sandbox (external_access: true) files are readable: the test above can fail.
func TestNoSandboxReadsFiles(t *testing.T) {
	src, err := duckdb.Open(t.Context(), duckdb.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	if _, err := src.Query(t.Context(), datasource.Query{SQL: "SELECT * FROM read_csv('/etc/passwd', header=false, sep='|')", MaxRows: 1}); err != nil {
		t.Fatalf("unsandboxed read: %v", err)
	}
}

// Relative names resolve against Dir (file_search_path) and stay inside the allowed folders.
func TestSandboxRelativeNames(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"data", "data-private"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, sub, "f.csv"), []byte("v\n1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := duckdb.Open(t.Context(), duckdb.Config{Dir: dir, Sandbox: true, AllowedDirectories: []string{filepath.Join(dir, "data")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	q := func(sql string) error {
		_, err := src.Query(t.Context(), datasource.Query{SQL: sql, MaxRows: 10})
		return err
	}
	if err := q("SELECT * FROM read_csv('data/f.csv')"); err != nil {
		t.Errorf("relative name in the allowed folder: %v", err)
	}
	if err := q("SELECT * FROM read_csv('data/*.csv')"); err != nil {
		t.Errorf("relative glob in the allowed folder: %v", err)
	}
	for _, sql := range []string{
		"SELECT * FROM read_csv('data-private/f.csv')",
		"SELECT * FROM read_csv('data/../data-private/f.csv')",
	} {
		if err := q(sql); err == nil {
			t.Errorf("%s: allowed", sql)
		}
	}
}
