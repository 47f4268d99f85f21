//! HTTP handlers of the account routes (see the [module docs](super)).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Json, Router};
use serde_json::{Map, Value, json};
use tokio::sync::Semaphore;

use super::limit::Limiter;
use super::store::{AccountStore, DeviceRow, TokenPurpose, TokenRow};
use super::verification::{
    EMAIL_VERIFICATION_CLAIM, is_verified, require_verified, set_claim, st_ev,
};
use super::{EmailVerification, new_token, token_hash};
use crate::api::{bad_input, fail, field_error, form_fields, password_error};
use crate::crypto::now_ms;
use crate::email::{EmailKind, Mailer};
use crate::engine::{Because, SessionEngine};
use crate::error::SessionError;
use crate::extract::{PendingChanges, Session, VerifyOptions};
pub(crate) use crate::security::SignOutScope;
use crate::security::{Client, RevokeReason, SecurityEvent};
use crate::throttle::RetryLater;
use crate::transport::ResponseChanges;
use crate::users::{PasswordChangeError, User, email_is_valid, normalise_email};

#[derive(Clone)]
struct Accounts {
    engine: SessionEngine,
    per_email: Arc<Limiter>,
    sending: Arc<Semaphore>,
    /// Password-reset requests being looked up and issued after their answer.
    resets: Arc<Semaphore>,
}

/// The account routes of `engine` (absolute paths under its base path). [`SessionEngine::router`] includes
/// them.
pub fn router(engine: &SessionEngine) -> Router {
    let config = &engine.config().accounts;
    let base = engine.config().base_path();
    match &config.mailer {
        Some(m) => tracing::info!(smtp = %m.server(), "email on"),
        None => tracing::info!(
            "email is off (no SMTP URL): password-reset and verification emails answer GENERAL_ERROR"
        ),
    }
    let state = Accounts {
        engine: engine.clone(),
        per_email: Arc::new(Limiter::new(config.per_email, config.max_limiter_keys)),
        sending: Arc::new(Semaphore::new(config.max_pending_emails.max(1))),
        resets: Arc::new(Semaphore::new(config.max_pending_emails.max(1))),
    };
    let mut r = Router::new()
        .route(
            &format!("{base}/user/password/reset/token"),
            post(password_reset_token),
        )
        .route(&format!("{base}/user/password/reset"), post(password_reset))
        .route(&format!("{base}/sessions"), get(list_sessions))
        .route(&format!("{base}/sessions/{{handle}}"), delete(end_session));
    if config.email_verification != EmailVerification::Off {
        r = r
            .route(
                &format!("{base}/user/email/verify/token"),
                post(verify_email_token),
            )
            .route(
                &format!("{base}/user/email/verify"),
                post(verify_email).get(is_email_verified),
            );
    }
    r.with_state(state)
}

fn status(s: &str) -> Response {
    Json(json!({ "status": s })).into_response()
}

fn general_error(message: &str) -> Response {
    Json(json!({"status": "GENERAL_ERROR", "message": message})).into_response()
}

/// The answer when an address (or user) was sent its emails recently ([`AccountsConfig::per_email`]): a
/// `GENERAL_ERROR` whose message the frontend shows, instead of an `OK` after which nothing arrives. Known and
/// unknown addresses are counted alike, so it tells nothing about whether an account exists.
///
/// [`AccountsConfig::per_email`]: super::AccountsConfig::per_email
fn sent_recently(wait: std::time::Duration) -> Response {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    general_error(&format!(
        "An email was sent to this address recently. Please check your inbox (and spam folder), or try again in {minutes} {unit}."
    ))
}

fn email_off() -> Response {
    tracing::warn!("an email was asked for but email is off (set --smtp-url)");
    general_error("Email is not configured on this server")
}

