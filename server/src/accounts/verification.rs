//! The `st-ev` claim: its value in the access-token payload, the check `Required` mode runs, and refetching
//! it from the database.

use serde_json::{Map, Value, json};

use super::EmailVerification;
use crate::claims::ClaimCheck;
use crate::crypto::now_ms;
use crate::engine::SessionEngine;
use crate::error::SessionError;
use crate::extract::Session;
use crate::users::User;

/// Key of the email-verification claim in the access-token payload.
pub const EMAIL_VERIFICATION_CLAIM: &str = "st-ev";

/// A `false` claim older than this is looked up again before a `Required` check fails (SuperTokens'
/// `refetchTimeOnFalse`, 10 s).
const REFETCH_FALSE_AFTER_MS: i64 = 10_000;

/// The claim's value as SuperTokens writes it: `{"v": verified, "t": now_ms}`.
pub fn st_ev(verified: bool) -> Value {
    json!({"v": verified, "t": now_ms()})
}

/// The check `Required` mode applies: `st-ev.v` must be `true`. Failure reasons are the protocol's
/// (`wrong value` with `expectedValue`/`actualValue`, or `value does not exist`).
pub fn email_verified_check() -> ClaimCheck {
    ClaimCheck::custom(EMAIL_VERIFICATION_CLAIM, |v| {
        match v.and_then(|c| c.get("v")).filter(|v| !v.is_null()) {
            Some(Value::Bool(true)) => Ok(()),
            Some(actual) => Err(json!({
                "message": "wrong value", "expectedValue": true, "actualValue": actual
            })),
            None => Err(json!({"message": "value does not exist", "expectedValue": true})),
        }
    })
}

/// Whether `user` proved to own their email.
pub(crate) async fn is_verified(engine: &SessionEngine, user: &User) -> Result<bool, SessionError> {
    match engine.account_store() {
        Some(a) => Ok(a.is_email_verified(&user.id, &user.email).await?),
        None => Ok(false),
    }
}

/// The claims a new session of `user` starts with (`st-ev` unless verification is off).
pub(crate) async fn claims_for_new_session(
    engine: &SessionEngine,
    user: &User,
) -> Result<Map<String, Value>, SessionError> {
    let mut claims = Map::new();
    if engine.config().accounts.email_verification != EmailVerification::Off {
        let verified = is_verified(engine, user).await?;
        claims.insert(EMAIL_VERIFICATION_CLAIM.to_owned(), st_ev(verified));
    }
    Ok(claims)
}

/// Set the session's claim to `verified` (new access token on the response) unless it already says so.
pub(crate) async fn set_claim(session: &mut Session, verified: bool) -> Result<(), SessionError> {
    let current = session
        .access_token_payload()
        .get(EMAIL_VERIFICATION_CLAIM)
        .and_then(|c| c.get("v"))
        .and_then(Value::as_bool);
    // A `false` is always rewritten: its fresh `t` tells the frontend when it was last checked.
    if current == Some(true) && verified {
        return Ok(());
    }
    let mut update = Map::new();
    update.insert(EMAIL_VERIFICATION_CLAIM.to_owned(), st_ev(verified));
    session.merge_into_access_token_payload(&update).await
}

/// `Required` mode on an extracted session: passes when `st-ev.v` is true; a stale `false` (or missing claim)
/// is looked up again first, and a now-verified user gets a new access token on the response.
pub(crate) async fn require_verified(session: &mut Session) -> Result<(), SessionError> {
    if session.engine().config().accounts.email_verification != EmailVerification::Required {
        return Ok(());
    }
    let check = email_verified_check();
    let Some(error) = check.validate(session.access_token_payload()) else {
        return Ok(());
    };
    let fetched_at = session
        .access_token_payload()
        .get(EMAIL_VERIFICATION_CLAIM)
        .and_then(|c| c.get("t"))
        .and_then(Value::as_i64);
    if fetched_at.is_none_or(|t| t < now_ms() - REFETCH_FALSE_AFTER_MS) {
        let engine = session.engine().clone();
        let user = engine.users().user_by_id(session.user_id()).await?;
        let verified = match &user {
            Some(u) => is_verified(&engine, u).await?,
            None => false,
        };
        set_claim(session, verified).await?;
        if verified {
            return Ok(());
        }
    }
    Err(SessionError::InvalidClaims(vec![error]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(v: Value) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(EMAIL_VERIFICATION_CLAIM.to_owned(), v);
        m
    }

    #[test]
    fn reasons_match_the_protocol() {
        let c = email_verified_check();
        assert!(c.validate(&payload(st_ev(true))).is_none());
        let e = c.validate(&payload(st_ev(false))).map(|e| e.reason);
        assert_eq!(
            e,
            Some(json!({"message": "wrong value", "expectedValue": true, "actualValue": false}))
        );
        let e = c.validate(&Map::new()).map(|e| (e.id, e.reason));
        assert_eq!(
            e,
            Some((
                "st-ev".to_owned(),
                json!({"message": "value does not exist", "expectedValue": true})
            ))
        );
    }
}
