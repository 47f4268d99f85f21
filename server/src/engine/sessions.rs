//! Reading, updating and revoking sessions.

use serde_json::{Map, Value};

use super::{CAS_ATTEMPTS, SessionEngine, to_object, to_text};
use crate::crypto::now_ms;
use crate::error::SessionError;
use crate::hooks::RevokedSession;
use crate::security::{Client, RevokeReason, SecurityEvent};
use crate::store::{LineageUpdate, SessionRow};
use crate::tokens::{self, AccessToken, ClaimsInput};
use crate::transport::IssuedAccessToken;

/// What [`SessionEngine::session_information`] reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionInformation {
    /// Session handle.
    pub session_handle: String,
    /// User id.
    pub user_id: String,
    /// Private session data.
    pub session_data_in_database: Map<String, Value>,
    /// The app's access-token claims.
    pub custom_claims_in_access_token_payload: Map<String, Value>,
    /// Refresh-token expiry, ms.
    pub expiry: i64,
    /// Creation time, ms.
    pub time_created: i64,
}

/// Why sessions are being revoked, for their [`SecurityEvent::Revoked`] events.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Because<'a> {
    /// The reason.
    pub(crate) reason: RevokeReason,
    /// Who asked.
    pub(crate) client: &'a Client,
    /// A session that gets no event (the one signing out, which has its own).
    pub(crate) except: Option<&'a str>,
}

/// The app's own API calls: no client.
const API: Because<'static> = Because {
    reason: RevokeReason::Api,
    client: &Client {
        ip: None,
        user_agent: None,
    },
    except: None,
};

/// A session past its absolute lifetime, found by the engine: no client.
const MAX_LIFETIME: Because<'static> = Because {
    reason: RevokeReason::MaxLifetime,
    ..API
};

/// A write that touched no row means the session is gone (revoked or expired): 401 unauthorised.
fn session_found(updated: bool) -> Result<(), SessionError> {
    if updated {
        Ok(())
    } else {
        Err(SessionError::unauthorised())
    }
}

impl SessionEngine {
    /// Step 4 of a refresh: revoke the session and answer "token theft detected".
    /// (The route that called the refresh emits [`SecurityEvent::TokenTheft`]: it knows the client.)
    pub(super) async fn token_theft(&self, row: &SessionRow) -> SessionError {
        self.inner.metrics.token_theft.inc();
        if let Err(e) = self.revoke_session_because(&row.session_handle, None).await {
            return e;
        }
        SessionError::TokenTheftDetected {
            session_handle: row.session_handle.clone(),
            user_id: row.user_id.clone(),
        }
    }

    async fn after_revoke(
        &self,
        rows: Vec<SessionRow>,
        because: Option<Because<'_>>,
    ) -> Vec<String> {
        if rows.is_empty() {
            return Vec::new();
        }
        // Every access token of these sessions expires by then (a token lives at most the access-token
        // lifetime; a second of slack for the seconds-resolution `exp`).
        let until =
            now_ms() + crate::crypto::millis(self.inner.config.access_token_lifetime) + 1000;
        for r in &rows {
            self.inner.revoked.insert(&r.session_handle, until);
        }
        let handles: Vec<String> = rows.iter().map(|r| r.session_handle.clone()).collect();
        if let Err(e) = self
            .inner
            .sessions
            .record_revoked(&handles, now_ms(), until)
            .await
        {
            // The sessions are ended; only other instances' refusal of their access tokens waits for expiry.
            tracing::warn!(error = %e, "ended sessions not recorded for the other instances");
        }
        if let Some(b) = because {
            for r in rows
                .iter()
                .filter(|r| Some(r.session_handle.as_str()) != b.except)
            {
                self.emit(&SecurityEvent::Revoked {
                    user_id: r.user_id.clone(),
                    session_handle: r.session_handle.clone(),
                    reason: b.reason,
                    client: b.client.clone(),
                });
            }
        }
        let revoked: Vec<RevokedSession> = rows
            .into_iter()
            .map(|r| RevokedSession {
                session_data: to_object(&r.session_data).unwrap_or_default(),
                session_handle: r.session_handle,
                user_id: r.user_id,
            })
            .collect();
        for _ in &revoked {
            self.inner.metrics.sessions_revoked.inc();
        }
        self.inner.config.hooks.on_revoke(&revoked).await;
        revoked.into_iter().map(|r| r.session_handle).collect()
    }

