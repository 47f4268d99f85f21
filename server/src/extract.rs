//! axum integration: [`SessionLayer`] (applies pending token changes to responses), the [`Session`] extractor
//! (required, or optional as `Option<Session>`), and [`SessionRejection`].

use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use http::request::Parts;
use http::{Method, Request};
use serde_json::{Map, Value};

use crate::config::AntiCsrf;
use crate::crypto::ct_eq;
use crate::engine::{NewTokens, SessionEngine};
use crate::error::SessionError;
use crate::tokens::{self, AccessToken};
use crate::transport::{
    ACCESS_TOKEN_COOKIE, ANTI_CSRF_HEADER, LEGACY_ID_REFRESH_COOKIE, RID_HEADER, ResponseChanges,
    TokenTransfer, bearer_token, cookie_values,
};

/// Token changes queued during a request, written to the response by [`SessionLayer`].
#[derive(Debug, Clone, Default)]
pub(crate) struct PendingChanges(Arc<Mutex<ResponseChanges>>);

impl PendingChanges {
    /// Run `f` on the queued changes.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut ResponseChanges) -> R) -> R {
        f(&mut self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// Queue new session tokens.
    pub(crate) fn set_tokens(&self, tokens: &NewTokens) {
        self.update(|c| {
            c.set_access_token(tokens.access_token.clone(), tokens.transfer);
            c.set_refresh_token(tokens.refresh_token.clone(), tokens.transfer);
            if let Some(a) = &tokens.anti_csrf {
                c.set_anti_csrf(a.clone());
            }
        });
    }
}

/// Layer that gives handlers access to the engine and writes queued token changes into responses.
#[derive(Debug, Clone)]
pub struct SessionLayer {
    engine: SessionEngine,
}

impl SessionLayer {
    /// A layer for `engine`.
    pub fn new(engine: SessionEngine) -> Self {
        Self { engine }
    }
}

impl<S> tower::Layer<S> for SessionLayer {
    type Service = SessionService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            engine: self.engine.clone(),
        }
    }
}

/// Service produced by [`SessionLayer`].
#[derive(Debug, Clone)]
pub struct SessionService<S> {
    inner: S,
    engine: SessionEngine,
}

impl<S, B, R> tower::Service<Request<B>> for SessionService<S>
where
    S: tower::Service<Request<B>, Response = http::Response<R>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = http::Response<R>;
    type Error = S::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let pending = PendingChanges::default();
        req.extensions_mut().insert(self.engine.clone());
        req.extensions_mut().insert(pending.clone());
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let engine = self.engine.clone();
        Box::pin(async move {
            let mut resp = inner.call(req).await?;
            pending.update(|c| c.apply(engine.config(), resp.headers_mut()));
            Ok(resp)
        })
    }
}

/// An error answer in the protocol's shape; [`SessionLayer`] clears the client's tokens when the error says so.
#[derive(Debug)]
pub struct SessionRejection(pub SessionError);

impl From<SessionError> for SessionRejection {
    fn from(e: SessionError) -> Self {
        Self(e)
    }
}

impl IntoResponse for SessionRejection {
    fn into_response(self) -> Response {
        if let SessionError::Store(e) = &self.0 {
            tracing::error!(error = %e, "session store failure");
        }
        if let SessionError::Hook(e) = &self.0 {
            tracing::error!(error = %e, "session hook failure");
        }
        if let SessionError::Internal(what) = &self.0 {
            tracing::error!(error = %what, "internal error");
        }
        let mut res = (self.0.status(), axum::Json(self.0.body())).into_response();
        if res.status() == http::StatusCode::SERVICE_UNAVAILABLE {
            // The database, a hook's service or a contended row: worth trying again in a second.
            res.headers_mut()
                .insert(http::header::RETRY_AFTER, http::HeaderValue::from(1));
        }
        res
    }
}

/// Options for finding a session on a request.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Check anti-CSRF; default: for every method except GET.
    pub anti_csrf_check: Option<bool>,
    /// Also check that the session still exists in the database (one read): an access token of a session that
    /// was signed out, revoked or ended by theft detection on **any** instance is then refused with 401
    /// `unauthorised` before it expires. Default `false`: verification is stateless, except that the
    /// instance that ended a session refuses its tokens at once and the others within
    /// [`SessionConfig::revocation_sync_interval`](crate::SessionConfig::revocation_sync_interval) (1 s) of
    /// reading it from the shared database. Turn it on for routes that must never act for an ended session
    /// (money, account changes). The account and sign-out routes always check.
    ///
    /// ```
    /// # use fauna_session_server::VerifyOptions;
    /// let options = VerifyOptions::default().check_database(true);
    /// assert!(options.check_database);
    /// ```
    pub check_database: bool,
}

