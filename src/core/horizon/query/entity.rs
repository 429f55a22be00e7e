//! The queryable entities and their members: which member names a query may use, which
//! summary field each reads, and which filters each allows.

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
