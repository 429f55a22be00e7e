//! The control plane under /_vlsim/, at the wire.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;
use std::time::{Duration, Instant};

#[actix_web::test]
async fn health_about_and_openapi() {
    let app = TestApp::start().await;
    let (status, health) = app.get_json("/_vlsim/health").await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["data_dir"], app.data_dir().display().to_string());
    let (_, about) = app.get_json("/_vlsim/about").await;
    let ops: Vec<&str> = about["surfaces"]["vlsi"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        ops.contains(&"JwtToken_Generate") && ops.contains(&"AuthenticationManager_LoginByToken")
    );
    let (_, spec) = app.get_json("/_vlsim/openapi.json").await;
    assert_eq!(spec["openapi"], "3.0.3");
    for path in [
        "/_vlsim/reset",
        "/_vlsim/journal",
        "/_vlsim/faults/{id}",
        "/_vlsim/clock/advance",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} documented");
    }
    let (status, err) = app.get_json("/_vlsim/nope").await;
    assert_eq!(status, 404);
    assert!(err["error"].as_str().unwrap().contains("openapi.json"));
}

#[actix_web::test]
async fn reset_restores_fixtures_and_invalidates_sessions() {
    let app = TestApp::start().await;
    let admin = app.logged_in("administrator").await;
    app.generate(&admin, None).await;
    let state = app.state().await;
    assert_eq!(state["counts"]["sessions"], 1);
    assert!(state["counts"]["events"].as_u64().unwrap() >= 2);
    assert_eq!(state["keys"].as_array().unwrap().len(), 3);
    assert!(state["horizon"]["users"].to_string().contains("auditor"));
    assert!(
        !state.to_string().contains("pbkdf2"),
        "no password hashes in the dump"
    );

    let (status, _) = app
        .send_json(Method::POST, "/_vlsim/reset", json!({}))
        .await;
    assert_eq!(status, 200);
    let r = app.soap(&admin, &generate_xml(None)).await;
    assert_eq!(r.fault_type(), "SecurityError", "the old session is gone");
    let state = app.state().await;
    assert_eq!(state["counts"]["sessions"], 0);
    assert_eq!(state["counts"]["horizon_users"], 2);
    // an empty body works too, and the world still works after it
    app.reset().await;
    let again = app.logged_in("administrator").await;
    app.generate(&again, None).await;
    let (status, _) = app
        .send_json(Method::POST, "/_vlsim/reset", json!({"bogus": 1}))
        .await;
    assert_eq!(status, 400);
}

/// A reset switches the store to its other, empty side of trees (see `store/sides.rs`):
/// what was stored before must stay gone across resets, snapshots and restarts.
#[actix_web::test]
async fn resets_leave_nothing_behind_across_snapshots_and_restarts() {
    let app = TestApp::start().await;
    let before: Vec<String> = futures_util::future::join_all(
        (0..20).map(|_| app.fusionauth_login("admin@vlsim.test", fa::APP)),
    )
    .await
    .iter()
    .map(|b| b["refreshToken"].as_str().unwrap().to_string())
    .collect();
    let (status, _) = app
        .send_json(Method::POST, "/_vlsim/snapshot/twenty", json!(null))
        .await;
    assert_eq!(status, 201);
    app.reset().await;
    let kept = app.fusionauth_login("admin@vlsim.test", fa::APP).await["refreshToken"]
        .as_str()
        .unwrap()
        .to_string();
    let app = app.restart().await;
    assert_eq!(app.state().await["counts"]["fusionauth_refresh_tokens"], 1);
    assert_eq!(
        app.fusionauth_refresh(&before[0]).await.status,
        400,
        "gone for good"
    );
    assert_eq!(
        app.fusionauth_refresh(&kept).await.status,
        200,
        "written after the reset"
    );
    // Back to the first side of trees: what it held before the first reset is gone too.
    app.reset().await;
    assert_eq!(app.state().await["counts"]["fusionauth_refresh_tokens"], 0);
    for token in [&before[0], &kept] {
        assert_eq!(app.fusionauth_refresh(token).await.status, 400);
    }
    // A snapshot taken before the resets restores whole onto whichever side is in use.
    let (status, _) = app
        .send_json(Method::POST, "/_vlsim/reset", json!({"snapshot": "twenty"}))
        .await;
    assert_eq!(status, 200);
    let app = app.restart().await;
    assert_eq!(app.state().await["counts"]["fusionauth_refresh_tokens"], 20);
    assert_eq!(app.fusionauth_refresh(&before[19]).await.status, 200);
    assert_eq!(app.fusionauth_refresh(&kept).await.status, 400);
}

