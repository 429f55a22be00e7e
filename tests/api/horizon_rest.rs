//! The Horizon REST surface at the wire: login, refresh and logout with their JWTs, the
//! Bearer check and roles, expiry by the server clock, the monitor and config reads, the
//! not-emulated 404s, and the control plane around it. Audit events are in
//! `horizon_rest_audit.rs`.

use crate::helpers::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::Method;
use serde_json::{json, Value};

/// Verifies an RS256 token with the PEM keys JwtToken_GetPublicKeys publishes.
fn verify_with_soap_keys(token: &str, pems: &[String]) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.kid.as_deref(), Some(RSA_KID));
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_aud = false;
    for pem in pems {
        let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) else {
            continue; // the EC key
        };
        if let Ok(data) = jsonwebtoken::decode::<Value>(token, &key, &v) {
            return data.claims;
        }
    }
    panic!("no published key verifies the token");
}

#[actix_web::test]
async fn login_returns_access_and_refresh_jwts_signed_with_the_published_key() {
    let app = TestApp::start().await;
    let (access, refresh) = app.rest_login("administrator").await;
    let pems = app.public_keys().await;
    let a = verify_with_soap_keys(&access, &pems);
    let r = verify_with_soap_keys(&refresh, &pems);
    for c in [&a, &r] {
        assert_eq!(c["iss"], "cs1.vlsim.test");
        assert_eq!(c["sub"], "VLSIM\\administrator");
        assert_eq!(c["username"], "administrator");
        assert_eq!(c["domain"], "VLSIM");
    }
    assert_eq!(a["token_use"], "access");
    assert_eq!(r["token_use"], "refresh");
    assert_eq!(a["sid"], r["sid"], "one login");
    assert_ne!(a["jti"], r["jti"]);
    let ttl = |c: &Value| c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap();
    assert_eq!(ttl(&a), hz::ACCESS_TTL);
    assert_eq!(ttl(&r), hz::REFRESH_TTL);
    // a second login is another login
    let (access2, _) = app.rest_login("administrator").await;
    assert_ne!(claims(&access2)["sid"], a["sid"]);
    // the event, through the core
    let events = app.stored_events(hz::LOGIN_OK, 10);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].module, "Rest");
    assert_eq!(events[0].severity, "AUDIT_SUCCESS");
    assert_eq!(
        events[0].message,
        "User VLSIM\\administrator has logged in to Horizon Server REST API"
    );
}

