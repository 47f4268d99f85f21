//! The HTTP layer: `POST /query/1`, `GET /ping`, CORS for allowed origins only, and the
//! development-only `/_emulator/*` endpoints (root key required).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde_json::{Map, Value as Json, json};

use crate::auth;
use crate::config::Config;
use crate::db::{Fault, State};
use crate::eval::{Failure, Interp};
use crate::parser;
use crate::value::Value;
use crate::wire::{self, Format, Pending, QueryText};

/// Work for the evaluator thread.
pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// Shared state of a running emulator.
#[derive(Clone)]
pub(crate) struct Shared {
    pub(crate) config: Arc<Config>,
    pub(crate) state: Arc<Mutex<State>>,
    pub(crate) evaluator: std::sync::mpsc::Sender<Job>,
    /// Queries received and not yet answered (a test can wait until a delayed query is under way).
    pub(crate) in_flight: Arc<std::sync::atomic::AtomicU64>,
}

/// Stack of the evaluator thread: deeply nested queries recurse, and a stack overflow would
/// abort the process instead of answering 400.
const EVALUATOR_STACK_BYTES: usize = 256 << 20;

/// Starts the thread that runs queries (one at a time: they take the state lock anyway). A
/// panicking query is answered 500 and the thread goes on.
pub(crate) fn spawn_evaluator() -> std::io::Result<std::sync::mpsc::Sender<Job>> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("fauna-emulator-eval".into())
        .stack_size(EVALUATOR_STACK_BYTES)
        .spawn(move || {
            for job in rx {
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
            }
        })?;
    Ok(tx)
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Largest accepted request body.
pub(crate) const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Deadlines below this are answered 440, as the engine does when a client's
/// `x-query-timeout-ms` is shorter than the time any query needs.
pub(crate) const MIN_QUERY_DEADLINE_MS: u64 = 2;

const ALLOW_HEADERS: &str = "accept-encoding, authorization, content-type, x-driver-env, \
x-faunadb-api-version, x-fauna-driver, x-fauna-source, x-fauna-tags, x-format, x-last-seen-txn, \
x-last-txn-ts, x-linearized, x-max-contention-retries, x-max-retries-on-contention, x-query-tags, \
x-query-timeout, x-query-timeout-ms, x-runtime-environment, x-runtime-environment-os, \
x-nodejs-version, traceparent, x-typecheck, x-performance-hints, x-driver";

const EXPOSE_HEADERS: &str = "x-byte-read-ops, x-byte-write-ops, x-compute-ops, x-query-bytes-in, \
x-query-bytes-out, x-query-time, x-storage-bytes-read, x-storage-bytes-write, x-txn-retries, \
x-txn-time, x-faunadb-build";

/// Builds the router.
pub(crate) fn router(shared: Shared) -> Router {
    let development = Router::new()
        .route("/_emulator/stats", get(stats))
        .route("/_emulator/fault", post(fault))
        .route_layer(middleware::from_fn_with_state(
            shared.clone(),
            root_key_only,
        ));
    Router::new()
        .route("/query/1", any(query))
        .route("/ping", get(ping))
        .merge(development)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            common_headers,
        ))
        .with_state(shared)
}

/// `/_emulator/*` answer only the root key itself (unscoped): they can change every answer.
async fn root_key_only(AxState(shared): AxState<Shared>, req: Request, next: Next) -> Response {
    let secret = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(auth::secret_from_header);
    let root = auth::hash_secret(&shared.config.root_key);
    match secret {
        Some(s) if auth::hashes_equal(&auth::hash_secret(&s), &root) => next.run(req).await,
        _ => {
            let (status, body) = protocol_error(
                401,
                "unauthorized",
                "The /_emulator endpoints need the root key: Authorization: Bearer <root key>",
                None,
            );
            json_response(
                StatusCode::from_u16(status).unwrap_or(StatusCode::UNAUTHORIZED),
                &body,
            )
        }
    }
}

/// 403 for a request the emulator does not serve: a foreign `Host` (DNS rebinding) or `Origin`.
fn forbidden(message: &str) -> Response {
    let (_, body) = protocol_error(403, "forbidden", message, None);
    json_response(StatusCode::FORBIDDEN, &body)
}

