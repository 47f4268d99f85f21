-- Failed sign-ins per normalised email (known or not), shared by every instance: the per-account back-off.
CREATE TABLE sign_in_failures (
    email           TEXT PRIMARY KEY NOT NULL,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until    BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_last_failure_at ON sign_in_failures (last_failure_at);
