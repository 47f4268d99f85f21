//! Session claims as the SuperTokens frontend SDKs see them: the `st-ev` (email verified) claim in the
//! access-token payload, when its `isVerified` validator wants it fetched again, and whether it passes. Pure
//! decisions; the browser backend reads the payload and calls `GET <apiBasePath>/user/email/verify`.
//!
//! A claim sits in the payload as `"<id>": {"v": <value>, "t": <fetched at, server-clock ms>}`.
//!
//! ```
//! use fauna_session::claims::{EmailVerificationClaim, Seen};
//! let validator = EmailVerificationClaim::is_verified(None, None).unwrap(); // refetch a `false` after 10 s
//! let now = 1_000_000.0;
//! assert!(!validator.should_refresh(Seen::False, Some(now - 5_000.0), now));
//! assert!(validator.should_refresh(Seen::False, Some(now - 11_000.0), now));
//! assert!(validator.should_refresh(Seen::Missing, None, now));
//! assert!(!validator.is_valid(Seen::False));
//! assert!(validator.is_valid(Seen::True));
//! assert!(EmailVerificationClaim::is_verified(Some(5.0), None).is_err()); // below the 7 s clock threshold
//! ```

use alloc::string::String;

/// The claim's value key inside its payload entry.
pub const VALUE_KEY: &str = "v";
/// The claim's fetched-at key (milliseconds, server clock) inside its payload entry.
pub const FETCHED_AT_KEY: &str = "t";
/// `reason.message` of a claim whose value is not the expected one.
pub const WRONG_VALUE: &str = "wrong value";
/// The shortest refetch time or maximum age a validator accepts, seconds: the SDKs' clock-skew threshold (a
/// shorter one would refetch on every call on a client whose clock is a little off).
pub const CLOCK_THRESHOLD_SECONDS: f64 = 7.0;
/// The default `refetchTimeOnFalseInSeconds` of [`EmailVerificationClaim::is_verified`].
pub const DEFAULT_REFETCH_TIME_ON_FALSE_SECONDS: f64 = 10.0;

/// What a claim's `v` holds in a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// No entry, a `null` entry, or an entry without `v`.
    Missing,
    /// `true`.
    True,
    /// `false`.
    False,
    /// Any other JSON value.
    Other,
}

/// The email-verification claim (`st-ev`), set by the server when the session starts and by `GET
/// <apiBasePath>/user/email/verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmailVerificationClaim;

impl EmailVerificationClaim {
    /// The claim's key in the access-token payload.
    pub const ID: &'static str = "st-ev";

    /// The claim's value: `Some(verified)`, or `None` when the payload has no boolean `st-ev` value.
    pub fn value(seen: Seen) -> Option<bool> {
        match seen {
            Seen::True => Some(true),
            Seen::False => Some(false),
            Seen::Missing | Seen::Other => None,
        }
    }

    /// The validator SuperTokens' `EmailVerificationClaim.validators.isVerified(refetchTimeOnFalseInSeconds,
    /// maxAgeInSeconds)` makes: passes when the email is verified; a `false` older than
    /// `refetch_time_on_false_seconds` (default 10) and any value older than `max_age_seconds` (default: no
    /// limit) is fetched again first. Both must be at least [`CLOCK_THRESHOLD_SECONDS`].
    pub fn is_verified(
        refetch_time_on_false_seconds: Option<f64>,
        max_age_seconds: Option<f64>,
    ) -> Result<IsVerified, ClaimError> {
        let refetch =
            refetch_time_on_false_seconds.unwrap_or(DEFAULT_REFETCH_TIME_ON_FALSE_SECONDS);
        if !long_enough(refetch) {
            return Err(ClaimError::RefetchTimeTooShort);
        }
        if let Some(m) = max_age_seconds
            && !long_enough(m)
        {
            return Err(ClaimError::MaxAgeTooShort);
        }
        Ok(IsVerified {
            refetch_time_on_false_seconds: refetch,
            max_age_seconds,
        })
    }
}

