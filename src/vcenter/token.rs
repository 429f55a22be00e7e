//! `POST /api/vcenter/authentication/token` (`Vcenter.Authentication.Token.issue`): an
//! RFC 8693 IssueSpec as `application/x-www-form-urlencoded` (a flat JSON object is also
//! read), authorised by a session or a Bearer JWT; `TokenInfo` or an OAuth2 error.

use crate::core::vcenter::IssueSpec;
use crate::core::CoreError;
use crate::http::read_body;
use crate::state::AppState;
use crate::vcenter::errors::{api_error, Family};
use crate::vcenter::{caller, client_host};
use actix_web::{web, HttpRequest, HttpResponse};

/// Parses the body: form-urlencoded, or JSON when the client says so. A repeated or
/// malformed parameter is `invalid_request`.
pub fn parse_spec(req: &HttpRequest, body: &[u8]) -> Result<IssueSpec, CoreError> {
    let is_json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"));
    let spec: IssueSpec = if is_json {
        serde_json::from_slice(body)
            .map_err(|e| CoreError::invalid_argument("body", format!("malformed JSON: {e}")))?
    } else {
        serde_urlencoded::from_bytes(body).map_err(|e| {
            CoreError::invalid_argument("body", format!("malformed form parameters: {e}"))
        })?
    };
    Ok(spec.normalised())
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn issue(
    state: web::Data<AppState>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let core = &state.core;
    let who = match caller(core, &req, false) {
        Ok(who) => who,
        Err(e) => return api_error(&e, Family::OAuth2),
    };
    let spec = match read_body(&req, payload, state.config.body_limit).await {
        Ok(body) => parse_spec(&req, &body),
        Err(e) => Err(CoreError::invalid_argument("body", e.to_string())),
    };
    let result = match spec {
        Ok(spec) => core.vcenter_issue_token(&who, &spec, &client_host(&req)),
        Err(e) => {
            core.vcenter_token_failed(&who, None, "", &e);
            Err(e)
        }
    };
    match result {
        Ok(info) => HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .insert_header(("Pragma", "no-cache"))
            .json(info),
        Err(e) => api_error(&e, Family::OAuth2),
    }
}
