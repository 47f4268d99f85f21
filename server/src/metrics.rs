//! Counters exported in Prometheus text format (`--metrics`, `GET /metrics`).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Event counters of one engine. All counters only grow.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Sessions created.
    pub sessions_created: AtomicU64,
    /// Refresh requests received.
    pub refresh_requests: AtomicU64,
    /// Refreshes that issued new tokens.
    pub refresh_success: AtomicU64,
    /// Token thefts detected (sessions revoked).
    pub token_theft: AtomicU64,
    /// Verify-time promotions (first use of a refreshed access token).
    pub verify_promotions: AtomicU64,
    /// Sessions revoked (sign-out, revoke, theft).
    pub sessions_revoked: AtomicU64,
    /// Sign-ups.
    pub signups: AtomicU64,
    /// Successful sign-ins.
    pub signins: AtomicU64,
}

impl Metrics {
    /// Add one to `counter`.
    pub(crate) fn inc(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Render in Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let rows: [(&str, &str, &AtomicU64); 8] = [
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
                v.load(Ordering::Relaxed)
            );
        }
        out
    }
}
