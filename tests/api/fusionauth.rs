//! FusionAuth-style REST surface, at the wire: a real server on 127.0.0.1:0.

use crate::helpers::http;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use vlsim::testkit::Vlsim;

const DEFAULT_TENANT: &str = "10000000-0000-4000-8000-000000000001";
const OTHER_TENANT: &str = "10000000-0000-4000-8000-000000000002";
const APP: &str = "20000000-0000-4000-8000-000000000001";
const APP2: &str = "20000000-0000-4000-8000-000000000002";
const APP_OTHER: &str = "20000000-0000-4000-8000-000000000003";
const ADMIN_ID: &str = "30000000-0000-4000-8000-000000000001";
const USER_ID: &str = "30000000-0000-4000-8000-000000000002";
const OTHER_ID: &str = "30000000-0000-4000-8000-000000000003";
const RSA: &str = "40000000-0000-4000-8000-000000000001";
const EC: &str = "40000000-0000-4000-8000-000000000002";
const HMAC: &str = "40000000-0000-4000-8000-000000000003";
const IDP: &str = "50000000-0000-4000-8000-000000000001";
const API_KEY: &str = "vlsim-api-key";
const OTHER_KEY: &str = "vlsim-other-tenant-key";
const EXTERNAL_SECRET: &str = "vlsim-external-secret";

/// A client without a cookie jar, so cookies are only what a test sends.
struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {:?}", self.status, self.text))
    }

    /// The code of the only field error of `field`.
    fn field_code(&self, field: &str) -> String {
        assert_eq!(self.status, 400, "{}", self.text);
        self.json()["fieldErrors"][field][0]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no field error for {field}: {}", self.text))
            .to_string()
    }

    fn general_code(&self) -> String {
        assert_eq!(self.status, 400, "{}", self.text);
        self.json()["generalErrors"][0]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no general error: {}", self.text))
            .to_string()
    }

    fn assert_empty(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.text);
        assert!(
            self.text.is_empty(),
            "expected an empty body: {}",
            self.text
        );
    }

    fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
}

async fn send(rb: RequestBuilder) -> Reply {
    let res = rb.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.unwrap();
    Reply {
        status,
        headers,
        text,
    }
}

fn req(url: &str, method: Method, path: &str, key: Option<&str>) -> RequestBuilder {
    let rb = http().request(method, format!("{url}{path}"));
    match key {
        Some(k) => rb.header("Authorization", k),
        None => rb,
    }
}

async fn post(url: &str, path: &str, key: Option<&str>, body: Value) -> Reply {
    send(req(url, Method::POST, path, key).json(&body)).await
}

async fn get(url: &str, path: &str, key: Option<&str>) -> Reply {
    send(req(url, Method::GET, path, key)).await
}

async fn delete(url: &str, path: &str, key: Option<&str>) -> Reply {
    send(req(url, Method::DELETE, path, key)).await
}

async fn validate(url: &str, token: &str) -> Reply {
    send(req(
        url,
        Method::GET,
        "/api/jwt/validate",
        Some(&format!("Bearer {token}")),
    ))
    .await
}

