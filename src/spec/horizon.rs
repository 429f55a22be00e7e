//! `[horizon]`: the emulated Connection Server, its administrators, its REST API settings,
//! its event database and the JWT authenticators it trusts.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HorizonSpec {
    pub connection_server_name: String,
    pub domain: String,
    pub signing_key: String,
    #[serde(default = "default_idle")]
    pub session_idle_timeout_seconds: i64,
    #[serde(default = "default_validity")]
    pub default_token_validity_minutes: i64,
    #[serde(default = "default_max_validity")]
    pub max_token_validity_minutes: i64,
    /// The Connection Server's id in the REST API (`/rest/monitor/...`, `/rest/config/...`).
    #[serde(default = "default_connection_server_id")]
    pub connection_server_id: String,
    /// `details.version` and `details.build` of the REST monitor.
    #[serde(default = "default_version")]
    pub version: String,
    #[serde(default = "default_build")]
    pub build: String,
    /// Lifetime of `/rest/login` access tokens.
    #[serde(default = "default_rest_access")]
    pub rest_access_token_ttl_minutes: i64,
    /// Lifetime of `/rest/login` refresh tokens (and of the login they belong to).
    #[serde(default = "default_rest_refresh")]
    pub rest_refresh_token_ttl_minutes: i64,
    #[serde(default)]
    pub event_database: EventDatabaseSpec,
    #[serde(default)]
    pub jwt_authenticators: Vec<JwtAuthenticatorSpec>,
    #[serde(default)]
    pub users: Vec<HorizonUserSpec>,
}

fn default_idle() -> i64 {
    1800
}
fn default_validity() -> i64 {
    30
}
fn default_max_validity() -> i64 {
    525_600
}
fn default_connection_server_id() -> String {
    "60000000-0000-4000-8000-000000000001".into()
}
fn default_version() -> String {
    "8.18.0".into()
}
fn default_build() -> String {
    "vlsim".into()
}
fn default_rest_access() -> i64 {
    30
}
fn default_rest_refresh() -> i64 {
    480
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HorizonUserSpec {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub privileges: Vec<String>,
}

/// `[horizon.event_database]`: what `GET /rest/config/v1/event-database` reports (vlsim's
/// own event log stands behind it; no database is contacted).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EventDatabaseSpec {
    pub server_name: String,
    pub port: u16,
    pub database_name: String,
    pub username: String,
    /// SQL_SERVER, ORACLE or POSTGRESQL.
    #[serde(rename = "type")]
    pub db_type: String,
    pub table_prefix: String,
    pub query_timeout_seconds: i64,
    /// ONE_WEEK ... SIX_MONTHS.
    pub show_events_for_time: String,
    pub classify_events_as_new_for_days: i64,
    pub admin_events_count: i64,
    pub timing_profiler_data_longevity_days: i64,
}

impl Default for EventDatabaseSpec {
    fn default() -> Self {
        Self {
            server_name: "eventdb.vlsim.test".into(),
            port: 5432,
            database_name: "vlsim_events".into(),
            username: "vlsim".into(),
            db_type: "POSTGRESQL".into(),
            table_prefix: "vlsim_".into(),
            query_timeout_seconds: 120,
            show_events_for_time: "THREE_MONTHS".into(),
            classify_events_as_new_for_days: 2,
            admin_events_count: 2000,
            timing_profiler_data_longevity_days: 7,
        }
    }
}

/// `[[horizon.jwt_authenticators]]`: an issuer of JWTs the Connection Server trusts, as
/// `GET /rest/config/v1/jwt-authenticators` lists it.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct JwtAuthenticatorSpec {
    pub id: String,
    /// At most 32 characters (the REST API's limit).
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Matched against the `iss` claim of the JWTs.
    pub issuer: String,
    /// Ids of keys in `[[keys]]`, published as JWK JSON strings.
    #[serde(default)]
    pub public_keys: Vec<String>,
    /// Where the keys can be fetched; a path starting with `/` is served by this vlsim and
    /// reported as an absolute URL of the host the client addressed.
    #[serde(default)]
    pub url: String,
}