impl VerifyOptions {
    /// These options with anti-CSRF checked (`Some(true)`), skipped (`Some(false)`) or by method (`None`).
    pub fn anti_csrf_check(mut self, check: Option<bool>) -> Self {
        self.anti_csrf_check = check;
        self
    }

    /// These options with the database check on or off ([`VerifyOptions::check_database`]).
    pub fn check_database(mut self, check: bool) -> Self {
        self.check_database = check;
        self
    }
}

#[doc = include_str!("docs/session.md")]
#[derive(Debug, Clone)]
pub struct Session {
    engine: SessionEngine,
    pending: PendingChanges,
    access_token: Arc<AccessToken>,
    transfer: TokenTransfer,
}

fn parts_context(parts: &Parts) -> Result<(SessionEngine, PendingChanges), SessionError> {
    let engine = parts.extensions.get::<SessionEngine>().cloned();
    let pending = parts.extensions.get::<PendingChanges>().cloned();
    match (engine, pending) {
        (Some(e), Some(p)) => Ok((e, p)),
        _ => {
            tracing::error!("Session extractor used on a route without SessionLayer");
            Err(SessionError::Internal(
                "Session extractor used on a route without SessionLayer",
            ))
        }
    }
}

impl Session {
    /// Find and verify the session of a request (which token counts: see [`Session`]). `Ok(None)` when the
    /// request carries no access token. The global claim checks of the extractor and
    /// [`with_options`](Self::with_options) (email verification in `Required` mode) are not run here.
    pub(crate) async fn from_parts(
        engine: &SessionEngine,
        pending: &PendingChanges,
        parts: &Parts,
        options: VerifyOptions,
    ) -> Result<Option<Session>, SessionError> {
        let headers = &parts.headers;
        let cookies = cookie_values(headers, ACCESS_TOKEN_COOKIE);
        if !cookie_values(headers, LEGACY_ID_REFRESH_COOKIE).is_empty() || cookies.len() > 1 {
            return Err(SessionError::TryRefreshToken);
        }
        let bearer = bearer_token(headers).and_then(|t| match engine.verified_before(t) {
            Some(at) => Some((t, Some(at))),
            None => tokens::decode(t).is_ok().then_some((t, None)),
        });
        let (token, transfer, known) = match (bearer, cookies.first()) {
            (Some((t, known)), _) => (t, TokenTransfer::Header, known),
            (None, Some(c)) if !c.is_empty() => (*c, TokenTransfer::Cookie, None),
            _ => return Ok(None),
        };
        let (at, replacement) = match known {
            Some(at) => (at, None),
            None => {
                let v = engine.verify_access_token(token).await?;
                (v.access_token, v.replacement)
            }
        };
        if transfer == TokenTransfer::Cookie
            && options
                .anti_csrf_check
                .unwrap_or(parts.method != Method::GET)
        {
            match engine.config().anti_csrf() {
                AntiCsrf::ViaToken => {
                    let sent = headers.get(ANTI_CSRF_HEADER).and_then(|v| v.to_str().ok());
                    let ok = match (sent, at.anti_csrf_token.as_deref()) {
                        (Some(s), Some(expected)) => ct_eq(s.as_bytes(), expected.as_bytes()),
                        _ => false,
                    };
                    if !ok {
                        return Err(SessionError::TryRefreshToken);
                    }
                }
                AntiCsrf::ViaCustomHeader => {
                    if !headers.contains_key(RID_HEADER) {
                        return Err(SessionError::TryRefreshToken);
                    }
                }
                AntiCsrf::None => {}
            }
        }
        if options.check_database {
            // Gone (or past its maximum age) ⇒ `unauthorised`; the row's JSON is not decoded.
            engine.live_row(&at.session_handle).await?;
        }
        if let Some(replacement) = replacement {
            pending.update(|c| c.set_access_token(replacement, transfer));
        }
        Ok(Some(Session {
            engine: engine.clone(),
            pending: pending.clone(),
            access_token: at,
            transfer,
        }))
    }

