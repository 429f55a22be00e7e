//! The event log shared by every surface (e.g. `VLSI_JWT_TOKEN_GENERATED`), persisted in
//! sled under monotonic ids so it reads newest-first and survives restarts.

use crate::core::error::CoreResult;
use crate::core::Core;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Event {
    pub id: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    /// INFO, WARNING, ERROR, AUDIT_SUCCESS or AUDIT_FAIL (Horizon's severities).
    pub severity: String,
    /// Horizon module name (`Vlsi`) or the surface's product name.
    pub module: String,
    /// `vlsi`, `fusionauth` or `vcenter`.
    pub surface: String,
    pub time: String,
    pub time_ms: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    pub message: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub details: Map<String, Value>,
}

/// An event to record; id and time are assigned by the log.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub event_type: &'static str,
    pub severity: &'static str,
    pub module: &'static str,
    pub surface: &'static str,
    pub user: Option<String>,
    pub message: String,
    pub details: Map<String, Value>,
}

#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    /// Exact type match.
    pub event_type: Option<String>,
    /// Type prefix (`VLSI_JWT_`).
    pub type_prefix: Option<String>,
    pub surface: Option<String>,
    pub user: Option<String>,
    pub limit: usize,
}

pub const MAX_EVENT_PAGE: usize = 1000;

impl Core {
    pub fn record_event(&self, new: NewEvent) -> CoreResult<Event> {
        let now = self.clock.now_ms();
        let event = self.events.append(|id| Event {
            id,
            event_type: new.event_type.to_string(),
            severity: new.severity.to_string(),
            module: new.module.to_string(),
            surface: new.surface.to_string(),
            time: crate::clock::rfc3339_ms(now),
            time_ms: now,
            user: new.user,
            message: new.message,
            details: new.details,
        })?;
        tracing::info!(event_type = %event.event_type, user = ?event.user, "{}", event.message);
        Ok(event)
    }

    /// Events newest first, filtered, at most `filter.limit` (capped at 1000).
    pub fn events(&self, filter: &EventFilter) -> CoreResult<Vec<Event>> {
        let limit = filter.limit.clamp(1, MAX_EVENT_PAGE);
        Ok(self.events.scan_rev(limit, |e| {
            filter
                .event_type
                .as_ref()
                .is_none_or(|t| &e.event_type == t)
                && filter
                    .type_prefix
                    .as_ref()
                    .is_none_or(|p| e.event_type.starts_with(p.as_str()))
                && filter.surface.as_ref().is_none_or(|s| &e.surface == s)
                && filter.user.as_ref().is_none_or(|u| {
                    e.user
                        .as_deref()
                        .is_some_and(|eu| eu.eq_ignore_ascii_case(u))
                })
        })?)
    }

    pub fn event_count(&self) -> usize {
        self.events.len()
    }
}
