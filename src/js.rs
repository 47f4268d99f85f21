//! Exports: `init`, `doesSessionExist`, `getUserId`, `getAccessTokenPayloadSecurely`, `getJWTPayloadSecurely`,
//! `getAccessToken`, `attemptRefreshingSession`, `signOut`, `getFaunadbToken`, `sessionFetch`, `listSessions`,
//! `revokeSession`, `getClaimValue`, `validateClaims`, `getInvalidClaimsFromResponse`, `emailVerificationClaim`.
//!
//! Config values are read with `Reflect` (no serde), errors are thrown as `Error` objects, and a failed refresh
//! is thrown as the refresh endpoint's `Response`, as the SuperTokens SDK does.

use js_sys::{Function, Promise};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use crate::config::{Config, ConfigError, TokenTransferMethod};
use crate::devices::SignOutScope;
use crate::error::Error;
use crate::fauna::FaunaConfig;
use crate::wasm::driver::{self, Api};
use crate::wasm::settings::{self, Hooks, Settings};
use crate::wasm::{Fail, claims, sys};

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
export interface SignOutOptions {
  /** "local" (default): this session; "others": the user's other sessions, this one stays; "global": all. */
  scope?: "local" | "others" | "global";
}
/** One of the user's live sessions, as fauna-session-server's GET <apiBasePath>/sessions lists it. */
export interface SessionInfo {
  sessionHandle: string;
  /** Milliseconds since the epoch. */
  timeCreated: number;
  /** Milliseconds since the epoch: the session's last refresh (or its creation). */
  lastActive: number;
  /** Milliseconds since the epoch: when its refresh token expires. */
  expiry: number;
  userAgent: string | null;
  ip: string | null;
  /** True for the session of the page asking. */
  current: boolean;
}
/** A claim that failed (SuperTokens' ClaimValidationError), e.g. { id: "st-ev", reason: { message: "wrong value", expectedValue: true, actualValue: false } }. */
export interface ClaimValidationError {
  id: string;
  reason?: any;
}
export type ClaimValidationResult = { isValid: true } | { isValid: false; reason?: any };
/** A claim validator, SuperTokens' SessionClaimValidator shape (your own ones work too). */
export interface SessionClaimValidator {
  readonly id: string;
  refresh(userContext?: any): Promise<void>;
  shouldRefresh(accessTokenPayload: any, userContext?: any): Promise<boolean> | boolean;
  validate(accessTokenPayload: any, userContext?: any): Promise<ClaimValidationResult> | ClaimValidationResult;
}
export interface SessionClaim<T> {
  refresh(userContext?: any): Promise<void>;
  getValueFromPayload(payload: any, userContext?: any): T | undefined;
  getLastFetchedTime(payload: any, userContext?: any): number | undefined;
}
export interface EmailVerificationClaimType extends SessionClaim<boolean> {
  readonly id: "st-ev";
  validators: {
    /** Passes when the email is verified; refetches a false older than refetchTimeOnFalseInSeconds (default 10) and any value older than maxAgeInSeconds. Both >= 7. */
    isVerified(refetchTimeOnFalseInSeconds?: number, maxAgeInSeconds?: number): SessionClaimValidator;
  };
}
export interface ValidateClaimsOptions {
  overrideGlobalClaimValidators?: (globalClaimValidators: SessionClaimValidator[], userContext: any) => SessionClaimValidator[];
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
    /// `SignOutOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "SignOutOptions")]
    pub type SignOutOptions;
    /// `FaunadbTokenOptions` in TypeScript.
    #[wasm_bindgen(typescript_type = "FaunadbTokenOptions")]
    pub type FaunadbTokenOptions;
}

fn opt(obj: &JsValue, key: &str) -> Option<JsValue> {
    let v = sys::get(obj, key);
    if v.is_undefined() { None } else { Some(v) }
}

/// `init`'s options, in the order they are read and checked (the first bad one is the error). [`read_config`]
/// reads them in one loop, checking and storing each by its index; one loop costs the wasm far fewer bytes than a
/// typed reader per option (and one pass fewer than checking them all first: -43 B gz, scripts/size-report.sh).
const KEYS: [&str; 16] = [
    "apiDomain",
    "apiBasePath",
    "sessionExpiredStatusCode",
    "invalidClaimStatusCode",
    "tokenTransferMethod",
    "sessionTokenFrontendDomain",
    "sessionTokenBackendDomain",
    "autoAddCredentials",
    "isInIframe",
    "maxRetryAttemptsForSessionRefresh",
    "fauna",
    "preAPIHook",
    "postAPIHook",
    "onHandleEvent",
    "interceptUrl",
    "patchGlobals",
];
const API_DOMAIN: usize = 0;
const API_BASE_PATH: usize = 1;
const SESSION_EXPIRED_STATUS: usize = 2;
const INVALID_CLAIM_STATUS: usize = 3;
const TOKEN_TRANSFER: usize = 4;
const FRONTEND_DOMAIN: usize = 5;
#[allow(
    dead_code,
    reason = "the last arm of read_config's string options; named for KEYS' sake"
)]
const BACKEND_DOMAIN: usize = 6;
const AUTO_ADD_CREDENTIALS: usize = 7;
const IN_IFRAME: usize = 8;
const MAX_RETRIES: usize = 9;
const FAUNA: usize = 10;
const PRE_API_HOOK: usize = 11;
const POST_API_HOOK: usize = 12;
const ON_EVENT: usize = 13;
const INTERCEPT_URL: usize = 14;
const PATCH_GLOBALS: usize = 15;

