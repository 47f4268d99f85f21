//! The FDI endpoints: `POST {base}/session/refresh`, `POST {base}/signout`, `POST {base}/signup`,
//! `POST {base}/signin`, `GET {base}/emailpassword/email/exists`, `GET {base}/jwt/jwks.json`,
//! `GET {base}/.well-known/openid-configuration` (also at the root); the account routes of [`crate::accounts`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use fauna_session_protocol::{header as wire_header, path};
use serde_json::{Map, Value, json};
use tower_http::cors::{AllowCredentials, AllowOrigin, CorsLayer};

use crate::config::{AntiCsrf, SessionConfig};
use crate::crypto::ct_eq;
use crate::engine::SessionEngine;
use crate::error::SessionError;
use crate::extract::{PendingChanges, Session, SessionLayer, SessionRejection};
use crate::security::{Client, SecurityEvent};
use crate::throttle::{PerIpLimiter, RetryLater};
use crate::transport::{
    ANTI_CSRF_HEADER, REFRESH_TOKEN_COOKIE, RID_HEADER, ResponseChanges, TokenTransfer,
    bearer_token, cookie_values, has_tokens, transfer_for_new_session,
};
use crate::users::{SignInError, SignInSource, SignUpError, User, email_is_valid, normalise_email};

/// The FDI routes (absolute paths under the configured base path) with [`SessionLayer`] and the per-IP rate
/// limits of [`SessionConfig::rate_limits`] applied.
pub(crate) fn routes(engine: &SessionEngine) -> Router {
    let base = engine.config().base_path();
    let mut router = Router::new()
        .route(&format!("{base}{}", path::REFRESH), post(refresh))
        .route(&format!("{base}{}", path::SIGN_OUT), post(signout))
        .route(&format!("{base}{}", path::SIGN_UP), post(signup))
        .route(&format!("{base}{}", path::SIGN_IN), post(signin));
    if engine.config().email_exists_route {
        router = router.route(
            &format!("{base}/emailpassword/email/exists"),
            get(email_exists),
        );
    }
    router
        .route(&format!("{base}/jwt/jwks.json"), get(jwks))
        .route(
            &format!("{base}/.well-known/openid-configuration"),
            get(openid),
        )
        .route("/.well-known/openid-configuration", get(openid))
        .with_state(engine.clone())
        .merge(crate::accounts::router(engine))
        .layer(SessionLayer::new(engine.clone()))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(crate::request_rules::RequestRules::new(engine.config())),
            crate::request_rules::check,
        ))
        .layer(axum::middleware::from_fn_with_state(
            (
                Arc::new(PerIpLimiter::new(&base, &engine.config().rate_limits)),
                engine.clone(),
            ),
            crate::throttle::per_ip::limit,
        ))
}

/// The HTTP face of the engine: its routes and CORS (the engine itself imports nothing HTTP).
impl SessionEngine {
    /// The FDI routes (absolute paths under the configured base path) with [`SessionLayer`] and the per-IP
    /// rate limits of [`SessionConfig::rate_limits`](crate::SessionConfig::rate_limits) applied (serve the
    /// app with `into_make_service_with_connect_info::<SocketAddr>()` so they see each client's address).
    /// Merge it into your app; add [`cors_layer`](Self::cors_layer) on the whole app for cross-origin sites.
    pub fn router(&self) -> axum::Router {
        routes(self)
    }

    /// CORS for the configured website origins, with credentials and the headers the frontend SDK sends.
    pub fn cors_layer(&self) -> CorsLayer {
        cors_layer(self.config())
    }
}

