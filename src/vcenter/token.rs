//! `POST /api/vcenter/authentication/token` (`Vcenter.Authentication.Token.issue`): an
//! RFC 8693 IssueSpec as `application/x-www-form-urlencoded` (a flat JSON object is also
//! read), authorised by a session or a Bearer JWT; `TokenInfo` or an OAuth2 error.

use super::bodies::{IssueSpecBody, TokenInfoBody};
use super::errors::{ApiToken, VcError};
use super::extract::Caller;
use super::{client_host, read_body};
use crate::core::vcenter::IssueSpec;
use crate::core::CoreError;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

/// Parses the body: form-urlencoded, or JSON when the client says so. A repeated or
/// malformed parameter is `invalid_request`.
pub fn parse_spec(req: &HttpRequest, body: &[u8]) -> Result<IssueSpec, CoreError> {
    let is_json = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"));
    let spec: IssueSpecBody = if is_json {
        serde_json::from_slice(body)
            .map_err(|e| CoreError::invalid_argument("body", format!("malformed JSON: {e}")))?
    } else {
        serde_urlencoded::from_bytes(body).map_err(|e| {
            CoreError::invalid_argument("body", format!("malformed form parameters: {e}"))
        })?
    };
    Ok(spec.into())
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn issue(
    state: web::Data<AppState>,
    req: HttpRequest,
    Caller(who, ..): Caller<ApiToken>,
    payload: web::Payload,
) -> Result<HttpResponse, VcError<ApiToken>> {
    let vcenter = state.core.vcenter();
    let spec = match read_body(&state, &req, payload).await {
        Ok(body) => parse_spec(&req, &body),
        Err(e) => Err(e),
    }
    .inspect_err(|e| vcenter.token_failed(&who, None, "", e))?;
    let info = vcenter.issue_token(&who, &spec, &client_host(&req))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(TokenInfoBody::from(&info)))
}
