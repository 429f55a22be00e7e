//! The event log shared by every surface (e.g. `VLSI_JWT_TOKEN_GENERATED`), persisted in
//! sled under monotonic ids so it reads newest-first and survives restarts. Each surface's
//! events, and separately its failures, are a log of their own with a budget of their own
//! ([`Retention`]): the oldest go first, and one client's failed logins can only push out
//! older failures.

use crate::clock::SharedClock;
use crate::core::error::CoreResult;
use crate::core::request::{current_request_id, note_user};
use crate::store::{trees, Log, RevIter, Store, StoreResult, Table};
use crate::surface::Surface;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

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

/// Event details from (name, value) pairs, taken by value: every recorded event builds
/// these, and a copy of each value would be an allocation per string for nothing.
pub fn details<const N: usize>(pairs: [(&str, Value); N]) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    /// Exact type match.
    pub event_type: Option<String>,
    /// Type prefix (`VLSI_JWT_`).
    pub type_prefix: Option<String>,
    pub surface: Option<Surface>,
    pub user: Option<String>,
    /// Only events older than this id (the previous page's last id): keyset paging, so
    /// retention removing the oldest never makes a page skip or repeat an event.
    pub before: Option<u64>,
    pub limit: usize,
}

impl EventFilter {
    fn accepts(&self, e: &Event) -> bool {
        self.event_type.as_ref().is_none_or(|t| &e.event_type == t)
            && self
                .type_prefix
                .as_ref()
                .is_none_or(|p| e.event_type.starts_with(p.as_str()))
            && self.surface.is_none_or(|s| e.surface == s)
            && self.user.as_ref().is_none_or(|u| {
                e.user
                    .as_deref()
                    .is_some_and(|eu| eu.eq_ignore_ascii_case(u))
            })
    }
}

pub const MAX_EVENT_PAGE: usize = 1000;

/// How many events are kept (see README "Limits and retention").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Retention {
    /// Events kept per surface, the newest first (failures not counted).
    pub per_surface: usize,
    /// Failures (`AUDIT_FAIL`, `ERROR`) kept per surface, in a budget of their own, so a
    /// storm of failed logins evicts older failures and nothing else.
    pub failures_per_surface: usize,
    /// Events older than this (by the server clock) go too.
    pub max_age_seconds: Option<u64>,
}

pub const DEFAULT_RETENTION: usize = 100_000;

impl Default for Retention {
    fn default() -> Self {
        Self {
            per_surface: DEFAULT_RETENTION,
            failures_per_surface: DEFAULT_RETENTION / 10,
            max_age_seconds: None,
        }
    }
}

/// Whether an event counts against the failures' budget.
fn is_failure(severity: &str) -> bool {
    severity == AUDIT_FAIL || severity == "ERROR"
}

/// One surface's events, or its failures.
struct Bucket {
    name: String,
    surface: String,
    failures: bool,
    log: Log<Event>,
}

fn bucket_name(surface: Surface, failures: bool) -> String {
    let suffix = if failures { FAILURES_SUFFIX } else { "" };
    format!("{}{}{suffix}", trees::EVENTS_PREFIX, surface.name())
}

const FAILURES_SUFFIX: &str = ".failures";

/// The event logs: one per surface and one for its failures, each trimmed to its budget
/// from the oldest end; read merged, newest first, by id.
pub struct EventLog {
    store: Store,
    buckets: RwLock<Vec<Arc<Bucket>>>,
    retention: RwLock<Retention>,
    clock: SharedClock,
}

/// Events of several logs, merged newest first (each log yields its own newest first).
struct Merged {
    heads: Vec<std::iter::Peekable<RevIter<Event>>>,
}

impl Iterator for Merged {
    type Item = StoreResult<Event>;

