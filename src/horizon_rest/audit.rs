//! `GET /rest/external/v1/audit-events` and `/v2/`: the Connection Server's event log (the
//! one SOAP `QueryService` reads), newest first, filtered, sorted and paged.

use super::bodies::AuditEvent;
use super::errors::{RestError, RestResult};
use super::extract::{Params, Reader};
use super::filter;
use crate::core::horizon::query::AuditEventsQuery;
use crate::state::AppState;
use actix_web::{web, HttpResponse};

/// An integer query parameter, if present.
fn integer(params: &Params, name: &str) -> RestResult<Option<i64>> {
    params
        .get(name)
        .map(|v| {
            v.trim().parse::<i64>().map_err(|_| {
                RestError::bad_request(
                    "rest.pagination.invalid",
                    format!("'{name}' must be an integer greater than 0, got '{v}'"),
                )
            })
        })
        .transpose()
}

fn query(params: &Params) -> RestResult<AuditEventsQuery> {
    let descending = match params.get("order_by") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("ASC") => false,
        Some(v) if v.eq_ignore_ascii_case("DESC") => true,
        Some(v) => {
            return Err(RestError::bad_request(
                "rest.sort.invalid",
                format!("'order_by' must be ASC or DESC, got '{v}'"),
            ))
        }
    };
    if params.get("order_by").is_some() && params.get("sort_by").is_none() {
        return Err(RestError::bad_request(
            "rest.sort.invalid",
            "'order_by' needs 'sort_by' (the property to sort by)",
        ));
    }
    Ok(AuditEventsQuery {
        filter: params.get("filter").map(filter::parse).transpose()?,
        sort_by: params.get("sort_by").map(str::to_string),
        descending,
        page: integer(params, "page")?,
        size: integer(params, "size")?,
    })
}

/// Both versions: the v2 schema only adds `persistent_disk_id`, which vlsim never sets.
#[tracing::instrument(skip_all, level = "debug")]
pub async fn list(
    state: web::Data<AppState>,
    _caller: Reader,
    params: Params,
) -> RestResult<HttpResponse> {
    let q = query(&params)?;
    let page = state.core.horizon().audit_events(&q)?;
    let mut res = HttpResponse::Ok();
    if page.paginated {
        res.insert_header(("X-TOTAL-COUNT", page.total.to_string()));
        if page.has_more {
            res.insert_header(("HAS_MORE_RECORDS", "TRUE"));
        }
    }
    Ok(res.json(page.events.iter().map(AuditEvent::from).collect::<Vec<_>>()))
}
