//! The refresh endpoint's work, as the steps of docs/design.md ("Refresh tokens: rotation and theft
//! detection").

use serde_json::{Map, Value};

use super::mint::Mint;
use super::{CAS_ATTEMPTS, NewTokens, SessionEngine, to_object, to_text};
use crate::crypto::now_ms;
use crate::error::SessionError;
use crate::hooks::SessionMint;
use crate::lineage::{self, Decision, Presented, RefreshToken};
use crate::store::{ChildPromotion, LineageUpdate, SessionRow};
use crate::tokens;
use crate::transport::TokenTransfer;

/// A refresh token whose MAC checked out.
struct PresentedToken<'a> {
    token: &'a str,
    parsed: RefreshToken,
    handle: String,
    hashes: Presented,
}

/// Keys a hook set (`Some`) or removed (`None`) in a JSON object.
type Delta = Vec<(String, Option<Value>)>;

/// What the `on_refresh` hook changed in the session's payload and data, kept as changes so that they can be
/// applied again to a row re-read after a lost race (an app's update made meanwhile is kept, not undone).
struct HookResult {
    payload: Delta,
    data: Delta,
    /// The hook ran (and awaited, e.g. Fauna) between reading the row and writing it.
    ran: bool,
}

impl HookResult {
    fn changed(&self) -> bool {
        !self.payload.is_empty() || !self.data.is_empty()
    }
}

/// The changes that turn `before` into `after`.
fn delta(before: &Map<String, Value>, after: &Map<String, Value>) -> Delta {
    let set = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), Some(v.clone())));
    let removed = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .map(|k| (k.clone(), None));
    set.chain(removed).collect()
}

/// `base` with `delta` applied.
fn apply(base: Map<String, Value>, delta: &Delta) -> Map<String, Value> {
    let mut out = base;
    for (k, v) in delta {
        match v {
            Some(v) => out.insert(k.clone(), v.clone()),
            None => out.remove(k),
        };
    }
    out
}

/// The payload and data a refresh writes and mints from: the row as read, with the hook's changes.
struct Merged {
    payload: Map<String, Value>,
    data: Map<String, Value>,
}

impl SessionEngine {
    /// Refresh a session with a presented refresh token. Answers in `transfer`.
    ///
    /// The steps of docs/design.md: the current token ⇒ its child (no write); an unused child of the current
    /// token ⇒ promote; a sibling ⇒ switch; anything else ⇒ theft (session revoked). A failure before the write
    /// leaves the token usable.
    pub async fn refresh_session(
        &self,
        token: &str,
        transfer: TokenTransfer,
    ) -> Result<NewTokens, SessionError> {
        let presented = self.check_mac(token)?;
        if let Some(tokens) = self.promote_in_one_statement(&presented, transfer).await? {
            return Ok(tokens);
        }
        let mut hook: Option<HookResult> = None;
        for _ in 0..CAS_ATTEMPTS {
            let row = self.live_row(&presented.handle).await?;
            let decision = lineage::decide(&presented.hashes, row.lineage());
            if decision == Decision::Unrelated {
                return Err(self.token_theft(&row).await); // step 4
            }
            // The hook runs once per request; its changes are applied again to the row re-read after a lost
            // compare-and-swap, so an update written meanwhile (e.g. the app removing a claim) is kept.
            let result = match hook.take() {
                Some(result) => result,
                None => self.run_refresh_hook(&row).await?,
            };
            let merged = Merged {
                payload: tokens::strip_protected(&apply(
                    to_object(&row.access_token_payload)?,
                    &result.payload,
                )),
                data: apply(to_object(&row.session_data)?, &result.data),
            };
            let Some(expires_at) = self
                .write_lineage(&row, &decision, &presented, &result, &merged)
                .await?
            else {
                hook = Some(result);
                continue; // lost a race: read the row again
            };
            return self.mint_child(&presented, &row, &merged.payload, expires_at, transfer);
        }
        Err(SessionError::Contended("refreshing a session"))
    }

