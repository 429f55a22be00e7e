//! `/oauth2/token`, `/oauth2/userinfo` and `/oauth2/introspect` at the wire: each grant and
//! its refusals (PKCE mismatch, reused and expired codes, wrong redirect URI, wrong secret,
//! disabled grant), the id token, and one core: OAuth tokens validate at
//! `/api/jwt/validate`, share the refresh-token store, show in the journal and events, are
//! exchanged by vCenter, expire by vlsim's clock, and codes survive a restart.

use crate::helpers::{claims, exchange_form, fa::*, vc, TestApp};
use crate::oauth2::{browser, login_for_code, pkce, APP2_SECRET, CALLBACK, SECRET};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

struct TokenReply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

async fn token(app: &TestApp, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> TokenReply {
    let mut rb = app.http().post(app.at("/oauth2/token")).form(form);
    if let Some((id, secret)) = basic {
        rb = rb.header(
            "Authorization",
            format!("Basic {}", STANDARD.encode(format!("{id}:{secret}"))),
        );
    }
    let res = rb.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    TokenReply {
        status,
        headers,
        body: serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}")),
    }
}

impl TokenReply {
    fn ok(&self) -> &Value {
        assert_eq!(self.status, 200, "{}", self.body);
        assert_eq!(self.headers["cache-control"], "no-store");
        &self.body
    }

    fn error(&self, status: u16, error: &str, reason: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error"], error, "{}", self.body);
        if let Some(reason) = reason {
            assert_eq!(self.body["error_reason"], reason, "{}", self.body);
        }
        assert!(self.body["error_description"].is_string());
        assert_eq!(self.headers["cache-control"], "no-store");
    }
}

fn code_form<'a>(code: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("client_id", APP),
    ];
    form.extend_from_slice(extra);
    form
}

async fn password_grant(app: &TestApp, scope: &str) -> Value {
    token(
        app,
        &[
            ("grant_type", "password"),
            ("username", "admin@vlsim.test"),
            ("password", "password"),
            ("client_id", APP),
            ("client_secret", SECRET),
            ("scope", scope),
        ],
        None,
    )
    .await
    .ok()
    .clone()
}

const CODE_ERROR: (u16, &str, Option<&str>) = (400, "invalid_request", Some("auth_code_not_found"));

