//! The journal: what clients sent and got, newest first, filterable; one entry in full
//! with its headers, its bodies laid out for reading and the JWTs they carried decoded.

use super::layout::{self, Page};
use super::pretty;
use super::{html, see_other, FormData, UiError, UiResult, UI};
use crate::control::journal::{Filter, Recorded, UnsignedJwt};
use crate::core::events::Event;
use crate::state::AppState;
use crate::surface::Surface;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::{html as markup, Markup};
use serde::Deserialize;
use serde_json::Value;

/// Rows a page may show.
pub const MAX_ROWS: usize = 1000;
const LIMITS: [usize; 4] = [50, 100, 500, 1000];

#[derive(Debug, Default, Deserialize)]
pub struct Query {
    surface: Option<String>,
    status: Option<String>,
    operation: Option<String>,
    q: Option<String>,
    limit: Option<usize>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn filters(state: &AppState, q: &Query, limit: usize) -> Markup {
    let surface = blank(&q.surface);
    let status = blank(&q.status);
    let operation = blank(&q.operation).unwrap_or("");
    let registry = &state.control.registry;
    markup! {
        form.filters method="get" action={ (UI) "/journal" } role="search" aria-label="Filter the journal" {
            div {
                label for="f-surface" { "Surface" }
                select #f-surface name="surface" {
                    option value="" { "any" }
                    @for s in Surface::EMULATED.into_iter().chain([Surface::Other]) {
                        option value=(s.name()) selected[surface == Some(s.name())] { (s.name()) }
                    }
                }
            }
            div {
                label for="f-status" { "Status" }
                select #f-status name="status" {
                    option value="" { "any" }
                    @for class in ["2xx", "3xx", "4xx", "5xx"] {
                        option value=(class) selected[status == Some(class)] { (class) }
                    }
                }
            }
            div {
                label for="f-operation" { "Operation" }
                input #f-operation name="operation" list="operations" value=(operation) placeholder="any";
                datalist #operations {
                    @for s in Surface::EMULATED {
                        @for op in registry.operation_names(s) { option value=(op) {} }
                    }
                }
            }
            div {
                label for="f-q" { "Text" }
                input #f-q type="search" name="q" value=(blank(&q.q).unwrap_or("")) placeholder="path, user, body…";
            }
            div {
                label for="f-limit" { "Rows" }
                select #f-limit name="limit" {
                    @for n in LIMITS { option value=(n) selected[n == limit] { (n) } }
                }
            }
            div.actions {
                button type="submit" { "Filter" }
                a href={ (UI) "/journal" } { "Clear filters" }
            }
        }
    }
}

pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Query>,
) -> UiResult {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_ROWS);
    let surface = match blank(&q.surface) {
        Some(name) => Some(
            Surface::parse(name)
                .ok_or_else(|| UiError::bad_request(format!("There is no surface {name}.")))?,
        ),
        None => None,
    };
    let status_class = match blank(&q.status) {
        Some(class) => Some(
            class
                .strip_suffix("xx")
                .and_then(|d| d.parse::<u16>().ok())
                .filter(|d| (1..=5).contains(d))
                .ok_or_else(|| UiError::bad_request("Status is a class such as 2xx or 5xx."))?,
        ),
        None => None,
    };
    let journal = &state.control.journal;
    let rows = journal.summaries(&Filter {
        surface,
        operation: blank(&q.operation).map(str::to_string),
        status_class,
        text: blank(&q.q).map(str::to_string),
        limit,
        ..Default::default()
    });
    let body = markup! {
        (filters(&state, &q, limit))
        div.actions {
            span.live hidden { input #live type="checkbox"; label for="live" { "Live (every 2 s)" } }
            a href=(req.uri().to_string()) { "Refresh" }
            form.inline method="post" action={ (UI) "/journal/clear" } {
                (layout::csrf(&req))
                button.danger type="submit" { "Empty the journal" }
            }
        }
        div.table-wrap data-live {
            table #journal {
                caption {
                    (rows.len()) " shown, newest first; " (journal.len()) " of " (journal.capacity()) " kept."
                    @if !journal.enabled() { " The journal is off (--journal-size 0)." }
                }
                thead {
                    tr {
                        th scope="col" { "#" }
                        th scope="col" { "Time" }
                        th scope="col" { "Surface" }
                        th scope="col" { "Operation" }
                        th scope="col" { "User" }
                        th.num scope="col" { "Status" }
                        th.num scope="col" { "ms" }
                        th scope="col" { "Injected fault" }
                    }
                }
                tbody {
                    @for e in &rows {
                        tr {
                            td { a href={ (UI) "/journal/" (e.id) } { (e.id) } }
                            td { time { (e.time) } }
                            td { (e.surface.name()) }
                            td { a href={ (UI) "/journal/" (e.id) } { (e.operation) } }
                            td { (e.user.as_deref().unwrap_or("")) }
                            td.num { span class=(layout::status_class(e.status)) { (e.status) } }
                            td.num { (format!("{:.1}", e.latency_ms)) }
                            td { @if let Some(rule) = &e.injected_fault { span.badge.bad { "rule " (short(rule)) } } }
                        }
                    }
                    @if rows.is_empty() {
                        tr { td colspan="8" .muted { "Nothing yet: make a call to one of the surfaces." } }
                    }
                }
            }
        }
    };
    let page = Page {
        title: "Journal",
        nav: Some("/journal"),
        notice: None,
    };
    Ok(html(StatusCode::OK, layout::render(&req, &page, body)))
}

