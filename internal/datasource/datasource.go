// Package datasource is the contract between Inlay's query engine and the databases that answer
// dashboard queries. Each engine lives in its own sub-package (duckdb, postgres) and passes the
// conformance suite in datasource/conformance. Engine differences in SQL (parameter markers,
// identifier quoting, time bucketing) are expressed through Dialect, so the compiler stays
// engine-neutral.
package datasource

import (
	"context"
	"errors"
	"time"
)

// Source runs read-only SQL against one configured database.
type Source interface {
	// Dialect tells the compiler how this engine spells parameters, identifiers and time buckets.
	Dialect() Dialect
	// Query runs q.SQL with q.Args bound as parameters (never interpolated). It stops reading
	// after q.MaxRows rows and sets Result.Truncated, honours q.Timeout and ctx cancellation.
	Query(ctx context.Context, q Query) (*Result, error)
	// Close releases the connection pool.
	Close() error
}

// Dialect holds the engine-specific pieces of SQL text.
type Dialect interface {
	// Name is the engine name, e.g. "duckdb" or "postgres".
	Name() string
	// Placeholder returns the marker for the n-th bound parameter, n starting at 1
	// ("?" for DuckDB, "$n" for PostgreSQL).
	Placeholder(n int) string
	// QuoteIdent quotes a column or alias name.
	QuoteIdent(name string) string
	// TimeBucket truncates the SQL expression expr to grain, one of Grains.
	TimeBucket(grain Grain, expr string) string
}

// BucketKeyer is implemented by dialects where grouping rows by an integer key of their time
// bucket is much cheaper than truncating every row (DuckDB's date_trunc builds a timestamp per
// row). The compiler then groups by the key and truncates one value per group.
type BucketKeyer interface {
	// TimeBucketKey returns an integer expression that is equal for two values of expr exactly
	// when TimeBucket(grain, ·) is, and false for grains it has no such key for.
	TimeBucketKey(grain Grain, expr string) (string, bool)
}

// Grain is a time-bucketing granularity.
type Grain string

const (
	GrainHour    Grain = "hour"
	GrainDay     Grain = "day"
	GrainWeek    Grain = "week"
	GrainMonth   Grain = "month"
	GrainQuarter Grain = "quarter"
	GrainYear    Grain = "year"
)

// Grains lists every supported grain.
var Grains = []Grain{GrainHour, GrainDay, GrainWeek, GrainMonth, GrainQuarter, GrainYear}

// Query is one statement with its bound arguments and limits.
type Query struct {
	SQL     string
	Args    []any
	MaxRows int           // 0 means no cap
	Timeout time.Duration // 0 means only ctx bounds it
	// Credential, when set, supplies the token the query runs with (a source whose queries run
	// with each viewer's own credentials calls it per query, or per request); sources that take
	// no per-query credentials ignore it.
	Credential func(ctx context.Context) (string, error)
	// CredentialOwner names whose credentials Credential supplies ("viewer:alice"), so a source
	// can keep one session per owner and never run one person's query on another's session.
	CredentialOwner string
}

// Column types reported in Result.Columns. Values in Result.Rows use these Go types:
//
//	TypeString    string
//	TypeInteger   int64
//	TypeFloat     float64
//	TypeDecimal   json.Number (exact decimal text, e.g. "1234.50")
//	TypeBoolean   bool
//	TypeTimestamp time.Time (in UTC)
//	TypeDate      string "2006-01-02"
//	TypeOther     string (the engine's text form)
//
// A NULL is nil whatever the column type.
const (
	TypeString    = "string"
	TypeInteger   = "integer"
	TypeFloat     = "float"
	TypeDecimal   = "decimal"
	TypeBoolean   = "boolean"
	TypeTimestamp = "timestamp"
	TypeDate      = "date"
	TypeOther     = "other"
)

// Column describes one result column.
type Column struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// Result is a fully-read result set. Rows is never nil (an empty result is an empty slice).
type Result struct {
	Columns   []Column `json:"columns"`
	Rows      [][]any  `json:"rows"`
	Truncated bool     `json:"truncated"`
}

// Errors every implementation maps its failures onto (wrapped, so errors.Is works and the cause
// stays available for logs).
var (
	// ErrInvalidQuery: the SQL or its arguments were rejected by the engine (syntax, unknown
	// column, type mismatch). A dashboard author's mistake, not an outage.
	ErrInvalidQuery = errors.New("datasource: invalid query")
	// ErrTimeout: the query ran longer than Query.Timeout.
	ErrTimeout = errors.New("datasource: query timed out")
	// ErrUnavailable: the database could not be reached or the connection failed.
	ErrUnavailable = errors.New("datasource: unavailable")
	// ErrCanceled: the caller's context was cancelled (e.g. the client went away).
	ErrCanceled = errors.New("datasource: query canceled")
	// ErrBusy: too many queries are running and waiting on the source; try again later.
	ErrBusy = errors.New("datasource: too many queries")
)