#[actix_web::test]
async fn authorization_code_with_pkce_and_the_id_token() {
    let app = TestApp::start().await;
    let b = browser();
    let (verifier, challenge) = pkce();
    let q = login_for_code(
        &app,
        &b,
        &[
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
            ("nonce", "n-1"),
        ],
    )
    .await;
    // A public client: no secret, the verifier proves it.
    let t = token(
        &app,
        &code_form(&q["code"], &[("code_verifier", &verifier)]),
        None,
    )
    .await;
    let body = t.ok();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["userId"], ADMIN_ID);
    assert_eq!(body["scope"], "openid offline_access");
    let access = body["access_token"].as_str().unwrap();
    let at = claims(access);
    assert_eq!(at["iss"], app.url());
    assert_eq!(at["aud"], APP);
    assert_eq!(at["roles"], json!(["admin"]));
    assert_eq!(at["scope"], "openid offline_access");
    assert_eq!(at["authenticationType"], "PASSWORD");
    assert_eq!(at["sid"], body["refresh_token_id"]);
    let id = claims(body["id_token"].as_str().unwrap());
    assert_eq!(id["iss"], app.url());
    assert_eq!(id["aud"], APP);
    assert_eq!(id["sub"], ADMIN_ID);
    assert_eq!(id["nonce"], "n-1");
    assert_eq!(id["auth_time"], at["auth_time"]);
    assert!(id["sid"].is_string(), "the SSO session");
    assert!(id.get("roles").is_none() && id.get("applicationId").is_none());
    let digest = Sha256::digest(access.as_bytes());
    assert_eq!(id["at_hash"], URL_SAFE_NO_PAD.encode(&digest[..16]));
    // The id token verifies with the published JWKS.
    let header = jsonwebtoken::decode_header(body["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.kid.as_deref(), Some(crate::helpers::RSA_KID));

    // plain PKCE too (a vlsim addition; FusionAuth knows only S256).
    let q = login_for_code(
        &app,
        &b,
        &[
            ("code_challenge", &verifier),
            ("code_challenge_method", "plain"),
        ],
    )
    .await;
    token(
        &app,
        &code_form(&q["code"], &[("code_verifier", &verifier)]),
        None,
    )
    .await
    .ok();
}

#[actix_web::test]
async fn code_refusals_burn_the_code() {
    let app = TestApp::start().await;
    app.freeze_clock();
    let b = browser();
    let (verifier, challenge) = pkce();
    let with_pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let (s, e, r) = CODE_ERROR;

    // PKCE mismatch, then the right verifier: the code is gone.
    let q = login_for_code(&app, &b, &with_pkce).await;
    let other = pkce().0;
    token(
        &app,
        &code_form(&q["code"], &[("code_verifier", &other)]),
        None,
    )
    .await
    .error(s, e, r);
    token(
        &app,
        &code_form(&q["code"], &[("code_verifier", &verifier)]),
        None,
    )
    .await
    .error(s, e, r);
    // A challenge at authorize and no verifier: under NotRequiredWhenUsingPKCE that is a
    // client without authentication.
    let q = login_for_code(&app, &b, &with_pkce).await;
    token(&app, &code_form(&q["code"], &[]), None).await.error(
        401,
        "invalid_client",
        Some("client_authentication_missing"),
    );
    // A malformed verifier.
    token(&app, &code_form("x", &[("code_verifier", "short")]), None)
        .await
        .error(400, "invalid_request", Some("invalid_pkce_code_verifier"));

    // Reused code (a confidential client without PKCE).
    let q = login_for_code(&app, &b, &[]).await;
    let secret = [("client_secret", SECRET)];
    token(&app, &code_form(&q["code"], &secret), None)
        .await
        .ok();
    token(&app, &code_form(&q["code"], &secret), None)
        .await
        .error(s, e, r);

    // Expired by vlsim's clock (30 s).
    let q = login_for_code(&app, &b, &[]).await;
    app.advance_clock(31).await;
    token(&app, &code_form(&q["code"], &secret), None)
        .await
        .error(s, e, r);

    // Another (acceptable) redirect URI than at authorize; an unacceptable one.
    let q = login_for_code(&app, &b, &[]).await;
    let mut form = code_form(&q["code"], &secret);
    form.retain(|(k, _)| *k != "redirect_uri");
    form.push(("redirect_uri", "http://127.0.0.1:8766/callback"));
    token(&app, &form, None).await.error(s, e, r);
    let q = login_for_code(&app, &b, &[]).await;
    let mut form = code_form(&q["code"], &secret);
    form.retain(|(k, _)| *k != "redirect_uri");
    form.push(("redirect_uri", "https://evil.example/cb"));
    token(&app, &form, None)
        .await
        .error(400, "invalid_grant", Some("invalid_redirect_uri"));
    // A code of another client.
    let q = login_for_code(&app, &b, &[]).await;
    let mut form = code_form(&q["code"], &[("client_secret", APP2_SECRET)]);
    form.retain(|(k, _)| *k != "client_id");
    form.push(("client_id", APP2));
    token(&app, &form, None).await.error(s, e, r);
}

#[actix_web::test]
async fn client_authentication_and_request_errors() {
    let app = TestApp::start().await;
    let b = browser();
    let q = login_for_code(&app, &b, &[]).await;
    let mut form = code_form(&q["code"], &[]);
    form.retain(|(k, _)| *k != "client_id");
    let basic = token(&app, &form, Some((APP, "wrong"))).await;
    basic.error(401, "invalid_client", Some("invalid_client_authentication"));
    assert!(basic.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let post = token(
        &app,
        &code_form(&q["code"], &[("client_secret", "wrong")]),
        None,
    )
    .await;
    post.error(401, "invalid_client", Some("invalid_client_authentication"));
    assert!(post.headers.get("www-authenticate").is_none());
    // client_secret_basic: client_id only in the header.
    let q = login_for_code(&app, &b, &[]).await;
    let mut form = code_form(&q["code"], &[]);
    form.retain(|(k, _)| *k != "client_id");
    token(&app, &form, Some((APP, SECRET))).await.ok();

    let unknown = uuid::Uuid::new_v4().to_string();
    type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str, Option<&'a str>);
    let cases: Vec<Case> = vec![
        (
            vec![("client_id", APP)],
            400,
            "invalid_request",
            Some("missing_grant_type"),
        ),
        (
            vec![("grant_type", "implicit"), ("client_id", APP)],
            400,
            "unsupported_grant_type",
            None,
        ),
        (
            vec![
                ("grant_type", "client_credentials"),
                ("client_id", APP),
                ("client_secret", SECRET),
            ],
            400,
            "not_licensed",
            Some("not_licensed"),
        ),
        (
            vec![
                ("grant_type", "password"),
                ("username", "admin@vlsim.test"),
                ("password", "password"),
            ],
            400,
            "invalid_request",
            Some("missing_client_id"),
        ),
        (
            vec![("grant_type", "password"), ("client_id", &unknown)],
            401,
            "invalid_client",
            Some("invalid_client_id"),
        ),
        (
            vec![
                ("grant_type", "password"),
                ("client_id", APP),
                ("client_secret", SECRET),
                ("username", "admin@vlsim.test"),
                ("password", "wrong"),
            ],
            400,
            "invalid_grant",
            Some("invalid_user_credentials"),
        ),
        // NotRequiredWhenUsingPKCE: other grants need the secret.
        (
            vec![
                ("grant_type", "password"),
                ("client_id", APP),
                ("username", "admin@vlsim.test"),
                ("password", "password"),
            ],
            401,
            "invalid_client",
            Some("client_authentication_missing"),
        ),
        // vlsim-second has the password grant disabled.
        (
            vec![
                ("grant_type", "password"),
                ("client_id", APP2),
                ("client_secret", APP2_SECRET),
                ("username", "admin@vlsim.test"),
                ("password", "password"),
            ],
            400,
            "unauthorized_client",
            Some("grant_type_disabled"),
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", APP),
                ("client_secret", SECRET),
                ("refresh_token", "nope"),
            ],
            400,
            "invalid_grant",
            Some("refresh_token_not_found"),
        ),
        (
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", APP),
                ("client_secret", SECRET),
            ],
            400,
            "invalid_request",
            Some("missing_refresh_token"),
        ),
    ];
    for (form, status, error, reason) in cases {
        token(&app, &form, None).await.error(status, error, reason);
    }
    // vlsim-second: Required client authentication even with PKCE.
    let (verifier, challenge) = pkce();
    let q = login_for_code(
        &app,
        &b,
        &[("client_id", APP2), ("code_challenge", &challenge)],
    )
    .await;
    let mut form = code_form(&q["code"], &[("code_verifier", &verifier)]);
    form.retain(|(k, _)| *k != "client_id");
    form.push(("client_id", APP2));
    token(&app, &form, None).await.error(
        401,
        "invalid_client",
        Some("client_authentication_missing"),
    );
}

