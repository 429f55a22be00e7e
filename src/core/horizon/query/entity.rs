//! The queryable entities and their members: which member names a query may use, which
//! summary field each reads, and which filters each allows.

pub const AUDIT_EVENT_SUMMARY_VIEW: &str = "AuditEventSummaryView";
pub const EVENT_SUMMARY_VIEW: &str = "EventSummaryView";
/// The REST API's audit event schema (`/rest/external/v1|v2/audit-events`).
pub const AUDIT_EVENT_SUMMARY: &str = "AuditEventSummary";

/// The queryable entities vlsim serves (all are views of the event log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryEntity {
    AuditEventSummaryView,
    /// Deprecated in the reference in favour of `AuditEventSummaryView`.
    EventSummaryView,
    /// The REST API's `AuditEventSummary` (and its V2, which adds `persistent_disk_id`).
    AuditEventSummary,
}

impl QueryEntity {
    pub fn name(self) -> &'static str {
        match self {
            Self::AuditEventSummaryView => AUDIT_EVENT_SUMMARY_VIEW,
            Self::EventSummaryView => EVENT_SUMMARY_VIEW,
            Self::AuditEventSummary => AUDIT_EVENT_SUMMARY,
        }
    }

    /// The SOAP `queryEntityType`s (the REST entity is not queryable through SOAP).
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::AuditEventSummaryView, Self::EventSummaryView]
            .into_iter()
            .find(|e| e.name() == name)
    }

    fn members(self) -> &'static [Member] {
        match self {
            Self::AuditEventSummaryView => AUDIT_MEMBERS,
            Self::EventSummaryView => EVENT_MEMBERS,
            Self::AuditEventSummary => REST_MEMBERS,
        }
    }

    /// Whether results may be sorted by member `name`: any member over SOAP; over REST the
    /// ones the swagger marks "can be used for sorting".
    pub(super) fn sortable(self, name: &str) -> bool {
        match self {
            Self::AuditEventSummary => REST_SORTABLE.contains(&name),
            _ => self.member(name).is_some(),
        }
    }

    /// Filter type names as this entity's wire spells them (`QueryFilterEquals` / `Equals`).
    pub(super) fn filter_name(self, soap_name: &'static str) -> &'static str {
        match self {
            Self::AuditEventSummary => soap_name.strip_prefix("QueryFilter").unwrap_or(soap_name),
            _ => soap_name,
        }
    }

    /// The member named `name` (as the client spells it) of this entity.
    pub(super) fn member(self, name: &str) -> Option<&'static Member> {
        self.members().iter().find(|m| m.name == name)
    }

    pub(super) fn member_names(self) -> String {
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
pub(super) const MAX_SCAN: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    Int,
    Text,
    DateTime,
    /// Epoch milliseconds as an integer (REST `time`).
    EpochMs,
    Entity,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    Equals,
    Contains,
    StartsWith,
    Between,
}

pub(super) struct Member {
    /// The name a query uses (`eventType`, or `data.eventType` on EventSummaryView).
    pub(super) name: &'static str,
    /// The summary field it reads (see [`AuditEventSummary::field`]).
    pub(super) field: &'static str,
    pub(super) kind: Kind,
    pub(super) ops: &'static [Op],
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

const REST_TEXT: &[Op] = &[Op::Equals, Op::Contains, Op::StartsWith];
const REST_NUMBER: &[Op] = &[Op::Equals, Op::Between];

const fn rest(name: &'static str, field: &'static str, kind: Kind, ops: &'static [Op]) -> Member {
    Member {
        name,
        field,
        kind,
        ops,
    }
}

/// The members of the REST `AuditEventSummary`(V2), with the filters each allows (the
/// swagger's "Supported Filters", widened to NotEquals/Contains/StartsWith on every text
/// member and Between on `id`; `persistent_disk_id` is V2's, accepted on v1 too).
const REST_MEMBERS: &[Member] = &[
    rest("id", "eventId", Kind::Int, REST_NUMBER),
    rest("type", "eventType", Kind::Text, REST_TEXT),
    rest("severity", "severity", Kind::Text, REST_TEXT),
    rest("module", "module", Kind::Text, REST_TEXT),
    rest("message", "message", Kind::Text, REST_TEXT),
    rest("machine_dns_name", "machineDnsName", Kind::Text, REST_TEXT),
    rest("time", "time", Kind::EpochMs, REST_NUMBER),
    rest("user_id", "userId", Kind::Text, REST_TEXT),
    rest("machine_id", "machineId", Kind::Text, REST_TEXT),
    rest(
        "desktop_pool_name",
        "desktopPoolName",
        Kind::Text,
        REST_TEXT,
    ),
    rest(
        "application_pool_name",
        "applicationPoolName",
        Kind::Text,
        REST_TEXT,
    ),
    rest(
        "persistent_disk_id",
        "persistentDiskId",
        Kind::Text,
        REST_TEXT,
    ),
];

/// What the swagger (2512) marks "This property can be used for sorting".
const REST_SORTABLE: &[&str] = &[
    "type",
    "severity",
    "module",
    "message",
    "time",
    "machine_dns_name",
    "desktop_pool_name",
    "application_pool_name",
];
