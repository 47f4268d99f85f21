//! Claim checks: conditions a route puts on the access-token payload.
//!
//! A failed check answers **403** `{"message":"invalid claim","claimValidationErrors":[{"id","reason"}]}`, the
//! protocol's INVALID_CLAIMS answer: the browser library fires `API_INVALID_CLAIM` with the errors and leaves the
//! session alone (a 403 is not a 401, so nothing is refreshed).
//!
//! ```no_run
//! use axum::Json;
//! use fauna_session_server::{Session, SessionRejection, claims::ClaimCheck};
//!
//! async fn admin_only(session: Session) -> Result<Json<&'static str>, SessionRejection> {
//!     session.check_claims(&[ClaimCheck::equals("role", "admin")])?;
//!     Ok(Json("welcome"))
//! }
//! ```

use std::fmt;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::error::ClaimValidationError;

type CustomCheck = dyn Fn(Option<&Value>) -> Result<(), Value> + Send + Sync;

/// One condition on one claim of the access-token payload.
#[derive(Clone)]
pub struct ClaimCheck {
    id: String,
    rule: Rule,
}

#[derive(Clone)]
enum Rule {
    Present,
    Equals(Value),
    Includes(Value),
    Custom(Arc<CustomCheck>),
}

impl fmt::Debug for ClaimCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = match &self.rule {
            Rule::Present => "present".to_owned(),
            Rule::Equals(v) => format!("equals {v}"),
            Rule::Includes(v) => format!("includes {v}"),
            Rule::Custom(_) => "custom".to_owned(),
        };
        f.debug_struct("ClaimCheck")
            .field("id", &self.id)
            .field("rule", &rule)
            .finish()
    }
}

impl ClaimCheck {
    /// The claim must exist (any value but `null`).
    pub fn present(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            rule: Rule::Present,
        }
    }

    /// The claim must equal `expected`.
    pub fn equals(id: impl Into<String>, expected: impl Into<Value>) -> Self {
        Self {
            id: id.into(),
            rule: Rule::Equals(expected.into()),
        }
    }

    /// The claim must be an array containing `item`.
    pub fn includes(id: impl Into<String>, item: impl Into<Value>) -> Self {
        Self {
            id: id.into(),
            rule: Rule::Includes(item.into()),
        }
    }

    /// A check of your own: gets the claim's value (`None` when absent) and returns `Err(reason)` to fail;
    /// `reason` is sent to the client as is.
    pub fn custom(
        id: impl Into<String>,
        check: impl Fn(Option<&Value>) -> Result<(), Value> + Send + Sync + 'static,
    ) -> Self {
        Self {
            id: id.into(),
            rule: Rule::Custom(Arc::new(check)),
        }
    }

    /// The claim id this check reads.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Run the check against a payload: `None` when it holds, else the error to report.
    pub fn validate(&self, payload: &Map<String, Value>) -> Option<ClaimValidationError> {
        let actual = payload.get(&self.id).filter(|v| !v.is_null());
        let reason = match (&self.rule, actual) {
            (Rule::Custom(check), actual) => check(actual).err(),
            (Rule::Present, Some(_)) => None,
            (Rule::Present, None) => Some(json!({"message": "value does not exist"})),
            (Rule::Equals(expected), None) => Some(json!({
                "message": "value does not exist", "expectedValue": expected, "actualValue": null
            })),
            (Rule::Equals(expected), Some(actual)) => (actual != expected).then(|| {
                json!({"message": "wrong value", "expectedValue": expected, "actualValue": actual})
            }),
            (Rule::Includes(item), None) => Some(json!({
                "message": "value does not exist", "expectedToInclude": item, "actualValue": null
            })),
            (Rule::Includes(item), Some(actual)) => {
                let holds = actual.as_array().is_some_and(|a| a.contains(item));
                (!holds).then(|| {
                    json!({"message": "wrong value", "expectedToInclude": item, "actualValue": actual})
                })
            }
        };
        reason.map(|reason| ClaimValidationError {
            id: self.id.clone(),
            reason,
        })
    }
}

/// Run every check; all failures are reported together, in the order of `checks`.
pub fn validate_all(
    checks: &[ClaimCheck],
    payload: &Map<String, Value>,
) -> Result<(), Vec<ClaimValidationError>> {
    let errors: Vec<_> = checks.iter().filter_map(|c| c.validate(payload)).collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> Map<String, Value> {
        json!({"role": "editor", "teams": ["a", "b"], "gone": null})
            .as_object()
            .cloned()
            .unwrap_or_default()
    }

    #[test]
    fn equals_reports_expected_and_actual() {
        assert!(
            ClaimCheck::equals("role", "editor")
                .validate(&payload())
                .is_none()
        );
        let e = ClaimCheck::equals("role", "admin").validate(&payload());
        assert_eq!(
            e.map(|e| e.reason),
            Some(
                json!({"message": "wrong value", "expectedValue": "admin", "actualValue": "editor"})
            )
        );
    }

    #[test]
    fn missing_and_null_claims_do_not_exist() {
        for id in ["absent", "gone"] {
            let e = ClaimCheck::present(id).validate(&payload());
            assert_eq!(e.map(|e| e.id), Some(id.to_owned()));
        }
        let e = ClaimCheck::equals("gone", 1).validate(&payload());
        assert_eq!(
            e.map(|e| e.reason["message"].clone()),
            Some(json!("value does not exist"))
        );
    }

    #[test]
    fn includes_needs_an_array_holding_the_item() {
        assert!(
            ClaimCheck::includes("teams", "b")
                .validate(&payload())
                .is_none()
        );
        assert!(
            ClaimCheck::includes("teams", "c")
                .validate(&payload())
                .is_some()
        );
        assert!(
            ClaimCheck::includes("role", "editor")
                .validate(&payload())
                .is_some()
        );
    }

    #[test]
    fn all_failures_are_reported_in_order() {
        let checks = [
            ClaimCheck::present("absent"),
            ClaimCheck::equals("role", "editor"),
            ClaimCheck::custom("teams", |v| match v.and_then(Value::as_array) {
                Some(a) if a.len() > 2 => Ok(()),
                _ => Err(json!({"message": "needs three teams"})),
            }),
        ];
        let errors = validate_all(&checks, &payload()).err().unwrap_or_default();
        let ids: Vec<_> = errors.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["absent", "teams"]);
        assert_eq!(errors[1].reason, json!({"message": "needs three teams"}));
    }
}
