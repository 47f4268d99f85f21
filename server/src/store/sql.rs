//! [`SessionStore`] and [`KeyStore`] over sqlx: SQLite (file, WAL) or PostgreSQL, with embedded migrations.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::Row as _;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{
    ChildPromotion, KeyStore, LineageUpdate, SessionRow, SessionStore, StoreError, StoredKey,
};

/// SQL store: SQLite (`sqlite://file?mode=rwc`) or PostgreSQL (`postgres://…`).
///
/// ```no_run
/// # async fn demo() -> Result<(), fauna_session_server::store::StoreError> {
/// use fauna_session_server::store::SqlStore;
/// let store = SqlStore::connect("sqlite://fauna-session.sqlite?mode=rwc").await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub enum SqlStore {
    /// SQLite: a read pool and a single-connection write pool (writes queue in the pool instead of spinning on
    /// SQLite's busy lock).
    Sqlite {
        /// Pool for reads.
        read: SqlitePool,
        /// Pool (one connection) for writes.
        write: SqlitePool,
    },
    /// PostgreSQL pool.
    Postgres(PgPool),
}

/// How [`SqlStore::connect_with_options`] connects.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectOptions {
    /// SQLite: how long a write waits for the database lock (default 5 s).
    pub sqlite_busy_timeout: Duration,
    /// SQLite: open an existing database file (or its `-wal`/`-shm` file) that its group or others may read or
    /// write (default `false`: refused, since it holds private keys, password hashes and tokens).
    pub allow_readable_file: bool,
    /// PostgreSQL: how long a query waits for a connection (default 2 s). While the database is unreachable
    /// every request that needs it answers `503` with `Retry-After` after at most this long, instead of
    /// holding its client until the request timeout.
    pub postgres_acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            sqlite_busy_timeout: Duration::from_secs(5),
            allow_readable_file: false,
            postgres_acquire_timeout: Duration::from_secs(2),
        }
    }
}

impl ConnectOptions {
    /// These options with [`allow_readable_file`](Self::allow_readable_file) set.
    pub fn allow_readable_file(mut self, allow: bool) -> Self {
        self.allow_readable_file = allow;
        self
    }
}

/// The SQLite file's permissions: created owner-only, refused when others may open it.
mod private_file {
    use std::path::Path;

    use super::StoreError;

    /// Group and others: any of read, write, execute.
    #[cfg(unix)]
    const OTHERS: u32 = 0o077;

    /// Create `path` `0600` when it is missing; refuse it, and its `-wal`/`-shm` files, when others may open
    /// them (unless `allow_readable`).
    pub(super) fn prepare(path: &Path, allow_readable: bool) -> Result<(), StoreError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
            if path.as_os_str().is_empty() {
                return Ok(());
            }
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                // The directory may be missing or read-only: sqlx reports that with the path.
                Err(_) => return Ok(()),
            }
            if allow_readable {
                return Ok(());
            }
            let mut wal = path.as_os_str().to_owned();
            wal.push("-wal");
            let mut shm = path.as_os_str().to_owned();
            shm.push("-shm");
            for file in [path.to_owned(), wal.into(), shm.into()] {
                let Ok(meta) = std::fs::metadata(&file) else {
                    continue;
                };
                let mode = meta.permissions().mode() & 0o777;
                if mode & OTHERS != 0 {
                    return Err(StoreError::Database(format!(
                        "{} is open to other users (mode {mode:03o}) and holds private keys, password hashes \
                         and tokens: run `chmod 600 {}` (or start with --allow-readable-db)",
                        file.display(),
                        file.display()
                    )));
                }
            }
        }
        #[cfg(not(unix))]
        let _ = (path, allow_readable);
        Ok(())
    }
}

