//! `/api/session` (`Cis.Session`): create with Basic, `SIGN token="..."` (a SAML token from
//! the exchange) or Bearer (a JWT from a trusted issuer); get; delete.

use super::bodies::SessionInfo;
use super::errors::{Api, VcError};
use super::extract::{login_from_header, LiveSession};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

#[tracing::instrument(skip_all, level = "debug")]
pub async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
) -> Result<HttpResponse, VcError<Api>> {
    let session = login_from_header(&state.core, &req).await?;
    Ok(HttpResponse::Created().json(session.id))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn get(LiveSession(session, ..): LiveSession<Api>) -> HttpResponse {
    HttpResponse::Ok().json(SessionInfo::from(&session))
}

#[tracing::instrument(skip_all, level = "debug")]
pub async fn delete(
    state: web::Data<AppState>,
    LiveSession(session, ..): LiveSession<Api>,
) -> Result<HttpResponse, VcError<Api>> {
    state.core.vcenter().logout(&session).await?;
    Ok(HttpResponse::NoContent().finish())
}
