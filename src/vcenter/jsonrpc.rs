//! vAPI JSON-RPC 2.0 on `POST /api`: what the official Python SDK sends. Operations are
//! found in one table keyed by (serviceId, operationId); answers are always HTTP 200 with
//! `result.output` or `result.error` (the SDK turns any other status into an HTTP error),
//! values in the vAPI encoding (`STRUCTURE`, `OPTIONAL`, `SECRET`, `ERROR`). That encoding
//! is a generic tagged data format, so values are built as JSON values here; the JSON-RPC
//! envelope itself is typed.

use crate::control::faults::Injected;
use crate::control::{InjectedFault, OperationName};
use crate::core::sessions::Session;
use crate::core::vcenter::{Credentials, IssueSpec, TokenInfo, Vcenter};
use crate::core::{Core, CoreError, CoreResult};
use crate::http::read_body;
use crate::state::AppState;
use crate::surface::Surface;
use crate::vcenter::client_host;
use crate::vcenter::errors::{Family, StdError};
use crate::vcenter::rpc_errors::{rpc_error, rpc_std};
use actix_web::HttpMessage;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::{json, Map, Value};

const SCHEME_USER_PASS: &str = "com.vmware.vapi.std.security.user_pass";
const SCHEME_SESSION: &str = "com.vmware.vapi.std.security.session_id";
const SCHEME_SAML_BEARER: &str = "com.vmware.vapi.std.security.saml_bearer_token";
const SCHEME_OAUTH: &str = "com.vmware.vapi.std.security.oauth";

/// One vAPI operation: its service and operation ids, the name the journal and fault rules
/// use (`service.operation`), and the error family it declares.
struct RpcOperation {
    service: &'static str,
    operation: &'static str,
    name: &'static str,
    family: Family,
}

macro_rules! rpc_operation {
    ($service:literal, $operation:literal, $family:expr) => {
        RpcOperation {
            service: $service,
            operation: $operation,
            name: concat!($service, ".", $operation),
            family: $family,
        }
    };
}

/// The operations served.
const OPERATIONS: &[RpcOperation] = &[
    rpc_operation!("com.vmware.cis.session", "create", Family::Std),
    rpc_operation!("com.vmware.cis.session", "get", Family::Std),
    rpc_operation!("com.vmware.cis.session", "delete", Family::Std),
    rpc_operation!(
        "com.vmware.vcenter.authentication.token",
        "issue",
        Family::OAuth2
    ),
    rpc_operation!(
        "com.vmware.vcenter.tokenservice.token_exchange",
        "exchange",
        Family::TokenService
    ),
];

/// Every JSON-RPC operation's name (`/_vlsim/about`).
pub fn operation_names() -> Vec<&'static str> {
    OPERATIONS.iter().map(|op| op.name).collect()
}

/// One call, as parsed from the envelope.
struct Call<'a> {
    security: Option<&'a Map<String, Value>>,
    input: &'a Value,
    host: String,
}

/// A JSON-RPC 2.0 response: a vAPI `result` (with `output` or `error`), or a protocol
/// `error`.
#[derive(Serialize)]
struct Response<'a> {
    jsonrpc: &'static str,
    id: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<RpcResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<ProtocolError<'a>>,
}

#[derive(Serialize)]
enum RpcResult {
    #[serde(rename = "output")]
    Output(Value),
    #[serde(rename = "error")]
    Error(Value),
}

#[derive(Serialize)]
struct ProtocolError<'a> {
    code: i64,
    message: &'a str,
}

fn envelope(id: &Value, result: RpcResult) -> HttpResponse {
    HttpResponse::Ok().json(Response {
        jsonrpc: "2.0",
        id,
        result: Some(result),
        error: None,
    })
}

fn rpc_protocol_error(id: &Value, code: i64, message: &str) -> HttpResponse {
    HttpResponse::Ok().json(Response {
        jsonrpc: "2.0",
        id,
        result: None,
        error: Some(ProtocolError { code, message }),
    })
}

