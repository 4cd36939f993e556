package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/inlay/inlay/internal/storage"
	"github.com/inlay/inlay/internal/storage/conformance"
	"github.com/inlay/inlay/internal/storage/postgres"
	"github.com/inlay/inlay/internal/storage/postgres/pgtest"
)

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), postgres.Config{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) storage.Store { return open(t, pgtest.DSN(t)) })
}

func TestReopen(t *testing.T) {
	dsn := pgtest.DSN(t)
	conformance.RunReopen(t, func(t *testing.T) storage.Store { return open(t, dsn) })
}

// Three replicas starting at once on an empty schema: the advisory lock lets one migrate, the
// others find the schema current; every migration is recorded once.
func TestConcurrentStartMigratesOnce(t *testing.T) {
	dsn := pgtest.DSN(t)
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	stores := make(chan *postgres.Store, 3)
	for range 3 {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), postgres.Config{DSN: dsn})
			if err != nil {
				errs <- err
				return
			}
			stores <- s
		})
	}
	wg.Wait()
	close(errs)
	close(stores)
	for err := range errs {
		t.Fatal(err)
	}
	for s := range stores {
		s.Close()
	}
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n, max int64
	if err := conn.QueryRow(t.Context(), `SELECT count(*), max(version_id) FROM inlay_schema_version WHERE version_id > 0`).Scan(&n, &max); err != nil {
		t.Fatal(err)
	}
	want := postgres.MigrationVersions()
	if n != int64(len(want)) || max != want[len(want)-1] {
		t.Fatalf("schema versions: %d rows up to %d; want one per migration up to %d", n, max, want[len(want)-1])
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	dsn := pgtest.DSN(t)
	open(t, dsn).Close()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `INSERT INTO inlay_schema_version (version_id, is_applied) VALUES (999, true)`); err != nil {
		t.Fatal(err)
	}
	if s, err := postgres.Open(t.Context(), postgres.Config{DSN: dsn}); err == nil {
		s.Close()
		t.Fatal("opened a database with a newer schema than this build knows")
	}
}

func TestOpenBadDSNDoesNotLeakPassword(t *testing.T) {
	_, err := postgres.Open(t.Context(), postgres.Config{DSN: "postgres://u:hunter2@[::1"})
	if err == nil {
		t.Fatal("opened a malformed dsn")
	}
	if got := err.Error(); strings.Contains(got, "hunter2") {
		t.Fatalf("error reveals the password: %s", got)
	}
}