/// CORS for the configured website origins, with credentials and the headers the frontend SDK sends.
pub(crate) fn cors_layer(config: &SessionConfig) -> CorsLayer {
    let origins: Vec<HeaderValue> = config
        .website_origins
        .iter()
        .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok())
        .collect();
    // Credentials only for a configured origin, and never on the public key documents, which answer
    // `Access-Control-Allow-Origin: *` (a browser refuses credentials with `*`, and they need none).
    let allowed = origins.clone();
    let base = config.base_path();
    let public = [
        format!("{base}/jwt/jwks.json"),
        format!("{base}/.well-known/openid-configuration"),
        "/.well-known/openid-configuration".to_owned(),
    ];
    let credentials = AllowCredentials::predicate(move |origin, parts| {
        allowed.contains(origin) && !public.iter().any(|p| p == parts.uri.path())
    });
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(credentials)
        .allow_methods([
            http::Method::GET,
            http::Method::POST,
            http::Method::PUT,
            http::Method::PATCH,
            http::Method::DELETE,
            http::Method::OPTIONS,
        ])
        .allow_headers(wire_header::CORS_ALLOWED_HEADERS.map(http::HeaderName::from_static))
        .expose_headers(wire_header::EXPOSED_HEADERS.map(http::HeaderName::from_static))
}

/// An error answer that also clears tokens when the protocol says so.
pub(crate) fn fail(pending: &PendingChanges, e: SessionError) -> Response {
    if e.clears_tokens() {
        pending.update(ResponseChanges::clear_all);
    }
    SessionRejection(e).into_response()
}

/// The refresh token of a request and the transport it came in.
fn find_refresh_token(headers: &HeaderMap) -> Option<(String, TokenTransfer)> {
    if let Some(b) = bearer_token(headers).filter(|t| t.contains('.') && t.split('.').count() == 2)
    {
        return Some((b.to_owned(), TokenTransfer::Header));
    }
    cookie_values(headers, REFRESH_TOKEN_COOKIE)
        .into_iter()
        .find(|v| !v.is_empty())
        .map(|v| (v.to_owned(), TokenTransfer::Cookie))
}

async fn refresh(
    State(engine): State<SessionEngine>,
    Extension(pending): Extension<PendingChanges>,
    client: Client,
    headers: HeaderMap,
) -> Response {
    // Every refresh request counts once, whatever its outcome.
    engine.metrics().refresh_requests.inc();
    let Some((token, transfer)) = find_refresh_token(&headers) else {
        return fail(&pending, SessionError::unauthorised());
    };
    if transfer == TokenTransfer::Cookie {
        match engine.config().anti_csrf() {
            AntiCsrf::ViaCustomHeader if !headers.contains_key(RID_HEADER) => {
                return fail(&pending, SessionError::unauthorised());
            }
            AntiCsrf::ViaToken => {
                let expected = engine.anti_csrf_for_refresh_token(&token);
                let sent = headers
                    .get(ANTI_CSRF_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !ct_eq(sent.as_bytes(), expected.as_bytes()) {
                    return fail(&pending, SessionError::unauthorised());
                }
            }
            _ => {}
        }
    }
    match engine.refresh_session(&token, transfer).await {
        Ok(tokens) => {
            let other = match transfer {
                TokenTransfer::Cookie => TokenTransfer::Header,
                TokenTransfer::Header => TokenTransfer::Cookie,
            };
            if has_tokens(&headers, other) {
                pending.update(|c| c.clear(other));
            }
            pending.set_tokens(&tokens);
            crate::accounts::touch_device(&engine, &tokens.session_handle).await;
            engine.emit(&SecurityEvent::Refresh {
                user_id: tokens.user_id.clone(),
                session_handle: tokens.session_handle.clone(),
                client,
            });
            Json(json!({})).into_response()
        }
        Err(e) => {
            if let SessionError::TokenTheftDetected {
                session_handle,
                user_id,
            } = &e
            {
                engine.emit(&SecurityEvent::TokenTheft {
                    user_id: user_id.clone(),
                    session_handle: session_handle.clone(),
                    client,
                });
            }
            fail(&pending, e)
        }
    }
}

/// `POST /signout`, with `{"scope": "local" | "others" | "global"}` (default `local`). Global claim checks do
/// not apply: an unverified user can sign out.
async fn signout(
    State(engine): State<SessionEngine>,
    Extension(pending): Extension<PendingChanges>,
    client: Client,
    parts: http::request::Parts,
    body: Bytes,
) -> Response {
    let scope = match crate::accounts::signout_scope(&body) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    // Signing out ends sessions (`global`: all of the user's): an ended session's token must not do that.
    let options = crate::VerifyOptions::default().check_database(true);
    let session = match Session::from_parts(&engine, &pending, &parts, options).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return fail(
                &pending,
                SessionError::Unauthorised {
                    clear_tokens: false,
                },
            );
        }
        Err(e) => return fail(&pending, e),
    };
    match crate::accounts::sign_out(&session, scope, &client).await {
        Ok(()) => Json(json!({"status": "OK"})).into_response(),
        Err(e) => SessionRejection(e).into_response(),
    }
}

