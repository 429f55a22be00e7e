//! The one mapping from [`CoreError`] to the vCenter wire: [`classify`] is the exhaustive
//! `match`; [`VcError`] renders its answer as an `/api` std error, an OAuth2 error body or a
//! legacy `/rest` error, as the handler's return type says; `rpc_errors.rs` encodes it as a
//! vAPI JSON-RPC error value.

use crate::control::routes::{Route, TypedFault};
use crate::core::vcenter::{FIELD_TARGET_AUDIENCE, FIELD_TARGET_SCOPE, FIELD_UNSUPPORTED_GRANT};
use crate::core::CoreError;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::marker::PhantomData;

/// Which family of errors the failing operation declares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `/api/session` and other vAPI std-error operations.
    Std,
    /// `Token.issue`: OAuth2 errors (`com.vmware.oauth2.errors.*`).
    OAuth2,
    /// Legacy `TokenExchange.exchange`: `com.vmware.vcenter.tokenservice.*`.
    TokenService,
}

/// vAPI standard errors vlsim reports (`com.vmware.vapi.std.errors.<name>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdError {
    Unauthenticated,
    Unauthorized,
    InvalidArgument,
    InvalidRequest,
    NotFound,
    OperationNotFound,
    AlreadyExists,
    InternalServerError,
    /// The data dir refuses writes (and fault injection).
    ServiceUnavailable,
}

impl StdError {
    pub fn name(self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::Unauthorized => "unauthorized",
            Self::InvalidArgument => "invalid_argument",
            Self::InvalidRequest => "invalid_request",
            Self::NotFound => "not_found",
            Self::OperationNotFound => "operation_not_found",
            Self::AlreadyExists => "already_exists",
            Self::InternalServerError => "internal_server_error",
            Self::ServiceUnavailable => "service_unavailable",
        }
    }

    /// HTTP status, as the SDK's `vmware/vapi/rest/lib.py` pairs them.
    pub fn status(self) -> StatusCode {
        match self {
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Unauthorized => StatusCode::FORBIDDEN,
            Self::InvalidArgument | Self::InvalidRequest | Self::AlreadyExists => {
                StatusCode::BAD_REQUEST
            }
            Self::NotFound | Self::OperationNotFound => StatusCode::NOT_FOUND,
            Self::InternalServerError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    pub(super) fn message_id(self) -> &'static str {
        match self {
            Self::Unauthenticated => "com.vmware.vapi.endpoint.method.authentication.required",
            Self::Unauthorized => "com.vmware.vapi.endpoint.method.authorization.invalid",
            Self::OperationNotFound => "vapi.method.input.invalid.interface",
            Self::InvalidArgument => "vapi.method.input.invalid",
            Self::InvalidRequest => "com.vmware.vapi.rest.invalidRequest",
            Self::NotFound => "com.vmware.vapi.rest.operationsForUrlNotFound",
            Self::AlreadyExists => "com.vmware.vlsim.alreadyExists",
            Self::InternalServerError => "com.vmware.vlsim.internalError",
            Self::ServiceUnavailable => "com.vmware.vlsim.serviceUnavailable",
        }
    }
}

/// OAuth2 error codes of `Token.issue` (and the legacy token service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest,
    InvalidGrant,
    InvalidScope,
    /// RFC 8693 §2.2.2: the audience or resource is not one this vCenter serves.
    InvalidTarget,
    UnsupportedGrantType,
}

