//! The one place security events go out: tracing, the Prometheus family, the app's hook, the audit table.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use prometheus_client::metrics::counter::Counter;

use super::audit::{AuditRow, AuditWriter};
use super::{Client, EmailFingerprint, SecurityEvent};
use crate::config::SessionConfig;
use crate::crypto::{hex, hmac_sha256, now_ms};
use crate::hooks::SessionHooks;
use crate::metrics::Metrics;
use crate::store::SessionStore;

/// The `tracing` target of security events.
pub(crate) const TARGET: &str = "fauna_session::security";

/// How often, at most, a full audit queue is warned about.
const FULL_WARNING_EVERY_MS: i64 = 10_000;

/// Most (client, route) windows held; beyond, new clients share one window (their summary has no address).
const MAX_REFUSAL_WINDOWS: usize = 10_000;

/// A client's refusals on a route in the current window.
struct RefusalWindow {
    started: i64,
    /// Refusals since the first (which was sent).
    more: u64,
    client: Client,
}

/// The open refusal windows, by client address and path.
struct Refusals {
    /// How long a window lasts, ms.
    window_ms: i64,
    windows: HashMap<(Option<IpAddr>, String), RefusalWindow>,
}

impl Refusals {
    /// Count a refusal at `now`; `true` when it opens a window (send it). A window that is over is closed
    /// first, its summary pushed to `summaries`.
    fn count(
        &mut self,
        client: &Client,
        path: &str,
        now: i64,
        summaries: &mut Vec<SecurityEvent>,
    ) -> bool {
        let mut key = (client.ip, path.to_owned());
        if !self.windows.contains_key(&key) && self.windows.len() >= MAX_REFUSAL_WINDOWS {
            key = (None, "*".to_owned());
        }
        if let Some(w) = self.windows.get_mut(&key) {
            if now - w.started < self.window_ms {
                w.more += 1;
                return false;
            }
            if let Some(w) = self.windows.remove(&key) {
                summaries.extend(summary(&key.1, w));
            }
        }
        let client = if key.0.is_none() && key.1 == "*" {
            Client::default()
        } else {
            client.clone()
        };
        self.windows.insert(
            key,
            RefusalWindow {
                started: now,
                more: 0,
                client,
            },
        );
        true
    }

    /// Close the windows that are over at `now`; their summaries.
    fn close_over(&mut self, now: i64) -> Vec<SecurityEvent> {
        let over: Vec<_> = self
            .windows
            .iter()
            .filter(|(_, w)| now - w.started >= self.window_ms)
            .map(|(k, _)| k.clone())
            .collect();
        over.into_iter()
            .filter_map(|k| {
                let w = self.windows.remove(&k)?;
                summary(&k.1, w)
            })
            .collect()
    }
}

/// The event for a window's refusals after its first, if there were any.
fn summary(path: &str, w: RefusalWindow) -> Option<SecurityEvent> {
    (w.more > 0).then(|| SecurityEvent::RateLimited {
        path: path.to_owned(),
        client: w.client,
        count: w.more,
    })
}

/// Fans each [`SecurityEvent`] out to its sinks. Never blocks and never fails: the request that caused the
/// event goes on whatever a sink does (the hook is the app's, and must return quickly).
pub(crate) struct SecurityLog {
    hooks: Arc<dyn SessionHooks>,
    metrics: (
        prometheus_client::metrics::family::Family<crate::metrics::EventLabel, Counter>,
        Counter,
    ),
    audit: Option<AuditWriter>,
    email_key: Vec<u8>,
    last_full_warning: AtomicI64,
    refusals: Mutex<Refusals>,
    last_refusal_sweep: AtomicI64,
}

impl std::fmt::Debug for SecurityLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecurityLog")
            .field("audit", &self.audit.is_some())
            .finish_non_exhaustive()
    }
}

impl SecurityLog {
    /// The log of an engine with `config` and `metrics`; starts the audit writer over `store` when the audit
    /// log is on. `email_key` keys the [`EmailFingerprint`]s.
    pub(crate) fn new(
        config: &SessionConfig,
        metrics: &Metrics,
        store: Arc<dyn SessionStore>,
        email_key: Vec<u8>,
    ) -> Self {
        let audit = if config.audit_log.enabled {
            AuditWriter::start(store, metrics.audit_rows_dropped.clone())
        } else {
            None
        };
        Self {
            hooks: config.hooks.clone(),
            metrics: (
                metrics.security_events.clone(),
                metrics.audit_rows_dropped.clone(),
            ),
            audit,
            email_key,
            last_full_warning: AtomicI64::new(0),
            refusals: Mutex::new(Refusals {
                window_ms: crate::crypto::millis(config.audit_log.rate_limited_window).max(1),
                windows: HashMap::new(),
            }),
            last_refusal_sweep: AtomicI64::new(0),
        }
    }

