package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/inlay/inlay/internal/storage"
)

const recordColumns = `kind, key, value, expires_at, version, updated_at`

// unexpired is the condition every read adds: a record past its expiry (by the database clock)
// is absent.
const unexpired = `(expires_at IS NULL OR expires_at > now())`

func scanRecord(r pgx.Row) (storage.Record, error) {
	var rec storage.Record
	var expires *time.Time
	var updated time.Time
	if err := r.Scan(&rec.Kind, &rec.Key, &rec.Value, &expires, &rec.Version, &updated); err != nil {
		return storage.Record{}, err
	}
	rec.ExpiresAt, rec.UpdatedAt = decodeStamp(expires), updated.UTC()
	return rec, nil
}

func recordNotFound(kind, key string) error {
	return fmt.Errorf("record %s/%q: %w", kind, key, storage.ErrNotFound)
}

// CreateRecord is one INSERT .. ON CONFLICT .. DO UPDATE .. WHERE: it takes the key over only
// from an expired record, so of concurrent creators on every replica exactly one succeeds.
func (s *Store) CreateRecord(ctx context.Context, r storage.Record) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO records (`+recordColumns+`) VALUES ($1, $2, $3, $4, 1, now())
		ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
			version = 1, updated_at = excluded.updated_at
		WHERE records.expires_at IS NOT NULL AND records.expires_at <= now()`,
		r.Kind, r.Key, nonNil(r.Value), encodeStamp(r.ExpiresAt))
	if err != nil {
		return wrap("create record", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("record %s/%q: %w", r.Kind, r.Key, storage.ErrAlreadyExists)
	}
	return nil
}

func (s *Store) PutRecord(ctx context.Context, r storage.Record) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO records (`+recordColumns+`) VALUES ($1, $2, $3, $4, 1, now())
		ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
			version = CASE WHEN records.expires_at IS NULL OR records.expires_at > now() THEN records.version + 1 ELSE 1 END,
			updated_at = excluded.updated_at`,
		r.Kind, r.Key, nonNil(r.Value), encodeStamp(r.ExpiresAt))
	if err != nil {
		return wrap("put record", err)
	}
	return nil
}

func (s *Store) GetRecord(ctx context.Context, kind, key string) (storage.Record, error) {
	r, err := scanRecord(s.pool.QueryRow(ctx, `SELECT `+recordColumns+` FROM records
		WHERE kind = $1 AND key = $2 AND `+unexpired, kind, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Record{}, recordNotFound(kind, key)
	}
	if err != nil {
		return storage.Record{}, wrap("get record", err)
	}
	return r, nil
}

// ListRecords matches the prefix with a range on the primary key and starts_with (no LIKE: keys
// may hold % or _).
func (s *Store) ListRecords(ctx context.Context, kind, keyPrefix string) ([]storage.Record, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+recordColumns+` FROM records
		WHERE kind = $1 AND key >= $2 AND starts_with(key, $2) AND `+unexpired+` ORDER BY key`, kind, keyPrefix)
	if err != nil {
		return nil, wrap("list records", err)
	}
	defer rows.Close()
	out := []storage.Record{}
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, wrap("list records", err)
		}
		if strings.HasPrefix(r.Key, keyPrefix) {
			out = append(out, r)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("list records", err)
	}
	return out, nil
}