impl OAuthError {
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidTarget => "invalid_target",
            Self::UnsupportedGrantType => "unsupported_grant_type",
        }
    }

    /// The code as an operation declaring only `invalid_request`, `invalid_grant` and
    /// `invalid_scope` (vAPI `Token.issue` and `TokenExchange.exchange`, whose SDK stubs
    /// cannot raise anything else) reports it.
    pub(super) fn declared(self) -> Self {
        match self {
            Self::InvalidTarget => Self::InvalidScope,
            Self::UnsupportedGrantType => Self::InvalidRequest,
            other => other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Std(StdError),
    OAuth(OAuthError),
}

/// THE mapping. Authentication of the caller is a std `Unauthenticated` everywhere; inside
/// a token exchange, a bad subject/actor token is `invalid_grant`, a target that cannot be
/// served (`audience`) `invalid_target`, a scope that cannot be granted `invalid_scope`, a
/// grant type other than token exchange `unsupported_grant_type`, any other bad field
/// `invalid_request`.
pub fn classify(err: &CoreError, family: Family) -> Wire {
    let exchange = family != Family::Std;
    match err {
        CoreError::NotAuthenticated(_) => Wire::Std(StdError::Unauthenticated),
        CoreError::InvalidCredentials(_) | CoreError::InvalidToken(_) if exchange => {
            Wire::OAuth(OAuthError::InvalidGrant)
        }
        CoreError::InvalidCredentials(_) | CoreError::InvalidToken(_) => {
            Wire::Std(StdError::Unauthenticated)
        }
        CoreError::PermissionDenied { .. } => Wire::Std(StdError::Unauthorized),
        CoreError::InvalidArgument { field, .. } if exchange && field == FIELD_TARGET_AUDIENCE => {
            Wire::OAuth(OAuthError::InvalidTarget)
        }
        CoreError::InvalidArgument { field, .. } if exchange && field == FIELD_TARGET_SCOPE => {
            Wire::OAuth(OAuthError::InvalidScope)
        }
        CoreError::InvalidArgument { field, .. }
            if exchange && field == FIELD_UNSUPPORTED_GRANT =>
        {
            Wire::OAuth(OAuthError::UnsupportedGrantType)
        }
        CoreError::InvalidArgument { .. } if exchange => Wire::OAuth(OAuthError::InvalidRequest),
        CoreError::InvalidArgument { .. } => Wire::Std(StdError::InvalidArgument),
        CoreError::NotFound { .. } if exchange => Wire::OAuth(OAuthError::InvalidRequest),
        CoreError::NotFound { .. } => Wire::Std(StdError::NotFound),
        CoreError::Conflict(_) if exchange => Wire::OAuth(OAuthError::InvalidGrant),
        CoreError::Conflict(_) => Wire::Std(StdError::AlreadyExists),
        CoreError::Store(e) if e.is_unavailable() => Wire::Std(StdError::ServiceUnavailable),
        CoreError::Store(_) | CoreError::Internal(_) => Wire::Std(StdError::InternalServerError),
    }
}

/// What clients are told: internal failures are logged, not echoed.
pub(super) fn public_message(err: &CoreError) -> String {
    match err {
        CoreError::Store(e) if e.is_unavailable() => {
            tracing::error!(error = %err, "vCenter request failed: the data dir refuses writes");
            "The service cannot store data at the moment (its disk refuses writes); try again later."
                .to_string()
        }
        CoreError::Store(_) | CoreError::Internal(_) => {
            tracing::error!(error = %err, "vCenter request failed internally");
            "An internal error occurred.".to_string()
        }
        other => other.to_string(),
    }
}

/// `error_description` may only hold %x20-21 / %x23-5B / %x5D-7E (no `"` nor `\`).
pub fn oauth_description(message: &str) -> String {
    message
        .chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            c if (' '..='~').contains(&c) => c,
            _ => '?',
        })
        .collect()
}

/// A vAPI localizable message.
#[derive(Debug, Serialize)]
pub struct Message {
    pub id: String,
    pub default_message: String,
    pub args: [String; 0],
}

fn message(id: &str, text: &str) -> Message {
    Message {
        id: id.to_string(),
        default_message: text.to_string(),
        args: [],
    }
}

/// `{"error_type":"UNAUTHENTICATED","messages":[...]}` (the `/api` body and the legacy value).
#[derive(Debug, Serialize)]
pub struct StdErrorBody {
    pub error_type: String,
    pub messages: Vec<Message>,
}