/// Logs in with the superuser key; asserts 200 and returns the body.
async fn login(url: &str, email: &str, app: &str) -> Value {
    let r = post(
        url,
        "/api/login",
        Some(API_KEY),
        json!({"loginId": email, "password": "password", "applicationId": app}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

async fn refresh(url: &str, token: &str) -> Reply {
    post(
        url,
        "/api/jwt/refresh",
        None,
        json!({ "refreshToken": token }),
    )
    .await
}

fn claims(token: &str) -> Value {
    crate::helpers::claims(token)
}

/// Verifies `token` using only the published JWKS.
async fn verify_with_jwks(url: &str, token: &str) -> Value {
    let jwks = get(url, "/.well-known/jwks.json", None).await.json();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .unwrap_or_else(|| panic!("kid {kid} not in the JWKS"));
    let (key, alg) = match jwk["kty"].as_str().unwrap() {
        "RSA" => (
            DecodingKey::from_rsa_components(
                jwk["n"].as_str().unwrap(),
                jwk["e"].as_str().unwrap(),
            )
            .unwrap(),
            Algorithm::RS256,
        ),
        _ => (
            DecodingKey::from_ec_components(jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap())
                .unwrap(),
            Algorithm::ES256,
        ),
    };
    let mut v = Validation::new(alg);
    v.validate_aud = false;
    v.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap()
        .claims
}

async fn event_types(url: &str) -> Vec<String> {
    let r = get(url, "/_vlsim/events?surface=fusionauth&limit=1000", None).await;
    r.json()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// Signs `claims` with a key of the server's ring (to forge otherwise-valid tokens).
fn mint_with_ring(server: &Vlsim, key_id: &str, claims: Value) -> String {
    let key = server.core().key_ring().get(key_id).unwrap();
    vlsim::core::tokens::mint(&key, claims.as_object().unwrap()).unwrap()
}

fn external_jwt(secret: &str, claims: Value) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

// ---------------------------------------------------------------------------------------
// login

#[actix_web::test]
async fn login_returns_tokens_claims_cookies_and_event() {
    let server = Vlsim::start().await;
    let url = server.url();
    let r = post(
        url,
        "/api/login",
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
    let token = body["token"].as_str().unwrap();
    let refresh_token = body["refreshToken"].as_str().unwrap();
    assert!(refresh_token.len() >= 40);
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(header.kid.as_deref(), Some(RSA));
    let c = verify_with_jwks(url, token).await;
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
    assert!(event_types(url)
        .await
        .contains(&"user.login.success".to_string()));

    // The refresh token's metadata kept the device.
    let id = body["refreshTokenId"].as_str().unwrap();
    let got = get(url, &format!("/api/jwt/refresh/{id}"), Some(API_KEY)).await;
    assert_eq!(
        got.json()["refreshToken"]["metaData"]["device"]["name"],
        "laptop"
    );
}

#[actix_web::test]
async fn login_error_paths() {
    let server = Vlsim::start().await;
    let url = server.url();
    let body =
        |login: &str, pw: &str| json!({"loginId": login, "password": pw, "applicationId": APP});

    post(
        url,
        "/api/login",
        Some(API_KEY),
        body("admin@vlsim.test", "nope"),
    )
    .await
    .assert_empty(404);
    assert!(event_types(url)
        .await
        .contains(&"user.login.failed".to_string()));
    post(
        url,
        "/api/login",
        Some(API_KEY),
        body("ghost@vlsim.test", "password"),
    )
    .await
    .assert_empty(404);
    // The application requires an API key; a wrong key is always 401.
    post(
        url,
        "/api/login",
        None,
        body("admin@vlsim.test", "password"),
    )
    .await
    .assert_empty(401);
    post(
        url,
        "/api/login",
        Some("wrong-key"),
        body("admin@vlsim.test", "password"),
    )
    .await
    .assert_empty(401);

    let r = post(
        url,
        "/api/login",
        Some(API_KEY),
        json!({"password": "password"}),
    )
    .await;
    assert_eq!(r.field_code("loginId"), "[blank]loginId");
    let r = post(
        url,
        "/api/login",
        Some(API_KEY),
        json!({"loginId": "admin@vlsim.test", "password": ""}),
    )
    .await;
    assert_eq!(r.field_code("password"), "[blank]password");
    let r = post(
        url,
        "/api/login",
        Some(API_KEY),
        json!({"loginId": 5, "password": "x"}),
    )
    .await;
    assert_eq!(r.field_code("loginId"), "[couldNotConvert]loginId");
    let r = post(
        url,
        "/api/login",
        Some(API_KEY),
        json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": "nope"}),
    )
    .await;
    assert_eq!(
        r.field_code("applicationId"),
        "[couldNotConvert]applicationId"
    );
    let r = post(
        url,
        "/api/login",
        Some(API_KEY),
        json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(r.field_code("applicationId"), "[invalid]applicationId");
    let r = post(
        url,
        "/api/login",
        Some(API_KEY),
        json!({"loginId": "admin@vlsim.test", "password": "password", "noJWT": "maybe"}),
    )
    .await;
    assert_eq!(r.field_code("noJWT"), "[couldNotConvert]noJWT");

    // Malformed JSON, a non-object, and an oversized body: 400 with an Errors body.
    for raw in ["{\"loginId\": ", "[1,2]", "not json"] {
        let r = send(
            req(url, Method::POST, "/api/login", Some(API_KEY))
                .header("Content-Type", "application/json")
                .body(raw),
        )
        .await;
        assert_eq!(r.general_code(), "[invalidJSON]", "{raw}");
    }
    let huge = format!("{{\"loginId\": \"{}\"}}", "a".repeat(2 * 1024 * 1024));
    let r = send(
        req(url, Method::POST, "/api/login", Some(API_KEY))
            .header("Content-Type", "application/json")
            .body(huge),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.json()["generalErrors"].is_array());

    // No application and no tenant: FusionAuth cannot tell which tenant's user is meant.
    let r = post(
        url,
        "/api/login",
        Some(API_KEY),
        json!({"loginId": "admin@vlsim.test", "password": "password"}),
    )
    .await;
    assert_eq!(r.general_code(), "[TenantIdRequired]");
    // With the tenant header: a token without application claims and no refresh token.
    let r = send(
        req(url, Method::POST, "/api/login", Some(API_KEY))
            .header("X-FusionAuth-TenantId", DEFAULT_TENANT)
            .json(&json!({"loginId": "admin@vlsim.test", "password": "password"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert!(b.get("refreshToken").is_none());
    let c = claims(b["token"].as_str().unwrap());
    assert!(c.get("aud").is_none() && c.get("roles").is_none());
    // Bad tenant header.
    let r = send(
        req(url, Method::POST, "/api/login", Some(API_KEY))
            .header("X-FusionAuth-TenantId", "nope")
            .json(&json!({"loginId": "admin@vlsim.test", "password": "password"})),
    )
    .await;
    assert_eq!(r.field_code("tenantId"), "[couldNotConvert]tenantId");

    // Authenticated but not registered to the application: 202, no application claims.
    let r = post(
        url,
        "/api/login",
        Some(API_KEY),
        json!({"loginId": "user@vlsim.test", "password": "password", "applicationId": APP2}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    let b = r.json();
    assert!(b.get("refreshToken").is_none());
    let c = claims(b["token"].as_str().unwrap());
    assert_eq!(c["aud"], APP2);
    assert!(c.get("roles").is_none() && c.get("applicationId").is_none());

    // noJWT: the user only.
    let r = post(
        url,
        "/api/login",
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
    let server = Vlsim::start().await;
    let url = server.url();
    let body = login(url, "admin@vlsim.test", APP).await;
    let token = body["token"].as_str().unwrap();

    let r = validate(url, token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let jwt = &r.json()["jwt"];
    assert_eq!(jwt["sub"], ADMIN_ID);
    assert_eq!(jwt["roles"], json!(["admin"]));
    assert!(
        jwt["exp"].as_i64().unwrap() < 10_000_000_000,
        "seconds, not ms"
    );

    // The access_token cookie works as well.
    let r = send(
        req(url, Method::GET, "/api/jwt/validate", None)
            .header("Cookie", format!("access_token={token}")),
    )
    .await;
    assert_eq!(r.status, 200);

    // Missing, API key instead of JWT, garbage.
    get(url, "/api/jwt/validate", None).await.assert_empty(401);
    get(url, "/api/jwt/validate", Some(API_KEY))
        .await
        .assert_empty(401);
    validate(url, "not.a.jwt").await.assert_empty(401);

    // Forged signature: payload changed, signature kept.
    let parts: Vec<&str> = token.split('.').collect();
    let mut c = claims(token);
    c["roles"] = json!(["superadmin"]);
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&c).unwrap()),
        parts[2]
    );
    validate(url, &forged).await.assert_empty(401);

    // alg none.
    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        parts[1]
    );
    validate(url, &none).await.assert_empty(401);

    // HS256 signed with the RSA public key PEM (RS/HS confusion), claiming the RSA kid.
    let pem = get(url, &format!("/api/jwt/public-key?kid={RSA}"), None)
        .await
        .json()["publicKey"]
        .as_str()
        .unwrap()
        .to_string();
    let mut h = Header::new(Algorithm::HS256);
    h.kid = Some(RSA.into());
    let confused = jsonwebtoken::encode(
        &h,
        &claims(token),
        &EncodingKey::from_secret(pem.as_bytes()),
    )
    .unwrap();
    validate(url, &confused).await.assert_empty(401);

    // Signed by our key, but from an untrusted issuer.
    let now = server.clock().now_secs();
    let evil = mint_with_ring(
        &server,
        RSA,
        json!({"iss": "evil.test", "sub": ADMIN_ID, "iat": now, "exp": now + 60}),
    );
    validate(url, &evil).await.assert_empty(401);
    // Not valid yet.
    let early = mint_with_ring(
        &server,
        RSA,
        json!({"iss": "vlsim.test", "sub": ADMIN_ID, "iat": now, "nbf": now + 600, "exp": now + 3600}),
    );
    validate(url, &early).await.assert_empty(401);
    // HMAC-signed tokens of the ring validate too (any key this instance holds).
    let hs = mint_with_ring(
        &server,
        HMAC,
        json!({"iss": "vlsim.test", "sub": ADMIN_ID, "exp": now + 60}),
    );
    assert_eq!(validate(url, &hs).await.status, 200);

    // Expired, by the server clock.
    server.clock().advance(3600);
    validate(url, token).await.assert_empty(401);
}

#[actix_web::test]
async fn soap_generated_token_validates_and_verifies_with_jwks() {
    let server = Vlsim::start().await;
    let url = server.url();
    let c = crate::helpers::logged_in(url, "administrator").await;
    let (token, _) =
        crate::helpers::generate(&c, url, Some("<validityTime>10</validityTime>")).await;
    let r = validate(url, &token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["jwt"]["iss"], "cs1.vlsim.test");
    assert_eq!(r.json()["jwt"]["sub"], "VLSIM\\administrator");
    let verified = verify_with_jwks(url, &token).await;
    assert_eq!(verified["iss"], "cs1.vlsim.test");
    server.clock().advance(601);
    validate(url, &token).await.assert_empty(401);
}

// ---------------------------------------------------------------------------------------
// refresh

#[actix_web::test]
async fn refresh_reusable_cookie_form_and_errors() {
    let server = Vlsim::start().await;
    let url = server.url();
    let body = login(url, "admin@vlsim.test", APP).await;
    let rt = body["refreshToken"].as_str().unwrap();
    let id = body["refreshTokenId"].as_str().unwrap();

    let r = post(
        url,
        "/api/jwt/refresh",
        None,
        json!({"refreshToken": rt, "token": body["token"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert_eq!(b["refreshToken"], rt, "Reusable keeps the string");
    // The previous access token is relayed in the jwt.refresh event, as FusionAuth's
    // webhook does with `original`.
    let events = get(url, "/_vlsim/events?type=jwt.refresh", None)
        .await
        .json();
    assert_eq!(events["events"][0]["details"]["original"], body["token"]);
    assert_eq!(b["refreshTokenId"], id);
    let c = verify_with_jwks(url, b["token"].as_str().unwrap()).await;
    assert_eq!(c["authenticationType"], "REFRESH_TOKEN");
    assert_eq!(c["sid"], id);
    assert_eq!(c["roles"], json!(["admin"]));
    assert!(r.cookies().iter().any(|c| c.starts_with("access_token=")));
    // Again: still good.
    assert_eq!(refresh(url, rt).await.status, 200);

    // Cookie form, and the cookie wins over the body.
    let r = send(
        req(url, Method::POST, "/api/jwt/refresh", None)
            .header("Cookie", format!("refresh_token={rt}"))
            .json(&json!({"refreshToken": "bogus"})),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Shorter TTL on request; longer is refused.
    let r = post(
        url,
        "/api/jwt/refresh",
        None,
        json!({"refreshToken": rt, "timeToLiveInSeconds": 60}),
    )
    .await;
    let c = claims(r.json()["token"].as_str().unwrap());
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 60);
    let r = post(
        url,
        "/api/jwt/refresh",
        None,
        json!({"refreshToken": rt, "timeToLiveInSeconds": 99999}),
    )
    .await;
    assert_eq!(
        r.field_code("timeToLiveInSeconds"),
        "[invalid]timeToLiveInSeconds"
    );

    let r = post(url, "/api/jwt/refresh", None, json!({})).await;
    assert_eq!(r.field_code("refreshToken"), "[missing]refreshToken");
    let r = refresh(url, "not-a-token").await;
    assert_eq!(r.field_code("refreshToken"), "[invalid]refreshToken");
    let r = post(url, "/api/jwt/refresh", None, json!({"refreshToken": 42})).await;
    assert_eq!(
        r.field_code("refreshToken"),
        "[couldNotConvert]refreshToken"
    );
    assert!(event_types(url).await.contains(&"jwt.refresh".to_string()));

    // Fixed expiry: 43200 minutes after the login, whatever the refreshes.
    server.clock().advance(43_200 * 60 - 10);
    assert_eq!(refresh(url, rt).await.status, 200);
    server.clock().advance(11);
    let r = refresh(url, rt).await;
    assert_eq!(r.field_code("refreshToken"), "[invalid]refreshToken");
    get(url, &format!("/api/jwt/refresh/{id}"), Some(API_KEY))
        .await
        .assert_empty(404);
}

#[actix_web::test]
async fn refresh_one_time_use_rotates() {
    let server = Vlsim::start().await;
    let url = server.url();
    let body = login(url, "admin@vlsim.test", APP2).await;
    let rt = body["refreshToken"].as_str().unwrap();
    let id = body["refreshTokenId"].as_str().unwrap();
    let r = refresh(url, rt).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    let rotated = b["refreshToken"].as_str().unwrap();
    assert_ne!(rotated, rt);
    assert_eq!(b["refreshTokenId"], id, "the id survives rotation");
    assert_eq!(
        refresh(url, rt).await.field_code("refreshToken"),
        "[invalid]refreshToken"
    );
    let r = refresh(url, rotated).await;
    assert_eq!(r.status, 200);
    assert_ne!(r.json()["refreshToken"], rotated);
    // Retrieval by id still finds it.
    assert_eq!(
        get(url, &format!("/api/jwt/refresh/{id}"), Some(API_KEY))
            .await
            .status,
        200
    );
}

#[actix_web::test]
async fn concurrent_one_time_refreshes_have_one_winner() {
    // Several workers, so the refreshes really run in parallel on different threads.
    let dir = tempfile::tempdir().unwrap();
    let mut config = vlsim::config::Config::for_tests(dir.path());
    config.workers = Some(8);
    let server = Vlsim::start_with(config).await;
    let url = server.url().to_string();
    let body = login(&url, "admin@vlsim.test", APP2).await;
    let rt = body["refreshToken"].as_str().unwrap().to_string();
    let mut tasks = Vec::new();
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(100));
    for _ in 0..100 {
        let (url, rt, barrier) = (url.clone(), rt.clone(), barrier.clone());
        tasks.push(std::thread::spawn(move || {
            let rt_ = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt_.block_on(async move {
                let client = http();
                barrier.wait().await;
                client
                    .post(format!("{url}/api/jwt/refresh"))
                    .json(&json!({ "refreshToken": rt }))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
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
    server.stop().await;
}

#[actix_web::test]
async fn refresh_tokens_survive_restart_and_revocations_stick() {
    let server = Vlsim::start().await;
    let url = server.url().to_string();
    let keep = login(&url, "admin@vlsim.test", APP).await;
    let gone = login(&url, "user@vlsim.test", APP).await;
    let rotating = login(&url, "admin@vlsim.test", APP2).await;
    let rotated = refresh(&url, rotating["refreshToken"].as_str().unwrap())
        .await
        .json();
    let r = delete(
        &url,
        &format!(
            "/api/jwt/refresh/{}",
            gone["refreshTokenId"].as_str().unwrap()
        ),
        Some(API_KEY),
    )
    .await;
    assert_eq!(r.status, 200);
    let temp = server.stop().await.unwrap();

    let again = Vlsim::start_with(vlsim::config::Config::for_tests(temp.path())).await;
    let url = again.url().to_string();
    assert_eq!(
        refresh(&url, keep["refreshToken"].as_str().unwrap())
            .await
            .status,
        200
    );
    assert_eq!(
        refresh(&url, gone["refreshToken"].as_str().unwrap())
            .await
            .status,
        400
    );
    assert_eq!(
        refresh(&url, rotating["refreshToken"].as_str().unwrap())
            .await
            .status,
        400
    );
    assert_eq!(
        refresh(&url, rotated["refreshToken"].as_str().unwrap())
            .await
            .status,
        200
    );
    again.stop().await;
    drop(temp);
}

// ---------------------------------------------------------------------------------------
// retrieve and revoke

#[actix_web::test]
async fn retrieve_refresh_tokens() {
    let server = Vlsim::start().await;
    let url = server.url();
    let a = login(url, "admin@vlsim.test", APP).await;
    login(url, "admin@vlsim.test", APP2).await;
    let id = a["refreshTokenId"].as_str().unwrap();

    let r = get(url, &format!("/api/jwt/refresh/{id}"), Some(API_KEY)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = &r.json()["refreshToken"];
    assert_eq!(t["id"], id);
    assert_eq!(t["userId"], ADMIN_ID);
    assert_eq!(t["applicationId"], APP);
    assert!(
        t["startInstant"].as_i64().unwrap() > 1_000_000_000_000,
        "milliseconds"
    );
    assert!(t.get("token").is_none(), "only the hash is stored");

    let r = get(
        url,
        &format!("/api/jwt/refresh?userId={ADMIN_ID}"),
        Some(API_KEY),
    )
    .await;
    assert_eq!(r.json()["refreshTokens"].as_array().unwrap().len(), 2);
    let r = get(
        url,
        &format!("/api/jwt/refresh?userId={OTHER_ID}"),
        Some(API_KEY),
    )
    .await;
    assert_eq!(r.json()["refreshTokens"], json!([]));

    get(url, &format!("/api/jwt/refresh/{id}"), None)
        .await
        .assert_empty(401);
    get(url, &format!("/api/jwt/refresh/{id}"), Some("bad"))
        .await
        .assert_empty(401);
    get(
        url,
        &format!("/api/jwt/refresh/{}", uuid::Uuid::new_v4()),
        Some(API_KEY),
    )
    .await
    .assert_empty(404);
    let r = get(url, "/api/jwt/refresh/nope", Some(API_KEY)).await;
    assert_eq!(r.field_code("tokenId"), "[couldNotConvert]tokenId");
    let r = get(url, "/api/jwt/refresh", Some(API_KEY)).await;
    assert_eq!(r.field_code("userId"), "[missing]userId");
    let r = get(
        url,
        &format!("/api/jwt/refresh?userId={}", uuid::Uuid::new_v4()),
        Some(API_KEY),
    )
    .await;
    assert_eq!(r.field_code("userId"), "[invalid]userId");
    let r = get(url, "/api/jwt/refresh?userId=x", Some(API_KEY)).await;
    assert_eq!(r.field_code("userId"), "[couldNotConvert]userId");
}

#[actix_web::test]
async fn revoke_every_variant() {
    let server = Vlsim::start().await;
    let url = server.url();
    let tokens_of = |user: &'static str| async move {
        get(
            url,
            &format!("/api/jwt/refresh?userId={user}"),
            Some(API_KEY),
        )
        .await
        .json()["refreshTokens"]
            .as_array()
            .unwrap()
            .len()
    };

    // By id.
    let a = login(url, "admin@vlsim.test", APP).await;
    let r = delete(
        url,
        &format!("/api/jwt/refresh/{}", a["refreshTokenId"].as_str().unwrap()),
        Some(API_KEY),
    )
    .await;
    r.assert_empty(200);
    assert_eq!(
        refresh(url, a["refreshToken"].as_str().unwrap())
            .await
            .status,
        400
    );
    delete(
        url,
        &format!("/api/jwt/refresh/{}", a["refreshTokenId"].as_str().unwrap()),
        Some(API_KEY),
    )
    .await
    .assert_empty(404);
    // Access tokens stay valid until they expire.
    assert_eq!(
        validate(url, a["token"].as_str().unwrap()).await.status,
        200
    );

    // By value (query, URL-encoded by the client).
    let a = login(url, "admin@vlsim.test", APP).await;
    let rt = a["refreshToken"].as_str().unwrap();
    let r =
        send(req(url, Method::DELETE, "/api/jwt/refresh", Some(API_KEY)).query(&[("token", rt)]))
            .await;
    r.assert_empty(200);
    assert_eq!(refresh(url, rt).await.status, 400);
    let r =
        send(req(url, Method::DELETE, "/api/jwt/refresh", Some(API_KEY)).query(&[("token", rt)]))
            .await;
    r.assert_empty(404);

    // The TypeScript client sends unset arguments as the literal `undefined`.
    let a = login(url, "admin@vlsim.test", APP).await;
    let r = send(
        req(url, Method::DELETE, "/api/jwt/refresh", Some(API_KEY)).query(&[
            ("token", a["refreshToken"].as_str().unwrap()),
            ("userId", "undefined"),
            ("applicationId", "undefined"),
        ]),
    )
    .await;
    r.assert_empty(200);
    assert_eq!(
        refresh(url, a["refreshToken"].as_str().unwrap())
            .await
            .status,
        400
    );

    // By value in a JSON body and in a form body.
    let a = login(url, "admin@vlsim.test", APP).await;
    let r = send(
        req(url, Method::DELETE, "/api/jwt/refresh", Some(API_KEY))
            .json(&json!({"token": a["refreshToken"]})),
    )
    .await;
    r.assert_empty(200);
    let a = login(url, "admin@vlsim.test", APP).await;
    let r = send(
        req(url, Method::DELETE, "/api/jwt/refresh", Some(API_KEY))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(format!("token={}", a["refreshToken"].as_str().unwrap())),
    )
    .await;
    r.assert_empty(200);
    assert_eq!(tokens_of(ADMIN_ID).await, 0);

    // By user + application: only that application's.
    login(url, "admin@vlsim.test", APP).await;
    login(url, "admin@vlsim.test", APP2).await;
    delete(
        url,
        &format!("/api/jwt/refresh?userId={ADMIN_ID}&applicationId={APP}"),
        Some(API_KEY),
    )
    .await
    .assert_empty(200);
    assert_eq!(tokens_of(ADMIN_ID).await, 1);
    // By user.
    login(url, "admin@vlsim.test", APP).await;
    delete(
        url,
        &format!("/api/jwt/refresh?userId={ADMIN_ID}"),
        Some(API_KEY),
    )
    .await
    .assert_empty(200);
    assert_eq!(tokens_of(ADMIN_ID).await, 0);
    // Revoking a user with none is fine.
    delete(
        url,
        &format!("/api/jwt/refresh?userId={ADMIN_ID}"),
        Some(API_KEY),
    )
    .await
    .assert_empty(200);
    // By application.
    login(url, "admin@vlsim.test", APP).await;
    login(url, "user@vlsim.test", APP).await;
    login(url, "admin@vlsim.test", APP2).await;
    delete(
        url,
        &format!("/api/jwt/refresh?applicationId={APP}"),
        Some(API_KEY),
    )
    .await
    .assert_empty(200);
    assert_eq!(tokens_of(ADMIN_ID).await, 1);
    assert_eq!(tokens_of(USER_ID).await, 0);
    let types = event_types(url).await;
    assert!(types.contains(&"jwt.refresh-token.revoke".to_string()));

    // Errors.
    let r = delete(url, "/api/jwt/refresh", Some(API_KEY)).await;
    assert_eq!(r.general_code(), "[invalid]");
    let r = delete(
        url,
        &format!("/api/jwt/refresh?applicationId={}", uuid::Uuid::new_v4()),
        Some(API_KEY),
    )
    .await;
    assert_eq!(r.field_code("applicationId"), "[invalid]applicationId");
    let r = delete(
        url,
        &format!("/api/jwt/refresh?userId={}", uuid::Uuid::new_v4()),
        Some(API_KEY),
    )
    .await;
    assert_eq!(r.field_code("userId"), "[invalid]userId");
    let r = delete(url, "/api/jwt/refresh?userId=abc", Some(API_KEY)).await;
    assert_eq!(r.field_code("userId"), "[couldNotConvert]userId");
    delete(url, &format!("/api/jwt/refresh?userId={ADMIN_ID}"), None)
        .await
        .assert_empty(401);
    delete(
        url,
        &format!("/api/jwt/refresh?userId={ADMIN_ID}"),
        Some("bad"),
    )
    .await
    .assert_empty(401);

    // A JWT may revoke its own token (by id or value), nobody else's, and not by user.
    let mine = login(url, "user@vlsim.test", APP).await;
    let theirs = login(url, "admin@vlsim.test", APP).await;
    let bearer = format!("Bearer {}", mine["token"].as_str().unwrap());
    delete(
        url,
        &format!(
            "/api/jwt/refresh/{}",
            theirs["refreshTokenId"].as_str().unwrap()
        ),
        Some(&bearer),
    )
    .await
    .assert_empty(404);
    delete(
        url,
        &format!("/api/jwt/refresh?userId={USER_ID}"),
        Some(&bearer),
    )
    .await
    .assert_empty(401);
    delete(
        url,
        &format!(
            "/api/jwt/refresh/{}",
            mine["refreshTokenId"].as_str().unwrap()
        ),
        Some(&bearer),
    )
    .await
    .assert_empty(200);
    assert_eq!(
        refresh(url, theirs["refreshToken"].as_str().unwrap())
            .await
            .status,
        200
    );
}

// ---------------------------------------------------------------------------------------
// issue, vend, reconcile

#[actix_web::test]
async fn issue_exchanges_a_jwt_for_another_application() {
    let server = Vlsim::start().await;
    let url = server.url();
    let a = login(url, "admin@vlsim.test", APP).await;
    let bearer = format!("Bearer {}", a["token"].as_str().unwrap());

    let r = get(
        url,
        &format!("/api/jwt/issue?applicationId={APP2}"),
        Some(&bearer),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert!(b.get("refreshToken").is_none());
    let c = verify_with_jwks(url, b["token"].as_str().unwrap()).await;
    assert_eq!(c["aud"], APP2);
    assert_eq!(c["applicationId"], APP2);
    assert_eq!(c["authenticationType"], "JWT_SSO");
    assert!(
        c["exp"].as_i64().unwrap()
            <= claims(a["token"].as_str().unwrap())["exp"]
                .as_i64()
                .unwrap()
    );
    assert!(r.cookies().is_empty(), "issue writes no cookies");

    // With the refresh token whose id is the JWT's sid: a new one for the target app.
    let r = send(
        req(url, Method::GET, "/api/jwt/issue", Some(&bearer)).query(&[
            ("applicationId", APP2),
            ("refreshToken", a["refreshToken"].as_str().unwrap()),
        ]),
    )
    .await;
    assert_eq!(r.status, 200);
    let new_rt = r.json()["refreshToken"].as_str().unwrap().to_string();
    let refreshed = refresh(url, &new_rt).await.json();
    assert_eq!(claims(refreshed["token"].as_str().unwrap())["aud"], APP2);

    // Not registered: 202 without application claims.
    let u = login(url, "user@vlsim.test", APP).await;
    let r = get(
        url,
        &format!("/api/jwt/issue?applicationId={APP2}"),
        Some(&format!("Bearer {}", u["token"].as_str().unwrap())),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.text);
    assert!(claims(r.json()["token"].as_str().unwrap())
        .get("roles")
        .is_none());

    // Errors.
    get(
        url,
        &format!("/api/jwt/issue?applicationId={APP2}"),
        Some(API_KEY),
    )
    .await
    .assert_empty(401);
    get(url, &format!("/api/jwt/issue?applicationId={APP2}"), None)
        .await
        .assert_empty(401);
    get(
        url,
        &format!("/api/jwt/issue?applicationId={APP2}"),
        Some("Bearer junk"),
    )
    .await
    .assert_empty(401);
    let r = get(url, "/api/jwt/issue", Some(&bearer)).await;
    assert_eq!(r.field_code("applicationId"), "[missing]applicationId");
    let r = get(
        url,
        &format!("/api/jwt/issue?applicationId={}", uuid::Uuid::new_v4()),
        Some(&bearer),
    )
    .await;
    assert_eq!(r.field_code("applicationId"), "[invalid]applicationId");
    // Another tenant's application is invisible.
    let r = get(
        url,
        &format!("/api/jwt/issue?applicationId={APP_OTHER}"),
        Some(&bearer),
    )
    .await;
    assert_eq!(r.field_code("applicationId"), "[invalid]applicationId");
    server.clock().advance(3600);
    get(
        url,
        &format!("/api/jwt/issue?applicationId={APP2}"),
        Some(&bearer),
    )
    .await
    .assert_empty(401);
}

#[actix_web::test]
async fn vend_signs_caller_claims() {
    let server = Vlsim::start().await;
    let url = server.url();
    let r = post(
        url,
        "/api/jwt/vend",
        Some(API_KEY),
        json!({"claims": {"id": "abc", "iss": "vlsim.test", "exp": 1}, "timeToLiveInSeconds": 300}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json()["token"].as_str().unwrap().to_string();
    let c = verify_with_jwks(url, &token).await;
    assert_eq!(c["id"], "abc");
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        300,
        "exp is reserved"
    );
    assert!(c["jti"].is_string());
    assert_eq!(validate(url, &token).await.status, 200);

    let r = post(
        url,
        "/api/jwt/vend",
        Some(API_KEY),
        json!({"claims": {"sub": "x"}, "keyId": EC}),
    )
    .await;
    let token = r.json()["token"].as_str().unwrap().to_string();
    let h = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!((h.alg, h.kid.as_deref()), (Algorithm::ES256, Some(EC)));
    let c = verify_with_jwks(url, &token).await;
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        3600
    );

    let r = post(
        url,
        "/api/jwt/vend",
        Some(API_KEY),
        json!({"keyId": uuid::Uuid::new_v4()}),
    )
    .await;
    assert_eq!(r.field_code("keyId"), "[invalid]keyId");
    let r = post(
        url,
        "/api/jwt/vend",
        Some(API_KEY),
        json!({"claims": "nope"}),
    )
    .await;
    assert_eq!(r.field_code("claims"), "[couldNotConvert]claims");
    let r = post(
        url,
        "/api/jwt/vend",
        Some(API_KEY),
        json!({"timeToLiveInSeconds": "soon"}),
    )
    .await;
    assert_eq!(
        r.field_code("timeToLiveInSeconds"),
        "[couldNotConvert]timeToLiveInSeconds"
    );
    post(url, "/api/jwt/vend", None, json!({}))
        .await
        .assert_empty(401);
    post(url, "/api/jwt/vend", Some("bad"), json!({}))
        .await
        .assert_empty(401);
    let a = login(url, "admin@vlsim.test", APP).await;
    post(
        url,
        "/api/jwt/vend",
        Some(&format!("Bearer {}", a["token"].as_str().unwrap())),
        json!({}),
    )
    .await
    .assert_empty(401);
}

#[actix_web::test]
async fn reconcile_external_jwt() {
    let server = Vlsim::start().await;
    let url = server.url();
    let now = server.clock().now_secs();
    let ext = external_jwt(
        EXTERNAL_SECRET,
        json!({"email": "new@external.test", "sub": "ext-1", "exp": now + 300}),
    );
    let body = json!({"applicationId": APP, "identityProviderId": IDP, "data": {"token": ext}});
    let r = post(url, "/api/jwt/reconcile", None, body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    let user_id = b["user"]["id"].as_str().unwrap().to_string();
    assert_eq!(b["user"]["email"], "new@external.test");
    assert_eq!(b["user"]["registrations"][0]["roles"], json!(["user"]));
    let c = verify_with_jwks(url, b["token"].as_str().unwrap()).await;
    assert_eq!(c["authenticationType"], "FEDERATED_JWT");
    assert_eq!(c["roles"], json!(["user"]));
    assert!(b["refreshToken"].is_string());
    assert!(r.cookies().iter().any(|c| c.starts_with("refresh_token=")));
    // Same user the second time; deprecated encodedJWT spelling accepted.
    let r = post(
        url,
        "/api/jwt/reconcile",
        None,
        json!({"applicationId": APP, "identityProviderId": IDP, "encodedJWT": ext}),
    )
    .await;
    assert_eq!(r.json()["user"]["id"], user_id.as_str());
    // An existing fixture user is linked, not duplicated.
    let ext_admin = external_jwt(
        EXTERNAL_SECRET,
        json!({"email": "admin@vlsim.test", "exp": now + 300}),
    );
    let r = post(
        url,
        "/api/jwt/reconcile",
        None,
        json!({"applicationId": APP, "identityProviderId": IDP, "data": {"token": ext_admin}}),
    )
    .await;
    assert_eq!(r.json()["user"]["id"], ADMIN_ID);
    let types = event_types(url).await;
    assert!(types.contains(&"user.create".to_string()));

    // Wrong secret, no unique claim, unknown provider / application, expired, RS256.
    let wrong = external_jwt(
        "another-secret",
        json!({"email": "x@external.test", "exp": now + 300}),
    );
    let body_with =
        |t: &str| json!({"applicationId": APP, "identityProviderId": IDP, "data": {"token": t}});
    post(url, "/api/jwt/reconcile", None, body_with(&wrong))
        .await
        .assert_empty(401);
    let no_email = external_jwt(EXTERNAL_SECRET, json!({"sub": "x", "exp": now + 300}));
    post(url, "/api/jwt/reconcile", None, body_with(&no_email))
        .await
        .assert_empty(401);
    let r = post(url, "/api/jwt/reconcile", None, json!({"applicationId": APP, "identityProviderId": uuid::Uuid::new_v4(), "data": {"token": ext}})).await;
    r.assert_empty(401);
    let r = post(url, "/api/jwt/reconcile", None, json!({"applicationId": uuid::Uuid::new_v4(), "identityProviderId": IDP, "data": {"token": ext}})).await;
    r.assert_empty(401);
    let rs = mint_with_ring(
        &server,
        RSA,
        json!({"email": "x@external.test", "exp": now + 300}),
    );
    post(url, "/api/jwt/reconcile", None, body_with(&rs))
        .await
        .assert_empty(401);
    let r = post(
        url,
        "/api/jwt/reconcile",
        None,
        json!({"identityProviderId": IDP, "data": {"token": ext}}),
    )
    .await;
    assert_eq!(r.field_code("applicationId"), "[missing]applicationId");
    let r = post(
        url,
        "/api/jwt/reconcile",
        None,
        json!({"applicationId": APP, "identityProviderId": IDP}),
    )
    .await;
    assert_eq!(r.field_code("data.token"), "[missing]data.token");
    server.clock().advance(301);
    post(url, "/api/jwt/reconcile", None, body)
        .await
        .assert_empty(401);
}

// ---------------------------------------------------------------------------------------
// keys

#[actix_web::test]
async fn public_keys_jwks_openid_and_key_api() {
    let server = Vlsim::start().await;
    let url = server.url();

    let r = get(url, "/api/jwt/public-key", None).await;
    let keys = r.json()["publicKeys"].as_object().unwrap().clone();
    assert!(keys.contains_key(RSA) && keys.contains_key(EC) && !keys.contains_key(HMAC));
    assert!(keys[RSA]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    let r = get(url, &format!("/api/jwt/public-key?kid={EC}"), None).await;
    assert_eq!(r.json()["publicKey"], keys[EC]);
    get(url, &format!("/api/jwt/public-key?kid={HMAC}"), None)
        .await
        .assert_empty(404);
    get(url, "/api/jwt/public-key?kid=unknown", None)
        .await
        .assert_empty(404);
    let r = get(
        url,
        &format!("/api/jwt/public-key?applicationId={APP}"),
        None,
    )
    .await;
    assert_eq!(r.json()["publicKey"], keys[RSA]);
    get(
        url,
        &format!("/api/jwt/public-key?applicationId={}", uuid::Uuid::new_v4()),
        None,
    )
    .await
    .assert_empty(404);
    let r = get(url, "/api/jwt/public-key?applicationId=zzz", None).await;
    assert_eq!(
        r.field_code("applicationId"),
        "[couldNotConvert]applicationId"
    );

    let jwks = get(url, "/.well-known/jwks.json", None).await.json();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert!(kids.contains(&RSA) && kids.contains(&EC) && !kids.contains(&HMAC));

    let oidc = get(url, "/.well-known/openid-configuration", None)
        .await
        .json();
    assert_eq!(oidc["issuer"], "vlsim.test");
    assert_eq!(oidc["jwks_uri"], format!("{url}/.well-known/jwks.json"));
    let r = send(
        req(url, Method::GET, "/.well-known/openid-configuration", None)
            .header("X-FusionAuth-TenantId", OTHER_TENANT),
    )
    .await;
    assert_eq!(r.json()["issuer"], "other.vlsim.test");
    let r = get(
        url,
        &format!("/.well-known/openid-configuration/{OTHER_TENANT}"),
        None,
    )
    .await;
    assert_eq!(r.json()["issuer"], "other.vlsim.test");
    get(
        url,
        &format!("/.well-known/openid-configuration/{}", uuid::Uuid::new_v4()),
        None,
    )
    .await
    .assert_empty(404);

    // Key API: superuser sees private material; a tenant-locked key only public parts.
    let all = get(url, "/api/key", Some(API_KEY)).await.json();
    let all = all["keys"].as_array().unwrap();
    assert_eq!(all.len(), 3);
    assert!(all.iter().any(|k| k["privateKey"].is_string()));
    assert!(all
        .iter()
        .any(|k| k["type"] == "HMAC" && k["secret"].is_string()));
    let limited = get(url, "/api/key", Some(OTHER_KEY)).await.json();
    for k in limited["keys"].as_array().unwrap() {
        assert!(
            k.get("privateKey").is_none() && k.get("secret").is_none(),
            "{k}"
        );
    }
    let one = get(url, &format!("/api/key/{RSA}"), Some(OTHER_KEY))
        .await
        .json();
    assert_eq!(one["key"]["algorithm"], "RS256");
    assert_eq!(one["key"]["publicKey"], keys[RSA]);
    assert!(one["key"].get("privateKey").is_none());
    get(
        url,
        &format!("/api/key/{}", uuid::Uuid::new_v4()),
        Some(API_KEY),
    )
    .await
    .assert_empty(404);
    get(url, "/api/key", None).await.assert_empty(401);
    get(url, "/api/key", Some("bad")).await.assert_empty(401);
}

#[actix_web::test]
async fn application_selects_its_signing_key() {
    let (server, _dir) = start_edited(&[(
        "# signing_key = \"40000000-0000-4000-8000-000000000002\"",
        "signing_key = \"40000000-0000-4000-8000-000000000002\"",
    )])
    .await;
    let url = server.url();
    let b = login(url, "admin@vlsim.test", APP2).await;
    let token = b["token"].as_str().unwrap();
    let h = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!((h.alg, h.kid.as_deref()), (Algorithm::ES256, Some(EC)));
    assert_eq!(verify_with_jwks(url, token).await["aud"], APP2);
    assert_eq!(validate(url, token).await.status, 200);
    let r = get(
        url,
        &format!("/api/jwt/public-key?applicationId={APP2}"),
        None,
    )
    .await;
    assert_eq!(
        r.json()["publicKey"],
        get(url, &format!("/api/jwt/public-key?kid={EC}"), None)
            .await
            .json()["publicKey"]
    );
    let r = refresh(url, b["refreshToken"].as_str().unwrap()).await;
    assert_eq!(
        jsonwebtoken::decode_header(r.json()["token"].as_str().unwrap())
            .unwrap()
            .alg,
        Algorithm::ES256
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------------------
// tenants

#[actix_web::test]
async fn tenant_locked_key_and_other_tenant_tokens_never_touch_default_data() {
    let server = Vlsim::start().await;
    let url = server.url();
    let admin = login(url, "admin@vlsim.test", APP).await;
    let admin_rt = admin["refreshToken"].as_str().unwrap();
    let admin_id = admin["refreshTokenId"].as_str().unwrap();

    // Reads.
    let r = get(
        url,
        &format!("/api/jwt/refresh?userId={ADMIN_ID}"),
        Some(OTHER_KEY),
    )
    .await;
    assert_eq!(r.field_code("userId"), "[invalid]userId");
    get(
        url,
        &format!("/api/jwt/refresh/{admin_id}"),
        Some(OTHER_KEY),
    )
    .await
    .assert_empty(404);
    // Writes.
    let r = delete(
        url,
        &format!("/api/jwt/refresh?userId={ADMIN_ID}"),
        Some(OTHER_KEY),
    )
    .await;
    assert_eq!(r.field_code("userId"), "[invalid]userId");
    let r = delete(
        url,
        &format!("/api/jwt/refresh?applicationId={APP}"),
        Some(OTHER_KEY),
    )
    .await;
    assert_eq!(r.field_code("applicationId"), "[invalid]applicationId");
    delete(
        url,
        &format!("/api/jwt/refresh/{admin_id}"),
        Some(OTHER_KEY),
    )
    .await
    .assert_empty(404);
    let r = send(
        req(url, Method::DELETE, "/api/jwt/refresh", Some(OTHER_KEY)).query(&[("token", admin_rt)]),
    )
    .await;
    r.assert_empty(404);
    assert_eq!(refresh(url, admin_rt).await.status, 200, "still alive");
    // Login into a Default application with the Other-locked key.
    let r = post(
        url,
        "/api/login",
        Some(OTHER_KEY),
        json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": APP}),
    )
    .await;
    assert_eq!(r.field_code("applicationId"), "[invalid]applicationId");
    let r = post(
        url,
        "/api/login",
        Some(OTHER_KEY),
        json!({"loginId": "admin@vlsim.test", "password": "password"}),
    )
    .await;
    r.assert_empty(404);
    // A locked key with a different tenant header.
    let r = send(
        req(
            url,
            Method::GET,
            &format!("/api/jwt/refresh?userId={OTHER_ID}"),
            Some(OTHER_KEY),
        )
        .header("X-FusionAuth-TenantId", DEFAULT_TENANT),
    )
    .await;
    r.assert_empty(401);
    // The Other tenant's own data works with its key.
    let r = post(
        url,
        "/api/login",
        Some(OTHER_KEY),
        json!({"loginId": "other@vlsim.test", "password": "password", "applicationId": APP_OTHER}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let other = r.json();
    let c = claims(other["token"].as_str().unwrap());
    assert_eq!(
        (c["iss"].as_str(), c["tid"].as_str()),
        (Some("other.vlsim.test"), Some(OTHER_TENANT))
    );
    let r = get(
        url,
        &format!("/api/jwt/refresh?userId={OTHER_ID}"),
        Some(OTHER_KEY),
    )
    .await;
    assert_eq!(r.json()["refreshTokens"].as_array().unwrap().len(), 1);
    // An Other-tenant token is refused when the request is scoped to Default...
    let r = send(
        req(
            url,
            Method::GET,
            "/api/jwt/validate",
            Some(&format!("Bearer {}", other["token"].as_str().unwrap())),
        )
        .header("X-FusionAuth-TenantId", DEFAULT_TENANT),
    )
    .await;
    r.assert_empty(401);
    // ...cannot issue for a Default application, nor revoke Default tokens.
    let bearer = format!("Bearer {}", other["token"].as_str().unwrap());
    let r = get(
        url,
        &format!("/api/jwt/issue?applicationId={APP}"),
        Some(&bearer),
    )
    .await;
    assert_eq!(r.field_code("applicationId"), "[invalid]applicationId");
    delete(url, &format!("/api/jwt/refresh/{admin_id}"), Some(&bearer))
        .await
        .assert_empty(404);
    // A Default refresh token presented in the Other tenant's scope is unknown there.
    let r = send(
        req(url, Method::POST, "/api/jwt/refresh", None)
            .header("X-FusionAuth-TenantId", OTHER_TENANT)
            .json(&json!({"refreshToken": admin_rt})),
    )
    .await;
    assert_eq!(r.field_code("refreshToken"), "[invalid]refreshToken");
    assert_eq!(refresh(url, admin_rt).await.status, 200);
}

#[actix_web::test]
async fn logout_revokes_and_clears_cookies() {
    let server = Vlsim::start().await;
    let url = server.url();
    let a = login(url, "admin@vlsim.test", APP).await;
    let b = login(url, "admin@vlsim.test", APP2).await;
    let r = send(
        req(url, Method::POST, "/api/logout", None)
            .query(&[("refreshToken", a["refreshToken"].as_str().unwrap())]),
    )
    .await;
    r.assert_empty(200);
    assert!(r
        .cookies()
        .iter()
        .any(|c| c.starts_with("access_token=;") || c.starts_with("access_token=")));
    assert_eq!(
        refresh(url, a["refreshToken"].as_str().unwrap())
            .await
            .status,
        400
    );
    assert_eq!(
        refresh(url, b["refreshToken"].as_str().unwrap())
            .await
            .status,
        200
    );
    let c = login(url, "admin@vlsim.test", APP).await;
    let r = post(
        url,
        "/api/logout",
        None,
        json!({"global": true, "refreshToken": c["refreshToken"]}),
    )
    .await;
    r.assert_empty(200);
    let left = get(
        url,
        &format!("/api/jwt/refresh?userId={ADMIN_ID}"),
        Some(API_KEY),
    )
    .await
    .json();
    assert_eq!(left["refreshTokens"], json!([]));
}

#[actix_web::test]
async fn health_lists_the_surface_and_wrong_methods_are_not_500() {
    let server = Vlsim::start().await;
    let url = server.url();
    let h = get(url, "/_vlsim/health", None).await.json();
    assert!(h["surfaces"]
        .as_array()
        .unwrap()
        .contains(&json!("fusionauth")));
    let r = send(req(url, Method::PUT, "/api/jwt/refresh", Some(API_KEY))).await;
    assert!(r.status < 500, "{}", r.status);
    let r = send(req(url, Method::GET, "/api/login", None)).await;
    assert!(r.status < 500, "{}", r.status);
}

/// A server whose fixtures are the default ones with `edits` applied (text replacements).
async fn start_edited(edits: &[(&str, &str)]) -> (Vlsim, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("world.toml");
    let mut text = vlsim::fixtures::EMBEDDED_DEFAULT.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "fixtures do not contain {from}");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(&fixtures, text).unwrap();
    let mut config = vlsim::config::Config::for_tests(&dir.path().join("data"));
    config.fixtures = Some(fixtures);
    (Vlsim::start_with(config).await, dir)
}

#[actix_web::test]
async fn sliding_window_and_application_switches() {
    let (server, _dir) = start_edited(&[
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
    let url = server.url();

    // SlidingWindow: each refresh moves the 10-minute window.
    let a = login(url, "admin@vlsim.test", APP).await;
    let rt = a["refreshToken"].as_str().unwrap();
    for _ in 0..3 {
        server.clock().advance(9 * 60);
        assert_eq!(refresh(url, rt).await.status, 200);
    }
    server.clock().advance(10 * 60 + 1);
    assert_eq!(
        refresh(url, rt).await.field_code("refreshToken"),
        "[invalid]refreshToken"
    );

    // generate_refresh_tokens = false: a token but no refresh token.
    let b = login(url, "admin@vlsim.test", APP2).await;
    assert!(b["token"].is_string());
    assert!(b.get("refreshToken").is_none() && b.get("refreshTokenId").is_none());
    assert!(claims(b["token"].as_str().unwrap()).get("sid").is_none());

    // allow_token_refresh = false.
    let r = post(
        url,
        "/api/login",
        Some(OTHER_KEY),
        json!({"loginId": "other@vlsim.test", "password": "password", "applicationId": APP_OTHER}),
    )
    .await;
    let o = r.json();
    let r = refresh(url, o["refreshToken"].as_str().unwrap()).await;
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
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("world.toml");
    std::fs::write(
        &fixtures,
        text.replacen(
            "# signing_key = \"40000000-0000-4000-8000-000000000002\"",
            "signing_key = \"40000000-0000-4000-8000-00000000ffff\"",
            1,
        ),
    )
    .unwrap();
    let mut config = vlsim::config::Config::for_tests(&dir.path().join("data"));
    config.fixtures = Some(fixtures);
    let err = vlsim::Application::build(config, vlsim::clock::Clock::new())
        .err()
        .unwrap();
    assert!(err.to_string().contains("signing_key"), "{err}");
}
