//! `/oauth2/logout`: ends the browser's SSO session and says where to send it (the dashboard
//! ends one by id the same way). As in FusionAuth, refresh tokens and access tokens are not
//! revoked.

use super::client::client_of;
use super::{Client, ErrorCode, OAuthFailure, SsoSession};
use crate::core::error::{CoreError, CoreResult};
use crate::core::events::details;
use crate::core::fusionauth::{sha256_hex, FusionAuth};
use crate::core::tokens::{self, Expectations};
use serde_json::json;

/// vlsim's event for an ended SSO session (FusionAuth has no webhook for it).
pub const EVENT_OAUTH_LOGOUT: &str = "oauth2.logout";

#[derive(Debug, Clone, Default)]
pub struct LogoutParams {
    pub client_id: Option<String>,
    pub id_token_hint: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
}

/// Where the browser goes after logout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutTarget {
    Redirect(String),
    /// No client or no URL to go to: a "logged out" page.
    LoggedOut,
}

impl FusionAuth<'_> {
    /// The client named by `client_id`, else by the `aud` of a signed `id_token_hint`
    /// (expired ones too).
    fn logout_client(&self, p: &LogoutParams) -> Result<Option<Client>, OAuthFailure> {
        let dir = self.directory();
        if let Some(id) = p.client_id.as_deref().filter(|s| !s.is_empty()) {
            return client_of(&dir, id).map(Some).ok_or_else(|| {
                OAuthFailure::new(
                    ErrorCode::InvalidClient,
                    "invalid_client_id",
                    format!("client_id: {id} is not valid."),
                )
            });
        }
        let Some(hint) = p.id_token_hint.as_deref().filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let invalid_hint = || {
            OAuthFailure::invalid_request("invalid_id_token_hint", "The [aud] claim is invalid.")
        };
        let expect = Expectations {
            leeway_secs: i64::MAX / 4,
            ..Default::default()
        };
        let verified = tokens::verify(
            &self.svc.keys.ring(),
            hint,
            self.svc.clock.now_secs(),
            &expect,
        )
        .map_err(|_| invalid_hint())?;
        let aud = verified.claim_str("aud").ok_or_else(invalid_hint)?;
        client_of(&dir, aud).map(Some).ok_or_else(invalid_hint)
    }

    /// Ends the SSO session of the `fusionauth.sso` cookie value `sso_token` (if any) and
    /// returns where the browser goes.
    pub async fn oauth_logout(
        &self,
        sso_token: Option<&str>,
        p: &LogoutParams,
    ) -> Result<LogoutTarget, OAuthFailure> {
        let client = self.logout_client(p)?;
        let requested = p
            .post_logout_redirect_uri
            .as_deref()
            .filter(|s| !s.is_empty());
        let target = match (&client, requested) {
            (Some(c), Some(uri)) if c.allows_redirect(uri) => LogoutTarget::Redirect(uri.into()),
            (_, Some(uri)) => {
                return Err(OAuthFailure::invalid_request(
                    "invalid_post_logout_redirect_uri",
                    format!("Invalid post_logout_redirect_uri {uri}"),
                ))
            }
            (Some(c), None) => match c.config.logout_url.as_deref().filter(|u| !u.is_empty()) {
                Some(url) => LogoutTarget::Redirect(url.into()),
                None => LogoutTarget::LoggedOut,
            },
            (None, None) => LogoutTarget::LoggedOut,
        };
        if let Some(token) = sso_token.filter(|t| !t.is_empty()) {
            if let Some(session) = self.oauth().sso.remove(sha256_hex(token))? {
                self.svc.store.flush().await?;
                self.sso_ended(&session, client.as_ref().map(|c| c.id().to_string()));
            }
        }
        Ok(target)
    }

    /// Ends the SSO session whose public id is `id` (the dashboard's revoke), recording the
    /// same event as `/oauth2/logout`.
    pub async fn end_sso_session(&self, id: &str) -> CoreResult<()> {
        let sso = &self.oauth().sso;
        let found = sso.all()?.into_iter().find(|(_, s)| s.id == id);
        let Some((key, _)) = found else {
            return Err(CoreError::NotFound {
                entity: "SSO session",
                id: id.to_string(),
                message: format!("No SSO session with id [{id}]"),
            });
        };
        if let Some(session) = sso.remove(key)? {
            self.svc.store.flush().await?;
            self.sso_ended(&session, None);
        }
        Ok(())
    }

    fn sso_ended(&self, session: &SsoSession, client_id: Option<String>) {
        self.event(
            EVENT_OAUTH_LOGOUT,
            true,
            Some(session.user_id.clone()),
            format!("SSO session {} ended by /oauth2/logout", session.id),
            details([
                ("ssoSessionId", json!(session.id)),
                ("userId", json!(session.user_id)),
                ("clientId", json!(client_id)),
            ]),
        );
    }
}