#[actix_web::test]
async fn password_and_refresh_grants_share_the_refresh_token_store() {
    let app = TestApp::start().await;
    let body = password_grant(&app, "openid offline_access").await;
    let refresh = body["refresh_token"].as_str().unwrap();
    let stored = app
        .get(
            &format!(
                "/api/jwt/refresh/{}",
                body["refresh_token_id"].as_str().unwrap()
            ),
            Some(API_KEY),
        )
        .await
        .json();
    assert_eq!(
        stored["refreshToken"]["metaData"]["scopes"],
        json!(["openid", "offline_access"])
    );
    let events = app.event_types("fusionauth").await;
    assert!(events.contains(&"user.login.success".to_string()));
    assert!(events.contains(&"oauth2.token".to_string()));

    // Reusable (the vlsim application): the same string back, a new access token and id token.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", APP),
        ("client_secret", SECRET),
    ];
    let r = token(&app, &form, None).await;
    let again = r.ok();
    assert_eq!(again["refresh_token"], refresh);
    assert_eq!(again["refresh_token_id"], body["refresh_token_id"]);
    assert_eq!(
        claims(again["access_token"].as_str().unwrap())["authenticationType"],
        "REFRESH_TOKEN"
    );
    assert!(again["id_token"].is_string());
    assert!(app
        .event_types("fusionauth")
        .await
        .contains(&"jwt.refresh".to_string()));
    // The JWT API refreshes it too, and FusionAuth's scope rule holds.
    let (status, _) = app
        .send_json(
            Method::POST,
            "/api/jwt/refresh",
            json!({"refreshToken": refresh}),
        )
        .await;
    assert_eq!(status, 200);
    let mut wider = form.to_vec();
    wider.push(("scope", "openid offline_access email"));
    token(&app, &wider, None)
        .await
        .error(400, "invalid_scope", None);
    // Another client's refresh token.
    let other = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", APP2),
        ("client_secret", APP2_SECRET),
    ];
    token(&app, &other, None)
        .await
        .error(400, "invalid_grant", Some("refresh_token_not_found"));

    // OneTimeUse (vlsim-second, code grant): rotated, the old string is dead.
    let b = browser();
    let q = login_for_code(&app, &b, &[("client_id", APP2)]).await;
    let mut form = code_form(&q["code"], &[("client_secret", APP2_SECRET)]);
    form.retain(|(k, _)| *k != "client_id");
    form.push(("client_id", APP2));
    let first = token(&app, &form, None).await.ok().clone();
    let old = first["refresh_token"].as_str().unwrap();
    let rotate = |t: &str| {
        vec![
            ("grant_type", "refresh_token".to_string()),
            ("refresh_token", t.to_string()),
            ("client_id", APP2.to_string()),
            ("client_secret", APP2_SECRET.to_string()),
        ]
    };
    let res = app
        .http()
        .post(app.at("/oauth2/token"))
        .form(&rotate(old))
        .send()
        .await
        .unwrap();
    let rotated: Value = res.json().await.unwrap();
    assert_ne!(rotated["refresh_token"], old);
    assert_eq!(rotated["refresh_token_id"], first["refresh_token_id"]);
    let res = app
        .http()
        .post(app.at("/oauth2/token"))
        .form(&rotate(old))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);

    // No scope: neither refresh token nor id token.
    let plain = password_grant(&app, "").await;
    assert!(plain.get("refresh_token").is_none() && plain.get("id_token").is_none());
    assert!(plain.get("scope").is_none());
}

