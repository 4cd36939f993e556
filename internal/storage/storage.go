// Package storage is the contract for Inlay's own state: service principals, token-signing keys
// and the audit log. Implementations live in sub-packages (memory for tests, sqlite as the
// embedded default; a PostgreSQL store for several replicas fits the same contract) and all pass
// storage/conformance. Callers depend only on Store.
package storage

import (
	"context"
	"errors"
	"time"
)

// Store holds Inlay's state. Every method takes ctx first. Updates go through updater functions
// so that an implementation shared by several replicas can make them atomic.
type Store interface {
	// CreatePrincipal stores a new principal; ErrAlreadyExists if the client id is taken.
	CreatePrincipal(ctx context.Context, p Principal) error
	// GetPrincipal returns ErrNotFound for an unknown client id.
	GetPrincipal(ctx context.Context, clientID string) (Principal, error)
	// ListPrincipals returns every principal ordered by creation time.
	ListPrincipals(ctx context.Context) ([]Principal, error)
	// DeletePrincipal returns ErrNotFound for an unknown client id.
	DeletePrincipal(ctx context.Context, clientID string) error

	// CreateSigningKey stores a new key; ErrAlreadyExists if the key id is taken.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns every key, newest first.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// UpdateSigningKey applies fn to the stored key atomically; ErrNotFound if absent.
	UpdateSigningKey(ctx context.Context, id string, fn func(SigningKey) (SigningKey, error)) error
	// DeleteExpiredSigningKeys removes retired keys whose VerifyUntil is before now and returns
	// how many were removed.
	DeleteExpiredSigningKeys(ctx context.Context, now time.Time) (int, error)

	// AppendAudit stores events in order.
	AppendAudit(ctx context.Context, events []AuditEvent) error
	// ListAudit returns matching events, newest first, at most f.Limit (default 100).
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)

	Records
	Leases

	Close() error
}

// Records holds the small documents of the features built on the store (embed users and
// sessions, embed secrets, OAuth integrations, viewer tokens, single-use items). A record is
// addressed by (Kind, Key); its Value is opaque to the store (JSON, sealed by the caller where
// it holds secrets). A record whose ExpiresAt has passed is treated as absent by every method.
//
// Single-use items (nonces, one-time tokens, OAuth state, tokeninfo grants) are built from
// CreateRecord (fails with ErrAlreadyExists while an unexpired record holds the key: "first use
// wins") and TakeRecord (deletes and returns in one step: exactly one caller gets it). Both are
// atomic across every replica sharing the store.
type Records interface {
	// CreateRecord stores r; ErrAlreadyExists if an unexpired record has its kind and key (an
	// expired one is replaced). Version and UpdatedAt are set by the store.
	CreateRecord(ctx context.Context, r Record) error
	// PutRecord creates or replaces r.
	PutRecord(ctx context.Context, r Record) error
	// GetRecord returns ErrNotFound for an absent or expired record.
	GetRecord(ctx context.Context, kind, key string) (Record, error)
	// ListRecords returns the unexpired records of kind whose key starts with keyPrefix, by key.
	ListRecords(ctx context.Context, kind, keyPrefix string) ([]Record, error)
	// UpdateRecord applies fn to the stored record atomically (serialised against every other
	// update of it, on every replica) and returns what was stored; ErrNotFound if absent or
	// expired. fn may change Value and ExpiresAt; an error from fn aborts the update.
	UpdateRecord(ctx context.Context, kind, key string, fn func(Record) (Record, error)) (Record, error)
	// DeleteRecord returns ErrNotFound for an absent or expired record.
	DeleteRecord(ctx context.Context, kind, key string) error
	// TakeRecord deletes the record and returns it, atomically: of concurrent takers exactly one
	// succeeds, the others get ErrNotFound (as for an absent or expired record).
	TakeRecord(ctx context.Context, kind, key string) (Record, error)
	// DeleteExpiredRecords removes records whose ExpiresAt is before now; returns how many.
	DeleteExpiredRecords(ctx context.Context, now time.Time) (int, error)
}