pub(crate) fn bad_input(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({"message": message}))).into_response()
}

/// `formFields` as `(id, value)` pairs, or a 400 answer.
pub(crate) fn form_fields(
    body: &Bytes,
    allowed: &[&str],
) -> Result<Vec<(String, String)>, Box<Response>> {
    let bad = |m: &str| Box::new(bad_input(m));
    let v: Value =
        serde_json::from_slice(body).map_err(|_| bad("Request body must be valid JSON"))?;
    let Some(obj) = v.as_object() else {
        return Err(bad("Request body must be a JSON object"));
    };
    let Some(fields) = obj.get("formFields") else {
        return Err(bad("Missing input param: formFields"));
    };
    let Some(fields) = fields.as_array() else {
        return Err(bad("formFields must be an array"));
    };
    let mut out = Vec::new();
    for f in fields {
        let (Some(id), Some(value)) = (f.get("id").and_then(Value::as_str), f.get("value")) else {
            return Err(bad(
                "All elements of formFields must contain an 'id' and 'value' field",
            ));
        };
        let Some(value) = value.as_str() else {
            return Err(bad(&format!("{id} value must be a string")));
        };
        if !allowed.contains(&id) {
            return Err(bad("Are you sending too many formFields?"));
        }
        out.push((id.to_owned(), value.to_owned()));
    }
    Ok(out)
}

/// SuperTokens' default email check (`local@domain.tld`).
/// SuperTokens' default password rules.
pub(crate) fn password_error(p: &str) -> Option<&'static str> {
    if p.chars().count() < 8 {
        Some("Password must contain at least 8 characters, including a number")
    } else if p.chars().count() >= 100 {
        Some("Password's length must be lesser than 100 characters")
    } else if !p.chars().any(char::is_alphabetic) {
        Some("Password must contain at least one alphabet")
    } else if !p.chars().any(|c| c.is_ascii_digit()) {
        Some("Password must contain at least one number")
    } else {
        None
    }
}

pub(crate) fn field_error(errors: Vec<(&str, &str)>) -> Response {
    let fields: Vec<Value> = errors
        .into_iter()
        .map(|(id, error)| json!({"id": id, "error": error}))
        .collect();
    Json(json!({"status": "FIELD_ERROR", "formFields": fields})).into_response()
}

/// Validated `(email, password)` or a FIELD_ERROR answer.
/// The `email` and `password` form fields of a sign-up (`check_password_rules`) or sign-in body, or the
/// protocol's 400 / FIELD_ERROR answer.
fn email_password(
    body: &Bytes,
    check_password_rules: bool,
) -> Result<(String, String), Box<Response>> {
    credentials(
        form_fields(body, &["email", "password"])?,
        check_password_rules,
    )
}