/// The engine's account storage, or the answer saying there is none.
fn account_store(engine: &SessionEngine) -> Result<&dyn AccountStore, Box<Response>> {
    engine.account_store().ok_or_else(|| {
        tracing::error!("the session store keeps no account data (use SqlStore)");
        Box::new(general_error("Account storage is not available"))
    })
}

/// The caller's session, if any, without the global claim checks (like SuperTokens'
/// `overrideGlobalClaimValidators: () => []`); a bad or expired token answers the protocol's error.
async fn optional_session(
    engine: &SessionEngine,
    pending: &PendingChanges,
    parts: &Parts,
) -> Result<Option<Session>, Response> {
    // Account routes read and change sessions and account state: an ended session's token must not act
    // here on any instance, so the session is looked up.
    let options = VerifyOptions::default().check_database(true);
    Session::from_parts(engine, pending, parts, options)
        .await
        .map_err(|e| fail(pending, e))
}

/// [`optional_session`], where no session answers 401 `unauthorised` (without clearing tokens).
async fn required_session(
    engine: &SessionEngine,
    pending: &PendingChanges,
    parts: &Parts,
) -> Result<Session, Response> {
    optional_session(engine, pending, parts)
        .await?
        .ok_or_else(|| {
            fail(
                pending,
                SessionError::Unauthorised {
                    clear_tokens: false,
                },
            )
        })
}

/// Send in the background, so the answer's timing does not depend on whether an email went out.
fn send_later(st: &Accounts, mailer: &Mailer, kind: EmailKind, to: String, token: &str) {
    let Ok(permit) = st.sending.clone().try_acquire_owned() else {
        tracing::warn!(?kind, "too many emails being sent; this one is dropped");
        return;
    };
    let link = mailer.link(kind, token);
    let valid_for = match kind {
        EmailKind::PasswordReset => st.engine.config().accounts.password_reset_token_lifetime,
        EmailKind::EmailVerification => {
            st.engine
                .config()
                .accounts
                .email_verification_token_lifetime
        }
    };
    let mailer = mailer.clone();
    tokio::spawn(async move {
        let _permit = permit;
        match mailer.send_valid_for(kind, &to, &link, valid_for).await {
            Ok(()) => tracing::info!(?kind, "email sent"),
            Err(e) => tracing::warn!(?kind, error = %e, "email not sent"),
        }
    });
}

/// Store a new token for `user_id`/`email` and send its link.
async fn issue_token(
    st: &Accounts,
    mailer: &Mailer,
    kind: EmailKind,
    user_id: &str,
    email: &str,
) -> Result<(), Response> {
    let store = account_store(&st.engine).map_err(|r| *r)?;
    let (purpose, lifetime) = match kind {
        EmailKind::PasswordReset => (
            TokenPurpose::PasswordReset,
            st.engine.config().accounts.password_reset_token_lifetime,
        ),
        EmailKind::EmailVerification => (
            TokenPurpose::EmailVerification,
            st.engine
                .config()
                .accounts
                .email_verification_token_lifetime,
        ),
    };
    let (token, hash) = new_token();
    let now = now_ms();
    let row = TokenRow {
        token_hash: hash,
        purpose,
        user_id: user_id.to_owned(),
        email: email.to_owned(),
        expires_at: now + i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX / 4),
    };
    store
        .insert_token(&row, now)
        .await
        .map_err(|e| fail(&PendingChanges::default(), e.into()))?;
    send_later(st, mailer, kind, email.to_owned(), &token);
    Ok(())
}

/// Consume a token of `purpose` named by the `token` field of `body`: the stored row when it is known and
/// not expired.
async fn consume(
    engine: &SessionEngine,
    purpose: TokenPurpose,
    token: &str,
) -> Result<Option<TokenRow>, Response> {
    let store = account_store(engine).map_err(|r| *r)?;
    let row = store
        .consume_token(purpose, &token_hash(token))
        .await
        .map_err(|e| fail(&PendingChanges::default(), e.into()))?;
    Ok(row.filter(|r| r.expires_at > now_ms()))
}

