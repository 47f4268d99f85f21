//! Browser tests of the claims API (`getClaimValue`, `validateClaims`, `getInvalidClaimsFromResponse`,
//! `EmailVerificationClaim`, and the Rust API's) against a real `fauna-session-server` running with
//! `--email-verification required`: the `verification-required` server of tests/support/servers.py (run by
//! `scripts/browser-test.sh`, its URL passed at compile time as `FAUNA_SESSION_TEST_SERVERS`). Its users never
//! verify their email here, so `st-ev` stays false and protected routes answer 403 with the invalid-claim body.
#![cfg(all(target_arch = "wasm32", feature = "js"))]

mod common;

use common::*;
use fauna_session::js;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SERVERS: Option<&str> = option_env!("FAUNA_SESSION_TEST_SERVERS");

#[wasm_bindgen(inline_js = r#"
export async function startServer(base, profile) {
  const r = await fetch(base + "/servers/" + profile + "/start?superTokensDoNotDoInterception", { method: "POST" });
  const body = await r.json();
  if (r.status !== 200) throw new Error(profile + ": " + JSON.stringify(body));
  return body.url;
}
export function failing(id) {
  return { id, refresh: async () => {}, shouldRefresh: () => false, validate: async () => ({ isValid: false, reason: "custom" }) };
}
export function returning(list) { return () => list; }
export function keepingGlobals(seen) {
  return (globals, userContext) => {
    seen.push(globals.length, globals[0].id, typeof globals[0].shouldRefresh, typeof globals[0].validate, typeof userContext);
    return globals;
  };
}
export function throwing() { return () => { throw new Error("override broke"); }; }
export function asJson(v) { return JSON.stringify(v); }
export async function bodyText(r) { return await r.text(); }
"#)]
extern "C" {
    #[wasm_bindgen(js_name = startServer, catch)]
    async fn start_server(base: &str, profile: &str) -> Result<JsValue, JsValue>;
    fn failing(id: &str) -> JsValue;
    fn returning(list: &JsValue) -> JsValue;
    #[wasm_bindgen(js_name = keepingGlobals)]
    fn keeping_globals(seen: &js_sys::Array) -> JsValue;
    fn throwing() -> JsValue;
    #[wasm_bindgen(js_name = asJson)]
    fn as_json(v: &JsValue) -> String;
    #[wasm_bindgen(js_name = bodyText)]
    async fn body_text(r: &JsValue) -> JsValue;
}

/// The required-mode server's URL (started on first use).
async fn required() -> String {
    let servers = SERVERS.expect(
        "run the browser tests with scripts/browser-test.sh (it starts tests/support/servers.py)",
    );
    start_server(servers, "verification-required")
        .await
        .map_err(|e| error_message(&e))
        .unwrap()
        .as_string()
        .unwrap()
}

/// A signed-up (unverified) user's page session on the required-mode server; returns the server's URL.
async fn unverified_session() -> String {
    let server = required().await;
    js::init(config(&server).unchecked_into()).expect("init");
    let body = sign_up(&server, &random_email()).await.expect("sign up");
    assert_eq!(get(&body, "status").as_string().as_deref(), Some("OK"));
    clear_events();
    server
}

fn claim() -> JsValue {
    js::email_verification_claim()
}

async fn claim_value() -> JsValue {
    let input = object();
    set(&input, "claim", claim());
    JsFuture::from(js::get_claim_value(input)).await.unwrap()
}

async fn validate(options: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(js::validate_claims(options)).await
}

/// `EmailVerificationClaim.validators.isVerified(args…)`.
fn is_verified(args: &[f64]) -> Result<JsValue, JsValue> {
    let validators = get(&claim(), "validators");
    let f: js_sys::Function = get(&validators, "isVerified").unchecked_into();
    let args: js_sys::Array = args.iter().map(|a| JsValue::from_f64(*a)).collect();
    f.apply(&validators, &args)
}

const WRONG_VALUE: &str = r#"[{"id":"st-ev","reason":{"message":"wrong value","expectedValue":true,"actualValue":false}}]"#;

