// Package postgres is the PostgreSQL data source, over a pgx connection pool.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/inlay/inlay/internal/datasource"
)

// Config locates the server.
type Config struct {
	// DSN is a libpq connection string or URL. It may hold a password: never log it.
	DSN string
	// MaxConns caps the pool; 0 keeps pgxpool's default (the larger of 4 and the CPU count).
	MaxConns int32
}

// Source is a pool of connections to one PostgreSQL database. It is safe for concurrent use.
type Source struct {
	pool *pgxpool.Pool
}

var _ datasource.Source = (*Source)(nil)

// cancelGrace is how long a cancelled query may take to acknowledge the server-side cancel
// before its connection is cut.
const cancelGrace = 3 * time.Second

// Open connects to the server and checks it answers; failing that, the error wraps
// datasource.ErrUnavailable. Sessions are read-only by default and use UTC.
func Open(ctx context.Context, cfg Config) (*Source, error) {
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		// pgx's parse errors redact the password.
		return nil, fmt.Errorf("postgres: parse DSN: %w", err)
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	cc := pc.ConnConfig
	// Session defaults sent in the startup message, so they cost no round trip:
	// every transaction is read-only unless Exec asks otherwise, and date_trunc over
	// timestamptz buckets in UTC whatever the server's zone.
	cc.RuntimeParams["default_transaction_read_only"] = "on"
	cc.RuntimeParams["TimeZone"] = "UTC"
	if cc.RuntimeParams["application_name"] == "" {
		cc.RuntimeParams["application_name"] = "inlay"
	}
	// The extended protocol, whatever the DSN says: arguments are always sent bound, never
	// spliced into the SQL text.
	cc.DefaultQueryExecMode = pgx.QueryExecModeCacheStatement
	// On cancel or timeout, ask the server to stop the query (pgx's default only cuts the
	// connection, and the server would go on running it).
	cc.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: cancelGrace}
	}

	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w: %w", datasource.ErrUnavailable, err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect to %s:%d: %w: %w", cc.Host, cc.Port, datasource.ErrUnavailable, err)
	}
	return &Source{pool: pool}, nil
}

// Dialect returns PostgreSQL's SQL spelling.
func (s *Source) Dialect() datasource.Dialect { return Dialect{} }

// Close closes the pool, waiting for connections in use to be returned.
func (s *Source) Close() error {
	s.pool.Close()
	return nil
}

// Exec runs a statement in a read-write transaction, for setup such as creating demo data.
// It is not for request-driven SQL.
func (s *Source) Exec(ctx context.Context, sql string, args ...any) error {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadWrite})
	if err != nil {
		return fmt.Errorf("postgres: begin: %w", classify(ctx, ctx, err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // no-op after Commit
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return fmt.Errorf("postgres: exec: %w", classify(ctx, ctx, err))
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", classify(ctx, ctx, err))
	}
	return nil
}

// Query runs q with its arguments bound (extended protocol), in the session's read-only mode.
// Cancelling ctx or passing q.Timeout sends PostgreSQL a cancel request for the query.
//
// At the row cap Query stops converting rows, but pgx still reads the rest of the result off
// the wire when the rows are closed: callers should also put a LIMIT of MaxRows+1 in the SQL.
func (s *Source) Query(ctx context.Context, q datasource.Query) (*datasource.Result, error) {
	qctx, cancel := ctx, context.CancelFunc(func() {})
	if q.Timeout > 0 {
		qctx, cancel = context.WithTimeout(ctx, q.Timeout)
	}
	defer cancel()

	args := make([]any, 0, len(q.Args)+1)
	args = append(args, binaryOIDs)
	args = append(args, q.Args...)
	rows, err := s.pool.Query(qctx, q.SQL, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: query: %w", classify(ctx, qctx, err))
	}
	defer rows.Close()

	fields := rows.FieldDescriptions()
	n := len(fields)
	res := &datasource.Result{Columns: make([]datasource.Column, n), Rows: [][]any{}}
	cols := make([]column, n)
	targets := make([]any, n) // reused for every row
	for i, f := range fields {
		typ, c := newColumn(f.DataTypeOID)
		res.Columns[i] = datasource.Column{Name: f.Name, Type: typ}
		cols[i] = c
		targets[i] = c.target
	}

	buf := datasource.NewRowBuffer(n, q.MaxRows)
	for rows.Next() {
		if buf.Full() {
			res.Truncated = true
			break
		}
		if err := rows.Scan(targets...); err != nil {
			return nil, fmt.Errorf("postgres: scan: %w", classify(ctx, qctx, err))
		}
		row := buf.Add()
		for i := range cols {
			row[i] = cols[i].value()
		}
	}
	res.Rows = buf.Rows()
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: read rows: %w", classify(ctx, qctx, err))
	}
	return res, nil
}

// classify maps err onto the contract's sentinel errors, keeping err as the cause. ctx is the
// caller's context, qctx the one carrying q.Timeout.
func classify(ctx, qctx context.Context, err error) error {
	if classified, ok := datasource.ContextError(ctx, qctx, err); ok {
		return classified
	}
	switch {
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch {
		case pgErr.Code == "57014": // query_canceled, e.g. by a server-side statement_timeout
			return fmt.Errorf("%w: %w", datasource.ErrTimeout, err)
		case pgErr.Code[:2] == "08", // connection exception
			pgErr.Code[:2] == "53", // insufficient resources
			pgErr.Code[:2] == "57", // operator intervention: shutdown, crash
			pgErr.Code[:2] == "58", // system error
			pgErr.Code[:2] == "XX": // internal error
			return fmt.Errorf("%w: %w", datasource.ErrUnavailable, err)
		}
		// Syntax, unknown objects, data exceptions, writes in a read-only transaction...
		return fmt.Errorf("%w: %w", datasource.ErrInvalidQuery, err)
	}
	var netErr net.Error
	var connErr *pgconn.ConnectError
	if errors.As(err, &netErr) || errors.As(err, &connErr) || errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, puddle.ErrClosedPool) || pgconn.SafeToRetry(err) {
		return fmt.Errorf("%w: %w", datasource.ErrUnavailable, err)
	}
	// What is left comes from pgx before the query reached the server: arguments it cannot
	// encode for the parameter types, a wrong argument count.
	return fmt.Errorf("%w: %w", datasource.ErrInvalidQuery, err)
}
