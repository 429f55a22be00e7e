//! The one mapping from [`CoreError`] to the vCenter wire: [`classify`] is the exhaustive
//! `match`; the renderers encode its answer as an `/api` std error, an OAuth2 error body, a
//! legacy `/rest` error, or a vAPI JSON-RPC error value.

use crate::core::vcenter::TARGET_FIELDS;
use crate::core::CoreError;
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use serde_json::{json, Value};

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
    /// Only produced by fault injection.
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

    fn message_id(self) -> &'static str {
        match self {
            Self::Unauthenticated => "com.vmware.vapi.endpoint.method.authentication.required",
            Self::Unauthorized => "com.vmware.vapi.endpoint.method.authorization.invalid",
            Self::OperationNotFound => "vapi.method.input.invalid.interface",
            Self::InvalidArgument => "vapi.method.input.invalid",
            Self::InvalidRequest => "com.vmware.vapi.rest.invalidRequest",
            Self::NotFound => "com.vmware.vapi.rest.operationsForUrlNotFound",
            Self::AlreadyExists => "com.vmware.vlsim.alreadyExists",
            Self::InternalServerError => "com.vmware.vlsim.internalError",
            Self::ServiceUnavailable => "com.vmware.vlsim.injectedFault",
        }
    }
}

/// OAuth2 error codes of `Token.issue` (and the legacy token service).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest,
    InvalidGrant,
    InvalidScope,
}

impl OAuthError {
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidGrant => "invalid_grant",
            Self::InvalidScope => "invalid_scope",
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
/// served (`audience`, `scope`) is `invalid_scope`, any other bad field `invalid_request`.
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
        CoreError::InvalidArgument { field, .. }
            if exchange && TARGET_FIELDS.contains(&field.as_str()) =>
        {
            Wire::OAuth(OAuthError::InvalidScope)
        }
        CoreError::InvalidArgument { .. } if exchange => Wire::OAuth(OAuthError::InvalidRequest),
        CoreError::InvalidArgument { .. } => Wire::Std(StdError::InvalidArgument),
        CoreError::NotFound { .. } if exchange => Wire::OAuth(OAuthError::InvalidRequest),
        CoreError::NotFound { .. } => Wire::Std(StdError::NotFound),
        CoreError::Conflict(_) if exchange => Wire::OAuth(OAuthError::InvalidGrant),
        CoreError::Conflict(_) => Wire::Std(StdError::AlreadyExists),
        CoreError::Store(_) | CoreError::Internal(_) => Wire::Std(StdError::InternalServerError),
    }
}

/// What clients are told: internal failures are logged, not echoed.
fn public_message(err: &CoreError) -> String {
    match err {
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

fn message(std: StdError, text: &str) -> Value {
    json!({"id": std.message_id(), "default_message": text, "args": []})
}

/// `{"error_type":"UNAUTHENTICATED","messages":[...]}` (the `/api` body and the legacy value).
pub fn std_body(std: StdError, text: &str) -> Value {
    json!({
        "error_type": std.name().to_uppercase(),
        "messages": [message(std, text)],
    })
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
pub fn api_error(err: &CoreError, family: Family) -> HttpResponse {
    let text = public_message(err);
    match classify(err, family) {
        Wire::Std(std) => api_std(std, &text),
        Wire::OAuth(code) => oauth_response(code, &text),
    }
}

/// 400 `{"error": ..., "error_description": ...}` with `Cache-Control: no-store`.
pub fn oauth_response(code: OAuthError, text: &str) -> HttpResponse {
    HttpResponse::BadRequest()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(json!({"error": code.code(), "error_description": oauth_description(text)}))
}

/// Legacy `/rest/...` error: `{"type": "<error type id>", "value": {...}}`.
pub fn legacy_error(err: &CoreError, family: Family) -> HttpResponse {
    let text = public_message(err);
    match classify(err, family) {
        Wire::Std(std) => legacy_std(std, &text),
        Wire::OAuth(code) => HttpResponse::BadRequest().json(json!({
            "type": format!("com.vmware.vcenter.tokenservice.{}", code.code()),
            "value": {"messages": [message(StdError::InvalidRequest, &text)]},
        })),
    }
}

pub fn legacy_std(std: StdError, text: &str) -> HttpResponse {
    with_challenge(HttpResponse::build(std.status()), std).json(json!({
        "type": format!("com.vmware.vapi.std.errors.{}", std.name()),
        "value": std_body(std, text),
    }))
}

fn rpc_message(id: &str, text: &str) -> Value {
    json!({"STRUCTURE": {"com.vmware.vapi.std.localizable_message": {
        "id": id, "default_message": text, "args": [],
        "params": {"OPTIONAL": null}, "localized": {"OPTIONAL": null},
    }}})
}

/// A vAPI std error as a JSON-RPC error value.
pub fn rpc_std(std: StdError, text: &str) -> Value {
    let mut fields = json!({
        "messages": [rpc_message(std.message_id(), text)],
        "data": {"OPTIONAL": null},
        "error_type": {"OPTIONAL": std.name().to_uppercase()},
    });
    if std == StdError::Unauthenticated {
        if let Some(obj) = fields.as_object_mut() {
            obj.insert("challenge".into(), json!({"OPTIONAL": null}));
        }
    }
    json!({"ERROR": {format!("com.vmware.vapi.std.errors.{}", std.name()): fields}})
}

/// The JSON-RPC `result.error` value for a failed operation of `family`.
pub fn rpc_error(err: &CoreError, family: Family) -> Value {
    let text = public_message(err);
    match (classify(err, family), family) {
        (Wire::Std(std), _) => rpc_std(std, &text),
        (Wire::OAuth(code), Family::TokenService) => json!({"ERROR": {
            format!("com.vmware.vcenter.tokenservice.{}", code.code()): {
                "messages": [rpc_message(&format!("com.vmware.vcenter.tokenservice.{}", code.code()), &text)],
                "data": {"OPTIONAL": null},
            }
        }}),
        (Wire::OAuth(code), _) => json!({"ERROR": {
            format!("com.vmware.oauth2.errors.{}", code.code()): {
                "error": code.code(),
                "error_description": {"OPTIONAL": oauth_description(&text)},
                "error_uri": {"OPTIONAL": null},
            }
        }}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping() {
        let arg = |f: &str| CoreError::invalid_argument(f, "x");
        assert_eq!(
            classify(&arg("target.audience"), Family::OAuth2),
            Wire::OAuth(OAuthError::InvalidScope)
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
