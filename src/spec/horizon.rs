//! `[horizon]`: the emulated Connection Server and its administrators.

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
