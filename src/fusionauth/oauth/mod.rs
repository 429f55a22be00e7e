//! FusionAuth's OAuth2 / OpenID Connect endpoints: `/oauth2/authorize` with the hosted login
//! page (`authorize.rs`, HTML in `pages.rs`), `/oauth2/token` (`token.rs`),
//! `/oauth2/userinfo` and `/oauth2/introspect` (`inspect.rs`), `/oauth2/logout`
//! (`logout.rs`) and per-tenant discovery (`discovery.rs`). Their parameters arrive as a
//! query or an `application/x-www-form-urlencoded` body (`OAuthForm`); errors are OAuth2
//! JSON, an error page, or a redirect with `error`.

pub mod authorize;
pub mod bodies;
pub mod discovery;
pub mod inspect;
pub mod logout;
pub mod pages;
pub mod token;

use super::errors::{FaError, FaResult};
use crate::core::fusionauth::oauth::{ClientCredentials, ErrorCode, OAuthFailure};
use crate::state::AppState;
use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::header::{
    HeaderMap, HeaderValue, AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, PRAGMA,
};
use actix_web::http::Method;
use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures_util::future::LocalBoxFuture;

/// The SSO session cookie (FusionAuth's name).
pub const SSO_COOKIE: &str = "fusionauth.sso";
/// The hosted login form's CSRF cookie; its value must come back in the form's `csrf` field.
pub const CSRF_COOKIE: &str = "vlsim.csrf";
pub const CSRF_FIELD: &str = "csrf";

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store(headers: &mut HeaderMap) {
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

/// The request's parameters: the query of a GET, the form body of a POST (then its query).
#[derive(Debug, Default)]
pub struct OAuthForm {
    pairs: Vec<(String, String)>,
    pub is_post: bool,
}

impl OAuthForm {
    /// The first non-empty value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_string)
    }

    /// Whether `name` was sent at all (even empty).
    pub fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(k, _)| k == name)
    }
}

fn parse_pairs(text: &str) -> FaResult<Vec<(String, String)>> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(text).map_err(|e| {
        FaError::oauth(OAuthFailure::invalid_request(
            "invalid_request_body",
            format!("The request parameters cannot be read: {e}"),
        ))
    })
}

impl FromRequest for OAuthForm {
    type Error = FaError;
    type Future = LocalBoxFuture<'static, FaResult<Self>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let mut pairs = Vec::new();
            let is_post = req.method() == Method::POST;
            if is_post {
                let limit = req
                    .app_data::<web::Data<AppState>>()
                    .map_or(1024 * 1024, |s| s.config.body_limit);
                let bytes = crate::http::read_body(&req, payload, limit)
                    .await
                    .map_err(|e| {
                        FaError::oauth(OAuthFailure::invalid_request(
                            "invalid_request_body",
                            e.to_string(),
                        ))
                    })?;
                let is_form = req
                    .headers()
                    .get(CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| {
                        v.to_ascii_lowercase()
                            .starts_with("application/x-www-form-urlencoded")
                    });
                if is_form {
                    pairs = parse_pairs(&String::from_utf8_lossy(&bytes))?;
                }
            }
            pairs.extend(parse_pairs(req.query_string())?);
            Ok(Self { pairs, is_post })
        })
    }
}

/// `scheme://host[:port]` as the client reached vlsim: what `"{origin}"` issuers become.
pub fn origin(req: &HttpRequest) -> String {
    crate::http::external_base_url(req)
}

/// Percent-decoding of a Basic credential part (RFC 6749 §2.3.1 form-encodes them first).
fn form_decoded(part: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={part}"))
        .ok()
        .and_then(|v| v.into_iter().next())
        .map_or_else(|| part.to_string(), |(_, v)| v)
}

/// The client's credentials: `Authorization: Basic` (wins), else `client_id` /
/// `client_secret` fields. A Basic header naming another client than `client_id` is refused.
pub fn client_credentials(req: &HttpRequest, form: &OAuthForm) -> FaResult<ClientCredentials> {
    let basic = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .map(|(_, rest)| rest.trim().to_string());
    let Some(encoded) = basic else {
        return Ok(ClientCredentials {
            client_id: form.owned("client_id"),
            secret: form.owned("client_secret"),
            basic: false,
        });
    };
    let refused = |why: &str| FaError::OAuth {
        failure: OAuthFailure::new(
            ErrorCode::InvalidClient,
            "invalid_client_authentication",
            why,
        ),
        challenge: super::errors::Challenge::Basic,
    };
    let decoded = STANDARD
        .decode(encoded.as_bytes())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| refused("The Basic Authorization header cannot be read."))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| refused("The Basic Authorization header cannot be read."))?;
    let id = form_decoded(id);
    if form.get("client_id").is_some_and(|c| c != id) {
        return Err(refused(
            "The client_id parameter does not match the Basic Authorization header.",
        ));
    }
    Ok(ClientCredentials {
        client_id: Some(id),
        secret: Some(form_decoded(secret)),
        basic: true,
    })
}

/// An HttpOnly, `SameSite=Lax` cookie (`Secure` over HTTPS); `max_age` 0 removes it.
pub fn cookie(
    req: &HttpRequest,
    name: &'static str,
    value: String,
    path: &'static str,
    max_age: i64,
) -> Cookie<'static> {
    let mut c = Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(crate::http::is_https(req))
        .finish();
    if max_age > 0 {
        c.set_max_age(CookieDuration::seconds(max_age));
    } else {
        c.make_removal();
    }
    c
}

/// `base` with `params` added to its query.
pub fn with_params(base: &str, params: &[(&str, &str)]) -> String {
    let query = serde_urlencoded::to_string(params).unwrap_or_default();
    if query.is_empty() {
        return base.to_string();
    }
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{query}")
}
