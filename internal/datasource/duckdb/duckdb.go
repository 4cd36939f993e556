// Package duckdb is the embedded DuckDB data source: an in-memory or file database, which can
// also read Parquet and CSV files through SQL (read_parquet, read_csv).
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/inlay/inlay/internal/datasource"
)

// Config selects the database and how it is prepared.
type Config struct {
	// Path is the database file; "" opens a private in-memory database.
	Path string
	// Threads caps DuckDB's worker threads; 0 keeps DuckDB's default (one per core).
	Threads int
	// InitSQL statements run once at open, in order, e.g.
	// CREATE OR REPLACE VIEW sales AS SELECT * FROM read_parquet('sales.parquet').
	// On a database file they persist, so they should be idempotent (CREATE OR REPLACE).
	InitSQL []string
	// Dir is the folder relative file names in SQL resolve against (read_parquet('x.parquet'),
	// in InitSQL, in views stored in the file, and in dataset SQL): DuckDB's file_search_path,
	// set on every connection. "" leaves DuckDB's default, the process's working directory.
	Dir string
	// Sandbox, after InitSQL, turns DuckDB's external access off (no files outside
	// AllowedDirectories, no network, no extension loading) and locks the configuration so
	// that dashboard SQL cannot turn it back on. See sandbox.go.
	Sandbox bool
	// AllowedDirectories are the folders dashboard SQL may still read files from when
	// Sandbox is on.
	AllowedDirectories []string
}

// Source is an open DuckDB database. It is safe for concurrent use.
type Source struct {
	db     *sql.DB
	closed atomic.Bool
	// locked is set once the configuration is locked (Sandbox): new connections then inherit
	// the global session settings instead of setting them.
	locked *atomic.Bool
}

var _ datasource.Source = (*Source)(nil)

// sessionSetup runs on every new pooled connection. Time buckets over TIMESTAMPTZ values follow
// the session time zone, so it is pinned to UTC to give the same buckets as PostgreSQL (whose
// session is pinned too) whatever the machine's zone.
var sessionSetup = []string{"SET TimeZone = 'UTC'"}