/// A status-code option: an integer in 100..=599.
fn status(v: &JsValue) -> Option<u16> {
    v.as_f64()
        .filter(|n| (100.0..=599.0).contains(n) && f64::from(*n as u16) == *n)
        .map(|n| n as u16)
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
    let mut c = Config::new("");
    let mut hooks = Hooks::default();
    let mut patch_globals = true;
    for (i, &key) in KEYS.iter().enumerate() {
        let x = sys::get(obj, key);
        if x.is_undefined() {
            if i == API_DOMAIN {
                return Err(ConfigError::MissingApiDomain);
            }
            continue;
        }
        let bad = ConfigError::InvalidOption(key);
        match i {
            SESSION_EXPIRED_STATUS => c.session_expired_status_code = status(&x).ok_or(bad)?,
            INVALID_CLAIM_STATUS => c.invalid_claim_status_code = status(&x).ok_or(bad)?,
            TOKEN_TRANSFER => {
                c.token_transfer_method = x
                    .as_string()
                    .and_then(|m| TokenTransferMethod::parse(&m))
                    .ok_or(bad)?;
            }
            AUTO_ADD_CREDENTIALS | IN_IFRAME | PATCH_GLOBALS => {
                let b = x.as_bool().ok_or(bad)?;
                match i {
                    AUTO_ADD_CREDENTIALS => c.auto_add_credentials = b,
                    IN_IFRAME => c.is_in_iframe = b,
                    _ => patch_globals = b,
                }
            }
            MAX_RETRIES => {
                let n = x.as_f64().ok_or(bad)?;
                if n < 0.0 {
                    return Err(ConfigError::NegativeRetryAttempts);
                }
                c.max_retry_attempts_for_session_refresh = if n > f64::from(u32::MAX) {
                    u32::MAX
                } else {
                    n as u32
                };
            }
            FAUNA => c.fauna = Some(read_fauna(&x)?),
            PRE_API_HOOK..=INTERCEPT_URL => {
                if !x.is_function() {
                    return Err(bad);
                }
                let f = Some(x.unchecked_into::<Function>());
                match i {
                    PRE_API_HOOK => hooks.pre_api = f,
                    POST_API_HOOK => hooks.post_api = f,
                    ON_EVENT => hooks.on_event = f,
                    _ => hooks.intercept_url = f,
                }
            }
            _ => {
                let t = x.as_string().ok_or(bad)?;
                match i {
                    API_DOMAIN => c.api_domain = t,
                    API_BASE_PATH => c.api_base_path = t,
                    FRONTEND_DOMAIN => c.session_token_frontend_domain = Some(t),
                    // BACKEND_DOMAIN, the last string option.
                    _ => c.session_token_backend_domain = Some(t),
                }
            }
        }
    }
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
    driver::save_native_fetch();
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
    driver::request(&input, &init)
}

fn call(op: Api) -> Promise {
    driver::api(op, &JsValue::UNDEFINED)
}

/// Resolves to true if a session exists (refreshing first when its access token has expired).
#[wasm_bindgen(js_name = doesSessionExist, unchecked_return_type = "Promise<boolean>")]
pub fn does_session_exist() -> Promise {
    call(Api::Exists)
}

/// Resolves to the user id; rejects with "No session exists" without a session.
#[wasm_bindgen(js_name = getUserId, unchecked_return_type = "Promise<string>")]
pub fn get_user_id() -> Promise {
    call(Api::UserId)
}

/// Resolves to the access-token payload, refreshing first if the access token has expired.
#[wasm_bindgen(js_name = getAccessTokenPayloadSecurely, unchecked_return_type = "Promise<Record<string, any>>")]
pub fn get_access_token_payload_securely() -> Promise {
    call(Api::Payload)
}

/// Alias of `getAccessTokenPayloadSecurely` (its name before SuperTokens 10).
#[wasm_bindgen(js_name = getJWTPayloadSecurely, unchecked_return_type = "Promise<Record<string, any>>")]
pub fn get_jwt_payload_securely() -> Promise {
    call(Api::Payload)
}

/// Resolves to the header-mode access token, or `undefined` (cookie mode, no session).
#[wasm_bindgen(js_name = getAccessToken, unchecked_return_type = "Promise<string | undefined>")]
pub fn get_access_token() -> Promise {
    call(Api::AccessToken)
}

/// Refreshes now: true if the session is fresh, false if there is none; rejects with the refresh's `Response`
/// or error on other failures.
#[wasm_bindgen(js_name = attemptRefreshingSession, unchecked_return_type = "Promise<boolean>")]
pub fn attempt_refreshing_session() -> Promise {
    call(Api::Refresh)
}

