//! Per-client-IP rate limits on the unauthenticated FDI routes (sign-in, sign-up, email-exists, refresh,
//! sign-out), in memory, with [`governor`]'s GCRA limiter keyed by client address (IPv6 by /64, since one
//! host usually holds a whole /64).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::RetryLater;
use super::client_ip::TrustedProxies;

/// Requests per minute per client IP on each limited route; `0` turns that limit off. A client may use a
/// whole minute's allowance at once (the burst equals the per-minute rate), so an office behind one NAT
/// address doing 100 concurrent refreshes, or 50 sign-ups in a minute, is not refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    /// `POST {base}/signin` (default 100).
    pub sign_in_per_minute: u32,
    /// `POST {base}/signup` (default 60).
    pub sign_up_per_minute: u32,
    /// `GET {base}/emailpassword/email/exists` (default 120).
    pub email_exists_per_minute: u32,
    /// `POST {base}/session/refresh` (default 600).
    pub refresh_per_minute: u32,
    /// `POST {base}/signout` (default 300).
    pub sign_out_per_minute: u32,
    /// Each of the routes that send an email: `POST {base}/user/password/reset/token` and
    /// `POST {base}/user/email/verify/token` (default 10).
    pub account_email_per_minute: u32,
    /// Each of the routes that redeem an emailed token: `POST {base}/user/password/reset` and
    /// `POST {base}/user/email/verify` (default 30).
    pub account_token_per_minute: u32,
    /// Proxies whose `X-Forwarded-For` names the client (default: none; the socket peer is the client).
    pub trusted_proxies: TrustedProxies,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            sign_in_per_minute: 100,
            sign_up_per_minute: 60,
            email_exists_per_minute: 120,
            refresh_per_minute: 600,
            sign_out_per_minute: 300,
            account_email_per_minute: 10,
            account_token_per_minute: 30,
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// How often (in checks of one limiter) idle client entries are dropped, bounding memory to the clients
/// seen in about a minute.
const PRUNE_EVERY: u64 = 1024;

struct Route {
    path: String,
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

/// The per-IP limits of one router, as an axum middleware state ([`limit`]).
pub(crate) struct PerIpLimiter {
    routes: Vec<Route>,
    proxies: TrustedProxies,
    warned_no_peer: AtomicBool,
}

impl std::fmt::Debug for PerIpLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let routes: Vec<_> = self.routes.iter().map(|r| &r.path).collect();
        f.debug_struct("PerIpLimiter")
            .field("routes", &routes)
            .field("proxies", &self.proxies)
            .finish_non_exhaustive()
    }
}

/// The key a client is counted under: IPv4 as is, IPv6 by its /64.
pub(crate) fn key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

impl PerIpLimiter {
    /// The limits of `limits` on the FDI routes under `base_path` (normalised, e.g. `/auth`).
    pub(crate) fn new(base_path: &str, limits: &RateLimits) -> Self {
        let spec = [
            (Method::POST, "/signin", limits.sign_in_per_minute),
            (Method::POST, "/signup", limits.sign_up_per_minute),
            (
                Method::GET,
                "/emailpassword/email/exists",
                limits.email_exists_per_minute,
            ),
            (Method::POST, "/session/refresh", limits.refresh_per_minute),
            (Method::POST, "/signout", limits.sign_out_per_minute),
            (
                Method::POST,
                "/user/password/reset/token",
                limits.account_email_per_minute,
            ),
            (
                Method::POST,
                "/user/email/verify/token",
                limits.account_email_per_minute,
            ),
            (
                Method::POST,
                "/user/password/reset",
                limits.account_token_per_minute,
            ),
            (
                Method::POST,
                "/user/email/verify",
                limits.account_token_per_minute,
            ),
        ];
        let routes = spec
            .into_iter()
            .filter_map(|(_method, path, per_minute)| {
                let n = NonZeroU32::new(per_minute)?;
                Some(Route {
                    path: format!("{base_path}{path}"),
                    limiter: RateLimiter::keyed(Quota::per_minute(n).allow_burst(n)),
                    checks: AtomicU64::new(0),
                })
            })
            .collect();
        Self {
            routes,
            proxies: limits.trusted_proxies.clone(),
            warned_no_peer: AtomicBool::new(false),
        }
    }

