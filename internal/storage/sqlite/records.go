package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/inlay/inlay/internal/storage"
)

const recordColumns = `kind, key, value, expires_at, version, updated_at`

// unexpired is the condition every read adds: a record past its expiry is absent.
const unexpired = `(expires_at IS NULL OR expires_at > ?)`

func scanRecord(r scanner) (storage.Record, error) {
	var rec storage.Record
	var expires sql.NullInt64
	var updated int64
	if err := r.Scan(&rec.Kind, &rec.Key, &rec.Value, &expires, &rec.Version, &updated); err != nil {
		return storage.Record{}, err
	}
	rec.ExpiresAt, rec.UpdatedAt = decodeTime(expires), time.Unix(0, updated).UTC()
	return rec, nil
}

func recordNotFound(kind, key string) error {
	return fmt.Errorf("record %s/%q: %w", kind, key, storage.ErrNotFound)
}

// CreateRecord inserts r, replacing an expired record with the same key in the same statement.
func (s *Store) CreateRecord(ctx context.Context, r storage.Record) error {
	return s.createRecord(ctx, nil, r)
}

const createRecordSQL = `INSERT INTO records (` + recordColumns + `) VALUES (?, ?, ?, ?, 1, ?)
		ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
			version = 1, updated_at = excluded.updated_at
		WHERE records.expires_at IS NOT NULL AND records.expires_at <= ?`

// createRecord runs the prepared insert, within tx when it is not nil.
func (s *Store) createRecord(ctx context.Context, tx *sql.Tx, r storage.Record) error {
	now := s.now()
	res, err := stmt(ctx, tx, s.createRecordStmt).ExecContext(ctx,
		r.Kind, r.Key, nonNil(r.Value), encodeTime(r.ExpiresAt), now.UnixNano(), now.UnixNano())
	if err != nil {
		return fmt.Errorf("sqlite: create record: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: create record: %w", err)
	} else if n == 0 {
		return fmt.Errorf("record %s/%q: %w", r.Kind, r.Key, storage.ErrAlreadyExists)
	}
	return nil
}

var _ storage.RecordAuditor = (*Store)(nil)

// CreateRecordAudited creates r and inserts events in one IMMEDIATE transaction: one commit, one
// WAL append, instead of one per call.
func (s *Store) CreateRecordAudited(ctx context.Context, r storage.Record, events []storage.AuditEvent) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create record audited: %w", err)
	}
	defer tx.Rollback()
	if err := s.createRecord(ctx, tx, r); err != nil {
		return err
	}
	if err := s.insertAudit(ctx, tx, events); err != nil {
		return fmt.Errorf("sqlite: create record audited: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create record audited: %w", err)
	}
	return nil
}

func (s *Store) PutRecord(ctx context.Context, r storage.Record) error {
	now := s.now().UnixNano()
	_, err := s.db.ExecContext(ctx, `INSERT INTO records (`+recordColumns+`) VALUES (?, ?, ?, ?, 1, ?)
		ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
			version = CASE WHEN records.expires_at IS NULL OR records.expires_at > ? THEN records.version + 1 ELSE 1 END,
			updated_at = excluded.updated_at`,
		r.Kind, r.Key, nonNil(r.Value), encodeTime(r.ExpiresAt), now, now)
	if err != nil {
		return fmt.Errorf("sqlite: put record: %w", err)
	}
	return nil
}

func (s *Store) GetRecord(ctx context.Context, kind, key string) (storage.Record, error) {
	r, err := scanRecord(s.db.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM records
		WHERE kind = ? AND key = ? AND `+unexpired, kind, key, s.now().UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Record{}, recordNotFound(kind, key)
	}
	if err != nil {
		return storage.Record{}, fmt.Errorf("sqlite: get record: %w", err)
	}
	return r, nil
}

// ListRecords matches the prefix with a range on the primary key (no LIKE: keys may hold % or _).
func (s *Store) ListRecords(ctx context.Context, kind, keyPrefix string) ([]storage.Record, error) {
	q := `SELECT ` + recordColumns + ` FROM records WHERE kind = ? AND key >= ? AND ` + unexpired
	args := []any{kind, keyPrefix, s.now().UnixNano()}
	if keyPrefix != "" {
		q += ` AND substr(key, 1, ?) = ?`
		args = append(args, len([]rune(keyPrefix)), keyPrefix)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY key`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list records: %w", err)
	}
	defer rows.Close()
	out := []storage.Record{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list records: %w", err)
		}
		if strings.HasPrefix(r.Key, keyPrefix) {
			out = append(out, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list records: %w", err)
	}
	return out, nil
}

// UpdateRecord reads, applies fn and writes in one IMMEDIATE transaction (see Open).
func (s *Store) UpdateRecord(ctx context.Context, kind, key string, fn func(storage.Record) (storage.Record, error)) (storage.Record, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return storage.Record{}, fmt.Errorf("sqlite: update record: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	r, err := scanRecord(tx.QueryRowContext(ctx, `SELECT `+recordColumns+` FROM records
		WHERE kind = ? AND key = ? AND `+unexpired, kind, key, now.UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Record{}, recordNotFound(kind, key)
	}
	if err != nil {
		return storage.Record{}, fmt.Errorf("sqlite: update record: %w", err)
	}
	updated, err := fn(r)
	if err != nil {
		return storage.Record{}, err
	}
	updated.Kind, updated.Key = kind, key
	updated.Version, updated.UpdatedAt = r.Version+1, now.UTC()
	if _, err := tx.ExecContext(ctx, `UPDATE records SET value = ?, expires_at = ?, version = ?, updated_at = ?
		WHERE kind = ? AND key = ?`,
		nonNil(updated.Value), encodeTime(updated.ExpiresAt), updated.Version, now.UnixNano(), kind, key); err != nil {
		return storage.Record{}, fmt.Errorf("sqlite: update record: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return storage.Record{}, fmt.Errorf("sqlite: update record: %w", err)
	}
	return updated, nil
}

func (s *Store) DeleteRecord(ctx context.Context, kind, key string) error {
	_, err := s.TakeRecord(ctx, kind, key)
	return err
}

// TakeRecord is one DELETE ... RETURNING: SQLite runs it under the write lock, so of concurrent
// takers exactly one sees the row.
func (s *Store) TakeRecord(ctx context.Context, kind, key string) (storage.Record, error) {
	r, err := scanRecord(s.db.QueryRowContext(ctx, `DELETE FROM records WHERE kind = ? AND key = ? AND `+unexpired+`
		RETURNING `+recordColumns, kind, key, s.now().UnixNano()))
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Record{}, recordNotFound(kind, key)
	}
	if err != nil {
		return storage.Record{}, fmt.Errorf("sqlite: take record: %w", err)
	}
	return r, nil
}

func (s *Store) DeleteExpiredRecords(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at < ?`, now.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired records: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete expired records: %w", err)
	}
	return int(n), nil
}

// AcquireLease is one upsert that only takes the row over when it is free, expired or already ours.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := s.now()
	res, err := s.db.ExecContext(ctx, `INSERT INTO leases (name, holder, until) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
		WHERE leases.holder = excluded.holder OR leases.until <= ?`,
		name, holder, now.Add(ttl).UnixNano(), now.UnixNano())
	if err != nil {
		return false, fmt.Errorf("sqlite: acquire lease: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: acquire lease: %w", err)
	}
	return n == 1, nil
}

func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("sqlite: release lease: %w", err)
	}
	return nil
}
