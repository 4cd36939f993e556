// Package pgtest gives tests their own PostgreSQL schema on the database named by
// INLAY_TEST_POSTGRES_DSN, so tests running in parallel (and other people's tests on the same
// server) do not see each other's tables.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable holding the test database's connection string.
const EnvDSN = "INLAY_TEST_POSTGRES_DSN"

// DSN creates a fresh schema, drops it when the test ends, and returns a connection string (a
// URL) whose search_path selects it. The test is skipped when INLAY_TEST_POSTGRES_DSN is unset.
func DSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvDSN)
	if base == "" {
		t.Skip(EnvDSN + " is not set: set it to a PostgreSQL URL (e.g. postgres://postgres@127.0.0.1:5432/inlay_test?sslmode=disable) to run this test")
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvDSN)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "t_" + strings.ToLower(hex.EncodeToString(b))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvDSN, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Logf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Main runs a package's tests (call it from TestMain), first saying in one line when
// INLAY_TEST_POSTGRES_DSN is unset and the package's PostgreSQL tests will skip: go test shows
// it with -v, in a directory run, and when the package fails, and each skipped test names the
// variable too.
func Main(m *testing.M) {
	if os.Getenv(EnvDSN) == "" {
		fmt.Fprintln(os.Stderr, "notice: "+EnvDSN+" is not set: the PostgreSQL tests of this package skip (make test sets it)")
	}
	os.Exit(m.Run())
}
