//! `[vcenter]`: the SSO domain, its users, token lifetimes, audiences and trusted issuers.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VcenterSpec {
    #[serde(default = "default_domain")]
    pub domain: String,
    /// Id of the RSA key in `[[keys]]` that signs JWTs and SAML assertions.
    #[serde(default = "default_signing_key")]
    pub signing_key: String,
    #[serde(default = "default_idle")]
    pub session_idle_timeout_seconds: i64,
    #[serde(default = "default_saml_lifetime")]
    pub saml_token_lifetime_seconds: i64,
    #[serde(default = "default_jwt_lifetime")]
    pub jwt_token_lifetime_seconds: i64,
    /// The audiences this vCenter issues JWTs for; empty: any (a JWT requested without one
    /// is for this vCenter itself, its `aud` the issuer URL).
    #[serde(default)]
    pub audiences: Vec<String>,
    /// `iss` values accepted on subject/actor/Bearer JWTs; `{host}` matches any host,
    /// `{origin}` is `http(s)://` + the host the client addressed.
    #[serde(default = "default_trusted_issuers")]
    pub trusted_issuers: Vec<String>,
    #[serde(default = "default_users")]
    pub users: Vec<VcenterUserSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VcenterUserSpec {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

fn default_domain() -> String {
    "vsphere.local".into()
}
pub fn default_signing_key() -> String {
    "40000000-0000-4000-8000-000000000001".into()
}
fn default_idle() -> i64 {
    1800
}
fn default_saml_lifetime() -> i64 {
    300
}
fn default_jwt_lifetime() -> i64 {
    36000
}
fn default_trusted_issuers() -> Vec<String> {
    [
        "vlsim.test",
        "{origin}",
        "cs1.vlsim.test",
        "https://{host}/openidconnect/vsphere.local",
    ]
    .map(String::from)
    .to_vec()
}
fn default_users() -> Vec<VcenterUserSpec> {
    vec![VcenterUserSpec {
        name: "Administrator".into(),
        password: "VMware1!".into(),
        groups: [
            "Administrators@vsphere.local",
            "Users@vsphere.local",
            "Everyone@vsphere.local",
        ]
        .map(String::from)
        .to_vec(),
    }]
}

impl Default for VcenterSpec {
    fn default() -> Self {
        Self {
            domain: default_domain(),
            signing_key: default_signing_key(),
            session_idle_timeout_seconds: default_idle(),
            saml_token_lifetime_seconds: default_saml_lifetime(),
            jwt_token_lifetime_seconds: default_jwt_lifetime(),
            audiences: Vec::new(),
            trusted_issuers: default_trusted_issuers(),
            users: default_users(),
        }
    }
}
