//! The hosted pages, plain HTML that works without JavaScript: the login form (labelled
//! inputs, the request in hidden fields, a CSRF token), the error page, the `form_post`
//! response (submits itself when scripts run, else shows a button) and the logout page.
//! Every value is HTML-escaped; pages are never cached nor framed.

use crate::core::fusionauth::oauth::OAuthFailure;
use actix_web::http::header::{HeaderValue, CONTENT_SECURITY_POLICY, X_FRAME_OPTIONS};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;

/// What the login form shows and carries.
pub struct LoginPage<'a> {
    pub application: &'a str,
    /// The authorize request's parameters, sent back with the form.
    pub hidden: Vec<(&'a str, &'a str)>,
    pub csrf: &'a str,
    pub login_id: &'a str,
    /// An error shown above the form (wrong password, expired form).
    pub message: Option<&'a str>,
}

/// `&`, `<`, `>`, `"` and `'` as character references.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}\
h1{font-size:1.4rem}label{display:block;margin:.8rem 0 .2rem}input[type=text],input[type=password],input[type=email]{width:100%;padding:.5rem;box-sizing:border-box}\
button{margin-top:1rem;padding:.5rem 1.2rem}.error{color:#a40000;border:1px solid #a40000;padding:.5rem;margin:.8rem 0}\
.app{color:#555}";

fn document(title: &str, body: &str, onload: Option<&str>) -> String {
    let onload = onload
        .map(|s| format!(" onload=\"{s}\""))
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body{onload}>\n{body}\n</body></html>\n",
        escape(title)
    )
}

/// An HTML answer with the headers every hosted page has.
pub fn html(status: StatusCode, page: String) -> HttpResponse {
    let mut res = HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(page);
    let headers = res.headers_mut();
    super::no_store(headers);
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("frame-ancestors 'none'"),
    );
    res
}

/// The hosted login form.
pub fn login_page(page: &LoginPage<'_>) -> String {
    let mut body = String::from("<main>\n<h1>Sign in</h1>\n");
    body.push_str(&format!(
        "<p class=\"app\">to continue to {}</p>\n",
        escape(page.application)
    ));
    if let Some(message) = page.message {
        body.push_str(&format!(
            "<p class=\"error\" id=\"error\" role=\"alert\">{}</p>\n",
            escape(message)
        ));
    }
    body.push_str("<form action=\"/oauth2/authorize\" method=\"POST\">\n");
    for (name, value) in &page.hidden {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(name),
            escape(value)
        ));
    }
    body.push_str(&format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
        super::CSRF_FIELD,
        escape(page.csrf)
    ));
    body.push_str(&format!(
        "<label for=\"loginId\">Email or username</label>\n\
         <input type=\"text\" id=\"loginId\" name=\"loginId\" value=\"{}\" autocomplete=\"username\" autocapitalize=\"none\" required autofocus>\n\
         <label for=\"password\">Password</label>\n\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\n\
         <button type=\"submit\" id=\"submit-button\">Sign in</button>\n</form>\n</main>",
        escape(page.login_id)
    ));
    document("Sign in", &body, None)
}

/// An authorize or logout request that cannot be answered with a redirect.
pub fn error_page(failure: &OAuthFailure) -> HttpResponse {
    let status = match failure.error {
        crate::core::fusionauth::oauth::ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        crate::core::fusionauth::oauth::ErrorCode::TemporarilyUnavailable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let body = format!(
        "<main>\n<h1>The request cannot be completed</h1>\n\
         <p class=\"error\" role=\"alert\">{}</p>\n\
         <dl><dt>error</dt><dd id=\"error\">{}</dd><dt>error_reason</dt><dd id=\"error_reason\">{}</dd></dl>\n</main>",
        escape(&failure.description),
        failure.error.name(),
        failure.reason.unwrap_or_default(),
    );
    html(status, document("Error", &body, None))
}

/// `response_mode=form_post`: a form posting `fields` to `action`.
pub fn form_post_page(action: &str, fields: &[(&str, &str)]) -> String {
    let mut body = format!("<form method=\"POST\" action=\"{}\">\n", escape(action));
    for (name, value) in fields {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">\n",
            escape(name),
            escape(value)
        ));
    }
    body.push_str("<noscript><p>Scripts are off: continue by hand.</p><button type=\"submit\">Continue</button></noscript>\n</form>");
    document("Continue", &body, Some("document.forms[0].submit()"))
}

/// After `/oauth2/logout` without a place to go.
pub fn logged_out_page() -> String {
    document(
        "Signed out",
        "<main>\n<h1>You are signed out</h1>\n<p>Your single sign-on session has ended.</p>\n</main>",
        None,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_could_break_out() {
        assert_eq!(
            escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let page = login_page(&LoginPage {
            application: "<app>",
            hidden: vec![("state", "\"><script>")],
            csrf: "c",
            login_id: "'x",
            message: Some("<b>"),
        });
        assert!(!page.contains("<script>"));
        assert!(!page.contains("<b>"));
        assert!(page.contains("<label for=\"loginId\">"));
        assert!(page.contains("<label for=\"password\">"));
    }
}
