//! Login sessions (VLSI SOAP and vCenter), persisted so they survive a restart, with an idle
//! timeout measured by the server clock.

use crate::core::error::{CoreError, CoreResult};
use crate::core::Core;
use serde::{Deserialize, Serialize};

/// How stale a session's `last_access` may get before a use writes it back.
const TOUCH_GRANULARITY_MS: i64 = 1000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    pub id: String,
    /// Which surface created it (`vlsi`, `vcenter`); a session is only valid there.
    pub surface: String,
    /// `DOMAIN\user` or `user@domain`.
    pub principal: String,
    #[serde(default)]
    pub privileges: Vec<String>,
    #[serde(default)]
    pub locale: Option<String>,
    pub created_ms: i64,
    pub last_access_ms: i64,
    pub idle_timeout_secs: i64,
    /// How the session was established (`password`, `token`, ...).
    #[serde(default)]
    pub method: String,
}

impl Session {
    pub fn expires_at_ms(&self) -> i64 {
        self.last_access_ms
            .saturating_add(self.idle_timeout_secs.saturating_mul(1000))
    }
}

/// Parameters of a new session.
pub struct NewSession<'a> {
    pub surface: &'a str,
    pub principal: String,
    pub privileges: Vec<String>,
    pub idle_timeout_secs: i64,
    pub method: &'a str,
}

impl Core {
    /// Creates and durably stores a session.
    pub async fn create_session(&self, new: NewSession<'_>) -> CoreResult<Session> {
        let now = self.clock.now_ms();
        let session = Session {
            id: crate::core::random_token(24),
            surface: new.surface.to_string(),
            principal: new.principal,
            privileges: new.privileges,
            locale: None,
            created_ms: now,
            last_access_ms: now,
            idle_timeout_secs: new.idle_timeout_secs,
            method: new.method.to_string(),
        };
        self.sessions.put(&session.id, &session)?;
        self.store.flush().await?;
        Ok(session)
    }

    /// The live session `id` on `surface`, touched (its idle timer restarts). An expired
    /// session is removed and reported as not authenticated.
    pub fn session(&self, surface: &str, id: &str) -> CoreResult<Session> {
        let not_authenticated =
            || CoreError::NotAuthenticated("The session is not authenticated.".into());
        let Some(mut session) = self.sessions.get(id)? else {
            return Err(not_authenticated());
        };
        if session.surface != surface {
            return Err(not_authenticated());
        }
        let now = self.clock.now_ms();
        if now >= session.expires_at_ms() {
            self.sessions.remove(id)?;
            return Err(not_authenticated());
        }
        // Idle timeouts are minutes long: a write per second per session is precise enough
        // and keeps a busy session from costing a store write on every call.
        if now - session.last_access_ms >= TOUCH_GRANULARITY_MS {
            let before = session.clone();
            session.last_access_ms = now;
            // Only if unchanged: a touch racing a logout must not bring the session back.
            if !self.sessions.replace_if_unchanged(id, &before, &session)?
                && self.sessions.get(id)?.is_none()
            {
                return Err(not_authenticated());
            }
        }
        Ok(session)
    }

    /// Stores changed session attributes (e.g. locale) without touching the timer.
    pub fn update_session(&self, session: &Session) -> CoreResult<()> {
        self.sessions.put(&session.id, session)?;
        Ok(())
    }

    /// Ends a session durably; ending an unknown one is not an error.
    pub async fn end_session(&self, id: &str) -> CoreResult<bool> {
        let existed = self.sessions.remove(id)?.is_some();
        self.store.flush().await?;
        Ok(existed)
    }

    pub fn session_count(&self) -> usize {
        self.sessions.len()
    }
}