/// Redeem a presented token: its row when it is known, unexpired, and its user still
/// has the email it was sent to; `None` otherwise (the token is used up either way).
async fn redeem(
    st: &Accounts,
    purpose: TokenPurpose,
    token: &str,
) -> Result<Option<TokenRow>, Box<Response>> {
    let Some(row) = consume(&st.engine, purpose, token).await? else {
        return Ok(None);
    };
    match st.engine.users().user_by_id(&row.user_id).await {
        Ok(Some(u)) if u.email == row.email => Ok(Some(row)),
        Ok(_) => Ok(None),
        Err(e) => Err(Box::new(fail(&PendingChanges::default(), e.into()))),
    }
}

/// The `token` field of a JSON body, or the protocol's 400.
fn token_field(body: &Bytes, missing: &str, not_string: &str) -> Result<String, Box<Response>> {
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| Box::new(bad_input("Request body must be valid JSON")))?;
    match v.get("token") {
        None | Some(Value::Null) => Err(Box::new(bad_input(missing))),
        Some(Value::String(t)) => Ok(t.clone()),
        Some(_) => Err(Box::new(bad_input(not_string))),
    }
}

/// `POST /user/password/reset/token`.
async fn password_reset_token(State(st): State<Accounts>, body: Bytes) -> Response {
    let fields = match form_fields(&body, &["email"]) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let email = fields
        .iter()
        .find(|(id, _)| id == "email")
        .map(|(_, v)| normalise_email(v));
    let email = match email {
        None => return field_error(vec![("email", "Field is not optional")]),
        Some(e) if e.is_empty() => return field_error(vec![("email", "Field is not optional")]),
        Some(e) if !email_is_valid(&e) => return field_error(vec![("email", "Email is invalid")]),
        Some(e) => e,
    };
    let Some(mailer) = st.engine.config().accounts.mailer.clone() else {
        return email_off();
    };
    if let Err(wait) = st.per_email.check(&format!("reset {email}")) {
        tracing::debug!("password-reset email not sent: too many for this address");
        return sent_recently(wait);
    }
    // The lookup, the token and the email happen after the answer, for a known email and an unknown one alike:
    // neither the answer's timing nor a failing store tells whether the email has an account.
    let Ok(permit) = st.resets.clone().try_acquire_owned() else {
        return RetryLater::busy().into_response();
    };
    let st = st.clone();
    tokio::spawn(async move {
        let _permit = permit;
        match st.engine.users().user_by_email(&email).await {
            Ok(Some(user)) => {
                let kind = EmailKind::PasswordReset;
                if issue_token(&st, &mailer, kind, &user.id, &user.email)
                    .await
                    .is_err()
                {
                    tracing::warn!("password-reset token not stored; no email sent");
                }
            }
            // Unknown email: nothing sent.
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "password-reset lookup failed; no email sent"),
        }
    });
    status("OK")
}

