//! Session claims for both front doors: `getClaimValue`, `validateClaims`, `getInvalidClaimsFromResponse` and the
//! `EmailVerificationClaim` object with its `isVerified` validator.
//!
//! The decisions (is the value stale, does it pass, are the validator's arguments acceptable) are
//! [`crate::claims`]', made by one Rust function behind every claim member ([`check`], `decide`'s `CLAIM_CHECK`);
//! the claim's `refresh` (`CLAIM_REFRESH`) is `GET <apiBasePath>/user/email/verify` through the interceptor, which
//! stores the new front token it answers with. The plumbing (the claim object, calling the validators, the app's
//! own too, in the SDK's order; reading a response body) is a few lines of JavaScript in `driver.js`, whose
//! members call `decide` directly: no closures of their own, and the same through `Reflect` would cost several
//! times the bytes in the wasm.

use core::cell::RefCell;

use js_sys::Promise;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

use super::driver;
use super::{Fail, frontend, settings, sys};
use crate::claims::{self, EmailVerificationClaim, Seen};

/// `driver.js`'s `run` numbers of the claims' plumbing (its `claim`, `claimValue`, `validate`, `validateClaims` and
/// `invalidClaims`): through the driver's one import rather than as imports of their own.
const CLAIM: u32 = 27;
#[cfg(feature = "js")]
const CLAIM_VALUE: u32 = 28;
#[cfg(feature = "std")]
const VALIDATE_WITH: u32 = 29;
#[cfg(feature = "js")]
const VALIDATE_CLAIMS: u32 = 30;
const INVALID_CLAIMS: u32 = 31;

/// The claim object (`id` and members that ask `decide`'s `CLAIM_CHECK` and `CLAIM_REFRESH`).
fn claim_object(id: &str) -> JsValue {
    sys::driver(CLAIM, &JsValue::from_str(id), &JsValue::UNDEFINED)
}

/// `input.claim.getValueFromPayload(fresh payload)`.
#[cfg(feature = "js")]
fn claim_value_of(input: &JsValue) -> Promise {
    sys::driver(CLAIM_VALUE, input, &JsValue::UNDEFINED).unchecked_into()
}

/// The SDK's `validateClaims`: refresh what each validator's `shouldRefresh` asks for (errors logged), then the
/// `{id, reason}` of each failing `validate`.
#[cfg(feature = "std")]
fn validate_with(validators: &JsValue) -> Promise {
    sys::driver(VALIDATE_WITH, validators, &JsValue::UNDEFINED).unchecked_into()
}

/// The SDK's `validateClaims(options)`: the global validators are `[claim.validators.isVerified()]` (Rust's
/// defaults: `isVerified(10)`), or what `overrideGlobalClaimValidators(globals, {})` returns (given itself or in an
/// options object); then as `validate`. A throwing override rejects.
#[cfg(feature = "js")]
fn validate_claims_with(options: &JsValue, claim: &JsValue) -> Promise {
    sys::driver(VALIDATE_CLAIMS, options, claim).unchecked_into()
}

/// `claimValidationErrors` of a `Response`'s JSON body or an axios-style `{ data }`, else `[]`.
pub(crate) fn invalid_claims(input: &JsValue) -> Promise {
    sys::driver(INVALID_CLAIMS, input, &JsValue::UNDEFINED).unchecked_into()
}

/// `payload[id].v`, what it is, and `payload[id].t`.
pub(crate) fn entry(payload: &JsValue, id: &str) -> (JsValue, Seen, Option<f64>) {
    let entry = sys::get(payload, id);
    let v = sys::get(&entry, claims::VALUE_KEY);
    let seen = match v.as_bool() {
        Some(true) => Seen::True,
        Some(false) => Seen::False,
        None if v.is_undefined() || v.is_null() => Seen::Missing,
        None => Seen::Other,
    };
    (v, seen, sys::get(&entry, claims::FETCHED_AT_KEY).as_f64())
}

/// What `check` answers (`VALIDATE`: `undefined` if valid, else the failure message; 4: nothing, it only checks the
/// validator's arguments).
const SHOULD_REFRESH: u8 = 0;
const VALIDATE: u8 = 1;
const VALUE: u8 = 2;
const FETCHED_AT: u8 = 3;

