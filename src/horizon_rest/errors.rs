//! The one mapping from what went wrong to the Horizon REST wire: a status and the error
//! body clients read, `{"error_message": "...", "errors": [{"error_key", "error_message"}]}`
//! (the top-level `error_message` a real server's 400s carry, plus the documented `APIError`
//! items; the envelope itself is undocumented).

use crate::core::CoreError;
use actix_web::http::header::ALLOW;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub const NOT_AUTHENTICATED: &str = "User is not authenticated";

#[derive(Debug, thiserror::Error)]
pub enum RestError {
    #[error(transparent)]
    Core(#[from] CoreError),
    /// 400 with this key.
    #[error("{key}: {message}")]
    BadRequest { key: &'static str, message: String },
    /// 401: no usable `Authorization: Bearer`.
    #[error("not authenticated: {0}")]
    NotAuthenticated(String),
    /// 400 from `/rest/refresh` and `/rest/logout`.
    #[error("{0}")]
    InvalidRefresh(String),
    /// 404 with this key.
    #[error("{key}: {message}")]
    NotFound { key: &'static str, message: String },
    /// 405 with an `Allow` header.
    #[error("{message}")]
    MethodNotAllowed {
        allow: &'static str,
        message: String,
    },
}

impl RestError {
    pub fn bad_request(key: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            key,
            message: message.into(),
        }
    }

    /// A refresh or logout that cannot go ahead: invalid token errors become 400 (never 401
    /// on these paths), anything else keeps its own mapping.
    pub fn refresh(e: CoreError) -> Self {
        match e {
            CoreError::InvalidToken(m) | CoreError::NotAuthenticated(m) => Self::InvalidRefresh(m),
            other => Self::Core(other),
        }
    }

    /// 404 for a `/rest/` path vlsim does not emulate.
    pub fn not_emulated(method: &str, path: &str) -> Self {
        Self::NotFound {
            key: "vlsim.not.emulated",
            message: format!(
                "{method} {path} is not emulated by vlsim (GET /_vlsim/about lists what is)"
            ),
        }
    }
}

#[derive(Serialize)]
struct ErrorItem<'a> {
    error_key: &'a str,
    error_message: &'a str,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error_message: &'a str,
    errors: [ErrorItem<'a>; 1],
}

/// The error body with `status`.
pub fn error_response(status: StatusCode, key: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(ErrorBody {
        error_message: message,
        errors: [ErrorItem {
            error_key: key,
            error_message: message,
        }],
    })
}

/// The key of a 400 caused by the core's check of a named input.
fn argument_key(field: &str) -> &'static str {
    match field.split(['.', '[']).next().unwrap_or(field) {
        "filter" => "rest.filter.invalid",
        "page" | "size" => "rest.pagination.invalid",
        "sort_by" | "order_by" => "rest.sort.invalid",
        _ => "rest.request.invalid",
    }
}

fn core_response(e: &CoreError) -> HttpResponse {
    match e {
        CoreError::NotAuthenticated(_) | CoreError::InvalidToken(_) => error_response(
            StatusCode::UNAUTHORIZED,
            "rest.auth.not.authenticated",
            NOT_AUTHENTICATED,
        ),
        CoreError::InvalidCredentials(m) => {
            error_response(StatusCode::UNAUTHORIZED, "rest.auth.invalid.credentials", m)
        }
        CoreError::PermissionDenied { message, .. } => error_response(
            StatusCode::FORBIDDEN,
            "rest.auth.forbidden",
            &format!("Access to the resource is forbidden: {message}"),
        ),
        CoreError::InvalidArgument { field, message } => {
            let key = argument_key(field);
            let message = if key == "rest.filter.invalid" {
                format!("Invalid filter ({field}): {message}")
            } else {
                message.clone()
            };
            error_response(StatusCode::BAD_REQUEST, key, &message)
        }
        CoreError::NotFound { message, .. } => {
            error_response(StatusCode::NOT_FOUND, "rest.entity.not.found", message)
        }
        CoreError::Conflict(m) => error_response(StatusCode::CONFLICT, "rest.conflict", m),
        CoreError::Store(_) | CoreError::Internal(_) => {
            tracing::error!(error = %e, "horizon REST request failed");
            error_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "vlsim.internal.error",
                &e.to_string(),
            )
        }
    }
}

impl ResponseError for RestError {
    fn status_code(&self) -> StatusCode {
        self.error_response().status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Core(e) => core_response(e),
            Self::BadRequest { key, message } => {
                error_response(StatusCode::BAD_REQUEST, key, message)
            }
            Self::NotAuthenticated(why) => {
                tracing::debug!(reason = %why, "401");
                error_response(
                    StatusCode::UNAUTHORIZED,
                    "rest.auth.not.authenticated",
                    NOT_AUTHENTICATED,
                )
            }
            Self::InvalidRefresh(why) => {
                tracing::debug!(reason = %why, "refresh token refused");
                error_response(
                    StatusCode::BAD_REQUEST,
                    "rest.auth.invalid.refresh.token",
                    "The refresh token is invalid, expired or logged out",
                )
            }
            Self::NotFound { key, message } => error_response(StatusCode::NOT_FOUND, key, message),
            Self::MethodNotAllowed { allow, message } => {
                let mut res = error_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "vlsim.method.not.allowed",
                    message,
                );
                if let Ok(value) = actix_web::http::header::HeaderValue::from_str(allow) {
                    res.headers_mut().insert(ALLOW, value);
                }
                res
            }
        }
    }
}

pub type RestResult<T> = Result<T, RestError>;

/// The error keys a typed fault rule offers here (the first is the default).
pub const FAULT_NAMES: &[&str] = &[
    "vlsim.injected.fault",
    "rest.auth.not.authenticated",
    "rest.auth.forbidden",
    "vlsim.internal.error",
];

/// How a typed fault rule answers on this surface: the error body, 503 unless the rule
/// names a status; `fault` is the error key.
pub fn injected_fault(
    _route: &crate::control::routes::Route,
    typed: &crate::control::routes::TypedFault<'_>,
) -> HttpResponse {
    error_response(
        typed.status.unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        typed.fault.unwrap_or("vlsim.injected.fault"),
        &typed.message,
    )
}