pub fn std_body(std: StdError, text: &str) -> StdErrorBody {
    StdErrorBody {
        error_type: std.name().to_uppercase(),
        messages: vec![message(std.message_id(), text)],
    }
}

/// An OAuth2 error (RFC 6749 §5.2).
#[derive(Debug, Serialize)]
pub struct OAuthErrorBody {
    pub error: String,
    pub error_description: String,
}

/// A legacy `/rest` error: `{"type": "<error type id>", "value": {...}}`.
#[derive(Debug, Serialize)]
pub struct LegacyErrorBody<T> {
    #[serde(rename = "type")]
    pub kind: String,
    pub value: T,
}

#[derive(Debug, Serialize)]
pub struct Messages {
    pub messages: Vec<Message>,
}

fn with_challenge(
    mut builder: actix_web::HttpResponseBuilder,
    std: StdError,
) -> actix_web::HttpResponseBuilder {
    if std == StdError::Unauthenticated {
        builder.insert_header(("WWW-Authenticate", "Basic realm=\"VAPI endpoint\""));
    }
    builder
}

/// `/api/...` std error response.
pub fn api_std(std: StdError, text: &str) -> HttpResponse {
    with_challenge(HttpResponse::build(std.status()), std).json(std_body(std, text))
}

/// `/api/...` response for a failed operation of `family`.
fn api_error(err: &CoreError, family: Family) -> HttpResponse {
    let text = public_message(err);
    match classify(err, family) {
        Wire::Std(std) => api_std(std, &text),
        Wire::OAuth(code) => oauth_response(StatusCode::BAD_REQUEST, code.code(), &text),
    }
}

/// An OAuth2 error with `Cache-Control: no-store`.
pub fn oauth_response(status: StatusCode, code: &str, text: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(OAuthErrorBody {
            error: code.to_string(),
            error_description: oauth_description(text),
        })
}

/// Legacy `/rest/...` error.
fn legacy_error(err: &CoreError, family: Family) -> HttpResponse {
    let text = public_message(err);
    match classify(err, family) {
        Wire::Std(std) => legacy_std(std, &text),
        Wire::OAuth(code) => HttpResponse::BadRequest().json(LegacyErrorBody {
            kind: format!("com.vmware.vcenter.tokenservice.{}", code.declared().code()),
            value: Messages {
                messages: vec![message(StdError::InvalidRequest.message_id(), &text)],
            },
        }),
    }
}

pub fn legacy_std(std: StdError, text: &str) -> HttpResponse {
    with_challenge(HttpResponse::build(std.status()), std).json(LegacyErrorBody {
        kind: format!("com.vmware.vapi.std.errors.{}", std.name()),
        value: std_body(std, text),
    })
}

/// Which wire a handler answers on: the `/api` or the legacy `/rest` form, and the error
/// family of its operation.
pub trait Form {
    const FAMILY: Family;
    const LEGACY: bool;
}

/// `/api/session` and the other vAPI std-error operations.
pub struct Api;
/// `POST /api/vcenter/authentication/token`: OAuth2 errors.
pub struct ApiToken;
/// `/rest/com/vmware/cis/session`.
pub struct Rest;
/// `POST /rest/vcenter/tokenservice/token-exchange`.
pub struct RestToken;

impl Form for Api {
    const FAMILY: Family = Family::Std;
    const LEGACY: bool = false;
}
impl Form for ApiToken {
    const FAMILY: Family = Family::OAuth2;
    const LEGACY: bool = false;
}
impl Form for Rest {
    const FAMILY: Family = Family::Std;
    const LEGACY: bool = true;
}
impl Form for RestToken {
    const FAMILY: Family = Family::TokenService;
    const LEGACY: bool = true;
}