    /// The token's MAC (constant time); a token not made by us ⇒ 401 unauthorised.
    fn check_mac<'a>(&self, token: &'a str) -> Result<PresentedToken<'a>, SessionError> {
        let parsed = RefreshToken::parse(&self.inner.refresh_key, token).map_err(|e| {
            tracing::debug!(error = %e, "refresh token rejected");
            SessionError::unauthorised()
        })?;
        Ok(PresentedToken {
            token,
            handle: parsed.session_handle(),
            hashes: Presented::token(token, &parsed),
            parsed,
        })
    }

    /// Step 2 in one round trip, when no refresh hook needs the row first: an unused child of the current
    /// token of a session within its absolute lifetime is promoted by a single statement. `None` when that
    /// does not apply (the general path decides).
    async fn promote_in_one_statement(
        &self,
        presented: &PresentedToken<'_>,
        transfer: TokenTransfer,
    ) -> Result<Option<NewTokens>, SessionError> {
        let Some(parent2) = presented.hashes.parent_hash2.as_deref() else {
            return Ok(None);
        };
        if self.inner.config.hooks.runs_on_refresh() {
            return Ok(None);
        }
        let now = now_ms();
        let expires_at = now + self.refresh_lifetime_ms();
        let promoted = self
            .inner
            .sessions
            .promote_child(&ChildPromotion {
                session_handle: &presented.handle,
                parent_hash2: parent2,
                new_current: &presented.hashes.hash2,
                expires_at,
                now,
                created_after: self.created_after(now),
            })
            .await?;
        let Some(row) = promoted else {
            return Ok(None);
        };
        let payload = to_object(&row.access_token_payload)?;
        self.mint_child(presented, &row, &payload, expires_at, transfer)
            .map(Some)
    }

    /// The `on_refresh` hook on the session's payload and data (protected claims dropped), as changes.
    async fn run_refresh_hook(&self, row: &SessionRow) -> Result<HookResult, SessionError> {
        let before_payload = to_object(&row.access_token_payload)?;
        let before_data = to_object(&row.session_data)?;
        let (mut payload, mut data) = (before_payload.clone(), before_data.clone());
        self.inner
            .config
            .hooks
            .on_refresh(&mut SessionMint {
                user_id: &row.user_id,
                session_handle: &row.session_handle,
                access_token_lifetime: self.inner.config.access_token_lifetime,
                access_token_payload: &mut payload,
                session_data: &mut data,
            })
            .await?;
        let payload = tokens::strip_protected(&payload);
        Ok(HookResult {
            payload: delta(&before_payload, &payload),
            data: delta(&before_data, &data),
            ran: self.inner.config.hooks.runs_on_refresh(),
        })
    }

    /// Steps 2–3 (and step 1 when the hook ran): one compare-and-swap on the row's current hash and version.
    /// `Some(refresh expiry)` when the lineage is as decided, `None` when the row changed meanwhile (another
    /// refresh, or an app's payload or data update).
    async fn write_lineage(
        &self,
        row: &SessionRow,
        decision: &Decision,
        presented: &PresentedToken<'_>,
        hook: &HookResult,
        merged: &Merged,
    ) -> Result<Option<i64>, SessionError> {
        let now = now_ms();
        let (current, parent, expires_at) = match decision.next(&presented.hashes, row.lineage()) {
            Some(next) => (next.current, next.parent, now + self.refresh_lifetime_ms()),
            // The hook awaited after the read: write (and so check the version) even if it changed nothing,
            // so the token is not minted from a payload replaced meanwhile.
            None if hook.ran || hook.changed() => (
                row.current_hash2.clone(),
                row.parent_hash2.clone(),
                row.expires_at,
            ),
            None => return Ok(Some(row.expires_at)), // step 1: nothing to write
        };
        let (payload, data) = (to_text(&merged.payload), to_text(&merged.data));
        let changed = hook.changed();
        let written = self
            .inner
            .sessions
            .update_lineage(&LineageUpdate {
                access_token_payload: changed.then_some(payload.as_str()),
                session_data: changed.then_some(data.as_str()),
                ..LineageUpdate::of(
                    row,
                    &current,
                    parent.as_deref(),
                    expires_at,
                    now,
                    self.created_after(now),
                )
            })
            .await?;
        Ok(written.then_some(expires_at))
    }

    /// Step 1: mint the child of the presented token and its access token (for the session `row`).
    fn mint_child(
        &self,
        presented: &PresentedToken<'_>,
        row: &SessionRow,
        payload: &Map<String, Value>,
        expires_at: i64,
        transfer: TokenTransfer,
    ) -> Result<NewTokens, SessionError> {
        let parent = lineage::hash1_raw(presented.token);
        let child = RefreshToken::new(presented.parsed.handle, Some(parent))
            .encode(&self.inner.refresh_key);
        let tokens = self.mint_tokens(Mint {
            refresh_token: child,
            refresh_expires_at: expires_at,
            parent_hash1: Some(lineage::hash1(presented.token)),
            session_handle: &presented.handle,
            session_created_at: row.created_at,
            user_id: &row.user_id,
            payload,
            transfer,
        })?;
        self.inner.metrics.refresh_success.inc();
        Ok(tokens)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn a_hooks_changes_apply_to_a_row_updated_meanwhile() {
        let read = obj(json!({"role": "admin", "faunadbToken": "old", "n": 1}));
        let hooked = obj(json!({"role": "admin", "faunadbToken": "new"}));
        let d = delta(&read, &hooked);
        // Meanwhile the app removed `role` and set `team`.
        let now = obj(json!({"faunadbToken": "old", "n": 1, "team": "ops"}));
        assert_eq!(
            apply(now, &d),
            obj(json!({"faunadbToken": "new", "team": "ops"}))
        );
        assert!(delta(&read, &read).is_empty());
    }
}