#[actix_web::test]
async fn snapshots_round_trip() {
    let app = TestApp::start().await;
    let admin = app.logged_in("administrator").await;
    let (status, taken) = app
        .send_json(Method::POST, "/_vlsim/snapshot/with-session", json!(null))
        .await;
    assert_eq!(status, 201, "{taken}");
    app.reset().await;
    assert_eq!(
        app.soap(&admin, &generate_xml(None)).await.fault_type(),
        "SecurityError"
    );
    let (status, _) = app
        .send_json(
            Method::POST,
            "/_vlsim/reset",
            json!({"snapshot": "with-session"}),
        )
        .await;
    assert_eq!(status, 200);
    app.generate(&admin, None).await; // the session came back with the snapshot
    let (_, list) = app.get_json("/_vlsim/snapshots").await;
    assert_eq!(list["snapshots"], json!(["with-session"]));
    for (method, path, want) in [
        (Method::POST, "/_vlsim/snapshot/with-session/restore", 200),
        (Method::POST, "/_vlsim/snapshot/..%2Fetc/restore", 400),
        (Method::POST, "/_vlsim/snapshot/missing/restore", 404),
        (Method::DELETE, "/_vlsim/snapshot/with-session", 204),
        (Method::DELETE, "/_vlsim/snapshot/with-session", 404),
    ] {
        let r = app.send(app.request(method, path, None)).await;
        assert_eq!(r.status, want, "{path}");
    }
}

#[actix_web::test]
async fn seed_replaces_the_world_and_refuses_bad_fixtures() {
    let app = TestApp::start().await;
    let fixtures =
        vlsim::fixtures::EMBEDDED_DEFAULT.replace("name = \"auditor\"", "name = \"viewer\"");
    // key files resolve against the ones embedded in the binary
    let r = app.seed(fixtures).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app.soap(app.http(), &login_xml("viewer", "vmware")).await;
    assert!(!r.is_fault(), "{}", r.text);
    let r = app.soap(app.http(), &login_xml("auditor", "vmware")).await;
    assert_eq!(r.fault_type(), "InvalidCredentials");

    for bad in ["not toml [", "[horizon]\nbogus = 1\n", "[[keys]]\nid = \"k\"\nalgorithm = \"RS256\"\nprivate_key_pem = \"junk\"\n[horizon]\nconnection_server_name = \"a\"\ndomain = \"D\"\nsigning_key = \"k\"\n"] {
        let r = app.seed(bad).await;
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.json()["error"].as_str().is_some());
    }
    // the refused seeds changed nothing
    let r = app.soap(app.http(), &login_xml("viewer", "vmware")).await;
    assert!(!r.is_fault());
}

#[actix_web::test]
async fn journal_records_redacts_and_stays_bounded() {
    let app = TestApp::start_configured(|c| c.journal_size = 50).await;
    let c = app.logged_in("administrator").await;
    let (token, _) = app.generate(&c, None).await;
    let j = app.journal("operation=AuthenticationManager_Login").await;
    let entry = &j["entries"][0];
    assert_eq!(entry["surface"], "vlsi");
    assert_eq!(entry["status"], 200);
    let text = j.to_string();
    assert!(
        !text.contains("dm13YXJl"),
        "the password is redacted: {text}"
    );
    let text = app.journal("operation=JwtToken_Generate").await.to_string();
    assert!(
        !text.contains(&token[token.len() - 20..]),
        "tokens are redacted"
    );
    assert!(!text.contains(&token[..30]));
    assert!(text.contains("[redacted]"));
    // set-cookie is redacted
    assert!(!text.contains("JSESSIONID="));

    for _ in 0..5000 {
        app.get("/view-vlsi/sdk/nothing-here", None).await;
    }
    let j = app.journal("limit=10000").await;
    assert_eq!(j["size"], 50);
    assert_eq!(j["count"], 50);
    assert_eq!(app.delete("/_vlsim/journal", None).await.status, 204);
    assert_eq!(app.journal("").await["size"], 0);

    let off = TestApp::start_configured(|c| c.journal_size = 0).await;
    off.soap(off.http(), GET_PUBLIC_KEYS).await;
    assert_eq!(off.journal("").await["size"], 0);
}

