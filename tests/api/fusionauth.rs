//! FusionAuth-style REST surface, at the wire: a real server on 127.0.0.1:0.

use crate::helpers::fa::*;
use crate::helpers::Want::{Empty, Field, General};
use crate::helpers::{
    b64_json, claims, edited_world, sign_hs256, TestApp, Want, EC_KID, HMAC_KID, RSA_KID,
};
use jsonwebtoken::Algorithm;
use reqwest::Method;
use serde_json::{json, Value};

const LOGIN: &str = "/api/login";
const REFRESH: &str = "/api/jwt/refresh";
const VEND: &str = "/api/jwt/vend";

/// A JWT from the external identity provider (HS256 with `secret`).
fn external_jwt(secret: &str, claims: Value) -> String {
    sign_hs256(
        secret.as_bytes(),
        &json!({"alg": "HS256", "typ": "JWT"}),
        &claims,
    )
}

/// `refreshToken` (or another string field) of a login or refresh body.
fn s<'a>(body: &'a Value, field: &str) -> &'a str {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {body}"))
}

// ---------------------------------------------------------------------------------------
// login

#[actix_web::test]
async fn login_returns_tokens_claims_cookies_and_event() {
    let app = TestApp::start().await;
    let r = app
        .post(
            LOGIN,
            Some(API_KEY),
            json!({"loginId": "ADMIN@vlsim.test", "password": "password", "applicationId": APP,
                   "metaData": {"device": {"name": "laptop", "type": "BROWSER"}}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body = r.json();
    assert_eq!(body["user"]["id"], ADMIN_ID);
    assert_eq!(body["user"]["tenantId"], DEFAULT_TENANT);
    assert!(body["user"].get("password").is_none());
    // The seed's User: "user.lastLoginInstant: The instant when the User logged in last",
    // "user.lastUpdateInstant", "user.registrations[x].lastLoginInstant" — this login.
    let now_ms = app.clock().now_ms();
    let user = &body["user"];
    let last_login = user["lastLoginInstant"].as_i64().unwrap();
    assert!((now_ms - 5_000..=now_ms).contains(&last_login), "{user}");
    assert!(user["lastUpdateInstant"].as_i64().unwrap() >= user["insertInstant"].as_i64().unwrap());
    let registration = user["registrations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["applicationId"] == APP)
        .unwrap();
    assert_eq!(registration["lastLoginInstant"], last_login);
    let token = s(&body, "token");
    let refresh_token = s(&body, "refreshToken");
    assert!(refresh_token.len() >= 40);
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some(RSA_KID));
    let c = app.fusionauth_verify(token).await;
    assert_eq!(c["iss"], "vlsim.test");
    assert_eq!(c["sub"], ADMIN_ID);
    assert_eq!(c["aud"], APP);
    assert_eq!(c["applicationId"], APP);
    assert_eq!(c["roles"], json!(["admin"]));
    assert_eq!(c["tid"], DEFAULT_TENANT);
    assert_eq!(c["sid"], body["refreshTokenId"]);
    assert_eq!(c["authenticationType"], "PASSWORD");
    assert_eq!(c["email"], "admin@vlsim.test");
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );
    assert_eq!(
        body["tokenExpirationInstant"].as_i64().unwrap(),
        c["exp"].as_i64().unwrap() * 1000
    );
    let cookies = r.cookies();
    let access = cookies
        .iter()
        .find(|c| c.starts_with("access_token="))
        .unwrap();
    assert!(access.contains("HttpOnly") && !access.contains("Max-Age"));
    let rt = cookies
        .iter()
        .find(|c| c.starts_with("refresh_token="))
        .unwrap();
    assert!(
        rt.contains("HttpOnly") && rt.contains("Max-Age=2592000"),
        "{rt}"
    );
    assert!(app
        .event_types("fusionauth")
        .await
        .contains(&"user.login.success".to_string()));

    // The refresh token's metadata kept the device.
    let id = s(&body, "refreshTokenId");
    let got = app.get(&format!("{REFRESH}/{id}"), Some(API_KEY)).await;
    assert_eq!(
        got.json()["refreshToken"]["metaData"]["device"]["name"],
        "laptop"
    );
}

#[actix_web::test]
async fn login_error_paths() {
    let app = TestApp::start().await;
    let body =
        |login: &str, pw: &str| json!({"loginId": login, "password": pw, "applicationId": APP});

    app.post(LOGIN, Some(API_KEY), body("admin@vlsim.test", "nope"))
        .await
        .assert_empty(404);
    assert!(app
        .event_types("fusionauth")
        .await
        .contains(&"user.login.failed".to_string()));
    // The application requires an API key; a wrong key is always 401.
    let cases: [(Option<&str>, Value, Want); 9] = [
        (
            Some(API_KEY),
            body("ghost@vlsim.test", "password"),
            Empty(404),
        ),
        (None, body("admin@vlsim.test", "password"), Empty(401)),
        (
            Some("wrong-key"),
            body("admin@vlsim.test", "password"),
            Empty(401),
        ),
        (
            Some(API_KEY),
            json!({"password": "password"}),
            Field("loginId", "[blank]loginId"),
        ),
        (
            Some(API_KEY),
            json!({"loginId": "admin@vlsim.test", "password": ""}),
            Field("password", "[blank]password"),
        ),
        (
            Some(API_KEY),
            json!({"loginId": 5, "password": "x"}),
            Field("loginId", "[couldNotConvert]loginId"),
        ),
        (
            Some(API_KEY),
            json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": "nope"}),
            Field("applicationId", "[couldNotConvert]applicationId"),
        ),
        (
            Some(API_KEY),
            json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": uuid::Uuid::new_v4()}),
            Field("applicationId", "[invalid]applicationId"),
        ),
        (
            Some(API_KEY),
            json!({"loginId": "admin@vlsim.test", "password": "password", "noJWT": "maybe"}),
            Field("noJWT", "[couldNotConvert]noJWT"),
        ),
    ];
    for (key, body, want) in &cases {
        let r = app.post(LOGIN, *key, body.clone()).await;
        r.assert_is(want, &format!("{key:?} {body}"));
    }

    // Malformed JSON, a non-object, and an oversized body: 400 with an Errors body.
    let raw = |body: String| {
        app.send(
            app.request(Method::POST, LOGIN, Some(API_KEY))
                .header("Content-Type", "application/json")
                .body(body),
        )
    };
    for body in ["{\"loginId\": ", "[1,2]", "not json"] {
        let r = raw(body.to_string()).await;
        assert_eq!(r.general_code(), "[invalidJSON]", "{body}");
    }
    let r = raw(format!(
        "{{\"loginId\": \"{}\"}}",
        "a".repeat(2 * 1024 * 1024)
    ))
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["generalErrors"].is_array());

    // No application and no tenant: FusionAuth cannot tell which tenant's user is meant.
    let no_app = json!({"loginId": "admin@vlsim.test", "password": "password"});
    let r = app.post(LOGIN, Some(API_KEY), no_app.clone()).await;
    assert_eq!(r.general_code(), "[TenantIdRequired]");
    let in_tenant = |tenant: &str| {
        app.send(
            app.request(Method::POST, LOGIN, Some(API_KEY))
                .header("X-FusionAuth-TenantId", tenant)
                .json(&no_app),
        )
    };
    // With the tenant header: a token without application claims and no refresh token.
    let r = in_tenant(DEFAULT_TENANT).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert!(b.get("refreshToken").is_none());
    let c = claims(s(&b, "token"));
    assert!(c.get("aud").is_none() && c.get("roles").is_none());
    // Bad tenant header.
    let r = in_tenant("nope").await;
    assert_eq!(r.field_code("tenantId"), "[couldNotConvert]tenantId");

    // Authenticated but not registered to the application: 202, no application claims
    // (seed, issue 202: "the returned access token will not contain claims for an
    // application"), so no `aud` either.
    let r = app
        .post(
            LOGIN,
            Some(API_KEY),
            json!({"loginId": "user@vlsim.test", "password": "password", "applicationId": APP2}),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let b = r.json();
    assert!(b.get("refreshToken").is_none());
    let c = claims(s(&b, "token"));
    assert!(c.get("aud").is_none(), "{c}");
    assert!(c.get("roles").is_none() && c.get("applicationId").is_none());

    // noJWT: the user only.
    let r = app
        .post(
            LOGIN,
            Some(API_KEY),
            json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": APP, "noJWT": true}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(r.json().get("token").is_none());
    assert!(r.cookies().is_empty());
}

// ---------------------------------------------------------------------------------------
// validate

#[actix_web::test]
async fn validate_accepts_good_tokens_and_refuses_bad_ones() {
    let app = TestApp::start().await;
    let body = app.fusionauth_login("admin@vlsim.test", APP).await;
    let token = s(&body, "token");

    let r = app.fusionauth_validate(token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let jwt = &r.json()["jwt"];
    assert_eq!(jwt["sub"], ADMIN_ID);
    assert_eq!(jwt["roles"], json!(["admin"]));
    // The seed's example response shows instants as FusionAuth's JWT object serialises them,
    // in milliseconds ("exp": 1487975407000); the token itself keeps seconds (RFC 7519).
    let raw = claims(token);
    assert_eq!(jwt["exp"], raw["exp"].as_i64().unwrap() * 1000);
    assert_eq!(jwt["iat"], raw["iat"].as_i64().unwrap() * 1000);
    assert_eq!(
        jwt["auth_time"], raw["auth_time"],
        "other claims as they are"
    );

    // The access_token cookie works as well.
    let r = app
        .send(
            app.request(Method::GET, "/api/jwt/validate", None)
                .header("Cookie", format!("access_token={token}")),
        )
        .await;
    assert_eq!(r.status, 200);

    // Missing, API key instead of JWT.
    for key in [None, Some(API_KEY)] {
        app.expect(Method::GET, "/api/jwt/validate", key, &Empty(401))
            .await;
    }

    let parts: Vec<&str> = token.split('.').collect();
    // Forged signature: payload changed, signature kept.
    let mut superadmin = claims(token);
    superadmin["roles"] = json!(["superadmin"]);
    let forged = format!("{}.{}.{}", parts[0], b64_json(&superadmin), parts[2]);
    // HS256 signed with the RSA public key PEM (RS/HS confusion), claiming the RSA kid.
    let pem = app
        .fusionauth_public_key(&format!("kid={RSA_KID}"))
        .await
        .as_str()
        .unwrap()
        .to_string();
    let confused = sign_hs256(
        pem.as_bytes(),
        &json!({"typ": "JWT", "alg": "HS256", "kid": RSA_KID}),
        &claims(token),
    );
    let now = app.clock().now_secs();
    for (name, bad) in [
        ("garbage", "not.a.jwt".to_string()),
        ("forged", forged),
        (
            "alg none",
            format!("{}.{}.", b64_json(&json!({"alg": "none", "typ": "JWT"})), parts[1]),
        ),
        ("RS/HS confusion", confused),
        (
            "not valid yet",
            app.mint(
                RSA_KID,
                json!({"iss": "vlsim.test", "sub": ADMIN_ID, "iat": now, "nbf": now + 600, "exp": now + 3600}),
            ),
        ),
    ] {
        let r = app.fusionauth_validate(&bad).await;
        r.assert_is(&Empty(401), name);
    }
    // "A valid JWT indicates the signature is valid and the payload has not been tampered
    // with and the token is not expired": signed by any key this instance holds (HMAC
    // included), whatever the issuer, or none.
    for (name, good) in [
        (
            "HMAC key",
            app.mint(
                HMAC_KID,
                json!({"iss": "vlsim.test", "sub": ADMIN_ID, "exp": now + 60}),
            ),
        ),
        (
            "another issuer",
            app.mint(
                RSA_KID,
                json!({"iss": "evil.test", "sub": ADMIN_ID, "iat": now, "exp": now + 60}),
            ),
        ),
        (
            "no issuer",
            app.mint(EC_KID, json!({"sub": "robot", "exp": now + 60})),
        ),
    ] {
        let r = app.fusionauth_validate(&good).await;
        assert_eq!(r.status, 200, "{name}: {}", r.text);
    }

    // Expired, by the server clock.
    app.clock().advance(3600);
    app.fusionauth_validate(token).await.assert_empty(401);
}

#[actix_web::test]
async fn soap_generated_token_validates_and_verifies_with_jwks() {
    let app = TestApp::start().await;
    let token = app
        .horizon_token(Some("<validityTime>10</validityTime>"))
        .await;
    let r = app.fusionauth_validate(&token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["jwt"]["iss"], "cs1.vlsim.test");
    assert_eq!(r.json()["jwt"]["sub"], "VLSIM\\administrator");
    let verified = app.fusionauth_verify(&token).await;
    assert_eq!(verified["iss"], "cs1.vlsim.test");
    app.clock().advance(601);
    app.fusionauth_validate(&token).await.assert_empty(401);
}

// ---------------------------------------------------------------------------------------
// refresh

#[actix_web::test]
async fn refresh_reusable_cookie_form_and_errors() {
    let app = TestApp::start().await;
    let body = app.fusionauth_login("admin@vlsim.test", APP).await;
    let rt = s(&body, "refreshToken");
    let id = s(&body, "refreshTokenId");

    let r = app
        .post(
            REFRESH,
            None,
            json!({"refreshToken": rt, "token": body["token"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert_eq!(b["refreshToken"], rt, "Reusable keeps the string");
    // The previous access token is relayed in the jwt.refresh event, as FusionAuth's
    // webhook does with `original`.
    let events = app.events("type=jwt.refresh").await;
    assert_eq!(events[0]["details"]["original"], body["token"]);
    // "When provided on the request, this value will be relayed in the related JWT Refresh
    // webhook event within the original field": whatever it is (here another user's token).
    let stranger = app.fusionauth_login("user@vlsim.test", APP).await;
    let r2 = app
        .post(
            REFRESH,
            None,
            json!({"refreshToken": rt, "token": stranger["token"]}),
        )
        .await;
    assert_eq!(r2.status, 200, "{}", r2.text);
    let events = app.events("type=jwt.refresh").await;
    assert_eq!(events[0]["details"]["original"], stranger["token"]);
    assert_eq!(b["refreshTokenId"], id);
    let c = app.fusionauth_verify(s(&b, "token")).await;
    assert_eq!(c["authenticationType"], "REFRESH_TOKEN");
    assert_eq!(c["sid"], id);
    assert_eq!(c["roles"], json!(["admin"]));
    assert!(r.cookies().iter().any(|c| c.starts_with("access_token=")));
    // Again: still good.
    assert_eq!(app.fusionauth_refresh(rt).await.status, 200);

    // Cookie form, and the cookie wins over the body.
    let r = app
        .send(
            app.request(Method::POST, REFRESH, None)
                .header("Cookie", format!("refresh_token={rt}"))
                .json(&json!({"refreshToken": "bogus"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Shorter TTL on request; longer is refused.
    let r = app
        .post(
            REFRESH,
            None,
            json!({"refreshToken": rt, "timeToLiveInSeconds": 60}),
        )
        .await;
    let c = claims(s(&r.json(), "token"));
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 60);

    for (body, want) in [
        (
            json!({"refreshToken": rt, "timeToLiveInSeconds": 99999}),
            Field("timeToLiveInSeconds", "[invalid]timeToLiveInSeconds"),
        ),
        (json!({}), Field("refreshToken", "[missing]refreshToken")),
        (
            json!({"refreshToken": "not-a-token"}),
            Field("refreshToken", "[invalid]refreshToken"),
        ),
        (
            json!({"refreshToken": 42}),
            Field("refreshToken", "[couldNotConvert]refreshToken"),
        ),
    ] {
        let r = app.post(REFRESH, None, body.clone()).await;
        r.assert_is(&want, &body.to_string());
    }
    assert!(app
        .event_types("fusionauth")
        .await
        .contains(&"jwt.refresh".to_string()));

    // Fixed expiry: 43200 minutes after the login, whatever the refreshes.
    app.clock().advance(43_200 * 60 - 10);
    assert_eq!(app.fusionauth_refresh(rt).await.status, 200);
    app.clock().advance(11);
    let r = app.fusionauth_refresh(rt).await;
    assert_eq!(r.field_code("refreshToken"), "[invalid]refreshToken");
    app.get(&format!("{REFRESH}/{id}"), Some(API_KEY))
        .await
        .assert_empty(404);
}

#[actix_web::test]
async fn refresh_one_time_use_rotates() {
    let app = TestApp::start().await;
    let body = app.fusionauth_login("admin@vlsim.test", APP2).await;
    let rt = s(&body, "refreshToken");
    let id = s(&body, "refreshTokenId");
    let r = app.fusionauth_refresh(rt).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    let rotated = s(&b, "refreshToken");
    assert_ne!(rotated, rt);
    assert_eq!(b["refreshTokenId"], id, "the id survives rotation");
    assert_eq!(
        app.fusionauth_refresh(rt).await.field_code("refreshToken"),
        "[invalid]refreshToken"
    );
    let r = app.fusionauth_refresh(rotated).await;
    assert_eq!(r.status, 200);
    assert_ne!(r.json()["refreshToken"], rotated);
    // Retrieval by id still finds it.
    let r = app.get(&format!("{REFRESH}/{id}"), Some(API_KEY)).await;
    assert_eq!(r.status, 200);
}

#[actix_web::test]
async fn concurrent_one_time_refreshes_have_one_winner() {
    // Several workers, so the refreshes really run in parallel on different threads.
    let app = TestApp::start_configured(|c| c.workers = Some(8)).await;
    let body = app.fusionauth_login("admin@vlsim.test", APP2).await;
    let rt = s(&body, "refreshToken").to_string();
    let mut tasks = Vec::new();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(100));
    for _ in 0..100 {
        // Its own connection pool: each thread runs its own runtime.
        let (app, rt, barrier) = (app.with_new_client(), rt.clone(), barrier.clone());
        tasks.push(std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                barrier.wait().await;
                app.fusionauth_refresh(&rt).await.status
            })
        }));
    }
    let mut ok = 0;
    let mut refused = 0;
    for t in tasks {
        match t.join().unwrap() {
            200 => ok += 1,
            400 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((ok, refused), (1, 99));
    app.stop().await;
}

#[actix_web::test]
async fn refresh_tokens_survive_restart_and_revocations_stick() {
    let app = TestApp::start().await;
    let keep = app.fusionauth_login("admin@vlsim.test", APP).await;
    let gone = app.fusionauth_login("user@vlsim.test", APP).await;
    let rotating = app.fusionauth_login("admin@vlsim.test", APP2).await;
    let rotated = app
        .fusionauth_refresh(s(&rotating, "refreshToken"))
        .await
        .json();
    let r = app
        .delete(
            &format!("{REFRESH}/{}", s(&gone, "refreshTokenId")),
            Some(API_KEY),
        )
        .await;
    assert_eq!(r.status, 200);

    let app = app.restart().await;
    for (name, body, want) in [
        ("kept", &keep, 200),
        ("revoked", &gone, 400),
        ("rotated away", &rotating, 400),
        ("rotated to", &rotated, 200),
    ] {
        let r = app.fusionauth_refresh(s(body, "refreshToken")).await;
        assert_eq!(r.status, want, "{name}: {}", r.text);
    }
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// retrieve and revoke

#[actix_web::test]
async fn retrieve_refresh_tokens() {
    let app = TestApp::start().await;
    let a = app.fusionauth_login("admin@vlsim.test", APP).await;
    app.fusionauth_login("admin@vlsim.test", APP2).await;
    let id = s(&a, "refreshTokenId");

    let r = app.get(&format!("{REFRESH}/{id}"), Some(API_KEY)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = &r.json()["refreshToken"];
    assert_eq!(t["id"], id);
    assert_eq!(t["userId"], ADMIN_ID);
    assert_eq!(t["applicationId"], APP);
    assert!(
        t["startInstant"].as_i64().unwrap() > 1_000_000_000_000,
        "milliseconds"
    );
    // "refreshToken.token: The string representation of the encoded Refresh Token", and
    // "metaData.scopes: The scopes associated with this Refresh Token" (none for the Login
    // API).
    assert_eq!(t["token"], a["refreshToken"]);
    assert_eq!(t["metaData"]["scopes"], json!([]));

    let listed = app.refresh_tokens(ADMIN_ID).await;
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().any(|t| t["token"] == a["refreshToken"]));
    assert!(app.refresh_tokens(OTHER_ID).await.is_empty());
    // The seed lists 200/401/500/503 for retrieve-by-user, no 404: a user that does not
    // exist simply has no refresh tokens.
    assert!(app
        .refresh_tokens(&uuid::Uuid::new_v4().to_string())
        .await
        .is_empty());

    // "refreshToken[x].metaData.device.lastAccessedAddress: The IP address of the device when
    // this Refresh Token was last used."
    let used = app
        .send(
            app.request(Method::POST, "/api/jwt/refresh", None)
                .header("X-Forwarded-For", "203.0.113.7")
                .json(&json!({"refreshToken": a["refreshToken"]})),
        )
        .await;
    assert_eq!(used.status, 200, "{}", used.text);
    let r = app.get(&format!("{REFRESH}/{id}"), Some(API_KEY)).await;
    assert_eq!(
        r.json()["refreshToken"]["metaData"]["device"]["lastAccessedAddress"],
        "203.0.113.7"
    );

    for (path, key, want) in [
        (format!("{REFRESH}/{id}"), None, Empty(401)),
        (format!("{REFRESH}/{id}"), Some("bad"), Empty(401)),
        (
            format!("{REFRESH}/{}", uuid::Uuid::new_v4()),
            Some(API_KEY),
            Empty(404),
        ),
        (
            format!("{REFRESH}/nope"),
            Some(API_KEY),
            Field("tokenId", "[couldNotConvert]tokenId"),
        ),
        (
            REFRESH.to_string(),
            Some(API_KEY),
            Field("userId", "[missing]userId"),
        ),
        (
            format!("{REFRESH}?userId=x"),
            Some(API_KEY),
            Field("userId", "[couldNotConvert]userId"),
        ),
    ] {
        app.expect(Method::GET, &path, key, &want).await;
    }
}

#[actix_web::test]
async fn revoke_every_variant() {
    let app = TestApp::start().await;
    let login =
        |email: &'static str, application: &'static str| app.fusionauth_login(email, application);
    let refresh_status = |body: &Value| {
        let rt = s(body, "refreshToken").to_string();
        let app = &app;
        async move { app.fusionauth_refresh(&rt).await.status }
    };

    // By id.
    let a = login("admin@vlsim.test", APP).await;
    let by_id = format!("{REFRESH}/{}", s(&a, "refreshTokenId"));
    app.delete(&by_id, Some(API_KEY)).await.assert_empty(200);
    assert_eq!(refresh_status(&a).await, 400);
    app.delete(&by_id, Some(API_KEY)).await.assert_empty(404);
    // Access tokens stay valid until they expire.
    assert_eq!(app.fusionauth_validate(s(&a, "token")).await.status, 200);

    // By value (query, URL-encoded by the client).
    let a = login("admin@vlsim.test", APP).await;
    let by_value = [("token", s(&a, "refreshToken"))];
    app.fusionauth_revoke(&by_value, Some(API_KEY))
        .await
        .assert_empty(200);
    assert_eq!(refresh_status(&a).await, 400);
    app.fusionauth_revoke(&by_value, Some(API_KEY))
        .await
        .assert_empty(404);

    // The TypeScript client sends unset arguments as the literal `undefined`.
    let a = login("admin@vlsim.test", APP).await;
    app.fusionauth_revoke(
        &[
            ("token", s(&a, "refreshToken")),
            ("userId", "undefined"),
            ("applicationId", "undefined"),
        ],
        Some(API_KEY),
    )
    .await
    .assert_empty(200);
    assert_eq!(refresh_status(&a).await, 400);

    // By value in a JSON body and in a form body.
    let a = login("admin@vlsim.test", APP).await;
    let r = app
        .send(
            app.request(Method::DELETE, REFRESH, Some(API_KEY))
                .json(&json!({"token": a["refreshToken"]})),
        )
        .await;
    r.assert_empty(200);
    let a = login("admin@vlsim.test", APP).await;
    let r = app
        .send(
            app.request(Method::DELETE, REFRESH, Some(API_KEY))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(format!("token={}", s(&a, "refreshToken"))),
        )
        .await;
    r.assert_empty(200);
    assert_eq!(app.refresh_tokens(ADMIN_ID).await.len(), 0);

    // By user + application: only that application's.
    login("admin@vlsim.test", APP).await;
    login("admin@vlsim.test", APP2).await;
    app.fusionauth_revoke(
        &[("userId", ADMIN_ID), ("applicationId", APP)],
        Some(API_KEY),
    )
    .await
    .assert_empty(200);
    assert_eq!(app.refresh_tokens(ADMIN_ID).await.len(), 1);
    // By user; then again, when the user has none left, which is fine.
    login("admin@vlsim.test", APP).await;
    for _ in 0..2 {
        app.fusionauth_revoke(&[("userId", ADMIN_ID)], Some(API_KEY))
            .await
            .assert_empty(200);
        assert_eq!(app.refresh_tokens(ADMIN_ID).await.len(), 0);
    }
    // By application.
    login("admin@vlsim.test", APP).await;
    login("user@vlsim.test", APP).await;
    login("admin@vlsim.test", APP2).await;
    app.fusionauth_revoke(&[("applicationId", APP)], Some(API_KEY))
        .await
        .assert_empty(200);
    assert_eq!(app.refresh_tokens(ADMIN_ID).await.len(), 1);
    assert_eq!(app.refresh_tokens(USER_ID).await.len(), 0);
    let types = app.event_types("fusionauth").await;
    assert!(types.contains(&"jwt.refresh-token.revoke".to_string()));

    // Errors. The seed's codes for revoke are 200/401/404/500/503: "404 The object you
    // requested doesn't exist", for an application or user that is not there.
    let unknown = uuid::Uuid::new_v4();
    for (path, key, want) in [
        (REFRESH.to_string(), Some(API_KEY), General("[invalid]")),
        (
            format!("{REFRESH}?applicationId={unknown}"),
            Some(API_KEY),
            Empty(404),
        ),
        (
            format!("{REFRESH}?userId={unknown}"),
            Some(API_KEY),
            Empty(404),
        ),
        (
            format!("{REFRESH}?userId={unknown}&applicationId={APP}"),
            Some(API_KEY),
            Empty(404),
        ),
        (
            format!("{REFRESH}?userId={ADMIN_ID}&applicationId={unknown}"),
            Some(API_KEY),
            Empty(404),
        ),
        (
            format!("{REFRESH}?userId=abc"),
            Some(API_KEY),
            Field("userId", "[couldNotConvert]userId"),
        ),
        (format!("{REFRESH}?userId={ADMIN_ID}"), None, Empty(401)),
        (
            format!("{REFRESH}?userId={ADMIN_ID}"),
            Some("bad"),
            Empty(401),
        ),
    ] {
        app.expect(Method::DELETE, &path, key, &want).await;
    }

    // A JWT may revoke its own token (by id or value), nobody else's, and not by user.
    let mine = login("user@vlsim.test", APP).await;
    let theirs = login("admin@vlsim.test", APP).await;
    let bearer = format!("Bearer {}", s(&mine, "token"));
    for (path, want) in [
        (format!("{REFRESH}/{}", s(&theirs, "refreshTokenId")), 404),
        (format!("{REFRESH}?userId={USER_ID}"), 401),
        (format!("{REFRESH}/{}", s(&mine, "refreshTokenId")), 200),
    ] {
        app.expect(Method::DELETE, &path, Some(&bearer), &Empty(want))
            .await;
    }
    assert_eq!(refresh_status(&theirs).await, 200);
}

// ---------------------------------------------------------------------------------------
// issue, vend, reconcile

#[actix_web::test]
async fn issue_exchanges_a_jwt_for_another_application() {
    let app = TestApp::start().await;
    let a = app.fusionauth_login("admin@vlsim.test", APP).await;
    let bearer = format!("Bearer {}", s(&a, "token"));
    let to_app2 = format!("/api/jwt/issue?applicationId={APP2}");

    let r = app.get(&to_app2, Some(&bearer)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert!(b.get("refreshToken").is_none());
    let c = app.fusionauth_verify(s(&b, "token")).await;
    assert_eq!(c["aud"], APP2);
    assert_eq!(c["applicationId"], APP2);
    assert_eq!(c["authenticationType"], "JWT_SSO");
    assert!(c["exp"].as_i64().unwrap() <= claims(s(&a, "token"))["exp"].as_i64().unwrap());
    assert!(r.cookies().is_empty(), "issue writes no cookies");

    // With the refresh token whose id is the JWT's sid: a new one for the target app.
    let r = app
        .send(
            app.request(Method::GET, "/api/jwt/issue", Some(&bearer))
                .query(&[
                    ("applicationId", APP2),
                    ("refreshToken", s(&a, "refreshToken")),
                ]),
        )
        .await;
    assert_eq!(r.status, 200);
    let refreshed = app
        .fusionauth_refresh(s(&r.json(), "refreshToken"))
        .await
        .json();
    assert_eq!(claims(s(&refreshed, "token"))["aud"], APP2);

    // "This value will only be returned if a valid non-expired refresh token was provided":
    // one of the same user from another login will do, and so it does with a JWT that has
    // no `sid` at all.
    let other_login = app.fusionauth_login("admin@vlsim.test", APP).await;
    let now = app.clock().now_secs();
    let no_sid = app.mint(
        RSA_KID,
        json!({"iss": "vlsim.test", "sub": ADMIN_ID, "tid": DEFAULT_TENANT, "iat": now, "exp": now + 600}),
    );
    for jwt in [s(&a, "token"), no_sid.as_str()] {
        let r = app
            .send(
                app.request(
                    Method::GET,
                    "/api/jwt/issue",
                    Some(&format!("Bearer {jwt}")),
                )
                .query(&[
                    ("applicationId", APP2),
                    ("refreshToken", s(&other_login, "refreshToken")),
                ]),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(r.json()["refreshToken"].is_string(), "{}", r.text);
    }
    // Another user's refresh token gives none.
    let u = app.fusionauth_login("user@vlsim.test", APP).await;
    let r = app
        .send(
            app.request(Method::GET, "/api/jwt/issue", Some(&bearer))
                .query(&[
                    ("applicationId", APP2),
                    ("refreshToken", s(&u, "refreshToken")),
                ]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json().get("refreshToken").is_none());

    // Not registered: 202, "the returned access token will not contain claims for an
    // application" — no roles, no applicationId, no aud.
    let r = app
        .get(&to_app2, Some(&format!("Bearer {}", s(&u, "token"))))
        .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let c = claims(s(&r.json(), "token"));
    assert!(
        c.get("roles").is_none() && c.get("applicationId").is_none() && c.get("aud").is_none(),
        "{c}"
    );

    // Errors.
    for (path, key, want) in [
        (to_app2.clone(), Some(API_KEY), Empty(401)),
        (to_app2.clone(), None, Empty(401)),
        (to_app2.clone(), Some("Bearer junk"), Empty(401)),
        (
            "/api/jwt/issue".to_string(),
            Some(bearer.as_str()),
            Field("applicationId", "[missing]applicationId"),
        ),
        (
            format!("/api/jwt/issue?applicationId={}", uuid::Uuid::new_v4()),
            Some(&bearer),
            Field("applicationId", "[invalid]applicationId"),
        ),
        // Another tenant's application is invisible.
        (
            format!("/api/jwt/issue?applicationId={APP_OTHER}"),
            Some(&bearer),
            Field("applicationId", "[invalid]applicationId"),
        ),
    ] {
        app.expect(Method::GET, &path, key, &want).await;
    }
    app.clock().advance(3600);
    app.get(&to_app2, Some(&bearer)).await.assert_empty(401);
}

#[actix_web::test]
async fn vend_signs_caller_claims() {
    let app = TestApp::start().await;
    let r = app.post(VEND,
        Some(API_KEY),
        json!({"claims": {"id": "abc", "iss": "vlsim.test", "exp": 1}, "timeToLiveInSeconds": 300}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = s(&r.json(), "token").to_string();
    let c = app.fusionauth_verify(&token).await;
    assert_eq!(c["id"], "abc");
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        300,
        "exp is reserved"
    );
    assert!(c["jti"].is_string());
    assert_eq!(app.fusionauth_validate(&token).await.status, 200);

    let r = app
        .post(
            VEND,
            Some(API_KEY),
            json!({"claims": {"sub": "x"}, "keyId": EC_KID}),
        )
        .await;
    let token = s(&r.json(), "token").to_string();
    let h = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!((h.alg, h.kid.as_deref()), (Algorithm::ES256, Some(EC_KID)));
    let c = app.fusionauth_verify(&token).await;
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );

    // "The only 'reserved' claims that cannot be specified are exp and iat": amr and cnf
    // are the caller's to set.
    let r = app
        .post(
            VEND,
            Some(API_KEY),
            json!({"claims": {"amr": ["pwd"], "cnf": {"jkt": "x"}, "iat": 1}}),
        )
        .await;
    let c = claims(s(&r.json(), "token"));
    assert_eq!(
        (&c["amr"], &c["cnf"]),
        (&json!(["pwd"]), &json!({"jkt": "x"}))
    );
    assert_ne!(c["iat"], 1);

    let a = app.fusionauth_login("admin@vlsim.test", APP).await;
    let bearer = format!("Bearer {}", s(&a, "token"));
    for (key, body, want) in [
        (
            Some(API_KEY),
            json!({"keyId": uuid::Uuid::new_v4()}),
            Field("keyId", "[invalid]keyId"),
        ),
        // "Any integer value greater than 0 is allowed."
        (
            Some(API_KEY),
            json!({"timeToLiveInSeconds": 0}),
            Field("timeToLiveInSeconds", "[invalid]timeToLiveInSeconds"),
        ),
        (
            Some(API_KEY),
            json!({"timeToLiveInSeconds": -1}),
            Field("timeToLiveInSeconds", "[invalid]timeToLiveInSeconds"),
        ),
        (
            Some(API_KEY),
            json!({"claims": "nope"}),
            Field("claims", "[couldNotConvert]claims"),
        ),
        (
            Some(API_KEY),
            json!({"timeToLiveInSeconds": "soon"}),
            Field(
                "timeToLiveInSeconds",
                "[couldNotConvert]timeToLiveInSeconds",
            ),
        ),
        (None, json!({}), Empty(401)),
        (Some("bad"), json!({}), Empty(401)),
        (Some(bearer.as_str()), json!({}), Empty(401)),
    ] {
        let r = app.post(VEND, key, body.clone()).await;
        r.assert_is(&want, &format!("{key:?} {body}"));
    }
}

#[actix_web::test]
async fn reconcile_external_jwt() {
    let app = TestApp::start().await;
    let reconcile = |body: Value| app.post("/api/jwt/reconcile", None, body);
    let now = app.clock().now_secs();
    let ext = external_jwt(
        EXTERNAL_SECRET,
        json!({"email": "new@external.test", "sub": "ext-1", "exp": now + 300}),
    );
    let body_with =
        |t: &str| json!({"applicationId": APP, "identityProviderId": IDP, "data": {"token": t}});
    let r = reconcile(body_with(&ext)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    let user_id = s(&b["user"], "id").to_string();
    assert_eq!(b["user"]["email"], "new@external.test");
    assert_eq!(b["user"]["registrations"][0]["roles"], json!(["user"]));
    // The User JSON carries the login just made and the creation as its last update.
    let last_login = b["user"]["lastLoginInstant"].as_i64().unwrap();
    assert_eq!(
        b["user"]["registrations"][0]["lastLoginInstant"],
        last_login
    );
    assert_eq!(b["user"]["lastUpdateInstant"], b["user"]["insertInstant"]);
    let c = app.fusionauth_verify(s(&b, "token")).await;
    assert_eq!(c["authenticationType"], "FEDERATED_JWT");
    assert_eq!(c["roles"], json!(["user"]));
    assert!(b["refreshToken"].is_string());
    assert!(r.cookies().iter().any(|c| c.starts_with("refresh_token=")));
    // Same user the second time; deprecated encodedJWT spelling accepted.
    let r = reconcile(json!({"applicationId": APP, "identityProviderId": IDP, "encodedJWT": ext}))
        .await;
    assert_eq!(r.json()["user"]["id"], user_id.as_str());
    // An existing fixture user is linked, not duplicated.
    let ext_admin = external_jwt(
        EXTERNAL_SECRET,
        json!({"email": "admin@vlsim.test", "exp": now + 300}),
    );
    let r = reconcile(body_with(&ext_admin)).await;
    assert_eq!(r.json()["user"]["id"], ADMIN_ID);
    let types = app.event_types("fusionauth").await;
    assert!(types.contains(&"user.create".to_string()));

    // Wrong secret, no unique claim, unknown provider / application, RS256, missing fields.
    let wrong = external_jwt(
        "another-secret",
        json!({"email": "x@external.test", "exp": now + 300}),
    );
    let no_email = external_jwt(EXTERNAL_SECRET, json!({"sub": "x", "exp": now + 300}));
    let rs = app.mint(
        RSA_KID,
        json!({"email": "x@external.test", "exp": now + 300}),
    );
    for (name, body, want) in [
        ("wrong secret", body_with(&wrong), Empty(401)),
        ("no unique claim", body_with(&no_email), Empty(401)),
        (
            "unknown provider",
            json!({"applicationId": APP, "identityProviderId": uuid::Uuid::new_v4(), "data": {"token": ext}}),
            Empty(401),
        ),
        (
            "unknown application",
            json!({"applicationId": uuid::Uuid::new_v4(), "identityProviderId": IDP, "data": {"token": ext}}),
            Empty(401),
        ),
        ("RS256", body_with(&rs), Empty(401)),
        (
            "no application",
            json!({"identityProviderId": IDP, "data": {"token": ext}}),
            Field("applicationId", "[missing]applicationId"),
        ),
        (
            "no token",
            json!({"applicationId": APP, "identityProviderId": IDP}),
            Field("data.token", "[missing]data.token"),
        ),
    ] {
        reconcile(body).await.assert_is(&want, name);
    }
    // Expired.
    app.clock().advance(301);
    reconcile(body_with(&ext)).await.assert_empty(401);
}

// ---------------------------------------------------------------------------------------
// keys

#[actix_web::test]
async fn public_keys_jwks_openid_and_key_api() {
    let app = TestApp::start().await;

    let r = app.get("/api/jwt/public-key", None).await;
    let keys = r.json()["publicKeys"].as_object().unwrap().clone();
    assert!(
        keys.contains_key(RSA_KID) && keys.contains_key(EC_KID) && !keys.contains_key(HMAC_KID)
    );
    assert!(keys[RSA_KID]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    let by_kid = app.fusionauth_public_key(&format!("kid={EC_KID}")).await;
    assert_eq!(by_kid, keys[EC_KID]);
    let by_app = app
        .fusionauth_public_key(&format!("applicationId={APP}"))
        .await;
    assert_eq!(by_app, keys[RSA_KID]);
    for (path, want) in [
        (format!("/api/jwt/public-key?kid={HMAC_KID}"), Empty(404)),
        ("/api/jwt/public-key?kid=unknown".to_string(), Empty(404)),
        (
            format!("/api/jwt/public-key?applicationId={}", uuid::Uuid::new_v4()),
            Empty(404),
        ),
        (
            "/api/jwt/public-key?applicationId=zzz".to_string(),
            Field("applicationId", "[couldNotConvert]applicationId"),
        ),
        (
            format!("/.well-known/openid-configuration/{}", uuid::Uuid::new_v4()),
            Empty(404),
        ),
    ] {
        app.expect(Method::GET, &path, None, &want).await;
    }

    let jwks = app.get("/.well-known/jwks.json", None).await.json();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&RSA_KID) && kids.contains(&EC_KID) && !kids.contains(&HMAC_KID));

    let oidc = app
        .get("/.well-known/openid-configuration", None)
        .await
        .json();
    // The Default tenant's OAuth issuer is "{origin}": the URL the client used.
    assert_eq!(oidc["issuer"], app.url());
    assert_eq!(oidc["jwks_uri"], app.at("/.well-known/jwks.json"));
    let r = app
        .send(
            app.request(Method::GET, "/.well-known/openid-configuration", None)
                .header("X-FusionAuth-TenantId", OTHER_TENANT),
        )
        .await;
    assert_eq!(r.json()["issuer"], "other.vlsim.test");
    let r = app
        .get(
            &format!("/.well-known/openid-configuration/{OTHER_TENANT}"),
            None,
        )
        .await;
    assert_eq!(r.json()["issuer"], "other.vlsim.test");

    // Key API: superuser sees private material; a tenant-locked key only public parts.
    let all = app.get("/api/key", Some(API_KEY)).await.json();
    let all = all["keys"].as_array().unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().any(|k| k["privateKey"].is_string()));
    assert!(all
        .iter()
        .any(|k| k["type"] == "HMAC" && k["secret"].is_string()));
    let limited = app.get("/api/key", Some(OTHER_KEY)).await.json();
    for k in limited["keys"].as_array().unwrap() {
        assert!(
            k.get("privateKey").is_none() && k.get("secret").is_none(),
            "{k}"
        );
    }
    let one = app
        .get(&format!("/api/key/{RSA_KID}"), Some(OTHER_KEY))
        .await
        .json();
    assert_eq!(one["key"]["algorithm"], "RS256");
    assert_eq!(one["key"]["publicKey"], keys[RSA_KID]);
    assert!(one["key"].get("privateKey").is_none());
    for (path, key, want) in [
        (
            format!("/api/key/{}", uuid::Uuid::new_v4()),
            Some(API_KEY),
            404,
        ),
        ("/api/key".to_string(), None, 401),
        ("/api/key".to_string(), Some("bad"), 401),
    ] {
        app.expect(Method::GET, &path, key, &Empty(want)).await;
    }
}

#[actix_web::test]
async fn application_selects_its_signing_key() {
    let app = TestApp::start_edited(&[(
        "# signing_key = \"40000000-0000-4000-8000-000000000002\"",
        "signing_key = \"40000000-0000-4000-8000-000000000002\"",
    )])
    .await;
    let b = app.fusionauth_login("admin@vlsim.test", APP2).await;
    let token = s(&b, "token");
    let h = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!((h.alg, h.kid.as_deref()), (Algorithm::ES256, Some(EC_KID)));
    assert_eq!(app.fusionauth_verify(token).await["aud"], APP2);
    assert_eq!(app.fusionauth_validate(token).await.status, 200);
    assert_eq!(
        app.fusionauth_public_key(&format!("applicationId={APP2}"))
            .await,
        app.fusionauth_public_key(&format!("kid={EC_KID}")).await
    );
    let r = app.fusionauth_refresh(s(&b, "refreshToken")).await;
    assert_eq!(
        jsonwebtoken::decode_header(s(&r.json(), "token"))
            .unwrap()
            .alg,
        Algorithm::ES256
    );
    app.stop().await;
}

// ---------------------------------------------------------------------------------------
// tenants

#[actix_web::test]
async fn tenant_locked_key_and_other_tenant_tokens_never_touch_default_data() {
    let app = TestApp::start().await;
    let admin = app.fusionauth_login("admin@vlsim.test", APP).await;
    let admin_rt = s(&admin, "refreshToken");
    let admin_id = s(&admin, "refreshTokenId");

    // Reads and writes of Default data with the Other-locked key: Default's users and
    // applications are as missing (no refresh tokens to list, nothing to revoke).
    let listed = app
        .get(&format!("{REFRESH}?userId={ADMIN_ID}"), Some(OTHER_KEY))
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json()["refreshTokens"], json!([]));
    for (method, path, want) in [
        (Method::GET, format!("{REFRESH}/{admin_id}"), Empty(404)),
        (
            Method::DELETE,
            format!("{REFRESH}?userId={ADMIN_ID}"),
            Empty(404),
        ),
        (
            Method::DELETE,
            format!("{REFRESH}?applicationId={APP}"),
            Empty(404),
        ),
        (Method::DELETE, format!("{REFRESH}/{admin_id}"), Empty(404)),
    ] {
        app.expect(method, &path, Some(OTHER_KEY), &want).await;
    }
    app.fusionauth_revoke(&[("token", admin_rt)], Some(OTHER_KEY))
        .await
        .assert_empty(404);
    assert_eq!(
        app.fusionauth_refresh(admin_rt).await.status,
        200,
        "still alive"
    );
    // Login into a Default application with the Other-locked key.
    for (body, want) in [
        (
            json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": APP}),
            Field("applicationId", "[invalid]applicationId"),
        ),
        (
            json!({"loginId": "admin@vlsim.test", "password": "password"}),
            Empty(404),
        ),
    ] {
        let r = app.post(LOGIN, Some(OTHER_KEY), body.clone()).await;
        r.assert_is(&want, &body.to_string());
    }
    // A locked key with a different tenant header.
    let r = app
        .send(
            app.request(
                Method::GET,
                &format!("{REFRESH}?userId={OTHER_ID}"),
                Some(OTHER_KEY),
            )
            .header("X-FusionAuth-TenantId", DEFAULT_TENANT),
        )
        .await;
    r.assert_empty(401);
    // The Other tenant's own data works with its key.
    let other = app
        .fusionauth_login_with(OTHER_KEY, "other@vlsim.test", APP_OTHER)
        .await;
    let c = claims(s(&other, "token"));
    assert_eq!(
        (c["iss"].as_str(), c["tid"].as_str()),
        (Some("other.vlsim.test"), Some(OTHER_TENANT))
    );
    let r = app
        .get(&format!("{REFRESH}?userId={OTHER_ID}"), Some(OTHER_KEY))
        .await;
    assert_eq!(r.json()["refreshTokens"].as_array().unwrap().len(), 1);
    // An Other-tenant token is refused when the request is scoped to Default...
    let bearer = format!("Bearer {}", s(&other, "token"));
    let r = app
        .send(
            app.request(Method::GET, "/api/jwt/validate", Some(&bearer))
                .header("X-FusionAuth-TenantId", DEFAULT_TENANT),
        )
        .await;
    r.assert_empty(401);
    // ...cannot issue for a Default application, nor revoke Default tokens.
    for (method, path, want) in [
        (
            Method::GET,
            format!("/api/jwt/issue?applicationId={APP}"),
            Field("applicationId", "[invalid]applicationId"),
        ),
        (Method::DELETE, format!("{REFRESH}/{admin_id}"), Empty(404)),
    ] {
        app.expect(method, &path, Some(&bearer), &want).await;
    }
    // A Default refresh token presented in the Other tenant's scope is unknown there.
    let r = app
        .send(
            app.request(Method::POST, REFRESH, None)
                .header("X-FusionAuth-TenantId", OTHER_TENANT)
                .json(&json!({"refreshToken": admin_rt})),
        )
        .await;
    assert_eq!(r.field_code("refreshToken"), "[invalid]refreshToken");
    assert_eq!(app.fusionauth_refresh(admin_rt).await.status, 200);
}

#[actix_web::test]
async fn logout_revokes_and_clears_cookies() {
    let app = TestApp::start().await;
    let a = app.fusionauth_login("admin@vlsim.test", APP).await;
    let b = app.fusionauth_login("admin@vlsim.test", APP2).await;
    let r = app
        .send(
            app.request(Method::POST, "/api/logout", None)
                .query(&[("refreshToken", s(&a, "refreshToken"))]),
        )
        .await;
    r.assert_empty(200);
    // Both cookies are cleared: empty, and expired at once.
    for name in ["access_token", "refresh_token"] {
        let cookies = r.cookies();
        assert!(
            cookies
                .iter()
                .any(|c| c.starts_with(&format!("{name}=;")) && c.contains("Max-Age=0")),
            "{name} not cleared: {cookies:?}"
        );
    }
    for (body, want) in [(&a, 400), (&b, 200)] {
        let r = app.fusionauth_refresh(s(body, "refreshToken")).await;
        assert_eq!(r.status, want, "{}", r.text);
    }
    let c = app.fusionauth_login("admin@vlsim.test", APP).await;
    app.post(
        "/api/logout",
        None,
        json!({"global": true, "refreshToken": c["refreshToken"]}),
    )
    .await
    .assert_empty(200);
    assert!(app.refresh_tokens(ADMIN_ID).await.is_empty());
}

#[actix_web::test]
async fn health_lists_the_surface_and_wrong_methods_are_not_500() {
    let app = TestApp::start().await;
    let (_, h) = app.get_json("/_vlsim/health").await;
    assert!(h["surfaces"]
        .as_array()
        .unwrap()
        .contains(&json!("fusionauth")));
    for (method, path, key) in [
        (Method::PUT, REFRESH, Some(API_KEY)),
        (Method::GET, LOGIN, None),
    ] {
        let r = app.send(app.request(method, path, key)).await;
        assert!(r.status < 500, "{path}: {}", r.status);
    }
}

#[actix_web::test]
async fn sliding_window_and_application_switches() {
    let app = TestApp::start_edited(&[
        ("refresh_token_ttl_minutes = 43200", "refresh_token_ttl_minutes = 10"),
        (
            "refresh_token_expiration_policy = \"Fixed\"",
            "refresh_token_expiration_policy = \"SlidingWindow\"",
        ),
        // "other" (Other tenant) may not refresh; "vlsim-second" issues no refresh tokens.
        (
            "tenant = \"10000000-0000-4000-8000-000000000002\"\nroles = [\"user\"]\n",
            "tenant = \"10000000-0000-4000-8000-000000000002\"\nroles = [\"user\"]\nallow_token_refresh = false\n",
        ),
        (
            "[fusionauth.applications.jwt]\nrefresh_token_usage_policy = \"OneTimeUse\"",
            "generate_refresh_tokens = false\n[fusionauth.applications.jwt]\nrefresh_token_usage_policy = \"OneTimeUse\"",
        ),
    ])
    .await;

    // SlidingWindow: each refresh moves the 10-minute window.
    let a = app.fusionauth_login("admin@vlsim.test", APP).await;
    let rt = s(&a, "refreshToken");
    for _ in 0..3 {
        app.clock().advance(9 * 60);
        assert_eq!(app.fusionauth_refresh(rt).await.status, 200);
    }
    app.clock().advance(10 * 60 + 1);
    assert_eq!(
        app.fusionauth_refresh(rt).await.field_code("refreshToken"),
        "[invalid]refreshToken"
    );

    // generate_refresh_tokens = false: a token but no refresh token.
    let b = app.fusionauth_login("admin@vlsim.test", APP2).await;
    assert!(b["token"].is_string());
    assert!(b.get("refreshToken").is_none() && b.get("refreshTokenId").is_none());
    assert!(claims(s(&b, "token")).get("sid").is_none());

    // allow_token_refresh = false.
    let o = app
        .fusionauth_login_with(OTHER_KEY, "other@vlsim.test", APP_OTHER)
        .await;
    let r = app.fusionauth_refresh(s(&o, "refreshToken")).await;
    assert_eq!(r.field_code("refreshToken"), "[disabled]refreshToken");
}

#[actix_web::test]
async fn broken_fusionauth_fixtures_are_refused_at_start() {
    let text = vlsim::fixtures::EMBEDDED_DEFAULT;
    let (world, _) = vlsim::fixtures::parse(text, "t", None).unwrap();
    assert_eq!(world.fusionauth.tenants.len(), 2);
    assert_eq!(world.fusionauth.applications.len(), 3);
    assert_eq!(world.fusionauth.users.len(), 3);
    assert_eq!(world.fusionauth.api_keys.len(), 2);
    assert_eq!(world.fusionauth.identity_providers.len(), 1);
    let bad = text.replacen(
        "issuer = \"vlsim.test\"",
        "issuer = \"vlsim.test\"\nbogus_field = 1",
        1,
    );
    let err = vlsim::fixtures::parse(&bad, "t", None).unwrap_err();
    assert!(err.to_string().contains("bogus_field"), "{err}");

    // Semantic errors stop the start: an unknown signing key.
    let (_dir, config) = edited_world(&[(
        "# signing_key = \"40000000-0000-4000-8000-000000000002\"",
        "signing_key = \"40000000-0000-4000-8000-00000000ffff\"",
    )]);
    let err = vlsim::Application::build(config, vlsim::clock::Clock::new())
        .err()
        .unwrap();
    assert!(err.to_string().contains("signing_key"), "{err}");
}
