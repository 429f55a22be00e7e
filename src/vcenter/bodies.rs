//! The vCenter surface's JSON bodies (the `/api` and legacy forms; JSON-RPC values are
//! built in `jsonrpc.rs`, in vAPI's own tagged encoding).

use crate::core::sessions::Session;
use crate::core::vcenter::{TokenInfo, Vcenter};
use serde::Serialize;

/// `com.vmware.cis.session.info`.
#[derive(Debug, Serialize)]
pub struct SessionInfo {
    pub user: String,
    pub created_time: String,
    pub last_accessed_time: String,
}

impl From<&Session> for SessionInfo {
    fn from(session: &Session) -> Self {
        Self {
            user: Vcenter::display_user(&session.principal),
            created_time: crate::clock::rfc3339_ms(session.created_ms),
            last_accessed_time: crate::clock::rfc3339_ms(session.last_access_ms),
        }
    }
}

/// `com.vmware.oauth2.token_info`.
#[derive(Debug, Serialize)]
pub struct TokenInfoBody<'a> {
    pub access_token: &'a str,
    pub token_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
    pub issued_token_type: &'a str,
}

impl<'a> From<&'a TokenInfo> for TokenInfoBody<'a> {
    fn from(info: &'a TokenInfo) -> Self {
        Self {
            access_token: &info.access_token,
            token_type: &info.token_type,
            expires_in: info.expires_in,
            scope: info.scope.as_deref(),
            refresh_token: info.refresh_token.as_deref(),
            issued_token_type: &info.issued_token_type,
        }
    }
}

/// The legacy `/rest` envelope: `{"value": ...}`.
#[derive(Debug, Serialize)]
pub struct Value<T> {
    pub value: T,
}

/// OpenID discovery of the SSO domain.
#[derive(Debug, Serialize)]
pub struct Discovery {
    pub issuer: String,
    pub jwks_uri: String,
    pub token_endpoint: String,
    pub response_types_supported: [&'static str; 1],
    pub subject_types_supported: [&'static str; 1],
    pub id_token_signing_alg_values_supported: [&'static str; 1],
    pub grant_types_supported: [&'static str; 1],
    pub claims_supported: [&'static str; 9],
}
