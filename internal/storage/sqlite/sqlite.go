// Package sqlite is the embedded default storage.Store, on SQLite through modernc.org/sqlite
// (pure Go, no cgo). The schema comes from numbered, embedded migrations applied at Open.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/inlay/inlay/internal/storage"
)

// DefaultAuditLimit is the number of audit events ListAudit returns when the filter has no limit.
const DefaultAuditLimit = 100

// busyTimeout is how long a statement waits for another connection's write lock.
const busyTimeout = 10 * time.Second

// Store is a storage.Store backed by one SQLite database.
type Store struct {
	db  *sql.DB
	now func() time.Time
	// Statements of the token-mint path, prepared once (SQLite parses SQL text on every
	// unprepared call): the single-use record insert and the audit insert.
	createRecordStmt, insertAuditStmt *sql.Stmt
}

var _ storage.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and brings its schema up to date. path
// ":memory:" gives a private in-memory database.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("sqlite: empty database path")
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	// IMMEDIATE transactions take the write lock at BEGIN, so a read-modify-write transaction
	// (UpdateSigningKey) waits for the lock under busy_timeout instead of failing with
	// SQLITE_BUSY when it tries to upgrade a read lock.
	q.Set("_txlock", "immediate")
	var dsn string
	memory := path == ":memory:"
	if memory {
		dsn = "file::memory:?" + q.Encode()
	} else {
		if strings.ContainsAny(path, "?#") {
			return nil, fmt.Errorf("sqlite: database path %q must not contain '?' or '#'", path)
		}
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		dsn = "file:" + path + "?" + q.Encode()
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if memory {
		// Every connection to ":memory:" is a separate database: keep exactly one.
		db.SetMaxOpenConns(1)
	} else {
		db.SetMaxOpenConns(4)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: %s: %w", path, err)
	}
	st := &Store{db: db, now: time.Now}
	if st.createRecordStmt, err = db.PrepareContext(ctx, createRecordSQL); err == nil {
		st.insertAuditStmt, err = db.PrepareContext(ctx, insertAuditSQL)
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("sqlite: %s: prepare: %w", path, err)
	}
	return st, nil
}

// Close closes the database.
func (s *Store) Close() error {
	for _, st := range []*sql.Stmt{s.createRecordStmt, s.insertAuditStmt} {
		if st != nil {
			st.Close()
		}
	}
	return s.db.Close()
}

// stmt returns st, or st bound to tx when tx is not nil (closed with the transaction).
func stmt(ctx context.Context, tx *sql.Tx, st *sql.Stmt) *sql.Stmt {
	if tx == nil {
		return st
	}
	return tx.StmtContext(ctx, st)
}

// Times are stored as Unix nanoseconds; the zero time as NULL.
func encodeTime(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixNano(), Valid: true}
}

func decodeTime(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.Unix(0, n.Int64).UTC()
}

func isUniqueViolation(err error) bool {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	return e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

func (s *Store) CreatePrincipal(ctx context.Context, p storage.Principal) error {
	_, err := s.db.ExecContext(ctx,
		`INSERT INTO principals (client_id, name, secret_hash, created_at) VALUES (?, ?, ?, ?)`,
		p.ClientID, p.Name, nonNil(p.SecretHash), encodeTime(p.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("principal %q: %w", p.ClientID, storage.ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create principal: %w", err)
	}
	return nil
}

func (s *Store) GetPrincipal(ctx context.Context, clientID string) (storage.Principal, error) {
	row := s.db.QueryRowContext(ctx,
		`SELECT client_id, name, secret_hash, created_at FROM principals WHERE client_id = ?`, clientID)
	p, err := scanPrincipal(row)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Principal{}, fmt.Errorf("principal %q: %w", clientID, storage.ErrNotFound)
	}
	if err != nil {
		return storage.Principal{}, fmt.Errorf("sqlite: get principal: %w", err)
	}
	return p, nil
}

func (s *Store) ListPrincipals(ctx context.Context) ([]storage.Principal, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT client_id, name, secret_hash, created_at FROM principals ORDER BY created_at, rowid`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list principals: %w", err)
	}
	defer rows.Close()
	out := []storage.Principal{}
	for rows.Next() {
		p, err := scanPrincipal(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list principals: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list principals: %w", err)
	}
	return out, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanPrincipal(r scanner) (storage.Principal, error) {
	var p storage.Principal
	var created sql.NullInt64
	if err := r.Scan(&p.ClientID, &p.Name, &p.SecretHash, &created); err != nil {
		return storage.Principal{}, err
	}
	p.CreatedAt = decodeTime(created)
	return p, nil
}

func (s *Store) DeletePrincipal(ctx context.Context, clientID string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM principals WHERE client_id = ?`, clientID)
	if err != nil {
		return fmt.Errorf("sqlite: delete principal: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete principal: %w", err)
	} else if n == 0 {
		return fmt.Errorf("principal %q: %w", clientID, storage.ErrNotFound)
	}
	return nil
}

func (s *Store) CreateSigningKey(ctx context.Context, k storage.SigningKey) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO signing_keys
		(id, algorithm, public_key, private_key, created_at, retired_at, verify_until)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Algorithm, nonNil(k.PublicKey), nonNil(k.PrivateKey),
		encodeTime(k.CreatedAt), encodeTime(k.RetiredAt), encodeTime(k.VerifyUntil))
	if isUniqueViolation(err) {
		return fmt.Errorf("signing key %q: %w", k.ID, storage.ErrAlreadyExists)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create signing key: %w", err)
	}
	return nil
}

