//! The emulator's own control plane, under `/_vlsim/` and nowhere else: health, coverage,
//! reset/state/snapshots/seed (`world.rs`, `state.rs`, `snapshots.rs`), journal, fault
//! rules, latency, the clock and events (`controls.rs`); the web dashboard at `/_vlsim/ui`
//! (`ui/`). `--no-admin` leaves only health; `--admin-token` protects everything but health.

mod controls;
mod oauth_view;
mod openapi;
mod snapshots;
mod state;
pub mod ui;
mod world;

use crate::control::routes::{self, no_operations, SurfaceDef};
use crate::route;
use crate::state::AppState;
use crate::surface::Surface;
use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;
use std::collections::BTreeMap;

pub const PREFIX: &str = "/_vlsim";
const HEALTH: &str = "/_vlsim/health";

pub static SURFACE: SurfaceDef = SurfaceDef {
    surface: Surface::Admin,
    prefixes: &[PREFIX],
    routes: &[
        route!(GET "/_vlsim/health" => health, "Liveness: status (ok, or degraded with the reason and 503 while the data dir refuses writes), version, uptime, data dir, the sweeper's last run"),
        route!(GET "/_vlsim/about" => about, "Every emulated operation per surface"),
        route!(GET "/_vlsim/openapi.json" => openapi::document, "This document"),
        route!(POST "/_vlsim/reset" => world::reset, "Back to the fixtures, or to a snapshot ({\"snapshot\": name}); sessions, tokens, events and the journal are cleared", body = "Reset"),
        route!(GET "/_vlsim/state" => state::dump, "The world: counts, and the first page of each relation (query: limit<=1000; relation + after for the next page of one)"),
        route!(POST "/_vlsim/seed" => world::seed, "Load a fixtures document (TOML, or JSON of the same shape), replacing the world", body = "Fixtures"),
        route!(GET "/_vlsim/snapshots" => snapshots::list, "Names of the stored snapshots"),
        route!(POST "/_vlsim/snapshot/{name}" => snapshots::take, "Snapshot the whole store under a name", status = 201),
        route!(DELETE "/_vlsim/snapshot/{name}" => snapshots::delete, "Delete a snapshot", status = 204),
        route!(POST "/_vlsim/snapshot/{name}/restore" => snapshots::restore, "Restore a snapshot"),
        route!(GET "/_vlsim/journal" => controls::journal, "Recent requests and responses, newest first (query: surface, operation, status, limit)"),
        route!(DELETE "/_vlsim/journal" => controls::journal_clear, "Empty the journal", status = 204),
        route!(POST "/_vlsim/faults" => controls::fault_add, "Add a fault rule", body = "FaultRule", status = 201),
        route!(GET "/_vlsim/faults" => controls::fault_list, "Fault rules with their counters"),
        route!(DELETE "/_vlsim/faults" => controls::fault_clear, "Remove every fault rule", status = 204),
        route!(DELETE "/_vlsim/faults/{id}" => controls::fault_delete, "Remove one fault rule", status = 204),
        route!(GET "/_vlsim/latency" => controls::latency_get, "Latency settings"),
        route!(PUT "/_vlsim/latency" => controls::latency_set, "Set latency (global, per operation, jitter)", body = "Latency"),
        route!(GET "/_vlsim/events" => controls::events, "Events newest first (query: type, prefix, surface, user, limit<=1000, before = the previous page's next)"),
        route!(GET "/_vlsim/clock" => controls::clock_get, "The server clock"),
        route!(PUT "/_vlsim/clock" => controls::clock_set, "Set the clock ({\"now\": RFC3339, \"freeze\": bool})", body = "SetClock"),
        route!(DELETE "/_vlsim/clock" => controls::clock_reset, "Back to real time"),
        route!(POST "/_vlsim/clock/advance" => controls::clock_advance, "Move the clock by {\"seconds\": N}", body = "Advance"),
    ],
    operations: no_operations,
    typed_fault: None,
    fault_names: &[],
};

pub fn configure(cfg: &mut web::ServiceConfig, enabled: bool) {
    for resource in routes::resources(&SURFACE, "", |path| path == HEALTH) {
        cfg.service(resource);
    }
    if !enabled {
        return;
    }
    // Before the admin API's scope, which would otherwise take `/_vlsim/ui` too.
    cfg.service(ui::scope());
    let mut scope = web::scope(PREFIX)
        .wrap(actix_web::middleware::from_fn(require_admin_token))
        // Malformed JSON bodies and query strings answer like every other admin error.
        .app_data(
            web::JsonConfig::default()
                .error_handler(|err, _| AdminError::bad_request(err.to_string()).into()),
        )
        .app_data(
            web::QueryConfig::default()
                .error_handler(|err, _| AdminError::bad_request(err.to_string()).into()),
        );
    for resource in routes::resources(&SURFACE, PREFIX, |path| path != HEALTH) {
        scope = scope.service(resource);
    }
    cfg.service(scope.default_service(web::to(not_found)));
}

