-- Sessions ended on any instance, kept until the last access token minted for them has expired: each
-- instance reads the new rows every second (SessionConfig::revocation_sync_interval) into its in-memory list,
-- so an ended session's access token is refused everywhere, not only by the instance that ended it.
CREATE TABLE revoked_sessions (
    session_handle TEXT PRIMARY KEY NOT NULL,
    revoked_at     BIGINT NOT NULL,
    until          BIGINT NOT NULL
);
CREATE INDEX revoked_sessions_revoked_at ON revoked_sessions (revoked_at);
CREATE INDEX revoked_sessions_until ON revoked_sessions (until);