const keyColumns = `id, algorithm, public_key, private_key, created_at, retired_at, verify_until`

func scanKey(r scanner) (storage.SigningKey, error) {
	var k storage.SigningKey
	var created, retired, until sql.NullInt64
	if err := r.Scan(&k.ID, &k.Algorithm, &k.PublicKey, &k.PrivateKey, &created, &retired, &until); err != nil {
		return storage.SigningKey{}, err
	}
	k.CreatedAt, k.RetiredAt, k.VerifyUntil = decodeTime(created), decodeTime(retired), decodeTime(until)
	return k, nil
}

func (s *Store) ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyColumns+` FROM signing_keys ORDER BY created_at DESC, rowid DESC`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list signing keys: %w", err)
	}
	defer rows.Close()
	out := []storage.SigningKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list signing keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list signing keys: %w", err)
	}
	return out, nil
}

// UpdateSigningKey reads, applies fn and writes in one IMMEDIATE transaction, so concurrent
// updaters (in this process or another one on the same file) are serialised.
func (s *Store) UpdateSigningKey(ctx context.Context, id string, fn func(storage.SigningKey) (storage.SigningKey, error)) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: update signing key: %w", err)
	}
	defer tx.Rollback()
	k, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM signing_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("signing key %q: %w", id, storage.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: update signing key: %w", err)
	}
	updated, err := fn(k)
	if err != nil {
		return err
	}
	if updated.ID != id {
		return fmt.Errorf("signing key %q: updater changed the id to %q", id, updated.ID)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET algorithm = ?, public_key = ?, private_key = ?,
		created_at = ?, retired_at = ?, verify_until = ? WHERE id = ?`,
		updated.Algorithm, nonNil(updated.PublicKey), nonNil(updated.PrivateKey),
		encodeTime(updated.CreatedAt), encodeTime(updated.RetiredAt), encodeTime(updated.VerifyUntil), id); err != nil {
		return fmt.Errorf("sqlite: update signing key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: update signing key: %w", err)
	}
	return nil
}

func (s *Store) DeleteExpiredSigningKeys(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx,
		`DELETE FROM signing_keys WHERE retired_at IS NOT NULL AND verify_until < ?`, now.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired signing keys: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired signing keys: %w", err)
	}
	return int(n), nil
}

// AppendAudit inserts the events in one transaction, in order. Events without a time get now.
func (s *Store) AppendAudit(ctx context.Context, events []storage.AuditEvent) error {
	switch len(events) {
	case 0:
		return nil
	case 1:
		// One INSERT is a transaction of its own: no BEGIN and COMMIT to pay for (the
		// synchronous token-mint event goes this way).
		if err := s.insertAudit(ctx, nil, events); err != nil {
			return fmt.Errorf("sqlite: append audit: %w", err)
		}
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	defer tx.Rollback()
	if err := s.insertAudit(ctx, tx, events); err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	return nil
}

const insertAuditSQL = `INSERT INTO audit_events
		(time, kind, principal_id, viewer_id, dashboard_id, widget, duration_ms, rows, outcome, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// insertAudit inserts events in order with the prepared statement, within tx when it is not nil.
func (s *Store) insertAudit(ctx context.Context, tx *sql.Tx, events []storage.AuditEvent) error {
	st := stmt(ctx, tx, s.insertAuditStmt)
	for _, e := range events {
		t := e.Time
		if t.IsZero() {
			t = s.now()
		}
		if _, err := st.ExecContext(ctx, t.UnixNano(), e.Kind, e.PrincipalID, e.ViewerID, e.DashboardID,
			e.Widget, e.DurationMS, e.Rows, e.Outcome, e.Detail); err != nil {
			return err
		}
	}
	return nil
}

// ListAudit builds its WHERE clause from fixed fragments; every filter value is a bound parameter.
func (s *Store) ListAudit(ctx context.Context, f storage.AuditFilter) ([]storage.AuditEvent, error) {
	var where []string
	var args []any
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.ViewerID != "" {
		where, args = append(where, "viewer_id = ?"), append(args, f.ViewerID)
	}
	if f.DashboardID != "" {
		where, args = append(where, "dashboard_id = ?"), append(args, f.DashboardID)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time >= ?"), append(args, f.Since.UnixNano())
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
	q += " ORDER BY time DESC, id DESC LIMIT ?"
	args = append(args, limit)

	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	defer rows.Close()
	out := []storage.AuditEvent{}
	for rows.Next() {
		var e storage.AuditEvent
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.Kind, &e.PrincipalID, &e.ViewerID, &e.DashboardID, &e.Widget,
			&e.DurationMS, &e.Rows, &e.Outcome, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: list audit: %w", err)
		}
		e.Time = time.Unix(0, t).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	return out, nil
}

// nonNil keeps NOT NULL blob columns satisfied for empty slices.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
