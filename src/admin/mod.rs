//! The emulator's own control plane, under `/_vlsim/` and nowhere else.

use crate::core::events::EventFilter;
use crate::state::AppState;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

pub const PREFIX: &str = "/_vlsim";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope(PREFIX)
            .route("/health", web::get().to(health))
            .route("/events", web::get().to(events))
            .route("/clock", web::get().to(clock_get))
            .route("/clock", web::put().to(clock_set))
            .route("/clock", web::delete().to(clock_reset))
            .route("/clock/advance", web::post().to(clock_advance)),
    );
}

fn error(status: actix_web::http::StatusCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": message.into()}))
}

async fn health(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs(),
        "data_dir": state.config.data_dir.display().to_string(),
        "surfaces": ["vlsi", "vcenter"],
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventQuery {
    #[serde(rename = "type")]
    event_type: Option<String>,
    prefix: Option<String>,
    surface: Option<String>,
    user: Option<String>,
    limit: Option<usize>,
}

async fn events(state: web::Data<AppState>, query: web::Query<EventQuery>) -> HttpResponse {
    let q = query.into_inner();
    let filter = EventFilter {
        event_type: q.event_type,
        type_prefix: q.prefix,
        surface: q.surface,
        user: q.user,
        limit: q.limit.unwrap_or(100),
    };
    match state.core.events(&filter) {
        Ok(events) => HttpResponse::Ok().json(json!({"count": events.len(), "events": events})),
        Err(e) => error(
            actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
            e.to_string(),
        ),
    }
}

fn clock_json(state: &AppState) -> serde_json::Value {
    let clock = &state.core.clock;
    json!({
        "now": crate::clock::rfc3339_ms(clock.now_ms()),
        "epoch_seconds": clock.now_secs(),
        "offset_seconds": clock.offset_ms() / 1000,
        "frozen": clock.is_frozen(),
    })
}

async fn clock_get(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(clock_json(&state))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Advance {
    seconds: i64,
}

async fn clock_advance(state: web::Data<AppState>, body: web::Json<Advance>) -> HttpResponse {
    state.core.clock.advance(body.seconds);
    HttpResponse::Ok().json(clock_json(&state))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SetClock {
    /// RFC 3339 instant.
    now: String,
    #[serde(default)]
    freeze: bool,
}

async fn clock_set(state: web::Data<AppState>, body: web::Json<SetClock>) -> HttpResponse {
    let parsed =
        time::OffsetDateTime::parse(&body.now, &time::format_description::well_known::Rfc3339);
    match parsed {
        Ok(at) => {
            let ms = i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX);
            state.core.clock.set(ms, body.freeze);
            HttpResponse::Ok().json(clock_json(&state))
        }
        Err(e) => error(
            actix_web::http::StatusCode::BAD_REQUEST,
            format!("now must be an RFC 3339 instant such as 2030-01-01T00:00:00Z: {e}"),
        ),
    }
}

async fn clock_reset(state: web::Data<AppState>) -> HttpResponse {
    state.core.clock.reset();
    HttpResponse::Ok().json(clock_json(&state))
}
