//! Every surface's events, newest first, filterable, each linked to the journal entry of
//! the request that caused it while that entry is kept.

use super::layout::{self, Page};
use super::{html, UiError, UiResult, UI};
use crate::core::events::MAX_EVENT_PAGE;
use crate::state::AppState;
use crate::surface::Surface;
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest};
use maud::html as markup;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct Query {
    surface: Option<String>,
    #[serde(rename = "type")]
    event_type: Option<String>,
    user: Option<String>,
    q: Option<String>,
    /// Only the events of this request (`RUN-ID`, as the journal names it).
    request: Option<String>,
    limit: Option<usize>,
}

fn blank(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn contains(haystack: &str, needle: &str) -> bool {
    haystack.to_lowercase().contains(&needle.to_lowercase())
}

pub async fn list(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<Query>,
) -> UiResult {
    let q = query.into_inner();
    let limit = q.limit.unwrap_or(100).clamp(1, MAX_EVENT_PAGE);
    let surface = match blank(&q.surface) {
        Some(name) => Some(
            Surface::parse(name)
                .ok_or_else(|| UiError::bad_request(format!("There is no surface {name}.")))?,
        ),
        None => None,
    };
    let (event_type, user, text, request) = (
        blank(&q.event_type),
        blank(&q.user),
        blank(&q.q),
        blank(&q.request),
    );
    let events = state.core.events().scan(limit, |e| {
        surface.is_none_or(|s| e.surface == s)
            && event_type.is_none_or(|t| e.event_type.starts_with(t))
            && user.is_none_or(|u| e.user.as_deref().is_some_and(|eu| contains(eu, u)))
            && request.is_none_or(|r| e.request_id.as_deref() == Some(r))
            && text.is_none_or(|t| {
                contains(&e.message, t)
                    || contains(&e.event_type, t)
                    || e.details.values().any(|v| contains(&v.to_string(), t))
            })
    })?;
    let journal = &state.control.journal;
    let body = markup! {
        form.filters method="get" action={ (UI) "/events" } role="search" aria-label="Filter the events" {
            div {
                label for="e-surface" { "Surface" }
                select #e-surface name="surface" {
                    option value="" { "any" }
                    @for s in Surface::EMULATED {
                        option value=(s.name()) selected[surface == Some(s)] { (s.name()) }
                    }
                }
            }
            div {
                label for="e-type" { "Type (prefix)" }
                input #e-type name="type" value=(event_type.unwrap_or("")) placeholder="VLSI_JWT_";
            }
            div {
                label for="e-user" { "User" }
                input #e-user name="user" value=(user.unwrap_or(""));
            }
            div {
                label for="e-q" { "Text" }
                input #e-q type="search" name="q" value=(text.unwrap_or(""));
            }
            @if let Some(r) = request { input type="hidden" name="request" value=(r); }
            div {
                label for="e-limit" { "Rows" }
                select #e-limit name="limit" {
                    @for n in [50, 100, 500, 1000] { option value=(n) selected[n == limit] { (n) } }
                }
            }
            div.actions {
                button type="submit" { "Filter" }
                a href={ (UI) "/events" } { "Clear filters" }
            }
        }
        div.actions {
            span.live hidden { input #live type="checkbox"; label for="live" { "Live (every 2 s)" } }
            a href=(req.uri().to_string()) { "Refresh" }
        }
        div.table-wrap data-live {
            table #events {
                caption {
                    (events.len()) " shown, newest first, of " (state.core.events().count()) " recorded."
                    @if let Some(r) = request { " Only those caused by request " (r) "." }
                }
                thead {
                    tr {
                        th scope="col" { "Time" }
                        th scope="col" { "Type" }
                        th scope="col" { "Severity" }
                        th scope="col" { "Surface" }
                        th scope="col" { "User" }
                        th scope="col" { "Message" }
                        th scope="col" { "Request" }
                    }
                }
                tbody {
                    @for e in &events {
                        tr {
                            td { time { (e.time) } }
                            td { code { (e.event_type) } }
                            td {
                                @let bad = e.severity.contains("FAIL") || e.severity == "ERROR";
                                span.badge.bad[bad].good[!bad] { (e.severity) }
                            }
                            td { (e.surface.name()) }
                            td { (e.user.as_deref().unwrap_or("")) }
                            td { (e.message) }
                            td {
                                @if let Some(entry) = e.request_id.as_deref().and_then(|r| journal.entry_of(r)) {
                                    a href={ (UI) "/journal/" (entry) } { "#" (entry) }
                                }
                            }
                        }
                    }
                    @if events.is_empty() {
                        tr { td colspan="7" .muted { "No events match." } }
                    }
                }
            }
        }
    };
    let page = Page {
        title: "Events",
        nav: Some("/events"),
        notice: None,
    };
    Ok(html(StatusCode::OK, layout::render(&req, &page, body)))
}