    /// The keyed fingerprint of a normalised email.
    pub(crate) fn fingerprint(&self, email: &str) -> EmailFingerprint {
        let mac = hmac_sha256(&self.email_key, &[b"email\0", email.as_bytes()]);
        EmailFingerprint(hex(&mac[..16]))
    }

    /// The keyed MAC binding a device cookie's `device` id to a normalised email (see `device_cookie`).
    pub(crate) fn device_mac(&self, email: &str, device: &str) -> [u8; 32] {
        hmac_sha256(
            &self.email_key,
            &[b"device\0", email.as_bytes(), b"\0", device.as_bytes()],
        )
    }

    /// Send the summaries of the refusal windows over at `now` (the maintenance task calls this; a refusal
    /// does too, at most once a window).
    pub(crate) fn flush_refusals(&self, now: i64) {
        self.last_refusal_sweep.store(now, Ordering::Relaxed);
        let summaries = self
            .refusals
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .close_over(now);
        for event in &summaries {
            self.send(event);
        }
    }

    /// Send `event` to every sink; a [`SecurityEvent::RateLimited`] is counted, and sent only when it opens
    /// its client's window on the route (the rest of the window goes out as one summary).
    pub(crate) fn emit(&self, event: &SecurityEvent) {
        let (family, _) = &self.metrics;
        family
            .get_or_create(&crate::metrics::EventLabel {
                event: event.name(),
            })
            .inc();
        let SecurityEvent::RateLimited { path, client, .. } = event else {
            return self.send(event);
        };
        let now = now_ms();
        let mut summaries = Vec::new();
        let (first, window_ms) = {
            let mut refusals = self.refusals.lock().unwrap_or_else(PoisonError::into_inner);
            (
                refusals.count(client, path, now, &mut summaries),
                refusals.window_ms,
            )
        };
        for summary in &summaries {
            self.send(summary);
        }
        if first {
            self.send(event);
        }
        if now - self.last_refusal_sweep.load(Ordering::Relaxed) >= window_ms {
            self.flush_refusals(now);
        }
    }

    /// `event` to the log, the hook and the audit table (counted already).
    fn send(&self, event: &SecurityEvent) {
        trace(event);
        let (_, dropped) = &self.metrics;
        // A panicking hook must not take the request (or the connection) down with it.
        let hook = std::panic::AssertUnwindSafe(|| self.hooks.on_security_event(event));
        if std::panic::catch_unwind(hook).is_err() {
            tracing::error!(
                event = event.name(),
                "SessionHooks::on_security_event panicked"
            );
        }
        let Some(audit) = &self.audit else {
            return;
        };
        let client = event.client();
        let row = AuditRow {
            at: now_ms(),
            event: event.name(),
            user_id: event.user_id().map(str::to_owned),
            session_handle: event.session_handle().map(str::to_owned),
            ip: client.ip.map(|ip| ip.to_string()),
            user_agent: client.user_agent.clone(),
            detail: serde_json::Value::Object(event.detail()).to_string(),
        };
        if !audit.send(row) {
            dropped.inc();
            let now = now_ms();
            let last = self.last_full_warning.load(Ordering::Relaxed);
            if now - last >= FULL_WARNING_EVERY_MS
                && self
                    .last_full_warning
                    .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                tracing::warn!(
                    "audit log queue full: security events are not all written to the audit table"
                );
            }
        }
    }
}

/// `event` as a `tracing` event of target [`TARGET`]: theft and lockouts at WARN, the rest at INFO.
fn trace(event: &SecurityEvent) {
    let client = event.client();
    let ip = client.ip.map(tracing::field::display);
    let detail = event.detail();
    let detail = (!detail.is_empty()).then(|| serde_json::Value::Object(detail).to_string());
    macro_rules! at {
        ($level:ident) => {
            tracing::$level!(
                target: TARGET,
                event = event.name(),
                user_id = event.user_id(),
                session_handle = event.session_handle(),
                client_ip = ip,
                user_agent = client.user_agent.as_deref(),
                detail = detail.as_deref(),
                "security event"
            )
        };
    }
    match event {
        SecurityEvent::TokenTheft { .. }
        | SecurityEvent::LockoutStarted { .. }
        | SecurityEvent::SignInLockedOut { .. } => at!(warn),
        _ => at!(info),
    }
}