/// Run the same sqlx code against whichever pool this store holds (`read` or `write` side for SQLite).
macro_rules! with_pool {
    ($self:expr, $side:ident, |$pool:ident| $body:expr) => {
        match $self {
            SqlStore::Sqlite { $side: $pool, .. } => $body,
            SqlStore::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

const SESSION_COLUMNS: &str = "session_handle, user_id, current_hash2, parent_hash2, access_token_payload, session_data, created_at, expires_at, version";

fn session_from_row<R: sqlx::Row>(r: &R) -> Result<SessionRow, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> Option<String>: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(SessionRow {
        session_handle: r.try_get("session_handle")?,
        user_id: r.try_get("user_id")?,
        current_hash2: r.try_get("current_hash2")?,
        parent_hash2: r.try_get("parent_hash2")?,
        access_token_payload: r.try_get("access_token_payload")?,
        session_data: r.try_get("session_data")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        version: r.try_get("version")?,
    })
}

impl SqlStore {
    /// The first column (text) of each row `sql` reads, with `$1` bound to `key` and `$2` to `now`.
    pub(crate) async fn texts(
        &self,
        sql: &str,
        key: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        with_pool!(self, read, |p| {
            let rows = sqlx::query(sql).bind(key).bind(now).fetch_all(p).await?;
            rows.iter()
                .map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
                .collect()
        })
    }

    /// Connect to `url` and run migrations. SQLite files are created when the URL says `mode=rwc`.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, Duration::from_secs(5)).await
    }

    /// Like [`connect`](Self::connect), with the SQLite busy timeout (how long a write waits for a lock).
    pub async fn connect_with(
        url: &str,
        sqlite_busy_timeout: Duration,
    ) -> Result<Self, StoreError> {
        Self::connect_with_options(
            url,
            &ConnectOptions {
                sqlite_busy_timeout,
                ..ConnectOptions::default()
            },
        )
        .await
    }

    /// Like [`connect`](Self::connect), with every connection option.
    ///
    /// A SQLite file holds the signing keys, the refresh-token key, password hashes and live Fauna tokens: a new
    /// file is created `0600` (its `-wal` and `-shm` files take the same mode), and an existing one that its
    /// group or others may open is refused unless [`ConnectOptions::allow_readable_file`] says otherwise.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), fauna_session_server::store::StoreError> {
    /// use fauna_session_server::store::{ConnectOptions, SqlStore};
    /// let store = SqlStore::connect_with_options(
    ///     "sqlite://fauna-session.sqlite",
    ///     &ConnectOptions::default(),
    /// )
    /// .await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect_with_options(
        url: &str,
        options: &ConnectOptions,
    ) -> Result<Self, StoreError> {
        let sqlite_busy_timeout = options.sqlite_busy_timeout;
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(options.postgres_acquire_timeout)
                .connect(url)
                .await?;
            SqlStore::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(sqlite_busy_timeout)
                .foreign_keys(true);
            // `sqlite://path` creates the file when it is missing; an explicit `mode=` decides for itself.
            let create = !url.contains("mode=");
            let in_memory = url.contains(":memory:") || url.contains("mode=memory");
            if !in_memory {
                private_file::prepare(opts.get_filename(), options.allow_readable_file)?;
            }
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(if create {
                    opts.clone().create_if_missing(true)
                } else {
                    opts.clone()
                })
                .await?;
            // An in-memory database exists per connection: reads must share the writer's connection.
            let read = if in_memory {
                write.clone()
            } else {
                SqlitePoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts.create_if_missing(false))
                    .await?
            };
            SqlStore::Sqlite { read, write }
        } else {
            return Err(StoreError::Database(format!(
                "unsupported database URL scheme in {:?} (use sqlite:// or postgres://)",
                url.split(':').next().unwrap_or("")
            )));
        };
        store.migrate().await?;
        Ok(store)
    }

    /// One round trip to the database (`SELECT 1` on a reading connection): whether it answers now.
    pub async fn ping(&self) -> Result<(), StoreError> {
        with_pool!(self, read, |p| sqlx::query("SELECT 1")
            .execute(p)
            .await?
            .rows_affected());
        Ok(())
    }

    /// Apply pending migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            SqlStore::Sqlite { write, .. } => {
                sqlx::migrate!("./migrations/sqlite").run(write).await?
            }
            SqlStore::Postgres(p) => sqlx::migrate!("./migrations/postgres").run(p).await?,
        }
        Ok(())
    }

    /// Close the pool.
    pub async fn close(&self) {
        match self {
            SqlStore::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            SqlStore::Postgres(p) => p.close().await,
        }
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self {
            SqlStore::Sqlite { .. } => "sqlite",
            SqlStore::Postgres(_) => "postgres",
        }
    }
}

#[async_trait::async_trait]
impl SessionStore for SqlStore {
    fn accounts(&self) -> Option<&dyn crate::accounts::AccountStore> {
        Some(self)
    }

    fn audit(&self) -> Option<&dyn crate::security::AuditStore> {
        Some(self)
    }