/// A failed vCenter call, rendered in the form `F` of its handler.
pub struct VcError<F> {
    pub error: CoreError,
    form: PhantomData<F>,
}

impl<F> From<CoreError> for VcError<F> {
    fn from(error: CoreError) -> Self {
        Self {
            error,
            form: PhantomData,
        }
    }
}

impl<F> std::fmt::Debug for VcError<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<F> std::fmt::Display for VcError<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<F: Form> ResponseError for VcError<F> {
    fn status_code(&self) -> StatusCode {
        self.error_response().status()
    }

    fn error_response(&self) -> HttpResponse {
        if F::LEGACY {
            legacy_error(&self.error, F::FAMILY)
        } else {
            api_error(&self.error, F::FAMILY)
        }
    }
}

/// Error types a typed fault rule may give: vAPI std errors, and OAuth2 errors on the token
/// routes (the first of each is its default).
pub const FAULT_NAMES: &[&str] = &[
    "SERVICE_UNAVAILABLE",
    "UNAUTHENTICATED",
    "UNAUTHORIZED",
    "NOT_FOUND",
    "INVALID_ARGUMENT",
    "invalid_grant",
    "invalid_request",
    "invalid_target",
];

/// How a typed fault rule answers on this surface: an OAuth2 error on the token routes
/// (default `invalid_grant`, 400), a vAPI std error elsewhere (`SERVICE_UNAVAILABLE`, 503).
pub fn injected_fault(route: &Route, typed: &TypedFault<'_>) -> HttpResponse {
    if route.path.contains("/authentication/token") || route.path.contains("token-exchange") {
        return HttpResponse::build(typed.status.unwrap_or(StatusCode::BAD_REQUEST)).json(
            OAuthErrorBody {
                error: typed.fault.unwrap_or("invalid_grant").to_string(),
                error_description: typed.message.clone(),
            },
        );
    }
    HttpResponse::build(typed.status.unwrap_or(StatusCode::SERVICE_UNAVAILABLE)).json(
        StdErrorBody {
            error_type: typed.fault.unwrap_or("SERVICE_UNAVAILABLE").to_string(),
            messages: vec![message("vlsim.injected_fault", &typed.message)],
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping() {
        let arg = |f: &str| CoreError::invalid_argument(f, "x");
        assert_eq!(
            classify(&arg("target.audience"), Family::OAuth2),
            Wire::OAuth(OAuthError::InvalidTarget)
        );
        assert_eq!(
            classify(&arg("target.scope"), Family::OAuth2),
            Wire::OAuth(OAuthError::InvalidScope)
        );
        assert_eq!(
            classify(&arg("grant_type.unsupported"), Family::OAuth2),
            Wire::OAuth(OAuthError::UnsupportedGrantType)
        );
        // vAPI operations declare only three codes; the others report as their nearest.
        assert_eq!(
            OAuthError::InvalidTarget.declared(),
            OAuthError::InvalidScope
        );
        assert_eq!(
            OAuthError::UnsupportedGrantType.declared(),
            OAuthError::InvalidRequest
        );
        assert_eq!(
            classify(&arg("audience"), Family::OAuth2),
            Wire::OAuth(OAuthError::InvalidRequest)
        );
        assert_eq!(
            classify(&arg("grant_type"), Family::OAuth2),
            Wire::OAuth(OAuthError::InvalidRequest)
        );
        assert_eq!(
            classify(&CoreError::InvalidToken("t".into()), Family::OAuth2),
            Wire::OAuth(OAuthError::InvalidGrant)
        );
        assert_eq!(
            classify(&CoreError::NotAuthenticated("n".into()), Family::OAuth2),
            Wire::Std(StdError::Unauthenticated)
        );
        assert_eq!(
            classify(&CoreError::Internal("i".into()), Family::Std),
            Wire::Std(StdError::InternalServerError)
        );
        assert_eq!(oauth_description("a \"b\" \\c é"), "a 'b' /c ?");
    }
}