/// `POST /user/password/reset`.
async fn password_reset(State(st): State<Accounts>, client: Client, body: Bytes) -> Response {
    let fields = match form_fields(&body, &["password"]) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let password = match fields.iter().find(|(id, _)| id == "password") {
        None => return field_error(vec![("password", "Field is not optional")]),
        Some((_, p)) if p.is_empty() => {
            return field_error(vec![("password", "Field is not optional")]);
        }
        Some((_, p)) => p.clone(),
    };
    // A weak password does not burn the token.
    if let Some(e) = password_error(&password) {
        return field_error(vec![("password", e)]);
    }
    let token = match token_field(
        &body,
        "Please provide the password reset token",
        "The password reset token must be a string",
    ) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let invalid = || status("RESET_PASSWORD_INVALID_TOKEN_ERROR");
    let row = match redeem(&st, TokenPurpose::PasswordReset, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => return invalid(),
        Err(r) => return *r,
    };
    let engine = &st.engine;
    let pending = PendingChanges::default();
    match engine.users().set_password(&row.user_id, &password).await {
        Ok(true) => {}
        Ok(false) => return invalid(),
        Err(PasswordChangeError::Busy(_)) => return RetryLater::busy().into_response(),
        Err(PasswordChangeError::Store(e)) => return fail(&pending, e.into()),
    }
    tracing::info!(user_id = %row.user_id, "password reset");
    // The link proved the user owns the email.
    if engine.config().accounts.email_verification != EmailVerification::Off
        && let Ok(store) = account_store(engine)
        && let Err(e) = store
            .mark_email_verified(&row.user_id, &row.email, now_ms())
            .await
    {
        tracing::warn!(error = %e, "email not marked verified after password reset");
    }
    // Every session of the user ends (and with it, via the hooks, their Fauna tokens).
    let because = Because {
        reason: RevokeReason::PasswordReset,
        client: &client,
        except: None,
    };
    match engine
        .revoke_all_sessions_because(&row.user_id, Some(because))
        .await
    {
        Ok(handles) => {
            tracing::info!(user_id = %row.user_id, sessions = handles.len(), "sessions ended after password reset");
            status("OK")
        }
        Err(e) => fail(&pending, e),
    }
}

/// The session's user and whether their email is verified; a user that is gone is 401 unauthorised.
async fn caller(engine: &SessionEngine, session: &Session) -> Result<(User, bool), SessionError> {
    let user = engine
        .users()
        .user_by_id(session.user_id())
        .await?
        .ok_or_else(SessionError::unauthorised)?;
    let verified = is_verified(engine, &user).await?;
    Ok((user, verified))
}

/// `POST /user/email/verify/token`.
async fn verify_email_token(
    State(st): State<Accounts>,
    Extension(pending): Extension<PendingChanges>,
    parts: Parts,
) -> Response {
    let mut session = match required_session(&st.engine, &pending, &parts).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let Some(mailer) = st.engine.config().accounts.mailer.clone() else {
        return email_off();
    };
    let (user, verified) = match caller(&st.engine, &session).await {
        Ok(found) => found,
        Err(e) => return fail(&pending, e),
    };
    if verified {
        return match set_claim(&mut session, true).await {
            Ok(()) => status("EMAIL_ALREADY_VERIFIED_ERROR"),
            Err(e) => fail(&pending, e),
        };
    }
    let said = session
        .access_token_payload()
        .get(EMAIL_VERIFICATION_CLAIM)
        .and_then(|c| c.get("v"))
        .and_then(Value::as_bool);
    if said != Some(false)
        && let Err(e) = set_claim(&mut session, false).await
    {
        return fail(&pending, e);
    }
    if let Err(wait) = st.per_email.check(&format!("verify {}", user.id)) {
        tracing::debug!("verification email not sent: too many for this user");
        return sent_recently(wait);
    }
    match issue_token(
        &st,
        &mailer,
        EmailKind::EmailVerification,
        &user.id,
        &user.email,
    )
    .await
    {
        Ok(()) => status("OK"),
        Err(r) => r,
    }
}

