//! Counters exported in Prometheus text format (`--metrics`, `GET /metrics`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// A counter that only grows.
#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    /// Add one.
    pub(crate) fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Event counters of one engine, rendered in Prometheus text format. All counters only grow.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Sessions created.
    pub(crate) sessions_created: Counter,
    /// Refresh requests received.
    pub(crate) refresh_requests: Counter,
    /// Refreshes that issued new tokens.
    pub(crate) refresh_success: Counter,
    /// Token thefts detected (sessions revoked).
    pub(crate) token_theft: Counter,
    /// Verify-time promotions (first use of a refreshed access token).
    pub(crate) verify_promotions: Counter,
    /// Sessions revoked (sign-out, revoke, theft).
    pub(crate) sessions_revoked: Counter,
    /// Sign-ups.
    pub(crate) signups: Counter,
    /// Successful sign-ins.
    pub(crate) signins: Counter,
}

impl Metrics {
    /// Render in Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let rows: [(&str, &str, &Counter); 8] = [
            (
                "fauna_session_sessions_created_total",
                "Sessions created.",
                &self.sessions_created,
            ),
            (
                "fauna_session_refresh_requests_total",
                "Refresh requests received.",
                &self.refresh_requests,
            ),
            (
                "fauna_session_refresh_success_total",
                "Refreshes that issued new tokens.",
                &self.refresh_success,
            ),
            (
                "fauna_session_token_theft_total",
                "Token thefts detected.",
                &self.token_theft,
            ),
            (
                "fauna_session_verify_promotions_total",
                "Verify-time refresh-token promotions.",
                &self.verify_promotions,
            ),
            (
                "fauna_session_sessions_revoked_total",
                "Sessions revoked.",
                &self.sessions_revoked,
            ),
            (
                "fauna_session_signups_total",
                "Email/password sign-ups.",
                &self.signups,
            ),
            (
                "fauna_session_signins_total",
                "Successful email/password sign-ins.",
                &self.signins,
            ),
        ];
        for (name, help, v) in rows {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                v.get()
            );
        }
        out
    }
}
