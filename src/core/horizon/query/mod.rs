//! Horizon `QueryService` rules over the event log: the `AuditEventSummaryView` entity
//! (and the deprecated `EventSummaryView`, whose members are `data.*`), their filterable
//! members, sorting, "virtual list" paging and server-side cursors
//! (`QueryService_Create` / `_GetNext` / `_Delete`), kept in memory per session.
//!
//! Member names, filter kinds per member, the default sort by `time` and the 1000-item
//! page cap follow the API reference page of `AuditEventSummaryView` (2406). vlsim
//! extensions (documented in the README): `QueryFilterNotEquals` wherever
//! `QueryFilterEquals` is allowed, and `userDisplayName` is filterable like `message`.

mod cursor;
mod entity;
mod filter;
mod rest;

use super::Horizon;
use crate::core::error::{CoreError, CoreResult};
use crate::core::events::Event;
use crate::core::sessions::Session;
use crate::surface::Surface;
use cursor::Cursor;
pub use cursor::QueryCursors;
use entity::MAX_SCAN;
pub use entity::{
    QueryEntity, AUDIT_EVENT_SUMMARY_VIEW, EVENT_SUMMARY_VIEW, MAX_CURSORS_PER_SESSION,
    MAX_PAGE_SIZE,
};
use filter::{compare, matches, validate};
pub use filter::{FilterValue, QueryFilter};
pub use rest::{AuditEventsPage, AuditEventsQuery, MAX_REST_PAGE_SIZE};

/// `QueryDefinition`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryDefinition {
    pub query_entity_type: String,
    pub filter: Option<QueryFilter>,
    pub sort_by: Option<String>,
    pub sort_descending: bool,
    pub starting_offset: Option<i64>,
    pub limit: Option<i64>,
    pub max_page_size: Option<i64>,
}

/// One `AuditEventSummaryView` (the properties vlsim can fill).
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEventSummary {
    pub event_id: i32,
    pub event_type: String,
    pub severity: String,
    pub module: String,
    pub time: String,
    pub time_ms: i64,
    pub machine_dns_name: Option<String>,
    /// `UserOrGroupId.id`; vlsim uses the principal (`VLSIM\auditor`).
    pub user_id: Option<String>,
    pub message: String,
    pub user_display_name: Option<String>,
}

/// `QueryResults`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryPage {
    pub entity: QueryEntity,
    /// Set for cursors (`Create`/`GetNext`), unset for `Query`.
    pub id: Option<String>,
    pub starting_offset: i64,
    pub remaining_count: Option<i64>,
    pub results: Vec<AuditEventSummary>,
}

/// A member's value on one summary.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Field<'a> {
    Absent,
    Int(i64),
    Text(&'a str),
    Time(i64),
}

impl AuditEventSummary {
    fn from_event(event: &Event, machine_dns_name: &str) -> Self {
        Self {
            event_id: i32::try_from(event.id).unwrap_or(i32::MAX),
            event_type: event.event_type.clone(),
            severity: event.severity.clone(),
            module: event.module.clone(),
            time: event.time.clone(),
            time_ms: event.time_ms,
            machine_dns_name: Some(machine_dns_name.to_string()),
            user_id: event.user.clone(),
            message: event.message.clone(),
            user_display_name: event.user.clone(),
        }
    }

    pub(super) fn field(&self, name: &str) -> Field<'_> {
        fn opt(v: &Option<String>) -> Field<'_> {
            v.as_deref().map_or(Field::Absent, Field::Text)
        }
        match name {
            "eventId" => Field::Int(i64::from(self.event_id)),
            "eventType" => Field::Text(&self.event_type),
            "severity" => Field::Text(&self.severity),
            "module" => Field::Text(&self.module),
            "time" => Field::Time(self.time_ms),
            "message" => Field::Text(&self.message),
            "machineDnsName" => opt(&self.machine_dns_name),
            "userId" => opt(&self.user_id),
            "userDisplayName" => opt(&self.user_display_name),
            _ => Field::Absent,
        }
    }
}

