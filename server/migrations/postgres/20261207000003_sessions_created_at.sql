-- The maintenance task ends sessions past the absolute lifetime by their creation time.
CREATE INDEX sessions_created_at ON sessions (created_at);
