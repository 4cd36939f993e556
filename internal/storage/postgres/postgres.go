// Package postgres is a storage.Store on PostgreSQL (pgx), for several Inlay replicas sharing
// one state. The schema comes from numbered, embedded goose migrations, each applied in its own
// transaction under a session advisory lock, so replicas that start at once migrate exactly once.
//
// Every read-modify-write is atomic in the database: CreateRecord and AcquireLease are one
// INSERT .. ON CONFLICT .. DO UPDATE .. WHERE, TakeRecord one DELETE .. RETURNING, and the
// updater methods run SELECT .. FOR UPDATE, the updater and UPDATE in one transaction. Record
// and lease expiry are judged by the database clock, which every replica shares.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/inlay/inlay/internal/storage"
)

// DefaultAuditLimit is the number of audit events ListAudit returns when the filter has no limit.
const DefaultAuditLimit = 100

// versionTable is goose's bookkeeping table, in the store's schema.
const versionTable = "inlay_schema_version"

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Config opens a Store.
type Config struct {
	// DSN is a PostgreSQL connection string (URL or key=value). A search_path parameter
	// selects the schema the tables live in.
	DSN string
	// MaxConns caps the pool; 0 means pgx's default (the larger of 4 and the CPU count).
	MaxConns int32
}

// Store is a storage.Store backed by PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
}

var _ storage.Store = (*Store)(nil)

// Open connects, brings the schema up to date and returns the store.
func Open(ctx context.Context, c Config) (*Store, error) {
	if c.DSN == "" {
		return nil, errors.New("postgres state: empty dsn")
	}
	pc, err := pgxpool.ParseConfig(c.DSN)
	if err != nil {
		// pgx's parse errors can quote the connection string, password included.
		return nil, errors.New("postgres state: the dsn is not a valid PostgreSQL connection string")
	}
	if c.MaxConns > 0 {
		pc.MaxConns = c.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres state: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, wrap("connect", err)
	}
	if err := migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres state: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Close closes the pool.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Ping reports whether the database answers (for readiness checks).
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// migrate applies the embedded migrations the schema lacks. The advisory lock is keyed by the
// schema, so replicas sharing a schema take turns while stores in different schemas (tests) do
// not wait for each other.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	var schema string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("read current schema: %w", err)
	}
	if schema == "" {
		return errors.New("no current schema: the search_path names no existing schema")
	}
	h := fnv.New64a()
	h.Write([]byte("inlay-state-migrations:" + schema))
	locker, err := lock.NewPostgresSessionLocker(
		lock.WithLockID(int64(h.Sum64()&0x7fffffffffffffff)),
		lock.WithLockTimeout(1, 300), // retry every second for up to five minutes
	)
	if err != nil {
		return err
	}
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub,
		goose.WithSessionLocker(locker),
		goose.WithTableName(versionTable),
		goose.WithDisableGlobalRegistry(true),
	)
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	sources := p.ListSources()
	if known := sources[len(sources)-1].Version; current > known {
		return fmt.Errorf("database schema version %d is newer than this build knows (%d): upgrade inlay", current, known)
	}
	return nil
}

// MigrationVersions lists the versions of the embedded migrations, in order.
func MigrationVersions() []int64 {
	names, _ := fs.Glob(migrationFiles, "migrations/*.sql")
	var out []int64
	for _, n := range names {
		var v int64
		fmt.Sscanf(strings.TrimPrefix(n, "migrations/"), "%d_", &v)
		out = append(out, v)
	}
	return out
}

// Times of principals, keys and audit events are Unix nanoseconds; the zero time is NULL.
func encodeTime(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

func decodeTime(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return time.Unix(0, *n).UTC()
}

// Record and lease expiry are timestamptz; the zero time is NULL.
func encodeStamp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func decodeStamp(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func isUniqueViolation(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == "23505"
}

// nonNil keeps NOT NULL bytea columns satisfied for empty slices.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (s *Store) CreatePrincipal(ctx context.Context, p storage.Principal) error {
	_, err := s.pool.Exec(ctx,
		`INSERT INTO principals (client_id, name, secret_hash, created_at) VALUES ($1, $2, $3, $4)`,
		p.ClientID, p.Name, nonNil(p.SecretHash), encodeTime(p.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("principal %q: %w", p.ClientID, storage.ErrAlreadyExists)
	}
	if err != nil {
		return wrap("create principal", err)
	}
	return nil
}

const principalColumns = `client_id, name, secret_hash, created_at`

func scanPrincipal(r pgx.Row) (storage.Principal, error) {
	var p storage.Principal
	var created *int64
	if err := r.Scan(&p.ClientID, &p.Name, &p.SecretHash, &created); err != nil {
		return storage.Principal{}, err
	}
	p.CreatedAt = decodeTime(created)
	return p, nil
}

func (s *Store) GetPrincipal(ctx context.Context, clientID string) (storage.Principal, error) {
	p, err := scanPrincipal(s.pool.QueryRow(ctx, `SELECT `+principalColumns+` FROM principals WHERE client_id = $1`, clientID))
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Principal{}, fmt.Errorf("principal %q: %w", clientID, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Principal{}, wrap("get principal", err)
	}
	return p, nil
}

func (s *Store) ListPrincipals(ctx context.Context) ([]storage.Principal, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+principalColumns+` FROM principals ORDER BY created_at, seq`)
	if err != nil {
		return nil, wrap("list principals", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.Principal, error) { return scanPrincipal(r) })
	if err != nil {
		return nil, wrap("list principals", err)
	}
	return out, nil
}

func (s *Store) DeletePrincipal(ctx context.Context, clientID string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM principals WHERE client_id = $1`, clientID)
	if err != nil {
		return wrap("delete principal", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("principal %q: %w", clientID, storage.ErrNotFound)
	}
	return nil
}

func (s *Store) CreateSigningKey(ctx context.Context, k storage.SigningKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO signing_keys
		(id, algorithm, public_key, private_key, created_at, retired_at, verify_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		k.ID, k.Algorithm, nonNil(k.PublicKey), nonNil(k.PrivateKey),
		encodeTime(k.CreatedAt), encodeTime(k.RetiredAt), encodeTime(k.VerifyUntil))
	if isUniqueViolation(err) {
		return fmt.Errorf("signing key %q: %w", k.ID, storage.ErrAlreadyExists)
	}
	if err != nil {
		return wrap("create signing key", err)
	}
	return nil
}

const keyColumns = `id, algorithm, public_key, private_key, created_at, retired_at, verify_until`

func scanKey(r pgx.Row) (storage.SigningKey, error) {
	var k storage.SigningKey
	var created, retired, until *int64
	if err := r.Scan(&k.ID, &k.Algorithm, &k.PublicKey, &k.PrivateKey, &created, &retired, &until); err != nil {
		return storage.SigningKey{}, err
	}
	k.CreatedAt, k.RetiredAt, k.VerifyUntil = decodeTime(created), decodeTime(retired), decodeTime(until)
	return k, nil
}

func (s *Store) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY created_at DESC, seq DESC`)
	if err != nil {
		return nil, wrap("list signing keys", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.SigningKey, error) { return scanKey(r) })
	if err != nil {
		return nil, wrap("list signing keys", err)
	}
	return out, nil
}

