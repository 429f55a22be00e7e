//! `QueryFilter` trees: checked against an entity's members, then matched against
//! summaries (text comparisons ignore case).

use super::entity::{Kind, Op, QueryEntity};
use super::{AuditEventSummary, Field};
use crate::core::error::{CoreError, CoreResult};
use std::cmp::Ordering;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

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

pub(super) fn parse_time(text: &str) -> Option<i64> {
    let t = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A validated time or number bound: epoch milliseconds (REST) or an `xsd:dateTime` (SOAP).
fn time_value(text: &str) -> Option<i64> {
    text.trim().parse::<i64>().ok().or_else(|| parse_time(text))
}

/// Why a filter is not acceptable; becomes `InvalidArgument` naming `definition.filter...`.
fn bad_filter(path: &str, message: String) -> CoreError {
    CoreError::invalid_argument(path, message)
}

/// Checks a filter tree against the entity's members (names, allowed filters, values) and
/// returns it with member names replaced by the summary fields they read.
pub(super) fn validate(
    filter: &QueryFilter,
    path: &str,
    entity: QueryEntity,
) -> CoreResult<QueryFilter> {
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
                entity.filter_name(filter_type_name(filter))
            ),
        ));
    }
    for value in values.into_iter().flatten() {
        let ok = match m.kind {
            Kind::Int | Kind::EpochMs => value.trim().parse::<i64>().is_ok(),
            Kind::DateTime => parse_time(value).is_some(),
            Kind::Text | Kind::Entity => true,
        };
        if !ok {
            let want = match (m.kind, entity) {
                (Kind::EpochMs, _) => "an integer (epoch milliseconds)",
                (_, QueryEntity::AuditEventSummary) => "an integer",
                (Kind::Int, _) => "an xsd:int",
                _ => "an xsd:dateTime",
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
        (Field::Time(ms), Some(v)) => time_value(v) == Some(*ms),
    }
}

fn text_of<'a>(field: &Field<'a>) -> Option<&'a str> {
    match field {
        Field::Text(t) => Some(t),
        _ => None,
    }
}

pub(super) fn matches(summary: &AuditEventSummary, filter: &QueryFilter) -> bool {
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
            let bound = |v: &FilterValue| v.as_deref().and_then(time_value);
            bound(from).is_none_or(|f| at >= f) && bound(to).is_none_or(|t| at <= t)
        }
    }
}

pub(super) fn compare(a: &Field<'_>, b: &Field<'_>) -> Ordering {
    match (a, b) {
        (Field::Int(x), Field::Int(y)) | (Field::Time(x), Field::Time(y)) => x.cmp(y),
        (Field::Text(x), Field::Text(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Field::Absent, Field::Absent) => Ordering::Equal,
        (Field::Absent, _) => Ordering::Less,
        (_, Field::Absent) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}
