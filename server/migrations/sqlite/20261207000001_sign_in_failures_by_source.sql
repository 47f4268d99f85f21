-- Failed sign-ins per normalised email (known or not) and source, shared by every instance: the back-off of
-- one client address (`ip:…`), of one known device (`device:…`) or of all addresses together (`*`).
-- The counts are short-lived; the old per-email counts are not carried over.
DROP TABLE sign_in_failures;
CREATE TABLE sign_in_failures (
    email           TEXT NOT NULL,
    source          TEXT NOT NULL,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until    BIGINT NOT NULL,
    PRIMARY KEY (email, source)
);
CREATE INDEX sign_in_failures_last_failure_at ON sign_in_failures (last_failure_at);
