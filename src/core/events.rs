//! The event log shared by every surface (e.g. `VLSI_JWT_TOKEN_GENERATED`), persisted in
//! sled under monotonic ids so it reads newest-first and survives restarts.

use crate::clock::SharedClock;
use crate::core::error::CoreResult;
use crate::store::{trees, Log, Store, StoreResult};
use crate::surface::Surface;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub id: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    /// INFO, WARNING, ERROR, AUDIT_SUCCESS or AUDIT_FAIL (Horizon's severities).
    pub severity: String,
    /// Horizon module name (`Vlsi`) or the surface's product name.
    pub module: String,
    pub surface: Surface,
    pub time: String,
    pub time_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub details: Map<String, Value>,
    /// The request that caused it, as the journal names it (`RUN-ID`, see [`RequestContext`]),
    /// when it was recorded while a journaled request was being served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// What the request being served has done so far, for the journal. The control layer opens
/// one around each request it journals ([`within_request`]); events recorded inside carry
/// its id, and the first user the core authenticates (a session's principal) or names in an
/// event is remembered. Outside a request (or with the journal off) nothing is kept and
/// nothing is paid but a failed task-local lookup.
#[derive(Debug)]
pub struct RequestContext {
    /// The journal's run and the request's entry id: the request id is `{run:08x}-{id}`,
    /// written out only when an event needs it.
    run: u32,
    id: u64,
    user: RefCell<Option<String>>,
}

/// The id events carry for journal entry `id` of run `run`.
pub fn request_id(run: u32, id: u64) -> String {
    format!("{run:08x}-{id}")
}

impl RequestContext {
    pub fn new(run: u32, id: u64) -> Rc<Self> {
        Rc::new(Self {
            run,
            id,
            user: RefCell::new(None),
        })
    }

    /// The user the request acted as, if the core learnt one.
    pub fn user(&self) -> Option<String> {
        self.user.borrow().clone()
    }
}

tokio::task_local! {
    static REQUEST: Rc<RequestContext>;
}

/// Runs `f` (a request's handler) with `context` as the current request.
pub async fn within_request<F: Future>(context: Rc<RequestContext>, f: F) -> F::Output {
    REQUEST.scope(context, f).await
}

/// Remembers `user` as who the current request acts as, unless one is known already.
pub fn note_user(user: &str) {
    let _ = REQUEST.try_with(|c| {
        if let Ok(mut known) = c.user.try_borrow_mut() {
            if known.is_none() {
                *known = Some(user.to_string());
            }
        }
    });
}

fn current_request_id() -> Option<String> {
    REQUEST.try_with(|c| request_id(c.run, c.id)).ok()
}

/// An event to record; id and time are assigned by the log.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub severity: &'static str,
    pub module: &'static str,
    pub surface: Surface,
    pub user: Option<String>,
    pub message: String,
    pub details: Map<String, Value>,
}

pub const AUDIT_SUCCESS: &str = "AUDIT_SUCCESS";
pub const AUDIT_FAIL: &str = "AUDIT_FAIL";

impl NewEvent {
    /// An audit event (`AUDIT_SUCCESS` or `AUDIT_FAIL`) with no message or details yet;
    /// callers fill those with struct update syntax.
    pub fn audit(
        event_type: &'static str,
        success: bool,
        module: &'static str,
        surface: Surface,
        user: Option<String>,
    ) -> Self {
        Self {
            event_type,
            severity: if success { AUDIT_SUCCESS } else { AUDIT_FAIL },
            module,
            surface,
            user,
            message: String::new(),
            details: Map::new(),
        }
    }
}

/// Event details from (name, value) pairs.
pub fn details(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    /// Exact type match.
    pub event_type: Option<String>,
    /// Type prefix (`VLSI_JWT_`).
    pub type_prefix: Option<String>,
    pub surface: Option<Surface>,
    pub user: Option<String>,
    pub limit: usize,
}

pub const MAX_EVENT_PAGE: usize = 1000;

pub struct EventLog {
    log: Log<Event>,
    clock: SharedClock,
}

impl EventLog {
    pub fn open(store: &Store, clock: &SharedClock) -> StoreResult<Self> {
        Ok(Self {
            log: store.log(trees::EVENTS)?,
            clock: clock.clone(),
        })
    }

    pub fn record(&self, new: NewEvent) -> CoreResult<Event> {
        let now = self.clock.now_ms();
        if let Some(user) = &new.user {
            note_user(user);
        }
        let request_id = current_request_id();
        let event = self.log.append(|id| Event {
            id,
            event_type: new.event_type.to_string(),
            severity: new.severity.to_string(),
            module: new.module.to_string(),
            surface: new.surface,
            time: crate::clock::rfc3339_ms(now),
            time_ms: now,
            user: new.user,
            message: new.message,
            details: new.details,
            request_id,
        })?;
        tracing::info!(event_type = %event.event_type, user = ?event.user, "{}", event.message);
        Ok(event)
    }

    /// Records an event where a failure to record must not fail the caller's operation
    /// (the outcome is already decided): the failure is logged.
    pub fn record_or_log(&self, new: NewEvent) {
        let event_type = new.event_type;
        if let Err(e) = self.record(new) {
            tracing::error!(error = %e, "could not record {event_type}");
        }
    }

    /// Events newest first, filtered, at most `filter.limit` (capped at 1000).
    pub fn list(&self, filter: &EventFilter) -> CoreResult<Vec<Event>> {
        let limit = filter.limit.clamp(1, MAX_EVENT_PAGE);
        self.scan(limit, |e| {
            filter
                .event_type
                .as_ref()
                .is_none_or(|t| &e.event_type == t)
                && filter
                    .type_prefix
                    .as_ref()
                    .is_none_or(|p| e.event_type.starts_with(p.as_str()))
                && filter.surface.is_none_or(|s| e.surface == s)
                && filter.user.as_ref().is_none_or(|u| {
                    e.user
                        .as_deref()
                        .is_some_and(|eu| eu.eq_ignore_ascii_case(u))
                })
        })
    }

    /// Up to `limit` events newest first that `keep` accepts.
    pub fn scan(&self, limit: usize, keep: impl FnMut(&Event) -> bool) -> CoreResult<Vec<Event>> {
        Ok(self.log.scan_rev(limit, keep)?)
    }

    pub fn count(&self) -> usize {
        self.log.len()
    }
}
