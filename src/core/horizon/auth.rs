//! Administrator sessions: login by password or by a JWT this server generated, logout,
//! the session locale.

use super::{Horizon, HorizonUser, EVENT_LOGGED_IN, EVENT_LOGGED_OUT, EVENT_LOGIN_FAILED, LOCALES};
use crate::core::error::{CoreError, CoreResult};
use crate::core::events::{details, NewEvent};
use crate::core::identity::verify_password;
use crate::core::sessions::{NewSession, Session};
use crate::core::tokens::{self, Expectations};
use crate::surface::Surface;
use serde_json::json;

impl Horizon<'_> {
    pub async fn login(&self, username: &str, password: &str, domain: &str) -> CoreResult<Session> {
        let user = self
            .find_user(username, domain)?
            .filter(|u| verify_password(password, &u.password_hash));
        let Some(user) = user else {
            let who = format!("{domain}\\{username}");
            self.svc.events.record(NewEvent {
                message: format!("Login failed for user {who}"),
                ..self.event(EVENT_LOGIN_FAILED, false, Some(who))
            })?;
            return Err(CoreError::InvalidCredentials(
                "Invalid username, password or domain".into(),
            ));
        };
        self.open_session(&user, "password").await
    }

    async fn open_session(&self, user: &HorizonUser, method: &str) -> CoreResult<Session> {
        let session = self
            .svc
            .sessions
            .create(NewSession {
                surface: Surface::Vlsi,
                principal: user.principal(),
                privileges: user.privileges.clone(),
                idle_timeout_secs: self.settings().session_idle_timeout_seconds,
                method,
            })
            .await?;
        self.svc.events.record(NewEvent {
            message: format!(
                "User {} has logged in to the View API ({method})",
                user.principal()
            ),
            details: details([("method", json!(method))]),
            ..self.event(EVENT_LOGGED_IN, true, Some(user.principal()))
        })?;
        Ok(session)
    }

    /// Logs in with a JWT made by `JwtToken_Generate` that is still valid (not a REST API
    /// access or refresh token).
    pub async fn login_by_token(&self, token: &str) -> CoreResult<Session> {
        let issuers = vec![self.settings().connection_server_name.clone()];
        let expect = Expectations {
            issuers: Some(&issuers),
            ..Default::default()
        };
        let ring = self.svc.keys.ring();
        let verified = tokens::verify(&ring, token, self.svc.clock.now_secs(), &expect)
            .map_err(|e| CoreError::InvalidCredentials(format!("The token is not valid: {e}")))?;
        // REST API tokens share the issuer and key but are not for this: a logout must end
        // every use of them.
        if verified.claims.contains_key("token_use") {
            return Err(CoreError::InvalidCredentials(
                "The token is not valid: it is a REST API token, not one made by JwtToken_Generate"
                    .into(),
            ));
        }
        let subject = verified.claim_str("sub").unwrap_or_default();
        let user = self.find_user(subject, "")?.ok_or_else(|| {
            CoreError::InvalidCredentials(format!(
                "The token is not valid: its subject [{subject}] is not a known user"
            ))
        })?;
        self.open_session(&user, "token").await
    }

    /// The live View API session `id` (touched).
    pub fn session(&self, id: &str) -> CoreResult<Session> {
        self.svc.sessions.get(Surface::Vlsi, id)
    }

    pub async fn logout(&self, session: &Session) -> CoreResult<()> {
        self.svc.sessions.end(&session.id).await?;
        self.svc.events.record(NewEvent {
            message: format!("User {} has logged out of the View API", session.principal),
            ..self.event(EVENT_LOGGED_OUT, true, Some(session.principal.clone()))
        })?;
        Ok(())
    }

    pub fn set_locale(&self, session: &mut Session, locale: &str) -> CoreResult<()> {
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
        self.svc.sessions.update(session)
    }
}
