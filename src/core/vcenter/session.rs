//! `/api/session` and its JSON-RPC and legacy twins: logins by password, SAML token or JWT,
//! the live session, logout.

use super::subject::{Credentials, Subject};
use super::{
    split_user, Vcenter, EVENT_LOGIN_FAILED, EVENT_SESSION_CREATED, EVENT_SESSION_DELETED,
};
use crate::core::error::{CoreError, CoreResult};
use crate::core::events::{details, NewEvent};
use crate::core::identity::verify_password;
use crate::core::sessions::{NewSession, Session};
use crate::surface::Surface;
use serde_json::json;

impl Vcenter<'_> {
    fn login_failed(&self, who: Option<String>, method: &str, reason: &str) {
        self.svc.events.record_or_log(NewEvent {
            message: format!(
                "vCenter login failed for {} ({method}): {reason}",
                who.as_deref().unwrap_or("an unknown user")
            ),
            details: details([("method", json!(method)), ("reason", json!(reason))]),
            ..self.event(EVENT_LOGIN_FAILED, false, who.clone())
        });
    }

    /// `POST /api/session` and friends: checks the credentials and opens a session.
    pub async fn login(&self, credentials: Credentials<'_>) -> CoreResult<Session> {
        let rt = self.runtime()?;
        let method = credentials.method();
        let subject = match credentials {
            Credentials::Password { user, password } => {
                let (name, domain) = split_user(user.trim(), &rt.spec.domain);
                match self
                    .user(name, domain)?
                    .filter(|u| verify_password(password, &u.password_hash))
                {
                    Some(u) => Ok(Subject {
                        principal: u.principal(),
                        groups: u.groups,
                    }),
                    None => Err((
                        Some(user.to_string()),
                        "invalid user name or password".to_string(),
                    )),
                }
            }
            Credentials::Saml(xml) => self.saml_subject(xml).map_err(|e| (None, e.to_string())),
            Credentials::Jwt(token, host) => self
                .jwt_subject(token, host)
                .map_err(|e| (None, e.to_string())),
        };
        let subject = match subject {
            Ok(s) => s,
            Err((who, reason)) => {
                self.login_failed(who, method, &reason);
                return Err(CoreError::NotAuthenticated(
                    "Authentication required.".into(),
                ));
            }
        };
        let session = self
            .svc
            .sessions
            .create(NewSession {
                surface: Surface::Vcenter,
                principal: subject.principal.clone(),
                privileges: subject.groups.clone(),
                idle_timeout_secs: rt.spec.session_idle_timeout_seconds,
                method,
            })
            .await?;
        self.svc.events.record(NewEvent {
            message: format!("User {} logged in to vCenter ({method})", subject.principal),
            details: details([("method", json!(method))]),
            ..self.event(EVENT_SESSION_CREATED, true, Some(subject.principal.clone()))
        })?;
        Ok(session)
    }

    /// The live vCenter session `id` (touched).
    pub fn session(&self, id: &str) -> CoreResult<Session> {
        if id.is_empty() || id.len() > 128 {
            return Err(CoreError::NotAuthenticated(
                "The session is not authenticated.".into(),
            ));
        }
        self.svc.sessions.get(Surface::Vcenter, id)
    }

    pub async fn logout(&self, session: &Session) -> CoreResult<()> {
        self.svc.sessions.end(&session.id).await?;
        self.svc.events.record(NewEvent {
            message: format!("User {} logged out of vCenter", session.principal),
            ..self.event(EVENT_SESSION_DELETED, true, Some(session.principal.clone()))
        })?;
        Ok(())
    }
}