/// The claim members' one Rust function (`decide`'s `CLAIM_CHECK`, which needs no `init`); `what` is one of the
/// constants above. Throws for validator arguments [`EmailVerificationClaim::is_verified`] refuses.
pub(crate) fn check(
    what: &JsValue,
    payload: &JsValue,
    refetch: &JsValue,
    max_age: &JsValue,
) -> Result<JsValue, JsValue> {
    let (value, seen, t) = entry(payload, EmailVerificationClaim::ID);
    let what = what.as_f64().unwrap_or(0.0) as u8;
    if what == VALUE {
        return Ok(value);
    }
    if what == FETCHED_AT {
        return Ok(t.map_or(JsValue::UNDEFINED, JsValue::from_f64));
    }
    let v = EmailVerificationClaim::is_verified(refetch.as_f64(), max_age.as_f64())
        .map_err(|e| sys::js_error(e.message()))?;
    if what == SHOULD_REFRESH {
        return Ok(v.should_refresh(seen, t, frontend::adjusted_now()).into());
    }
    if what != VALIDATE {
        return Ok(JsValue::UNDEFINED);
    }
    // The snippet makes the SDK's `{ isValid }` / `{ isValid: false, reason: { message, expectedValue, actualValue } }`.
    Ok(if v.is_valid(seen) {
        JsValue::UNDEFINED
    } else {
        JsValue::from_str(claims::WRONG_VALUE)
    })
}

/// Fetches `st-ev` again (`GET <apiBasePath>/user/email/verify`, resolving to its `Response`); the new access
/// token comes with the answer.
pub(crate) fn refresh_email_verification() -> Result<JsValue, JsValue> {
    let settings = settings::current().map_err(|e| Fail::Err(e).into_js())?;
    let c = &settings.config;
    let url = claims::email_verify_url(&c.api_domain, &c.api_base_path);
    Ok(driver::request(&JsValue::from_str(&url), &JsValue::UNDEFINED).into())
}

sys::page_local!(PAGE: RefCell<Option<JsValue>> = RefCell::new(None));

/// The page's claim object, made on first use (its members call `decide`, so the driver has it first).
fn page() -> JsValue {
    PAGE.with(|p| {
        p.borrow_mut()
            .get_or_insert_with(|| {
                driver::ready();
                claim_object(EmailVerificationClaim::ID)
            })
            .clone()
    })
}

/// The `EmailVerificationClaim` object (one per page): `{id, refresh, getValueFromPayload, getLastFetchedTime,
/// validators: {isVerified(refetchTimeOnFalseInSeconds = 10, maxAgeInSeconds?)}}`.
pub(crate) fn email_verification_claim() -> JsValue {
    page()
}

/// The JavaScript validator object of `v` (`EmailVerificationClaim.validators.isVerified(…)`).
#[cfg(feature = "std")]
pub(crate) fn validator(v: claims::IsVerified) -> Result<JsValue, JsValue> {
    let validators = sys::get(&email_verification_claim(), "validators");
    let f: js_sys::Function =
        wasm_bindgen::JsCast::unchecked_into(sys::get(&validators, "isVerified"));
    let max_age = v
        .max_age_seconds()
        .map_or(JsValue::UNDEFINED, JsValue::from_f64);
    f.call2(
        &validators,
        &v.refetch_time_on_false_seconds().into(),
        &max_age,
    )
}

/// `getClaimValue({ claim })`: `claim.getValueFromPayload(payload)` of a fresh access-token payload (read by the
/// driver's session API, so the driver needs `decide` first).
#[cfg(feature = "js")]
pub(crate) fn claim_value(input: &JsValue) -> Promise {
    driver::ready();
    claim_value_of(input)
}

/// Runs `validators` (an array of SDK-shaped validators) against a fresh payload: the failing ones' errors.
#[cfg(feature = "std")]
pub(crate) fn run_validators(validators: &JsValue) -> Promise {
    driver::ready();
    validate_with(validators)
}

/// `validateClaims(options)`: the global validators are `[EmailVerificationClaim.validators.isVerified(10)]`,
/// unless `overrideGlobalClaimValidators` replaces them.
#[cfg(feature = "js")]
pub(crate) fn validate_claims(options: &JsValue) -> Promise {
    validate_claims_with(options, &page())
}
