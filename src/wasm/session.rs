//! The Rust API, for Yew and Leptos apps.

use alloc::rc::Rc;

use wasm_bindgen::JsValue;

use super::settings::{self, Settings};
use super::{Fail, api, claims, driver, events, fetch, sys};
use crate::claims::{ClaimValidationError, EmailVerificationClaim, IsVerified};
use crate::config::Config;
use crate::devices::{SessionInfo, SignOutScope};
use crate::error::Error;
use crate::event::Event;

/// Handle to the page's session. Cheap to copy, `Send + Sync` (it holds no JavaScript value), so it can go into a
/// Leptos context or a Yew context as it is.
///
/// ```no_run
/// use fauna_session::{config::Config, Event, Session};
/// # async fn demo() -> Result<(), fauna_session::Error> {
/// let session = Session::init(Config::new("https://api.example.com"))?;
/// let _subscription = session.on_event(|event| {
///     if matches!(event, Event::Unauthorised { .. }) { /* show the sign-in page */ }
/// });
/// let request = gloo_net::http::Request::get("https://api.example.com/sessioninfo").build().unwrap();
/// let response = session.fetch(request).await?; // refreshes and retries on a 401
/// let token = session.faunadb_token(60.0).await?; // a Fauna secret valid for 60 s at least
/// # let _ = (response, token);
/// session.sign_out().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    _private: (),
}

impl Session {
    /// Validates `config` and makes it this page's session configuration (a later call replaces it). Does not
    /// patch `window.fetch`; see [`Session::intercept_global_fetch`].
    pub fn init(config: Config) -> Result<Session, Error> {
        let config = config.normalise(&sys::page_hostname())?;
        // The JavaScript hooks of an earlier JS `init` stay.
        let hooks = settings::current()
            .map(|s| s.hooks.clone())
            .unwrap_or_default();
        settings::install(Settings { config, hooks });
        super::driver::save_native_fetch();
        super::events::follow_other_tabs();
        Ok(Session { _private: () })
    }

    /// The session configured by an earlier [`Session::init`] (or by the JavaScript `init`).
    pub fn get() -> Result<Session, Error> {
        settings::current()?;
        Ok(Session { _private: () })
    }

    /// Patches `window.fetch` (once), so every request of the page (gloo-net, reqwest, JavaScript) gets the
    /// session handling, not only [`Session::fetch`].
    pub fn intercept_global_fetch(&self) -> Result<(), Error> {
        settings::current()?;
        super::intercept();
        Ok(())
    }

    /// Sends `request` with the session headers; on the session-expired status refreshes (once, whatever else is
    /// refreshing) and retries. A failed refresh answers with the refresh endpoint's response.
    pub async fn fetch(
        &self,
        request: gloo_net::http::Request,
    ) -> Result<gloo_net::http::Response, Error> {
        let raw: web_sys::Request = request.into();
        let resp = fetch::do_request(raw.into(), wasm_bindgen::JsValue::UNDEFINED)
            .await
            .map_err(Fail::into_error)?;
        Ok(resp.into())
    }

    /// True if a session exists (refreshing first if its access token has expired).
    pub async fn does_session_exist(&self) -> Result<bool, Error> {
        api::does_session_exist().await.map_err(Fail::into_error)
    }

    /// The signed-in user's id.
    pub async fn user_id(&self) -> Result<String, Error> {
        api::user_id().await.map_err(Fail::into_error)
    }

    /// The access-token payload as JSON text, refreshing first if the access token has expired.
    pub async fn access_token_payload_json(&self) -> Result<String, Error> {
        let up = api::payload_securely().await.map_err(Fail::into_error)?;
        Ok(sys::stringify(&up))
    }