/// Signs out. `scope` (default `"local"`): `"local"` ends this session and `"global"` every session of the user,
/// both clearing the local session (fires `SIGN_OUT`); `"others"` ends the user's other sessions and keeps this
/// one. Needs fauna-session-server for `"others"`/`"global"` (a SuperTokens backend ignores the scope).
#[wasm_bindgen(js_name = signOut, unchecked_return_type = "Promise<void>")]
pub fn sign_out(options: Option<SignOutOptions>) -> Promise {
    let scope = options.map_or(JsValue::UNDEFINED, |o| sys::get(&o, "scope"));
    let scope = if scope.is_undefined() {
        Some(SignOutScope::Local)
    } else {
        scope.as_string().and_then(|s| SignOutScope::parse(&s))
    };
    match scope {
        Some(scope) => driver::api(Api::SignOut, &JsValue::from_str(scope.as_str())),
        None => Promise::reject(
            &Fail::Err(Error::Js(
                "signOut: scope must be \"local\", \"others\" or \"global\"".into(),
            ))
            .into_js(),
        ),
    }
}

/// Resolves to the user's live sessions (`GET <apiBasePath>/sessions` of fauna-session-server), objects as the
/// server sends them (`current` marks this page's); rejects with "No session exists" without a session.
#[wasm_bindgen(js_name = listSessions, unchecked_return_type = "Promise<SessionInfo[]>")]
pub fn list_sessions() -> Promise {
    call(Api::Sessions)
}

/// Ends one of the user's sessions: resolves to true if it ended, false if no live session of this user has that
/// handle. Ending this page's own session signs it out here (fires `SIGN_OUT`).
#[wasm_bindgen(js_name = revokeSession, unchecked_return_type = "Promise<boolean>")]
pub fn revoke_session(#[wasm_bindgen(unchecked_param_type = "string")] handle: JsValue) -> Promise {
    let handle = if handle.is_string() {
        handle
    } else {
        JsValue::from_str("")
    };
    driver::api(Api::Sessions, &handle)
}

/// Resolves to the session's `faunadbToken`, valid for at least `minValiditySeconds`.
#[wasm_bindgen(js_name = getFaunadbToken, unchecked_return_type = "Promise<string>")]
pub fn get_faunadb_token(options: Option<FaunadbTokenOptions>) -> Promise {
    let min = options.map_or(0.0, |o| {
        sys::get(&o, "minValiditySeconds").as_f64().unwrap_or(0.0)
    });
    driver::api(
        Api::FaunaToken,
        &JsValue::from_f64(driver::min_validity_ms(min)),
    )
}

/// The `EmailVerificationClaim` object (`st-ev`): `id`, `refresh()`, `getValueFromPayload(payload)`,
/// `getLastFetchedTime(payload)` and `validators.isVerified(refetchTimeOnFalseInSeconds = 10, maxAgeInSeconds?)`
/// (throws below 7 s). The package exports one as `EmailVerificationClaim`.
#[wasm_bindgen(js_name = emailVerificationClaim, unchecked_return_type = "EmailVerificationClaimType")]
pub fn email_verification_claim() -> JsValue {
    claims::email_verification_claim()
}

/// Resolves to `claim.getValueFromPayload(payload)` of a fresh access-token payload (for
/// `EmailVerificationClaim`: `true`, `false`, or `undefined` without the claim).
#[wasm_bindgen(js_name = getClaimValue, unchecked_return_type = "Promise<unknown>")]
pub fn get_claim_value(
    #[wasm_bindgen(unchecked_param_type = "{ claim: SessionClaim<unknown> }")] input: JsValue,
) -> Promise {
    claims::claim_value(&input)
}

/// Refreshes the claims the validators say are stale (`st-ev`: `GET <apiBasePath>/user/email/verify`), then
/// resolves to the failing ones. The validators are `[EmailVerificationClaim.validators.isVerified(10)]`, or
/// what `overrideGlobalClaimValidators(globalValidators, userContext)` returns (given in an options object, or as
/// the function itself as in supertokens-website).
#[wasm_bindgen(js_name = validateClaims, unchecked_return_type = "Promise<ClaimValidationError[]>")]
pub fn validate_claims(
    #[wasm_bindgen(
        unchecked_optional_param_type = "ValidateClaimsOptions | ValidateClaimsOptions[\"overrideGlobalClaimValidators\"]"
    )]
    options: JsValue,
) -> Promise {
    claims::validate_claims(&options)
}

/// Resolves to the `claimValidationErrors` of an invalid-claim (403) response's JSON body (`[]` if it has none);
/// `response` is a fetch `Response` (read from a clone) or an axios-style `{ data }`.
#[wasm_bindgen(js_name = getInvalidClaimsFromResponse, unchecked_return_type = "Promise<ClaimValidationError[]>")]
pub fn get_invalid_claims_from_response(
    #[wasm_bindgen(unchecked_param_type = "{ response: Response | { data: unknown } }")]
    input: JsValue,
) -> Promise {
    claims::invalid_claims(&input)
}