    fn next(&mut self) -> Option<Self::Item> {
        let mut best: Option<(usize, u64)> = None;
        for (i, head) in self.heads.iter_mut().enumerate() {
            match head.peek() {
                Some(Ok(e)) if best.is_none_or(|(_, id)| e.id > id) => best = Some((i, e.id)),
                Some(Err(_)) => return head.next(),
                _ => {}
            }
        }
        let (i, _) = best?;
        self.heads.get_mut(i).and_then(Iterator::next)
    }
}

impl EventLog {
    pub fn open(store: &Store, clock: &SharedClock) -> StoreResult<Self> {
        let log = Self {
            store: store.clone(),
            buckets: RwLock::default(),
            retention: RwLock::new(Retention::default()),
            clock: clock.clone(),
        };
        log.discover()?;
        log.carry_over_legacy()?;
        Ok(log)
    }

    /// Opens the logs the store holds that are not open yet (at start, and after a
    /// snapshot is restored).
    pub fn discover(&self) -> StoreResult<()> {
        for name in self.store.tree_names(trees::EVENTS_PREFIX)? {
            self.bucket_named(&name)?;
        }
        Ok(())
    }

    fn bucket_named(&self, name: &str) -> StoreResult<Arc<Bucket>> {
        if let Some(b) = read(&self.buckets).iter().find(|b| b.name == name) {
            return Ok(b.clone());
        }
        let mut buckets = write(&self.buckets);
        if let Some(b) = buckets.iter().find(|b| b.name == name) {
            return Ok(b.clone());
        }
        let rest = name.strip_prefix(trees::EVENTS_PREFIX).unwrap_or(name);
        let (surface, failures) = match rest.strip_suffix(FAILURES_SUFFIX) {
            Some(surface) => (surface, true),
            None => (rest, false),
        };
        let bucket = Arc::new(Bucket {
            name: name.to_string(),
            surface: surface.to_string(),
            failures,
            log: self.store.log(name)?,
        });
        buckets.push(bucket.clone());
        Ok(bucket)
    }

    fn bucket(&self, surface: Surface, failures: bool) -> StoreResult<Arc<Bucket>> {
        // Every recorded event comes here: find an open log without writing its name first.
        let open = read(&self.buckets)
            .iter()
            .find(|b| b.failures == failures && b.surface == surface.name())
            .cloned();
        match open {
            Some(bucket) => Ok(bucket),
            None => self.bucket_named(&bucket_name(surface, failures)),
        }
    }