/// Write `st-ev: {v: true}` into the stored payload of every session of `user_id`, so each gets it at its
/// next refresh.
async fn mark_sessions_verified(engine: &SessionEngine, user_id: &str) -> Result<(), SessionError> {
    for handle in engine.session_handles_for_user(user_id).await? {
        let Some(info) = engine.session_information(&handle).await? else {
            continue;
        };
        let mut payload: Map<String, Value> = info.custom_claims_in_access_token_payload;
        payload.insert(EMAIL_VERIFICATION_CLAIM.to_owned(), st_ev(true));
        match engine.update_access_token_payload(&handle, &payload).await {
            Ok(()) | Err(SessionError::Unauthorised { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// `POST /user/email/verify`.
async fn verify_email(
    State(st): State<Accounts>,
    Extension(pending): Extension<PendingChanges>,
    parts: Parts,
    body: Bytes,
) -> Response {
    let token = match token_field(
        &body,
        "Please provide the email verification token",
        "The email verification token must be a string",
    ) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let session = match optional_session(&st.engine, &pending, &parts).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let row = match redeem(&st, TokenPurpose::EmailVerification, &token).await {
        Ok(Some(r)) => r,
        Ok(None) => return status("EMAIL_VERIFICATION_INVALID_TOKEN_ERROR"),
        Err(r) => return *r,
    };
    let engine = &st.engine;
    let store = match account_store(engine) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if let Err(e) = store
        .mark_email_verified(&row.user_id, &row.email, now_ms())
        .await
    {
        return fail(&pending, e.into());
    }
    tracing::info!(user_id = %row.user_id, "email verified");
    if let Err(e) = mark_sessions_verified(engine, &row.user_id).await {
        tracing::warn!(error = %e, "sessions not all updated after email verification");
    }
    if let Some(mut s) = session.filter(|s| s.user_id() == row.user_id)
        && let Err(e) = set_claim(&mut s, true).await
    {
        return fail(&pending, e);
    }
    status("OK")
}

/// `GET /user/email/verify`.
async fn is_email_verified(
    State(st): State<Accounts>,
    Extension(pending): Extension<PendingChanges>,
    parts: Parts,
) -> Response {
    let mut session = match required_session(&st.engine, &pending, &parts).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (_, verified) = match caller(&st.engine, &session).await {
        Ok(found) => found,
        Err(e) => return fail(&pending, e),
    };
    match set_claim(&mut session, verified).await {
        Ok(()) => Json(json!({"status": "OK", "isVerified": verified})).into_response(),
        Err(e) => fail(&pending, e),
    }
}

/// The session of a protected account route (global claim checks apply) and the account storage.
async fn protected<'a>(
    st: &'a Accounts,
    pending: &PendingChanges,
    parts: &Parts,
) -> Result<(Session, &'a dyn AccountStore), Box<Response>> {
    let mut session = required_session(&st.engine, pending, parts).await?;
    require_verified(&mut session)
        .await
        .map_err(|e| Box::new(fail(pending, e)))?;
    Ok((session, account_store(&st.engine)?))
}

/// `GET /sessions`: the caller's user's live sessions (not those past their absolute lifetime, which end at their
/// next use; `expiry` is the earlier of the sliding and the absolute end).
async fn list_sessions(
    State(st): State<Accounts>,
    Extension(pending): Extension<PendingChanges>,
    parts: Parts,
) -> Response {
    let (session, store) = match protected(&st, &pending, &parts).await {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let now = now_ms();
    let rows = match store.user_sessions(session.user_id(), now).await {
        Ok(r) => r,
        Err(e) => return fail(&pending, e.into()),
    };
    let cut_off = st.engine.created_after(now);
    let sessions: Vec<Value> = rows
        .into_iter()
        .filter(|r| r.created_at > cut_off)
        .map(|r| {
            let (ua, ip, last) = match &r.device {
                Some(d) => (
                    Value::from(d.user_agent.clone()),
                    if d.ip.is_empty() {
                        Value::Null
                    } else {
                        Value::from(d.ip.clone())
                    },
                    d.last_active,
                ),
                None => (Value::Null, Value::Null, r.created_at),
            };
            json!({
                "sessionHandle": r.session_handle,
                "timeCreated": r.created_at,
                "lastActive": last,
                "expiry": r.expires_at.min(st.engine.session_end(r.created_at)),
                "userAgent": ua,
                "ip": ip,
                "current": r.session_handle == session.handle(),
            })
        })
        .collect();
    Json(json!({"status": "OK", "sessions": sessions})).into_response()
}

/// `DELETE /sessions/<handle>`: end one of the caller's user's sessions (404 for any other handle).
async fn end_session(
    State(st): State<Accounts>,
    Extension(pending): Extension<PendingChanges>,
    Path(handle): Path<String>,
    client: Client,
    parts: Parts,
) -> Response {
    let (session, store) = match protected(&st, &pending, &parts).await {
        Ok(found) => found,
        Err(r) => return *r,
    };
    let owner = match store.session_user(&handle, now_ms()).await {
        Ok(o) => o,
        Err(e) => return fail(&pending, e.into()),
    };
    if owner.as_deref() != Some(session.user_id()) {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "session not found"})),
        )
            .into_response();
    }
    let because = Because {
        reason: RevokeReason::Device,
        client: &client,
        except: None,
    };
    if let Err(e) = st
        .engine
        .revoke_session_because(&handle, Some(because))
        .await
    {
        return fail(&pending, e);
    }
    if handle == session.handle() {
        pending.update(ResponseChanges::clear_all);
    }
    status("OK")
}

/// The scope of a sign-out body (`{}`, empty, or `{"scope": …}`), or a 400 answer.
pub(crate) fn signout_scope(body: &Bytes) -> Result<SignOutScope, Box<Response>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(SignOutScope::Local);
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| Box::new(bad_input("Request body must be valid JSON")))?;
    let scope = v.get(fauna_session_protocol::accounts::SCOPE);
    match scope {
        None | Some(Value::Null) => Some(SignOutScope::Local),
        Some(Value::String(name)) => SignOutScope::parse(name),
        Some(_) => None,
    }
    .ok_or_else(|| {
        let names = SignOutScope::ALL.map(SignOutScope::as_str).join(", ");
        let given = scope.unwrap_or(&Value::Null);
        Box::new(bad_input(&format!(
            "Unsupported sign-out scope {given} ({names})"
        )))
    })
}

