//! Horizon `QueryService` rules over the event log: the `AuditEventSummaryView` entity
//! (and the deprecated `EventSummaryView`, whose members are `data.*`), their filterable
//! members, sorting, "virtual list" paging and server-side cursors
//! (`QueryService_Create` / `_GetNext` / `_Delete`), kept in memory per session.
//!
//! Member names, filter kinds per member, the default sort by `time` and the 1000-item
//! page cap follow the API reference page of `AuditEventSummaryView` (2406). vlsim
//! extensions (documented in the README): `QueryFilterNotEquals` wherever
//! `QueryFilterEquals` is allowed, and `userDisplayName` is filterable like `message`.

use crate::core::error::{CoreError, CoreResult};
use crate::core::events::Event;
use crate::core::horizon::SURFACE;
use crate::core::sessions::Session;
use crate::core::Core;
use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Mutex;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const AUDIT_EVENT_SUMMARY_VIEW: &str = "AuditEventSummaryView";
pub const EVENT_SUMMARY_VIEW: &str = "EventSummaryView";

/// The queryable entities vlsim serves (both are views of the event log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryEntity {
    AuditEventSummaryView,
    /// Deprecated in the reference in favour of `AuditEventSummaryView`.
    EventSummaryView,
}

impl QueryEntity {
    pub fn name(self) -> &'static str {
        match self {
            Self::AuditEventSummaryView => AUDIT_EVENT_SUMMARY_VIEW,
            Self::EventSummaryView => EVENT_SUMMARY_VIEW,
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::AuditEventSummaryView, Self::EventSummaryView]
            .into_iter()
            .find(|e| e.name() == name)
    }

    fn members(self) -> &'static [Member] {
        match self {
            Self::AuditEventSummaryView => AUDIT_MEMBERS,
            Self::EventSummaryView => EVENT_MEMBERS,
        }
    }

    /// The member named `name` (as the client spells it) of this entity.
    fn member(self, name: &str) -> Option<&'static Member> {
        self.members().iter().find(|m| m.name == name)
    }

    fn member_names(self) -> String {
        self.members()
            .iter()
            .map(|m| m.name)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
/// "maxPageSize cannot exceed 1000" (AuditEventSummaryView caveats).
pub const MAX_PAGE_SIZE: usize = 1000;
/// Open cursors one session may hold before `QueryService_Create` answers `InvalidState`
/// (the real limit is not documented).
pub const MAX_CURSORS_PER_SESSION: usize = 32;
/// Upper bound on events a query looks at.
const MAX_SCAN: usize = 100_000;

/// A filter value as it arrived (`xsd:anyType`): its text, or the `id` of an `EntityId`
/// value; `None` when unset or nil.
pub type FilterValue = Option<String>;

/// `QueryFilter` and its subtypes (`QueryFilterEquals`, ...).
#[derive(Debug, Clone, PartialEq)]
pub enum QueryFilter {
    Equals {
        member: String,
        value: FilterValue,
    },
    NotEquals {
        member: String,
        value: FilterValue,
    },
    Contains {
        member: String,
        value: FilterValue,
    },
    StartsWith {
        member: String,
        value: FilterValue,
    },
    Between {
        member: String,
        from: FilterValue,
        to: FilterValue,
    },
    And(Vec<QueryFilter>),
    Or(Vec<QueryFilter>),
    Not(Box<QueryFilter>),
}

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

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Int,
    Text,
    DateTime,
    Entity,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Equals,
    Contains,
    StartsWith,
    Between,
}

struct Member {
    /// The name a query uses (`eventType`, or `data.eventType` on EventSummaryView).
    name: &'static str,
    /// The summary field it reads (see [`AuditEventSummary::field`]).
    field: &'static str,
    kind: Kind,
    ops: &'static [Op],
}

const EQ: &[Op] = &[Op::Equals];
const TEXT_OPS: &[Op] = &[Op::Equals, Op::Contains, Op::StartsWith];