fn credentials(
    fields: Vec<(String, String)>,
    check_password_rules: bool,
) -> Result<(String, String), Box<Response>> {
    let get = |id: &str| fields.iter().find(|(i, _)| i == id).map(|(_, v)| v.clone());
    let (email, password) = (get("email").map(|e| normalise_email(&e)), get("password"));
    let mut errors = Vec::new();
    match &email {
        None => errors.push(("email", "Field is not optional")),
        Some(e) if !email_is_valid(e) => errors.push(("email", "Email is invalid")),
        _ => {}
    }
    match &password {
        None => errors.push(("password", "Field is not optional")),
        Some(p) if check_password_rules => {
            if let Some(err) = password_error(p) {
                errors.push(("password", err));
            }
        }
        _ => {}
    }
    match (email, password) {
        (Some(e), Some(p)) if errors.is_empty() => Ok((e, p)),
        _ => Err(Box::new(field_error(errors))),
    }
}

fn user_json(user: &User) -> Value {
    json!({
        "id": user.id,
        "isPrimaryUser": false,
        "tenantIds": ["public"],
        "emails": [user.email],
        "phoneNumbers": [],
        "thirdParty": [],
        "webauthn": {"credentialIds": []},
        "loginMethods": [{
            "recipeId": "emailpassword",
            "recipeUserId": user.id,
            "tenantIds": ["public"],
            "email": user.email,
            "timeJoined": user.time_joined,
            "verified": false,
        }],
        "timeJoined": user.time_joined,
    })
}

/// Create a session for `user` (who just signed up, or signed in) and emit the event saying so.
async fn start_session(
    engine: &SessionEngine,
    pending: &PendingChanges,
    headers: &HeaderMap,
    client: Client,
    user: &User,
    signed_up: bool,
) -> Response {
    let transfer = transfer_for_new_session(headers);
    let claims = match crate::accounts::claims_for_new_session(engine, user).await {
        Ok(c) => c,
        Err(e) => return fail(pending, e),
    };
    match engine
        .create_session(&user.id, claims, Map::new(), transfer)
        .await
    {
        Ok(tokens) => {
            crate::accounts::record_device(engine, &tokens.session_handle, &client).await;
            pending.set_tokens(&tokens);
            let (user_id, session_handle) = (user.id.clone(), tokens.session_handle.clone());
            engine.emit(&if signed_up {
                SecurityEvent::SignUp {
                    user_id,
                    session_handle,
                    client,
                }
            } else {
                SecurityEvent::SignIn {
                    user_id,
                    session_handle,
                    client,
                }
            });
            Json(json!({"status": "OK", "user": user_json(user)})).into_response()
        }
        Err(e) => fail(pending, e),
    }
}

async fn signup(
    State(engine): State<SessionEngine>,
    Extension(pending): Extension<PendingChanges>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (email, password) = match email_password(&body, true) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    match engine.users().sign_up(&email, &password).await {
        Ok(user) => {
            engine.metrics().signups.inc();
            let res = start_session(&engine, &pending, &headers, client, &user, true).await;
            with_device_cookie(&engine, &headers, res, &email, None)
        }
        Err(SignUpError::EmailExists) => field_error(vec![(
            "email",
            "This email already exists. Please sign in instead.",
        )]),
        Err(SignUpError::Busy(_)) => RetryLater::busy().into_response(),
        Err(SignUpError::Store(e)) => fail(&pending, e.into()),
    }
}

