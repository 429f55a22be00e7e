//! The emulator's own control plane, under `/_vlsim/` and nowhere else: health, coverage,
//! reset/state/snapshots/seed, journal, fault rules, latency, the clock and events.
//! `--no-admin` leaves only health; `--admin-token` protects everything but health.

mod openapi;
mod snapshots;

use crate::control::faults::NewRule;
use crate::control::journal::Filter as JournalFilter;
use crate::control::latency::LatencySettings;
use crate::core::events::EventFilter;
use crate::fixtures::World;
use crate::state::AppState;
use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::json;

pub const PREFIX: &str = "/_vlsim";

pub fn configure(cfg: &mut web::ServiceConfig, enabled: bool) {
    cfg.route(&format!("{PREFIX}/health"), web::get().to(health));
    if !enabled {
        return;
    }
    cfg.service(
        web::scope(PREFIX)
            .wrap(actix_web::middleware::from_fn(require_admin_token))
            .route("/about", web::get().to(about))
            .route("/openapi.json", web::get().to(openapi::document))
            .route("/reset", web::post().to(reset))
            .route("/state", web::get().to(state_dump))
            .route("/seed", web::post().to(seed))
            .route("/snapshots", web::get().to(snapshots::list))
            .route("/snapshot/{name}", web::post().to(snapshots::take))
            .route("/snapshot/{name}", web::delete().to(snapshots::delete))
            .route(
                "/snapshot/{name}/restore",
                web::post().to(snapshots::restore),
            )
            .route("/journal", web::get().to(journal))
            .route("/journal", web::delete().to(journal_clear))
            .route("/faults", web::post().to(fault_add))
            .route("/faults", web::get().to(fault_list))
            .route("/faults", web::delete().to(fault_clear))
            .route("/faults/{id}", web::delete().to(fault_delete))
            .route("/latency", web::get().to(latency_get))
            .route("/latency", web::put().to(latency_set))
            .route("/events", web::get().to(events))
            .route("/clock", web::get().to(clock_get))
            .route("/clock", web::put().to(clock_set))
            .route("/clock", web::delete().to(clock_reset))
            .route("/clock/advance", web::post().to(clock_advance))
            .default_service(web::to(not_found)),
    );
}

pub fn error(status: StatusCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({"error": message.into()}))
}

fn internal(e: impl std::fmt::Display) -> HttpResponse {
    error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    error(
        StatusCode::NOT_FOUND,
        format!(
            "no admin endpoint {} {}; see GET {PREFIX}/openapi.json",
            req.method(),
            req.path()
        ),
    )
}

/// With `--admin-token T`: `Authorization: Bearer T` (or `X-Vlsim-Admin-Token: T`).
async fn require_admin_token(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let expected = req
        .app_data::<web::Data<AppState>>()
        .and_then(|s| s.config.admin_token.clone());
    let Some(expected) = expected else {
        return next.call(req).await;
    };
    let headers = req.headers();
    let presented = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| {
            headers
                .get("x-vlsim-admin-token")
                .and_then(|v| v.to_str().ok())
        })
        .unwrap_or("");
    // Constant-time comparison of the digests, so timing says nothing about the token.
    let same = {
        use sha2::{Digest, Sha256};
        let (a, b) = (
            Sha256::digest(presented.as_bytes()),
            Sha256::digest(expected.as_bytes()),
        );
        a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    };
    if same {
        next.call(req).await
    } else {
        let response = HttpResponse::Unauthorized()
            .insert_header(("WWW-Authenticate", "Bearer realm=\"vlsim-admin\""))
            .json(json!({"error": "the admin API needs Authorization: Bearer <admin token>"}));
        Ok(req.into_response(response))
    }
}

async fn health(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_seconds": state.started.elapsed().as_secs(),
        "data_dir": state.config.data_dir.display().to_string(),
        "surfaces": ["vlsi", "fusionauth", "vcenter"],
    }))
}

async fn about(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "name": "vlsim",
        "version": env!("CARGO_PKG_VERSION"),
        "surfaces": {
            "vlsi": {
                "endpoint": crate::vlsi::SDK_PATH,
                "wsdl": format!("{}?wsdl", crate::vlsi::SDK_PATH),
                "services": state.vlsi.services(),
                "operations": state.vlsi.operation_names(),
            },
            "fusionauth": {"operations": crate::fusionauth::OPERATIONS},
            "vcenter": {"operations": crate::vcenter::OPERATIONS},
        },
        "admin": openapi::paths(),
    }))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    /// Restore this snapshot instead of the fixtures.
    #[serde(default)]
    snapshot: Option<String>,
}

/// `POST /_vlsim/reset`: back to the fixtures (or a snapshot); sessions, tokens and events
/// go, the journal is emptied. Fault rules, latency and the clock are left as they are.
async fn reset(state: web::Data<AppState>, body: web::Bytes) -> HttpResponse {
    let request: ResetRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ResetRequest::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(r) => r,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("invalid reset request: {e}"),
                )
            }
        }
    };
    let result = match &request.snapshot {
        Some(name) => return snapshots::restore_named(&state, name).await,
        None => state.core.reset(&state.source),
    };
    match result {
        Ok(()) => {
            state.control.journal.clear();
            tracing::info!(fixtures = %state.source.origin, "reset to the fixtures");
            HttpResponse::Ok().json(json!({"status": "reset", "fixtures": state.source.origin}))
        }
        Err(e) => internal(e),
    }
}