/// The queryable members of `AuditEventSummaryView`, with the filters each allows.
const AUDIT_MEMBERS: &[Member] = &[
    Member {
        name: "eventId",
        field: "eventId",
        kind: Kind::Int,
        ops: EQ,
    },
    Member {
        name: "eventType",
        field: "eventType",
        kind: Kind::Text,
        ops: TEXT_OPS,
    },
    Member {
        name: "severity",
        field: "severity",
        kind: Kind::Text,
        ops: EQ,
    },
    Member {
        name: "time",
        field: "time",
        kind: Kind::DateTime,
        ops: &[Op::Between],
    },
    Member {
        name: "module",
        field: "module",
        kind: Kind::Text,
        ops: EQ,
    },
    Member {
        name: "message",
        field: "message",
        kind: Kind::Text,
        ops: TEXT_OPS,
    },
    Member {
        name: "machineDnsName",
        field: "machineDnsName",
        kind: Kind::Text,
        ops: TEXT_OPS,
    },
    Member {
        name: "userId",
        field: "userId",
        kind: Kind::Entity,
        ops: EQ,
    },
    Member {
        name: "desktopId",
        field: "desktopId",
        kind: Kind::Entity,
        ops: EQ,
    },
    Member {
        name: "applicationId",
        field: "applicationId",
        kind: Kind::Entity,
        ops: EQ,
    },
    Member {
        name: "machineId",
        field: "machineId",
        kind: Kind::Entity,
        ops: EQ,
    },
    Member {
        name: "persistentDiskRefId",
        field: "persistentDiskRefId",
        kind: Kind::Text,
        ops: EQ,
    },
    // vlsim extension
    Member {
        name: "userDisplayName",
        field: "userDisplayName",
        kind: Kind::Text,
        ops: TEXT_OPS,
    },
];

/// The queryable members of `EventSummaryView` (reference page of 2406).
const EVENT_MEMBERS: &[Member] = &[
    Member {
        name: "eventId",
        field: "eventId",
        kind: Kind::Int,
        ops: EQ,
    },
    Member {
        name: "data.eventType",
        field: "eventType",
        kind: Kind::Text,
        ops: TEXT_OPS,
    },
    Member {
        name: "data.severity",
        field: "severity",
        kind: Kind::Text,
        ops: EQ,
    },
    Member {
        name: "data.time",
        field: "time",
        kind: Kind::DateTime,
        ops: &[Op::Between],
    },
    Member {
        name: "data.module",
        field: "module",
        kind: Kind::Text,
        ops: EQ,
    },
    Member {
        name: "data.message",
        field: "message",
        kind: Kind::Text,
        ops: TEXT_OPS,
    },
    Member {
        name: "data.node",
        field: "machineDnsName",
        kind: Kind::Text,
        ops: TEXT_OPS,
    },
    Member {
        name: "data.userId",
        field: "userId",
        kind: Kind::Entity,
        ops: EQ,
    },
    Member {
        name: "data.desktopId",
        field: "desktopId",
        kind: Kind::Entity,
        ops: EQ,
    },
    Member {
        name: "data.applicationId",
        field: "applicationId",
        kind: Kind::Entity,
        ops: EQ,
    },
    Member {
        name: "data.machineId",
        field: "machineId",
        kind: Kind::Entity,
        ops: EQ,
    },
    Member {
        name: "data.rdsServerId",
        field: "rdsServerId",
        kind: Kind::Entity,
        ops: EQ,
    },
    Member {
        name: "data.farmId",
        field: "farmId",
        kind: Kind::Entity,
        ops: EQ,
    },
    Member {
        name: "data.sessionId",
        field: "sessionId",
        kind: Kind::Entity,
        ops: EQ,
    },
    // vlsim extension
    Member {
        name: "namesData.userDisplayName",
        field: "userDisplayName",
        kind: Kind::Text,
        ops: TEXT_OPS,
    },
];

/// A member's value on one summary.
#[derive(Debug, Clone, PartialEq)]
enum Field<'a> {
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

    fn field(&self, name: &str) -> Field<'_> {
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

