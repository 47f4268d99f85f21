-- Every write to a session row bumps its version; writes based on an older read compare-and-swap on it, so a
-- refresh that awaited Fauna cannot undo an app's payload or data update made meanwhile.
ALTER TABLE sessions ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