/// The first 8 characters of an id.
pub fn short(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

fn headers_table(caption: &str, rec: &Recorded) -> Markup {
    markup! {
        div.table-wrap {
            table {
                caption { (caption) }
                thead { tr { th scope="col" { "Header" } th scope="col" { "Value" } } }
                tbody {
                    @for (name, value) in &rec.headers {
                        tr { th scope="row" { (name) } td.wrap { (value) } }
                    }
                }
            }
        }
    }
}

fn body_block(id: &str, rec: &Recorded) -> Markup {
    let (kind, text) = pretty::body(&rec.body);
    markup! {
        @if rec.body_bytes == 0 {
            p.muted { "No body." }
        } @else {
            p.muted {
                (rec.body_bytes) " bytes, shown as " (kind.name())
                @if rec.truncated { " (only the first " (crate::control::journal::BODY_EXCERPT) " bytes are kept)" }
                "; secrets are redacted."
            }
            pre #(id) { code { (text) } }
        }
    }
}

/// Claims and times of a JWT, decoded; shared with the token inspector.
pub fn jwt_claims(header: &Value, claims: &Value, now_ms: i64) -> Markup {
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    markup! {
        div.grid {
            div { h4 { "Header" } pre { code { (pretty::json(header)) } } }
            div { h4 { "Claims" } pre { code { (pretty::json(claims)) } } }
        }
        dl.facts {
            @for (name, label) in [("iat", "Issued"), ("nbf", "Not before"), ("exp", "Expires")] {
                @if let Some(secs) = time(name) {
                    dt { (label) " (" (name) ")" }
                    dd { (crate::clock::rfc3339_secs(secs)) " — " (layout::relative(secs.saturating_mul(1000), now_ms)) " by vlsim's clock" }
                }
            }
        }
    }
}

fn token_block(t: &UnsignedJwt, now_ms: i64) -> Markup {
    let header = pretty::jwt_part(&t.header).unwrap_or(Value::Null);
    let claims = pretty::jwt_part(&t.payload).unwrap_or(Value::Null);
    markup! {
        section.panel.token {
            h3 { "JWT in the " (t.found_in) " body" }
            p { "Raw value (signature left out): " }
            pre.wrap { code { (t.header) "." (t.payload) ".[signature redacted]" } }
            (jwt_claims(&header, &claims, now_ms))
        }
    }
}

fn events_of(state: &AppState, request_id: &str) -> Result<Vec<Event>, UiError> {
    Ok(state
        .core
        .events()
        .scan(crate::core::events::MAX_EVENT_PAGE, |e| {
            e.request_id.as_deref() == Some(request_id)
        })?)
}

pub async fn detail(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> UiResult {
    let id: u64 = id
        .parse()
        .map_err(|_| UiError::not_found("Journal entries are numbered."))?;
    let journal = &state.control.journal;
    let detail = journal.detail(id).ok_or_else(|| {
        UiError::not_found(format!(
            "Journal entry {id} is not kept (any more): the journal holds the last {} requests.",
            journal.capacity()
        ))
    })?;
    let e = &detail.entry;
    let now_ms = state.core.clock().now_ms();
    let events = events_of(&state, &journal.request_id(id))?;
    let target = if e.query.is_empty() {
        e.path.clone()
    } else {
        format!("{}?{}", e.path, e.query)
    };
    let body = markup! {
        p { a href={ (UI) "/journal" } { "← Journal" } }
        dl.facts {
            dt { "Time" } dd { time { (e.time) } }
            dt { "Surface" } dd { (e.surface.name()) }
            dt { "Operation" } dd #operation { (e.operation) }
            dt { "Request" } dd { code { (e.method) " " (target) } }
            dt { "Status" } dd { span class=(layout::status_class(e.status)) { (e.status) } }
            dt { "Latency" } dd { (format!("{:.1}", e.latency_ms)) " ms" }
            dt { "User" } dd { (e.user.as_deref().unwrap_or("—")) }
            @if let Some(rule) = &e.injected_fault {
                dt { "Injected fault" } dd { span.badge.bad { "rule " (rule) } " (" a href={ (UI) "/controls#faults" } { "fault rules" } ")" }
            }
            dt { "Events caused" }
            dd {
                @if events.is_empty() { "none" }
                @for ev in &events {
                    a href={ (UI) "/events?request=" (journal.request_id(id)) } { (ev.event_type) } " "
                }
            }
        }
        div.grid {
            section aria-labelledby="req" {
                h2 #req { "Request" }
                (headers_table("Request headers", &e.request))
                h3 { "Body" }
                (body_block("request-body", &e.request))
            }
            section aria-labelledby="res" {
                h2 #res { "Response" }
                (headers_table("Response headers", &e.response))
                h3 { "Body" }
                (body_block("response-body", &e.response))
            }
        }
        @if !detail.tokens.is_empty() {
            h2 { "Tokens in the bodies, decoded" }
            @for t in &detail.tokens { (token_block(t, now_ms)) }
        }
    };
    let title = format!("Journal entry {id}");
    let page = Page {
        title: &title,
        nav: Some("/journal"),
        notice: None,
    };
    Ok(html(StatusCode::OK, layout::render(&req, &page, body)))
}

pub async fn clear(state: web::Data<AppState>, _form: FormData) -> HttpResponse {
    state.control.journal.clear();
    see_other(&format!("{UI}/journal"), "journal-cleared")
}
