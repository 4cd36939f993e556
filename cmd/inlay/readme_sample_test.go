package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlay/inlay/internal/config"
	"github.com/inlay/inlay/internal/datasource"
)

// readmeDataSource returns the README's sample DuckDB data source line (the `default:` entry of
// the sample inlay.yaml), so that this test checks what a reader would copy.
func readmeDataSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(line, "  default: {type: duckdb") {
			return line
		}
	}
	t.Fatal("README.md has no sample `default: {type: duckdb, ...}` data source")
	return ""
}

// TestReadmeSampleStartsTwice starts the README's sample data source twice over the same
// database file, from a working directory other than the project's: relative paths in init_sql
// resolve against the project folder like `path:` does, and the init SQL is idempotent.
func TestReadmeSampleStartsTwice(t *testing.T) {
	sample := readmeDataSource(t)
	project := t.TempDir()
	write(t, filepath.Join(project, config.FileName), "data_sources:\n"+sample+"\n")
	// orders/*.parquet, as the sample reads.
	if err := os.Mkdir(filepath.Join(project, "orders"), 0o755); err != nil {
		t.Fatal(err)
	}
	mk, err := sourceOpeners[config.TypeDuckDB](t.Context(), config.DataSourceConfig{Type: config.TypeDuckDB, ExternalAccess: true})
	if err != nil {
		t.Fatal(err)
	}
	parquet := filepath.Join(project, "orders", "2026.parquet")
	if _, err := mk.Query(t.Context(), datasource.Query{SQL: "COPY (SELECT range AS id FROM range(7)) TO '" + parquet + "' (FORMAT parquet)"}); err != nil {
		t.Fatal(err)
	}
	_ = mk.Close()

	t.Chdir(t.TempDir())
	for start := 1; start <= 2; start++ {
		cfg, err := config.Load(project, func(string) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		sources, err := openSources(t.Context(), cfg)
		if err != nil {
			t.Fatalf("start %d: %v", start, err)
		}
		res, err := sources["default"].Query(t.Context(), datasource.Query{SQL: "SELECT count(*) AS n FROM orders"})
		closeSources(sources)
		if err != nil {
			t.Fatalf("start %d: %v", start, err)
		}
		if got := res.Rows[0][0]; got != int64(7) {
			t.Errorf("start %d: %v orders, want 7", start, got)
		}
	}
	if _, err := os.Stat(filepath.Join(project, "warehouse.duckdb")); err != nil {
		t.Errorf("the database file is not in the project folder: %v", err)
	}
}