#[wasm_bindgen_test]
async fn claim_value_of_an_unverified_user_is_false() {
    unverified_session().await;
    assert_eq!(get(&claim(), "id").as_string().as_deref(), Some("st-ev"));
    assert_eq!(claim_value().await.as_bool(), Some(false));
    let payload = api::get_access_token_payload_securely().await.unwrap();
    let fetched: js_sys::Function = get(&claim(), "getLastFetchedTime").unchecked_into();
    let t = fetched.call1(&claim(), &payload).unwrap().as_f64().unwrap();
    assert!(
        (t - js_sys::Date::now()).abs() < 60_000.0,
        "st-ev.t is a recent ms time: {t}"
    );
    api::sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn validate_claims_reports_st_ev_and_honours_the_override() {
    unverified_session().await;
    let errors = validate(JsValue::UNDEFINED).await.unwrap();
    assert_eq!(as_json(&errors), WRONG_VALUE);
    let none = validate(returning(&js_sys::Array::new().into()))
        .await
        .unwrap();
    assert_eq!(as_json(&none), "[]", "an override returning no validators");
    let options = object();
    let custom: js_sys::Array = [failing("my-claim")].into_iter().collect();
    set(
        &options,
        "overrideGlobalClaimValidators",
        returning(&custom),
    );
    let errors = validate(options).await.unwrap();
    assert_eq!(as_json(&errors), r#"[{"id":"my-claim","reason":"custom"}]"#);
    // The override gets the global validators (isVerified with its defaults) and a user context.
    let seen = js_sys::Array::new();
    let errors = validate(keeping_globals(&seen)).await.unwrap();
    assert_eq!(as_json(&errors), WRONG_VALUE);
    assert_eq!(
        as_json(&seen),
        r#"[1,"st-ev","function","function","object"]"#
    );
    // A throwing override rejects with its error.
    let err = validate(throwing()).await.unwrap_err();
    assert_eq!(error_message(&err), "override broke");
    api::sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn a_stale_false_is_fetched_again_before_validating() {
    unverified_session().await;
    let fetched_at = |payload: &JsValue| get(&get(payload, "st-ev"), "t").as_f64().unwrap();
    let t0 = fetched_at(&api::get_access_token_payload_securely().await.unwrap());
    let strict = is_verified(&[7.0]).unwrap();
    let only: js_sys::Array = [strict].into_iter().collect();
    // Fresh: no refetch.
    assert_eq!(
        as_json(&validate(returning(&only)).await.unwrap()),
        WRONG_VALUE
    );
    let t1 = fetched_at(&api::get_access_token_payload_securely().await.unwrap());
    assert_eq!(t1, t0, "a false younger than 7 s is not fetched again");
    sleep(7_500).await;
    clear_events();
    assert_eq!(
        as_json(&validate(returning(&only)).await.unwrap()),
        WRONG_VALUE
    );
    let t2 = fetched_at(&api::get_access_token_payload_securely().await.unwrap());
    assert!(
        t2 > t0 + 7_000.0,
        "GET /user/email/verify wrote a new st-ev: {t0} -> {t2}"
    );
    assert!(
        event_actions().contains(&"ACCESS_TOKEN_PAYLOAD_UPDATED".to_string()),
        "{:?}",
        event_actions()
    );
    api::sign_out().await.unwrap();
}

#[wasm_bindgen_test]
fn is_verified_refuses_times_below_the_clock_threshold() {
    let v = is_verified(&[]).unwrap();
    assert_eq!(get(&v, "id").as_string().as_deref(), Some("st-ev"));
    for f in ["refresh", "shouldRefresh", "validate"] {
        assert!(get(&v, f).is_function(), "{f}");
    }
    assert!(is_verified(&[10.0, 300.0]).is_ok());
    for bad in [&[5.0][..], &[10.0, 3.0], &[f64::NAN]] {
        let e = is_verified(bad).unwrap_err();
        assert!(
            error_message(&e).contains("at least 7"),
            "{bad:?}: {}",
            error_message(&e)
        );
    }
}

#[wasm_bindgen_test]
async fn invalid_claims_from_a_403_of_a_protected_route() {
    let server = unverified_session().await;
    let response = call_fetch(&format!("{server}/sessioninfo"), &JsValue::UNDEFINED)
        .await
        .unwrap();
    let status = get(&response, "status").as_f64();
    assert_eq!(status, Some(403.0));
    assert!(event_actions().contains(&"API_INVALID_CLAIM".to_string()));
    let input = object();
    set(&input, "response", response.clone());
    let errors = JsFuture::from(js::get_invalid_claims_from_response(input))
        .await
        .unwrap();
    assert_eq!(as_json(&errors), WRONG_VALUE);
    let text = body_text(&response).await.as_string().unwrap();
    assert!(
        text.contains("invalid claim"),
        "the body is still readable: {text}"
    );
    // An axios-style response, its data as text and as an object.
    for data in [
        JsValue::from_str(&text),
        js_sys::JSON::parse(&text).unwrap(),
    ] {
        let axios = object();
        set(&axios, "data", data);
        let input = object();
        set(&input, "response", axios);
        let errors = JsFuture::from(js::get_invalid_claims_from_response(input))
            .await
            .unwrap();
        assert_eq!(as_json(&errors), WRONG_VALUE);
    }
    // A response without claim errors.
    let ok = call_fetch(&format!("{server}/health"), &JsValue::UNDEFINED)
        .await
        .unwrap();
    let input = object();
    set(&input, "response", ok);
    let errors = JsFuture::from(js::get_invalid_claims_from_response(input))
        .await
        .unwrap();
    assert_eq!(as_json(&errors), "[]");
    // The device list is a protected route too: unverified, it is refused with the 403 response.
    let refused = JsFuture::from(js::list_sessions()).await.unwrap_err();
    assert_eq!(get(&refused, "status").as_f64(), Some(403.0));
    api::sign_out().await.unwrap();
}

#[wasm_bindgen_test]
async fn rust_api_claims() {
    use fauna_session::claims::{EmailVerificationClaim, IsVerified};
    use fauna_session::{Session, config::Config};
    let server = unverified_session().await;
    let session = Session::init(Config::new(&server)).unwrap();
    assert_eq!(
        session.claim_value(EmailVerificationClaim).await.unwrap(),
        Some(false)
    );
    let errors = session.validate_claims(None).await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].id, "st-ev");
    assert_eq!(
        errors[0].reason.as_deref(),
        Some(r#"{"message":"wrong value","expectedValue":true,"actualValue":false}"#)
    );
    let strict = EmailVerificationClaim::is_verified(Some(60.0), None).unwrap();
    let errors = session
        .validate_claims(Some(&[strict, IsVerified::default()]))
        .await
        .unwrap();
    assert_eq!(errors.len(), 2);
    assert!(session.validate_claims(Some(&[])).await.unwrap().is_empty());
    let request = gloo_net::http::Request::get(&format!("{server}/sessioninfo"))
        .build()
        .unwrap();
    let response: web_sys::Response = session.fetch(request).await.unwrap().into();
    assert_eq!(response.status(), 403);
    let errors = session.invalid_claims(&response).await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].id, EmailVerificationClaim::ID);
    session.sign_out().await.unwrap();
}