async fn common_headers(AxState(shared): AxState<Shared>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    let host = host.or_else(|| req.uri().authority().map(|a| a.as_str()));
    let origin_ok = origin
        .as_ref()
        .is_none_or(|o| o.to_str().is_ok_and(|o| shared.config.origin_allowed(o)));
    let host_ok = shared.config.host_allowed(host);
    let preflight = req.method() == Method::OPTIONS && origin.is_some();
    let mut res = if !host_ok {
        forbidden(
            "Host not allowed: a loopback fauna-emulator answers loopback host names only \
             (--insecure-listen lifts this)",
        )
    } else if !origin_ok {
        forbidden("Origin not allowed: list it with --allow-origin (default: loopback origins)")
    } else if preflight {
        StatusCode::OK.into_response()
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&shared.config.build) {
        h.insert("x-faunadb-build", v);
    }
    if let Some(origin) = origin.filter(|_| origin_ok && host_ok) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
            HeaderValue::from_static("true"),
        );
        h.insert(header::VARY, HeaderValue::from_static("Origin"));
        if preflight {
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
            );
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(ALLOW_HEADERS),
            );
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(""),
            );
        } else {
            h.insert(
                header::ACCESS_CONTROL_EXPOSE_HEADERS,
                HeaderValue::from_static(EXPOSE_HEADERS),
            );
        }
    }
    res
}

fn json_response(status: StatusCode, body: &Json) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    if status == StatusCode::UNAUTHORIZED {
        res.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    res
}

async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({"errors": [{"code": "not found", "description": "Not Found"}]}),
    )
}

async fn ping(Query(q): Query<std::collections::HashMap<String, String>>) -> Response {
    let scope = q.get("scope").map_or("write", String::as_str);
    let word = match scope {
        "node" | "read" | "write" | "all" => scope,
        _ => "write",
    };
    json_response(
        StatusCode::OK,
        &json!({ "resource": format!("Scope {word} is OK") }),
    )
}

async fn stats(AxState(shared): AxState<Shared>) -> Response {
    let st = shared.lock();
    let by_status: Map<String, Json> = st
        .stats
        .by_status
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({
            "queries": st.stats.queries,
            "by_status": by_status,
            "live_tokens": st.live_tokens(),
            "in_flight": shared.in_flight.load(std::sync::atomic::Ordering::SeqCst),
        }),
    )
}

async fn fault(AxState(shared): AxState<Shared>, body: Bytes) -> Response {
    let usage = || {
        json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "expected {\"status\": 400..599, \"count\": n} or {\"delay_ms\": ms, \"count\": n}; {\"count\": 0} clears"}),
        )
    };
    let Ok(j) = serde_json::from_slice::<Json>(&body) else {
        return usage();
    };
    let count = j.get("count").and_then(Json::as_u64).unwrap_or(1);
    if let Some(ms) = j.get("delay_ms") {
        let Some(ms) = ms.as_u64().filter(|ms| *ms <= 600_000) else {
            return usage();
        };
        shared.lock().delay = (count > 0).then_some((ms, count));
        return json_response(StatusCode::OK, &json!({"delay_ms": ms, "count": count}));
    }
    let status = match j.get("status").map(Json::as_u64) {
        Some(Some(s)) if (400..600).contains(&s) => s as u16,
        None if count == 0 => 0,
        _ => return usage(),
    };
    let mut st = shared.lock();
    st.fault = (count > 0).then_some(Fault {
        status,
        remaining: count,
    });
    if count == 0 {
        st.delay = None;
    }
    json_response(StatusCode::OK, &json!({"status": status, "count": count}))
}

fn protocol_error(status: u16, code: &str, message: &str, tags: Option<&str>) -> (u16, Json) {
    let mut body = json!({ "error": { "code": code, "message": message } });
    if let Some(t) = tags {
        body["query_tags"] = Json::String(t.to_string());
    }
    (status, body)
}

fn bad_request(message: String) -> (u16, Json) {
    protocol_error(400, "invalid_request", &message, None)
}

fn header_str<'h>(h: &'h HeaderMap, name: &str) -> Option<&'h str> {
    h.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"))
}

fn bool_header(h: &HeaderMap, name: &str) -> Result<Option<bool>, (u16, Json)> {
    match header_str(h, name) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(bad_request(format!(
            "Invalid header '{name}': Must be a boolean value."
        ))),
    }
}

fn int_header(h: &HeaderMap, name: &str) -> Result<Option<i64>, (u16, Json)> {
    match header_str(h, name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| bad_request(format!("Invalid header '{name}': Invalid number '{v}'."))),
    }
}