// Leases give one holder at a time the right to do something (refresh one viewer's OAuth token,
// run one maintenance job) across every replica sharing the store.
type Leases interface {
	// AcquireLease gives name to holder until now+ttl and reports true when the lease is free,
	// expired, or already held by holder (which extends it); false while another holder has it.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease frees name if holder has it; releasing a lease one does not hold is a no-op.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// Record is one document of the Records store.
type Record struct {
	Kind      string
	Key       string
	Value     []byte
	ExpiresAt time.Time // zero: never expires
	// Version starts at 1 and grows by one with every update (set by the store).
	Version   int64
	UpdatedAt time.Time // set by the store
}

// Principal is a service principal: the credentials a host application's backend uses to mint
// embed tokens. The secret is never stored, only SecretHash (a keyed hash of it).
type Principal struct {
	ClientID   string
	Name       string
	SecretHash []byte
	CreatedAt  time.Time
}

// SigningKey is an asymmetric token-signing key. PrivateKey is sealed (encrypted) by the caller
// before it reaches the store; the store treats it as opaque bytes.
type SigningKey struct {
	ID         string // the JWT "kid"
	Algorithm  string // e.g. "EdDSA"
	PublicKey  []byte // raw public key bytes
	PrivateKey []byte // sealed private key
	CreatedAt  time.Time
	// RetiredAt is set when the key stops signing; zero while it is the active key.
	RetiredAt time.Time
	// VerifyUntil is when tokens signed with a retired key have all expired; the key is
	// published in the JWKS until then.
	VerifyUntil time.Time
}

// Audit event kinds.
const (
	AuditTokenMinted     = "token.minted"
	AuditDashboardQuery  = "dashboard.query"
	AuditPrincipalChange = "principal.changed"
)

// AuditEvent is one row of the audit log.
type AuditEvent struct {
	ID          int64 // assigned by the store
	Time        time.Time
	Kind        string
	PrincipalID string // client id of the service principal behind the token
	ViewerID    string // external_viewer_id
	DashboardID string
	Widget      string
	DurationMS  int64
	Rows        int64
	Outcome     string // "ok" or an error code
	Detail      string // short, never secrets or SQL
}

// AuditFilter selects audit events; zero fields match everything.
type AuditFilter struct {
	Kind        string
	ViewerID    string
	DashboardID string
	Since       time.Time
	Limit       int
}

var (
	ErrNotFound      = errors.New("storage: not found")
	ErrAlreadyExists = errors.New("storage: already exists")
	// ErrUnavailable wraps failures to reach the store (a database restarting, a network
	// partition): the request may succeed if retried shortly. The API answers 503.
	ErrUnavailable = errors.New("storage: unavailable")
)

// RecordAuditor is implemented by stores that can create a record and append audit events in one
// transaction: either both are stored or neither is. The token exchange uses it to use up a
// single-use grant and log the token it hands out with one write instead of two.
type RecordAuditor interface {
	// CreateRecordAudited is CreateRecord(r) and AppendAudit(events) atomically. When an
	// unexpired record holds r's kind and key it returns ErrAlreadyExists and stores no event.
	CreateRecordAudited(ctx context.Context, r Record, events []AuditEvent) error
}

// CreateRecordAudited creates r and appends events: in one transaction when st implements
// RecordAuditor, otherwise with CreateRecord then AppendAudit (the record may then be stored
// without the events if the second call fails; never the events without the record).
func CreateRecordAudited(ctx context.Context, st Store, r Record, events []AuditEvent) error {
	if ra, ok := st.(RecordAuditor); ok {
		return ra.CreateRecordAudited(ctx, r, events)
	}
	if err := st.CreateRecord(ctx, r); err != nil {
		return err
	}
	return st.AppendAudit(ctx, events)
}
