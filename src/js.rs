//! Exports: `init`, `doesSessionExist`, `getUserId`, `getAccessTokenPayloadSecurely`, `getJWTPayloadSecurely`,
//! `getAccessToken`, `attemptRefreshingSession`, `signOut`, `getFaunadbToken`.
//!
//! Config values are read with `Reflect` (no serde), errors are thrown as `Error` objects, and a failed refresh
//! is thrown as the refresh endpoint's `Response`, as the SuperTokens SDK does.

use alloc::boxed::Box;
use alloc::string::String;

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::config::{Config, ConfigError, TokenTransferMethod};
use crate::fauna::FaunaConfig;
use crate::wasm::settings::{self, Hooks, Settings};
use crate::wasm::{Fail, api, sys};

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
export type SessionEventAction =
  | "SESSION_CREATED" | "REFRESH_SESSION" | "ACCESS_TOKEN_PAYLOAD_UPDATED"
  | "SIGN_OUT" | "UNAUTHORISED" | "API_INVALID_CLAIM";
export interface SessionEvent {
  action: SessionEventAction;
  userContext: Record<string, unknown>;
  /** UNAUTHORISED only: true when a known session was cleared by the backend. */
  sessionExpiredOrRevoked?: boolean;
  /** API_INVALID_CLAIM only. */
  claimValidationErrors?: { id: string; reason?: unknown }[];
}
export interface ApiHookContext {
  action: "REFRESH_SESSION" | "SIGN_OUT";
  requestInit: RequestInit;
  url: string;
  userContext: Record<string, unknown>;
}
export interface SessionConfig {
  /** Where the session API lives, e.g. "https://api.example.com". */
  apiDomain: string;
  /** Default "/auth". */
  apiBasePath?: string;
  /** Default 401. */
  sessionExpiredStatusCode?: number;
  /** Default 403; must differ from sessionExpiredStatusCode. */
  invalidClaimStatusCode?: number;
  /** Default "cookie". */
  tokenTransferMethod?: "cookie" | "header";
  /** Default: the page's host name. */
  sessionTokenFrontendDomain?: string;
  sessionTokenBackendDomain?: string;
  /** Default true. */
  autoAddCredentials?: boolean;
  /** Default false. */
  isInIframe?: boolean;
  /** Default 10; must be >= 0. */
  maxRetryAttemptsForSessionRefresh?: number;
  preAPIHook?: (context: ApiHookContext) =>
    Promise<{ url: string; requestInit: RequestInit }> | { url: string; requestInit: RequestInit };
  postAPIHook?: (context: ApiHookContext & { fetchResponse: Response }) => Promise<void> | void;
  onHandleEvent?: (event: SessionEvent) => void;
  /**
   * Fauna requests managed by the session: every request to this endpoint (scheme, host and port exact) gets
   * `Authorization: Bearer <faunadbToken>` (and none of the session's headers), refreshed first when it would live
   * less than `minValiditySeconds` (default 5); a Fauna 401 refreshes the session once and retries once. Create the
   * `fauna` driver's `Client` once, with any placeholder secret.
   */
  fauna?: { endpoint: string; minValiditySeconds?: number };
  /**
   * Narrows interception: a request the protocol's domain rules would intercept gets the session handling only
   * if this returns true for its absolute URL. Default: all of them.
   */
  interceptUrl?: (url: string) => boolean;
  /** Default true. false: leave window.fetch (and XMLHttpRequest) alone; call sessionFetch instead. */
  patchGlobals?: boolean;
}
export interface FaunadbTokenOptions {
  /** The returned token stays valid at least this long (refreshing first when it would not). Default 0. */
  minValiditySeconds?: number;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `SessionConfig` in TypeScript.
    #[wasm_bindgen(typescript_type = "SessionConfig")]
    pub type SessionConfig;
    /// `FaunadbTokenOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "FaunadbTokenOptions")]
    pub type FaunadbTokenOptions;
}

fn opt(obj: &JsValue, key: &str) -> Option<JsValue> {
    let v = sys::get(obj, key);
    if v.is_undefined() { None } else { Some(v) }
}

fn opt_string(obj: &JsValue, key: &'static str) -> Result<Option<String>, ConfigError> {
    opt(obj, key)
        .map(|v| v.as_string().ok_or(ConfigError::InvalidOption(key)))
        .transpose()
}

fn opt_bool(obj: &JsValue, key: &'static str) -> Result<Option<bool>, ConfigError> {
    opt(obj, key)
        .map(|v| v.as_bool().ok_or(ConfigError::InvalidOption(key)))
        .transpose()
}

