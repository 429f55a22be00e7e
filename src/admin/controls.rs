//! The run's controls: journal, fault rules, latency, events and the clock.

use super::{AdminError, AdminResult};
use crate::control::faults::{NewRule, Rule};
use crate::control::journal::{Entry, Filter as JournalFilter};
use crate::control::latency::LatencySettings;
use crate::core::events::{Event, EventFilter, MAX_EVENT_PAGE};
use crate::state::AppState;
use crate::surface::Surface;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JournalQuery {
    surface: Option<Surface>,
    operation: Option<String>,
    status: Option<u16>,
    limit: Option<usize>,
}

#[derive(Serialize)]
struct JournalPage {
    capacity: usize,
    size: usize,
    count: usize,
    entries: Vec<Entry>,
}

pub async fn journal(state: web::Data<AppState>, query: web::Query<JournalQuery>) -> HttpResponse {
    let q = query.into_inner();
    let journal = &state.control.journal;
    let entries = journal.list(&JournalFilter {
        surface: q.surface,
        operation: q.operation,
        status: q.status,
        limit: q.limit.unwrap_or(100).min(10_000),
        ..Default::default()
    });
    HttpResponse::Ok().json(JournalPage {
        capacity: journal.capacity(),
        size: journal.len(),
        count: entries.len(),
        entries,
    })
}

pub async fn journal_clear(state: web::Data<AppState>) -> HttpResponse {
    state.control.journal.clear();
    HttpResponse::NoContent().finish()
}

pub async fn fault_add(state: web::Data<AppState>, body: web::Json<NewRule>) -> AdminResult {
    let rule = state
        .control
        .faults
        .add(body.into_inner())
        .map_err(|e| AdminError::bad_request(e.to_string()))?;
    Ok(HttpResponse::Created().json(rule))
}

#[derive(Serialize)]
struct Rules {
    rules: Vec<Rule>,
}

pub async fn fault_list(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(Rules {
        rules: state.control.faults.list(),
    })
}

pub async fn fault_delete(state: web::Data<AppState>, id: web::Path<String>) -> AdminResult {
    if state.control.faults.remove(&id) {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(AdminError::not_found(format!("no fault rule {id}")))
    }
}

pub async fn fault_clear(state: web::Data<AppState>) -> HttpResponse {
    state.control.faults.clear();
    HttpResponse::NoContent().finish()
}

pub async fn latency_get(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.control.latency.get())
}

pub async fn latency_set(
    state: web::Data<AppState>,
    body: web::Json<LatencySettings>,
) -> AdminResult {
    state
        .control
        .latency
        .set(body.into_inner())
        .map_err(AdminError::bad_request)?;
    Ok(HttpResponse::Ok().json(state.control.latency.get()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    #[serde(rename = "type")]
    event_type: Option<String>,
    prefix: Option<String>,
    surface: Option<Surface>,
    user: Option<String>,
    limit: Option<usize>,
    /// Only events older than this id: the previous page's `next`.
    before: Option<u64>,
}

#[derive(Serialize)]
struct Events {
    count: usize,
    events: Vec<Event>,
    /// Where the next (older) page starts: pass it as `before`; null on the last page.
    next: Option<u64>,
}

pub async fn events(state: web::Data<AppState>, query: web::Query<EventQuery>) -> AdminResult {
    let q = query.into_inner();
    let events = state.core.events().list(&EventFilter {
        event_type: q.event_type,
        type_prefix: q.prefix,
        surface: q.surface,
        user: q.user,
        before: q.before,
        limit: q.limit.unwrap_or(100),
    })?;
    let full = events.len() >= q.limit.unwrap_or(100).clamp(1, MAX_EVENT_PAGE);
    Ok(HttpResponse::Ok().json(Events {
        count: events.len(),
        next: events.last().filter(|_| full).map(|e| e.id),
        events,
    }))
}

#[derive(Serialize)]
struct ClockView {
    now: String,
    epoch_seconds: i64,
    offset_seconds: i64,
    frozen: bool,
}

fn clock_view(state: &AppState) -> HttpResponse {
    let clock = state.core.clock();
    HttpResponse::Ok().json(ClockView {
        now: crate::clock::rfc3339_ms(clock.now_ms()),
        epoch_seconds: clock.now_secs(),
        offset_seconds: clock.offset_ms() / 1000,
        frozen: clock.is_frozen(),
    })
}

pub async fn clock_get(state: web::Data<AppState>) -> HttpResponse {
    clock_view(&state)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Advance {
    seconds: i64,
}

pub async fn clock_advance(state: web::Data<AppState>, body: web::Json<Advance>) -> AdminResult {
    const TEN_YEARS: i64 = 10 * 366 * 86_400;
    if body.seconds.abs() > TEN_YEARS {
        return Err(AdminError::bad_request("seconds must be within ±10 years"));
    }
    state.core.clock().advance(body.seconds);
    state.core.clock_changed().await?;
    Ok(clock_view(&state))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetClock {
    /// RFC 3339 instant.
    now: String,
    #[serde(default)]
    freeze: bool,
}

pub async fn clock_set(state: web::Data<AppState>, body: web::Json<SetClock>) -> AdminResult {
    let at = time::OffsetDateTime::parse(&body.now, &time::format_description::well_known::Rfc3339)
        .map_err(|e| {
            AdminError::bad_request(format!(
                "now must be an RFC 3339 instant such as 2030-01-01T00:00:00Z: {e}"
            ))
        })?;
    let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
    state.core.clock().set(ms, body.freeze);
    state.core.clock_changed().await?;
    Ok(clock_view(&state))
}

pub async fn clock_reset(state: web::Data<AppState>) -> AdminResult {
    state.core.clock().reset();
    state.core.clock_changed().await?;
    Ok(clock_view(&state))
}