#[actix_web::test]
async fn login_accepts_the_documented_and_the_usual_shapes() {
    let app = TestApp::start().await;
    for body in [
        json!({"domain": "VLSIM", "username": "administrator", "password": ["vmware"]}),
        json!({"domain": "", "username": "VLSIM\\administrator", "password": "vmware"}),
        json!({"domain": "VLSIM", "username": "administrator@vlsim.test", "password": "vmware"}),
        json!({"domain": "vlsim", "username": "AUDITOR", "password": "vmware", "extra": 1}),
    ] {
        let r = app.rest_login_with(body.clone()).await;
        assert_eq!(r.status, 200, "{body}: {}", r.text);
    }
    // A stale or garbage Authorization header is ignored (clients send their last one).
    let r = app
        .send(
            app.request(Method::POST, "/rest/login", Some("Bearer stale"))
                .json(
                    &json!({"domain": "VLSIM", "username": "administrator", "password": "vmware"}),
                ),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[actix_web::test]
async fn wrong_credentials_are_401_with_the_error_body_and_an_event() {
    let app = TestApp::start().await;
    for (user, password, domain) in [
        ("administrator", "wrong", "VLSIM"),
        ("nobody", "vmware", "VLSIM"),
        ("administrator", "vmware", "ELSEWHERE"),
    ] {
        let r = app
            .rest_login_with(json!({"domain": domain, "username": user, "password": password}))
            .await;
        let (key, _) = r.rest_error(401);
        assert_eq!(key, "rest.auth.invalid.credentials");
    }
    let failed = app.stored_events(hz::LOGIN_FAILED, 10);
    assert_eq!(failed.len(), 3);
    assert_eq!(failed[2].severity, "AUDIT_FAIL");
    assert_eq!(failed[2].module, "Rest");
    assert_eq!(
        failed[2].message,
        "User VLSIM\\administrator has failed to login to Horizon Server REST API"
    );
    assert_eq!(failed[0].user.as_deref(), Some("ELSEWHERE\\administrator"));
}

#[actix_web::test]
async fn malformed_login_bodies_are_400_naming_the_member() {
    let app = TestApp::start().await;
    let raw = |body: &'static str| {
        app.request(Method::POST, "/rest/login", None)
            .header("Content-Type", "application/json")
            .body(body)
    };
    for (body, mentions) in [
        ("not json", "JSON"),
        ("[]", "object"),
        ("", "empty"),
        (
            r#"{"username":"administrator","domain":"VLSIM"}"#,
            "password",
        ),
        (
            r#"{"username":"administrator","password":42,"domain":"VLSIM"}"#,
            "password",
        ),
        (
            r#"{"username":"administrator","password":["vmware","x"],"domain":"VLSIM"}"#,
            "password",
        ),
        (
            r#"{"username":"administrator","password":[],"domain":"VLSIM"}"#,
            "password",
        ),
        (
            r#"{"username":"","password":"vmware","domain":"VLSIM"}"#,
            "username",
        ),
        (r#"{"password":"vmware","domain":"VLSIM"}"#, "username"),
        (
            r#"{"username":"administrator","password":"vmware"}"#,
            "domain",
        ),
        // vmware-vdi sends `name`; the swagger requires `username`
        (
            r#"{"name":"administrator","password":"vmware","domain":"VLSIM"}"#,
            "username",
        ),
    ] {
        let r = app.send(raw(body)).await;
        let (key, message) = r.rest_error(400);
        assert_eq!(key, "rest.auth.login.invalid", "{body}");
        assert!(message.contains(mentions), "{body}: {message}");
    }
    assert!(
        app.stored_events(hz::LOGIN_FAILED, 10).is_empty(),
        "no event for a 400"
    );
}

#[actix_web::test]
async fn refresh_returns_only_a_new_access_token_of_the_same_login() {
    let app = TestApp::start().await;
    let (access, refresh) = app.rest_login("administrator").await;
    let r = app.rest_refresh(&refresh).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    let new_access = body["access_token"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_eq!(claims(new_access)["sid"], claims(&access)["sid"]);
    assert_eq!(claims(new_access)["token_use"], "access");
    let monitor = app
        .rest_get("/rest/monitor/connection-servers", new_access)
        .await;
    assert_eq!(monitor.status, 200);
    // the refresh token is not rotated
    assert_eq!(app.rest_refresh(&refresh).await.status, 200);
    // Authorization on /rest/refresh is ignored
    let r = app
        .send(
            app.request(Method::POST, "/rest/refresh", Some("Bearer garbage"))
                .json(&json!({ "refresh_token": refresh })),
        )
        .await;
    assert_eq!(r.status, 200);
}

#[actix_web::test]
async fn refresh_refuses_anything_but_a_live_refresh_token_with_400() {
    let app = TestApp::start().await;
    let (access, _) = app.rest_login("administrator").await;
    let generated = app.horizon_token(None).await;
    for body in [
        json!({}),
        json!({"refresh_token": ""}),
        json!({"refresh_token": 42}),
        json!({"refresh_token": "garbage"}),
        json!({"refresh_token": access}),
        json!({"refresh_token": generated}),
        json!({"refresh": "x"}),
    ] {
        let r = app.post("/rest/refresh", None, body.clone()).await;
        let (key, _) = r.rest_error(400);
        assert_eq!(key, "rest.auth.invalid.refresh.token", "{body}");
        let r = app.post("/rest/logout", None, body.clone()).await;
        assert_eq!(r.rest_error(400).0, "rest.auth.invalid.refresh.token");
    }
}

#[actix_web::test]
async fn logout_revokes_every_access_token_of_the_login_and_nothing_else() {
    let app = TestApp::start().await;
    let (access1, refresh) = app.rest_login("administrator").await;
    let access2 = app.rest_refresh(&refresh).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (other, _) = app.rest_login("administrator").await;
    let path = "/rest/monitor/connection-servers";
    assert_eq!(app.rest_get(path, &access1).await.status, 200);

    let r = app.rest_logout(&refresh).await;
    assert_eq!(r.status, 200);
    assert!(r.text.is_empty(), "{}", r.text);
    for token in [&access1, &access2] {
        let (key, message) = app.rest_get(path, token).await.rest_error(401);
        assert_eq!(key, "rest.auth.not.authenticated");
        assert_eq!(message, "User is not authenticated");
    }
    app.rest_refresh(&refresh).await.rest_error(400);
    app.rest_logout(&refresh).await.rest_error(400);
    assert_eq!(
        app.rest_get(path, &other).await.status,
        200,
        "other logins live"
    );

    let events = app.stored_events(hz::LOGOUT_OK, 10);
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].message,
        "User VLSIM\\administrator has logged out from Horizon Server REST API"
    );
    assert_eq!(events[0].module, "Rest");
    // the revocation survives a restart (it was flushed before the 200)
    let app = app.restart().await;
    assert_eq!(app.rest_get(path, &access1).await.status, 401);
    assert_eq!(app.rest_get(path, &other).await.status, 200);
}

#[actix_web::test]
async fn bearer_missing_malformed_forged_or_of_the_wrong_kind_is_401() {
    let app = TestApp::start().await;
    let (access, refresh) = app.rest_login("administrator").await;
    let generated = app.horizon_token(None).await;
    let mut forged_claims = claims(&access);
    forged_claims["exp"] = json!(claims(&access)["exp"].as_i64().unwrap() + 3600);
    let ec_signed = app.mint(EC_KID, forged_claims.clone());
    let fa = app.fusionauth_login("admin@vlsim.test", fa::APP).await;
    let (head, _) = access.rsplit_once('.').unwrap();
    let path = "/rest/external/v1/audit-events";
    for authorization in [
        None,
        Some("Bearer".to_string()),
        Some("Bearer ".to_string()),
        Some("Bearer not-a-jwt".to_string()),
        Some(format!("Basic {access}")),
        Some(access.clone()),
        Some(format!("Bearer {head}.AAAA")),
        Some(format!("Bearer {refresh}")),
        Some(format!("Bearer {generated}")),
        Some(format!("Bearer {ec_signed}")),
        Some(format!("Bearer {}", fa["token"].as_str().unwrap())),
    ] {
        let r = app.get(path, authorization.as_deref()).await;
        let (key, _) = r.rest_error(401);
        assert_eq!(key, "rest.auth.not.authenticated", "{authorization:?}");
    }
    assert_eq!(
        app.get(path, Some(&format!("bearer  {access}")))
            .await
            .status,
        200,
        "scheme in any case"
    );
}

#[actix_web::test]
async fn rest_tokens_do_not_log_in_to_the_soap_surface() {
    let app = TestApp::start().await;
    let (access, refresh) = app.rest_login("administrator").await;
    for token in [&access, &refresh] {
        let r = app.login_by_token(token).await;
        assert_eq!(r.fault_type(), "InvalidCredentials", "{}", r.text);
        assert!(r.text.contains("REST API token"), "{}", r.text);
    }
    let generated = app.horizon_token(None).await;
    assert!(!app.login_by_token(&generated).await.is_fault());
}

#[actix_web::test]
async fn tokens_expire_by_the_server_clock() {
    let app = TestApp::start().await;
    app.freeze_clock();
    let (access, refresh) = app.rest_login("administrator").await;
    let path = "/rest/monitor/v2/connection-servers";
    app.advance_clock(hz::ACCESS_TTL - 1).await;
    assert_eq!(app.rest_get(path, &access).await.status, 200);
    app.advance_clock(1).await;
    app.rest_get(path, &access).await.rest_error(401);
    let fresh = app.rest_refresh(&refresh).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(app.rest_get(path, &fresh).await.status, 200);

    // Near the end of the login an access token lives only as long as the login.
    app.advance_clock(hz::REFRESH_TTL - hz::ACCESS_TTL - 60)
        .await;
    let last = app.rest_refresh(&refresh).await.json()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let c = claims(&last);
    assert_eq!(c["exp"], claims(&refresh)["exp"]);
    app.advance_clock(60).await;
    app.rest_refresh(&refresh).await.rest_error(400);
    app.rest_logout(&refresh).await.rest_error(400);
    app.rest_get(path, &last).await.rest_error(401);
}

#[actix_web::test]
async fn expired_logins_are_swept_in_bounded_batches() {
    let app = TestApp::start().await;
    app.freeze_clock();
    for _ in 0..3 {
        app.rest_login("administrator").await;
    }
    let horizon = app.core().horizon();
    assert_eq!(horizon.rest_login_count(), 3);
    let now = app.clock().now_ms();
    assert_eq!(
        horizon.sweep_expired(now, 10).unwrap(),
        0,
        "none expired yet"
    );
    let later = now + hz::REFRESH_TTL * 1000;
    assert_eq!(horizon.sweep_expired(later, 2).unwrap(), 2);
    assert_eq!(horizon.rest_login_count(), 1);
    assert_eq!(horizon.sweep_expired(later, 2).unwrap(), 1);
    assert_eq!(horizon.sweep_expired(later, 2).unwrap(), 0);
    assert_eq!(app.state().await["counts"]["horizon_rest_logins"], 0);

    // A login sweeps expired ones on its way, so logins stay bounded without a sweeper.
    for _ in 0..3 {
        app.rest_login("administrator").await;
    }
    app.advance_clock(hz::REFRESH_TTL).await;
    app.rest_login("auditor").await;
    assert_eq!(app.state().await["counts"]["horizon_rest_logins"], 1);
}

const READS: [&str; 15] = [
    "/rest/external/v1/audit-events",
    "/rest/external/v2/audit-events",
    "/rest/monitor/connection-servers",
    "/rest/monitor/v1/connection-servers",
    "/rest/monitor/v2/connection-servers",
    "/rest/monitor/v3/connection-servers",
    "/rest/monitor/v4/connection-servers",
    "/rest/monitor/v1/connection-servers/60000000-0000-4000-8000-000000000001",
    "/rest/monitor/v2/connection-servers/60000000-0000-4000-8000-000000000001",
    "/rest/monitor/v3/connection-servers/60000000-0000-4000-8000-000000000001",
    "/rest/monitor/v4/connection-servers/60000000-0000-4000-8000-000000000001",
    "/rest/config/v1/connection-servers",
    "/rest/config/v2/connection-servers",
    "/rest/config/v1/jwt-authenticators",
    "/rest/config/v1/event-database",
];

#[actix_web::test]
async fn the_auditor_reads_everything_and_gets_403_for_writes() {
    let app = TestApp::start().await;
    let (auditor, _) = app.rest_login("auditor").await;
    let (admin, _) = app.rest_login("administrator").await;
    for path in READS {
        assert_eq!(app.rest_get(path, &auditor).await.status, 200, "{path}");
        assert_eq!(
            app.get(path, None).await.rest_error(401).0,
            "rest.auth.not.authenticated"
        );
    }
    for (method, path) in [
        (Method::POST, "/rest/config/v1/jwt-authenticators"),
        (Method::PUT, "/rest/config/v1/event-database"),
        (
            Method::DELETE,
            "/rest/monitor/v4/connection-servers/60000000-0000-4000-8000-000000000001",
        ),
    ] {
        let as_auditor = app
            .send(
                app.request(method.clone(), path, Some(&format!("Bearer {auditor}")))
                    .json(&json!({"name": "x", "issuer": "x"})),
            )
            .await;
        let (key, message) = as_auditor.rest_error(403);
        assert_eq!(key, "rest.auth.forbidden", "{method} {path}");
        assert!(message.contains("VLSIM\\auditor"), "{message}");
        let as_admin = app
            .send(app.request(method.clone(), path, Some(&format!("Bearer {admin}"))))
            .await;
        let (key, message) = as_admin.rest_error(404);
        assert_eq!(key, "vlsim.not.emulated");
        assert!(message.contains("not emulated"), "{message}");
        let anonymous = app.send(app.request(method.clone(), path, None)).await;
        anonymous.rest_error(401);
    }
}

#[actix_web::test]
async fn monitor_answers_each_schema_version() {
    let app = TestApp::start().await;
    let (access, _) = app.rest_login("auditor").await;
    let one = |v: &Value| -> Value {
        match v {
            Value::Array(items) => {
                assert_eq!(items.len(), 1, "{v}");
                items[0].clone()
            }
            other => other.clone(),
        }
    };
    for (path, schema) in [
        ("/rest/monitor/connection-servers", 1),
        ("/rest/monitor/v1/connection-servers", 1),
        ("/rest/monitor/v2/connection-servers", 2),
        ("/rest/monitor/v3/connection-servers", 3),
        ("/rest/monitor/v4/connection-servers", 4),
        (
            "/rest/monitor/v1/connection-servers/60000000-0000-4000-8000-000000000001",
            2,
        ),
        (
            "/rest/monitor/v2/connection-servers/60000000-0000-4000-8000-000000000001",
            3,
        ),
        (
            "/rest/monitor/v3/connection-servers/60000000-0000-4000-8000-000000000001",
            3,
        ),
        (
            "/rest/monitor/v4/connection-servers/60000000-0000-4000-8000-000000000001",
            4,
        ),
    ] {
        let r = app.rest_get(path, &access).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let cs = one(&r.json());
        assert_eq!(cs["id"], hz::CS_ID);
        assert_eq!(cs["name"], "cs1.vlsim.test");
        assert_eq!(cs["status"], "OK");
        assert_eq!(
            cs["details"],
            json!({"version": "8.18.0", "build": "vlsim"})
        );
        let services = cs["services"].as_array().unwrap();
        assert_eq!(services.len(), 4);
        assert!(services.iter().all(|s| s["status"] == "UP"));
        assert_eq!(cs["connection_count"], 0);
        assert_eq!(cs["session_protocol_data"][0]["session_count"], 0);
        assert!(cs.get("certificate").is_none(), "plain HTTP: {cs}");
        assert!(
            !r.text.contains("null"),
            "absent members are omitted: {}",
            r.text
        );
        assert_eq!(
            cs.get("last_updated_timestamp").is_some(),
            schema >= 2,
            "{path}"
        );
        assert_eq!(
            cs.get("unrecognized_xmlapi_requests_count").is_some(),
            schema >= 3,
            "{path}"
        );
        assert_eq!(cs.get("num_psg_sessions").is_some(), schema >= 4, "{path}");
    }
    let r = app
        .rest_get(
            "/rest/monitor/v4/connection-servers/no-such-server",
            &access,
        )
        .await;
    let (key, message) = r.rest_error(404);
    assert_eq!(key, "monitor.connection.server.not.found");
    assert!(message.contains("no-such-server"));
}

#[actix_web::test]
async fn monitor_list_follows_a_seed_that_renames_the_connection_server() {
    let app = TestApp::start().await;
    let path = "/rest/monitor/connection-servers";
    let (access, _) = app.rest_login("auditor").await;
    // Twice: the second answer may come from what the worker rendered for the first.
    for _ in 0..2 {
        let r = app.rest_get(path, &access).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()[0]["name"], "cs1.vlsim.test");
    }
    let renamed = vlsim::fixtures::EMBEDDED_DEFAULT.replace(
        "connection_server_name = \"cs1.vlsim.test\"",
        "connection_server_name = \"cs9.vlsim.test\"",
    );
    assert_ne!(renamed, vlsim::fixtures::EMBEDDED_DEFAULT);
    let r = app.seed(renamed).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let (access, _) = app.rest_login("auditor").await;
    for _ in 0..2 {
        let r = app.rest_get(path, &access).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json()[0]["name"], "cs9.vlsim.test");
        assert_eq!(r.json()[0]["id"], hz::CS_ID);
    }
}