    async fn insert_session(&self, s: &SessionRow) -> Result<(), StoreError> {
        let sql = "INSERT INTO sessions (session_handle, user_id, current_hash2, parent_hash2, access_token_payload, \
                   session_data, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        with_pool!(self, write, |p| sqlx::query(sql)
            .bind(&s.session_handle)
            .bind(&s.user_id)
            .bind(&s.current_hash2)
            .bind(&s.parent_hash2)
            .bind(&s.access_token_payload)
            .bind(&s.session_data)
            .bind(s.created_at)
            .bind(s.expires_at)
            .execute(p)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    async fn session(&self, handle: &str) -> Result<Option<SessionRow>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE session_handle = $1");
        with_pool!(self, read, |p| {
            let row = sqlx::query(&sql).bind(handle).fetch_optional(p).await?;
            row.as_ref().map(session_from_row).transpose()
        })
    }

    async fn update_lineage(&self, u: &LineageUpdate<'_>) -> Result<bool, StoreError> {
        let sql = "UPDATE sessions SET current_hash2 = $1, parent_hash2 = $2, expires_at = $3, \
                   access_token_payload = COALESCE($4, access_token_payload), session_data = COALESCE($5, session_data), \
                   version = version + 1 \
                   WHERE session_handle = $6 AND current_hash2 = $7 AND expires_at > $8 AND version = $9 \
                   AND created_at > $10";
        let n = with_pool!(self, write, |p| sqlx::query(sql)
            .bind(u.new_current)
            .bind(u.new_parent)
            .bind(u.expires_at)
            .bind(u.access_token_payload)
            .bind(u.session_data)
            .bind(u.session_handle)
            .bind(u.expected_current)
            .bind(u.now)
            .bind(u.expected_version)
            .bind(u.created_after)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    async fn promote_child(
        &self,
        u: &ChildPromotion<'_>,
    ) -> Result<Option<SessionRow>, StoreError> {
        // SET expressions see the old row, so parent_hash2 takes the old current_hash2.
        let sql = format!(
            "UPDATE sessions SET parent_hash2 = current_hash2, current_hash2 = $1, expires_at = $2, \
             version = version + 1 \
             WHERE session_handle = $3 AND current_hash2 = $4 AND expires_at > $5 AND created_at > $6 \
             RETURNING {SESSION_COLUMNS}"
        );
        with_pool!(self, write, |p| {
            let row = sqlx::query(&sql)
                .bind(u.new_current)
                .bind(u.expires_at)
                .bind(u.session_handle)
                .bind(u.parent_hash2)
                .bind(u.now)
                .bind(u.created_after)
                .fetch_optional(p)
                .await?;
            row.as_ref().map(session_from_row).transpose()
        })
    }

    async fn delete_session(&self, handle: &str) -> Result<Option<SessionRow>, StoreError> {
        let sql =
            format!("DELETE FROM sessions WHERE session_handle = $1 RETURNING {SESSION_COLUMNS}");
        with_pool!(self, write, |p| {
            let row = sqlx::query(&sql).bind(handle).fetch_optional(p).await?;
            row.as_ref().map(session_from_row).transpose()
        })
    }

    async fn delete_user_sessions(&self, user_id: &str) -> Result<Vec<SessionRow>, StoreError> {
        let sql = format!("DELETE FROM sessions WHERE user_id = $1 RETURNING {SESSION_COLUMNS}");
        with_pool!(self, write, |p| {
            let rows = sqlx::query(&sql).bind(user_id).fetch_all(p).await?;
            rows.iter().map(session_from_row).collect()
        })
    }

    async fn delete_sessions_created_before(
        &self,
        before: i64,
        limit: u32,
    ) -> Result<Vec<SessionRow>, StoreError> {
        let sql = format!(
            "DELETE FROM sessions WHERE session_handle IN \
             (SELECT session_handle FROM sessions WHERE created_at <= $1 LIMIT $2) RETURNING {SESSION_COLUMNS}"
        );
        with_pool!(self, write, |p| {
            let rows = sqlx::query(&sql)
                .bind(before)
                .bind(i64::from(limit))
                .fetch_all(p)
                .await?;
            rows.iter().map(session_from_row).collect()
        })
    }

    async fn user_session_handles(
        &self,
        user_id: &str,
        now: i64,
    ) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT session_handle FROM sessions WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at";
        self.texts(sql, user_id, now).await
    }

    async fn set_session_data(&self, handle: &str, data: &str) -> Result<bool, StoreError> {
        let sql = "UPDATE sessions SET session_data = $1, version = version + 1 WHERE session_handle = $2";
        let n = with_pool!(self, write, |p| sqlx::query(sql)
            .bind(data)
            .bind(handle)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    async fn set_access_token_payload(
        &self,
        handle: &str,
        payload: &str,
    ) -> Result<bool, StoreError> {
        let sql = "UPDATE sessions SET access_token_payload = $1, version = version + 1 WHERE session_handle = $2";
        let n = with_pool!(self, write, |p| sqlx::query(sql)
            .bind(payload)
            .bind(handle)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    async fn delete_expired_sessions(&self, now: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM sessions WHERE expires_at <= $1";
        Ok(with_pool!(self, write, |p| sqlx::query(sql)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected()))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        SqlStore::ping(self).await
    }

    async fn record_revoked(
        &self,
        handles: &[String],
        now: i64,
        until: i64,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO revoked_sessions (session_handle, revoked_at, until) VALUES ($1, $2, $3) \
                   ON CONFLICT (session_handle) DO UPDATE SET revoked_at = $2, until = $3";
        with_pool!(self, write, |p| {
            let mut tx = p.begin().await?;
            for h in handles {
                sqlx::query(sql)
                    .bind(h)
                    .bind(now)
                    .bind(until)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn revoked_since(&self, since: i64) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = "SELECT session_handle, until FROM revoked_sessions WHERE revoked_at >= $1";
        Ok(with_pool!(self, read, |p| {
            sqlx::query_as::<_, (String, i64)>(sql)
                .bind(since)
                .fetch_all(p)
                .await?
        }))
    }

    async fn delete_expired_revocations(&self, now: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM revoked_sessions WHERE until <= $1";
        Ok(with_pool!(self, write, |p| sqlx::query(sql)
            .bind(now)
            .execute(p)
            .await?
            .rows_affected()))
    }
}

#[async_trait::async_trait]
impl KeyStore for SqlStore {
    async fn signing_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let sql = "SELECT kid, created_at, private_key FROM signing_keys ORDER BY created_at DESC";
        with_pool!(self, read, |p| {
            let rows = sqlx::query(sql).fetch_all(p).await?;
            rows.iter()
                .map(|r| {
                    Ok(StoredKey {
                        kid: r.try_get(0)?,
                        created_at: r.try_get(1)?,
                        private_key: r.try_get(2)?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
                .map_err(StoreError::from)
        })
    }

    async fn insert_signing_key(
        &self,
        key: &StoredKey,
        newer_than: i64,
    ) -> Result<bool, StoreError> {
        let sql = "INSERT INTO signing_keys (kid, created_at, private_key) SELECT $1, $2, $3 \
                   WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE created_at >= $4) ON CONFLICT DO NOTHING";
        let n = with_pool!(self, write, |p| sqlx::query(sql)
            .bind(&key.kid)
            .bind(key.created_at)
            .bind(&key.private_key)
            .bind(newer_than)
            .execute(p)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    async fn delete_signing_keys_before(
        &self,
        cutoff: i64,
        keep_kid: &str,
    ) -> Result<u64, StoreError> {
        let sql = "DELETE FROM signing_keys WHERE created_at < $1 AND kid <> $2";
        Ok(with_pool!(self, write, |p| sqlx::query(sql)
            .bind(cutoff)
            .bind(keep_kid)
            .execute(p)
            .await?
            .rows_affected()))
    }

    async fn secret(&self, name: &str, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
        let ins = "INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING";
        let sel = "SELECT value FROM secrets WHERE name = $1";
        with_pool!(self, write, |p| {
            sqlx::query(ins)
                .bind(name)
                .bind(candidate)
                .execute(p)
                .await?;
            let row = sqlx::query(sel).bind(name).fetch_one(p).await?;
            row.try_get::<Vec<u8>, _>(0).map_err(StoreError::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_memory_sqlite_and_bad_urls() {
        let store = SqlStore::connect("sqlite::memory:")
            .await
            .expect("memory store");
        assert_eq!(store.backend(), "sqlite");
        let key = store.secret("k", b"first").await.expect("secret");
        assert_eq!(
            store.secret("k", b"second").await.expect("secret"),
            key,
            "first writer wins"
        );
        assert!(SqlStore::connect("mysql://x").await.is_err());
    }
}