#[actix_web::test]
async fn userinfo_and_introspection() {
    let app = TestApp::start().await;
    app.freeze_clock();
    let t = password_grant(&app, "openid offline_access").await;
    let access = t["access_token"].as_str().unwrap();
    for method in [Method::GET, Method::POST] {
        let r = app
            .send(app.request(
                method.clone(),
                "/oauth2/userinfo",
                Some(&format!("Bearer {access}")),
            ))
            .await;
        assert_eq!(r.status, 200, "{method}: {}", r.text);
        let info = r.json();
        assert_eq!(info["sub"], ADMIN_ID);
        assert_eq!(info["email"], "admin@vlsim.test");
        assert_eq!(info["given_name"], "Ada");
        assert!(info.get("exp").is_none() && info.get("aud").is_none());
    }
    let none = app.get("/oauth2/userinfo", None).await;
    assert_eq!(none.status, 401);
    assert!(none.headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let bad = app.get("/oauth2/userinfo", Some("Bearer x.y.z")).await;
    assert_eq!(
        (bad.status, bad.json()["error"].as_str()),
        (401, Some("invalid_token"))
    );
    let id = app
        .get(
            "/oauth2/userinfo",
            Some(&format!("Bearer {}", t["id_token"].as_str().unwrap())),
        )
        .await;
    assert_eq!(id.status, 401, "an id token is not an access token");

    let introspect = |form: Vec<(&'static str, String)>| {
        let app = app.clone();
        async move {
            let res = app
                .http()
                .post(app.at("/oauth2/introspect"))
                .form(&form)
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, body) =
        introspect(vec![("client_id", APP.into()), ("token", access.into())]).await;
    assert_eq!(status, 200);
    assert_eq!(body["active"], true);
    assert_eq!(body["sub"], ADMIN_ID);
    assert_eq!(body["aud"], APP);
    assert!(body["exp"].as_i64().unwrap() < 10_000_000_000, "seconds");
    let (_, body) = introspect(vec![("client_id", APP2.into()), ("token", access.into())]).await;
    assert_eq!(body, json!({"active": false}), "another client's token");
    let (_, body) = introspect(vec![
        ("client_id", APP.into()),
        ("token", t["refresh_token"].as_str().unwrap().into()),
        ("token_type_hint", "refresh_token".into()),
    ])
    .await;
    assert_eq!(body["active"], true);
    assert!(body["exp"].is_i64());
    let (_, body) = introspect(vec![
        ("client_id", APP.into()),
        ("token", "not-a-token".into()),
    ])
    .await;
    assert_eq!(body, json!({"active": false}));
    let (status, body) = introspect(vec![("token", "x".into())]).await;
    assert_eq!(
        (status, body["error_reason"].as_str()),
        (400, Some("missing_client_id"))
    );
    let (status, body) = introspect(vec![("client_id", APP.into())]).await;
    assert_eq!(
        (status, body["error_reason"].as_str()),
        (400, Some("missing_token"))
    );
    let (status, body) = introspect(vec![
        ("client_id", APP.into()),
        ("client_secret", "wrong".into()),
        ("token", "x".into()),
    ])
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );

    // Expiry by vlsim's clock: inactive, refused by userinfo and validate.
    app.advance_clock(3601).await;
    let (_, body) = introspect(vec![("client_id", APP.into()), ("token", access.into())]).await;
    assert_eq!(body, json!({"active": false}));
    let r = app
        .get("/oauth2/userinfo", Some(&format!("Bearer {access}")))
        .await;
    assert_eq!(r.json()["error_reason"], "access_token_expired");
    assert_eq!(app.fusionauth_validate(access).await.status, 401);
}

#[actix_web::test]
async fn one_core_validate_journal_vcenter_and_faults() {
    let app = TestApp::start().await;
    let t = password_grant(&app, "openid").await;
    let access = t["access_token"].as_str().unwrap();
    let v = app.fusionauth_validate(access).await;
    assert_eq!(v.status, 200);
    assert_eq!(v.json()["jwt"]["iss"], app.url());
    let journal = app.journal("operation=POST%20/oauth2/token&limit=5").await;
    let entries = journal["entries"].as_array().unwrap();
    assert!(!entries.is_empty());
    assert_eq!(entries[0]["surface"], "fusionauth");
    let recorded = entries[0].to_string();
    assert!(
        !recorded.contains("password=password"),
        "secrets redacted: {recorded}"
    );
    assert!(!recorded.contains(SECRET));

    // vCenter accepts it as a subject token: its issuer is this vlsim's own origin.
    let sid = app.vcenter_session().await;
    let (status, body) = app
        .exchange(
            &sid,
            &exchange_form(access, vc::ACCESS, &[("requested_token_type", vc::SAML2)]),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    // Faults apply to the OAuth routes, in OAuth2's own JSON.
    app.add_fault(json!({"operation": "POST /oauth2/token", "action": {"kind": "typed", "message": "down for test"}}))
        .await;
    let r = token(&app, &[("grant_type", "password")], None).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.body["error_description"], "down for test");
}

#[actix_web::test]
async fn codes_survive_a_restart_and_expired_records_are_swept() {
    let app = TestApp::start().await;
    let b = browser();
    let q = login_for_code(&app, &b, &[]).await;
    let app = app.restart().await;
    token(
        &app,
        &code_form(&q["code"], &[("client_secret", SECRET)]),
        None,
    )
    .await
    .ok();
    // The SSO session survived too.
    assert_eq!(
        crate::oauth2::get(&b, &crate::oauth2::authorize_url(&app, &[]))
            .await
            .status,
        302
    );

    // Pending records expire by vlsim's clock and the sweeper removes them.
    login_for_code(&app, &b, &[]).await;
    let before = app.core().fusionauth().oauth_counts();
    assert!(before.authorization_codes >= 1 && before.sso_sessions >= 1);
    let now = app.clock().now_ms();
    assert_eq!(app.core().fusionauth().sweep_expired(now, 100).unwrap(), 0);
    let later = now + 3_601_000;
    let removed = app.core().fusionauth().sweep_expired(later, 100).unwrap();
    assert_eq!(
        removed,
        before.authorization_codes + before.sso_sessions + before.login_forms
    );
    let after = app.core().fusionauth().oauth_counts();
    assert_eq!(
        (
            after.authorization_codes,
            after.sso_sessions,
            after.login_forms
        ),
        (0, 0, 0)
    );
}
