package postgres_test

import (
	"testing"

	"github.com/inlay/inlay/internal/storage/postgres/pgtest"
)

// TestMain says in one line when the PostgreSQL tests of this package will skip.
func TestMain(m *testing.M) { pgtest.Main(m) }