fn parse_time(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Why a filter is not acceptable; becomes `InvalidArgument` naming `definition.filter...`.
fn bad_filter(path: &str, message: String) -> CoreError {
    CoreError::invalid_argument(path, message)
}

/// Checks a filter tree against the entity's members (names, allowed filters, values) and
/// returns it with member names replaced by the summary fields they read.
fn validate(filter: &QueryFilter, path: &str, entity: QueryEntity) -> CoreResult<QueryFilter> {
    let (name, op, values): (&str, Op, Vec<&FilterValue>) = match filter {
        QueryFilter::And(fs) | QueryFilter::Or(fs) => {
            if fs.is_empty() {
                return Err(bad_filter(
                    &format!("{path}.filters"),
                    "QueryFilterAnd and QueryFilterOr need at least one filter.".into(),
                ));
            }
            let checked = fs
                .iter()
                .enumerate()
                .map(|(i, f)| validate(f, &format!("{path}.filters[{i}]"), entity))
                .collect::<CoreResult<Vec<_>>>()?;
            return Ok(match filter {
                QueryFilter::And(_) => QueryFilter::And(checked),
                _ => QueryFilter::Or(checked),
            });
        }
        QueryFilter::Not(f) => {
            return Ok(QueryFilter::Not(Box::new(validate(
                f,
                &format!("{path}.filter"),
                entity,
            )?)))
        }
        QueryFilter::Equals { member, value } | QueryFilter::NotEquals { member, value } => {
            (member, Op::Equals, vec![value])
        }
        QueryFilter::Contains { member, value } => (member, Op::Contains, vec![value]),
        QueryFilter::StartsWith { member, value } => (member, Op::StartsWith, vec![value]),
        QueryFilter::Between { member, from, to } => (member, Op::Between, vec![from, to]),
    };
    let entity_name = entity.name();
    let Some(m) = entity.member(name) else {
        return Err(bad_filter(
            &format!("{path}.memberName"),
            format!(
                "[{name}] is not a queryable member of {entity_name}; use one of {}.",
                entity.member_names()
            ),
        ));
    };
    if !m.ops.contains(&op) {
        return Err(bad_filter(
            &format!("{path}.memberName"),
            format!(
                "{} cannot be used on member [{name}] of {entity_name}.",
                filter_type_name(filter)
            ),
        ));
    }
    for value in values.into_iter().flatten() {
        let ok = match m.kind {
            Kind::Int => value.trim().parse::<i64>().is_ok(),
            Kind::DateTime => parse_time(value).is_some(),
            Kind::Text | Kind::Entity => true,
        };
        if !ok {
            let want = if m.kind == Kind::Int {
                "an xsd:int"
            } else {
                "an xsd:dateTime"
            };
            return Err(bad_filter(
                &format!("{path}.value"),
                format!("The value [{value}] for member [{name}] must be {want}."),
            ));
        }
    }
    Ok(rename(filter, m.field))
}

/// A leaf filter with its member renamed to `field`.
fn rename(filter: &QueryFilter, field: &str) -> QueryFilter {
    let member = field.to_string();
    match filter.clone() {
        QueryFilter::Equals { value, .. } => QueryFilter::Equals { member, value },
        QueryFilter::NotEquals { value, .. } => QueryFilter::NotEquals { member, value },
        QueryFilter::Contains { value, .. } => QueryFilter::Contains { member, value },
        QueryFilter::StartsWith { value, .. } => QueryFilter::StartsWith { member, value },
        QueryFilter::Between { from, to, .. } => QueryFilter::Between { member, from, to },
        other => other,
    }
}

fn filter_type_name(filter: &QueryFilter) -> &'static str {
    match filter {
        QueryFilter::Equals { .. } => "QueryFilterEquals",
        QueryFilter::NotEquals { .. } => "QueryFilterNotEquals",
        QueryFilter::Contains { .. } => "QueryFilterContains",
        QueryFilter::StartsWith { .. } => "QueryFilterStartsWith",
        QueryFilter::Between { .. } => "QueryFilterBetween",
        QueryFilter::And(_) => "QueryFilterAnd",
        QueryFilter::Or(_) => "QueryFilterOr",
        QueryFilter::Not(_) => "QueryFilterNot",
    }
}

fn equals(field: &Field<'_>, value: &FilterValue) -> bool {
    match (field, value) {
        (Field::Absent, None) => true,
        (Field::Absent, Some(_)) | (_, None) => false,
        (Field::Text(t), Some(v)) => t.eq_ignore_ascii_case(v.trim()),
        (Field::Int(i), Some(v)) => v.trim().parse::<i64>().is_ok_and(|n| n == *i),
        (Field::Time(ms), Some(v)) => parse_time(v) == Some(*ms),
    }
}

fn text_of<'a>(field: &Field<'a>) -> Option<&'a str> {
    match field {
        Field::Text(t) => Some(t),
        _ => None,
    }
}

fn matches(summary: &AuditEventSummary, filter: &QueryFilter) -> bool {
    match filter {
        QueryFilter::And(fs) => fs.iter().all(|f| matches(summary, f)),
        QueryFilter::Or(fs) => fs.iter().any(|f| matches(summary, f)),
        QueryFilter::Not(f) => !matches(summary, f),
        QueryFilter::Equals { member, value } => equals(&summary.field(member), value),
        QueryFilter::NotEquals { member, value } => !equals(&summary.field(member), value),
        QueryFilter::Contains { member, value } => {
            let field = summary.field(member);
            match (text_of(&field), value) {
                (Some(t), Some(v)) => t.to_lowercase().contains(&v.to_lowercase()),
                (_, None) => true,
                (None, Some(_)) => false,
            }
        }
        QueryFilter::StartsWith { member, value } => {
            let field = summary.field(member);
            match (text_of(&field), value) {
                (Some(t), Some(v)) => t.to_lowercase().starts_with(&v.to_lowercase()),
                (_, None) => true,
                (None, Some(_)) => false,
            }
        }
        QueryFilter::Between { member, from, to } => {
            let (Field::Time(at) | Field::Int(at)) = summary.field(member) else {
                return false;
            };
            let bound = |v: &FilterValue| v.as_deref().and_then(parse_time);
            bound(from).is_none_or(|f| at >= f) && bound(to).is_none_or(|t| at <= t)
        }
    }
}

