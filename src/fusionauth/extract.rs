//! Who is calling and with what, parsed once per request: an API key (raw, in
//! `Authorization`), a JWT (`Authorization: Bearer`, or the `access_token` cookie), the
//! tenant the request is scoped to (`X-FusionAuth-TenantId`, or the tenant an API key is
//! locked to), the JSON (or form) body and the query string.

use super::errors::{FaError, FaResult};
use super::{Body, Query};
use crate::core::fusionauth::ApiKey;
use crate::core::Core;
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{ready, LocalBoxFuture, Ready};

pub const TENANT_HEADER: &str = "X-FusionAuth-TenantId";
pub const ACCESS_TOKEN_COOKIE: &str = "access_token";
pub const REFRESH_TOKEN_COOKIE: &str = "refresh_token";

fn state(req: &HttpRequest) -> FaResult<&web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>().ok_or_else(|| {
        FaError::Core(crate::core::CoreError::Internal(
            "the application state is missing".into(),
        ))
    })
}

/// What the request authenticates with.
#[derive(Debug, Clone)]
enum Credential {
    None,
    ApiKey(ApiKey),
    Jwt(String),
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim())
        .filter(|t| !t.is_empty())
}

/// The credential of the request. An unknown API key is a 401 right away; an API key wins
/// over an `access_token` cookie.
fn credential(core: &Core, req: &HttpRequest) -> FaResult<Credential> {
    if let Some(value) = req.headers().get(AUTHORIZATION) {
        // UTF-8 (SIMD-checked) rather than `to_str`'s byte-by-byte visible-ASCII scan,
        // which was 2% of /api/jwt/validate with a 900-byte token.
        let value = std::str::from_utf8(value.as_bytes())
            .map_err(|_| FaError::Unauthorized("unreadable Authorization header".into()))?
            .trim();
        if let Some(token) = bearer(value) {
            return Ok(Credential::Jwt(token.to_string()));
        }
        if !value.is_empty() {
            return core
                .fusionauth()
                .directory()
                .api_key(value)
                .cloned()
                .map(Credential::ApiKey)
                .ok_or_else(|| FaError::Unauthorized("unknown API key".into()));
        }
    }
    Ok(match cookie(req, ACCESS_TOKEN_COOKIE) {
        Some(jwt) => Credential::Jwt(jwt),
        None => Credential::None,
    })
}

/// A non-empty cookie's value.
pub fn cookie(req: &HttpRequest, name: &str) -> Option<String> {
    req.cookie(name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// `X-FusionAuth-TenantId`, checked: a UUID of a known tenant.
fn tenant_header(core: &Core, req: &HttpRequest) -> FaResult<Option<String>> {
    let Some(value) = req.headers().get(TENANT_HEADER) else {
        return Ok(None);
    };
    let raw = value.to_str().unwrap_or("").trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let id = uuid::Uuid::parse_str(raw)
        .map_err(|_| FaError::could_not_convert("tenantId", raw))?
        .to_string();
    if core.fusionauth().directory().tenant(&id).is_none() {
        return Err(FaError::field(
            "invalid",
            "tenantId",
            format!("No tenant with id [{id}]"),
        ));
    }
    Ok(Some(id))
}

/// The tenant the request may see: the key's lock, else the header; a locked key with a
/// different header is refused.
fn scope(core: &Core, req: &HttpRequest, key: Option<&ApiKey>) -> FaResult<Option<String>> {
    let header = tenant_header(core, req)?;
    match (key.and_then(|k| k.tenant_id.clone()), header) {
        (Some(locked), Some(h)) if locked != h => Err(FaError::Unauthorized(
            "the API key is locked to another tenant".into(),
        )),
        (Some(locked), _) => Ok(Some(locked)),
        (None, h) => Ok(h),
    }
}

/// A synchronous extractor from a function of the request.
macro_rules! sync_extractor {
    ($type:ty, |$req:ident| $body:expr) => {
        impl FromRequest for $type {
            type Error = FaError;
            type Future = Ready<FaResult<Self>>;

            fn from_request($req: &HttpRequest, _: &mut Payload) -> Self::Future {
                ready((|| -> FaResult<Self> { $body })())
            }
        }
    };
}

/// `X-FusionAuth-TenantId`: absent, or a known tenant's id.
pub struct TenantHeader(pub Option<String>);

sync_extractor!(TenantHeader, |req| {
    Ok(Self(tenant_header(&state(req)?.core, req)?))
});

/// An API-key endpoint's caller: the key (required) and the tenant it may see.
pub struct ApiKeyAuth {
    pub key: ApiKey,
    pub scope: Option<String>,
}

sync_extractor!(ApiKeyAuth, |req| {
    let core = &state(req)?.core;
    match credential(core, req)? {
        Credential::ApiKey(key) => Ok(Self {
            scope: scope(core, req, Some(&key))?,
            key,
        }),
        _ => Err(FaError::Unauthorized("an API key is required".into())),
    }
});

/// The Login API's caller: an API key if one came (a JWT counts as none), and the tenant
/// the request may see.
pub struct LoginCaller {
    pub key: Option<ApiKey>,
    pub scope: Option<String>,
}

sync_extractor!(LoginCaller, |req| {
    let core = &state(req)?.core;
    let key = match credential(core, req)? {
        Credential::ApiKey(k) => Some(k),
        _ => None,
    };
    Ok(Self {
        scope: scope(core, req, key.as_ref())?,
        key,
    })
});

/// The JWT of a JWT-only endpoint (validate, issue): Bearer header or `access_token` cookie.
pub struct BearerJwt(pub String);

sync_extractor!(BearerJwt, |req| {
    match credential(&state(req)?.core, req)? {
        Credential::Jwt(token) => Ok(Self(token)),
        Credential::ApiKey(_) => Err(FaError::Unauthorized(
            "this endpoint takes a JWT, not an API key".into(),
        )),
        Credential::None => Err(FaError::Unauthorized("no JWT".into())),
    }
});

/// Who revokes: an API key (scoped), or a JWT whose owner may revoke only their own token.
pub struct Revoker {
    pub scope: Option<String>,
    /// The `sub` of a JWT-authenticated caller.
    pub owner: Option<String>,
}

sync_extractor!(Revoker, |req| {
    let core = &state(req)?.core;
    match credential(core, req)? {
        Credential::ApiKey(key) => Ok(Self {
            scope: scope(core, req, Some(&key))?,
            owner: None,
        }),
        Credential::Jwt(jwt) => {
            let scope = tenant_header(core, req)?;
            let claims = core.fusionauth().validate(&jwt, scope.as_deref())?;
            let sub = claims
                .get("sub")
                .and_then(|v| v.as_str())
                .ok_or_else(|| FaError::Unauthorized("the JWT has no subject".into()))?
                .to_string();
            Ok(Self {
                scope,
                owner: Some(sub),
            })
        }
        Credential::None => Err(FaError::Unauthorized("no credentials".into())),
    }
});

/// The query string (see [`Query`]).
pub struct QueryParams(pub Query);

sync_extractor!(QueryParams, |req| Ok(Self(Query::parse(req)?)));

/// The request body: a JSON object, or form pairs (see [`Body`]).
pub struct JsonBody(pub Body);

impl FromRequest for JsonBody {
    type Error = FaError;
    type Future = LocalBoxFuture<'static, FaResult<Self>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let limit = state(&req)?.config.body_limit;
            Ok(Self(Body::read(&req, payload, limit).await?))
        })
    }
}
