//! Login sessions (VLSI SOAP and vCenter), persisted so they survive a restart, with an idle
//! timeout measured by the server clock.

use crate::clock::SharedClock;
use crate::core::error::{CoreError, CoreResult};
use crate::core::sweep::{self, Batch};
use crate::store::{trees, Page, RecentDecodes, Store, StoreResult, Table};
use crate::surface::Surface;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// How stale a session's `last_access` may get before a use writes it back.
const TOUCH_GRANULARITY_MS: i64 = 1000;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    pub id: String,
    /// Which surface created it; a session is only valid there.
    pub surface: Surface,
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
    pub surface: Surface,
    pub principal: String,
    pub privileges: Vec<String>,
    pub idle_timeout_secs: i64,
    pub method: &'a str,
}

thread_local! {
    /// Sessions this worker decoded lately: most calls come with one of a few sessions.
    static RECENT: RefCell<RecentDecodes<Session>> = const { RefCell::new(RecentDecodes::new()) };
}

fn not_authenticated() -> CoreError {
    CoreError::NotAuthenticated("The session is not authenticated.".into())
}

/// Every surface's sessions, in one relation.
pub struct Sessions {
    table: Table<Session>,
    store: Store,
    clock: SharedClock,
}

impl Sessions {
    pub fn open(store: &Store, clock: &SharedClock) -> StoreResult<Self> {
        Ok(Self {
            table: store.table(trees::SESSIONS)?,
            store: store.clone(),
            clock: clock.clone(),
        })
    }

    /// Creates and durably stores a session.
    pub async fn create(&self, new: NewSession<'_>) -> CoreResult<Session> {
        let now = self.clock.now_ms();
        let session = Session {
            id: crate::core::identity::random_token(24),
            surface: new.surface,
            principal: new.principal,
            privileges: new.privileges,
            locale: None,
            created_ms: now,
            last_access_ms: now,
            idle_timeout_secs: new.idle_timeout_secs,
            method: new.method.to_string(),
        };
        self.table.put(&session.id, &session)?;
        self.store.flush().await?;
        Ok(session)
    }

    /// The live session `id` on `surface`, touched (its idle timer restarts). An expired
    /// session is removed and reported as not authenticated.
    pub fn get(&self, surface: Surface, id: &str) -> CoreResult<Session> {
        let Some(mut session) = self.table.get_recent(id, &RECENT)? else {
            return Err(not_authenticated());
        };
        if session.surface != surface {
            return Err(not_authenticated());
        }
        let now = self.clock.now_ms();
        if now >= session.expires_at_ms() {
            // Forgotten now, or by the sweeper if the store refuses the write.
            let _ = self.table.remove_if_unchanged(id, &session);
            return Err(not_authenticated());
        }
        // Idle timeouts are minutes long: a write per second per session is precise enough
        // and keeps a busy session from costing a store write on every call.
        if now - session.last_access_ms >= TOUCH_GRANULARITY_MS {
            let before = session.clone();
            session.last_access_ms = now;
            // Only if unchanged: a touch racing a logout must not bring the session back.
            match self.table.replace_if_unchanged(id, &before, &session) {
                Ok(true) => {}
                Ok(false) if self.table.get(id)?.is_none() => return Err(not_authenticated()),
                Ok(false) => {}
                // The session is valid; only its idle timer could not be restarted (a full
                // disk). That must not fail the call.
                Err(e) => {
                    tracing::warn!(error = %e, "the session's last access could not be recorded")
                }
            }
        }
        crate::core::request::note_user(&session.principal);
        Ok(session)
    }

    /// Whether session `id` exists and has not expired (no touch).
    pub fn is_live(&self, id: &str) -> bool {
        let now = self.clock.now_ms();
        self.table
            .get(id)
            .ok()
            .flatten()
            .is_some_and(|s| now < s.expires_at_ms())
    }

    /// Stores changed session attributes (e.g. locale) without touching the timer.
    pub fn update(&self, session: &Session) -> CoreResult<()> {
        self.table.put(&session.id, session)?;
        Ok(())
    }

    /// Ends a session durably; ending an unknown one is not an error.
    pub async fn end(&self, id: &str) -> CoreResult<bool> {
        let existed = self.table.remove(id)?.is_some();
        self.store.flush().await?;
        Ok(existed)
    }

    /// Removes expired sessions among at most `limit` after the key `after` (sweeper).
    pub fn sweep(&self, now: i64, after: Option<&[u8]>, limit: usize) -> CoreResult<Batch> {
        sweep::table(
            &self.table,
            after,
            limit,
            |s| now >= s.expires_at_ms(),
            |_| Ok(()),
        )
    }

    /// A page of sessions in id order after the key `after`.
    pub fn page(&self, after: Option<&[u8]>, limit: usize) -> CoreResult<Page<Session>> {
        Ok(self.table.page(after, limit)?)
    }

    pub fn count(&self) -> usize {
        self.table.len()
    }

    /// Every stored session (expired ones included), in id order.
    pub fn all(&self) -> CoreResult<Vec<Session>> {
        Ok(self.table.all()?.into_iter().map(|(_, s)| s).collect())
    }
}