/// With no journal, no rule and tracing quiet a request skips the control layer: rules
/// added while it runs must still apply, before the handler (a route's typed fault) and
/// after it (latency), and stop applying once removed.
#[actix_web::test]
async fn rules_apply_when_the_journal_is_off() {
    let app = TestApp::start_configured(|c| c.journal_size = 0).await;
    assert_eq!(app.rest_login_with(login_body()).await.status, 200);
    let rule = app
        .add_fault(json!({"surface": "horizon-rest", "operation": "POST /rest/login",
                          "action": {"kind": "typed", "fault": "rest.unavailable", "message": "down"}}))
        .await;
    let r = app.rest_login_with(login_body()).await;
    assert_eq!(
        r.rest_error(503),
        ("rest.unavailable".to_string(), "down".to_string())
    );
    let rule_path = format!("/_vlsim/faults/{}", rule["id"].as_str().unwrap());
    assert_eq!(app.delete(&rule_path, None).await.status, 204);
    assert_eq!(app.rest_login_with(login_body()).await.status, 200);

    let delay = |ms: u64| json!({"operations": {"JwtToken_GetPublicKeys": ms}});
    let (status, _) = app
        .send_json(Method::PUT, "/_vlsim/latency", delay(400))
        .await;
    assert_eq!(status, 200);
    let started = Instant::now();
    assert!(!app.soap(app.http(), GET_PUBLIC_KEYS).await.is_fault());
    assert!(started.elapsed() >= Duration::from_millis(400));
    let (status, _) = app
        .send_json(Method::PUT, "/_vlsim/latency", json!({}))
        .await;
    assert_eq!(status, 200);
    let (_, latency) = app.get_json("/_vlsim/latency").await;
    assert_eq!(latency["operations"], json!({}), "{latency}");
    assert_eq!(app.journal("").await["size"], 0);
}

fn login_body() -> serde_json::Value {
    json!({"domain": "VLSIM", "username": "administrator", "password": "vmware"})
}

#[actix_web::test]
async fn fault_rule_with_max_count_fires_exactly_twice() {
    let app = TestApp::start().await;
    let rule = app
        .add_fault(json!({
            "surface": "vlsi", "operation": "JwtToken_GetPublicKeys", "max_count": 2,
            "action": {"kind": "typed", "fault": "UnexpectedFault", "message": "disk on fire"}
        }))
        .await;
    let mut faults = 0;
    for _ in 0..5 {
        let r = app.soap(app.http(), GET_PUBLIC_KEYS).await;
        if r.is_fault() {
            assert_eq!(r.fault_type(), "UnexpectedFault");
            assert_eq!(r.faultstring(), "disk on fire");
            faults += 1;
        }
    }
    assert_eq!(faults, 2);
    let (_, rules) = app.get_json("/_vlsim/faults").await;
    assert_eq!(rules["rules"][0]["fired"], 2);
    let j = app
        .journal("operation=JwtToken_GetPublicKeys&status=500")
        .await;
    assert_eq!(j["count"], 2);
    assert_eq!(j["entries"][0]["injected_fault"], rule["id"]);

    // a status rule for one user only, then a dropped connection
    let status_rule = app
        .add_fault(json!({
            "operation": "JwtToken_Generate", "user": "VLSIM\\auditor",
            "action": {"kind": "status", "status": 503, "body": "busy"}
        }))
        .await;
    let auditor = app.logged_in("auditor").await;
    let (status, body) = app.post_soap(&auditor, envelope(&generate_xml(None))).await;
    assert_eq!((status, body.as_str()), (503, "busy"));
    let admin = app.logged_in("administrator").await;
    app.generate(&admin, None).await; // other users unaffected
    let r = app
        .delete(
            &format!("/_vlsim/faults/{}", status_rule["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    app.add_fault(json!({
        "operation": "JwtToken_*", "max_count": 1, "action": {"kind": "drop"}
    }))
    .await;
    let dropped = app
        .soap_request(app.http())
        .body(envelope(GET_PUBLIC_KEYS))
        .send()
        .await;
    let failed = match dropped {
        Err(_) => true,
        Ok(res) => res.bytes().await.is_err(),
    };
    assert!(failed, "the connection was dropped");
    assert!(!app.soap(app.http(), GET_PUBLIC_KEYS).await.is_fault());
    for bad in [
        json!({"action": {"kind": "nope"}}),
        json!({"probability": 2, "action": {"kind": "drop"}}),
        json!({"surface": "x", "action": {"kind": "drop"}}),
    ] {
        let (status, _) = app
            .send_json(Method::POST, "/_vlsim/faults", bad.clone())
            .await;
        assert_eq!(status, 400, "{bad}");
    }
    assert_eq!(app.delete("/_vlsim/faults/unknown", None).await.status, 404);
}