fn opt_status(obj: &JsValue, key: &'static str) -> Result<Option<u16>, ConfigError> {
    opt(obj, key)
        .map(|v| match v.as_f64() {
            Some(n) if (100.0..=599.0).contains(&n) && f64::from(n as u16) == n => Ok(n as u16),
            _ => Err(ConfigError::InvalidOption(key)),
        })
        .transpose()
}

fn opt_function(obj: &JsValue, key: &'static str) -> Result<Option<Function>, ConfigError> {
    opt(obj, key)
        .map(|v| {
            v.dyn_into::<Function>()
                .map_err(|_| ConfigError::InvalidOption(key))
        })
        .transpose()
}

/// The options of the JS `init` config object, and its hooks.
struct JsConfig {
    config: Config,
    hooks: Hooks,
    /// `patchGlobals` (default true): patch `window.fetch` (and with `compat` `XMLHttpRequest`).
    patch_globals: bool,
}

fn read_config(obj: &JsValue) -> Result<JsConfig, ConfigError> {
    if !obj.is_object() {
        return Err(ConfigError::MissingApiDomain);
    }
    let mut c = Config::new(opt_string(obj, "apiDomain")?.ok_or(ConfigError::MissingApiDomain)?);
    if let Some(p) = opt_string(obj, "apiBasePath")? {
        c.api_base_path = p;
    }
    if let Some(s) = opt_status(obj, "sessionExpiredStatusCode")? {
        c.session_expired_status_code = s;
    }
    if let Some(s) = opt_status(obj, "invalidClaimStatusCode")? {
        c.invalid_claim_status_code = s;
    }
    if let Some(m) = opt_string(obj, "tokenTransferMethod")? {
        c.token_transfer_method = TokenTransferMethod::parse(&m)
            .ok_or(ConfigError::InvalidOption("tokenTransferMethod"))?;
    }
    c.session_token_frontend_domain = opt_string(obj, "sessionTokenFrontendDomain")?;
    c.session_token_backend_domain = opt_string(obj, "sessionTokenBackendDomain")?;
    if let Some(b) = opt_bool(obj, "autoAddCredentials")? {
        c.auto_add_credentials = b;
    }
    if let Some(b) = opt_bool(obj, "isInIframe")? {
        c.is_in_iframe = b;
    }
    if let Some(v) = opt(obj, "maxRetryAttemptsForSessionRefresh") {
        let n = v.as_f64().ok_or(ConfigError::InvalidOption(
            "maxRetryAttemptsForSessionRefresh",
        ))?;
        if n < 0.0 {
            return Err(ConfigError::NegativeRetryAttempts);
        }
        c.max_retry_attempts_for_session_refresh = if n > f64::from(u32::MAX) {
            u32::MAX
        } else {
            n as u32
        };
    }
    if let Some(f) = opt(obj, "fauna") {
        c.fauna = Some(read_fauna(&f)?);
    }
    let hooks = Hooks {
        pre_api: opt_function(obj, "preAPIHook")?,
        post_api: opt_function(obj, "postAPIHook")?,
        on_event: opt_function(obj, "onHandleEvent")?,
        intercept_url: opt_function(obj, "interceptUrl")?,
    };
    let patch_globals = opt_bool(obj, "patchGlobals")?.unwrap_or(true);
    Ok(JsConfig {
        config: c,
        hooks,
        patch_globals,
    })
}

/// `fauna: { endpoint, minValiditySeconds }`.
fn read_fauna(f: &JsValue) -> Result<FaunaConfig, ConfigError> {
    let endpoint = match opt(f, "endpoint").and_then(|v| v.as_string()) {
        Some(e) if f.is_object() => e,
        _ => return Err(ConfigError::InvalidOption("fauna.endpoint")),
    };
    let mut fauna = FaunaConfig::new(endpoint);
    if let Some(v) = opt(f, "minValiditySeconds") {
        fauna.min_validity_seconds = v
            .as_f64()
            .ok_or(ConfigError::InvalidOption("fauna.minValiditySeconds"))?;
    }
    Ok(fauna)
}

fn config_error(e: ConfigError) -> JsValue {
    Fail::Err(e.into()).into_js()
}

/// Configures the session and patches `window.fetch`, and with `compat` `XMLHttpRequest` (once per page; a second
/// call only replaces the configuration; `patchGlobals: false` patches nothing, see `sessionFetch`). Throws on an
/// invalid configuration.
#[wasm_bindgen]
pub fn init(config: SessionConfig) -> Result<(), JsValue> {
    let JsConfig {
        config,
        hooks,
        patch_globals,
    } = read_config(&config).map_err(config_error)?;
    let config = config
        .normalise(&sys::page_hostname())
        .map_err(config_error)?;
    settings::install(Settings { config, hooks });
    crate::wasm::events::follow_other_tabs();
    if patch_globals {
        crate::wasm::intercept();
    }
    Ok(())
}