    /// Revoke one session. `true` if it existed. Its access tokens are refused at once by this instance;
    /// another instance refuses them on routes verified with
    /// [`VerifyOptions::check_database`](crate::VerifyOptions::check_database), and otherwise when they expire.
    /// Emits [`SecurityEvent::Revoked`] (reason `api`).
    pub async fn revoke_session(&self, session_handle: &str) -> Result<bool, SessionError> {
        self.revoke_session_because(session_handle, Some(API)).await
    }

    /// [`revoke_session`](Self::revoke_session), with the revocation event `because` says (`None`: none).
    pub(crate) async fn revoke_session_because(
        &self,
        session_handle: &str,
        because: Option<Because<'_>>,
    ) -> Result<bool, SessionError> {
        let row = self.inner.sessions.delete_session(session_handle).await?;
        Ok(!self
            .after_revoke(row.into_iter().collect(), because)
            .await
            .is_empty())
    }

    /// Revoke all sessions of a user; returns the revoked handles. Emits [`SecurityEvent::Revoked`] (reason
    /// `api`) for each.
    pub async fn revoke_all_sessions_for_user(
        &self,
        user_id: &str,
    ) -> Result<Vec<String>, SessionError> {
        self.revoke_all_sessions_because(user_id, Some(API)).await
    }

    /// [`revoke_all_sessions_for_user`](Self::revoke_all_sessions_for_user), with the revocation events
    /// `because` says.
    pub(crate) async fn revoke_all_sessions_because(
        &self,
        user_id: &str,
        because: Option<Because<'_>>,
    ) -> Result<Vec<String>, SessionError> {
        let rows = self.inner.sessions.delete_user_sessions(user_id).await?;
        Ok(self.after_revoke(rows, because).await)
    }

    /// Handles of a user's live sessions.
    pub async fn session_handles_for_user(
        &self,
        user_id: &str,
    ) -> Result<Vec<String>, SessionError> {
        Ok(self
            .inner
            .sessions
            .user_session_handles(user_id, now_ms())
            .await?)
    }

    /// The session's row unless it is gone, expired or past its absolute lifetime (⇒ 401 unauthorised, tokens
    /// cleared). A session past its absolute lifetime is revoked by the first read that finds it so (its Fauna
    /// token deleted by the revocation hook).
    pub(crate) async fn live_row(&self, session_handle: &str) -> Result<SessionRow, SessionError> {
        let now = now_ms();
        let row = self
            .inner
            .sessions
            .session(session_handle)
            .await?
            .filter(|r| r.expires_at > now)
            .ok_or(SessionError::unauthorised())?;
        if row.created_at <= self.created_after(now) {
            self.revoke_session_because(&row.session_handle, Some(MAX_LIFETIME))
                .await?;
            return Err(SessionError::unauthorised());
        }
        Ok(row)
    }

    /// End the sessions past their absolute lifetime, in batches (the maintenance task), as their next use
    /// would: revoked with reason `max_lifetime`, Fauna tokens deleted, access tokens refused. Returns how many.
    pub(crate) async fn sweep_over_age(&self) -> Result<usize, SessionError> {
        const BATCH: u32 = 500;
        let mut swept = 0;
        if self.inner.config.session_max_lifetime.is_none() {
            return Ok(0);
        }
        loop {
            let before = self.created_after(now_ms());
            let rows = self
                .inner
                .sessions
                .delete_sessions_created_before(before, BATCH)
                .await?;
            let n = rows.len();
            swept += n;
            self.after_revoke(rows, Some(MAX_LIFETIME)).await;
            if n < BATCH as usize {
                return Ok(swept);
            }
        }
    }

