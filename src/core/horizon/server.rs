//! What the REST API reports about the Connection Server itself: its id, name and version,
//! the JWT authenticators it trusts (with their keys as JWK JSON), its event database.
//! All of it comes from `[horizon]` in the fixtures.

use super::Horizon;
use crate::core::error::{CoreError, CoreResult};
use crate::spec::{EventDatabaseSpec, HorizonSpec};

/// The one Connection Server vlsim is.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionServer {
    pub id: String,
    pub name: String,
    pub version: String,
    pub build: String,
    /// The JWT authenticators associated with it (all of the fixtures').
    pub jwt_authenticator_ids: Vec<String>,
}

/// A trusted JWT issuer.
#[derive(Debug, Clone, PartialEq)]
pub struct JwtAuthenticator {
    pub id: String,
    pub name: String,
    pub description: String,
    pub issuer: String,
    /// Each key as a compact JWK JSON document.
    pub public_keys: Vec<String>,
    /// As configured: absolute, or a path served by this vlsim.
    pub url: String,
}

const JWT_AUTHENTICATOR_NAME_MAX: usize = 32;
const DB_TYPES: &[&str] = &["SQL_SERVER", "ORACLE", "POSTGRESQL"];

/// Checks the REST settings of `[horizon]` before they are loaded.
pub(super) fn check(spec: &HorizonSpec, key_ids: &[String]) -> CoreResult<()> {
    for (field, minutes) in [
        (
            "horizon.rest_access_token_ttl_minutes",
            spec.rest_access_token_ttl_minutes,
        ),
        (
            "horizon.rest_refresh_token_ttl_minutes",
            spec.rest_refresh_token_ttl_minutes,
        ),
    ] {
        if minutes < 1 {
            return Err(CoreError::invalid_argument(
                field,
                format!("{field} must be at least 1, got {minutes}"),
            ));
        }
    }
    if !DB_TYPES.contains(&spec.event_database.db_type.as_str()) {
        return Err(CoreError::invalid_argument(
            "horizon.event_database.type",
            format!(
                "horizon.event_database.type must be one of {}, got {}",
                DB_TYPES.join(", "),
                spec.event_database.db_type
            ),
        ));
    }
    for a in &spec.jwt_authenticators {
        if a.name.chars().count() > JWT_AUTHENTICATOR_NAME_MAX {
            return Err(CoreError::invalid_argument(
                "horizon.jwt_authenticators.name",
                format!(
                    "JWT authenticator name [{}] is longer than {JWT_AUTHENTICATOR_NAME_MAX} characters",
                    a.name
                ),
            ));
        }
        if let Some(missing) = a.public_keys.iter().find(|k| !key_ids.contains(k)) {
            return Err(CoreError::invalid_argument(
                "horizon.jwt_authenticators.public_keys",
                format!(
                    "JWT authenticator {}: no key with id {missing} in the fixtures",
                    a.id
                ),
            ));
        }
    }
    Ok(())
}

impl Horizon<'_> {
    pub fn connection_server(&self) -> ConnectionServer {
        let s = self.settings();
        ConnectionServer {
            id: s.connection_server_id.clone(),
            name: s.connection_server_name.clone(),
            version: s.version.clone(),
            build: s.build.clone(),
            jwt_authenticator_ids: s.jwt_authenticators.iter().map(|a| a.id.clone()).collect(),
        }
    }

    /// The trusted JWT issuers, their keys as JWK JSON (a key that is gone, or an HMAC key,
    /// which is never published, is left out).
    pub fn jwt_authenticators(&self) -> Vec<JwtAuthenticator> {
        let ring = self.svc.keys.ring();
        self.settings()
            .jwt_authenticators
            .iter()
            .map(|a| JwtAuthenticator {
                id: a.id.clone(),
                name: a.name.clone(),
                description: a.description.clone(),
                issuer: a.issuer.clone(),
                public_keys: a
                    .public_keys
                    .iter()
                    .filter_map(|id| ring.get(id))
                    .filter_map(|k| k.jwk.as_ref().and_then(|j| serde_json::to_string(j).ok()))
                    .collect(),
                url: a.url.clone(),
            })
            .collect()
    }

    pub fn event_database(&self) -> EventDatabaseSpec {
        self.settings().event_database.clone()
    }
}