/// `fetch` with the session handling, whether or not the globals are patched (`init({ patchGlobals: false })`):
/// session headers and refresh-and-retry for the API, the managed token for Fauna, the native `fetch` for the rest.
#[wasm_bindgen(js_name = sessionFetch, unchecked_return_type = "Promise<Response>")]
pub fn session_fetch(
    #[wasm_bindgen(unchecked_param_type = "RequestInfo | URL")] input: JsValue,
    #[wasm_bindgen(unchecked_param_type = "RequestInit")] init: JsValue,
) -> Promise {
    sys::promise(Box::pin(async move {
        crate::wasm::fetch::do_request(input, init)
            .await
            .map(JsValue::from)
            .map_err(Fail::into_js)
    }))
}

/// What a session call does; one async body for all exports keeps the wasm small (one future type).
enum Op {
    Exists,
    UserId,
    Payload,
    AccessToken,
    Refresh,
    SignOut,
    Fauna(f64),
}

async fn run(op: Op) -> Result<JsValue, JsValue> {
    let r = match op {
        Op::Exists => api::does_session_exist().await.map(JsValue::from_bool),
        Op::UserId => api::user_id().await.map(|s| JsValue::from_str(&s)),
        Op::Payload => api::payload_securely().await,
        Op::AccessToken => api::access_token()
            .await
            .map(|t| t.map_or(JsValue::UNDEFINED, |s| JsValue::from_str(&s))),
        Op::Refresh => api::attempt_refreshing_session()
            .await
            .map(JsValue::from_bool),
        Op::SignOut => api::sign_out().await.map(|()| JsValue::UNDEFINED),
        Op::Fauna(min) => api::faunadb_token(min).await.map(|s| JsValue::from_str(&s)),
    };
    r.map_err(Fail::into_js)
}

fn spawn(op: Op) -> Promise {
    sys::promise(Box::pin(run(op)))
}

/// Resolves to true if a session exists (refreshing first when its access token has expired).
#[wasm_bindgen(js_name = doesSessionExist, unchecked_return_type = "Promise<boolean>")]
pub fn does_session_exist() -> Promise {
    spawn(Op::Exists)
}

/// Resolves to the user id; rejects with "No session exists" without a session.
#[wasm_bindgen(js_name = getUserId, unchecked_return_type = "Promise<string>")]
pub fn get_user_id() -> Promise {
    spawn(Op::UserId)
}

/// Resolves to the access-token payload, refreshing first if the access token has expired.
#[wasm_bindgen(js_name = getAccessTokenPayloadSecurely, unchecked_return_type = "Promise<Record<string, any>>")]
pub fn get_access_token_payload_securely() -> Promise {
    spawn(Op::Payload)
}

/// Alias of `getAccessTokenPayloadSecurely` (its name before SuperTokens 10).
#[wasm_bindgen(js_name = getJWTPayloadSecurely, unchecked_return_type = "Promise<Record<string, any>>")]
pub fn get_jwt_payload_securely() -> Promise {
    spawn(Op::Payload)
}

/// Resolves to the header-mode access token, or `undefined` (cookie mode, no session).
#[wasm_bindgen(js_name = getAccessToken, unchecked_return_type = "Promise<string | undefined>")]
pub fn get_access_token() -> Promise {
    spawn(Op::AccessToken)
}

/// Refreshes now: true if the session is fresh, false if there is none; rejects with the refresh's `Response`
/// or error on other failures.
#[wasm_bindgen(js_name = attemptRefreshingSession, unchecked_return_type = "Promise<boolean>")]
pub fn attempt_refreshing_session() -> Promise {
    spawn(Op::Refresh)
}

/// Signs out and clears the local session (fires `SIGN_OUT`).
#[wasm_bindgen(js_name = signOut, unchecked_return_type = "Promise<void>")]
pub fn sign_out() -> Promise {
    spawn(Op::SignOut)
}

/// Resolves to the session's `faunadbToken`, valid for at least `minValiditySeconds`.
#[wasm_bindgen(js_name = getFaunadbToken, unchecked_return_type = "Promise<string>")]
pub fn get_faunadb_token(options: Option<FaunadbTokenOptions>) -> Promise {
    let min = options.map_or(0.0, |o| {
        sys::get(&o, "minValiditySeconds").as_f64().unwrap_or(0.0)
    });
    spawn(Op::Fauna(min))
}