// Open opens the database described by cfg and runs its InitSQL. The connector opens the
// database once and every pooled connection attaches to that same instance, so an in-memory
// database is one database shared by all queries.
func Open(ctx context.Context, cfg Config) (*Source, error) {
	setup := sessionSetup
	if cfg.Dir != "" {
		setup = append(slices.Clip(setup), "SET file_search_path = "+quoteLiteral(cfg.Dir))
	}
	locked := new(atomic.Bool)
	connector, err := duckdb.NewConnector(cfg.dsn(), func(conn driver.ExecerContext) error {
		if locked.Load() {
			return nil // set globally before the lock (sandbox)
		}
		for _, stmt := range setup {
			if _, err := conn.ExecContext(context.Background(), stmt, nil); err != nil {
				return fmt.Errorf("duckdb: session setup %q: %w", stmt, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("duckdb: open %q: %w: %w", cfg.Path, datasource.ErrUnavailable, err)
	}
	s := &Source{db: sql.OpenDB(connector), locked: locked}
	// Connections are cheap in DuckDB; keeping a few idle avoids re-running session setup.
	s.db.SetMaxIdleConns(8)
	for i, stmt := range cfg.InitSQL {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			_ = s.db.Close()
			return nil, fmt.Errorf("duckdb: init statement %d: %w", i+1, classify(ctx, ctx, err))
		}
	}
	if cfg.Sandbox {
		if err := s.sandbox(ctx, cfg.AllowedDirectories, cfg.Dir); err != nil {
			_ = s.db.Close()
			return nil, err
		}
	}
	return s, nil
}

// Dialect returns DuckDB's SQL spelling.
func (s *Source) Dialect() datasource.Dialect { return Dialect{} }

// Exec runs a statement that returns no rows, for setup such as creating demo data. It is not
// read-only and has no row cap: never give it request input other than as args.
func (s *Source) Exec(ctx context.Context, sql string, args ...any) error {
	if _, err := s.db.ExecContext(ctx, sql, args...); err != nil {
		return fmt.Errorf("duckdb: exec: %w", s.classify(ctx, ctx, err))
	}
	return nil
}

// Close closes the pool and the database. An in-memory database is gone afterwards.
func (s *Source) Close() error {
	s.closed.Store(true)
	return s.db.Close()
}

// Query runs q with its arguments bound. Cancelling ctx or passing q.Timeout interrupts the
// query inside DuckDB (the driver calls duckdb_interrupt), so the engine stops working too.
func (s *Source) Query(ctx context.Context, q datasource.Query) (*datasource.Result, error) {
	qctx, cancel := ctx, context.CancelFunc(func() {})
	if q.Timeout > 0 {
		qctx, cancel = context.WithTimeout(ctx, q.Timeout)
	}
	defer cancel()

	rows, err := s.db.QueryContext(qctx, q.SQL, q.Args...)
	if err != nil {
		return nil, fmt.Errorf("duckdb: query: %w", s.classify(ctx, qctx, err))
	}
	defer rows.Close()

	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, fmt.Errorf("duckdb: column types: %w", s.classify(ctx, qctx, err))
	}
	n := len(types)
	res := &datasource.Result{Columns: make([]datasource.Column, n), Rows: [][]any{}}
	convs := make([]converter, n)
	for i, ct := range types {
		kind, conv := columnKind(ct.DatabaseTypeName())
		res.Columns[i] = datasource.Column{Name: ct.Name(), Type: kind}
		convs[i] = conv
	}

	// One set of scan targets, reused for every row.
	vals := make([]any, n)
	ptrs := make([]any, n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	buf := datasource.NewRowBuffer(n, q.MaxRows)
	for rows.Next() {
		if buf.Full() {
			// A row beyond the cap exists: say so, and stop without reading the rest.
			res.Truncated = true
			break
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("duckdb: scan: %w", s.classify(ctx, qctx, err))
		}
		row := buf.Add()
		for i, v := range vals {
			if v != nil {
				row[i] = convs[i](v)
			}
		}
	}
	res.Rows = buf.Rows()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("duckdb: read rows: %w", s.classify(ctx, qctx, err))
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("duckdb: close rows: %w", s.classify(ctx, qctx, err))
	}
	return res, nil
}

// classify maps err onto the contract's sentinel errors, keeping err as the cause. ctx is the
// caller's context, qctx the one carrying q.Timeout.
func (s *Source) classify(ctx, qctx context.Context, err error) error {
	if s.closed.Load() {
		return fmt.Errorf("%w: source closed: %w", datasource.ErrUnavailable, err)
	}
	return classify(ctx, qctx, err)
}

func classify(ctx, qctx context.Context, err error) error {
	if classified, ok := datasource.ContextError(ctx, qctx, err); ok {
		return classified
	}
	switch {
	case errors.Is(err, sql.ErrConnDone), errors.Is(err, driver.ErrBadConn):
		return fmt.Errorf("%w: %w", datasource.ErrUnavailable, err)
	}
	var de *duckdb.Error
	if errors.As(err, &de) {
		switch de.Type {
		case duckdb.ErrorTypeConnection, duckdb.ErrorTypeIO, duckdb.ErrorTypeFatal,
			duckdb.ErrorTypeInternal, duckdb.ErrorTypeOutOfMemory, duckdb.ErrorTypeNetwork,
			duckdb.ErrorTypeHTTP, duckdb.ErrorTypeInterrupt, duckdb.ErrorTypeTransaction:
			return fmt.Errorf("%w: %w", datasource.ErrUnavailable, err)
		}
	}
	// Engine errors (syntax, binder, catalog, conversion...) and argument binding errors are
	// the query author's mistake.
	return fmt.Errorf("%w: %w", datasource.ErrInvalidQuery, err)
}