/// What went wrong with an admin call: a status and `{"error": message}`.
#[derive(Debug)]
pub struct AdminError {
    status: StatusCode,
    message: String,
}

impl AdminError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl std::fmt::Display for AdminError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl ResponseError for AdminError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status).json(ErrorBody {
            error: &self.message,
        })
    }
}

impl From<crate::core::CoreError> for AdminError {
    fn from(e: crate::core::CoreError) -> Self {
        match e {
            crate::core::CoreError::Store(e) => e.into(),
            other => Self::internal(other),
        }
    }
}

impl From<crate::store::StoreError> for AdminError {
    /// A disk that refuses writes is 503 (try again later), like on every surface.
    fn from(e: crate::store::StoreError) -> Self {
        if e.is_unavailable() {
            Self::new(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        } else {
            Self::internal(e)
        }
    }
}

pub type AdminResult = Result<HttpResponse, AdminError>;

async fn not_found(req: HttpRequest) -> HttpResponse {
    AdminError::not_found(format!(
        "no admin endpoint {} {}; see GET {PREFIX}/openapi.json",
        req.method(),
        req.path()
    ))
    .error_response()
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
            .json(ErrorBody {
                error: "the admin API needs Authorization: Bearer <admin token>",
            });
        Ok(req.into_response(response))
    }
}

/// The emulated surfaces, in the order they were registered.
fn emulated(state: &AppState) -> impl Iterator<Item = &'static SurfaceDef> + '_ {
    state
        .control
        .registry
        .surfaces()
        .iter()
        .copied()
        .filter(|d| d.surface != Surface::Admin)
}

#[derive(Serialize)]
struct Health {
    /// `ok`, or `degraded` while the data dir refuses writes (then HTTP 503).
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    degraded_seconds: Option<u64>,
    version: &'static str,
    uptime_seconds: u64,
    data_dir: String,
    surfaces: Vec<Surface>,
    store: StoreHealth,
    sweeper: SweeperHealth,
}

#[derive(Serialize)]
struct StoreHealth {
    /// Event records waiting in memory to be written (or made durable).
    pending_events: usize,
    /// Event records given up because they could not be written in time.
    lost_events: u64,
    /// Flushes made so a write was durable before its answer (requests that wait at the
    /// same time share one).
    durable_flushes: u64,
}

#[derive(Serialize)]
struct SweeperHealth {
    runs: u64,
    interval_seconds: u64,
    last_run: Option<crate::core::sweep::SweepRun>,
}

async fn health(state: web::Data<AppState>) -> HttpResponse {
    let store = state.core.store();
    let degraded = store.degraded();
    let (pending_events, lost_events) = store.pending_log_records();
    let sweeper = state.core.sweeper();
    let body = Health {
        status: if degraded.is_some() { "degraded" } else { "ok" },
        degraded_seconds: degraded.as_ref().map(|(_, d)| d.as_secs()),
        reason: degraded.map(|(reason, _)| reason),
        version: env!("CARGO_PKG_VERSION"),
        uptime_seconds: state.started.elapsed().as_secs(),
        data_dir: state.config.data_dir.display().to_string(),
        surfaces: emulated(&state).map(|d| d.surface).collect(),
        store: StoreHealth {
            pending_events,
            lost_events,
            durable_flushes: store.durable_flushes(),
        },
        sweeper: SweeperHealth {
            runs: sweeper.runs(),
            interval_seconds: state.config.sweep_interval,
            last_run: sweeper.last(),
        },
    };
    let status = if body.reason.is_some() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    HttpResponse::build(status).json(body)
}

#[derive(Serialize)]
struct About {
    name: &'static str,
    version: &'static str,
    surfaces: BTreeMap<Surface, SurfaceAbout>,
    admin: Vec<&'static str>,
}

#[derive(Serialize)]
struct SurfaceAbout {
    /// Every operation name: the routes' (`METHOD /path`) and those dispatched inside them.
    operations: Vec<&'static str>,
    routes: Vec<RouteAbout>,
}

#[derive(Serialize)]
struct RouteAbout {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
}

fn route_list(def: &SurfaceDef) -> Vec<RouteAbout> {
    def.routes
        .iter()
        .map(|r| RouteAbout {
            method: r.method.name(),
            path: r.path,
            summary: r.summary,
        })
        .collect()
}

async fn about(state: web::Data<AppState>) -> HttpResponse {
    let registry = &state.control.registry;
    HttpResponse::Ok().json(About {
        name: "vlsim",
        version: env!("CARGO_PKG_VERSION"),
        surfaces: emulated(&state)
            .map(|def| {
                let about = SurfaceAbout {
                    operations: registry.operation_names(def.surface),
                    routes: route_list(def),
                };
                (def.surface, about)
            })
            .collect(),
        admin: SURFACE.routes.iter().map(|r| r.operation).collect(),
    })
}
