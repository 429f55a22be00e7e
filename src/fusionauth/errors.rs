//! The one mapping from what went wrong to FusionAuth's wire form: a status and, on 400 and
//! 503, the Errors JSON `{"fieldErrors": {...}, "generalErrors": [...]}`. 401, 404 and 500
//! carry an empty body (the official clients expect exactly that).

use crate::core::fusionauth::oauth::{ErrorCode, OAuthFailure};
use crate::core::CoreError;
use actix_web::http::header::{HeaderValue, WWW_AUTHENTICATE};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a client is told while the data dir refuses writes.
pub const UNAVAILABLE_MESSAGE: &str =
    "The server cannot store data at the moment (its disk refuses writes); try again later.";

/// FusionAuth's JSON content type.
pub const JSON_CONTENT_TYPE: &str = "application/json;charset=UTF-8";

#[derive(Debug, thiserror::Error)]
pub enum FaError {
    #[error(transparent)]
    Core(#[from] CoreError),
    /// 400 `fieldErrors.<field>[0].code = "[<kind>]<field>"`.
    #[error("{field}: {message}")]
    Field {
        kind: &'static str,
        field: String,
        message: String,
    },
    /// 400 `generalErrors[0].code = code`.
    #[error("{code}: {message}")]
    General { code: String, message: String },
    /// 401, empty body: missing or wrong credentials.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 404, empty body.
    #[error("not found")]
    NotFound,
    /// An OAuth2 JSON error (`/oauth2/token`, `introspect`, `userinfo`).
    #[error("{failure}")]
    OAuth {
        failure: OAuthFailure,
        challenge: Challenge,
    },
    /// The hosted pages' error page (`/oauth2/authorize`, `logout`): HTML, never a redirect.
    #[error("{0}")]
    OAuthPage(OAuthFailure),
}

/// Which `WWW-Authenticate` an OAuth2 error carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Challenge {
    None,
    /// The client authenticated with `Authorization: Basic` (only on `invalid_client`).
    Basic,
    /// A protected resource (userinfo): always 401 with `Bearer`.
    Bearer,
}

impl Challenge {
    /// What a client's failed authentication challenges with: Basic if it used Basic.
    pub fn for_client(used_basic: bool) -> Self {
        if used_basic {
            Self::Basic
        } else {
            Self::None
        }
    }
}

impl FaError {
    /// An OAuth2 JSON error without a challenge.
    pub fn oauth(failure: OAuthFailure) -> Self {
        Self::OAuth {
            failure,
            challenge: Challenge::None,
        }
    }
}

