//! Access-token verification: cached, stateless, or (first use of a refreshed lineage) with promotion.

use std::sync::Arc;

use super::{CAS_ATTEMPTS, SessionEngine, Verified, to_object};
use crate::crypto::now_ms;
use crate::error::SessionError;
use crate::lineage::{self, Decision, Presented};
use crate::store::{ChildPromotion, LineageUpdate, SessionRow};
use crate::tokens::{self, AccessToken, ClaimsInput, JwtError, SignedClaims};
use crate::transport::IssuedAccessToken;

impl SessionEngine {
    /// Verify an access token's signature and expiry. Stateless, except the first use of a token minted by a
    /// refresh, which adopts the new refresh-token lineage in the database and returns a replacement token.
    ///
    /// Any token problem ⇒ [`SessionError::TryRefreshToken`]; a session that is gone ⇒
    /// [`SessionError::Unauthorised`].
    pub async fn verify_access_token(&self, token: &str) -> Result<Verified, SessionError> {
        if let Some(at) = self.inner.verified.get(token) {
            if self.inner.revoked.contains(&at.session_handle) {
                return Err(SessionError::unauthorised());
            }
            return Ok(Verified {
                access_token: at,
                replacement: None,
            });
        }
        let at = Arc::new(self.verify_signature(token).await?);
        if self.inner.revoked.contains(&at.session_handle) {
            return Err(SessionError::unauthorised());
        }
        let Some(parent) = at.parent_refresh_token_hash1.clone() else {
            self.inner.verified.insert(token, &at);
            return Ok(Verified {
                access_token: at,
                replacement: None,
            });
        };
        let replacement = self.adopt_lineage(&at, &parent).await?;
        Ok(Verified {
            access_token: at,
            replacement: Some(replacement),
        })
    }

    /// `token` if it was verified before (same bytes) and has not expired: a full verification result, no RSA.
    pub(crate) fn verified_before(&self, token: &str) -> Option<Arc<AccessToken>> {
        self.inner
            .verified
            .get(token)
            .filter(|at| !self.inner.revoked.contains(&at.session_handle))
    }

    /// Signature (reloading keys once when the `kid` is unknown: another instance may have rotated), expiry
    /// and the SuperTokens claims.
    async fn verify_signature(&self, token: &str) -> Result<AccessToken, SessionError> {
        let keys = &self.inner.keys;
        let claims = match tokens::verify(keys.ring(), token, now_ms() / 1000) {
            Err(JwtError::UnknownKey) if keys.reload_rate_limited().await => {
                tokens::verify(keys.ring(), token, now_ms() / 1000)
            }
            other => other,
        };
        let claims = claims.map_err(|e| {
            tracing::debug!(error = %e, "access token rejected");
            SessionError::TryRefreshToken
        })?;
        let mut at = AccessToken::from_claims(claims).map_err(|_| SessionError::TryRefreshToken)?;
        at.signed_claims = SignedClaims::of(token);
        Ok(at)
    }

    /// First use of an access token minted by a refresh: make its refresh token current (the same decision as
    /// the refresh endpoint's; a lineage that is not the session's answers "try refresh token"), and re-sign
    /// the token without `parentRefreshTokenHash1`.
    async fn adopt_lineage(
        &self,
        at: &AccessToken,
        parent_hash1: &str,
    ) -> Result<IssuedAccessToken, SessionError> {
        let presented = Presented::claimed(&at.refresh_token_hash1, Some(parent_hash1));
        // The usual case, the unused child of the current token (step 2), in one statement: the same
        // compare-and-swap `promote_child` makes for the refresh endpoint.
        if let Some(parent2) = presented.parent_hash2.as_deref() {
            let now = now_ms();
            let promoted = self
                .inner
                .sessions
                .promote_child(&ChildPromotion {
                    session_handle: &at.session_handle,
                    parent_hash2: parent2,
                    new_current: &presented.hash2,
                    expires_at: now + self.refresh_lifetime_ms(),
                    now,
                    created_after: self.created_after(now),
                })
                .await?;
            if let Some(row) = promoted {
                // Always true for a token we signed (a session's user never changes); checked all the same.
                if row.user_id != at.sub {
                    return Err(SessionError::unauthorised());
                }
                self.inner.metrics.verify_promotions.inc();
                return self.replacement(at, &row);
            }
        }
        // Anything else (current already, a sibling, gone, too old, lost a race): read the row and decide.
        for _ in 0..CAS_ATTEMPTS {
            let now = now_ms();
            let row = self.live_row(&at.session_handle).await?;
            if row.user_id != at.sub {
                return Err(SessionError::unauthorised());
            }
            let decision = lineage::decide(&presented, row.lineage());
            if decision == Decision::Unrelated {
                return Err(SessionError::TryRefreshToken);
            }
            if let Some(next) = decision.next(&presented, row.lineage()) {
                let written = self
                    .inner
                    .sessions
                    .update_lineage(&LineageUpdate::of(
                        &row,
                        &next.current,
                        next.parent.as_deref(),
                        now + self.refresh_lifetime_ms(),
                        now,
                        self.created_after(now),
                    ))
                    .await?;
                if !written {
                    continue;
                }
                self.inner.metrics.verify_promotions.inc();
            }
            return self.replacement(at, &row);
        }
        Err(SessionError::Contended("adopting a refresh token"))
    }

    /// `at` re-signed without `parentRefreshTokenHash1` (same `exp`), with the claims stored in `row`.
    fn replacement(
        &self,
        at: &AccessToken,
        row: &SessionRow,
    ) -> Result<IssuedAccessToken, SessionError> {
        self.issue_access_token(&ClaimsInput {
            user_id: &at.sub,
            exp: at.exp,
            session_handle: &at.session_handle,
            refresh_token_hash1: &at.refresh_token_hash1,
            parent_refresh_token_hash1: None,
            anti_csrf_token: at.anti_csrf_token.as_deref(),
            app_claims: &to_object(&row.access_token_payload)?,
        })
    }
}