fn non_negative(field: &str, value: Option<i64>) -> CoreResult<Option<usize>> {
    match value {
        None => Ok(None),
        Some(v) => usize::try_from(v).map(Some).map_err(|_| {
            CoreError::invalid_argument(
                format!("definition.{field}"),
                format!("{field} must not be negative, got {v}."),
            )
        }),
    }
}

/// What a definition selects: every matching summary from `startingOffset` on (at most
/// `limit`), and the page size to serve them in.
struct Selection {
    entity: QueryEntity,
    starting_offset: usize,
    items: Vec<AuditEventSummary>,
    page_size: usize,
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn query_not_found(id: &str) -> CoreError {
    CoreError::NotFound {
        entity: "QueryId",
        id: id.to_string(),
        message: format!("No query with id [{id}] exists for this session."),
    }
}

impl Horizon<'_> {
    /// Checks `definition` and selects its results (newest events read from the log).
    fn select(&self, definition: &QueryDefinition) -> CoreResult<Selection> {
        let entity = QueryEntity::from_name(&definition.query_entity_type).ok_or_else(|| {
            CoreError::invalid_argument(
                "definition.queryEntityType",
                format!(
                    "[{}] is not a queryable entity type on this server; supported: {AUDIT_EVENT_SUMMARY_VIEW}, {EVENT_SUMMARY_VIEW}.",
                    definition.query_entity_type
                ),
            )
        })?;
        let filter = definition
            .filter
            .as_ref()
            .map(|f| validate(f, "definition.filter", entity))
            .transpose()?;
        let sort_by = match definition.sort_by.as_deref() {
            None => "time",
            Some(name) => entity.member(name).map(|m| m.field).ok_or_else(|| {
                CoreError::invalid_argument(
                    "definition.sortBy",
                    format!(
                        "Cannot sort by [{name}]: use one of the queryable members {}.",
                        entity.member_names()
                    ),
                )
            })?,
        };
        let starting_offset = non_negative("startingOffset", definition.starting_offset)?;
        let limit = non_negative("limit", definition.limit)?;
        let page_size = match non_negative("maxPageSize", definition.max_page_size)? {
            Some(n) if n > MAX_PAGE_SIZE => {
                return Err(CoreError::invalid_argument(
                    "definition.maxPageSize",
                    format!("maxPageSize cannot exceed {MAX_PAGE_SIZE}, got {n}."),
                ))
            }
            Some(0) | None => MAX_PAGE_SIZE,
            Some(n) => n,
        };
        let mut matched = self.matching(filter.as_ref())?;
        matched.sort_by(|a, b| {
            let order = compare(&a.field(sort_by), &b.field(sort_by))
                .then_with(|| a.event_id.cmp(&b.event_id));
            if definition.sort_descending {
                order.reverse()
            } else {
                order
            }
        });
        let starting_offset = starting_offset.unwrap_or(0);
        let items: Vec<AuditEventSummary> = matched
            .into_iter()
            .skip(starting_offset)
            .take(limit.unwrap_or(usize::MAX))
            .collect();
        Ok(Selection {
            entity,
            starting_offset,
            items,
            page_size,
        })
    }

    /// The Connection Server's events (those of its SOAP and REST surfaces) that pass
    /// `filter` (already validated), newest first.
    fn matching(&self, filter: Option<&QueryFilter>) -> CoreResult<Vec<AuditEventSummary>> {
        let dns = self.settings().connection_server_name.clone();
        // The Connection Server's own logs only: its SOAP and REST surfaces.
        let events = self.svc.events.scan_surfaces(
            Some(&[Surface::Vlsi, Surface::HorizonRest]),
            MAX_SCAN,
            |_| true,
        )?;
        Ok(events
            .iter()
            .map(|e| AuditEventSummary::from_event(e, &dns))
            .filter(|s| filter.is_none_or(|f| matches(s, f)))
            .collect())
    }