// UpdateRecord locks the row (SELECT .. FOR UPDATE), applies fn and writes in one transaction,
// so updates from every replica are serialised by the row lock.
func (s *Store) UpdateRecord(ctx context.Context, kind, key string, fn func(storage.Record) (storage.Record, error)) (storage.Record, error) {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return storage.Record{}, wrap("update record", err)
	}
	defer tx.Rollback(ctx)
	r, err := scanRecord(tx.QueryRow(ctx, `SELECT `+recordColumns+` FROM records
		WHERE kind = $1 AND key = $2 AND `+unexpired+` FOR UPDATE`, kind, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Record{}, recordNotFound(kind, key)
	}
	if err != nil {
		return storage.Record{}, wrap("update record", err)
	}
	updated, err := fn(r)
	if err != nil {
		return storage.Record{}, err
	}
	updated.Kind, updated.Key = kind, key
	var stamp time.Time
	if err := tx.QueryRow(ctx, `UPDATE records SET value = $1, expires_at = $2, version = version + 1, updated_at = now()
		WHERE kind = $3 AND key = $4 RETURNING version, updated_at`,
		nonNil(updated.Value), encodeStamp(updated.ExpiresAt), kind, key).Scan(&updated.Version, &stamp); err != nil {
		return storage.Record{}, wrap("update record", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return storage.Record{}, wrap("update record", err)
	}
	updated.UpdatedAt = stamp.UTC()
	return updated, nil
}

func (s *Store) DeleteRecord(ctx context.Context, kind, key string) error {
	_, err := s.TakeRecord(ctx, kind, key)
	return err
}

// TakeRecord is one DELETE .. RETURNING: a concurrent taker waits for the row lock, then finds
// the row gone, so exactly one taker on every replica gets it.
func (s *Store) TakeRecord(ctx context.Context, kind, key string) (storage.Record, error) {
	r, err := scanRecord(s.pool.QueryRow(ctx, `DELETE FROM records WHERE kind = $1 AND key = $2 AND `+unexpired+`
		RETURNING `+recordColumns, kind, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return storage.Record{}, recordNotFound(kind, key)
	}
	if err != nil {
		return storage.Record{}, wrap("take record", err)
	}
	return r, nil
}

func (s *Store) DeleteExpiredRecords(ctx context.Context, now time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM records WHERE expires_at IS NOT NULL AND expires_at < $1`, now.UTC())
	if err != nil {
		return 0, wrap("delete expired records", err)
	}
	return int(tag.RowsAffected()), nil
}

// AcquireLease is one upsert that takes the row over only when it is free, expired (by the
// database clock) or already the holder's.
func (s *Store) AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO leases (name, holder, until)
		VALUES ($1, $2, now() + $3 * interval '1 microsecond')
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
		WHERE leases.holder = excluded.holder OR leases.until <= now()`,
		name, holder, ttl.Microseconds())
	if err != nil {
		return false, wrap("acquire lease", err)
	}
	return tag.RowsAffected() == 1, nil
}

func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return wrap("release lease", err)
	}
	return nil
}

var _ storage.RecordAuditor = (*Store)(nil)

// CreateRecordAudited creates r and inserts events in one transaction, sent as one batch (one
// round trip before the commit). The insert takes the row lock on (kind, key), so of concurrent
// creators on every replica exactly one commits; the others store nothing.
func (s *Store) CreateRecordAudited(ctx context.Context, r storage.Record, events []storage.AuditEvent) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return wrap("create record audited", err)
	}
	defer tx.Rollback(ctx)
	tag, err := tx.Exec(ctx, `INSERT INTO records (`+recordColumns+`) VALUES ($1, $2, $3, $4, 1, now())
		ON CONFLICT (kind, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at,
			version = 1, updated_at = excluded.updated_at
		WHERE records.expires_at IS NOT NULL AND records.expires_at <= now()`,
		r.Kind, r.Key, nonNil(r.Value), encodeStamp(r.ExpiresAt))
	if err != nil {
		return wrap("create record audited", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("record %s/%q: %w", r.Kind, r.Key, storage.ErrAlreadyExists)
	}
	if len(events) > 0 {
		b := &pgx.Batch{}
		for _, e := range events {
			b.Queue(`INSERT INTO audit_events
			(time, kind, principal_id, viewer_id, dashboard_id, widget, duration_ms, rows, outcome, detail)
			VALUES (COALESCE($1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint * 1000),
				$2, $3, $4, $5, $6, $7, $8, $9, $10)`,
				encodeTime(e.Time), e.Kind, e.PrincipalID, e.ViewerID, e.DashboardID,
				e.Widget, e.DurationMS, e.Rows, e.Outcome, e.Detail)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return wrap("create record audited", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return wrap("create record audited", err)
	}
	return nil
}
