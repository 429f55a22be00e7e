//! OIDC discovery and JWKS for the SSO domain, at the paths a real vCenter uses:
//! `/openidconnect/<domain>/.well-known/openid-configuration` and
//! `/openidconnect/jwks/<domain>`. The JWKS key carries `x5c`: the certificate that also
//! signs the SAML assertions.

use super::bodies::Discovery;
use super::client_host;
use super::errors::{Api, VcError};
use crate::core::vcenter::{VcenterRuntime, GRANT_TOKEN_EXCHANGE};
use crate::core::CoreError;
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};
use std::sync::Arc;

/// The runtime serving `domain`.
fn runtime_for(state: &AppState, domain: &str) -> Result<Arc<VcenterRuntime>, CoreError> {
    let rt = state.core.vcenter().runtime()?;
    if !rt.spec.domain.eq_ignore_ascii_case(domain) {
        return Err(CoreError::NotFound {
            entity: "domain",
            id: domain.to_string(),
            message: format!("No identity provider for the domain {domain}"),
        });
    }
    Ok(rt)
}

pub async fn discovery(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, VcError<Api>> {
    let rt = runtime_for(&state, &path)?;
    let host = client_host(&req);
    let base = format!("{}://{host}", req.connection_info().scheme());
    let domain = &rt.spec.domain;
    Ok(HttpResponse::Ok().json(Discovery {
        issuer: rt.issuer(&host),
        jwks_uri: format!("{base}/openidconnect/jwks/{domain}"),
        token_endpoint: format!("{base}/api/vcenter/authentication/token"),
        response_types_supported: ["id_token"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        grant_types_supported: [GRANT_TOKEN_EXCHANGE],
        claims_supported: [
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "jti",
            "domain",
            "group_names",
            "username",
        ],
    }))
}

pub async fn jwks(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, VcError<Api>> {
    Ok(HttpResponse::Ok().json(runtime_for(&state, &path)?.jwks()?))
}
