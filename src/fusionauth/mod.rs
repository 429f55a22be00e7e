//! The FusionAuth-style REST surface: `/api/login`, `/api/jwt/...`, `/api/key`,
//! `/.well-known/...`, and OAuth2 / OpenID Connect under `/oauth2/...` (`oauth/`). One
//! module per API family; the rules live in
//! `crate::core::fusionauth`, the error mapping in `errors.rs`, credentials and bodies are
//! parsed by the extractors in `extract.rs`, response bodies are the types in `bodies.rs`.

pub mod bodies;
pub mod errors;
pub mod extract;
pub mod jwt;
pub mod keys;
pub mod login;
pub mod oauth;
pub mod refresh;

use crate::control::routes::{no_operations, SurfaceDef};
use crate::core::fusionauth::SignInOptions;
use crate::route;
use crate::state::AppState;
use crate::surface::Surface;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{web, HttpRequest};
use errors::{FaError, FaResult};
use serde_json::{Map, Value};

pub static SURFACE: SurfaceDef = SurfaceDef {
    surface: Surface::FusionAuth,
    prefixes: &["/api", "/.well-known", "/oauth2"],
    routes: &[
        route!(POST "/api/login" => login::login, "Log a user in (Login API)"),
        route!(POST "/api/logout" => login::logout, "Log out: revoke the refresh token, clear the cookies"),
        route!(GET "/api/jwt/issue" => jwt::issue, "Issue a JWT for another application"),
        route!(POST "/api/jwt/reconcile" => jwt::reconcile, "Reconcile a JWT of an External JWT identity provider"),
        route!(GET "/api/jwt/validate" => jwt::validate, "Validate a JWT"),
        route!(POST "/api/jwt/vend" => jwt::vend, "Vend a JWT with the caller's claims"),
        route!(GET "/api/jwt/public-key" => jwt::public_key, "Public keys, by application or kid"),
        route!(POST "/api/jwt/refresh" => refresh::refresh, "Exchange a refresh token for a new access token"),
        route!(GET "/api/jwt/refresh" => refresh::retrieve_by_user, "A user's refresh tokens"),
        route!(DELETE "/api/jwt/refresh" => refresh::revoke, "Revoke refresh tokens by token, user or application"),
        route!(GET "/api/jwt/refresh/{tokenId}" => refresh::retrieve_by_id, "One refresh token"),
        route!(DELETE "/api/jwt/refresh/{tokenId}" => refresh::revoke_by_id, "Revoke one refresh token"),
        route!(GET "/api/key" => keys::retrieve_all, "Every key (Key API)"),
        route!(GET "/api/key/{keyId}" => keys::retrieve_one, "One key"),
        route!(GET "/.well-known/jwks.json" => keys::jwks, "JWKS: the public signing keys"),
        route!(GET "/.well-known/openid-configuration" => oauth::discovery::openid_configuration, "OpenID discovery for the default tenant (or X-FusionAuth-TenantId)"),
        route!(GET "/.well-known/openid-configuration/{tenantId}" => oauth::discovery::openid_configuration_for_tenant, "OpenID discovery for a tenant"),
        route!(GET "/{tenantId}/.well-known/openid-configuration" => oauth::discovery::openid_configuration_for_tenant, "OpenID discovery for a tenant (FusionAuth 1.46+ path)"),
        route!(GET "/oauth2/authorize" => oauth::authorize::authorize, "OAuth2 authorize: the hosted login page, or a redirect with a code"),
        route!(POST "/oauth2/authorize" => oauth::authorize::authorize, "OAuth2 authorize (form post; the hosted login form posts here)"),
        route!(POST "/oauth2/token" => oauth::token::token, "OAuth2 token: authorization_code, refresh_token, password"),
        route!(GET "/oauth2/userinfo" => oauth::inspect::userinfo, "OpenID Connect userinfo"),
        route!(POST "/oauth2/userinfo" => oauth::inspect::userinfo, "OpenID Connect userinfo (form post)"),
        route!(POST "/oauth2/introspect" => oauth::inspect::introspect, "OAuth2 token introspection (RFC 7662)"),
        route!(GET "/oauth2/logout" => oauth::logout::logout, "End the SSO session and redirect"),
        route!(POST "/oauth2/logout" => oauth::logout::logout, "End the SSO session and redirect (form post)"),
    ],
    operations: no_operations,
    typed_fault: Some(errors::injected_fault),
    fault_names: errors::FAULT_NAMES,
};

/// A JSON request body (an object), read within the configured size limit.
#[derive(Debug, Default)]
pub struct Body(Map<String, Value>);

fn invalid_json(message: impl Into<String>) -> FaError {
    FaError::general("[invalidJSON]", message)
}

impl Body {
    /// Reads the body: empty → empty object; anything but a JSON object → 400 `[invalidJSON]`.
    pub async fn read(
        req: &HttpRequest,
        payload: actix_web::dev::Payload,
        limit: usize,
    ) -> FaResult<Self> {
        let bytes = crate::http::read_body(req, payload, limit)
            .await
            .map_err(|e| FaError::general("[invalid]", e.to_string()))?;
        let is_form = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        Self::from_bytes(&bytes, is_form)
    }

