//! What a Horizon REST request carries, parsed once: the `Authorization: Bearer` access
//! token (checked against the login it belongs to), the JSON body, the query string.

use super::errors::{RestError, RestResult};
use crate::core::horizon::{RestAccess, RestCaller};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::{ready, LocalBoxFuture, Ready};
use serde_json::{Map, Value};

fn state(req: &HttpRequest) -> RestResult<&web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>().ok_or_else(|| {
        RestError::Core(crate::core::CoreError::Internal(
            "the application state is missing".into(),
        ))
    })
}

/// The access token of `Authorization: Bearer <token>` (scheme in any case).
fn bearer(req: &HttpRequest) -> RestResult<&str> {
    let value = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or_else(|| RestError::NotAuthenticated("no Authorization header".into()))?;
    let value = std::str::from_utf8(value.as_bytes())
        .map_err(|_| RestError::NotAuthenticated("unreadable Authorization header".into()))?
        .trim();
    value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| RestError::NotAuthenticated("not a Bearer token".into()))
}

/// The caller of a Bearer route, whatever its role (401 without a live access token).
pub fn caller(req: &HttpRequest) -> RestResult<RestCaller> {
    let token = bearer(req)?;
    Ok(state(req)?.core.horizon().rest_caller(token)?)
}

/// A caller allowed to read (both administrator roles): 401, then 403.
pub struct Reader(pub RestCaller);

impl FromRequest for Reader {
    type Error = RestError;
    type Future = Ready<RestResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(caller(req).and_then(|c| {
            c.require(RestAccess::Read)?;
            Ok(Self(c))
        }))
    }
}

/// The request body as a JSON object, or why it is not one (each endpoint answers that
/// with its own error key).
pub struct JsonBody(pub Result<Map<String, Value>, String>);

impl FromRequest for JsonBody {
    type Error = RestError;
    type Future = LocalBoxFuture<'static, RestResult<Self>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let limit = state(&req)?.config.body_limit;
            let parsed = match crate::http::read_body(&req, payload, limit).await {
                Err(e) => Err(e.to_string()),
                Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {
                    Err("the request body is empty; a JSON object is required".into())
                }
                Ok(bytes) => match serde_json::from_slice::<Value>(&bytes) {
                    Ok(Value::Object(map)) => Ok(map),
                    Ok(_) => Err("the request body must be a JSON object".into()),
                    Err(e) => Err(format!("the request body is not JSON: {e}")),
                },
            };
            Ok(Self(parsed))
        })
    }
}

/// The query string, form-decoded (`+` is a space); a repeated parameter's last value wins.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl FromRequest for Params {
    type Error = RestError;
    type Future = Ready<RestResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
                .map(Self)
                .map_err(|e| {
                    RestError::bad_request(
                        "rest.request.invalid",
                        format!("unreadable query string: {e}"),
                    )
                }),
        )
    }
}