    /// The session of a request like the extractor finds it, with `options` (e.g. an anti-CSRF check on a `GET`
    /// that changes state). `Ok(None)` when the request carries no access token. Needs [`SessionLayer`].
    pub async fn with_options(
        parts: &Parts,
        options: VerifyOptions,
    ) -> Result<Option<Session>, SessionRejection> {
        extract(parts, options).await
    }

    /// The verified access token.
    pub fn access_token(&self) -> &AccessToken {
        &self.access_token
    }

    /// User id.
    pub fn user_id(&self) -> &str {
        &self.access_token.sub
    }

    /// Session handle.
    pub fn handle(&self) -> &str {
        &self.access_token.session_handle
    }

    /// Transport the request's token came in.
    pub fn transfer(&self) -> TokenTransfer {
        self.transfer
    }

    /// All access-token claims (protected and the app's).
    pub fn access_token_payload(&self) -> &Map<String, Value> {
        &self.access_token.claims
    }

    /// Check claims of the access-token payload; any failure is [`SessionError::InvalidClaims`] (403
    /// `invalid claim` with every failed check). See [`crate::claims`].
    pub fn check_claims(&self, checks: &[crate::claims::ClaimCheck]) -> Result<(), SessionError> {
        crate::claims::validate_all(checks, self.access_token_payload())
            .map_err(SessionError::InvalidClaims)
    }

    /// The engine.
    pub fn engine(&self) -> &SessionEngine {
        &self.engine
    }

    /// Merge `update` into the access-token payload (`null` deletes a key; protected claims are ignored) and
    /// send the regenerated token (same `exp`) with this response.
    pub async fn merge_into_access_token_payload(
        &mut self,
        update: &Map<String, Value>,
    ) -> Result<(), SessionError> {
        let (at, issued) = self
            .engine
            .merge_into_access_token_payload(&self.access_token, update)
            .await?;
        if let Some(issued) = issued {
            self.pending
                .update(|c| c.set_access_token(issued, self.transfer));
        }
        self.access_token = Arc::new(at);
        Ok(())
    }

    /// The private session data.
    pub async fn session_data(&self) -> Result<Map<String, Value>, SessionError> {
        self.engine.session_data(self.handle()).await
    }

    /// Replace the private session data.
    pub async fn update_session_data(&self, data: &Map<String, Value>) -> Result<(), SessionError> {
        self.engine.update_session_data(self.handle(), data).await
    }

    /// Revoke this session and clear its tokens on this response.
    pub async fn revoke(&self) -> Result<(), SessionError> {
        self.engine.revoke_session(self.handle()).await?;
        self.pending.update(ResponseChanges::clear_all);
        Ok(())
    }

    /// [`revoke`](Self::revoke) for a sign-out, which emits its own security event (no `revoked` one).
    pub(crate) async fn revoke_signing_out(&self) -> Result<(), SessionError> {
        self.engine
            .revoke_session_because(self.handle(), None)
            .await?;
        self.pending.update(ResponseChanges::clear_all);
        Ok(())
    }
}

async fn extract(
    parts: &Parts,
    options: VerifyOptions,
) -> Result<Option<Session>, SessionRejection> {
    let (engine, pending) = parts_context(parts)?;
    let found = match Session::from_parts(&engine, &pending, parts, options).await {
        // Global claim checks (email verification in `Required` mode).
        Ok(Some(mut s)) => crate::accounts::require_verified(&mut s)
            .await
            .map(|()| Some(s)),
        other => other,
    };
    match found {
        Ok(s) => Ok(s),
        Err(e) => {
            if e.clears_tokens() {
                pending.update(ResponseChanges::clear_all);
            }
            Err(SessionRejection(e))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = SessionRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // No token at all: 401 unauthorised without clearing (a concurrent response may be setting tokens).
        extract(parts, VerifyOptions::default())
            .await?
            .ok_or(SessionRejection(SessionError::Unauthorised {
                clear_tokens: false,
            }))
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Session {
    type Rejection = SessionRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        extract(parts, VerifyOptions::default()).await
    }
}

/// The session layer of an engine.
impl SessionEngine {
    /// The layer that lets handlers extract [`Session`](crate::Session) and writes token changes into
    /// responses.
    pub fn layer(&self) -> SessionLayer {
        SessionLayer::new(self.clone())
    }
}
