package postgres

import (
	"strconv"
	"strings"

	"github.com/inlay/inlay/internal/datasource"
)

// Dialect is PostgreSQL's SQL spelling. It holds no state, so the compiler can use Dialect{} in
// tests without a server.
type Dialect struct{}

var _ datasource.Dialect = Dialect{}

// Name returns "postgres".
func (Dialect) Name() string { return "postgres" }

// Placeholder returns "$n".
func (Dialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

// QuoteIdent wraps name in double quotes, doubling any embedded double quote.
func (Dialect) QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// TimeBucket truncates expr with date_trunc; 'week' starts on Monday (ISO weeks). Over
// timestamptz the session time zone decides the bucket edges; Open pins it to UTC.
func (Dialect) TimeBucket(grain datasource.Grain, expr string) string {
	return "date_trunc('" + strings.ReplaceAll(string(grain), "'", "''") + "', " + expr + ")"
}