/// At least [`CLOCK_THRESHOLD_SECONDS`] (NaN is not).
fn long_enough(seconds: f64) -> bool {
    seconds >= CLOCK_THRESHOLD_SECONDS
}

/// The `isVerified` validator of the email-verification claim; make it with
/// [`EmailVerificationClaim::is_verified`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IsVerified {
    refetch_time_on_false_seconds: f64,
    max_age_seconds: Option<f64>,
}

impl Default for IsVerified {
    /// `isVerified(10)`: what the SDK registers globally when email verification is on.
    fn default() -> Self {
        IsVerified {
            refetch_time_on_false_seconds: DEFAULT_REFETCH_TIME_ON_FALSE_SECONDS,
            max_age_seconds: None,
        }
    }
}

impl IsVerified {
    /// The claim this validator checks ([`EmailVerificationClaim::ID`]).
    pub fn id(&self) -> &'static str {
        EmailVerificationClaim::ID
    }

    /// Whether the claim must be fetched again before [`IsVerified::is_valid`]: it is missing; or older than the
    /// maximum age; or `false` and older than the refetch time. `fetched_at_ms` is the entry's `t`, `now_ms` the
    /// server-clock now; without a `t` only a missing value is refetched.
    pub fn should_refresh(&self, seen: Seen, fetched_at_ms: Option<f64>, now_ms: f64) -> bool {
        if seen == Seen::Missing {
            return true;
        }
        let Some(t) = fetched_at_ms else {
            return false;
        };
        let older_than = |seconds: f64| t < now_ms - seconds * 1000.0;
        self.max_age_seconds.is_some_and(older_than)
            || (seen == Seen::False && older_than(self.refetch_time_on_false_seconds))
    }

    /// Whether the claim passes: its value is `true`. A failure's reason is
    /// `{"message": "wrong value", "expectedValue": true, "actualValue": <the value>}`.
    pub fn is_valid(&self, seen: Seen) -> bool {
        seen == Seen::True
    }

    /// The refetch time of a `false` value, seconds.
    pub fn refetch_time_on_false_seconds(&self) -> f64 {
        self.refetch_time_on_false_seconds
    }

    /// The maximum age of any value, seconds (`None`: no limit).
    pub fn max_age_seconds(&self) -> Option<f64> {
        self.max_age_seconds
    }
}

/// A validator that cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimError {
    /// `refetchTimeOnFalseInSeconds` below [`CLOCK_THRESHOLD_SECONDS`] (or not a number).
    RefetchTimeTooShort,
    /// `maxAgeInSeconds` below [`CLOCK_THRESHOLD_SECONDS`] (or not a number).
    MaxAgeTooShort,
}

impl ClaimError {
    /// The error's message (also its `Display`).
    pub fn message(&self) -> &'static str {
        match self {
            ClaimError::RefetchTimeTooShort => {
                "isVerified: refetchTimeOnFalseInSeconds must be a number of at least 7 (the clock-skew threshold)"
            }
            ClaimError::MaxAgeTooShort => {
                "isVerified: maxAgeInSeconds must be a number of at least 7 (the clock-skew threshold)"
            }
        }
    }
}

crate::text::display_from_message!(ClaimError);

/// One claim a validation or a server found wanting (SuperTokens' `ClaimValidationError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimValidationError {
    /// The claim's id (e.g. `st-ev`).
    pub id: String,
    /// The reason as JSON text (e.g. `{"message":"wrong value","expectedValue":true,"actualValue":false}`),
    /// `None` when none was given.
    pub reason: Option<String>,
}

/// `<apiDomain><apiBasePath>/user/email/verify`: `GET` answers `{"status":"OK","isVerified":…}` and a new access
/// token with a fresh `st-ev`.
pub fn email_verify_url(api_domain: &str, api_base_path: &str) -> String {
    let mut url = String::with_capacity(api_domain.len() + api_base_path.len() + 18);
    url.push_str(api_domain);
    url.push_str(api_base_path);
    url.push_str("/user/email/verify");
    url
}
