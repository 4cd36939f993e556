package duckdb

import (
	"strconv"
	"strings"

	"github.com/inlay/inlay/internal/datasource"
)

// Dialect is DuckDB's SQL spelling. It holds no state, so the compiler can use Dialect{} in tests
// without opening a database.
type Dialect struct{}

var _ datasource.Dialect = Dialect{}

// Name returns "duckdb".
func (Dialect) Name() string { return "duckdb" }

// Placeholder returns "?": DuckDB numbers positional markers by their order in the text, so the
// compiler must emit them in argument order. n is accepted for the interface.
func (Dialect) Placeholder(int) string { return "?" }

// QuoteIdent wraps name in double quotes, doubling any embedded double quote.
func (Dialect) QuoteIdent(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// TimeBucket truncates expr with date_trunc. DuckDB's 'week' starts on Monday (ISO weeks), like
// PostgreSQL's. The grain is quoted as a literal: it comes from the closed set datasource.Grains,
// never from a request, but quoting keeps an unexpected value from becoming SQL.
func (Dialect) TimeBucket(grain datasource.Grain, expr string) string {
	return "date_trunc(" + quoteLiteral(string(grain)) + ", " + expr + ")"
}

// TimeBucketKey implements datasource.BucketKeyer for the calendar grains: year, quarter and
// month numbers come from date parts (in the session time zone for TIMESTAMPTZ, as date_trunc's
// buckets do), which DuckDB computes several times faster than it truncates.
func (Dialect) TimeBucketKey(grain datasource.Grain, expr string) (string, bool) {
	switch grain {
	case datasource.GrainYear:
		return "year(" + expr + ")", true
	case datasource.GrainQuarter:
		return "(year(" + expr + ") * 4 + quarter(" + expr + "))", true
	case datasource.GrainMonth:
		return "(year(" + expr + ") * 12 + month(" + expr + "))", true
	}
	return "", false
}

func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// dsn builds the driver's connection string: the file path (empty = in memory) and options.
func (c Config) dsn() string {
	if c.Threads > 0 {
		return c.Path + "?threads=" + strconv.Itoa(c.Threads)
	}
	return c.Path
}