    /// `QueryService_Query`: one page, no server-side state.
    pub fn query(&self, definition: &QueryDefinition) -> CoreResult<QueryPage> {
        let selection = self.select(definition)?;
        let served = selection.items.len().min(selection.page_size);
        let remaining = selection.items.len().saturating_sub(served);
        let mut items = selection.items;
        items.truncate(served);
        Ok(QueryPage {
            entity: selection.entity,
            id: None,
            starting_offset: to_i64(selection.starting_offset),
            remaining_count: Some(to_i64(remaining)),
            results: items,
        })
    }

    /// `QueryService_GetCount`: how many objects match (paging is ignored).
    pub fn count(&self, definition: &QueryDefinition) -> CoreResult<i64> {
        let unpaged = QueryDefinition {
            starting_offset: None,
            limit: None,
            max_page_size: None,
            sort_by: None,
            ..definition.clone()
        };
        Ok(to_i64(self.select(&unpaged)?.items.len()))
    }

    /// `QueryService_Create`: a cursor owned by `session`, and its first page.
    pub fn create_query(
        &self,
        session: &Session,
        definition: &QueryDefinition,
    ) -> CoreResult<QueryPage> {
        let selection = self.select(definition)?;
        let mut cursors = self.state.cursors.lock();
        // Cursors of sessions that ended go with them.
        cursors.retain(|_, c| self.svc.sessions.is_live(&c.session_id));
        let open = cursors
            .values()
            .filter(|c| c.session_id == session.id)
            .count();
        if open >= MAX_CURSORS_PER_SESSION {
            return Err(CoreError::Conflict(format!(
                "The per session query limit ({MAX_CURSORS_PER_SESSION}) has been reached; delete queries with QueryService_Delete or QueryService_DeleteAll."
            )));
        }
        let id = format!("query-{}", crate::core::identity::random_token(12));
        let mut cursor = Cursor {
            entity: selection.entity,
            session_id: session.id.clone(),
            starting_offset: selection.starting_offset,
            items: selection.items,
            position: 0,
            page_size: selection.page_size,
        };
        let page = cursor.next_page(&id);
        cursors.insert(id, cursor);
        Ok(page)
    }

    /// `QueryService_GetNext`: the cursor's next page (empty once exhausted).
    pub fn next_page(&self, session: &Session, id: &str) -> CoreResult<QueryPage> {
        let mut cursors = self.state.cursors.lock();
        match cursors.get_mut(id) {
            Some(c) if c.session_id == session.id => Ok(c.next_page(id)),
            _ => Err(query_not_found(id)),
        }
    }

    /// `QueryService_Delete`.
    pub fn delete_query(&self, session: &Session, id: &str) -> CoreResult<()> {
        self.delete_queries(session, &[id.to_string()])
    }

    /// `QueryService_DeleteByIds`: all or nothing (an unknown id deletes none).
    pub fn delete_queries(&self, session: &Session, ids: &[String]) -> CoreResult<()> {
        let mut cursors = self.state.cursors.lock();
        if let Some(unknown) = ids.iter().find(|id| {
            cursors
                .get(id.as_str())
                .is_none_or(|c| c.session_id != session.id)
        }) {
            return Err(query_not_found(unknown));
        }
        for id in ids {
            cursors.remove(id);
        }
        Ok(())
    }

    /// `QueryService_DeleteAll`: every cursor of this session.
    pub fn delete_all_queries(&self, session: &Session) {
        self.state
            .cursors
            .lock()
            .retain(|_, c| c.session_id != session.id);
    }

    /// Frees the cursors of sessions that ended or expired (sweeper); how many went.
    pub fn sweep_query_cursors(&self) -> usize {
        let mut cursors = self.state.cursors.lock();
        let before = cursors.len();
        cursors.retain(|_, c| self.svc.sessions.is_live(&c.session_id));
        before - cursors.len()
    }

    /// Open cursors of every session.
    pub fn query_cursor_count(&self) -> usize {
        self.state.cursors.lock().len()
    }