/// The status of an OAuth2 JSON error.
fn oauth_status(failure: &OAuthFailure, challenge: Challenge) -> StatusCode {
    match (failure.error, challenge) {
        (_, Challenge::Bearer) | (ErrorCode::InvalidClient | ErrorCode::InvalidToken, _) => {
            StatusCode::UNAUTHORIZED
        }
        (ErrorCode::ServerError, _) => StatusCode::INTERNAL_SERVER_ERROR,
        (ErrorCode::TemporarilyUnavailable, _) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// RFC 6749 §5.2 plus FusionAuth's `error_reason`, never cached.
pub fn oauth_error_response(failure: &OAuthFailure, challenge: Challenge) -> HttpResponse {
    let status = oauth_status(failure, challenge);
    let mut res = json_response(status, &super::oauth::bodies::OAuthErrorBody::from(failure));
    let headers = res.headers_mut();
    super::oauth::no_store(headers);
    let challenge = match (challenge, failure.error) {
        (Challenge::Basic, ErrorCode::InvalidClient) => Some(r#"Basic realm="vlsim""#.to_string()),
        (Challenge::Bearer, code) => Some(format!(
            r#"Bearer realm="vlsim", error="{}", error_description="{}""#,
            code.name(),
            failure.description.replace(['"', '\\'], "'")
        )),
        _ => None,
    };
    if let Some(value) = challenge.and_then(|v| HeaderValue::from_str(&v).ok()) {
        headers.insert(WWW_AUTHENTICATE, value);
    }
    res
}

impl FaError {
    pub fn field(kind: &'static str, field: &str, message: impl Into<String>) -> Self {
        Self::Field {
            kind,
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn missing(field: &str) -> Self {
        Self::field("missing", field, format!("You must specify the [{field}]."))
    }

    pub fn could_not_convert(field: &str, value: &str) -> Self {
        Self::field(
            "couldNotConvert",
            field,
            format!("Invalid {field} [{value}]. This must be a valid UUID String (e.g. 25a872da-bb44-4af8-a43d-e7bcb5351ebc)."),
        )
    }

    pub fn general(code: &str, message: impl Into<String>) -> Self {
        Self::General {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// A JSON body with FusionAuth's content type.
pub fn json_response(status: StatusCode, body: &impl Serialize) -> HttpResponse {
    match serde_json::to_vec(body) {
        Ok(bytes) => HttpResponse::build(status)
            .content_type(JSON_CONTENT_TYPE)
            .body(bytes),
        Err(e) => {
            tracing::error!(error = %e, "a FusionAuth response could not be encoded");
            empty(StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

/// FusionAuth's `Errors` object.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Errors {
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    field_errors: BTreeMap<String, Vec<ErrorItem>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    general_errors: Vec<ErrorItem>,
}

#[derive(Debug, Serialize)]
pub struct ErrorItem {
    code: String,
    message: String,
}

fn field_errors(field: &str, code: &str, message: &str) -> Errors {
    let item = ErrorItem {
        code: code.to_string(),
        message: message.to_string(),
    };
    Errors {
        field_errors: BTreeMap::from([(field.to_string(), vec![item])]),
        general_errors: Vec::new(),
    }
}

pub fn general_errors(code: &str, message: &str) -> Errors {
    Errors {
        field_errors: BTreeMap::new(),
        general_errors: vec![ErrorItem {
            code: code.to_string(),
            message: message.to_string(),
        }],
    }
}

fn empty(status: StatusCode) -> HttpResponse {
    HttpResponse::build(status).finish()
}

/// `CoreError::InvalidArgument.field` is either a field name (code `[invalid]<field>`), or
/// `[<kind>]<field>` (code as given), or `[<Code>]` alone (a general error).
fn invalid_argument(field: &str, message: &str) -> Errors {
    match field
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
    {
        Some((_, "")) => general_errors(field, message),
        Some((_, name)) => field_errors(name, field, message),
        None => field_errors(field, &format!("[invalid]{field}"), message),
    }
}

impl ResponseError for FaError {
    fn status_code(&self) -> StatusCode {
        self.error_response().status()
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            FaError::Core(core) => match core {
                CoreError::NotAuthenticated(_)
                | CoreError::InvalidToken(_)
                | CoreError::PermissionDenied { .. } => empty(StatusCode::UNAUTHORIZED),
                // The Login API answers a wrong password like an unknown user.
                CoreError::InvalidCredentials(_) | CoreError::NotFound { .. } => {
                    empty(StatusCode::NOT_FOUND)
                }
                CoreError::InvalidArgument { field, message } => {
                    json_response(StatusCode::BAD_REQUEST, &invalid_argument(field, message))
                }
                CoreError::Conflict(_) => empty(StatusCode::CONFLICT),
                // FusionAuth documents 503 for a failing backing store; the body says why.
                CoreError::Store(e) if e.is_unavailable() => {
                    tracing::error!(error = %core, "fusionauth request failed: the data dir refuses writes");
                    json_response(
                        StatusCode::SERVICE_UNAVAILABLE,
                        &general_errors("[ServiceUnavailable]", UNAVAILABLE_MESSAGE),
                    )
                }
                CoreError::Store(_) | CoreError::Internal(_) => {
                    tracing::error!(error = %core, "fusionauth request failed");
                    empty(StatusCode::INTERNAL_SERVER_ERROR)
                }
            },
            FaError::Field {
                kind,
                field,
                message,
            } => json_response(
                StatusCode::BAD_REQUEST,
                &field_errors(field, &format!("[{kind}]{field}"), message),
            ),
            FaError::General { code, message } => {
                json_response(StatusCode::BAD_REQUEST, &general_errors(code, message))
            }
            FaError::Unauthorized(why) => {
                tracing::debug!(reason = %why, "401");
                empty(StatusCode::UNAUTHORIZED)
            }
            FaError::NotFound => empty(StatusCode::NOT_FOUND),
            FaError::OAuth { failure, challenge } => oauth_error_response(failure, *challenge),
            FaError::OAuthPage(failure) => super::oauth::pages::error_page(failure),
        }
    }
}

pub type FaResult<T> = Result<T, FaError>;

/// Error codes a typed fault rule may give (any code works; the first is the default).
pub const FAULT_NAMES: &[&str] = &[
    "[ServiceUnavailable]",
    "[InternalError]",
    "[TooManyRequests]",
];

/// How a typed fault rule answers on this surface: FusionAuth's Errors JSON, 503 unless
/// the rule names a status.
pub fn injected_fault(
    route: &crate::control::routes::Route,
    typed: &crate::control::routes::TypedFault<'_>,
) -> HttpResponse {
    // The OAuth2 endpoints answer in OAuth2's own JSON.
    if route.path.starts_with("/oauth2/") {
        let mut res = oauth_error_response(
            &OAuthFailure {
                error: ErrorCode::TemporarilyUnavailable,
                reason: None,
                description: typed.message.clone(),
            },
            Challenge::None,
        );
        *res.status_mut() = typed.status.unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        if let Some(fault) = typed.fault {
            let body = serde_json::json!({"error": fault, "error_description": typed.message});
            let mut custom = json_response(res.status(), &body);
            super::oauth::no_store(custom.headers_mut());
            return custom;
        }
        return res;
    }
    json_response(
        typed.status.unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
        &general_errors(
            typed.fault.unwrap_or("[ServiceUnavailable]"),
            &typed.message,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_argument_codes() {
        let json = |e: Errors| serde_json::to_value(e).unwrap();
        let v = json(invalid_argument("refreshToken", "m"));
        assert_eq!(
            v["fieldErrors"]["refreshToken"][0]["code"],
            "[invalid]refreshToken"
        );
        let v = json(invalid_argument("[disabled]refreshToken", "m"));
        assert_eq!(
            v["fieldErrors"]["refreshToken"][0]["code"],
            "[disabled]refreshToken"
        );
        let v = json(invalid_argument("[TenantIdRequired]", "m"));
        assert_eq!(v["generalErrors"][0]["code"], "[TenantIdRequired]");
        assert!(v.get("fieldErrors").is_none());
    }
}