fn validate_tags(v: &str) -> Result<(), &'static str> {
    if v.len() > 3000 {
        return Err("header is too long");
    }
    let mut seen = std::collections::HashSet::new();
    let pairs: Vec<&str> = v.split(',').collect();
    if pairs.len() > 25 {
        return Err("too many tags");
    }
    let ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    for p in pairs {
        let Some((k, val)) = p.split_once('=') else {
            return Err("invalid tags");
        };
        if !ok(k) || k.len() > 40 {
            return Err(if k.is_empty() {
                "invalid tags"
            } else {
                "invalid key"
            });
        }
        if !ok(val) || val.len() > 80 {
            return Err(if val.is_empty() {
                "invalid tags"
            } else {
                "invalid value"
            });
        }
        if !seen.insert(k) {
            return Err("duplicate key");
        }
    }
    Ok(())
}

/// Everything a query request carries once validated.
struct Request1 {
    format: Format,
    typecheck: bool,
    timeout_ms: u64,
    tags: Option<String>,
    query: QueryText,
    arguments: Vec<Pending>,
}

/// Validates headers and body in the engine's order (§1.6); the secret is checked afterwards.
fn validate(h: &HeaderMap, body: &[u8]) -> Result<Request1, (u16, Json)> {
    // 1. x-last-txn-ts, x-query-timeout-ms, x-max-contention-retries.
    if let Some(v) = header_str(h, "x-last-txn-ts")
        && v.trim().parse::<i64>().is_err()
    {
        return Err(bad_request(format!(
            "Invalid header 'x-last-txn-ts': Invalid timestamp '{v}'."
        )));
    }
    let timeout_ms = match int_header(h, "x-query-timeout-ms")? {
        None => 120_000,
        Some(t) if t <= 0 => {
            return Err(bad_request(
                "Invalid header 'x-query-timeout-ms': Must be greater than 0.".into(),
            ));
        }
        Some(t) if t > 600_000 => {
            return Err(bad_request(
                "Invalid header 'x-query-timeout-ms': Must be less than or equal to 600000.".into(),
            ));
        }
        Some(t) => t as u64,
    };
    if let Some(r) = int_header(h, "x-max-contention-retries")?
        && !(0..=7).contains(&r)
    {
        return Err(bad_request(
            "Invalid header 'x-max-contention-retries': Must be between 0 and 7.".into(),
        ));
    }
    // 2. x-query-tags.
    let tags = match header_str(h, "x-query-tags") {
        None => None,
        Some(v) => {
            validate_tags(v)
                .map_err(|e| bad_request(format!("Invalid header 'x-query-tags': {e}")))?;
            Some(v.to_string())
        }
    };
    // 3. Format headers and the body (these win over a missing secret).
    let format = match header_str(h, "x-format") {
        None => Format::Simple,
        Some(v) => Format::parse(v)
            .ok_or_else(|| bad_request(format!("Invalid header 'x-format': Invalid format {v}")))?,
    };
    let typecheck = bool_header(h, "x-typecheck")?.unwrap_or(true);
    bool_header(h, "x-linearized")?;
    bool_header(h, "x-performance-hints")?;
    if body.is_empty() {
        return Err(bad_request("No request body provided".into()));
    }
    let parsed: Json = serde_json::from_slice(body).map_err(|e| {
        let msg = e.to_string();
        if msg.contains("recursion limit") {
            bad_request("Invalid request body: JSON exceeds nesting limit".into())
        } else {
            bad_request(format!("Invalid request body: {msg}"))
        }
    })?;
    let invalid = || bad_request("Invalid request body".into());
    let obj = parsed.as_object().ok_or_else(invalid)?;
    let query = wire::query_text(obj.get("query").ok_or_else(invalid)?).ok_or_else(invalid)?;
    let arguments = match obj.get("arguments") {
        None | Some(Json::Null) => Vec::new(),
        Some(Json::Object(args)) => args
            .iter()
            .map(|(k, v)| Pending {
                name: k.clone(),
                json: v.clone(),
                always_tagged: false,
                is_argument: true,
            })
            .collect(),
        Some(_) => return Err(invalid()),
    };
    Ok(Request1 {
        format,
        typecheck,
        timeout_ms,
        tags,
        query,
        arguments,
    })
}

fn stats_json(
    compute: u64,
    reads: u64,
    writes: u64,
    bytes_read: u64,
    bytes_written: u64,
    ms: u64,
) -> Json {
    json!({
        "compute_ops": compute,
        "read_ops": reads,
        "write_ops": writes,
        "query_time_ms": ms,
        "contention_retries": 0,
        "storage_bytes_read": bytes_read,
        "storage_bytes_write": bytes_written,
        "rate_limits_hit": [],
    })
}

