//! FusionAuth's response bodies, as the official clients read them. Absent fields are left
//! out rather than sent as `null`.

use crate::core::fusionauth::{LoginOutcome, RefreshToken, Registration, User};
use crate::core::keys::{algorithm_name, SigningKey};
use crate::core::tokens::Claims;
use jsonwebtoken::Algorithm;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// FusionAuth's `User` (no password).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserBody<'a> {
    pub active: bool,
    pub email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<&'a str>,
    pub id: &'a str,
    pub insert_instant: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_login_instant: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<&'a str>,
    pub last_update_instant: i64,
    pub password_change_required: bool,
    pub registrations: Vec<RegistrationBody<'a>>,
    pub tenant_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<&'a str>,
    pub username_status: &'static str,
    pub verified: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationBody<'a> {
    pub application_id: &'a str,
    pub id: &'a str,
    pub insert_instant: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_login_instant: Option<i64>,
    pub roles: &'a [String],
    pub username_status: &'static str,
    pub verified: bool,
}

impl<'a> From<&'a Registration> for RegistrationBody<'a> {
    fn from(r: &'a Registration) -> Self {
        Self {
            application_id: &r.application_id,
            id: &r.id,
            insert_instant: r.insert_instant,
            last_login_instant: r.last_login_instant,
            roles: &r.roles,
            username_status: "ACTIVE",
            verified: true,
        }
    }
}

impl<'a> From<&'a User> for UserBody<'a> {
    fn from(u: &'a User) -> Self {
        Self {
            active: u.active,
            email: &u.email,
            first_name: u.first_name.as_deref(),
            id: &u.id,
            insert_instant: u.insert_instant,
            last_login_instant: u.last_login_instant,
            last_name: u.last_name.as_deref(),
            last_update_instant: u.last_update_instant.unwrap_or(u.insert_instant),
            password_change_required: false,
            registrations: u.registrations.iter().map(RegistrationBody::from).collect(),
            tenant_id: &u.tenant_id,
            username: u.username.as_deref(),
            username_status: "ACTIVE",
            verified: u.verified,
        }
    }
}

/// The Login API's (and reconcile's) answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_expiration_instant: Option<i64>,
    pub user: UserBody<'a>,
}

impl<'a> From<&'a LoginOutcome> for LoginBody<'a> {
    fn from(o: &'a LoginOutcome) -> Self {
        Self {
            refresh_token: o.refresh.as_ref().map(|r| r.token.as_str()),
            refresh_token_id: o.refresh.as_ref().map(|r| r.id.as_str()),
            token: o.token.as_deref(),
            token_expiration_instant: o.token_expiration_instant,
            user: UserBody::from(&o.user),
        }
    }
}

/// `{"token": ...}` (vend), with a refresh token where one was issued (issue).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenBody<'a> {
    pub token: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<&'a str>,
}

/// `POST /api/jwt/refresh`'s answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshedBody<'a> {
    pub refresh_token: &'a str,
    pub refresh_token_id: &'a str,
    pub token: &'a str,
}

/// `GET /api/jwt/validate`'s answer: the decoded payload, as FusionAuth's JWT object
/// serialises it — the instants `exp`, `iat` and `nbf` in milliseconds (the token itself
/// keeps seconds, per RFC 7519).
#[derive(Debug, Serialize)]
pub struct ValidatedBody<'a> {
    pub jwt: InstantsInMillis<'a>,
}

/// Claims with `exp`, `iat` and `nbf` written in milliseconds, converted as they are
/// written (no copy of the claims on the validate path).
#[derive(Debug)]
pub struct InstantsInMillis<'a>(pub &'a Claims);

impl Serialize for InstantsInMillis<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            match (name.as_str(), value.as_i64()) {
                ("exp" | "iat" | "nbf", Some(secs)) => {
                    map.serialize_entry(name, &secs.saturating_mul(1000))?
                }
                _ => map.serialize_entry(name, value)?,
            }
        }
        map.end()
    }
}

/// FusionAuth's `RefreshToken`, with "the string representation of the encoded Refresh
/// Token" as `token` (absent for tokens stored before vlsim kept the value).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshTokenBody<'a> {
    pub application_id: &'a str,
    pub id: &'a str,
    pub insert_instant: i64,
    pub meta_data: MetaData<'a>,
    pub start_instant: i64,
    pub tenant_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<&'a str>,
    pub user_id: &'a str,
}

#[derive(Debug, Serialize)]
pub struct MetaData<'a> {
    pub device: &'a Map<String, Value>,
    pub scopes: &'a [String],
}

impl<'a> From<&'a RefreshToken> for RefreshTokenBody<'a> {
    fn from(t: &'a RefreshToken) -> Self {
        Self {
            application_id: &t.application_id,
            id: &t.id,
            insert_instant: t.insert_instant,
            meta_data: MetaData {
                device: &t.device,
                scopes: &t.scopes,
            },
            start_instant: t.start_instant,
            tenant_id: &t.tenant_id,
            token: t.token.as_deref(),
            user_id: &t.user_id,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OneRefreshToken<'a> {
    pub refresh_token: RefreshTokenBody<'a>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshTokens<'a> {
    pub refresh_tokens: Vec<RefreshTokenBody<'a>>,
}

/// One public key (`{}` for an HMAC-signed application: nothing to publish).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeyBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<&'a str>,
}

/// Every public key by kid.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicKeysBody<'a> {
    pub public_keys: BTreeMap<&'a str, &'a str>,
}

/// FusionAuth's `Key` object. Private material (`privateKey`, HMAC `secret`) only for a
/// superuser API key — a vlsim convenience; real FusionAuth never returns it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyBody<'a> {
    pub algorithm: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_private_key: Option<bool>,
    pub id: &'a str,
    pub insert_instant: i64,
    pub kid: &'a str,
    pub last_update_instant: i64,
    pub length: u32,
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub private_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<&'a str>,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl<'a> KeyBody<'a> {
    pub fn new(key: &'a SigningKey, superuser: bool) -> Self {
        let (kind, length) = match key.algorithm {
            Algorithm::RS256 => ("RSA", 2048),
            Algorithm::ES256 => ("EC", 256),
            _ => ("HMAC", 256),
        };
        Self {
            algorithm: algorithm_name(key.algorithm),
            has_private_key: key.public_pem.as_ref().map(|_| true),
            id: &key.id,
            insert_instant: 0,
            kid: &key.id,
            last_update_instant: 0,
            length,
            name: &key.name,
            private_key: key.material.private_pem.as_deref().filter(|_| superuser),
            public_key: key.public_pem.as_deref(),
            secret: key.material.secret_base64.as_deref().filter(|_| superuser),
            kind,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct KeysBody<'a> {
    pub keys: Vec<KeyBody<'a>>,
}

#[derive(Debug, Serialize)]
pub struct OneKey<'a> {
    pub key: KeyBody<'a>,
}
