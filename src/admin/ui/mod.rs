//! The web dashboard at `/_vlsim/ui`: what clients sent and got (journal, events), the
//! sessions and tokens they hold, a token inspector, and the emulator's controls.
//!
//! Pages are rendered on the server with maud (templates are Rust, checked by the compiler,
//! escaped by default); the one stylesheet and the small live-refresh script are embedded
//! in the binary, nothing comes from elsewhere, and every page works without JavaScript.
//! It goes where the admin API goes: gone with `--no-admin`; with `--admin-token` a login
//! form keeps proof of the token in an HttpOnly, SameSite=Strict cookie (`guard.rs`), and
//! every form that changes something carries a CSRF token and is checked for its origin.
//! Nothing here runs on the emulated surfaces' requests: the pages read what the journal,
//! the event log and the core already keep.

mod controls;
mod events;
mod guard;
mod inspect;
mod journal;
mod layout;
mod overview;
mod pretty;
mod sessions;

use crate::core::CoreError;
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse, ResponseError};
use maud::Markup;

pub use guard::FormData;
pub use layout::Page;

pub const UI: &str = "/_vlsim/ui";

/// The dashboard's routes, as a scope to register before the admin API's `/_vlsim` scope.
pub fn scope() -> actix_web::Scope<
    impl actix_web::dev::ServiceFactory<
        actix_web::dev::ServiceRequest,
        Config = (),
        Response = actix_web::dev::ServiceResponse<actix_web::body::BoxBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    web::scope(UI)
        .app_data(
            web::QueryConfig::default()
                .error_handler(|err, _| UiError::bad_request(err.to_string()).into()),
        )
        .wrap(actix_web::middleware::from_fn(guard::require_login))
        .wrap(actix_web::middleware::from_fn(layout::security_headers))
        .route("", web::get().to(overview::page))
        .route("/", web::get().to(overview::page))
        .route("/login", web::get().to(guard::login_page))
        .route("/login", web::post().to(guard::login))
        .route("/logout", web::post().to(guard::logout))
        .route("/assets/vlsim.css", web::get().to(layout::css))
        .route("/assets/vlsim.js", web::get().to(layout::js))
        .route("/journal", web::get().to(journal::list))
        .route("/journal/clear", web::post().to(journal::clear))
        .route("/journal/{id}", web::get().to(journal::detail))
        .route("/events", web::get().to(events::list))
        .route("/sessions", web::get().to(sessions::page))
        .route("/sessions/revoke", web::post().to(sessions::revoke))
        .route("/inspect", web::get().to(inspect::page))
        .route("/inspect", web::post().to(inspect::inspect))
        .route("/controls", web::get().to(controls::page))
        .route("/faults", web::post().to(controls::fault_add))
        .route(
            "/faults/{id}/delete",
            web::post().to(controls::fault_delete),
        )
        .route("/latency", web::post().to(controls::latency_set))
        .route("/clock/advance", web::post().to(controls::clock_advance))
        .route("/clock/set", web::post().to(controls::clock_set))
        .route("/clock/freeze", web::post().to(controls::clock_freeze))
        .route("/clock/real", web::post().to(controls::clock_real))
        .route("/snapshots", web::post().to(controls::snapshot_save))
        .route(
            "/snapshots/{name}/restore",
            web::post().to(controls::snapshot_restore),
        )
        .route(
            "/snapshots/{name}/delete",
            web::post().to(controls::snapshot_delete),
        )
        .route("/reset", web::post().to(controls::reset))
        .default_service(web::to(not_found))
}

/// Why a page or form failed: shown as a page of its own with the status.
#[derive(Debug)]
pub struct UiError {
    status: StatusCode,
    message: String,
}

impl UiError {
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
}

impl std::fmt::Display for UiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl ResponseError for UiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let title = match self.status {
            StatusCode::FORBIDDEN => "Refused",
            StatusCode::NOT_FOUND => "Not found",
            s if s.is_client_error() => "That did not work",
            _ => "Something went wrong",
        };
        html(self.status, layout::error_page(title, &self.message))
    }
}

impl From<super::AdminError> for UiError {
    fn from(e: super::AdminError) -> Self {
        Self::new(e.status, e.message)
    }
}

impl From<CoreError> for UiError {
    fn from(e: CoreError) -> Self {
        let status = match &e {
            CoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            CoreError::InvalidArgument { .. } | CoreError::InvalidToken(_) => {
                StatusCode::BAD_REQUEST
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, e.to_string())
    }
}

impl From<crate::store::StoreError> for UiError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

pub type UiResult = Result<HttpResponse, UiError>;

/// An HTML page with this status.
pub fn html(status: StatusCode, markup: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(markup.into_string())
}

/// After a form: back to `to` (GET), with a notice code the page shows.
pub fn see_other(to: &str, notice: &str) -> HttpResponse {
    let sep = if to.contains('?') { '&' } else { '?' };
    HttpResponse::SeeOther()
        .insert_header(("Location", format!("{to}{sep}done={notice}")))
        .finish()
}

async fn not_found(req: actix_web::HttpRequest) -> HttpResponse {
    UiError::not_found(format!("The dashboard has no page {}.", req.path())).error_response()
}
