//! `/oauth2/token`: the authorization code (single use, PKCE, same redirect URI), refresh
//! token (the very store and policies of `/api/jwt/refresh`) and password grants, and the
//! tokens they hand out: a FusionAuth access token with the OAuth issuer, `aud` = client id
//! and `scope`; a refresh token with `offline_access`; an id token with `openid`.
//! `client_credentials` answers as FusionAuth's Community edition does (`not_licensed`):
//! FusionAuth offers it only for Entities, a licensed feature vlsim does not emulate.

use super::client::grant_disabled;
use super::{valid_pkce_value, Client, ClientCredentials, ErrorCode, OAuthFailure};
use crate::core::error::CoreError;
use crate::core::events::details;
use crate::core::fusionauth::access::{Grant, OAuthClaims};
use crate::core::fusionauth::refresh::{NewRefresh, RefreshRequest, SCOPE_NOT_GRANTED};
use crate::core::fusionauth::{sha256_hex, FusionAuth, IssuedRefresh, User};
use crate::core::tokens::{self, Claims};
use crate::spec::fusionauth::OAuthGrant;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;
use sha2::{Digest, Sha256};

/// vlsim's event for a successful token response (FusionAuth has no webhook for it).
pub const EVENT_OAUTH_TOKEN: &str = "oauth2.token";

/// A token request's form fields.
#[derive(Debug, Clone, Default)]
pub struct TokenParams {
    pub grant_type: Option<String>,
    pub creds: ClientCredentials,
    pub code: Option<String>,
    pub code_verifier: Option<String>,
    pub redirect_uri: Option<String>,
    pub refresh_token: Option<String>,
    pub scope: Option<String>,
    /// `username` or FusionAuth's `loginId`.
    pub username: Option<String>,
    pub password: Option<String>,
    pub client_ip: Option<String>,
}

/// A successful token response.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    pub access_token: String,
    pub expires_in: i64,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
    pub refresh_token_id: Option<String>,
    pub scope: Option<String>,
    pub token_type: &'static str,
    pub user_id: String,
}

fn code_not_found() -> OAuthFailure {
    OAuthFailure::invalid_request("auth_code_not_found", "Invalid Authorization Code")
}

fn refresh_not_found() -> OAuthFailure {
    OAuthFailure::new(
        ErrorCode::InvalidGrant,
        "refresh_token_not_found",
        "The refresh_token is invalid.",
    )
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|s| !s.is_empty())
}

/// OIDC `at_hash`: base64url of the left half of the SHA-256 of the access token (every key
/// vlsim signs with uses SHA-256).
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.get(..16).unwrap_or_default())
}

/// What the minted tokens say.
struct Mint<'a> {
    client: &'a Client,
    user: &'a User,
    scopes: &'a [String],
    authentication_type: &'a str,
    auth_time: i64,
    nonce: Option<&'a str>,
    sso_session_id: Option<&'a str>,
    issuer: &'a str,
    /// A refresh token that goes with them (refresh grant), else one is made when asked for.
    refresh: Option<IssuedRefresh>,
    client_ip: Option<String>,
}