    /// Session information, or `None` if the session does not exist (or expired).
    pub async fn session_information(
        &self,
        session_handle: &str,
    ) -> Result<Option<SessionInformation>, SessionError> {
        match self.live_row(session_handle).await {
            Ok(r) => Ok(Some(SessionInformation {
                session_data_in_database: to_object(&r.session_data)?,
                custom_claims_in_access_token_payload: to_object(&r.access_token_payload)?,
                session_handle: r.session_handle,
                user_id: r.user_id,
                expiry: r.expires_at,
                time_created: r.created_at,
            })),
            Err(SessionError::Unauthorised { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The private session data. Session gone ⇒ [`SessionError::Unauthorised`].
    pub async fn session_data(
        &self,
        session_handle: &str,
    ) -> Result<Map<String, Value>, SessionError> {
        Ok(to_object(
            &self.live_row(session_handle).await?.session_data,
        )?)
    }

    /// Replace the private session data. Session gone ⇒ [`SessionError::Unauthorised`].
    pub async fn update_session_data(
        &self,
        session_handle: &str,
        data: &Map<String, Value>,
    ) -> Result<(), SessionError> {
        let updated = self
            .inner
            .sessions
            .set_session_data(session_handle, &to_text(data))
            .await?;
        session_found(updated)
    }

    /// Replace the stored access-token claims (protected names dropped). Takes effect in the next token minted
    /// for the session (refresh or verify-time promotion).
    pub async fn update_access_token_payload(
        &self,
        session_handle: &str,
        payload: &Map<String, Value>,
    ) -> Result<(), SessionError> {
        let payload = tokens::strip_protected(payload);
        let updated = self
            .inner
            .sessions
            .set_access_token_payload(session_handle, &to_text(&payload))
            .await?;
        session_found(updated)
    }

    /// Merge `update` into the stored payload (`null` deletes a key, protected names are ignored) with a
    /// compare-and-swap on the row's version, re-reading on a lost race: a concurrent refresh's write (e.g. a
    /// new Fauna token) is kept, and this update is not undone by it. Returns the payload as stored.
    async fn merge_stored_payload(
        &self,
        session_handle: &str,
        update: &Map<String, Value>,
    ) -> Result<Map<String, Value>, SessionError> {
        let update = tokens::strip_protected(update);
        for _ in 0..CAS_ATTEMPTS {
            let row = self.live_row(session_handle).await?;
            let mut payload = to_object(&row.access_token_payload)?;
            for (k, v) in &update {
                if v.is_null() {
                    payload.remove(k);
                } else {
                    payload.insert(k.clone(), v.clone());
                }
            }
            let text = to_text(&payload);
            let now = now_ms();
            let written = self
                .inner
                .sessions
                .update_lineage(&LineageUpdate {
                    access_token_payload: Some(&text),
                    ..LineageUpdate::of(
                        &row,
                        &row.current_hash2,
                        row.parent_hash2.as_deref(),
                        row.expires_at,
                        now,
                        self.created_after(now),
                    )
                })
                .await?;
            if written {
                return Ok(payload);
            }
        }
        Err(SessionError::Contended("updating a session's payload"))
    }

    /// Merge `update` into the session's stored claims (`null` deletes a key, protected names are ignored; a
    /// refresh racing with it neither undoes it nor is undone), and return the verified token `at` re-signed
    /// with them, with the same `exp` and refresh hashes. An expired
    /// token gets no replacement (`None`): the change shows after the next refresh.
    pub async fn merge_into_access_token_payload(
        &self,
        at: &AccessToken,
        update: &Map<String, Value>,
    ) -> Result<(AccessToken, Option<IssuedAccessToken>), SessionError> {
        let payload = self
            .merge_stored_payload(&at.session_handle, update)
            .await?;
        if at.exp * 1000 < now_ms() {
            let mut claims = at.claims.clone();
            claims.retain(|k, _| tokens::PROTECTED_CLAIMS.contains(&k.as_str()));
            claims.extend(payload);
            return Ok((
                AccessToken {
                    claims,
                    signed_claims: None,
                    ..at.clone()
                },
                None,
            ));
        }
        let issued = self.issue_access_token(&ClaimsInput {
            user_id: &at.sub,
            exp: at.exp,
            session_handle: &at.session_handle,
            refresh_token_hash1: &at.refresh_token_hash1,
            parent_refresh_token_hash1: at.parent_refresh_token_hash1.as_deref(),
            anti_csrf_token: at.anti_csrf_token.as_deref(),
            app_claims: &payload,
        })?;
        let new_at = AccessToken::from_claims(issued.claims.clone())
            .map_err(|_| SessionError::TryRefreshToken)?;
        Ok((new_at, Some(issued)))
    }
}