/// A vAPI string value: bare, `{"OPTIONAL": ...}` or `{"SECRET": ...}`; `None` when unset.
fn string_value(v: Option<&Value>) -> Result<Option<String>, String> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Object(o)) if o.len() == 1 => {
            let inner = o.get("OPTIONAL").or_else(|| o.get("SECRET"));
            match inner {
                Some(inner) => string_value(Some(inner)),
                None => Err("expected a string".into()),
            }
        }
        Some(_) => Err("expected a string".into()),
    }
}

fn optional(v: Option<String>) -> Value {
    json!({ "OPTIONAL": v })
}

/// The fields of `{"STRUCTURE": {"<name>": {...}}}`.
fn structure(v: &Value) -> Option<&Map<String, Value>> {
    v.get("STRUCTURE")?
        .as_object()?
        .values()
        .next()?
        .as_object()
}

fn spec_from_input(input: &Value) -> CoreResult<IssueSpec> {
    let bad = |m: String| CoreError::invalid_argument("spec", m);
    let fields = structure(input)
        .and_then(|op| op.get("spec"))
        .and_then(structure)
        .ok_or_else(|| bad("the operation input has no spec structure".into()))?;
    let get = |name: &str| {
        string_value(fields.get(name)).map_err(|m| CoreError::invalid_argument(name, m))
    };
    Ok(IssueSpec {
        grant_type: get("grant_type")?,
        resource: get("resource")?,
        audience: get("audience")?,
        scope: get("scope")?,
        requested_token_type: get("requested_token_type")?,
        subject_token: get("subject_token")?,
        subject_token_type: get("subject_token_type")?,
        actor_token: get("actor_token")?,
        actor_token_type: get("actor_token_type")?,
    }
    .normalised())
}

/// The spec, or the failure recorded as a failed exchange.
fn spec_input(core: &Core, who: &str, input: &Value) -> CoreResult<IssueSpec> {
    spec_from_input(input).inspect_err(|e| core.vcenter().token_failed(who, None, "", e))
}

fn sec_str<'a>(call: &'a Call<'_>, key: &str) -> Option<&'a str> {
    call.security?.get(key)?.as_str()
}

fn scheme<'a>(call: &'a Call<'_>) -> &'a str {
    sec_str(call, "schemeId").unwrap_or("")
}

fn unauthenticated() -> CoreError {
    CoreError::NotAuthenticated("Authentication required.".into())
}

fn session_of(core: &Core, call: &Call<'_>) -> CoreResult<Session> {
    match (scheme(call), sec_str(call, "sessionId")) {
        (SCHEME_SESSION, Some(id)) => core.vcenter().session(id),
        _ => Err(unauthenticated()),
    }
}

fn caller_of(core: &Core, call: &Call<'_>) -> CoreResult<String> {
    match scheme(call) {
        SCHEME_OAUTH => {
            let token = sec_str(call, "accessToken").ok_or_else(unauthenticated)?;
            core.vcenter()
                .jwt_subject(token, &call.host)
                .map(|s| s.principal)
                .map_err(|_| unauthenticated())
        }
        _ => session_of(core, call).map(|s| s.principal),
    }
}

fn token_info_value(info: TokenInfo, struct_name: &str, issued_type_required: bool) -> Value {
    let issued = if issued_type_required {
        json!(info.issued_token_type)
    } else {
        optional(Some(info.issued_token_type))
    };
    json!({"STRUCTURE": {struct_name: {
        "access_token": info.access_token,
        "token_type": info.token_type,
        "expires_in": {"OPTIONAL": info.expires_in},
        "scope": optional(info.scope),
        "refresh_token": optional(info.refresh_token),
        "issued_token_type": issued,
    }}})
}

