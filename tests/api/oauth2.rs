//! OAuth2 / OpenID Connect on the FusionAuth surface, at the wire: discovery, the authorize
//! endpoint and its hosted login page (errors on a page or on the redirect, CSRF, SSO
//! cookie, prompt, login_hint, form_post), logout and what `/_vlsim/state` shows. The
//! token, userinfo and introspection endpoints are in `oauth2_tokens.rs`, which shares the
//! helpers here.

use crate::helpers::{fa::*, TestApp};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::redirect::Policy;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const SECRET: &str = "vlsim-client-secret";
pub const APP2_SECRET: &str = "vlsim-second-client-secret";
pub const CALLBACK: &str = "http://127.0.0.1:8765/callback";
pub const SCOPE: &str = "openid offline_access";
pub const INVALID_LOGIN: &str = "Invalid login credentials.";

/// A browser: keeps cookies, does not follow redirects, no proxy.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .no_proxy()
        .build()
        .unwrap()
}

/// (code_verifier, S256 code_challenge)
pub fn pkce() -> (String, String) {
    let verifier = format!("v{}", uuid::Uuid::new_v4().simple()).repeat(2);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// `/oauth2/authorize?...` for the vlsim client with CALLBACK and SCOPE, `extra` on top
/// (an empty value removes a parameter).
pub fn authorize_url(app: &TestApp, extra: &[(&str, &str)]) -> String {
    let mut params: Vec<(&str, &str)> = vec![
        ("response_type", "code"),
        ("client_id", APP),
        ("redirect_uri", CALLBACK),
        ("scope", SCOPE),
    ];
    for (k, v) in extra {
        params.retain(|(name, _)| name != k);
        if !v.is_empty() {
            params.push((k, v));
        }
    }
    format!(
        "{}?{}",
        app.at("/oauth2/authorize"),
        serde_urlencoded::to_string(&params).unwrap()
    )
}

pub struct Page {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Page {
    pub fn location(&self) -> Option<String> {
        self.headers
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
    }

    /// The query of a redirect to `redirect_uri`.
    pub fn callback(&self, redirect_uri: &str) -> HashMap<String, String> {
        assert_eq!(self.status, 302, "not a redirect: {}", self.text);
        let location = self.location().unwrap();
        let rest = location
            .strip_prefix(redirect_uri)
            .unwrap_or_else(|| panic!("redirected to {location}, not {redirect_uri}"));
        let query = rest.strip_prefix('?').or(rest.strip_prefix('&')).unwrap();
        serde_urlencoded::from_str(query).unwrap()
    }

    /// The `<input>`s of the page's form: (name, value).
    pub fn inputs(&self) -> Vec<(String, String)> {
        self.text
            .split("<input ")
            .skip(1)
            .filter_map(|tag| {
                let tag = tag.split('>').next().unwrap();
                let attr = |name: &str| {
                    let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
                    let end = tag[start..].find('"')? + start;
                    Some(unescape(&tag[start..end]))
                };
                Some((attr("name")?, attr("value").unwrap_or_default()))
            })
            .collect()
    }

    pub fn input(&self, name: &str) -> Option<String> {
        self.inputs()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    pub fn is_login_form(&self) -> bool {
        self.status == 200
            && self.text.contains("<label for=\"loginId\">")
            && self.text.contains("<label for=\"password\">")
            && self.input("loginId").is_some()
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub async fn fetch(rb: reqwest::RequestBuilder) -> Page {
    let res = rb.send().await.unwrap();
    Page {
        status: res.status().as_u16(),
        headers: res.headers().clone(),
        text: res.text().await.unwrap(),
    }
}

pub async fn get(browser: &reqwest::Client, url: &str) -> Page {
    fetch(browser.get(url)).await
}

/// Posts the login form of `page` with these credentials.
pub async fn submit(
    app: &TestApp,
    browser: &reqwest::Client,
    page: &Page,
    login_id: &str,
    password: &str,
) -> Page {
    assert!(page.is_login_form(), "not the login form: {}", page.text);
    let mut fields: Vec<(String, String)> = page
        .inputs()
        .into_iter()
        .filter(|(n, _)| n != "loginId" && n != "password")
        .collect();
    fields.push(("loginId".into(), login_id.into()));
    fields.push(("password".into(), password.into()));
    fetch(browser.post(app.at("/oauth2/authorize")).form(&fields)).await
}

/// Authorize (posting the login form unless the SSO cookie skips it); the callback query.
pub async fn login_for_code(
    app: &TestApp,
    browser: &reqwest::Client,
    extra: &[(&str, &str)],
) -> HashMap<String, String> {
    let redirect = extra
        .iter()
        .find(|(k, _)| *k == "redirect_uri")
        .map_or(CALLBACK, |(_, v)| v);
    let page = get(browser, &authorize_url(app, extra)).await;
    if page.status == 302 {
        return page.callback(redirect);
    }
    submit(app, browser, &page, "admin@vlsim.test", "password")
        .await
        .callback(redirect)
}

#[actix_web::test]
async fn discovery_lists_exactly_what_is_served() {
    let app = TestApp::start().await;
    let doc = app
        .get("/.well-known/openid-configuration", None)
        .await
        .json();
    assert_eq!(
        doc["issuer"],
        app.url(),
        "strict OIDC clients: issuer = origin"
    );
    for (key, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("userinfo_endpoint", "/oauth2/userinfo"),
        ("introspection_endpoint", "/oauth2/introspect"),
        ("end_session_endpoint", "/oauth2/logout"),
        ("jwks_uri", "/.well-known/jwks.json"),
    ] {
        assert_eq!(doc[key], app.at(path), "{key}");
        // Nothing advertised 404s (a GET of a POST-only endpoint is 405, not 404).
        let r = app
            .http()
            .get(doc[key].as_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_ne!(r.status().as_u16(), 404, "{key}");
    }
    let set = |key: &str| -> Vec<String> {
        let mut v: Vec<String> = doc[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        set("grant_types_supported"),
        ["authorization_code", "password", "refresh_token"]
    );
    assert_eq!(set("response_types_supported"), ["code"]);
    assert_eq!(set("response_modes_supported"), ["form_post", "query"]);
    assert_eq!(set("code_challenge_methods_supported"), ["S256", "plain"]);
    assert!(set("id_token_signing_alg_values_supported").contains(&"RS256".to_string()));
    assert!(doc.get("device_authorization_endpoint").is_none());
    assert_eq!(doc["request_uri_parameter_supported"], false);
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    // Per tenant: FusionAuth's suffix and prefix forms; the Other tenant keeps a fixed issuer.
    for path in [
        format!("/.well-known/openid-configuration/{DEFAULT_TENANT}"),
        format!("/{DEFAULT_TENANT}/.well-known/openid-configuration"),
    ] {
        assert_eq!(
            app.get(&path, None).await.json()["issuer"],
            app.url(),
            "{path}"
        );
    }
    let other = app
        .get(
            &format!("/{OTHER_TENANT}/.well-known/openid-configuration"),
            None,
        )
        .await
        .json();
    assert_eq!(other["issuer"], "other.vlsim.test");
    assert_eq!(
        app.get("/not-a-tenant/.well-known/openid-configuration", None)
            .await
            .status,
        404
    );
}

#[actix_web::test]
async fn authorize_errors_on_a_page_never_redirect() {
    let app = TestApp::start().await;
    let b = browser();
    let unknown = uuid::Uuid::new_v4().to_string();
    let challenge = "x".repeat(43);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![("client_id", &unknown)], "invalid_client_id"),
        (vec![("client_id", "not-a-uuid")], "invalid_client_id"),
        (vec![("client_id", "")], "missing_client_id"),
        (
            vec![("redirect_uri", "https://evil.example/cb")],
            "invalid_redirect_uri",
        ),
        (vec![("redirect_uri", "")], "missing_redirect_uri"),
        (
            vec![
                ("code_challenge", &challenge),
                ("code_challenge_method", "S512"),
            ],
            "invalid_pkce_code_challenge_method",
        ),
        (
            vec![("code_challenge", "short")],
            "invalid_pkce_code_challenge",
        ),
    ];
    for (extra, reason) in cases {
        let page = get(&b, &authorize_url(&app, &extra)).await;
        assert_eq!(page.status, 400, "{extra:?}: {}", page.text);
        assert!(page.location().is_none(), "{extra:?}");
        assert!(page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        assert!(page.text.contains(reason), "{extra:?}: {}", page.text);
    }
}

#[actix_web::test]
async fn authorize_errors_on_the_redirect_carry_error_reason_state_and_iss() {
    let app = TestApp::start().await;
    let b = browser();
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
            "invalid_response_type",
        ),
        (
            vec![("response_type", "")],
            "invalid_request",
            "missing_response_type",
        ),
        (
            vec![("response_mode", "fragment")],
            "invalid_request",
            "invalid_response_mode",
        ),
        (
            vec![("prompt", "none login")],
            "invalid_request",
            "invalid_prompt",
        ),
        (
            vec![("prompt", "none")],
            "login_required",
            "authentication_required",
        ),
    ];
    for (mut extra, error, reason) in cases {
        extra.push(("state", "s-1"));
        let q = get(&b, &authorize_url(&app, &extra))
            .await
            .callback(CALLBACK);
        assert_eq!(q["error"], error, "{extra:?}");
        assert_eq!(q["error_reason"], reason, "{extra:?}");
        assert_eq!(q["state"], "s-1");
        assert_eq!(q["iss"], app.url());
        assert!(!q["error_description"].is_empty() && !q.contains_key("code"));
    }
    // A client without the authorization_code grant: unauthorized_client on the redirect.
    let app = TestApp::start_edited(&[(
        "enabled_grants = [\"authorization_code\", \"refresh_token\"]",
        "enabled_grants = [\"refresh_token\"]",
    )])
    .await;
    let url = authorize_url(&app, &[("client_id", APP2)]);
    let q = get(&b, &url).await.callback(CALLBACK);
    assert_eq!(
        (q["error"].as_str(), q["error_reason"].as_str()),
        ("unauthorized_client", "grant_type_disabled")
    );
}

#[actix_web::test]
async fn hosted_login_page_wrong_password_then_code_and_sso_cookie() {
    let app = TestApp::start().await;
    let b = browser();
    let url = authorize_url(&app, &[("state", "st"), ("login_hint", "admin@vlsim.test")]);
    let page = get(&b, &url).await;
    assert!(page.is_login_form(), "{}", page.text);
    assert_eq!(
        page.input("loginId").unwrap(),
        "admin@vlsim.test",
        "login_hint"
    );
    assert_eq!(page.input("state").unwrap(), "st");
    assert!(page.text.contains("method=\"POST\""));
    assert_eq!(page.headers["cache-control"], "no-store");
    assert_eq!(page.headers["x-frame-options"], "DENY");

    let wrong = submit(&app, &b, &page, "admin@vlsim.test", "not-it").await;
    assert_eq!(wrong.status, 200);
    assert!(wrong.location().is_none());
    assert!(wrong.text.contains(INVALID_LOGIN), "{}", wrong.text);
    assert!(wrong.is_login_form());
    let types = app.event_types("fusionauth").await;
    assert!(types.contains(&"user.login.failed".to_string()));

    let ok = submit(&app, &b, &wrong, "admin@vlsim.test", "password").await;
    let set_cookies: Vec<String> = ok
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect();
    assert!(
        set_cookies
            .iter()
            .any(|c| c.starts_with("fusionauth.sso=") && c.contains("HttpOnly")),
        "{set_cookies:?}"
    );
    let q = ok.callback(CALLBACK);
    assert!(!q["code"].is_empty());
    assert_eq!(q["state"], "st");
    assert_eq!(q["iss"], app.url());
    assert_eq!(q["userState"], "Authenticated");

    // The SSO cookie skips the form, also for prompt=none; prompt=login shows it again.
    for extra in [
        vec![("state", "again")],
        vec![("prompt", "none"), ("state", "again")],
    ] {
        let q = get(&b, &authorize_url(&app, &extra))
            .await
            .callback(CALLBACK);
        assert!(
            !q["code"].is_empty() && q["state"] == "again",
            "{extra:?}: {q:?}"
        );
    }
    assert!(get(&b, &authorize_url(&app, &[("prompt", "login")]))
        .await
        .is_login_form());
    // Another browser has no session.
    let cold = get(&browser(), &authorize_url(&app, &[("prompt", "none")])).await;
    assert_eq!(cold.callback(CALLBACK)["error"], "login_required");

    // Any loopback redirect URI works for the vlsim client (RFC 8252 §7.3).
    for cb in [
        "http://127.0.0.1:1/x",
        "http://localhost:65000/a/b?c=d",
        "http://[::1]:4444/cb",
    ] {
        let q = get(&b, &authorize_url(&app, &[("redirect_uri", cb)]))
            .await
            .callback(cb);
        assert!(!q["code"].is_empty(), "{cb}");
    }
}

#[actix_web::test]
async fn login_form_is_refused_without_its_csrf_cookie_or_with_a_forged_token() {
    let app = TestApp::start().await;
    let b = browser();
    let page = get(&b, &authorize_url(&app, &[])).await;
    let csrf = page.input("csrf").expect("a CSRF field");
    assert!(csrf.len() >= 32);
    // Another browser (no cookie) posting the very same form.
    let stranger = submit(&app, &browser(), &page, "admin@vlsim.test", "password").await;
    assert_eq!(stranger.status, 403, "{}", stranger.text);
    assert!(stranger.location().is_none());
    // The right browser with a forged field.
    let mut forged = Page {
        status: page.status,
        headers: page.headers.clone(),
        text: page
            .text
            .replace(&csrf, "forged-forged-forged-forged-forged"),
    };
    let r = submit(&app, &b, &forged, "admin@vlsim.test", "password").await;
    assert_eq!(r.status, 403);
    assert!(r.location().is_none());
    // The refused page carries a fresh token that works.
    forged.text = r.text.clone();
    let ok = submit(&app, &b, &forged, "admin@vlsim.test", "password").await;
    assert!(!ok.callback(CALLBACK)["code"].is_empty());
    // After the login the CSRF cookie is gone: the old form is refused.
    let again = submit(&app, &b, &page, "admin@vlsim.test", "password").await;
    assert_eq!(again.status, 403);
}

#[actix_web::test]
async fn form_post_response_mode() {
    let app = TestApp::start().await;
    let b = browser();
    let page = get(
        &b,
        &authorize_url(&app, &[("response_mode", "form_post"), ("state", "fp")]),
    )
    .await;
    let r = submit(&app, &b, &page, "admin@vlsim.test", "password").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains(&format!("action=\"{CALLBACK}\"")),
        "{}",
        r.text
    );
    assert!(r.text.contains("<noscript>"), "works without JavaScript");
    assert!(!r.input("code").unwrap().is_empty());
    assert_eq!(r.input("state").unwrap(), "fp");
    assert_eq!(r.input("iss").unwrap(), app.url());
    // Errors travel the same way.
    let cold = get(
        &browser(),
        &authorize_url(&app, &[("response_mode", "form_post"), ("prompt", "none")]),
    )
    .await;
    assert_eq!(cold.status, 200);
    assert_eq!(cold.input("error").unwrap(), "login_required");
}

#[actix_web::test]
async fn logout_ends_the_sso_session_and_redirects() {
    let app = TestApp::start().await;
    let b = browser();
    login_for_code(&app, &b, &[]).await;
    assert_eq!(
        get(&b, &authorize_url(&app, &[])).await.status,
        302,
        "SSO session"
    );
    assert_eq!(
        app.state().await["fusionauth"]["oauth"]["stored"]["ssoSessions"],
        1
    );

    // A post_logout_redirect_uri that is not the client's: an error page, still logged in.
    let bad = get(
        &b,
        &app.at(&format!(
            "/oauth2/logout?client_id={APP}&post_logout_redirect_uri=https://evil.example/"
        )),
    )
    .await;
    assert_eq!(bad.status, 400);
    assert!(bad.location().is_none());
    let unknown = get(
        &b,
        &app.at(&format!(
            "/oauth2/logout?client_id={}",
            uuid::Uuid::new_v4()
        )),
    )
    .await;
    assert_eq!(unknown.status, 400);

    let bye = "http://127.0.0.1:8765/bye";
    let r = get(
        &b,
        &app.at(&format!(
            "/oauth2/logout?client_id={APP}&post_logout_redirect_uri={bye}&state=lo"
        )),
    )
    .await;
    assert_eq!(r.location().unwrap(), format!("{bye}?state=lo"));
    assert!(get(&b, &authorize_url(&app, &[])).await.is_login_form());
    let q = get(&b, &authorize_url(&app, &[("prompt", "none")]))
        .await
        .callback(CALLBACK);
    assert_eq!(q["error"], "login_required");
    assert_eq!(
        app.state().await["fusionauth"]["oauth"]["stored"]["ssoSessions"],
        0
    );
    assert!(app
        .event_types("fusionauth")
        .await
        .contains(&"oauth2.logout".to_string()));

    // No client and no place to go: a signed-out page (POST works too).
    let page = fetch(b.post(app.at("/oauth2/logout")).form(&[("state", "x")])).await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("signed out"));
}

#[actix_web::test]
async fn state_documents_oauth_configuration() {
    let app = TestApp::start().await;
    let state = app.state().await;
    let oauth = &state["fusionauth"]["oauth"];
    let default = &oauth["tenants"][0];
    assert_eq!(default["configuredIssuer"], "{origin}");
    assert_eq!(default["issuer"], app.url());
    assert_eq!(default["authorizationCodeTtlSeconds"], 30);
    let clients = oauth["clients"].as_array().unwrap();
    let vlsim = clients.iter().find(|c| c["clientId"] == APP).unwrap();
    assert_eq!(
        vlsim["clientAuthenticationPolicy"],
        "NotRequiredWhenUsingPKCE"
    );
    assert_eq!(
        vlsim["proofKeyForCodeExchangePolicy"],
        "NotRequiredWhenUsingClientAuthentication"
    );
    assert_eq!(vlsim["allowLoopbackRedirects"], true);
    assert_eq!(vlsim["hasClientSecret"], true);
    assert!(
        !state.to_string().contains(SECRET),
        "no client secrets in the state"
    );
    let app2 = clients.iter().find(|c| c["clientId"] == APP2).unwrap();
    assert_eq!(
        app2["enabledGrants"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
}
