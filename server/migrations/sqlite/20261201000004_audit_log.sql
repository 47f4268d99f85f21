-- Security events, when the audit log is on (--audit-log): one row per event, pruned after the retention.
-- No secrets: a sign-in's email is only kept as a keyed hash (detail.email).
CREATE TABLE audit_log (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             BIGINT NOT NULL,
    event          TEXT NOT NULL,
    user_id        TEXT,
    session_handle TEXT,
    ip             TEXT,
    user_agent     TEXT,
    detail         TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_user_id ON audit_log (user_id);
