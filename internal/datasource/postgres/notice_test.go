package postgres

import (
	"fmt"
	"os"
	"testing"
)

// TestMain says in one line, before any test runs, when the PostgreSQL tests of this package
// will skip (go test shows it with -v, in a directory run, and when the package fails; each
// skipped test also names the variable).
func TestMain(m *testing.M) {
	if os.Getenv("INLAY_TEST_POSTGRES_DSN") == "" {
		fmt.Fprintln(os.Stderr, "notice: INLAY_TEST_POSTGRES_DSN is not set: the PostgreSQL tests of this package skip (make test sets it)")
	}
	os.Exit(m.Run())
}
