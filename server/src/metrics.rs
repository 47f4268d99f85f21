//! Event counters, exposed in the Prometheus/OpenMetrics text format through `prometheus-client`
//! (`--metrics`, `GET /metrics`).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// Event counters of one engine. All counters only grow; each is exported as `fauna_session_<name>_total`.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
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
    /// Security events by name (`fauna_session_security_events_total{event="…"}`).
    pub(crate) security_events: Family<EventLabel, Counter>,
    /// Audit rows not written (queue full or database error).
    pub(crate) audit_rows_dropped: Counter,
}

/// The label of [`Metrics::security_events`].
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct EventLabel {
    /// The event's name ([`SecurityEvent::name`](crate::security::SecurityEvent::name)).
    pub(crate) event: &'static str,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("fauna_session");
        let mut counter = |name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let sessions_created = counter("sessions_created", "Sessions created.");
        let refresh_requests = counter("refresh_requests", "Refresh requests received.");
        let refresh_success = counter("refresh_success", "Refreshes that issued new tokens.");
        let token_theft = counter("token_theft", "Token thefts detected.");
        let verify_promotions =
            counter("verify_promotions", "Verify-time refresh-token promotions.");
        let sessions_revoked = counter("sessions_revoked", "Sessions revoked.");
        let signups = counter("signups", "Email/password sign-ups.");
        let signins = counter("signins", "Successful email/password sign-ins.");
        let audit_rows_dropped = counter(
            "audit_rows_dropped",
            "Security events not written to the audit table (queue full or database error).",
        );
        let security_events = Family::<EventLabel, Counter>::default();
        for event in crate::security::SecurityEvent::NAMES {
            let _ = security_events.get_or_create(&EventLabel { event });
        }
        registry.register(
            "security_events",
            "Security events (sign-ins, failures, limits, token theft, revocations) by name.",
            security_events.clone(),
        );
        Self {
            registry,
            sessions_created,
            refresh_requests,
            refresh_success,
            token_theft,
            verify_promotions,
            sessions_revoked,
            signups,
            signins,
            security_events,
            audit_rows_dropped,
        }
    }
}

impl Metrics {
    /// The `Content-Type` of [`render`](Self::render)'s text (OpenMetrics).
    pub const CONTENT_TYPE: &'static str =
        "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// The counters in the OpenMetrics text format (which Prometheus scrapes), e.g.
    /// `fauna_session_refresh_requests_total 3`.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_with_their_names() {
        let m = Metrics::default();
        m.refresh_requests.inc();
        m.refresh_requests.inc();
        m.token_theft.inc();
        let text = m.render();
        assert!(
            text.contains("\nfauna_session_refresh_requests_total 2\n"),
            "{text}"
        );
        assert!(
            text.contains("\nfauna_session_token_theft_total 1\n"),
            "{text}"
        );
        assert!(text.contains("\nfauna_session_signins_total 0\n"), "{text}");
        assert!(
            text.contains("# TYPE fauna_session_signups counter"),
            "{text}"
        );
        assert!(
            text.contains("\nfauna_session_security_events_total{event=\"token_theft\"} 0\n"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"), "{text}");
    }
}
