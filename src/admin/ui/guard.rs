//! Who may use the dashboard, and which forms count.
//!
//! - With `--admin-token`, a page asks for the token once (`/_vlsim/ui/login`) and keeps
//!   proof of it in the `vlsim_ui` cookie: HttpOnly, SameSite=Strict, path `/_vlsim/ui`,
//!   Secure over HTTPS. The cookie holds HMAC-SHA256(token, a fixed label), not the token,
//!   so it survives restarts, stops working when the token changes, and never shows the
//!   token itself. `Authorization: Bearer <token>` works too (scripts, curl).
//! - Every POST is a form that must carry `csrf`: HMAC-SHA256 under a random secret made
//!   once per process, bound to the caller's cookie; and its `Origin` (or `Referer`), when
//!   the browser sends one, must be this server. A form from another site fails both.

use super::layout::{self, Page};
use super::{html, UiError, UI};
use crate::state::AppState;
use actix_web::body::BoxBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use aws_lc_rs::hmac;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures_util::future::LocalBoxFuture;
use maud::html as markup;
use std::sync::LazyLock;

pub const COOKIE: &str = "vlsim_ui";
const COOKIE_LABEL: &[u8] = b"vlsim dashboard login v1";
/// Largest form accepted (a pasted SAML assertion is the biggest).
const FORM_LIMIT: usize = 512 * 1024;

/// The per-process key of the CSRF tokens.
static CSRF_KEY: LazyLock<hmac::Key> = LazyLock::new(|| {
    let mut secret = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut secret);
    hmac::Key::new(hmac::HMAC_SHA256, &secret)
});

fn admin_token(req: &HttpRequest) -> Option<String> {
    req.app_data::<web::Data<AppState>>()
        .and_then(|s| s.config.admin_token.clone())
}

/// What the login cookie holds for `token`.
fn cookie_value(token: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, token.as_bytes());
    URL_SAFE_NO_PAD.encode(hmac::sign(&key, COOKIE_LABEL).as_ref())
}

/// Equal, in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether the request proves it knows the admin token (cookie or bearer header).
fn logged_in(req: &HttpRequest, token: &str) -> bool {
    let by_cookie = req
        .cookie(COOKIE)
        .is_some_and(|c| same(c.value().as_bytes(), cookie_value(token).as_bytes()));
    let by_header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|presented| {
            use sha2::{Digest, Sha256};
            same(
                &Sha256::digest(presented.as_bytes()),
                &Sha256::digest(token.as_bytes()),
            )
        });
    by_cookie || by_header
}

/// Whether the dashboard asks for a login (the server has an admin token).
pub fn login_required(req: &HttpRequest) -> bool {
    admin_token(req).is_some()
}

/// The CSRF token for forms shown to this caller.
pub fn csrf_token(req: &HttpRequest) -> String {
    let binding = req.cookie(COOKIE).map(|c| c.value().to_string());
    let tag = hmac::sign(&CSRF_KEY, binding.as_deref().unwrap_or("-").as_bytes());
    URL_SAFE_NO_PAD.encode(tag.as_ref())
}

fn csrf_ok(req: &HttpRequest, presented: &str) -> bool {
    let binding = req.cookie(COOKIE).map(|c| c.value().to_string());
    URL_SAFE_NO_PAD.decode(presented).is_ok_and(|tag| {
        hmac::verify(
            &CSRF_KEY,
            binding.as_deref().unwrap_or("-").as_bytes(),
            &tag,
        )
        .is_ok()
    })
}

/// Whether the browser says the form came from elsewhere (`Origin`, else `Referer`, or
/// `Sec-Fetch-Site: cross-site`).
fn foreign_origin(req: &HttpRequest) -> bool {
    let own = crate::http::external_base_url(req);
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site") == Some("cross-site") {
        return true;
    }
    match (header("origin"), header("referer")) {
        (Some(origin), _) => origin != own,
        (None, Some(referer)) => !(referer == own || referer.starts_with(&format!("{own}/"))),
        (None, None) => false,
    }
}

/// Lets a request through when no token is configured, or it proves it knows it; the
/// login page and the assets are always reachable. Others get the login form (401).
pub async fn require_login(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(token) = admin_token(req.request()) else {
        return next.call(req).await;
    };
    let path = req.path();
    let open = path == format!("{UI}/login") || path.starts_with(&format!("{UI}/assets/"));
    if open || logged_in(req.request(), &token) {
        return next.call(req).await;
    }
    let next_page = if req.method() == Method::GET {
        req.uri()
            .path_and_query()
            .map_or(UI.to_string(), |p| p.as_str().to_string())
    } else {
        UI.to_string()
    };
    let page = login_form(req.request(), &next_page, None);
    let response = html(StatusCode::UNAUTHORIZED, page);
    Ok(req.into_response(response))
}

