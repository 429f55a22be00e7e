//! `POST /api/vcenter/authentication/token` (`Vcenter.Authentication.Token.issue`): an
//! RFC 8693 IssueSpec as `application/x-www-form-urlencoded` (a flat JSON object is also
//! read), authorised by a session or a Bearer JWT; `TokenInfo` or an OAuth2 error.

use super::bodies::TokenInfoBody;
use super::client_host;
use super::errors::{ApiToken, VcError};
use super::extract::IssueRequest;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

#[tracing::instrument(skip_all, level = "debug")]
pub async fn issue(
    state: web::Data<AppState>,
    req: HttpRequest,
    request: IssueRequest<ApiToken>,
) -> Result<HttpResponse, VcError<ApiToken>> {
    let info =
        state
            .core
            .vcenter()
            .issue_token(&request.caller, &request.spec, &client_host(&req))?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Pragma", "no-cache"))
        .json(TokenInfoBody::from(&info)))
}
