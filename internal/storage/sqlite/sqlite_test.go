package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	_ "modernc.org/sqlite"

	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/conformance"
	"github.com/inlay/inlay/internal/storage/sqlite"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformanceMemory(t *testing.T) {
	conformance.Run(t, func(t *testing.T) storage.Store { return open(t, ":memory:") })
}

// The file-backed store runs with WAL and several connections, so concurrent updaters really
// contend for the write lock.
func TestConformanceFile(t *testing.T) {
	conformance.Run(t, func(t *testing.T) storage.Store {
		return open(t, filepath.Join(t.TempDir(), "state.db"))
	})
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	conformance.RunReopen(t, func(t *testing.T) storage.Store { return open(t, path) })
}

func TestMigrationsRecordedOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	open(t, path).Close()
	open(t, path).Close() // a second open applies nothing

	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, max int
	if err := db.QueryRowContext(context.Background(), `SELECT COUNT(*), MAX(version) FROM schema_version`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	want := len(sqlite.MigrationVersions())
	if n != want || max != want {
		t.Fatalf("schema_version: %d rows, max %d; want one row per migration, up to version %d", n, max, want)
	}
	var mode string
	if err := db.QueryRowContext(context.Background(), `PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode %q, want wal", mode)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	open(t, path).Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future.sql', 'x')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if s, err := sqlite.Open(t.Context(), path); err == nil {
		s.Close()
		t.Fatal("opened a database with a newer schema than this build knows")
	}
}
