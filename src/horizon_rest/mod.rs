//! The Horizon Connection Server REST API under `/rest/`: JWT login, refresh and logout
//! (`auth.rs`), audit events (`audit.rs`, `filter.rs`), connection-server monitoring
//! (`monitor.rs`) and configuration reads (`config.rs`). Credentials, bodies and the query
//! string are parsed by the extractors in `extract.rs`, the one error mapping is in
//! `errors.rs`, response bodies are the types in `bodies.rs`; the rules live in
//! `crate::core::horizon` (shared with the VLSI SOAP surface: one user base, one key, one
//! event log).
//!
//! Every other path under `/rest/` answers a JSON 404 that says it is not emulated, except
//! the vCenter surface's `/rest/com/vmware/...` and `/rest/vcenter/...`, which keep the
//! vCenter answers.

pub mod audit;
pub mod auth;
pub mod bodies;
pub mod config;
pub mod errors;
pub mod extract;
pub mod filter;
pub mod monitor;

use crate::control::routes::{self, no_operations, Method, RouteTag, SurfaceDef};
use crate::core::horizon::RestAccess;
use crate::route;
use crate::surface::Surface;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use errors::RestError;

pub static SURFACE: SurfaceDef = SurfaceDef {
    surface: Surface::HorizonRest,
    prefixes: &["/rest"],
    routes: &[
        route!(POST "/rest/login" => auth::login, "Log in: {domain, username, password} → access and refresh JWTs", body = "AuthLogin"),
        route!(POST "/rest/refresh" => auth::refresh, "A new access token for a refresh token", body = "RefreshToken"),
        route!(POST "/rest/logout" => auth::logout, "End the login: every token of it is refused afterwards", body = "RefreshToken"),
        route!(GET "/rest/external/v1/audit-events" => audit::list, "Audit events (page, size, filter, sort_by, order_by)"),
        route!(GET "/rest/external/v2/audit-events" => audit::list, "Audit events, schema V2"),
        route!(GET "/rest/monitor/connection-servers" => monitor::list::<1>, "Connection server monitors (ConnectionServerMonitorInfo)"),
        route!(GET "/rest/monitor/v1/connection-servers" => monitor::list::<1>, "Same as the unversioned list (vlsim alias)"),
        route!(GET "/rest/monitor/v2/connection-servers" => monitor::list::<2>, "Connection server monitors, V2"),
        route!(GET "/rest/monitor/v3/connection-servers" => monitor::list::<3>, "Connection server monitors, V3"),
        route!(GET "/rest/monitor/v4/connection-servers" => monitor::list::<4>, "Connection server monitors, V4"),
        route!(GET "/rest/monitor/v1/connection-servers/{id}" => monitor::get::<2>, "One connection server monitor, V2"),
        route!(GET "/rest/monitor/v2/connection-servers/{id}" => monitor::get::<3>, "One connection server monitor, V3"),
        route!(GET "/rest/monitor/v3/connection-servers/{id}" => monitor::get::<3>, "One connection server monitor, V3 (vlsim alias)"),
        route!(GET "/rest/monitor/v4/connection-servers/{id}" => monitor::get::<4>, "One connection server monitor, V4"),
        route!(GET "/rest/config/v1/connection-servers" => config::connection_servers_v1, "Connection servers: id and jwt_info"),
        route!(GET "/rest/config/v2/connection-servers" => config::connection_servers_v2, "Connection servers, full record (ConnectionServerInfoV2)"),
        route!(GET "/rest/config/v1/jwt-authenticators" => config::jwt_authenticators, "Trusted JWT issuers and their keys"),
        route!(GET "/rest/config/v1/jwt-authenticators/{id}" => config::jwt_authenticator, "One JWT authenticator"),
        route!(GET "/rest/config/v1/event-database" => config::event_database, "The event database settings"),
    ],
    operations: no_operations,
    typed_fault: Some(errors::injected_fault),
    fault_names: errors::FAULT_NAMES,
};

/// The vCenter surface's part of `/rest/`: unmatched paths there keep actix's empty 404.
const VCENTER_PREFIXES: [&str; 2] = ["/rest/com/vmware", "/rest/vcenter"];

/// Registers the routes (each path also answers other methods, see [`other_method`]) and,
/// last, the JSON 404 for the rest of `/rest/`. Must come after the vCenter surface.
pub fn configure(cfg: &mut web::ServiceConfig) {
    for resource in routes::resources(&SURFACE, "", |_| true) {
        cfg.service(resource.default_service(web::to(other_method)));
    }
    cfg.service(web::resource(["/rest", "/rest/{tail:.*}"]).default_service(web::to(not_emulated)));
}

/// Any path under `/rest/` that nothing serves.
async fn not_emulated(req: HttpRequest) -> HttpResponse {
    let path = req.path();
    if VCENTER_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return HttpResponse::NotFound().finish();
    }
    RestError::not_emulated(req.method().as_str(), path).error_response()
}

/// A method an emulated path does not serve. Auth paths: 405 (`GET /rest/login`, the
/// smart-card login, is a not-emulated 404). Bearer paths: 401 without a live access
/// token, 403 when the role may not change anything, else a not-emulated 404.
async fn other_method(req: HttpRequest) -> HttpResponse {
    let Some(tag) = req.app_data::<RouteTag>() else {
        return RestError::not_emulated(req.method().as_str(), req.path()).error_response();
    };
    let posts = tag
        .def
        .routes
        .iter()
        .any(|r| r.path == tag.path && r.method == Method::Post);
    let outcome = if posts {
        if req.method() == actix_web::http::Method::GET && tag.path == "/rest/login" {
            RestError::not_emulated("GET", req.path())
        } else {
            RestError::MethodNotAllowed {
                allow: "POST",
                message: format!("{} accepts POST only", tag.path),
            }
        }
    } else {
        match extract::caller(&req).and_then(|c| Ok(c.require(RestAccess::Write)?)) {
            Err(e) => e,
            Ok(()) => RestError::not_emulated(req.method().as_str(), req.path()),
        }
    };
    outcome.error_response()
}