/// Where a login may send the browser afterwards: a dashboard page, nothing else.
fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| {
        (n == &UI || n.starts_with(&format!("{UI}/")) || n.starts_with(&format!("{UI}?")))
            && !n.contains("//")
            && !n.contains('\\')
    })
    .unwrap_or(UI)
    .to_string()
}

fn login_form(req: &HttpRequest, next: &str, error: Option<&str>) -> maud::Markup {
    let body = markup! {
        @if let Some(error) = error {
            p.notice.bad role="alert" { (error) }
        }
        p { "This vlsim was started with " code { "--admin-token" } ". Enter it once; the browser keeps proof of it in a cookie for this dashboard only." }
        form.stack method="post" action={ (UI) "/login" } {
            input type="hidden" name="csrf" value=(csrf_token(req));
            input type="hidden" name="next" value=(next);
            label for="token" { "Admin token" }
            input #token type="password" name="token" autocomplete="current-password" required autofocus;
            button type="submit" { "Sign in" }
        }
    };
    layout::render(
        req,
        &Page {
            title: "Sign in",
            nav: None,
            notice: None,
        },
        body,
    )
}

#[derive(serde::Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

pub async fn login_page(req: HttpRequest, query: web::Query<LoginQuery>) -> HttpResponse {
    let next = safe_next(query.next.as_deref());
    if admin_token(&req).is_none_or(|t| logged_in(&req, &t)) {
        return HttpResponse::SeeOther()
            .insert_header(("Location", next))
            .finish();
    }
    html(StatusCode::OK, login_form(&req, &next, None))
}

fn login_cookie(req: &HttpRequest, value: String) -> Cookie<'static> {
    Cookie::build(COOKIE, value)
        .path(UI)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(crate::http::is_https(req))
        .finish()
}

pub async fn login(req: HttpRequest, form: FormData) -> Result<HttpResponse, UiError> {
    let next = safe_next(form.get("next"));
    let Some(token) = admin_token(&req) else {
        return Ok(HttpResponse::SeeOther()
            .insert_header(("Location", next))
            .finish());
    };
    let presented = form.get("token").unwrap_or_default();
    if !same(
        cookie_value(presented).as_bytes(),
        cookie_value(&token).as_bytes(),
    ) {
        let page = login_form(&req, &next, Some("That is not the admin token."));
        return Ok(html(StatusCode::UNAUTHORIZED, page));
    }
    Ok(HttpResponse::SeeOther()
        .cookie(login_cookie(&req, cookie_value(&token)))
        .insert_header(("Location", next))
        .finish())
}

pub async fn logout(req: HttpRequest, _form: FormData) -> HttpResponse {
    let mut cookie = login_cookie(&req, String::new());
    cookie.make_removal();
    HttpResponse::SeeOther()
        .cookie(cookie)
        .insert_header(("Location", format!("{UI}/login")))
        .finish()
}

/// A submitted dashboard form whose CSRF token and origin were checked; its fields by name.
pub struct FormData {
    fields: Vec<(String, String)>,
}

impl FormData {
    /// The first value of field `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Field `name`, trimmed, or `None` when absent or blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|v| !v.is_empty())
    }
}

fn refused() -> UiError {
    UiError::new(
        StatusCode::FORBIDDEN,
        "The form was refused: it did not come from this dashboard (its CSRF token or origin \
         does not match). Reload the page and send it again.",
    )
}

impl FromRequest for FormData {
    type Error = UiError;
    type Future = LocalBoxFuture<'static, Result<Self, UiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let payload = payload.take();
        Box::pin(async move {
            if foreign_origin(&req) {
                return Err(refused());
            }
            let form = req
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
            if !form {
                return Err(UiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Dashboard forms are sent as application/x-www-form-urlencoded.",
                ));
            }
            let body = crate::http::read_body(&req, payload, FORM_LIMIT)
                .await
                .map_err(|e| UiError::bad_request(e.to_string()))?;
            let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
                .map_err(|e| UiError::bad_request(format!("The form is not readable: {e}")))?;
            let data = FormData { fields };
            if !data.get("csrf").is_some_and(|t| csrf_ok(&req, t)) {
                return Err(refused());
            }
            Ok(data)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_pages_stay_on_the_dashboard() {
        assert_eq!(
            safe_next(Some("/_vlsim/ui/journal?x=1")),
            "/_vlsim/ui/journal?x=1"
        );
        assert_eq!(safe_next(Some("/_vlsim/ui")), "/_vlsim/ui");
        for bad in [
            "https://evil.test/",
            "//evil.test",
            "/_vlsim/ui//evil",
            "/_vlsim/uix",
            "/api/login",
        ] {
            assert_eq!(safe_next(Some(bad)), "/_vlsim/ui", "{bad}");
        }
        assert!(same(b"abc", b"abc") && !same(b"abc", b"abd") && !same(b"ab", b"abc"));
    }
}
