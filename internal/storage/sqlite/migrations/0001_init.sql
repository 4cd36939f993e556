-- Inlay state: service principals, token-signing keys and the audit log.
-- Times are Unix nanoseconds (UTC); NULL stands for "not set".

CREATE TABLE principals (
    client_id   TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    created_at  INTEGER
);
CREATE INDEX principals_created ON principals (created_at);

CREATE TABLE signing_keys (
    id           TEXT PRIMARY KEY,
    algorithm    TEXT NOT NULL,
    public_key   BLOB NOT NULL,
    private_key  BLOB NOT NULL, -- sealed by the caller
    created_at   INTEGER,
    retired_at   INTEGER,       -- NULL while the key is active
    verify_until INTEGER
);

CREATE TABLE audit_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    time         INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    viewer_id    TEXT NOT NULL,
    dashboard_id TEXT NOT NULL,
    widget       TEXT NOT NULL,
    duration_ms  INTEGER NOT NULL,
    rows         INTEGER NOT NULL,
    outcome      TEXT NOT NULL,
    detail       TEXT NOT NULL
);
-- ListAudit reads newest first, optionally by viewer, dashboard or kind.
CREATE INDEX audit_time ON audit_events (time, id);
CREATE INDEX audit_viewer ON audit_events (viewer_id, time, id);
CREATE INDEX audit_dashboard ON audit_events (dashboard_id, time, id);
CREATE INDEX audit_kind ON audit_events (kind, time, id);
