//! Horizon Connection Server rules: administrator login (password or JWT), JWT generation
//! with its privilege check and events, and the public keys that verify those JWTs.

use crate::core::error::{CoreError, CoreResult};
use crate::core::events::NewEvent;
use crate::core::identity::{verify_password, HorizonUser};
use crate::core::sessions::{NewSession, Session};
use crate::core::tokens::{self, Expectations};
use crate::core::Core;
use serde_json::{json, Map, Value};

pub const SURFACE: &str = "vlsi";
pub const PRIVILEGE_GENERATE_JWT: &str = "ADMINISTRATOR";
pub const EVENT_GENERATED: &str = "VLSI_JWT_TOKEN_GENERATED";
pub const EVENT_GENERATION_FAILED: &str = "VLSI_JWT_TOKEN_GENERATION_FAILED";
pub const EVENT_LOGGED_IN: &str = "VLSI_USERLOGGEDIN";
pub const EVENT_LOGIN_FAILED: &str = "VLSI_USERLOGINFAILED";
pub const EVENT_LOGGED_OUT: &str = "VLSI_USERLOGGEDOUT";
pub const LOCALES: &[&str] = &["de", "en", "es", "fr", "ja", "ko", "zh", "zh_TW"];

/// A JWT made by `JwtToken_Generate`.
#[derive(Debug, Clone)]
pub struct GeneratedToken {
    pub token: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// One Connection Server's verification keys.
#[derive(Debug, Clone)]
pub struct PublicKeys {
    pub connection_server_name: String,
    pub keys_pem: Vec<String>,
}

fn details(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

impl Core {
    /// Splits `DOMAIN\user`, `user@domain` or a bare name plus the `domain` argument.
    fn horizon_user(&self, username: &str, domain: &str) -> CoreResult<Option<HorizonUser>> {
        let settings = self.horizon_settings();
        let (name, domain) = if let Some((d, n)) = username.split_once('\\') {
            (n, d)
        } else if let Some((n, d)) = username.split_once('@') {
            (n, d)
        } else if domain.trim().is_empty() {
            (username, settings.domain.as_str())
        } else {
            (username, domain)
        };
        // Horizon accepts the NetBIOS name or a DNS-style name starting with it.
        let domain = domain.split('.').next().unwrap_or(domain);
        Ok(self
            .horizon_users
            .get(HorizonUser::key(domain.trim(), name.trim()))?)
    }

    pub async fn horizon_login(
        &self,
        username: &str,
        password: &str,
        domain: &str,
    ) -> CoreResult<Session> {
        let user = self
            .horizon_user(username, domain)?
            .filter(|u| verify_password(password, &u.password_hash));
        let Some(user) = user else {
            self.record_event(NewEvent {
                event_type: EVENT_LOGIN_FAILED,
                severity: "AUDIT_FAIL",
                module: "Vlsi",
                surface: SURFACE,
                user: Some(format!("{domain}\\{username}")),
                message: format!("Login failed for user {domain}\\{username}"),
                details: Map::new(),
            })?;
            return Err(CoreError::InvalidCredentials(
                "Invalid username, password or domain".into(),
            ));
        };
        self.horizon_open_session(&user, "password").await
    }

    async fn horizon_open_session(&self, user: &HorizonUser, method: &str) -> CoreResult<Session> {
        let settings = self.horizon_settings();
        let session = self
            .create_session(NewSession {
                surface: SURFACE,
                principal: user.principal(),
                privileges: user.privileges.clone(),
                idle_timeout_secs: settings.session_idle_timeout_seconds,
                method,
            })
            .await?;
        self.record_event(NewEvent {
            event_type: EVENT_LOGGED_IN,
            severity: "AUDIT_SUCCESS",
            module: "Vlsi",
            surface: SURFACE,
            user: Some(user.principal()),
            message: format!(
                "User {} has logged in to the View API ({method})",
                user.principal()
            ),
            details: details(&[("method", json!(method))]),
        })?;
        Ok(session)
    }

    /// Logs in with a JWT made by `JwtToken_Generate` that is still valid.
    pub async fn horizon_login_by_token(&self, token: &str) -> CoreResult<Session> {
        let settings = self.horizon_settings();
        let issuers = vec![settings.connection_server_name.clone()];
        let expect = Expectations {
            issuers: Some(&issuers),
            ..Default::default()
        };
        let ring = self.key_ring();
        let verified = tokens::verify(&ring, token, self.clock.now_secs(), &expect)
            .map_err(|e| CoreError::InvalidCredentials(format!("The token is not valid: {e}")))?;
        let subject = verified.claim_str("sub").unwrap_or_default();
        let user = self.horizon_user(subject, "")?.ok_or_else(|| {
            CoreError::InvalidCredentials(format!(
                "The token is not valid: its subject [{subject}] is not a known user"
            ))
        })?;
        self.horizon_open_session(&user, "token").await
    }

    pub async fn horizon_logout(&self, session: &Session) -> CoreResult<()> {
        self.end_session(&session.id).await?;
        self.record_event(NewEvent {
            event_type: EVENT_LOGGED_OUT,
            severity: "AUDIT_SUCCESS",
            module: "Vlsi",
            surface: SURFACE,
            user: Some(session.principal.clone()),
            message: format!("User {} has logged out of the View API", session.principal),
            details: Map::new(),
        })?;
        Ok(())
    }

    pub fn horizon_set_locale(&self, session: &mut Session, locale: &str) -> CoreResult<()> {
        if !LOCALES.contains(&locale) {
            return Err(CoreError::invalid_argument(
                "locale",
                format!(
                    "Unsupported locale [{locale}]; supported: {}",
                    LOCALES.join(", ")
                ),
            ));
        }
        session.locale = Some(locale.to_string());
        self.update_session(session)
    }

    /// `JwtToken_Generate`: validity in minutes (`None` = the configured default).
    /// Records `VLSI_JWT_TOKEN_GENERATED`; failures are recorded by the caller through
    /// [`Core::horizon_generation_failed`] so that every failed call, including those
    /// refused before reaching here, leaves an event.
    pub fn horizon_generate_token(
        &self,
        session: &Session,
        validity_minutes: Option<i64>,
    ) -> CoreResult<GeneratedToken> {
        let settings = self.horizon_settings();
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
        let ring = self.key_ring();
        let key = ring.get(&settings.signing_key).ok_or_else(|| {
            CoreError::Internal(format!("signing key {} is missing", settings.signing_key))
        })?;
        let now = self.clock.now_secs();
        let expires_at = now.saturating_add(minutes.saturating_mul(60));
        let (domain, username) = session
            .principal
            .split_once('\\')
            .unwrap_or((settings.domain.as_str(), session.principal.as_str()));
        // A struct rather than a claims map: no per-claim allocations on the hot path.
        // Fields in the order a map would sort them, so tokens read the same as before.
        #[derive(serde::Serialize)]
        struct GeneratedClaims<'a> {
            domain: &'a str,
            exp: i64,
            iat: i64,
            iss: &'a str,
            jti: uuid::Uuid,
            sub: &'a str,
            username: &'a str,
        }
        let claims = GeneratedClaims {
            domain,
            exp: expires_at,
            iat: now,
            iss: &settings.connection_server_name,
            jti: uuid::Uuid::new_v4(),
            sub: &session.principal,
            username,
        };
        let token = tokens::mint(&key, &claims)?;
        self.record_event(NewEvent {
            event_type: EVENT_GENERATED,
            severity: "AUDIT_SUCCESS",
            module: "Vlsi",
            surface: SURFACE,
            user: Some(session.principal.clone()),
            message: format!(
                "User {} generated a JWT token valid for {minutes} minutes",
                session.principal
            ),
            details: details(&[
                ("validityMinutes", json!(minutes)),
                ("expiryTime", json!(crate::clock::rfc3339_secs(expires_at))),
                ("keyId", json!(key.id)),
            ]),
        })?;
        Ok(GeneratedToken {
            token,
            issued_at: now,
            expires_at,
        })
    }

    pub fn horizon_generation_failed(&self, user: Option<String>, reason: &str, fault: &str) {
        let message = match &user {
            Some(u) => format!("JWT token generation failed for user {u}: {reason}"),
            None => format!("JWT token generation failed: {reason}"),
        };
        let recorded = self.record_event(NewEvent {
            event_type: EVENT_GENERATION_FAILED,
            severity: "AUDIT_FAIL",
            module: "Vlsi",
            surface: SURFACE,
            user,
            message,
            details: details(&[("reason", json!(reason)), ("fault", json!(fault))]),
        });
        if let Err(e) = recorded {
            tracing::error!(error = %e, "could not record {EVENT_GENERATION_FAILED}");
        }
    }

    /// `JwtToken_GetPublicKeys`: one entry for this emulated server, PEM SPKI per key.
    pub fn horizon_public_keys(&self) -> PublicKeys {
        let ring = self.key_ring();
        PublicKeys {
            connection_server_name: self.horizon_settings().connection_server_name.clone(),
            keys_pem: ring.public().filter_map(|k| k.public_pem.clone()).collect(),
        }
    }
}