    /// Moves the events of a data dir from before per-surface logs into them (oldest
    /// first, keeping their ids; repeatable if interrupted), then empties the old log.
    fn carry_over_legacy(&self) -> StoreResult<()> {
        let legacy: Table<Value> = self.store.table(trees::EVENTS)?;
        if legacy.is_empty() {
            return Ok(());
        }
        let mut highest: std::collections::HashMap<String, u64> = Default::default();
        let mut after: Option<Vec<u8>> = None;
        let mut moved = 0usize;
        loop {
            let page = legacy.page(after.as_deref(), 256)?;
            for (_, value) in page.records {
                let events: Vec<Event> = match value {
                    Value::Array(items) => items
                        .into_iter()
                        .filter_map(|v| serde_json::from_value(v).ok())
                        .collect(),
                    other => serde_json::from_value(other).into_iter().collect(),
                };
                for event in events {
                    let bucket = self.bucket(event.surface, is_failure(&event.severity))?;
                    let floor = match highest.get(&bucket.name) {
                        Some(h) => *h,
                        None => {
                            let h = bucket
                                .log
                                .iter_rev(None)?
                                .next()
                                .transpose()?
                                .map_or(0, |e| e.id);
                            highest.insert(bucket.name.clone(), h);
                            h
                        }
                    };
                    if event.id > floor || floor == 0 {
                        self.store.log_ids_above(event.id);
                        bucket.log.carry_over(&event)?;
                        moved += 1;
                    }
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        self.store.flush_blocking()?;
        legacy.clear()?;
        tracing::info!(events = moved, "moved the event log into per-surface logs");
        Ok(())
    }

    /// Sets how many events are kept (applied by [`EventLog::enforce_retention`]).
    pub fn set_retention(&self, retention: Retention) {
        *write(&self.retention) = retention;
    }

    pub fn retention(&self) -> Retention {
        *read(&self.retention)
    }

    pub fn record(&self, new: NewEvent) -> CoreResult<Event> {
        let now = self.clock.now_ms();
        if let Some(user) = &new.user {
            note_user(user);
        }
        let request_id = current_request_id();
        let bucket = self.bucket(new.surface, is_failure(new.severity))?;
        let event = bucket.log.append(|id| Event {
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

    /// Events of `surfaces` (all without them), newest first, below the id `before`.
    fn merged(&self, surfaces: Option<&[Surface]>, before: Option<u64>) -> StoreResult<Merged> {
        let buckets: Vec<Arc<Bucket>> = read(&self.buckets).clone();
        let mut heads = Vec::new();
        for b in buckets {
            if surfaces.is_none_or(|ss| ss.iter().any(|s| s.name() == b.surface)) {
                heads.push(b.log.iter_rev(before)?.peekable());
            }
        }
        Ok(Merged { heads })
    }

    /// Events newest first, filtered, at most `filter.limit` (capped at 1000).
    pub fn list(&self, filter: &EventFilter) -> CoreResult<Vec<Event>> {
        let limit = filter.limit.clamp(1, MAX_EVENT_PAGE);
        let mut out = Vec::new();
        for event in self.merged(
            filter.surface.as_ref().map(std::slice::from_ref),
            filter.before,
        )? {
            let event = event?;
            if filter.accepts(&event) {
                out.push(event);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Up to `limit` events newest first that `keep` accepts.
    pub fn scan(&self, limit: usize, keep: impl FnMut(&Event) -> bool) -> CoreResult<Vec<Event>> {
        self.scan_surfaces(None, limit, keep)
    }

    /// Up to `limit` events of `surfaces` (all without them) newest first that `keep` accepts.
    pub fn scan_surfaces(
        &self,
        surfaces: Option<&[Surface]>,
        limit: usize,
        mut keep: impl FnMut(&Event) -> bool,
    ) -> CoreResult<Vec<Event>> {
        let mut out = Vec::new();
        if limit == 0 {
            return Ok(out);
        }
        for event in self.merged(surfaces, None)? {
            let event = event?;
            if keep(&event) {
                out.push(event);
                if out.len() >= limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    pub fn count(&self) -> usize {
        read(&self.buckets).iter().map(|b| b.log.len()).sum()
    }

    /// Events held per log (`vlsi`, `vlsi.failures`, ...).
    pub fn counts(&self) -> BTreeMap<String, usize> {
        read(&self.buckets)
            .iter()
            .map(|b| {
                let name = b.name.strip_prefix(trees::EVENTS_PREFIX).unwrap_or(&b.name);
                (name.to_string(), b.log.len())
            })
            .collect()
    }

    /// Trims every log to its budget (and age); returns how many events went.
    pub fn enforce_retention(&self) -> CoreResult<usize> {
        let retention = self.retention();
        let cutoff = retention.max_age_seconds.map(|age| {
            self.clock
                .now_ms()
                .saturating_sub(i64::try_from(age.saturating_mul(1000)).unwrap_or(i64::MAX))
        });
        let too_old = move |e: &Event| cutoff.is_some_and(|c| e.time_ms < c);
        let buckets: Vec<Arc<Bucket>> = read(&self.buckets).clone();
        let mut removed = 0;
        for b in buckets {
            let keep = if b.failures {
                retention.failures_per_surface
            } else {
                retention.per_surface
            };
            let expired: Option<&dyn Fn(&Event) -> bool> = if cutoff.is_some() {
                Some(&too_old)
            } else {
                None
            };
            removed += b.log.trim(keep, expired)?;
        }
        Ok(removed)
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
