//! Response bodies of the Horizon REST surface, member names as the swagger spells them.
//! Members without a value are omitted, never `null`.

use crate::core::horizon::query::AuditEventSummary;
use serde::Serialize;

/// `AuthTokens`.
#[derive(Serialize)]
pub struct AuthTokens<'a> {
    pub access_token: &'a str,
    pub refresh_token: &'a str,
}

/// `AccessToken`.
#[derive(Serialize)]
pub struct AccessToken<'a> {
    pub access_token: &'a str,
}

/// `AuditEventSummary` / `AuditEventSummaryV2` (vlsim never sets `persistent_disk_id`,
/// `machine_id` or the pool names, so both versions read the same).
#[derive(Serialize)]
pub struct AuditEvent<'a> {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<&'a str>,
    #[serde(rename = "type")]
    pub event_type: &'a str,
    pub severity: &'a str,
    pub module: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine_dns_name: Option<&'a str>,
    pub time: i64,
    pub message: &'a str,
}

impl<'a> From<&'a AuditEventSummary> for AuditEvent<'a> {
    fn from(s: &'a AuditEventSummary) -> Self {
        Self {
            id: i64::from(s.event_id),
            user_id: s.user_id.as_deref(),
            event_type: &s.event_type,
            severity: &s.severity,
            module: &s.module,
            machine_dns_name: s.machine_dns_name.as_deref(),
            time: s.time_ms,
            message: &s.message,
        }
    }
}

#[derive(Serialize)]
pub struct Details<'a> {
    pub version: &'a str,
    pub build: &'a str,
}

/// `CertificateMonitorInfo` (V2 adds the last three members, on monitor v4).
#[derive(Serialize)]
pub struct CertificateInfo<'a> {
    pub valid: bool,
    pub valid_from: i64,
    pub valid_to: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_certificate_managed: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection_server_certificate: Option<&'a str>,
}

#[derive(Serialize)]
pub struct Service {
    pub service_name: &'static str,
    pub status: &'static str,
}

#[derive(Serialize)]
pub struct SessionProtocol {
    pub session_protocol: &'static str,
    pub session_count: i64,
}

/// `ConnectionServerMonitorInfo` and its V2, V3 and V4 (later members only from the
/// version that has them).
#[derive(Serialize)]
pub struct MonitorInfo<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub status: &'static str,
    pub details: Details<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateInfo<'a>>,
    pub default_certificate: bool,
    pub connection_count: i64,
    pub tunnel_connection_count: i64,
    pub session_threshold: i64,
    pub services: Vec<Service>,
    pub session_protocol_data: Vec<SessionProtocol>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_updated_timestamp: Option<i64>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub v3: Option<MonitorV3>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub v4: Option<MonitorV4>,
}

#[derive(Serialize)]
pub struct MonitorV3 {
    pub unrecognized_pcoip_requests_count: i64,
    pub unrecognized_tunnel_requests_count: i64,
    pub unrecognized_xmlapi_requests_count: i64,
}

#[derive(Serialize)]
pub struct MonitorV4 {
    pub unrecognized_blast_requests_count: i64,
    pub connection_count_high: i64,
    pub num_bsg_sessions: i64,
    pub num_psg_sessions: i64,
    pub num_rdp_gatewayed_sessions: i64,
    pub bypass_tunnel: bool,
    pub bypass_pcoip_gateway: bool,
    pub bypass_app_blast_gateway: bool,
    pub unauthenticated_access: bool,
}

/// `JWTInfo`.
#[derive(Serialize, Clone)]
pub struct JwtInfo<'a> {
    pub jwt_authenticator_ids: &'a [String],
    pub jwt_support: &'static str,
}

/// `ConnectionServerInfo` (v1: only these two members).
#[derive(Serialize)]
pub struct ConnectionServerInfo<'a> {
    pub id: &'a str,
    pub jwt_info: JwtInfo<'a>,
}

/// `ConnectionServerInfoV2` (the members vlsim has a value for).
#[derive(Serialize)]
pub struct ConnectionServerInfoV2<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub fqhn: &'a str,
    pub cluster_name: &'static str,
    pub enabled: bool,
    pub local_connection_server: bool,
    pub version: String,
    pub server_url: &'a str,
    pub external_url: &'a str,
    pub ip_mode: &'static str,
    pub fips_mode_enabled: bool,
    pub smart_card_support: &'static str,
    pub smart_card_support_for_admin: &'static str,
    pub bypass_tunnel: bool,
    pub bypass_pcoip_gateway: bool,
    pub bypass_app_blast_gateway: bool,
    pub jwt_info: JwtInfo<'a>,
    pub saml_info: SamlInfo,
}

#[derive(Serialize)]
pub struct SamlInfo {
    pub saml_support: &'static str,
}

/// `JWTAuthenticatorInfo`.
#[derive(Serialize)]
pub struct JwtAuthenticatorInfo<'a> {
    pub id: &'a str,
    pub name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub description: &'a str,
    pub issuer: &'a str,
    pub public_keys: &'a [String],
    #[serde(skip_serializing_if = "String::is_empty")]
    pub url: String,
}

/// `EventDatabaseInfo`.
#[derive(Serialize)]
pub struct EventDatabaseInfo<'a> {
    pub event_database_configured: bool,
    pub server_name: &'a str,
    pub port: u16,
    pub database_name: &'a str,
    pub username: &'a str,
    #[serde(rename = "type")]
    pub db_type: &'a str,
    pub table_prefix: &'a str,
    pub query_timeout_seconds: i64,
    pub show_events_for_time: &'a str,
    pub classify_events_as_new_for_days: i64,
    pub admin_events_count: i64,
    pub timing_profiler_data_longevity_days: i64,
}
