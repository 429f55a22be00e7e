//! The REST API's view of the same events: `GET /rest/external/v1|v2/audit-events`, with
//! the filter engine of `QueryService` (member names as the REST schema spells them), the
//! REST sorting rules and page/size paging ("Pagination, Filter and Sorting" guide).

use super::entity::QueryEntity;
use super::filter::{compare, validate};
use super::{AuditEventSummary, QueryFilter};
use crate::core::error::{CoreError, CoreResult};
use crate::core::horizon::Horizon;
use std::cmp::Ordering;

/// "limit set on maximum value of size which is 1000".
pub const MAX_REST_PAGE_SIZE: usize = 1000;

/// A list request, as parsed from the query string.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditEventsQuery {
    /// Member names as the REST schema spells them (`type`, `time`, ...).
    pub filter: Option<QueryFilter>,
    pub sort_by: Option<String>,
    /// `order_by=DESC`; only with `sort_by`.
    pub descending: bool,
    /// `page` and `size` as sent (both or neither paginate; checked here).
    pub page: Option<i64>,
    pub size: Option<i64>,
}

/// One answer: the events of the page (all of them unpaginated) and how many matched.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEventsPage {
    pub events: Vec<AuditEventSummary>,
    pub total: usize,
    /// Paginated and more matched beyond this page (`HAS_MORE_RECORDS`).
    pub has_more: bool,
    pub paginated: bool,
}

fn bad(field: &str, message: String) -> CoreError {
    CoreError::invalid_argument(field, message)
}

/// `page` and `size`: both or neither, each > 0, size ≤ 1000.
fn paging(page: Option<i64>, size: Option<i64>) -> CoreResult<Option<(usize, usize)>> {
    let positive = |name: &str, v: i64| {
        usize::try_from(v)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| bad(name, format!("'{name}' must be greater than 0, got {v}")))
    };
    match (page, size) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(bad(
            "size",
            "'size' is required with 'page' (pass both to paginate, or neither)".into(),
        )),
        (None, Some(_)) => Err(bad(
            "page",
            "'page' is required with 'size' (pass both to paginate, or neither)".into(),
        )),
        (Some(p), Some(s)) => {
            let p = positive("page", p)?;
            let s = positive("size", s)?;
            if s > MAX_REST_PAGE_SIZE {
                return Err(bad(
                    "size",
                    format!("'size' must be an integer from 1 to {MAX_REST_PAGE_SIZE}, got {s}"),
                ));
            }
            Ok(Some((p, s)))
        }
    }
}

/// Newest first: time descending, then id descending.
fn newest_first(a: &AuditEventSummary, b: &AuditEventSummary) -> Ordering {
    b.time_ms
        .cmp(&a.time_ms)
        .then_with(|| b.event_id.cmp(&a.event_id))
}

impl Horizon<'_> {
    /// The Connection Server's events as the REST API lists them.
    pub fn audit_events(&self, q: &AuditEventsQuery) -> CoreResult<AuditEventsPage> {
        let entity = QueryEntity::AuditEventSummary;
        let paging = paging(q.page, q.size)?;
        let filter = q
            .filter
            .as_ref()
            .map(|f| validate(f, "filter", entity))
            .transpose()?;
        let sort_field = match q.sort_by.as_deref() {
            None if q.descending => {
                return Err(bad(
                    "order_by",
                    "'order_by' needs 'sort_by' (the property to sort by)".into(),
                ))
            }
            None => None,
            Some(name) => match entity.member(name).filter(|_| entity.sortable(name)) {
                Some(m) => Some(m.field),
                None => {
                    return Err(bad(
                        "sort_by",
                        format!(
                            "Cannot sort by '{name}': sortable properties are type, severity, module, message, time, machine_dns_name, desktop_pool_name, application_pool_name"
                        ),
                    ))
                }
            },
        };
        let mut events = self.matching(filter.as_ref())?;
        events.sort_by(newest_first);
        if let Some(field) = sort_field {
            // Stable: ties keep the newest-first order.
            events.sort_by(|a, b| {
                let order = compare(&a.field(field), &b.field(field));
                if q.descending {
                    order.reverse()
                } else {
                    order
                }
            });
        }
        let total = events.len();
        let Some((page, size)) = paging else {
            return Ok(AuditEventsPage {
                events,
                total,
                has_more: false,
                paginated: false,
            });
        };
        let start = (page - 1).saturating_mul(size);
        if page > 1 && start >= total {
            return Err(bad(
                "page",
                format!(
                    "'page' {page} is past the last page: {total} matching events at size {size}"
                ),
            ));
        }
        let end = start.saturating_add(size).min(total);
        let has_more = end < total;
        let events = events.into_iter().skip(start).take(end - start).collect();
        Ok(AuditEventsPage {
            events,
            total,
            has_more,
            paginated: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_needs_both_positive_and_bounded() {
        assert_eq!(paging(None, None).unwrap(), None);
        assert_eq!(paging(Some(2), Some(1000)).unwrap(), Some((2, 1000)));
        for (p, s, field) in [
            (Some(0), Some(1), "page"),
            (Some(1), Some(0), "size"),
            (Some(1), Some(1001), "size"),
            (Some(-3), Some(1), "page"),
            (Some(1), None, "size"),
            (None, Some(1), "page"),
        ] {
            let err = paging(p, s).unwrap_err();
            assert!(
                matches!(&err, CoreError::InvalidArgument { field: f, .. } if f == field),
                "{p:?} {s:?}: {err:?}"
            );
        }
    }
}