fn compare(a: &Field<'_>, b: &Field<'_>) -> Ordering {
    match (a, b) {
        (Field::Int(x), Field::Int(y)) | (Field::Time(x), Field::Time(y)) => x.cmp(y),
        (Field::Text(x), Field::Text(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Field::Absent, Field::Absent) => Ordering::Equal,
        (Field::Absent, _) => Ordering::Less,
        (_, Field::Absent) => Ordering::Greater,
        _ => Ordering::Equal,
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

/// Server-side cursors of `QueryService_Create`, by query id.
#[derive(Default)]
pub struct QueryCursors {
    inner: Mutex<HashMap<String, Cursor>>,
}

struct Cursor {
    entity: QueryEntity,
    session_id: String,
    /// Offset of `items[0]` in the full result list.
    starting_offset: usize,
    items: Vec<AuditEventSummary>,
    /// Items already served.
    position: usize,
    page_size: usize,
}

impl Cursor {
    fn next_page(&mut self, id: &str) -> QueryPage {
        let start = self.position.min(self.items.len());
        let end = start.saturating_add(self.page_size).min(self.items.len());
        let results = self
            .items
            .get(start..end)
            .map(<[_]>::to_vec)
            .unwrap_or_default();
        self.position = end;
        QueryPage {
            entity: self.entity,
            id: Some(id.to_string()),
            starting_offset: to_i64(self.starting_offset.saturating_add(start)),
            remaining_count: Some(to_i64(self.items.len().saturating_sub(end))),
            results,
        }
    }
}

fn to_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl QueryCursors {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Cursor>> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn query_not_found(id: &str) -> CoreError {
    CoreError::NotFound {
        entity: "QueryId",
        id: id.to_string(),
        message: format!("No query with id [{id}] exists for this session."),
    }
}

impl Core {
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

    /// The Horizon (VLSI) events that pass `filter` (already validated), unsorted.
    fn matching(&self, filter: Option<&QueryFilter>) -> CoreResult<Vec<AuditEventSummary>> {
        let dns = self.horizon_settings().connection_server_name.clone();
        let events = self.events.scan_rev(MAX_SCAN, |e| e.surface == SURFACE)?;
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
    pub fn query_count(&self, definition: &QueryDefinition) -> CoreResult<i64> {
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
    pub fn query_create(
        &self,
        session: &Session,
        definition: &QueryDefinition,
    ) -> CoreResult<QueryPage> {
        let selection = self.select(definition)?;
        let now = self.clock.now_ms();
        let mut cursors = self.query_cursors.lock();
        // Cursors of sessions that ended go with them.
        cursors.retain(|_, c| {
            self.sessions
                .get(&c.session_id)
                .ok()
                .flatten()
                .is_some_and(|s| now < s.expires_at_ms())
        });
        let open = cursors
            .values()
            .filter(|c| c.session_id == session.id)
            .count();
        if open >= MAX_CURSORS_PER_SESSION {
            return Err(CoreError::Conflict(format!(
                "The per session query limit ({MAX_CURSORS_PER_SESSION}) has been reached; delete queries with QueryService_Delete or QueryService_DeleteAll."
            )));
        }
        let id = format!("query-{}", crate::core::random_token(12));
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
    pub fn query_next(&self, session: &Session, id: &str) -> CoreResult<QueryPage> {
        let mut cursors = self.query_cursors.lock();
        match cursors.get_mut(id) {
            Some(c) if c.session_id == session.id => Ok(c.next_page(id)),
            _ => Err(query_not_found(id)),
        }
    }

    /// `QueryService_Delete`.
    pub fn query_delete(&self, session: &Session, id: &str) -> CoreResult<()> {
        self.query_delete_by_ids(session, &[id.to_string()])
    }

    /// `QueryService_DeleteByIds`: all or nothing (an unknown id deletes none).
    pub fn query_delete_by_ids(&self, session: &Session, ids: &[String]) -> CoreResult<()> {
        let mut cursors = self.query_cursors.lock();
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
    pub fn query_delete_all(&self, session: &Session) {
        self.query_cursors
            .lock()
            .retain(|_, c| c.session_id != session.id);
    }

    /// Open cursors of a session (for tests and the state dump).
    pub fn query_cursor_count(&self, session_id: &str) -> usize {
        self.query_cursors
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
