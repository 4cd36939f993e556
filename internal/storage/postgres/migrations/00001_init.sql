-- Inlay state on PostgreSQL: service principals, token-signing keys, the audit log, records and
-- leases. Principal, key and audit times are Unix nanoseconds (UTC) so they round-trip exactly;
-- record and lease expiry are timestamptz compared with the database clock (now()), so every
-- replica agrees on what has expired. NULL stands for "not set" / "never".

-- +goose Up
CREATE TABLE principals (
    client_id   text PRIMARY KEY,
    name        text NOT NULL,
    secret_hash bytea NOT NULL,
    created_at  bigint,
    seq         bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX principals_created ON principals (created_at, seq);

CREATE TABLE signing_keys (
    id           text PRIMARY KEY,
    algorithm    text NOT NULL,
    public_key   bytea NOT NULL,
    private_key  bytea NOT NULL, -- sealed by the caller
    created_at   bigint,
    retired_at   bigint,         -- NULL while the key is active
    verify_until bigint,
    seq          bigint GENERATED ALWAYS AS IDENTITY
);

CREATE TABLE audit_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time         bigint NOT NULL,
    kind         text NOT NULL,
    principal_id text NOT NULL,
    viewer_id    text NOT NULL,
    dashboard_id text NOT NULL,
    widget       text NOT NULL,
    duration_ms  bigint NOT NULL,
    rows         bigint NOT NULL,
    outcome      text NOT NULL,
    detail       text NOT NULL
);
CREATE INDEX audit_time ON audit_events (time, id);
CREATE INDEX audit_viewer ON audit_events (viewer_id, time, id);
CREATE INDEX audit_dashboard ON audit_events (dashboard_id, time, id);
CREATE INDEX audit_kind ON audit_events (kind, time, id);

-- Keys compare byte-wise (COLLATE "C") so prefix listing and ordering do not depend on the
-- database's locale.
CREATE TABLE records (
    kind       text COLLATE "C" NOT NULL,
    key        text COLLATE "C" NOT NULL,
    value      bytea NOT NULL,
    expires_at timestamptz,
    version    bigint NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE INDEX records_expiry ON records (expires_at) WHERE expires_at IS NOT NULL;

CREATE TABLE leases (
    name   text PRIMARY KEY,
    holder text NOT NULL,
    until  timestamptz NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE records;
DROP TABLE audit_events;
DROP TABLE signing_keys;
DROP TABLE principals;
