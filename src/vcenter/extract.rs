//! Who calls: the `Authorization` header read once (Basic, `SIGN token="..."`, Bearer), a
//! session named by `vmware-api-session-id` (header, and on the legacy `/rest` forms also
//! the cookie), or a Bearer JWT from a trusted issuer.

use super::errors::{ApiToken, Form, RestToken, VcError};
use super::SESSION_HEADER;
use crate::core::sessions::Session;
use crate::core::vcenter::{Credentials, IssueSpec, Subject};
use crate::core::{Core, CoreError, CoreResult};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures_util::future::{ready, LocalBoxFuture, Ready};
use serde::Deserialize;
use std::marker::PhantomData;

fn header<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The session id from the `vmware-api-session-id` header (and, with `cookie`, its cookie).
fn session_id(req: &HttpRequest, cookie: bool) -> Option<String> {
    header(req, SESSION_HEADER).map(str::to_string).or_else(|| {
        cookie
            .then(|| req.cookie(SESSION_HEADER))
            .flatten()
            .map(|c| c.value().to_string())
    })
}

/// What the `Authorization` header carries.
pub enum Authorization {
    Basic {
        user: String,
        password: String,
    },
    /// `SIGN token="..."`: the token as sent (base64 of gzip'ed SAML XML).
    Sign(String),
    Bearer(String),
}

pub fn authorization(req: &HttpRequest) -> Option<Authorization> {
    let value = header(req, "Authorization")?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user, password) = text.split_once(':')?;
        Some(Authorization::Basic {
            user: user.to_string(),
            password: password.to_string(),
        })
    } else if scheme.eq_ignore_ascii_case("sign") {
        // SIGN token="...", signature_alg="...", signature="...", nonce="...", bodyhash="..."
        let start = rest.find("token=\"")?.checked_add("token=\"".len())?;
        let tail = rest.get(start..)?;
        let end = tail.find('"')?;
        Some(Authorization::Sign(tail.get(..end)?.to_string()))
    } else if scheme.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
        Some(Authorization::Bearer(rest.to_string()))
    } else {
        None
    }
}

fn not_authenticated() -> CoreError {
    CoreError::NotAuthenticated("Authentication required.".into())
}

fn core(req: &HttpRequest) -> CoreResult<&Core> {
    req.app_data::<web::Data<AppState>>()
        .map(|s| &s.core)
        .ok_or_else(|| CoreError::Internal("the application state is missing".into()))
}

/// Opens a session from the request's `Authorization` header.
pub async fn login_from_header(core: &Core, req: &HttpRequest) -> CoreResult<Session> {
    let vcenter = core.vcenter();
    match authorization(req).ok_or_else(not_authenticated)? {
        Authorization::Basic { user, password } => {
            vcenter
                .login(Credentials::Password {
                    user: &user,
                    password: &password,
                })
                .await
        }
        Authorization::Sign(token) => {
            let xml =
                crate::core::vcenter::decode_saml_token(&token).map_err(|_| not_authenticated())?;
            vcenter.login(Credentials::Saml(&xml)).await
        }
        Authorization::Bearer(token) => {
            let host = crate::vcenter::client_host(req);
            vcenter.login(Credentials::Jwt(&token, &host)).await
        }
    }
}

/// The live session the request names (touched); on the legacy form the cookie counts too.
pub struct LiveSession<F>(pub Session, pub PhantomData<F>);

impl<F: Form + 'static> FromRequest for LiveSession<F> {
    type Error = VcError<F>;
    type Future = Ready<Result<Self, VcError<F>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let session = (|| {
            let id = session_id(req, F::LEGACY).ok_or_else(not_authenticated)?;
            core(req)?.vcenter().session(&id)
        })();
        ready(session.map(|s| Self(s, PhantomData)).map_err(VcError::from))
    }
}

/// Who may call the token service: a session, or a Bearer JWT from a trusted issuer.
pub struct Caller<F>(pub String, pub PhantomData<F>);

impl<F: Form + 'static> FromRequest for Caller<F> {
    type Error = VcError<F>;
    type Future = Ready<Result<Self, VcError<F>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = (|| {
            let vcenter = core(req)?.vcenter();
            if let Some(id) = session_id(req, F::LEGACY) {
                return vcenter.session(&id).map(|s| s.principal);
            }
            match authorization(req) {
                Some(Authorization::Bearer(token)) => vcenter
                    .jwt_subject(&token, &crate::vcenter::client_host(req))
                    .map(|Subject { principal, .. }| principal)
                    .map_err(|_| not_authenticated()),
                _ => Err(not_authenticated()),
            }
        })();
        ready(
            principal
                .map(|p| Self(p, PhantomData))
                .map_err(VcError::from),
        )
    }
}

/// How a token route carries its IssueSpec.
pub trait SpecForm: Form + 'static {
    fn parse(req: &HttpRequest, body: &[u8]) -> CoreResult<IssueSpec>;
}

/// `Token.issue`: form-urlencoded, or a flat JSON object when the client says so. A
/// repeated or malformed parameter is `invalid_request`.
impl SpecForm for ApiToken {
    fn parse(req: &HttpRequest, body: &[u8]) -> CoreResult<IssueSpec> {
        let is_json = req
            .headers()
            .get(actix_web::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("application/json"));
        let spec: IssueSpec = if is_json {
            serde_json::from_slice(body)
                .map_err(|e| CoreError::invalid_argument("body", format!("malformed JSON: {e}")))?
        } else {
            serde_urlencoded::from_bytes(body).map_err(|e| {
                CoreError::invalid_argument("body", format!("malformed form parameters: {e}"))
            })?
        };
        Ok(spec.normalised())
    }
}

/// The legacy `TokenExchange.exchange`: JSON `{"spec": {...}}`.
impl SpecForm for RestToken {
    fn parse(_: &HttpRequest, body: &[u8]) -> CoreResult<IssueSpec> {
        #[derive(Deserialize)]
        struct ExchangeBody {
            spec: IssueSpec,
        }
        serde_json::from_slice::<ExchangeBody>(body)
            .map(|b| b.spec.normalised())
            .map_err(|e| CoreError::invalid_argument("spec", format!("malformed request: {e}")))
    }
}

/// A token exchange request: who calls (see [`Caller`]) and their IssueSpec. A body that is
/// too large or cannot be parsed is a bad argument of the call, recorded as a failed
/// exchange, as vCenter's token service reports it.
pub struct IssueRequest<F> {
    pub caller: String,
    pub spec: IssueSpec,
    form: PhantomData<F>,
}

impl<F: SpecForm> FromRequest for IssueRequest<F> {
    type Error = VcError<F>;
    type Future = LocalBoxFuture<'static, Result<Self, VcError<F>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let caller = Caller::<F>::from_request(req, payload).into_inner();
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            let Caller(caller, _) = caller?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| CoreError::Internal("the application state is missing".into()))?;
            let spec = crate::http::read_body(&req, payload, state.config.body_limit)
                .await
                .map_err(|e| CoreError::invalid_argument("body", e.to_string()))
                .and_then(|body| F::parse(&req, &body))
                .inspect_err(|e| state.core.vcenter().token_failed(&caller, None, "", e))?;
            Ok(Self {
                caller,
                spec,
                form: PhantomData,
            })
        })
    }
}