/// End the sessions `scope` names, seen from `session` of `client`; clears the caller's tokens unless
/// `Others`. Emits [`SecurityEvent::SignOut`], and [`SecurityEvent::Revoked`] for each other session ended.
pub(crate) async fn sign_out(
    session: &Session,
    scope: SignOutScope,
    client: &Client,
) -> Result<(), SessionError> {
    let engine = session.engine();
    let because = Because {
        reason: RevokeReason::SignOut,
        client,
        except: Some(session.handle()),
    };
    match scope {
        SignOutScope::Local => session.revoke_signing_out().await?,
        SignOutScope::Others => {
            for handle in engine.session_handles_for_user(session.user_id()).await? {
                if handle != session.handle() {
                    engine
                        .revoke_session_because(&handle, Some(because))
                        .await?;
                }
            }
        }
        SignOutScope::Global => {
            engine
                .revoke_all_sessions_because(session.user_id(), Some(because))
                .await?;
            session.revoke_signing_out().await?;
        }
    }
    engine.emit(&SecurityEvent::SignOut {
        user_id: session.user_id().to_owned(),
        session_handle: session.handle().to_owned(),
        scope,
        client: client.clone(),
    });
    Ok(())
}

/// Record the device of a session just created for a request of `client`. Failures are logged: the session
/// stands without a device row.
pub(crate) async fn record_device(engine: &SessionEngine, session_handle: &str, client: &Client) {
    let Some(store) = engine.account_store() else {
        return;
    };
    let device = DeviceRow {
        session_handle: session_handle.to_owned(),
        user_agent: client.user_agent.clone().unwrap_or_default(),
        ip: client.ip.map(|i| i.to_string()).unwrap_or_default(),
        last_active: now_ms(),
    };
    if let Err(e) = store.insert_device(&device).await {
        tracing::warn!(error = %e, "session device not recorded");
    }
}

/// Note a refresh of `session_handle` as its last activity.
pub(crate) async fn touch_device(engine: &SessionEngine, session_handle: &str) {
    if let Some(store) = engine.account_store()
        && let Err(e) = store.touch_device(session_handle, now_ms()).await
    {
        tracing::warn!(error = %e, "session last-active time not recorded");
    }
}
