-- Sessions: one row per session; the refresh-token lineage is (current_hash2, parent_hash2).
CREATE TABLE sessions (
    session_handle       TEXT PRIMARY KEY NOT NULL,
    user_id              TEXT NOT NULL,
    current_hash2        TEXT NOT NULL,
    parent_hash2         TEXT,
    access_token_payload TEXT NOT NULL,
    session_data         TEXT NOT NULL,
    created_at           BIGINT NOT NULL,
    expires_at           BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- RS256 signing keys (PKCS#8 DER), shared by every instance.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY NOT NULL,
    created_at  BIGINT NOT NULL,
    private_key BLOB NOT NULL
);
CREATE INDEX signing_keys_created_at ON signing_keys (created_at);

-- Server secrets such as the refresh-token HMAC key.
CREATE TABLE secrets (
    name  TEXT PRIMARY KEY NOT NULL,
    value BLOB NOT NULL
);

-- Email/password users (argon2id hashes).
CREATE TABLE users (
    user_id       TEXT PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    time_joined   BIGINT NOT NULL
);
