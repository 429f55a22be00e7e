//! `GET /rest/monitor/.../connection-servers[/{id}]`: the one Connection Server vlsim is,
//! status OK with its services up, in each schema version the paths return (the path
//! version is not the schema version: `/monitor/v1/connection-servers/{id}` answers
//! `ConnectionServerMonitorInfoV2`, as the swagger says).

use super::bodies::{
    CertificateInfo, Details, MonitorInfo, MonitorV3, MonitorV4, Service, SessionProtocol,
};
use super::errors::{RestError, RestResult};
use super::extract::Reader;
use crate::core::horizon::server::ConnectionServer;
use crate::core::CoreError;
use crate::spec::HorizonSpec;
use crate::state::AppState;
use crate::tls::ServedCertificate;
use actix_web::http::header::ContentType;
use actix_web::web::Bytes;
use actix_web::{web, HttpResponse};
use std::cell::RefCell;
use std::sync::Arc;

const SERVICES: [&str; 4] = [
    "PCOIP_SECURE_GATEWAY",
    "BLAST_SECURE_GATEWAY",
    "SECURITY_GATEWAY_COMPONENT",
    "CRL_PREFETCH",
];
const PROTOCOLS: [&str; 3] = ["PCOIP", "RDP", "BLAST"];
/// The swagger's example value; vlsim brokers no desktops.
const SESSION_THRESHOLD: i64 = 2000;

/// The monitor record in schema version `schema` (1–4).
fn info<'a>(
    cs: &'a ConnectionServer,
    cert: Option<&'a ServedCertificate>,
    default_certificate: bool,
    now_ms: i64,
    schema: u8,
) -> MonitorInfo<'a> {
    MonitorInfo {
        id: &cs.id,
        name: &cs.name,
        status: "OK",
        details: Details {
            version: &cs.version,
            build: &cs.build,
        },
        certificate: cert.map(|c| CertificateInfo {
            valid: c.valid_from_ms <= now_ms && now_ms <= c.valid_to_ms,
            valid_from: c.valid_from_ms,
            valid_to: c.valid_to_ms,
            certificate_type: (schema >= 4).then_some("MACHINE"),
            is_certificate_managed: (schema >= 4).then_some(false),
            connection_server_certificate: (schema >= 4).then_some(c.pem.as_str()),
        }),
        default_certificate,
        connection_count: 0,
        tunnel_connection_count: 0,
        session_threshold: SESSION_THRESHOLD,
        services: SERVICES
            .iter()
            .map(|s| Service {
                service_name: s,
                status: "UP",
            })
            .collect(),
        session_protocol_data: PROTOCOLS
            .iter()
            .map(|p| SessionProtocol {
                session_protocol: p,
                session_count: 0,
            })
            .collect(),
        last_updated_timestamp: (schema >= 2).then_some(now_ms),
        v3: (schema >= 3).then_some(MonitorV3 {
            unrecognized_pcoip_requests_count: 0,
            unrecognized_tunnel_requests_count: 0,
            unrecognized_xmlapi_requests_count: 0,
        }),
        v4: (schema >= 4).then_some(MonitorV4 {
            unrecognized_blast_requests_count: 0,
            connection_count_high: 0,
            num_bsg_sessions: 0,
            num_psg_sessions: 0,
            num_rdp_gatewayed_sessions: 0,
            bypass_tunnel: false,
            bypass_pcoip_gateway: false,
            bypass_app_blast_gateway: false,
            unauthenticated_access: false,
        }),
    }
}

/// The unversioned (schema 1) list as this worker last wrote it, and from which settings.
struct RenderedList {
    settings: Arc<HorizonSpec>,
    body: Bytes,
}

thread_local! {
    static RENDERED_LIST: RefCell<Option<RenderedList>> = const { RefCell::new(None) };
}

/// `render`'s list, written again only when the settings change (a seed, a reset): for a
/// list that holds nothing else. Serialising it was most of what vlsim adds to a REST
/// Bearer call.
fn list_per_settings(
    state: &AppState,
    render: impl FnOnce(&ConnectionServer) -> RestResult<Bytes>,
) -> RestResult<Bytes> {
    let settings = state.core.horizon().settings();
    let kept = RENDERED_LIST.with_borrow(|kept| {
        kept.as_ref()
            .filter(|k| Arc::ptr_eq(&k.settings, &settings))
            .map(|k| k.body.clone())
    });
    if let Some(body) = kept {
        return Ok(body);
    }
    let body = render(&state.core.horizon().connection_server())?;
    RENDERED_LIST.set(Some(RenderedList {
        settings,
        body: body.clone(),
    }));
    Ok(body)
}

/// The certificate served over TLS (`None` without `--tls`), registered at start.
type Served = web::Data<Option<ServedCertificate>>;

fn respond(
    state: &AppState,
    cert: &Served,
    schema: u8,
    id: Option<&str>,
) -> RestResult<HttpResponse> {
    let cert = cert.get_ref().as_ref();
    // A certificate of vlsim's own making is the "default" (self-signed) one.
    let default_certificate = cert.is_none_or(|c| c.generated);
    let now_ms = state.core.clock().now_ms();
    let write = |cs: &ConnectionServer, as_list: bool| -> RestResult<Bytes> {
        let record = info(cs, cert, default_certificate, now_ms, schema);
        let written = if as_list {
            serde_json::to_vec(&[record])
        } else {
            serde_json::to_vec(&record)
        };
        written.map(Bytes::from).map_err(|e| {
            CoreError::Internal(format!("the monitor reply could not be written: {e}")).into()
        })
    };
    let body = match id {
        // Schema 1 holds no clock reading; without a certificate, only the settings.
        None if schema == 1 && cert.is_none() => list_per_settings(state, |cs| write(cs, true))?,
        None => write(&state.core.horizon().connection_server(), true)?,
        Some(id) => {
            let cs = state.core.horizon().connection_server();
            if id != cs.id {
                return Err(RestError::NotFound {
                    key: "monitor.connection.server.not.found",
                    message: format!("No connection server with id '{id}'"),
                });
            }
            write(&cs, false)?
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(body))
}

/// Every connection server's monitor record in schema `SCHEMA` (`ConnectionServerMonitorInfoV{SCHEMA}`;
/// the route table says which path answers in which schema).
pub async fn list<const SCHEMA: u8>(
    state: web::Data<AppState>,
    cert: Served,
    _c: Reader,
) -> RestResult<HttpResponse> {
    respond(&state, &cert, SCHEMA, None)
}

/// One connection server's monitor record in schema `SCHEMA`.
pub async fn get<const SCHEMA: u8>(
    state: web::Data<AppState>,
    cert: Served,
    _c: Reader,
    id: web::Path<String>,
) -> RestResult<HttpResponse> {
    respond(&state, &cert, SCHEMA, Some(&id))
}
