//! The audit table (`audit_log`, migration `20261201000004_audit_log.sql`): where security events are kept
//! when [`AuditLogConfig::enabled`], written off the request path by one background task.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::store::{SessionStore, SqlStore, StoreError, with_pool};

/// The audit table's settings (`--audit-log`, `--audit-log-retention`).
///
/// ```
/// use std::time::Duration;
/// use fauna_session_server::security::AuditLogConfig;
/// let c = AuditLogConfig::default();
/// assert!(!c.enabled);
/// assert_eq!(c.retention, Duration::from_secs(90 * 24 * 3600));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditLogConfig {
    /// Write every security event into the `audit_log` table (default `false`). Writes happen off the request
    /// path; a failed or dropped write is logged and counted (`fauna_session_audit_rows_dropped_total`), never
    /// fails the request.
    pub enabled: bool,
    /// Rows older than this are deleted by the maintenance task (default 90 days), also after the audit log
    /// was turned off.
    pub retention: Duration,
    /// Most rows kept (default 1,000,000): the maintenance task deletes the oldest beyond it, so no flood of
    /// events can grow the table without bound.
    pub max_rows: u64,
    /// How long one `rate_limited` event stands for a client's refusals on a route (default 60 s; see
    /// [`SecurityEvent::RateLimited`](super::SecurityEvent::RateLimited)); applies to the log and the hook
    /// too.
    pub rate_limited_window: Duration,
}

impl Default for AuditLogConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            retention: Duration::from_secs(90 * 24 * 3600),
            max_rows: 1_000_000,
            rate_limited_window: Duration::from_secs(60),
        }
    }
}

/// One row of the audit table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    /// When, ms since the epoch.
    pub at: i64,
    /// The event's [`name`](super::SecurityEvent::name).
    pub event: &'static str,
    /// The user, when known.
    pub user_id: Option<String>,
    /// The session, when there is one.
    pub session_handle: Option<String>,
    /// The client's IP address, when known.
    pub ip: Option<String>,
    /// The client's user agent, when sent.
    pub user_agent: Option<String>,
    /// The event's [`detail`](super::SecurityEvent::detail) as JSON text.
    pub detail: String,
}

/// Where audit rows are kept ([`SqlStore`]: the `audit_log` table of the session database).
#[async_trait::async_trait]
pub trait AuditStore: Send + Sync {
    /// Append `rows`.
    async fn insert_audit_rows(&self, rows: &[AuditRow]) -> Result<(), StoreError>;
    /// Delete rows from before `before` (ms); returns how many.
    async fn delete_audit_rows_before(&self, before: i64) -> Result<u64, StoreError>;
    /// Delete the oldest rows beyond the newest `keep`; returns how many.
    async fn delete_audit_rows_beyond(&self, keep: u64) -> Result<u64, StoreError>;
}

#[async_trait::async_trait]
impl AuditStore for SqlStore {
    async fn insert_audit_rows(&self, rows: &[AuditRow]) -> Result<(), StoreError> {
        let sql = "INSERT INTO audit_log (at, event, user_id, session_handle, ip, user_agent, detail) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7)";
        with_pool!(self, write, |p| {
            let mut tx = p.begin().await?;
            for r in rows {
                sqlx::query(sql)
                    .bind(r.at)
                    .bind(r.event)
                    .bind(&r.user_id)
                    .bind(&r.session_handle)
                    .bind(&r.ip)
                    .bind(&r.user_agent)
                    .bind(&r.detail)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    async fn delete_audit_rows_before(&self, before: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM audit_log WHERE at < $1";
        Ok(with_pool!(self, write, |p| sqlx::query(sql)
            .bind(before)
            .execute(p)
            .await?
            .rows_affected()))
    }

    async fn delete_audit_rows_beyond(&self, keep: u64) -> Result<u64, StoreError> {
        // Ids only grow, so the newest `keep` rows are those with the largest ids (gaps only keep fewer).
        let sql = "DELETE FROM audit_log WHERE id <= (SELECT MAX(id) FROM audit_log) - $1";
        let keep = i64::try_from(keep).unwrap_or(i64::MAX);
        Ok(with_pool!(self, write, |p| sqlx::query(sql)
            .bind(keep)
            .execute(p)
            .await?
            .rows_affected()))
    }
}

/// Rows waiting to be written; beyond it new rows are dropped (and counted), so a flood cannot grow memory.
const QUEUE: usize = 4096;
/// Most rows written in one transaction.
const BATCH: usize = 64;

/// The sending side of the background writer.
#[derive(Debug)]
pub(crate) struct AuditWriter {
    tx: mpsc::Sender<AuditRow>,
}

impl AuditWriter {
    /// Start the writer task over `store`'s [`AuditStore`]; `None` (with a warning) when the store keeps none.
    /// `dropped` counts rows not written.
    pub(crate) fn start(
        store: Arc<dyn SessionStore>,
        dropped: prometheus_client::metrics::counter::Counter,
    ) -> Option<Self> {
        if store.audit().is_none() {
            tracing::warn!(
                "the audit log is on but the session store keeps no audit table (use SqlStore)"
            );
            return None;
        }
        let (tx, mut rx) = mpsc::channel::<AuditRow>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(BATCH);
            // Ends when the engine (the only sender) is dropped.
            while rx.recv_many(&mut batch, BATCH).await > 0 {
                if let Some(audit) = store.audit()
                    && let Err(e) = audit.insert_audit_rows(&batch).await
                {
                    dropped.inc_by(batch.len() as u64);
                    tracing::warn!(error = %e, rows = batch.len(), "audit rows not written");
                }
                batch.clear();
            }
        });
        Some(Self { tx })
    }

    /// Queue `row`; `false` when the queue is full (the row is dropped).
    pub(crate) fn send(&self, row: AuditRow) -> bool {
        self.tx.try_send(row).is_ok()
    }
}