impl FusionAuth<'_> {
    /// `POST /oauth2/token` for a client that reached vlsim at `origin`.
    pub async fn token(&self, p: TokenParams, origin: &str) -> Result<TokenResponse, OAuthFailure> {
        let grant = match given(&p.grant_type) {
            None => return Err(OAuthFailure::missing("missing_grant_type", "grant_type")),
            Some("authorization_code") => OAuthGrant::AuthorizationCode,
            Some("refresh_token") => OAuthGrant::RefreshToken,
            Some("password") => OAuthGrant::Password,
            Some("client_credentials") => {
                return Err(OAuthFailure::new(
                    ErrorCode::NotLicensed,
                    "not_licensed",
                    "The Entity Management feature of FusionAuth, which include the Client Credentials Grant, is only supported with a valid license",
                ))
            }
            Some(_) => {
                return Err(OAuthFailure {
                    error: ErrorCode::UnsupportedGrantType,
                    reason: None,
                    description: "The requested authorization grant type is not supported by the authorization server. Parameter grant_type must be set to authorization_code, password or refresh_token.".into(),
                })
            }
        };
        let response = match grant {
            OAuthGrant::AuthorizationCode => self.code_grant(&p).await?,
            OAuthGrant::RefreshToken => self.refresh_grant(&p, origin).await?,
            OAuthGrant::Password => self.password_grant(&p, origin).await?,
        };
        self.event(
            EVENT_OAUTH_TOKEN,
            true,
            Some(response.user_id.clone()),
            format!(
                "OAuth2 {} grant for user {}",
                grant.name(),
                response.user_id
            ),
            details([
                ("grantType", json!(grant.name())),
                ("clientId", json!(p.creds.client_id)),
                ("userId", json!(response.user_id)),
                ("refreshTokenId", json!(response.refresh_token_id)),
            ]),
        );
        Ok(response)
    }

    async fn code_grant(&self, p: &TokenParams) -> Result<TokenResponse, OAuthFailure> {
        let verifier = given(&p.code_verifier);
        if verifier.is_some_and(|v| !valid_pkce_value(v)) {
            return Err(OAuthFailure::invalid_request(
                "invalid_pkce_code_verifier",
                "Invalid code_verifier, see https://tools.ietf.org/html/rfc7636#section-4.1 for requirements.",
            ));
        }
        let client = self.authenticate_client(
            &p.creds,
            Some(OAuthGrant::AuthorizationCode),
            verifier.is_some(),
        )?;
        let code = given(&p.code).ok_or_else(|| OAuthFailure::missing("missing_code", "code"))?;
        let redirect_uri = given(&p.redirect_uri)
            .ok_or_else(|| OAuthFailure::missing("missing_redirect_uri", "redirect_uri"))?;
        if !client.allows_redirect(redirect_uri) {
            return Err(OAuthFailure::new(
                ErrorCode::InvalidGrant,
                "invalid_redirect_uri",
                format!("redirect_uri: {redirect_uri} is not valid."),
            ));
        }
        // Taken whatever happens next: a code that fails a check cannot be retried.
        let record = self
            .oauth()
            .codes
            .remove(sha256_hex(code))?
            .ok_or_else(code_not_found)?;
        let pkce_ok = match (&record.code_challenge, verifier) {
            (None, None) => true,
            (Some(challenge), Some(v)) => {
                let derived = match record.code_challenge_method.as_deref() {
                    Some("plain") => v.to_string(),
                    _ => URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes())),
                };
                aws_lc_rs::constant_time::verify_slices_are_equal(
                    derived.as_bytes(),
                    challenge.as_bytes(),
                )
                .is_ok()
            }
            _ => false,
        };
        if record.expires_ms <= self.svc.clock.now_ms()
            || record.client_id != client.id()
            || record.redirect_uri != redirect_uri
            || !pkce_ok
        {
            self.svc.store.flush().await?;
            return Err(code_not_found());
        }
        let user = self
            .user(&record.user_id)?
            .filter(|u| u.active)
            .ok_or_else(code_not_found)?;
        self.mint_tokens(Mint {
            client: &client,
            user: &user,
            scopes: &record.scopes,
            authentication_type: &record.authentication_type,
            auth_time: record.auth_time,
            nonce: record.nonce.as_deref(),
            sso_session_id: record.sso_session_id.as_deref(),
            issuer: &record.issuer,
            refresh: None,
            client_ip: p.client_ip.clone(),
        })
        .await
    }

    async fn password_grant(
        &self,
        p: &TokenParams,
        origin: &str,
    ) -> Result<TokenResponse, OAuthFailure> {
        let client = self.authenticate_client(&p.creds, Some(OAuthGrant::Password), false)?;
        let username = given(&p.username)
            .ok_or_else(|| OAuthFailure::missing("missing_username", "username"))?;
        let password = given(&p.password)
            .ok_or_else(|| OAuthFailure::missing("missing_password", "password"))?;
        let mut user = self
            .check_password(&client.tenant.id, username, password, Some(client.id()))
            .map_err(|e| match e {
                CoreError::InvalidCredentials(_) => OAuthFailure::new(
                    ErrorCode::InvalidGrant,
                    "invalid_user_credentials",
                    "The user credentials are invalid.",
                ),
                other => other.into(),
            })?;
        let now = self.svc.clock.now_ms();
        user.logged_in(Some(client.id()), now);
        self.put_user(&user)?;
        let scopes = super::parse_scopes(p.scope.as_deref());
        let issuer = client.tenant.oauth_issuer(origin);
        let response = self
            .mint_tokens(Mint {
                client: &client,
                user: &user,
                scopes: &scopes,
                authentication_type: "PASSWORD",
                auth_time: now.div_euclid(1000),
                nonce: None,
                sso_session_id: None,
                issuer: &issuer,
                refresh: None,
                client_ip: p.client_ip.clone(),
            })
            .await?;
        self.login_success_event(
            &user,
            Some(client.id()),
            "PASSWORD",
            response.refresh_token_id.as_deref(),
        );
        Ok(response)
    }

    async fn refresh_grant(
        &self,
        p: &TokenParams,
        origin: &str,
    ) -> Result<TokenResponse, OAuthFailure> {
        let token = given(&p.refresh_token)
            .ok_or_else(|| OAuthFailure::missing("missing_refresh_token", "refresh_token"))?;
        let client = self.authenticate_client(&p.creds, Some(OAuthGrant::RefreshToken), false)?;
        let wanted = super::parse_scopes(p.scope.as_deref());
        let request = RefreshRequest {
            token: token.to_string(),
            client_ip: p.client_ip.clone(),
            application_id: Some(client.id().to_string()),
            scopes: Some(wanted.clone()).filter(|w| !w.is_empty()),
            ..RefreshRequest::default()
        };
        let dir = self.directory();
        let rotation = self
            .rotate(&dir, &request, Some(&client.tenant.id))
            .map_err(|e| match e {
                CoreError::InvalidArgument { field, message } if field == SCOPE_NOT_GRANTED => {
                    OAuthFailure {
                        error: ErrorCode::InvalidScope,
                        reason: None,
                        description: message,
                    }
                }
                CoreError::InvalidArgument { field, .. } if field.starts_with("[disabled]") => {
                    grant_disabled(OAuthGrant::RefreshToken)
                }
                CoreError::InvalidArgument { .. } | CoreError::NotFound { .. } => {
                    refresh_not_found()
                }
                other => other.into(),
            })?;
        let scopes = if wanted.is_empty() {
            rotation.next.scopes.clone()
        } else {
            wanted
        };
        let issuer = client.tenant.oauth_issuer(origin);
        let response = self
            .mint_tokens(Mint {
                client: &client,
                user: &rotation.user,
                scopes: &scopes,
                authentication_type: "REFRESH_TOKEN",
                auth_time: rotation.auth_time,
                nonce: None,
                sso_session_id: None,
                issuer: &issuer,
                refresh: Some(rotation.issued()),
                client_ip: None,
            })
            .await?;
        self.refresh_event(&rotation, None);
        Ok(response)
    }

    /// The access token, a refresh token (`offline_access`, when the application makes
    /// them) and an id token (`openid`); flushed before it returns.
    async fn mint_tokens(&self, m: Mint<'_>) -> Result<TokenResponse, OAuthFailure> {
        let dir = self.directory();
        let app = &m.client.app;
        let policy = dir.application_policy(app, &self.default_key());
        let now = self.svc.clock.now_secs();
        let has = |s: &str| m.scopes.iter().any(|x| x == s);
        let refresh = match m.refresh {
            Some(r) => Some(r),
            None if has("offline_access") && app.generate_refresh_tokens => {
                let mut device = serde_json::Map::new();
                if let Some(ip) = m.client_ip {
                    device.insert("lastAccessedAddress".into(), json!(ip));
                }
                Some(self.new_refresh(NewRefresh {
                    user: m.user,
                    application_id: &app.id,
                    policy: &policy,
                    auth_time: m.auth_time,
                    device,
                    start_instant: None,
                    scopes: m.scopes.to_vec(),
                })?)
            }
            None => None,
        };
        let scope = m.scopes.join(" ");
        let exp = now.saturating_add(policy.ttl_secs);
        let access_token = self.mint_access(
            &dir,
            m.user,
            Grant {
                app: Some(app),
                policy: &policy,
                authentication_type: m.authentication_type,
                sid: refresh.as_ref().map(|r| r.id.as_str()),
                auth_time: m.auth_time,
                iat: now,
                exp,
                oauth: Some(OAuthClaims {
                    issuer: m.issuer,
                    client_id: app.id.as_str(),
                    scope: &scope,
                }),
            },
        )?;
        let id_token = if has("openid") {
            let user = m.user;
            let mut claims: Claims = details([
                ("aud", json!(app.id)),
                ("exp", json!(exp)),
                ("iat", json!(now)),
                ("iss", json!(m.issuer)),
                ("sub", json!(user.id)),
                ("jti", json!(uuid::Uuid::new_v4().to_string())),
                ("auth_time", json!(m.auth_time)),
                ("authenticationType", json!(m.authentication_type)),
                ("email", json!(user.email)),
                ("email_verified", json!(user.verified)),
                ("at_hash", json!(at_hash(&access_token))),
                ("tid", json!(user.tenant_id)),
                ("scope", json!(scope)),
            ]);
            let mut put = |name: &str, value: Option<&str>| {
                if let Some(v) = value {
                    claims.insert(name.into(), json!(v));
                }
            };
            put("nonce", m.nonce);
            put("sid", m.sso_session_id);
            put("preferred_username", user.username.as_deref());
            put("given_name", user.first_name.as_deref());
            put("family_name", user.last_name.as_deref());
            let name = [user.first_name.as_deref(), user.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            put("name", Some(name.as_str()).filter(|n| !n.is_empty()));
            let key = self.signing_key(&policy.signing_key)?;
            Some(tokens::mint(&key, &claims)?)
        } else {
            None
        };
        self.svc.store.flush().await?;
        Ok(TokenResponse {
            access_token,
            expires_in: exp.saturating_sub(now),
            id_token,
            refresh_token: refresh.as_ref().map(|r| r.token.clone()),
            refresh_token_id: refresh.map(|r| r.id),
            scope: Some(scope).filter(|s| !s.is_empty()),
            token_type: "Bearer",
            user_id: m.user.id.clone(),
        })
    }
}