async fn state_dump(state: web::Data<AppState>) -> HttpResponse {
    match state.core.state_dump() {
        Ok(mut dump) => {
            if let Some(obj) = dump.as_object_mut() {
                obj.insert(
                    "control".into(),
                    json!({
                        "journal_entries": state.control.journal.len(),
                        "journal_capacity": state.control.journal.capacity(),
                        "fault_rules": state.control.faults.list().len(),
                        "latency": state.control.latency.get(),
                        "clock_offset_seconds": state.core.clock.offset_ms() / 1000,
                    }),
                );
            }
            HttpResponse::Ok().json(dump)
        }
        Err(e) => internal(e),
    }
}

/// `POST /_vlsim/seed`: load a fixtures document (TOML, or the same shape as JSON) over
/// the API, replacing the world.
async fn seed(state: web::Data<AppState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let Ok(text) = std::str::from_utf8(&body) else {
        return error(StatusCode::BAD_REQUEST, "the fixtures must be UTF-8 text");
    };
    let is_json = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let text = if is_json {
        match serde_json::from_str::<serde_json::Value>(text)
            .map_err(|e| e.to_string())
            .and_then(|v| toml::to_string(&v).map_err(|e| e.to_string()))
        {
            Ok(t) => t,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("invalid JSON fixtures: {e}"),
                )
            }
        }
    } else {
        text.to_string()
    };
    let (world, keys) = match World::parse(&text, "seed request", None) {
        Ok(parsed) => parsed,
        Err(e) => return error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let source = crate::core::WorldSource {
        world,
        keys,
        origin: "POST /_vlsim/seed".into(),
        generate_keys: false,
    };
    // Validate fully before touching the store: a bad seed must leave the world as it was.
    if let Err(e) = source
        .keys
        .iter()
        .try_for_each(|k| crate::core::keys::SigningKey::from_material(k).map(|_| ()))
    {
        return error(StatusCode::BAD_REQUEST, e.to_string());
    }
    if !source
        .keys
        .iter()
        .any(|k| k.id == source.world.horizon.signing_key)
    {
        return error(
            StatusCode::BAD_REQUEST,
            format!(
                "horizon.signing_key {} names no key in the fixtures",
                source.world.horizon.signing_key
            ),
        );
    }
    match state.core.reset(&source) {
        Ok(()) => {
            state.control.journal.clear();
            HttpResponse::Ok().json(json!({"status": "seeded", "keys": source.keys.len()}))
        }
        Err(e) => internal(e),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JournalQuery {
    surface: Option<String>,
    operation: Option<String>,
    status: Option<u16>,
    limit: Option<usize>,
}

async fn journal(state: web::Data<AppState>, query: web::Query<JournalQuery>) -> HttpResponse {
    let q = query.into_inner();
    let entries = state.control.journal.list(&JournalFilter {
        surface: q.surface,
        operation: q.operation,
        status: q.status,
        limit: q.limit.unwrap_or(100).min(10_000),
    });
    HttpResponse::Ok().json(json!({
        "capacity": state.control.journal.capacity(),
        "size": state.control.journal.len(),
        "count": entries.len(),
        "entries": entries,
    }))
}

async fn journal_clear(state: web::Data<AppState>) -> HttpResponse {
    state.control.journal.clear();
    HttpResponse::NoContent().finish()
}

async fn fault_add(state: web::Data<AppState>, body: web::Json<NewRule>) -> HttpResponse {
    match state.control.faults.add(body.into_inner()) {
        Ok(rule) => HttpResponse::Created().json(rule),
        Err(e) => error(StatusCode::BAD_REQUEST, e.to_string()),
    }
}

async fn fault_list(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"rules": state.control.faults.list()}))
}

async fn fault_delete(state: web::Data<AppState>, id: web::Path<String>) -> HttpResponse {
    if state.control.faults.remove(&id) {
        HttpResponse::NoContent().finish()
    } else {
        error(StatusCode::NOT_FOUND, format!("no fault rule {id}"))
    }
}

async fn fault_clear(state: web::Data<AppState>) -> HttpResponse {
    state.control.faults.clear();
    HttpResponse::NoContent().finish()
}

async fn latency_get(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(state.control.latency.get())
}

async fn latency_set(state: web::Data<AppState>, body: web::Json<LatencySettings>) -> HttpResponse {
    match state.control.latency.set(body.into_inner()) {
        Ok(()) => HttpResponse::Ok().json(state.control.latency.get()),
        Err(e) => error(StatusCode::BAD_REQUEST, e),
    }
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
        Err(e) => internal(e),
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
    const TEN_YEARS: i64 = 10 * 366 * 86_400;
    if body.seconds.abs() > TEN_YEARS {
        return error(StatusCode::BAD_REQUEST, "seconds must be within ±10 years");
    }
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
            StatusCode::BAD_REQUEST,
            format!("now must be an RFC 3339 instant such as 2030-01-01T00:00:00Z: {e}"),
        ),
    }
}

async fn clock_reset(state: web::Data<AppState>) -> HttpResponse {
    state.core.clock.reset();
    HttpResponse::Ok().json(clock_json(&state))
}
