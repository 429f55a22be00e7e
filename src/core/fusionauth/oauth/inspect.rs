//! `/oauth2/userinfo` (the user behind an access token) and `/oauth2/introspect` (RFC 7662:
//! whether a token of this client is active, and its claims). Both check tokens with the
//! key ring and vlsim's clock, like `/api/jwt/validate`; an id token (it carries `at_hash`)
//! is not an access token.

use super::{ClientCredentials, ErrorCode, OAuthFailure};
use crate::core::error::CoreError;
use crate::core::fusionauth::FusionAuth;
use crate::core::tokens::{self, Claims, Expectations};
use serde_json::{json, Value};

/// `token_type_hint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenHint {
    AccessToken,
    RefreshToken,
}

/// RFC 7662's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Introspection {
    Active(Claims),
    Inactive,
}

/// Claims an access token has and userinfo leaves out (FusionAuth's Compatibility mode).
const NOT_USER_INFO: &[&str] = &[
    "authenticationType",
    "aud",
    "auth_time",
    "exp",
    "iat",
    "iss",
    "jti",
];

fn invalid_token(reason: &'static str, description: impl Into<String>) -> OAuthFailure {
    OAuthFailure::new(ErrorCode::InvalidToken, reason, description)
}

fn audience_has(claims: &Claims, client_id: &str) -> bool {
    match claims.get("aud") {
        Some(Value::String(s)) => s == client_id,
        Some(Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(client_id)),
        _ => false,
    }
}

impl FusionAuth<'_> {
    /// A signed, unexpired access token (not an id token) of this instance.
    fn access_claims(&self, token: &str) -> Result<Claims, OAuthFailure> {
        let verified = tokens::verify(
            &self.svc.keys.ring(),
            token,
            self.svc.clock.now_secs(),
            &Expectations::default(),
        )
        .map_err(|e| match e {
            CoreError::InvalidToken(m) if m.contains("expired") => {
                invalid_token("access_token_expired", "The access token has expired.")
            }
            other => invalid_token("access_token_invalid", other.to_string()),
        })?;
        if verified.claims.contains_key("at_hash") {
            return Err(invalid_token(
                "access_token_invalid",
                "The token is not suitable for the requested use.",
            ));
        }
        Ok(verified.claims)
    }

    /// `GET|POST /oauth2/userinfo`: the token's claims about its user, minus token
    /// bookkeeping, plus the user's names.
    pub fn userinfo(&self, token: &str) -> Result<Claims, OAuthFailure> {
        let claims = self.access_claims(token)?;
        let aud = claims
            .get("aud")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if self.oauth_client(aud).is_none() {
            return Err(invalid_token(
                "access_token_invalid",
                "The [aud] claim of the access token does not name an OAuth client.",
            ));
        }
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let user = self
            .user(sub)?
            .filter(|u| u.active)
            .ok_or_else(|| invalid_token("user_not_found", "The user no longer exists."))?;
        let mut info: Claims = claims
            .into_iter()
            .filter(|(k, _)| !NOT_USER_INFO.contains(&k.as_str()))
            .collect();
        let mut put = |name: &str, value: Option<&str>| {
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                info.insert(name.into(), json!(v));
            }
        };
        put("given_name", user.first_name.as_deref());
        put("family_name", user.last_name.as_deref());
        let name = [user.first_name.as_deref(), user.last_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        put("name", Some(&name));
        Ok(info)
    }

    /// `POST /oauth2/introspect`: active only for a live token issued to the calling client.
    pub fn introspect(
        &self,
        creds: &ClientCredentials,
        token: Option<&str>,
        hint: Option<&str>,
    ) -> Result<Introspection, OAuthFailure> {
        let client = self.authenticate_client(creds, None, false)?;
        let token = token
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthFailure::missing("missing_token", "token"))?;
        let hint = match hint.filter(|h| !h.is_empty()) {
            None | Some("access_token") => TokenHint::AccessToken,
            Some("refresh_token") => TokenHint::RefreshToken,
            Some(other) => {
                return Err(OAuthFailure::new(
                    ErrorCode::UnsupportedTokenType,
                    "unsupported_token_type",
                    format!("The token_type_hint [{other}] is not supported; use access_token or refresh_token."),
                ))
            }
        };
        Ok(match hint {
            TokenHint::AccessToken => match self.access_claims(token) {
                Ok(claims)
                    if audience_has(&claims, client.id())
                        && claims.get("tid").and_then(Value::as_str)
                            == Some(client.tenant.id.as_str()) =>
                {
                    Introspection::Active(claims)
                }
                _ => Introspection::Inactive,
            },
            TokenHint::RefreshToken => match self.refresh_by_value(token)? {
                Some(r) if r.application_id == client.id() => {
                    let mut claims = Claims::new();
                    claims.insert("exp".into(), json!(r.expiration_instant.div_euclid(1000)));
                    Introspection::Active(claims)
                }
                _ => Introspection::Inactive,
            },
        })
    }
}