    /// The client address of a request: from [`ConnectInfo`] (serve with
    /// `into_make_service_with_connect_info::<SocketAddr>()`) and the trusted proxies.
    fn client_ip(&self, req: &Request) -> IpAddr {
        if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
            return self.proxies.client_ip(peer.ip(), req.headers());
        }
        if !self.warned_no_peer.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "no peer address on requests: serve with into_make_service_with_connect_info::<SocketAddr>() \
                 so per-IP limits count each client (all requests now share one count)"
            );
        }
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }

    /// `Err(seconds to wait)` when `ip` has used up its allowance on this request's route. Every method counts
    /// (a `HEAD` runs the `GET` handler, and any other method reaches the route's 405 at least), except the CORS
    /// preflight `OPTIONS`, which the CORS layer answers without touching the route.
    fn check(&self, method: &Method, path: &str, ip: IpAddr) -> Result<(), u64> {
        if method == Method::OPTIONS {
            return Ok(());
        }
        let Some(route) = self.routes.iter().find(|r| r.path == path) else {
            return Ok(());
        };
        if route.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            route.limiter.retain_recent();
            route.limiter.shrink_to_fit();
        }
        route.limiter.check_key(&key(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// Middleware: records the request's [`Client`](crate::security::Client) (its resolved address) and answers `429 {"message": "too many requests"}` with
/// `Retry-After` when the client is over its limit on the route.
/// Emits [`SecurityEvent::RateLimited`](crate::security::SecurityEvent::RateLimited) for each 429.
pub(crate) async fn limit(
    State((limiter, engine)): State<(Arc<PerIpLimiter>, crate::SessionEngine)>,
    mut req: Request,
    next: Next,
) -> Response {
    let ip = limiter.client_ip(&req);
    let known = Some(ip).filter(|ip| !ip.is_unspecified());
    let client = crate::security::Client::new(known, req.headers());
    req.extensions_mut().insert(client.clone());
    if let Err(wait) = limiter.check(req.method(), req.uri().path(), ip) {
        engine.emit(&crate::security::SecurityEvent::RateLimited {
            path: req.uri().path().to_owned(),
            client,
            count: 1,
        });
        return RetryLater::too_many_requests(wait).into_response();
    }
    let head = req.method() == Method::HEAD;
    let res = next.run(req).await;
    if head { without_length(res) } else { res }
}

/// A `HEAD` answer with no `Content-Length`: the length of the `GET` body it stands for would tell answers
/// apart (`"exists":true` is one byte shorter than `false`). The body is replaced by one of unknown length, so
/// axum does not add the header back, and hyper sends none for an empty `HEAD` body.
fn without_length(mut res: Response) -> Response {
    res.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
    let (parts, _) = res.into_parts();
    let unknown =
        futures_util::stream::empty::<Result<axum::body::Bytes, std::convert::Infallible>>();
    Response::from_parts(parts, axum::body::Body::from_stream(unknown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_the_per_minute_allowance_passes_then_429() {
        let l = PerIpLimiter::new(
            "/auth",
            &RateLimits {
                refresh_per_minute: 100,
                ..RateLimits::default()
            },
        );
        let office: IpAddr = "198.51.100.7".parse().unwrap();
        for _ in 0..100 {
            assert_eq!(
                l.check(&Method::POST, "/auth/session/refresh", office),
                Ok(())
            );
        }
        let wait = l
            .check(&Method::POST, "/auth/session/refresh", office)
            .unwrap_err();
        assert!((1..=60).contains(&wait), "{wait}");
        // Another client, another route, another method: unaffected.
        let other: IpAddr = "198.51.100.8".parse().unwrap();
        assert_eq!(
            l.check(&Method::POST, "/auth/session/refresh", other),
            Ok(())
        );
        assert_eq!(l.check(&Method::POST, "/auth/signin", office), Ok(()));
        // Every method but the CORS preflight counts on a limited route.
        assert!(
            l.check(&Method::GET, "/auth/session/refresh", office)
                .is_err()
        );
        assert!(
            l.check(&Method::HEAD, "/auth/session/refresh", office)
                .is_err()
        );
        assert_eq!(
            l.check(&Method::OPTIONS, "/auth/session/refresh", office),
            Ok(())
        );
    }

    #[test]
    fn zero_turns_a_limit_off_and_ipv6_counts_by_64() {
        let l = PerIpLimiter::new(
            "/auth",
            &RateLimits {
                sign_up_per_minute: 0,
                sign_in_per_minute: 1,
                ..RateLimits::default()
            },
        );
        let ip: IpAddr = "2001:db8::1".parse().unwrap();
        for _ in 0..1000 {
            assert_eq!(l.check(&Method::POST, "/auth/signup", ip), Ok(()));
        }
        assert_eq!(l.check(&Method::POST, "/auth/signin", ip), Ok(()));
        let same_64: IpAddr = "2001:db8::ffff:1".parse().unwrap();
        assert!(l.check(&Method::POST, "/auth/signin", same_64).is_err());
        let other_64: IpAddr = "2001:db8:0:1::1".parse().unwrap();
        assert_eq!(l.check(&Method::POST, "/auth/signin", other_64), Ok(()));
    }
}