async fn run(core: &Core, operation: &str, call: Call<'_>) -> CoreResult<Value> {
    let vcenter = core.vcenter();
    match operation {
        "com.vmware.cis.session.create" => {
            let session = match scheme(&call) {
                SCHEME_USER_PASS => {
                    let user = sec_str(&call, "userName").ok_or_else(unauthenticated)?;
                    let password = sec_str(&call, "password").ok_or_else(unauthenticated)?;
                    vcenter
                        .login(Credentials::Password { user, password })
                        .await?
                }
                SCHEME_SAML_BEARER => {
                    let xml = sec_str(&call, "samlToken").ok_or_else(unauthenticated)?;
                    vcenter.login(Credentials::Saml(xml)).await?
                }
                SCHEME_OAUTH => {
                    let jwt = sec_str(&call, "accessToken").ok_or_else(unauthenticated)?;
                    vcenter.login(Credentials::Jwt(jwt, &call.host)).await?
                }
                _ => return Err(unauthenticated()),
            };
            Ok(json!({ "SECRET": session.id }))
        }
        "com.vmware.cis.session.get" => {
            let session = session_of(core, &call)?;
            Ok(json!({"STRUCTURE": {"com.vmware.cis.session.info": {
                "user": Vcenter::display_user(&session.principal),
                "created_time": crate::clock::rfc3339_ms(session.created_ms),
                "last_accessed_time": crate::clock::rfc3339_ms(session.last_access_ms),
            }}}))
        }
        "com.vmware.cis.session.delete" => {
            let session = session_of(core, &call)?;
            vcenter.logout(&session).await?;
            Ok(Value::Null)
        }
        "com.vmware.vcenter.authentication.token.issue" => {
            let who = caller_of(core, &call)?;
            let spec = spec_input(core, &who, call.input)?;
            let info = vcenter.issue_token(&who, &spec, &call.host)?;
            Ok(token_info_value(
                info,
                "com.vmware.oauth2.token_info",
                false,
            ))
        }
        "com.vmware.vcenter.tokenservice.token_exchange.exchange" => {
            let who = caller_of(core, &call)?;
            let spec = spec_input(core, &who, call.input)?;
            let info = vcenter.issue_token(&who, &spec, &call.host)?;
            Ok(token_info_value(
                info,
                "com.vmware.vcenter.tokenservice.token_exchange.info",
                true,
            ))
        }
        _ => Err(CoreError::Internal(format!(
            "operation {operation} is listed but not implemented"
        ))),
    }
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn invoke(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let null = Value::Null;
    let body = match read_body(&req, payload, state.config.body_limit).await {
        Ok(body) => body,
        Err(e) => return rpc_protocol_error(&null, -32600, &e.to_string()),
    };
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return rpc_protocol_error(&null, -32700, "Parse error");
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    if request.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return rpc_protocol_error(&id, -32600, "Invalid Request: jsonrpc must be \"2.0\"");
    }
    if request.get("method").and_then(Value::as_str) != Some("invoke") {
        return rpc_protocol_error(&id, -32601, "Method not found: only \"invoke\" is served");
    }
    let params = request.get("params");
    let field = |name: &str| {
        params
            .and_then(|p| p.get(name))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let (service, operation) = (field("serviceId"), field("operationId"));
    let Some(op) = OPERATIONS
        .iter()
        .find(|op| op.service == service && op.operation == operation)
    else {
        let error = rpc_std(
            StdError::OperationNotFound,
            &format!("Operation {operation} of service {service} is not found"),
        );
        return envelope(&id, RpcResult::Error(error));
    };
    // Name the call for the journal and let fault rules target JSON-RPC operations.
    req.extensions_mut().insert(OperationName(op.name));
    if let Some(fired) = state.control.faults.check(Surface::Vcenter, op.name, None) {
        req.extensions_mut()
            .insert(InjectedFault(fired.rule_id.clone()));
        return match fired.injected() {
            Injected::Response(response) => response,
            Injected::Typed(typed) => envelope(
                &id,
                RpcResult::Error(rpc_std(StdError::ServiceUnavailable, &typed.message)),
            ),
        };
    }
    let call = Call {
        security: params
            .and_then(|p| p.get("ctx"))
            .and_then(|c| c.get("securityCtx"))
            .and_then(Value::as_object),
        input: params.and_then(|p| p.get("input")).unwrap_or(&null),
        host: client_host(&req),
    };
    match run(&state.core, op.name, call).await {
        Ok(output) => envelope(&id, RpcResult::Output(output)),
        Err(e) => envelope(&id, RpcResult::Error(rpc_error(&e, op.family))),
    }
}
