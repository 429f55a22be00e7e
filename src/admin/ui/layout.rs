//! The frame every page shares (header, navigation, notices), the embedded assets, the
//! security headers of every dashboard answer, and small formatting helpers.

use super::guard;
use super::UI;
use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse};
use maud::{html, Markup, DOCTYPE};

const CSS: &str = include_str!("assets/vlsim.css");
const JS: &str = include_str!("assets/vlsim.js");

/// What a page says about itself to the frame.
pub struct Page<'a> {
    pub title: &'a str,
    /// The navigation entry to mark as current (its path after `/_vlsim/ui`); `None`
    /// shows no navigation (the login page).
    pub nav: Option<&'a str>,
    /// A notice to show above the content.
    pub notice: Option<&'a str>,
}

const NAV: &[(&str, &str)] = &[
    ("", "Overview"),
    ("/journal", "Journal"),
    ("/events", "Events"),
    ("/sessions", "Sessions and tokens"),
    ("/inspect", "Token inspector"),
    ("/controls", "Controls"),
];

/// What a `done=` code after a form means.
fn done_notice(code: &str) -> Option<&'static str> {
    Some(match code {
        "fault-added" => "Fault rule added.",
        "fault-deleted" => "Fault rule deleted.",
        "latency-set" => "Latency set.",
        "clock-advanced" => "Clock moved.",
        "clock-set" => "Clock set.",
        "clock-frozen" => "Clock frozen.",
        "clock-real" => "Clock back to real time.",
        "snapshot-saved" => "Snapshot saved.",
        "snapshot-restored" => "Snapshot restored: the world is as it was when it was saved.",
        "snapshot-deleted" => "Snapshot deleted.",
        "reset" => "Back to the fixtures: sessions, tokens, events and the journal are gone.",
        "journal-cleared" => "Journal emptied.",
        "revoked" => "Revoked.",
        _ => return None,
    })
}

/// The notice a `done=` query parameter asks for.
fn notice_of(req: &HttpRequest) -> Option<&'static str> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    pairs
        .iter()
        .find(|(k, _)| k == "done")
        .and_then(|(_, v)| done_notice(v))
}

fn frame(title: &str, nav: Option<&str>, header_extra: Markup, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · vlsim" }
                link rel="stylesheet" href={ (UI) "/assets/vlsim.css" };
                script src={ (UI) "/assets/vlsim.js" } defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href=(UI) { "vlsim" }
                    @if let Some(current) = nav {
                        nav aria-label="Dashboard" {
                            ul {
                                @for (path, label) in NAV {
                                    li {
                                        @if *path == current {
                                            a href={ (UI) (path) } aria-current="page" { (label) }
                                        } @else {
                                            a href={ (UI) (path) } { (label) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    (header_extra)
                }
                main #main tabindex="-1" {
                    h1 { (title) }
                    (main)
                }
            }
        }
    }
}

/// A whole page: the frame around `body`.
pub fn render(req: &HttpRequest, page: &Page<'_>, body: Markup) -> Markup {
    let notice = page.notice.or_else(|| notice_of(req));
    let logout = html! {
        @if page.nav.is_some() && guard::login_required(req) {
            form.logout method="post" action={ (UI) "/logout" } {
                input type="hidden" name="csrf" value=(guard::csrf_token(req));
                button.link type="submit" { "Sign out" }
            }
        }
    };
    let main = html! {
        @if let Some(notice) = notice {
            p.notice.good role="status" { (notice) }
        }
        (body)
    };
    frame(page.title, page.nav, logout, main)
}

/// A page for an error (no request at hand: no forms on it).
pub fn error_page(title: &str, message: &str) -> Markup {
    let main = html! {
        p.notice.bad role="alert" { (message) }
        p { a href=(UI) { "Back to the dashboard" } }
    };
    frame(title, Some("-"), html! {}, main)
}

/// Headers on every dashboard answer: no framing, no sniffing, scripts and styles only
/// from here, forms only to here.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let headers = res.headers_mut();
    for (name, value) in [
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    Ok(res)
}

pub async fn css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "max-age=3600"))
        .body(CSS)
}

pub async fn js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "max-age=3600"))
        .body(JS)
}

/// `1 h 5 min`, `42 s`: a duration in words, for "expires in" and "ago".
pub fn duration(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} days {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// When `at_ms` is as seen from `now_ms`: `in 5 min` or `5 min ago`.
pub fn relative(at_ms: i64, now_ms: i64) -> String {
    let delta = at_ms.saturating_sub(now_ms) / 1000;
    if delta >= 0 {
        format!("in {}", duration(delta))
    } else {
        format!("{} ago", duration(delta))
    }
}

/// A CSS class for a status code.
pub fn status_class(status: u16) -> &'static str {
    match status / 100 {
        2 => "s2",
        3 => "s3",
        4 => "s4",
        _ => "s5",
    }
}

/// Hidden CSRF field for a form shown to `req`.
pub fn csrf(req: &HttpRequest) -> Markup {
    html! { input type="hidden" name="csrf" value=(guard::csrf_token(req)); }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(-3600), "60 min");
        assert_eq!(duration(3 * 3600 + 120), "3 h 2 min");
        assert_eq!(relative(0, 90_000), "90 s ago");
        assert_eq!(relative(3_600_000, 0), "in 60 min");
    }
}