/// A successful sign-in or sign-up's answer, with the device cookie that makes this browser a known device of
/// `email` (`device`: the id it already has), so strangers' failures never lock it out. Only for a session in
/// cookie mode: header mode sets no cookies (its clients are counted by address).
fn with_device_cookie(
    engine: &SessionEngine,
    headers: &HeaderMap,
    mut res: Response,
    email: &str,
    device: Option<&str>,
) -> Response {
    if res.status().is_success()
        && transfer_for_new_session(headers) == TokenTransfer::Cookie
        && let Some(cookie) = crate::device_cookie::set_cookie(engine, email, device)
    {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res
}

async fn signin(
    State(engine): State<SessionEngine>,
    Extension(pending): Extension<PendingChanges>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (email, password) = match email_password(&body, false) {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let device = crate::device_cookie::verified(&engine, &headers, &email);
    let from = SignInSource::new(client.ip, device.clone());
    match engine.users().sign_in_from(&email, &password, &from).await {
        Ok(user) => {
            engine.metrics().signins.inc();
            let res = start_session(&engine, &pending, &headers, client, &user, false).await;
            with_device_cookie(&engine, &headers, res, &email, device.as_deref())
        }
        Err(SignInError::WrongCredentials) => {
            engine.emit(&SecurityEvent::SignInFailed {
                email: engine.email_fingerprint(&email),
                client,
            });
            Json(json!({"status": "WRONG_CREDENTIALS_ERROR"})).into_response()
        }
        Err(SignInError::Busy(_)) => RetryLater::busy().into_response(),
        Err(SignInError::LockedOut {
            retry_after_secs,
            started,
        }) => {
            let email = engine.email_fingerprint(&email);
            if started {
                // This attempt failed and started the back-off.
                engine.emit(&SecurityEvent::SignInFailed {
                    email: email.clone(),
                    client: client.clone(),
                });
                engine.emit(&SecurityEvent::LockoutStarted {
                    email,
                    backoff_secs: retry_after_secs,
                    client,
                });
            } else {
                engine.emit(&SecurityEvent::SignInLockedOut {
                    email,
                    retry_after_secs,
                    client,
                });
            }
            RetryLater::too_many_requests(retry_after_secs).into_response()
        }
        Err(SignInError::Store(e)) => fail(&pending, e.into()),
    }
}

async fn email_exists(
    State(engine): State<SessionEngine>,
    Query(q): Query<Vec<(String, String)>>,
) -> Response {
    let Some((_, email)) = q.iter().find(|(k, _)| k == "email") else {
        return bad_input("Please provide the email as a GET param");
    };
    match engine.users().email_exists(&normalise_email(email)).await {
        Ok(exists) => Json(json!({"status": "OK", "exists": exists})).into_response(),
        Err(e) => SessionRejection(e.into()).into_response(),
    }
}

async fn jwks(State(engine): State<SessionEngine>) -> Response {
    let cache = format!("max-age={}, must-revalidate", engine.keys().jwks_max_age());
    (
        [
            (header::CACHE_CONTROL, cache),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*".to_owned()),
        ],
        Json(engine.keys().jwks()),
    )
        .into_response()
}

/// The OpenID configuration document.
fn openid_configuration(config: &SessionConfig) -> Value {
    let issuer = config.issuer();
    json!({"issuer": issuer, "jwks_uri": format!("{issuer}/jwt/jwks.json")})
}

async fn openid(State(engine): State<SessionEngine>) -> Response {
    (
        [(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")],
        Json(openid_configuration(engine.config())),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(email_is_valid("a@b.co"));
        assert!(!email_is_valid("a@b"));
        assert!(!email_is_valid("@b.co"));
        assert!(!email_is_valid("ab.co"));
        assert!(email_is_valid("jos\u{e9}@xn--bcher-kva.de"));
        assert!(
            !email_is_valid("a@b\u{fc}cher.de"),
            "a domain IDNA refused stays invalid"
        );
        assert!(!email_is_valid("a\u{0}b@example.com"));
        assert!(!email_is_valid("a<b>@example.com"));
        assert!(!email_is_valid("a..b@example.com"));
        assert!(!email_is_valid(".a@example.com"));
        assert!(!email_is_valid("a@-example.com"));
        assert!(!email_is_valid("a@b@example.com"));
        let longest = format!("{}@{}.com", "a".repeat(64), "b".repeat(63));
        assert!(email_is_valid(&longest));
        assert!(
            !email_is_valid(&format!("a{longest}")),
            "local part over 64 bytes"
        );
        let long_domain = format!("a@{}.com", vec!["b".repeat(63); 4].join("."));
        assert!(long_domain.len() > 254);
        assert!(!email_is_valid(&long_domain));
    }

    #[test]
    fn passwords() {
        assert!(password_error("abc12345").is_none());
        assert!(password_error("abc1").is_some());
        assert!(password_error("abcdefghi").is_some());
        assert!(password_error("123456789").is_some());
    }
}