/// A client that trusts only the certificate `pem`.
fn trusting(pem: &[u8]) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pem).unwrap())
        .no_proxy()
        .build()
        .unwrap()
}

/// `POST /rest/login` as administrator over `c` (HTTPS): the access token.
async fn login_over_https(app: &TestApp, c: &reqwest::Client) -> String {
    let body: Value = c
        .post(app.at("/rest/login"))
        .json(&json!({"domain": "VLSIM", "username": "administrator", "password": "vmware"}))
        .send()
        .await
        .expect("the TLS handshake with the served certificate")
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// `GET path` with `access` over `c` (HTTPS): the JSON body.
async fn get_over_https(app: &TestApp, c: &reqwest::Client, path: &str, access: &str) -> Value {
    c.get(app.at(path))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[actix_web::test]
async fn monitor_reports_the_tls_certificate_when_serving_https() {
    let app = TestApp::start_configured(|c| c.tls = true).await;
    let pem = std::fs::read(vlsim::tls::generated_cert_path(app.data_dir())).unwrap();
    let c = trusting(&pem);
    let access = login_over_https(&app, &c).await;
    let v1 = get_over_https(&app, &c, "/rest/monitor/connection-servers", &access).await;
    let cert = &v1[0]["certificate"];
    assert_eq!(cert["valid"], true, "{v1}");
    let now = app.clock().now_ms();
    assert!(cert["valid_from"].as_i64().unwrap() <= now);
    assert!(cert["valid_to"].as_i64().unwrap() > now);
    assert!(cert.get("connection_server_certificate").is_none());
    assert_eq!(v1[0]["default_certificate"], true);
    let v4 = get_over_https(&app, &c, "/rest/monitor/v4/connection-servers", &access).await;
    let cert4 = &v4[0]["certificate"];
    assert_eq!(cert4["valid_to"], cert["valid_to"]);
    assert_eq!(cert4["certificate_type"], "MACHINE");
    assert_eq!(
        cert4["connection_server_certificate"]
            .as_str()
            .unwrap()
            .trim(),
        String::from_utf8(pem).unwrap().trim()
    );
    // `valid` follows the server clock (past notAfter the token has expired too: log in again)
    app.clock()
        .advance((cert["valid_to"].as_i64().unwrap() - now) / 1000 + 10);
    let access = login_over_https(&app, &c).await;
    let later = get_over_https(&app, &c, "/rest/monitor/v2/connection-servers", &access).await;
    assert_eq!(later[0]["certificate"]["valid"], false, "{later}");
}

/// A certificate given with `--tls-cert` is not the default one, and the monitor reports
/// the certificate served: read once at start, as rustls reads it, so replacing the file
/// while the server runs changes neither.
#[actix_web::test]
async fn monitor_reports_a_given_certificate_as_served_even_if_its_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let given = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    std::fs::write(&cert_path, given.cert.pem()).unwrap();
    std::fs::write(&key_path, given.signing_key.serialize_pem()).unwrap();
    let app = TestApp::start_configured(|c| {
        c.tls = true;
        c.tls_cert = Some(cert_path.clone());
        c.tls_key = Some(key_path.clone());
    })
    .await;
    let other = rcgen::generate_simple_self_signed(vec!["elsewhere".to_string()]).unwrap();
    std::fs::write(&cert_path, other.cert.pem()).unwrap();

    // The handshake trusts only the given certificate: it is still the one served.
    let c = trusting(given.cert.pem().as_bytes());
    let access = login_over_https(&app, &c).await;
    let v4 = get_over_https(&app, &c, "/rest/monitor/v4/connection-servers", &access).await;
    assert_eq!(v4[0]["default_certificate"], false, "{v4}");
    assert_eq!(
        v4[0]["certificate"]["connection_server_certificate"]
            .as_str()
            .unwrap()
            .trim(),
        given.cert.pem().trim()
    );
}

#[actix_web::test]
async fn config_reads_describe_a_coherent_world() {
    let app = TestApp::start().await;
    let (access, _) = app.rest_login("auditor").await;
    let v1 = app
        .rest_get("/rest/config/v1/connection-servers", &access)
        .await
        .json();
    assert_eq!(
        v1,
        json!([{"id": hz::CS_ID, "jwt_info": {"jwt_authenticator_ids": [hz::JWT_AUTHENTICATOR], "jwt_support": "MULTI_ENABLED"}}])
    );
    let v2 = app
        .rest_get("/rest/config/v2/connection-servers", &access)
        .await
        .json();
    assert_eq!(v2[0]["id"], hz::CS_ID);
    assert_eq!(v2[0]["name"], "cs1.vlsim.test");
    assert_eq!(v2[0]["jwt_info"], v1[0]["jwt_info"]);
    assert_eq!(v2[0]["external_url"], app.url());

    // The JWT authenticator names the FusionAuth Default tenant: its issuer, its key, and a
    // discovery document served right here.
    let auths = app
        .rest_get("/rest/config/v1/jwt-authenticators", &access)
        .await
        .json();
    let a = &auths.as_array().unwrap()[0];
    assert_eq!(a["id"], hz::JWT_AUTHENTICATOR);
    assert!(a["name"].as_str().unwrap().len() <= 32);
    let url = a["url"].as_str().unwrap();
    assert!(url.starts_with(app.url()), "{url}");
    // The discovery document is served; its `issuer` is this server's origin (what strict
    // OIDC clients demand for /oauth2 tokens), while Login API tokens keep the tenant issuer.
    let discovery = app.get(&url[app.url().len()..], None).await.json();
    assert_eq!(discovery["issuer"], app.url());
    let jwks = app.get("/.well-known/jwks.json", None).await.json();
    let published: Value = serde_json::from_str(a["public_keys"][0].as_str().unwrap()).unwrap();
    assert_eq!(published["kid"], RSA_KID);
    assert!(jwks["keys"].as_array().unwrap().contains(&published));
    // a FusionAuth access token of that tenant carries that issuer
    let fa_login = app.fusionauth_login("admin@vlsim.test", fa::APP).await;
    assert_eq!(
        claims(fa_login["token"].as_str().unwrap())["iss"],
        a["issuer"]
    );

    let one = app
        .rest_get(
            &format!(
                "/rest/config/v1/jwt-authenticators/{}",
                hz::JWT_AUTHENTICATOR
            ),
            &access,
        )
        .await
        .json();
    assert_eq!(&one, a);
    app.rest_get("/rest/config/v1/jwt-authenticators/nope", &access)
        .await
        .rest_error(404);

    let db = app
        .rest_get("/rest/config/v1/event-database", &access)
        .await
        .json();
    assert_eq!(
        db,
        json!({"event_database_configured": true, "server_name": "eventdb.vlsim.test", "port": 5432,
               "database_name": "vlsim_events", "username": "vlsim", "type": "POSTGRESQL",
               "table_prefix": "vlsim_", "query_timeout_seconds": 120,
               "show_events_for_time": "THREE_MONTHS", "classify_events_as_new_for_days": 2,
               "admin_events_count": 2000, "timing_profiler_data_longevity_days": 7})
    );
}

#[actix_web::test]
async fn paths_not_emulated_are_json_404s_and_vcenter_keeps_its_own() {
    let app = TestApp::start().await;
    for (method, path) in [
        (Method::GET, "/rest/inventory/v1/desktop-pools"),
        (Method::GET, "/rest"),
        (Method::GET, "/rest/"),
        (Method::GET, "/rest/login"),
        (Method::POST, "/rest/key-agreement"),
        (Method::GET, "/rest/monitor/v5/connection-servers"),
        (
            Method::GET,
            "/rest/external/v1/audit-events/extended-attributes",
        ),
    ] {
        let r = app.send(app.request(method.clone(), path, None)).await;
        let (key, message) = r.rest_error(404);
        assert_eq!(key, "vlsim.not.emulated", "{method} {path}");
        assert!(
            message.contains(path) && message.contains("not emulated"),
            "{message}"
        );
    }
    for path in ["/rest/login", "/rest/refresh", "/rest/logout"] {
        let r = app.send(app.request(Method::PUT, path, None)).await;
        r.rest_error(405);
        assert_eq!(r.headers["allow"], "POST");
    }
    // vCenter's /rest paths are untouched
    let r = app
        .send(
            app.request(Method::POST, "/rest/com/vmware/cis/session", None)
                .basic_auth(vc::USER, Some(vc::PASSWORD)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.json()["value"].is_string());
    let r = app.get("/rest/com/vmware/cis/nothing-here", None).await;
    r.assert_empty(404);
}

#[actix_web::test]
async fn the_control_plane_covers_the_surface() {
    let app = TestApp::start().await;
    // about and health name it, from its route table
    let (_, about) = app.get_json("/_vlsim/about").await;
    let ops = about["surfaces"]["horizon-rest"]["operations"]
        .as_array()
        .unwrap();
    for op in [
        "POST /rest/login",
        "GET /rest/external/v1/audit-events",
        "GET /rest/config/v1/event-database",
    ] {
        assert!(ops.iter().any(|o| o == op), "{op}");
    }
    let (_, openapi) = app.get_json("/_vlsim/openapi.json").await;
    let surfaces = &openapi["components"]["schemas"]["FaultRule"]["properties"]["surface"]["enum"];
    assert!(
        surfaces
            .as_array()
            .unwrap()
            .contains(&json!("horizon-rest")),
        "{surfaces}"
    );

    // journal: named by route, secrets redacted
    let (access, refresh) = app.rest_login("administrator").await;
    app.rest_get("/rest/monitor/v4/connection-servers", &access)
        .await;
    app.get("/rest/inventory/v1/farms", None).await;
    let journal = app.journal("surface=horizon-rest").await;
    let ops: Vec<&str> = journal["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        [
            "GET /rest/inventory/v1/farms",
            "GET /rest/monitor/v4/connection-servers",
            "POST /rest/login"
        ]
    );
    let text = journal.to_string();
    assert!(!text.contains("vmware\""), "password redacted: {text}");
    assert!(!text.contains(&refresh[..40]), "tokens redacted");

    // its events, by surface name
    assert_eq!(app.event_types("horizon-rest").await, [hz::LOGIN_OK]);

    // fault rules by route, in the surface's error body
    app.add_fault(json!({"surface": "horizon-rest", "operation": "POST /rest/refresh", "max_count": 1,
                         "action": {"kind": "typed", "fault": "rest.unavailable", "message": "down"}}))
        .await;
    let r = app.rest_refresh(&refresh).await;
    assert_eq!(
        r.rest_error(503),
        ("rest.unavailable".to_string(), "down".to_string())
    );
    assert_eq!(app.rest_refresh(&refresh).await.status, 200, "max_count 1");

    // latency by operation name
    let r = app
        .send_json(
            Method::PUT,
            "/_vlsim/latency",
            json!({"operations": {"GET /rest/config/v1/event-database": 300}}),
        )
        .await;
    assert_eq!(r.0, 200, "{}", r.1);
    let started = std::time::Instant::now();
    app.rest_get("/rest/config/v1/event-database", &access)
        .await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));

    // reset ends every login
    app.reset().await;
    app.rest_get("/rest/config/v1/event-database", &access)
        .await
        .rest_error(401);
    app.rest_refresh(&refresh).await.rest_error(400);
}
