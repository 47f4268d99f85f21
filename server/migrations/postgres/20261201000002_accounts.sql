-- One-time tokens of password reset and email verification: only SHA-256 (hex) of the token is kept.
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    purpose    TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    email      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX account_tokens_user ON account_tokens (purpose, user_id);
CREATE INDEX account_tokens_expires_at ON account_tokens (expires_at);

-- Emails their users proved to own (by a verification link or a password reset).
CREATE TABLE verified_emails (
    user_id     TEXT NOT NULL,
    email       TEXT NOT NULL,
    verified_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, email)
);

-- The device of each session: user agent and IP at creation, time of the last refresh. Goes with its session.
CREATE TABLE session_devices (
    session_handle TEXT PRIMARY KEY NOT NULL REFERENCES sessions (session_handle) ON DELETE CASCADE,
    user_agent     TEXT NOT NULL,
    ip             TEXT NOT NULL,
    last_active    BIGINT NOT NULL
);