/// Renders a diagnostic in the engine's style.
fn summary(src: &str, message: &str, span: (usize, usize)) -> String {
    let start = span.0.min(src.len());
    let end = span.1.clamp(start, src.len());
    let line_start = src[..start].rfind('\n').map_or(0, |i| i + 1);
    let line_no = src[..start].matches('\n').count() + 1;
    let line_end = src[start..].find('\n').map_or(src.len(), |i| start + i);
    let line = &src[line_start..line_end];
    let col = src[line_start..start].chars().count() + 1;
    let width = src[start..end.min(line_end)].chars().count().max(1);
    let gutter = " ".repeat(line_no.to_string().len());
    format!(
        "error: {message}\nat *query*:{line_no}:{col}\n{gutter} |\n{line_no} | {line}\n{gutter} | {}{}\n{gutter} |",
        " ".repeat(col - 1),
        "^".repeat(width)
    )
}

async fn query(AxState(shared): AxState<Shared>, headers: HeaderMap, body: Body) -> Response {
    /// Counts a query in flight for as long as it lives (also when the client goes away).
    struct InFlight(Arc<std::sync::atomic::AtomicU64>);
    impl Drop for InFlight {
        fn drop(&mut self) {
            self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    shared
        .in_flight
        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let _in_flight = InFlight(shared.in_flight.clone());
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        let (status, body) = protocol_error(
            413,
            "request_size_exceeded",
            "Request entity is too large",
            None,
        );
        return finish(&shared, status, body);
    };
    let delay = {
        let mut st = shared.lock();
        match st.delay.as_mut() {
            Some((ms, remaining)) => {
                let ms = *ms;
                *remaining -= 1;
                if *remaining == 0 {
                    st.delay = None;
                }
                Some(ms)
            }
            None => None,
        }
    };
    if let Some(ms) = delay {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let (done, result) = tokio::sync::oneshot::channel();
    let job_shared = shared.clone();
    let job: Job = Box::new(move || {
        let _ = done.send(run_query(&job_shared, &headers, &bytes));
    });
    let internal = || (500, json!({"error": "internal server error"}));
    let (status, body) = match shared.evaluator.send(job) {
        Ok(()) => result.await.unwrap_or_else(|_| internal()),
        Err(_) => internal(),
    };
    finish(&shared, status, body)
}

fn finish(shared: &Shared, status: u16, body: Json) -> Response {
    {
        let mut st = shared.lock();
        st.stats.queries += 1;
        *st.stats.by_status.entry(status).or_default() += 1;
    }
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    json_response(code, &body)
}

fn run_query(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> (u16, Json) {
    let started = Instant::now();
    let req = match validate(headers, body) {
        Ok(r) => r,
        Err(e) => return e,
    };
    let tags = req.tags.as_deref();
    let mut guard = shared.lock();
    let st = &mut *guard;
    if let Some(f) = st.fault.as_mut() {
        f.remaining -= 1;
        let status = f.status;
        if f.remaining == 0 {
            st.fault = None;
        }
        let (code, msg) = match status {
            429 => ("limit_exceeded", "Too many pending requests"),
            503 => ("time_out", "Read timed out (injected by fauna-emulator)"),
            401 => ("unauthorized", "Access token required"),
            440 => ("time_out", "Client set aggressive deadline"),
            s if s >= 500 => {
                return (status, json!({"error": "internal server error"}));
            }
            _ => ("invalid_request", "Injected fault"),
        };
        return protocol_error(status, code, msg, tags);
    }
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(auth::secret_from_header);
    let now = crate::time::now_micros();
    let Some(auth) = secret.and_then(|s| auth::authenticate(st, &shared.config, &s, now)) else {
        return protocol_error(401, "unauthorized", "Access token required", tags);
    };
    if req.timeout_ms < MIN_QUERY_DEADLINE_MS {
        return protocol_error(
            440,
            "time_out",
            &format!(
                "Client set aggressive deadline: query needs {MIN_QUERY_DEADLINE_MS}ms, timed out within {}ms",
                req.timeout_ms
            ),
            tags,
        );
    }
    let mut txn = st.begin(&auth.db);
    // 4. Arguments, then the query.
    let mut bindings = Vec::new();
    for p in req.query.values.iter().chain(&req.arguments) {
        let tagged = p.always_tagged || req.format == Format::Tagged;
        match wire::decode(&p.json, tagged, &mut txn) {
            Ok(v) => bindings.push((p.name.clone(), v)),
            Err(e) if p.is_argument => {
                return bad_request(format!("Invalid argument '{}': {e}", p.name));
            }
            Err(e) => return bad_request(format!("Invalid request body: {e}")),
        }
    }
    let src = req.query.text.as_str();
    let result: Result<(Value, u64), Failure> = match parser::parse(src) {
        Err(e) => Err(if e.message.contains("not emulated") {
            Failure::NotEmulated {
                what: e.message,
                span: e.span,
            }
        } else {
            Failure::Check {
                detail: format!(
                    "{} (fauna-emulator parses a subset of FQL: valid FQL outside it fails here too)",
                    e.message
                ),
                span: e.span,
            }
        }),
        Ok(ast) => {
            let mut interp = Interp::new(&mut txn, &auth, &shared.config, req.typecheck, bindings);
            let r = interp.eval(&ast);
            let ops = interp.compute_ops;
            r.map(|v| (v, ops))
        }
    };
    let elapsed = started.elapsed().as_millis() as u64;
    let schema_version = txn.schema_version();
    let txn_ts = txn.ts;
    match result {
        Ok(_) if elapsed > req.timeout_ms => protocol_error(
            440,
            "time_out",
            &format!(
                "Client set aggressive deadline: query needs {elapsed}ms, timed out within {}ms",
                req.timeout_ms
            ),
            tags,
        ),
        Ok((value, ops)) => {
            let data = wire::encode(&value, req.format, &txn, false);
            let stats = stats_json(
                ops,
                txn.reads,
                txn.writes,
                txn.bytes_read,
                txn.bytes_written,
                elapsed,
            );
            txn.commit();
            let mut body = json!({ "data": data, "summary": "", "txn_ts": txn_ts, "stats": stats });
            if let Some(t) = tags {
                body["query_tags"] = Json::String(t.into());
            }
            body["schema_version"] = json!(schema_version);
            (200, body)
        }
        Err(failure) => {
            let stats = stats_json(1, txn.reads, txn.writes, txn.bytes_read, 0, elapsed);
            let (code, message, detail, span, extra) = match &failure {
                Failure::Check { detail, span } => (
                    "invalid_query",
                    "The query failed 1 validation check".to_string(),
                    detail.clone(),
                    *span,
                    None,
                ),
                Failure::NotEmulated { what, span } => {
                    let msg = format!(
                        "Not emulated: {what} is outside the FQL subset fauna-emulator implements \
                         (fauna-emulator is a development tool, not Fauna)"
                    );
                    ("invalid_query", msg.clone(), msg, *span, None)
                }
                Failure::Runtime {
                    code,
                    message,
                    constraints,
                    span,
                } => {
                    let extra = (!constraints.is_empty()).then(|| {
                        let list: Vec<Json> = constraints
                            .iter()
                            .map(|(paths, m)| json!({ "paths": paths, "message": m }))
                            .collect();
                        ("constraint_failures", Json::Array(list))
                    });
                    (*code, message.clone(), message.clone(), *span, extra)
                }
                Failure::Abort { value, span } => (
                    "abort",
                    "Query aborted.".to_string(),
                    "Query aborted.".to_string(),
                    *span,
                    Some(("abort", wire::encode(value, req.format, &txn, false))),
                ),
            };
            drop(txn); // rolls back
            let mut error = json!({ "code": code, "message": message });
            if let Some((k, v)) = extra {
                error[k] = v;
            }
            let mut body = json!({
                "error": error,
                "summary": summary(src, &detail, span),
                "txn_ts": txn_ts,
                "stats": stats,
            });
            if let Some(t) = tags {
                body["query_tags"] = Json::String(t.into());
            }
            body["schema_version"] = json!(schema_version);
            (400, body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        assert!(validate_tags("foo=bar").is_ok());
        assert!(validate_tags("a=1,b_2=x").is_ok());
        assert_eq!(validate_tags("foo,,"), Err("invalid tags"));
        assert_eq!(validate_tags("a=1,a=2"), Err("duplicate key"));
        assert_eq!(validate_tags("a-b=1"), Err("invalid key"));
    }

    #[test]
    fn summary_points_at_span() {
        let s = summary("let x = 1\nfoo.bar", "Unbound variable `foo`", (10, 13));
        assert!(s.contains("at *query*:2:1"), "{s}");
        assert!(s.contains("2 | foo.bar\n  | ^^^"), "{s}");
    }
}