    /// Open cursors of a session (for tests and the state dump).
    pub fn open_queries(&self, session_id: &str) -> usize {
        self.state
            .cursors
            .lock()
            .values()
            .filter(|c| c.session_id == session_id)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUDIT: QueryEntity = QueryEntity::AuditEventSummaryView;

    fn summary(id: i32, event_type: &str, user: Option<&str>, ms: i64) -> AuditEventSummary {
        AuditEventSummary {
            event_id: id,
            event_type: event_type.into(),
            severity: "AUDIT_FAIL".into(),
            module: "Vlsi".into(),
            time: crate::clock::rfc3339_ms(ms),
            time_ms: ms,
            machine_dns_name: Some("cs1".into()),
            user_id: user.map(str::to_string),
            message: "User did a thing".into(),
            user_display_name: user.map(str::to_string),
        }
    }

    fn eq(member: &str, value: &str) -> QueryFilter {
        QueryFilter::Equals {
            member: member.into(),
            value: Some(value.into()),
        }
    }

    #[test]
    fn filters_match_case_insensitively_and_nest() {
        let s = summary(
            7,
            "VLSI_JWT_TOKEN_GENERATION_FAILED",
            Some("VLSIM\\auditor"),
            0,
        );
        assert!(matches(
            &s,
            &eq("eventType", "vlsi_jwt_token_generation_failed")
        ));
        assert!(matches(&s, &eq("eventId", "7")));
        assert!(matches(&s, &eq("userId", "vlsim\\AUDITOR")));
        assert!(!matches(&s, &eq("eventType", "VLSI_JWT_TOKEN_GENERATED")));
        let sw = QueryFilter::StartsWith {
            member: "eventType".into(),
            value: Some("vlsi_jwt_".into()),
        };
        assert!(matches(&s, &sw));
        let and = QueryFilter::And(vec![sw.clone(), eq("severity", "AUDIT_SUCCESS")]);
        assert!(!matches(&s, &and));
        let or = QueryFilter::Or(vec![sw, eq("severity", "AUDIT_SUCCESS")]);
        assert!(matches(&s, &or));
        assert!(!matches(&s, &QueryFilter::Not(Box::new(or))));
        let none = summary(8, "X", None, 0);
        assert!(matches(
            &none,
            &QueryFilter::Equals {
                member: "userId".into(),
                value: None
            }
        ));
    }

    #[test]
    fn between_on_time_is_inclusive_and_open_ended() {
        let s = summary(1, "X", None, 1_700_000_000_000);
        let between = |from: Option<&str>, to: Option<&str>| QueryFilter::Between {
            member: "time".into(),
            from: from.map(str::to_string),
            to: to.map(str::to_string),
        };
        let at = crate::clock::rfc3339_ms(1_700_000_000_000);
        assert!(matches(&s, &between(Some(&at), Some(&at))));
        assert!(matches(&s, &between(None, Some("2030-01-01T00:00:00Z"))));
        assert!(!matches(
            &s,
            &between(Some("2030-01-01T00:00:00+02:00"), None)
        ));
    }

    #[test]
    fn validation_names_the_field() {
        let err = validate(&eq("nope", "x"), "definition.filter", AUDIT);
        assert!(
            matches!(err, Err(CoreError::InvalidArgument { ref field, .. }) if field == "definition.filter.memberName")
        );
        let contains_severity = QueryFilter::Contains {
            member: "severity".into(),
            value: Some("AUDIT".into()),
        };
        assert!(validate(&contains_severity, "definition.filter", AUDIT).is_err());
        let nested = QueryFilter::And(vec![eq("eventType", "x"), eq("eventId", "abc")]);
        let err = validate(&nested, "definition.filter", AUDIT);
        assert!(
            matches!(err, Err(CoreError::InvalidArgument { ref field, .. }) if field == "definition.filter.filters[1].value")
        );
        assert!(validate(&eq("time", "x"), "f", AUDIT).is_err());
        // EventSummaryView spells members data.*; they read the same fields
        let ev = QueryEntity::EventSummaryView;
        assert_eq!(
            validate(&eq("data.eventType", "X"), "f", ev).ok(),
            Some(eq("eventType", "X"))
        );
        assert!(validate(&eq("eventType", "X"), "f", ev).is_err());
        assert!(validate(&eq("data.eventType", "X"), "f", AUDIT).is_err());
    }
}
