//! Keeps secrets out of the journal and logs: passwords, tokens, API keys and cookies.

use regex::Regex;
use std::sync::LazyLock;

pub const REDACTED: &str = "[redacted]";
const REDACTED_JWT: &str = "eyJ…[redacted JWT]";
/// The text redaction puts in place of secrets (a search for it matches redacted entries).
pub const REDACTED_MARKS: &str = "[redacted] eyJ…[redacted JWT]";

/// Header names whose values are never recorded.
pub fn is_secret_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "authorization" | "cookie" | "set-cookie" | "vmware-api-session-id" | "x-vlsim-admin-token"
    )
}

static JWT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*").ok());

/// XML elements and JSON/form fields holding secrets.
const SECRET_NAMES: &str = "password|utf8String|token|refreshToken|refresh_token|access_token|id_token|subject_token|actor_token|client_secret|secret|apiKey|key|privateKey|secret_base64";

static XML_SECRET: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(<(?:[A-Za-z0-9_.-]+:)?(?:{SECRET_NAMES})(?:\s[^>]*)?>)[^<]*(</)"
    ))
    .ok()
});

static JSON_SECRET: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"("(?:{SECRET_NAMES})"\s*:\s*)(?:"(?:[^"\\]|\\.)*"|\[\s*(?:"(?:[^"\\]|\\.)*"\s*,?\s*)*\])"#
    ))
    .ok()
});

/// Form fields that are secrets only in forms (JSON `code` is an error code): OAuth2
/// authorization codes, PKCE verifiers, the hosted login form's CSRF token.
const FORM_ONLY_SECRET_NAMES: &str = "code|code_verifier|csrf";

static FORM_SECRET: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"((?:^|&)(?:{SECRET_NAMES}|{FORM_ONLY_SECRET_NAMES})=)[^&]*"
    ))
    .ok()
});

/// Query parameters of a redirect (`Location`) that carry secrets.
static LOCATION_SECRET: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"([?&](?:code|access_token|id_token)=)[^&#]*").ok());

/// A header value fit to record: secret headers entirely, an authorization code in a
/// `Location` redirect.
pub fn redact_header(name: &str, value: &str) -> String {
    if is_secret_header(name) {
        return REDACTED.to_string();
    }
    match LOCATION_SECRET.as_ref() {
        Some(re) if name.eq_ignore_ascii_case("location") => re
            .replace_all(value, format!("${{1}}{REDACTED}"))
            .into_owned(),
        _ => value.to_string(),
    }
}

/// Redacts secrets in a request or response body (XML, JSON or form encoded).
pub fn redact_body(text: &str) -> String {
    let mut out = text.to_string();
    if let Some(re) = XML_SECRET.as_ref() {
        out = re
            .replace_all(&out, format!("${{1}}{REDACTED}${{2}}"))
            .into_owned();
    }
    if let Some(re) = JSON_SECRET.as_ref() {
        out = re
            .replace_all(&out, format!("${{1}}\"{REDACTED}\""))
            .into_owned();
    }
    if let Some(re) = FORM_SECRET.as_ref() {
        out = re
            .replace_all(&out, format!("${{1}}{REDACTED}"))
            .into_owned();
    }
    if let Some(re) = JWT.as_ref() {
        out = re.replace_all(&out, REDACTED_JWT).into_owned();
    }
    out
}

/// The JWTs in `text` as (header, payload), base64url, their signatures left out.
pub fn jwt_parts(text: &str) -> Vec<(&str, &str)> {
    let Some(re) = JWT.as_ref() else {
        return Vec::new();
    };
    re.find_iter(text)
        .filter_map(|m| {
            let mut parts = m.as_str().split('.');
            Some((parts.next()?, parts.next()?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_each_form() {
        let xml = r#"<ns0:password><ns0:utf8String>dm13YXJl</ns0:utf8String></ns0:password><token>abc</token>"#;
        let r = redact_body(xml);
        assert!(!r.contains("dm13YXJl") && !r.contains("abc"), "{r}");
        let json = r#"{"loginId":"a","password":"p\"w","refreshToken":"xyz"}"#;
        let r = redact_body(json);
        assert!(
            r.contains(r#""loginId":"a""#) && !r.contains("xyz") && !r.contains("p\\\"w"),
            "{r}"
        );
        // The Horizon REST login's password may be an array of one string.
        let r = redact_body(r#"{"username":"a","password": ["vm\"ware"],"domain":"D"}"#);
        assert_eq!(
            r,
            r#"{"username":"a","password": "[redacted]","domain":"D"}"#
        );
        let form = "grant_type=x&subject_token=secret&scope=a";
        assert_eq!(
            redact_body(form),
            "grant_type=x&subject_token=[redacted]&scope=a"
        );
        let form = "grant_type=authorization_code&code=abc&code_verifier=v&csrf=c";
        assert_eq!(
            redact_body(form),
            "grant_type=authorization_code&code=[redacted]&code_verifier=[redacted]&csrf=[redacted]"
        );
        assert_eq!(
            redact_header("Location", "http://a/cb?code=abc&state=s"),
            "http://a/cb?code=[redacted]&state=s"
        );
        let jwt = "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln";
        assert!(!redact_body(jwt).contains("c2ln"));
    }
}