    /// The access-token payload deserialised into `T`, refreshing first if the access token has expired.
    ///
    /// ```no_run
    /// # async fn demo(session: fauna_session::Session) -> Result<(), fauna_session::Error> {
    /// #[derive(serde::Deserialize)]
    /// struct Claims { sub: String, #[serde(rename = "faunadbToken")] fauna: String }
    /// let claims: Claims = session.access_token_payload().await?;
    /// # let _ = claims.sub; Ok(()) }
    /// ```
    #[cfg(feature = "serde")]
    pub async fn access_token_payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let json = self.access_token_payload_json().await?;
        serde_json::from_str(&json).map_err(|e| Error::Payload(e.to_string()))
    }

    /// The header-mode access token (`None` in cookie mode or without a session).
    pub async fn access_token(&self) -> Result<Option<String>, Error> {
        api::access_token().await.map_err(Fail::into_error)
    }

    /// The session's `faunadbToken`, valid for at least `min_validity_seconds` (refreshing first if needed).
    pub async fn faunadb_token(&self, min_validity_seconds: f64) -> Result<String, Error> {
        api::faunadb_token(min_validity_seconds)
            .await
            .map_err(Fail::into_error)
    }

    /// Refreshes now: `Ok(true)` if a session is (now) fresh, `Ok(false)` if there is none.
    pub async fn attempt_refreshing_session(&self) -> Result<bool, Error> {
        api::attempt_refreshing_session()
            .await
            .map_err(Fail::into_error)
    }

    /// Signs out (`POST <apiBasePath>/signout`) and clears the local session.
    pub async fn sign_out(&self) -> Result<(), Error> {
        self.sign_out_with(SignOutScope::Local).await
    }

    /// Signs out in `scope`: [`SignOutScope::Local`] is [`Session::sign_out`], [`SignOutScope::Global`] ends every
    /// session of the user (this one included, fires [`Event::SignOut`]), [`SignOutScope::Others`] every other one
    /// and keeps this page signed in. Scopes other than `Local` need fauna-session-server (a SuperTokens backend
    /// ignores them and signs this session out).
    ///
    /// ```no_run
    /// # async fn demo(session: fauna_session::Session) -> Result<(), fauna_session::Error> {
    /// use fauna_session::devices::SignOutScope;
    /// session.sign_out_with(SignOutScope::Others).await?; // "sign out everywhere else"
    /// assert_eq!(session.list_sessions().await?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn sign_out_with(&self, scope: SignOutScope) -> Result<(), Error> {
        api::sign_out(scope).await.map_err(Fail::into_error)
    }

    /// The user's live sessions (fauna-session-server's `GET <apiBasePath>/sessions`); `current` marks this
    /// page's. [`Error::NoSession`] without a session; a refused request answers with its status.
    ///
    /// ```no_run
    /// # async fn demo(session: fauna_session::Session) -> Result<(), fauna_session::Error> {
    /// for device in session.list_sessions().await? {
    ///     if !device.current {
    ///         session.revoke_session(&device.session_handle).await?;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_sessions(&self) -> Result<Vec<SessionInfo>, Error> {
        let list = api::sessions(None).await.map_err(Fail::into_error)?;
        let text = |v: &JsValue, key: &str| sys::get(v, key).as_string();
        let number = |v: &JsValue, key: &str| sys::get(v, key).as_f64().unwrap_or(0.0);
        Ok(js_sys::Array::from(&list)
            .iter()
            .map(|v| SessionInfo {
                session_handle: text(&v, "sessionHandle").unwrap_or_default(),
                time_created: number(&v, "timeCreated"),
                last_active: number(&v, "lastActive"),
                expiry: number(&v, "expiry"),
                user_agent: text(&v, "userAgent"),
                ip: text(&v, "ip"),
                current: sys::get(&v, "current").as_bool() == Some(true),
            })
            .collect())
    }

    /// Ends one of the user's sessions: `Ok(true)` if it ended, `Ok(false)` if no live session of this user has
    /// that handle. Ending this page's own session signs it out here.
    pub async fn revoke_session(&self, session_handle: &str) -> Result<bool, Error> {
        let ended = api::sessions(Some(session_handle)).await;
        Ok(ended.map_err(Fail::into_error)?.as_bool() == Some(true))
    }

    /// The email-verification claim (`st-ev`) of a fresh access-token payload: `Some(verified)`, or `None` when the
    /// server puts no such claim there (email verification off). JavaScript: `getClaimValue({ claim })`.
    ///
    /// ```no_run
    /// # async fn demo(session: fauna_session::Session) -> Result<(), fauna_session::Error> {
    /// use fauna_session::claims::EmailVerificationClaim;
    /// if session.claim_value(EmailVerificationClaim).await? == Some(false) {
    ///     // show "check your inbox"
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn claim_value(&self, claim: EmailVerificationClaim) -> Result<Option<bool>, Error> {
        let payload = api::payload_securely().await.map_err(Fail::into_error)?;
        let (_, seen, _) = claims::entry(&payload, EmailVerificationClaim::ID);
        let _ = claim;
        Ok(EmailVerificationClaim::value(seen))
    }

    /// Runs claim validators (default: [`IsVerified::default`], the email must be verified) against a fresh
    /// payload, first refetching the claims they find stale (`st-ev`: `GET <apiBasePath>/user/email/verify`, at
    /// most once per `refetch_time_on_false_seconds` while unverified), and returns those that fail. JavaScript:
    /// `validateClaims()`.
    ///
    /// ```no_run
    /// # async fn demo(session: fauna_session::Session) -> Result<(), Box<dyn std::error::Error>> {
    /// use fauna_session::claims::EmailVerificationClaim;
    /// let errors = session.validate_claims(None).await?;
    /// if errors.iter().any(|e| e.id == EmailVerificationClaim::ID) {
    ///     // show "check your inbox"
    /// }
    /// let strict = EmailVerificationClaim::is_verified(Some(30.0), Some(300.0))?;
    /// let _ = session.validate_claims(Some(&[strict])).await?;
    /// # Ok(()) }
    /// ```
    pub async fn validate_claims(
        &self,
        validators: Option<&[IsVerified]>,
    ) -> Result<Vec<ClaimValidationError>, Error> {
        let default = [IsVerified::default()];
        let list = js_sys::Array::new();
        for v in validators.unwrap_or(&default) {
            list.push(&claims::validator(*v).map_err(|e| Fail::Js(e).into_error())?);
        }
        let errors = driver::wait(claims::run_validators(&list))
            .await
            .map_err(|e| Fail::Js(e).into_error())?;
        Ok(claim_errors(&errors))
    }

    /// The claims an invalid-claim response (status `invalid_claim_status_code`, 403) lists in its JSON body's
    /// `claimValidationErrors` (empty when it lists none). Reads a clone: the body stays readable. JavaScript:
    /// `getInvalidClaimsFromResponse({ response })`.
    ///
    /// ```no_run
    /// # async fn demo(session: fauna_session::Session) -> Result<(), fauna_session::Error> {
    /// let request = gloo_net::http::Request::get("https://api.example.com/notes").build().unwrap();
    /// let response: web_sys::Response = session.fetch(request).await?.into();
    /// if response.status() == 403 {
    ///     for e in session.invalid_claims(&response).await? {
    ///         println!("{} failed: {:?}", e.id, e.reason);
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn invalid_claims(
        &self,
        response: &web_sys::Response,
    ) -> Result<Vec<ClaimValidationError>, Error> {
        let input = sys::object();
        sys::set(&input, "response", response);
        let errors = driver::wait(claims::invalid_claims(&input))
            .await
            .map_err(|e| Fail::Js(e).into_error())?;
        Ok(claim_errors(&errors))
    }

    /// The typed FQL v10 client (feature `serde`) for the Fauna endpoint of [`Config::fauna`]: every query carries
    /// the session's `faunadbToken`, refreshed first when it would live less than the configured minimum, and a
    /// Fauna 401 refreshes the session (once, shared with API 401s) and retries once.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    /// use fauna_session::{config::Config, fauna::FaunaConfig, Session};
    /// let mut config = Config::new("https://api.example.com");
    /// config.fauna = Some(FaunaConfig::new("https://db.fauna.com"));
    /// let session = Session::init(config)?;
    /// let count: i64 = session.fauna().query("Note.all().count()", serde_json::Value::Null).await?;
    /// # let _ = count; Ok(()) }
    /// ```
    #[cfg(feature = "serde")]
    pub fn fauna(&self) -> super::fauna_client::Fauna {
        super::fauna_client::Fauna { _private: () }
    }

    /// Calls `f` for every session [`Event`] until the returned [`Subscription`] is dropped.
    pub fn on_event(&self, f: impl Fn(&Event) + 'static) -> Subscription {
        Subscription {
            id: Some(events::subscribe(Rc::new(f))),
        }
    }
}

/// `[{id, reason}]` as Rust values (reasons as JSON text).
fn claim_errors(errors: &JsValue) -> Vec<ClaimValidationError> {
    js_sys::Array::from(errors)
        .iter()
        .map(|e| {
            let reason = sys::get(&e, "reason");
            ClaimValidationError {
                id: sys::get(&e, "id").as_string().unwrap_or_default(),
                reason: (!reason.is_undefined()).then(|| sys::stringify(&reason)),
            }
        })
        .collect()
}

/// An event subscription; dropping it unsubscribes.
#[derive(Debug)]
#[must_use = "dropping a Subscription unsubscribes at once"]
pub struct Subscription {
    id: Option<u32>,
}

impl Subscription {
    /// Keeps the subscription for the page's lifetime.
    pub fn forget(mut self) {
        self.id = None;
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            events::unsubscribe(id);
        }
    }
}
