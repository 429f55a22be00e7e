//! `GET /rest/config/...`: the connection server's configuration (v1: only its id and JWT
//! settings; v2: the full record), the JWT authenticators it trusts, its event database.

use super::bodies::{
    ConnectionServerInfo, ConnectionServerInfoV2, EventDatabaseInfo, JwtAuthenticatorInfo, JwtInfo,
    SamlInfo,
};
use super::errors::{RestError, RestResult};
use super::extract::Reader;
use crate::core::horizon::server::{ConnectionServer, JwtAuthenticator};
use crate::state::AppState;
use actix_web::{web, HttpRequest, HttpResponse};

fn jwt_info(cs: &ConnectionServer) -> JwtInfo<'_> {
    JwtInfo {
        jwt_authenticator_ids: &cs.jwt_authenticator_ids,
        jwt_support: if cs.jwt_authenticator_ids.is_empty() {
            "DISABLED"
        } else {
            "MULTI_ENABLED"
        },
    }
}

pub async fn connection_servers_v1(
    state: web::Data<AppState>,
    _c: Reader,
) -> RestResult<HttpResponse> {
    let cs = state.core.horizon().connection_server();
    Ok(HttpResponse::Ok().json([ConnectionServerInfo {
        id: &cs.id,
        jwt_info: jwt_info(&cs),
    }]))
}

pub async fn connection_servers_v2(
    state: web::Data<AppState>,
    req: HttpRequest,
    _c: Reader,
) -> RestResult<HttpResponse> {
    let cs = state.core.horizon().connection_server();
    let url = crate::http::external_base_url(&req);
    Ok(HttpResponse::Ok().json([ConnectionServerInfoV2 {
        id: &cs.id,
        name: &cs.name,
        fqhn: &cs.name,
        cluster_name: "vlsim",
        enabled: true,
        local_connection_server: true,
        version: format!("{}-{}", cs.version, cs.build),
        server_url: &url,
        external_url: &url,
        ip_mode: "IPv4",
        fips_mode_enabled: false,
        smart_card_support: "OFF",
        smart_card_support_for_admin: "OFF",
        bypass_tunnel: false,
        bypass_pcoip_gateway: false,
        bypass_app_blast_gateway: false,
        jwt_info: jwt_info(&cs),
        saml_info: SamlInfo {
            saml_support: "DISABLED",
        },
    }]))
}

fn authenticator<'a>(a: &'a JwtAuthenticator, base_url: &str) -> JwtAuthenticatorInfo<'a> {
    JwtAuthenticatorInfo {
        id: &a.id,
        name: &a.name,
        description: &a.description,
        issuer: &a.issuer,
        public_keys: &a.public_keys,
        url: if a.url.starts_with('/') {
            format!("{base_url}{}", a.url)
        } else {
            a.url.clone()
        },
    }
}

pub async fn jwt_authenticators(
    state: web::Data<AppState>,
    req: HttpRequest,
    _c: Reader,
) -> RestResult<HttpResponse> {
    let all = state.core.horizon().jwt_authenticators();
    let base = crate::http::external_base_url(&req);
    Ok(HttpResponse::Ok().json(
        all.iter()
            .map(|a| authenticator(a, &base))
            .collect::<Vec<_>>(),
    ))
}

pub async fn jwt_authenticator(
    state: web::Data<AppState>,
    req: HttpRequest,
    _c: Reader,
    id: web::Path<String>,
) -> RestResult<HttpResponse> {
    let all = state.core.horizon().jwt_authenticators();
    let base = crate::http::external_base_url(&req);
    let found = all
        .iter()
        .find(|a| a.id == *id)
        .ok_or_else(|| RestError::NotFound {
            key: "config.jwt.authenticator.not.found",
            message: format!("No JWT authenticator with id '{id}'"),
        })?;
    Ok(HttpResponse::Ok().json(authenticator(found, &base)))
}

pub async fn event_database(state: web::Data<AppState>, _c: Reader) -> RestResult<HttpResponse> {
    let db = state.core.horizon().event_database();
    Ok(HttpResponse::Ok().json(EventDatabaseInfo {
        event_database_configured: true,
        server_name: &db.server_name,
        port: db.port,
        database_name: &db.database_name,
        username: &db.username,
        db_type: &db.db_type,
        table_prefix: &db.table_prefix,
        query_timeout_seconds: db.query_timeout_seconds,
        show_events_for_time: &db.show_events_for_time,
        classify_events_as_new_for_days: db.classify_events_as_new_for_days,
        admin_events_count: db.admin_events_count,
        timing_profiler_data_longevity_days: db.timing_profiler_data_longevity_days,
    }))
}
