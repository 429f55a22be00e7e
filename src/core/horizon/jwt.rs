//! `JwtToken`: generating JWTs (with the privilege check and the events a Connection
//! Server writes) and the public keys that verify them.

use super::{Horizon, EVENT_GENERATED, EVENT_GENERATION_FAILED, PRIVILEGE_GENERATE_JWT};
use crate::core::error::{CoreError, CoreResult};
use crate::core::events::{details, NewEvent};
use crate::core::keys::KeyRing;
use crate::core::sessions::Session;
use crate::core::tokens;
use crate::json::ObjectWriter;
use serde_json::json;
use std::sync::Arc;

/// A JWT made by `JwtToken_Generate`.
#[derive(Debug, Clone)]
pub struct GeneratedToken {
    pub token: String,
    pub issued_at: i64,
    pub expires_at: i64,
    /// `expires_at` in RFC 3339, as the reply and the event give it.
    pub expiry_time: String,
}

/// One Connection Server's verification keys.
#[derive(Debug, Clone)]
pub struct PublicKeys {
    pub connection_server_name: String,
    /// The ring the keys come from: the same `Arc` until keys are reloaded, so an adapter
    /// may keep what it renders from them while it holds this.
    pub ring: Arc<KeyRing>,
}

impl PublicKeys {
    /// The PEM of every publishable key, in ring order.
    pub fn keys_pem(&self) -> Vec<String> {
        self.ring
            .public()
            .filter_map(|k| k.public_pem.clone())
            .collect()
    }
}

/// The claims of a generated JWT.
struct GeneratedClaims<'a> {
    domain: &'a str,
    exp: i64,
    iat: i64,
    iss: &'a str,
    jti: uuid::Uuid,
    sub: &'a str,
    username: &'a str,
}

impl GeneratedClaims<'_> {
    /// The claims' JSON, written directly (serde's per-field machinery cost more than the
    /// rest of the claims), in the order a map would sort them, as tokens always had them.
    fn to_json(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        let mut object = ObjectWriter::new(&mut out);
        object
            .str("domain", self.domain)
            .int("exp", self.exp)
            .int("iat", self.iat)
            .str("iss", self.iss)
            .str(
                "jti",
                self.jti
                    .hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer()),
            )
            .str("sub", self.sub)
            .str("username", self.username);
        object.finish();
        out
    }
}

impl Horizon<'_> {
    /// `JwtToken_Generate`: validity in minutes (`None` = the configured default).
    /// Records `VLSI_JWT_TOKEN_GENERATED`; failures are recorded by the caller through
    /// [`Horizon::generation_failed`] so that every failed call, including those refused
    /// before reaching here, leaves an event.
    pub fn generate_token(
        &self,
        session: &Session,
        validity_minutes: Option<i64>,
    ) -> CoreResult<GeneratedToken> {
        let settings = self.settings();
        if !session
            .privileges
            .iter()
            .any(|p| p == PRIVILEGE_GENERATE_JWT)
        {
            return Err(CoreError::PermissionDenied {
                message: format!(
                    "User {} does not have sufficient permission to generate JWT tokens.",
                    session.principal
                ),
                privileges: vec![PRIVILEGE_GENERATE_JWT.to_string()],
            });
        }
        let minutes = validity_minutes.unwrap_or(settings.default_token_validity_minutes);
        if minutes <= 0 {
            return Err(CoreError::invalid_argument(
                "spec.validityTime",
                format!("validityTime must be a positive number of minutes, got {minutes}"),
            ));
        }
        if minutes > settings.max_token_validity_minutes {
            return Err(CoreError::invalid_argument(
                "spec.validityTime",
                format!(
                    "validityTime must be at most {} minutes, got {minutes}",
                    settings.max_token_validity_minutes
                ),
            ));
        }
        let key = self.svc.keys.get(&settings.signing_key)?;
        let now = self.svc.clock.now_secs();
        let expires_at = now.saturating_add(minutes.saturating_mul(60));
        let (domain, username) = session
            .principal
            .split_once('\\')
            .unwrap_or((settings.domain.as_str(), session.principal.as_str()));
        let claims = GeneratedClaims {
            domain,
            exp: expires_at,
            iat: now,
            iss: &settings.connection_server_name,
            jti: uuid::Uuid::new_v4(),
            sub: &session.principal,
            username,
        };
        let token = tokens::mint_json(&key, claims.to_json())?;
        let expiry_time = crate::clock::rfc3339_secs(expires_at);
        self.svc.events.record(NewEvent {
            message: format!(
                "User {} generated a JWT token valid for {minutes} minutes",
                session.principal
            ),
            details: details([
                ("validityMinutes", json!(minutes)),
                ("expiryTime", json!(expiry_time.clone())),
                ("keyId", json!(key.id)),
            ]),
            ..self.event(EVENT_GENERATED, true, Some(session.principal.clone()))
        })?;
        Ok(GeneratedToken {
            token,
            issued_at: now,
            expires_at,
            expiry_time,
        })
    }

    /// Records `VLSI_JWT_TOKEN_GENERATION_FAILED` with the reason and the fault type.
    pub fn generation_failed(&self, user: Option<String>, reason: &str, fault: &str) {
        let message = match &user {
            Some(u) => format!("JWT token generation failed for user {u}: {reason}"),
            None => format!("JWT token generation failed: {reason}"),
        };
        self.svc.events.record_or_log(NewEvent {
            message,
            details: details([("reason", json!(reason)), ("fault", json!(fault))]),
            ..self.event(EVENT_GENERATION_FAILED, false, user)
        });
    }

    /// `JwtToken_GetPublicKeys`: one entry for this emulated server, PEM SPKI per key.
    pub fn public_keys(&self) -> PublicKeys {
        PublicKeys {
            connection_server_name: self.settings().connection_server_name.clone(),
            ring: self.svc.keys.ring(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::GeneratedClaims;

    #[test]
    fn claims_are_the_json_of_their_fields_in_sorted_order() {
        let jti = uuid::Uuid::new_v4();
        for (domain, username) in [("VLSIM", "administrator"), ("D\"Q", "a\\b\u{1}é")] {
            let principal = format!("{domain}\\{username}");
            let claims = GeneratedClaims {
                domain,
                exp: 1_800,
                iat: -7,
                iss: "cs-01 \"east\"",
                jti,
                sub: &principal,
                username,
            };
            let json = String::from_utf8(claims.to_json()).unwrap();
            let expected = serde_json::json!({
                "domain": domain, "exp": 1_800, "iat": -7, "iss": "cs-01 \"east\"",
                "jti": jti.to_string(), "sub": principal, "username": username,
            });
            assert_eq!(json, serde_json::to_string(&expected).unwrap());
        }
    }
}