#[actix_web::test]
async fn latency_adds_at_least_the_delay() {
    let app = TestApp::start().await;
    let (status, _) = app
        .send_json(
            Method::PUT,
            "/_vlsim/latency",
            json!({"operations": {"JwtToken_GetPublicKeys": 300}}),
        )
        .await;
    assert_eq!(status, 200);
    let started = Instant::now();
    app.soap(app.http(), GET_PUBLIC_KEYS).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let (_, latency) = app.get_json("/_vlsim/latency").await;
    assert_eq!(latency["operations"]["JwtToken_GetPublicKeys"], 300);
    let (status, _) = app
        .send_json(
            Method::PUT,
            "/_vlsim/latency",
            json!({"global_ms": 10_000_000}),
        )
        .await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn clock_endpoints_move_expiry() {
    let app = TestApp::start().await;
    let token = app
        .horizon_token(Some("<validityTime>5</validityTime>"))
        .await;
    let clock = app.advance_clock(301).await;
    assert_eq!(clock["offset_seconds"], 301);
    let r = app.login_by_token(&token).await;
    assert_eq!(
        r.fault_type(),
        "InvalidCredentials",
        "expired by the moved clock"
    );
    let (_, clock) = app
        .send_json(
            Method::PUT,
            "/_vlsim/clock",
            json!({"now": "2040-01-01T00:00:00Z", "freeze": true}),
        )
        .await;
    assert_eq!(clock["now"], "2040-01-01T00:00:00.000Z");
    assert_eq!(clock["frozen"], true);
    let (status, _) = app
        .send_json(Method::PUT, "/_vlsim/clock", json!({"now": "tomorrow"}))
        .await;
    assert_eq!(status, 400);
    let clock = app.delete("/_vlsim/clock", None).await.json();
    assert_eq!(clock["offset_seconds"], 0);
    let (status, _) = app
        .send_json(
            Method::POST,
            "/_vlsim/clock/advance",
            json!({"seconds": "x"}),
        )
        .await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn admin_token_and_no_admin() {
    let app = TestApp::start_configured(|c| c.admin_token = Some("s3cret".into())).await;
    assert_eq!(app.get("/_vlsim/health", None).await.status, 200);
    for (authorization, want) in [
        (None, 401),
        (Some("Bearer wrong"), 401),
        (Some("Bearer s3cret"), 200),
    ] {
        let r = app.get("/_vlsim/state", authorization).await;
        assert_eq!(r.status, want, "{authorization:?}");
    }

    let closed = TestApp::start_configured(|c| c.no_admin = true).await;
    assert_eq!(closed.get("/_vlsim/health", None).await.status, 200);
    let r = closed
        .send(closed.request(Method::POST, "/_vlsim/reset", None))
        .await;
    assert_eq!(r.status, 404);
    assert!(
        !closed.soap(closed.http(), GET_PUBLIC_KEYS).await.is_fault(),
        "surfaces still work"
    );
}

#[actix_web::test]
async fn tls_serves_soap_to_a_client_trusting_the_written_certificate() {
    let app = TestApp::start_configured(|c| c.tls = true).await;
    assert!(app.url().starts_with("https://127.0.0.1:"));
    let pem = std::fs::read(vlsim::tls::generated_cert_path(app.data_dir())).unwrap();
    let cert = reqwest::Certificate::from_pem(&pem).unwrap();
    let c = reqwest::Client::builder()
        .add_root_certificate(cert)
        .cookie_store(true)
        .no_proxy()
        .build()
        .unwrap();
    let reply = app.soap(&c, &login_xml("administrator", "vmware")).await;
    assert!(!reply.is_fault(), "{}", reply.text);
    app.generate(&c, None).await;
    // a client that does not trust the certificate (the app's own) is refused
    assert!(app
        .http()
        .get(app.at("/_vlsim/health"))
        .send()
        .await
        .is_err());
}

#[actix_web::test]
async fn healthcheck_command_exits_by_server_state() {
    let app = TestApp::start().await;
    let listen = app.host().to_string();
    let healthcheck = |args: &[&str]| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_vlsim"))
            .arg("healthcheck")
            .args(args)
            .env_remove("VLSIM_CONFIG")
            .output()
    };
    let ok = healthcheck(&["--listen", &listen]).await.unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"status\":\"ok\""));
    app.stop().await;
    let down = healthcheck(&["--listen", &listen, "--timeout", "1"])
        .await
        .unwrap();
    assert!(!down.status.success());
    let port0 = healthcheck(&["--listen", "127.0.0.1:0"]).await.unwrap();
    assert!(!port0.status.success());
}