// UpdateSigningKey locks the row (SELECT .. FOR UPDATE), applies fn and writes in one
// transaction: concurrent updaters on every replica are serialised by the row lock.
func (s *Store) UpdateSigningKey(ctx context.Context, id string, fn func(storage.SigningKey) (storage.SigningKey, error)) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("update signing key", err)
	}
	defer tx.Rollback(ctx)
	k, err := scanKey(tx.QueryRow(ctx, `SELECT `+keyColumns+` FROM signing_keys WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("signing key %q: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return wrap("update signing key", err)
	}
	updated, err := fn(k)
	if err != nil {
		return err
	}
	if updated.ID != id {
		return fmt.Errorf("signing key %q: updater changed the id to %q", id, updated.ID)
	}
	if _, err := tx.Exec(ctx, `UPDATE signing_keys SET algorithm = $1, public_key = $2, private_key = $3,
		created_at = $4, retired_at = $5, verify_until = $6 WHERE id = $7`,
		updated.Algorithm, nonNil(updated.PublicKey), nonNil(updated.PrivateKey),
		encodeTime(updated.CreatedAt), encodeTime(updated.RetiredAt), encodeTime(updated.VerifyUntil), id); err != nil {
		return wrap("update signing key", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap("update signing key", err)
	}
	return nil
}

func (s *Store) DeleteExpiredSigningKeys(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx,
		`DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND verify_until < $1`, now.UnixNano())
	if err != nil {
		return 0, wrap("delete expired signing keys", err)
	}
	return int(tag.RowsAffected()), nil
}

// AppendAudit inserts the events in one batch and one transaction, in order. Events without a
// time get the database's clock.
func (s *Store) AppendAudit(ctx context.Context, events []storage.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, e := range events {
		b.Queue(`INSERT INTO audit_events
			(time, kind, principal_id, viewer_id, dashboard_id, widget, duration_ms, rows, outcome, detail)
			VALUES (COALESCE($1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000),
				$2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			encodeTime(e.Time), e.Kind, e.PrincipalID, e.ViewerID, e.DashboardID,
			e.Widget, e.DurationMS, e.Rows, e.Outcome, e.Detail)
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("append audit", err)
	}
	defer tx.Rollback(ctx)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return wrap("append audit", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap("append audit", err)
	}
	return nil
}

// ListAudit builds its WHERE clause from fixed fragments; every filter value is a bound parameter.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Kind != "" {
		add("kind = $%d", f.Kind)
	}
	if f.ViewerID != "" {
		add("viewer_id = $%d", f.ViewerID)
	}
	if f.DashboardID != "" {
		add("dashboard_id = $%d", f.DashboardID)
	}
	if !f.Since.IsZero() {
		add("time >= $%d", f.Since.UnixNano())
	}
	limit := f.Limit
	if limit <= 0 {
		limit = DefaultAuditLimit
	}
	q := `SELECT id, time, kind, principal_id, viewer_id, dashboard_id, widget, duration_ms, rows, outcome, detail
		FROM audit_events`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, limit)
	q += fmt.Sprintf(" ORDER BY time DESC, id DESC LIMIT $%d", len(args))

	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, wrap("list audit", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (storage.AuditEvent, error) {
		var e storage.AuditEvent
		var t int64
		err := r.Scan(&e.ID, &t, &e.Kind, &e.PrincipalID, &e.ViewerID, &e.DashboardID, &e.Widget,
			&e.DurationMS, &e.Rows, &e.Outcome, &e.Detail)
		e.Time = time.Unix(0, t).UTC()
		return e, err
	})
	if err != nil {
		return nil, wrap("list audit", err)
	}
	return out, nil
}