    /// Parses a body already read: a JSON object, or (for a form content type) form pairs.
    pub fn from_bytes(bytes: &[u8], is_form: bool) -> FaResult<Self> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        // curl -d labels JSON as a form; a body that opens like JSON is read as JSON.
        let looks_like_json = bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'{' || *b == b'[');
        if is_form && !looks_like_json {
            let pairs =
                web::Query::<Vec<(String, String)>>::from_query(&String::from_utf8_lossy(bytes))
                    .map_err(|e| {
                        FaError::general("[invalid]", format!("Unreadable form body: {e}"))
                    })?;
            return Ok(Self(
                pairs
                    .into_inner()
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect(),
            ));
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(invalid_json(
                "Invalid JSON in the request body: expected a JSON object.",
            )),
            Err(e) => Err(invalid_json(format!(
                "Invalid JSON in the request body. The error was [{e}]."
            ))),
        }
    }

    fn value(&self, name: &str) -> Option<&Value> {
        self.0.get(name).filter(|v| !v.is_null())
    }

    /// An optional string field; another JSON type is `[couldNotConvert]<name>`.
    pub fn string(&self, name: &str) -> FaResult<Option<String>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(other) => Err(wrong_type(name, other, "a string")),
        }
    }

    /// An optional UUID field (normalised to lower-case hyphenated form).
    pub fn uuid(&self, name: &str) -> FaResult<Option<String>> {
        match self.string(name)? {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => parse_uuid(name, &s).map(Some),
        }
    }

    pub fn bool(&self, name: &str) -> FaResult<Option<bool>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(Some(s == "true")),
            Some(other) => Err(wrong_type(name, other, "a boolean")),
        }
    }

    pub fn integer(&self, name: &str) -> FaResult<Option<i64>> {
        match self.value(name) {
            None => Ok(None),
            Some(v) => v
                .as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .map(Some)
                .ok_or_else(|| wrong_type(name, v, "an integer")),
        }
    }

    pub fn object(&self, name: &str) -> FaResult<Option<Map<String, Value>>> {
        match self.value(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(other) => Err(wrong_type(name, other, "an object")),
        }
    }
}

fn wrong_type(name: &str, got: &Value, want: &str) -> FaError {
    let got = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    FaError::field(
        "couldNotConvert",
        name,
        format!("The [{name}] property must be {want}, not {got}."),
    )
}

pub fn parse_uuid(name: &str, value: &str) -> FaResult<String> {
    uuid::Uuid::parse_str(value.trim())
        .map(|u| u.to_string())
        .map_err(|_| FaError::could_not_convert(name, value))
}

/// The query string. Empty values and the literal `undefined`/`null` (which the TypeScript
/// client sends for unset arguments) count as absent.
pub struct Query(Vec<(String, String)>);

impl Query {
    pub fn parse(req: &HttpRequest) -> FaResult<Self> {
        web::Query::<Vec<(String, String)>>::from_query(req.query_string())
            .map(|q| Self(q.into_inner()))
            .map_err(|e| FaError::general("[invalid]", format!("Unreadable query string: {e}")))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty() && *v != "undefined" && *v != "null")
    }

    pub fn uuid(&self, name: &str) -> FaResult<Option<String>> {
        self.get(name).map(|v| parse_uuid(name, v)).transpose()
    }
}

/// `noJWT`, the client's address and `metaData.device` of a login or reconcile request.
pub fn sign_in_options(req: &HttpRequest, body: &Body) -> FaResult<SignInOptions> {
    Ok(SignInOptions {
        no_jwt: body.bool("noJWT")?.unwrap_or(false),
        ip_address: client_ip(req, body.string("ipAddress")?),
        device: device(body)?,
    })
}

/// `metaData.device` of a login/reconcile request: the string fields FusionAuth keeps.
fn device(body: &Body) -> FaResult<Map<String, Value>> {
    let Some(meta) = body.object("metaData")? else {
        return Ok(Map::new());
    };
    let Some(Value::Object(device)) = meta.get("device") else {
        return Ok(Map::new());
    };
    Ok(device
        .iter()
        .filter(|(k, v)| {
            matches!(
                k.as_str(),
                "description" | "name" | "type" | "lastAccessedAddress"
            ) && v.is_string()
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect())
}

/// The client's address: `ipAddress` in the body, else `X-Forwarded-For`, else the peer.
pub fn client_ip(req: &HttpRequest, from_body: Option<String>) -> Option<String> {
    from_body.or_else(|| {
        req.connection_info().realip_remote_addr().map(|a| {
            // Strip a port from "ip:port" (not from a bare IPv6 address).
            match a.rsplit_once(':') {
                Some((ip, port)) if !ip.contains(':') && port.parse::<u16>().is_ok() => {
                    ip.to_string()
                }
                _ => a.to_string(),
            }
        })
    })
}

/// `access_token`: HttpOnly session cookie. `refresh_token`: HttpOnly, persistent.
pub fn token_cookies(
    state: &AppState,
    req: &HttpRequest,
    access_token: Option<&str>,
    refresh: Option<(&str, i64)>,
) -> Vec<Cookie<'static>> {
    let secure = crate::http::is_https(req);
    let mut out = Vec::new();
    if let Some(token) = access_token {
        out.push(
            Cookie::build(extract::ACCESS_TOKEN_COOKIE, token.to_string())
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(secure)
                .finish(),
        );
    }
    if let Some((token, max_age)) = refresh {
        out.push(
            Cookie::build(extract::REFRESH_TOKEN_COOKIE, token.to_string())
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(secure)
                .max_age(CookieDuration::seconds(max_age.max(0)))
                .expires(state.core.clock().now() + CookieDuration::seconds(max_age.max(0)))
                .finish(),
        );
    }
    out
}
