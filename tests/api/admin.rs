//! The control plane under /_vlsim/, at the wire.

use crate::helpers::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use vlsim::testkit::Vlsim;

async fn get_json(c: &reqwest::Client, url: &str) -> (u16, Value) {
    let res = c.get(url).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn send_json(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Value,
) -> (u16, Value) {
    let res = c.request(method, url).json(&body).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[actix_web::test]
async fn health_about_and_openapi() {
    let server = Vlsim::start().await;
    let url = server.url();
    let c = client();
    let (status, health) = get_json(&c, &format!("{url}/_vlsim/health")).await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["data_dir"], server.data_dir().display().to_string());
    let (_, about) = get_json(&c, &format!("{url}/_vlsim/about")).await;
    let ops: Vec<&str> = about["surfaces"]["vlsi"]["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        ops.contains(&"JwtToken_Generate") && ops.contains(&"AuthenticationManager_LoginByToken")
    );
    let (_, spec) = get_json(&c, &format!("{url}/_vlsim/openapi.json")).await;
    assert_eq!(spec["openapi"], "3.0.3");
    for path in [
        "/_vlsim/reset",
        "/_vlsim/journal",
        "/_vlsim/faults/{id}",
        "/_vlsim/clock/advance",
    ] {
        assert!(spec["paths"][path].is_object(), "{path} documented");
    }
    let (status, err) = get_json(&c, &format!("{url}/_vlsim/nope")).await;
    assert_eq!(status, 404);
    assert!(err["error"].as_str().unwrap().contains("openapi.json"));
}

#[actix_web::test]
async fn reset_restores_fixtures_and_invalidates_sessions() {
    let server = Vlsim::start().await;
    let url = server.url();
    let admin = logged_in(url, "administrator").await;
    generate(&admin, url, None).await;
    let (_, state) = get_json(&client(), &format!("{url}/_vlsim/state")).await;
    assert_eq!(state["counts"]["sessions"], 1);
    assert!(state["counts"]["events"].as_u64().unwrap() >= 2);
    assert_eq!(state["keys"].as_array().unwrap().len(), 3);
    assert!(state["horizon"]["users"].to_string().contains("auditor"));
    assert!(
        !state.to_string().contains("pbkdf2"),
        "no password hashes in the dump"
    );

    let (status, _) = send_json(
        &client(),
        reqwest::Method::POST,
        &format!("{url}/_vlsim/reset"),
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    let r = call(&admin, url, &generate_xml(None)).await;
    assert_eq!(r.fault_type(), "SecurityError", "the old session is gone");
    let (_, state) = get_json(&client(), &format!("{url}/_vlsim/state")).await;
    assert_eq!(state["counts"]["sessions"], 0);
    assert_eq!(state["counts"]["horizon_users"], 2);
    // an empty body works too, and the world still works after it
    let res = client()
        .post(format!("{url}/_vlsim/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let again = logged_in(url, "administrator").await;
    generate(&again, url, None).await;
    let (status, _) = send_json(
        &client(),
        reqwest::Method::POST,
        &format!("{url}/_vlsim/reset"),
        json!({"bogus": 1}),
    )
    .await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn snapshots_round_trip() {
    let server = Vlsim::start().await;
    let url = server.url();
    let c = client();
    let admin = logged_in(url, "administrator").await;
    let (status, taken) = send_json(
        &c,
        reqwest::Method::POST,
        &format!("{url}/_vlsim/snapshot/with-session"),
        json!(null),
    )
    .await;
    assert_eq!(status, 201, "{taken}");
    client()
        .post(format!("{url}/_vlsim/reset"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        call(&admin, url, &generate_xml(None)).await.fault_type(),
        "SecurityError"
    );
    let (status, _) = send_json(
        &c,
        reqwest::Method::POST,
        &format!("{url}/_vlsim/reset"),
        json!({"snapshot": "with-session"}),
    )
    .await;
    assert_eq!(status, 200);
    generate(&admin, url, None).await; // the session came back with the snapshot
    let (_, list) = get_json(&c, &format!("{url}/_vlsim/snapshots")).await;
    assert_eq!(list["snapshots"], json!(["with-session"]));
    let res = c
        .post(format!("{url}/_vlsim/snapshot/with-session/restore"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    for (method, path, want) in [
        (
            reqwest::Method::POST,
            "/_vlsim/snapshot/..%2Fetc/restore",
            400,
        ),
        (
            reqwest::Method::POST,
            "/_vlsim/snapshot/missing/restore",
            404,
        ),
        (
            reqwest::Method::DELETE,
            "/_vlsim/snapshot/with-session",
            204,
        ),
        (
            reqwest::Method::DELETE,
            "/_vlsim/snapshot/with-session",
            404,
        ),
    ] {
        let res = c
            .request(method, format!("{url}{path}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), want, "{path}");
    }
}

#[actix_web::test]
async fn seed_replaces_the_world_and_refuses_bad_fixtures() {
    let server = Vlsim::start().await;
    let url = server.url();
    let c = client();
    let fixtures =
        vlsim::fixtures::EMBEDDED_DEFAULT.replace("name = \"auditor\"", "name = \"viewer\"");
    // key files resolve against the ones embedded in the binary
    let res = c
        .post(format!("{url}/_vlsim/seed"))
        .header("content-type", "application/toml")
        .body(fixtures)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
    let r = call(&client(), url, &login_xml("viewer", "vmware")).await;
    assert!(!r.is_fault(), "{}", r.text);
    let r = call(&client(), url, &login_xml("auditor", "vmware")).await;
    assert_eq!(r.fault_type(), "InvalidCredentials");

    for bad in ["not toml [", "[horizon]\nbogus = 1\n", "[[keys]]\nid = \"k\"\nalgorithm = \"RS256\"\nprivate_key_pem = \"junk\"\n[horizon]\nconnection_server_name = \"a\"\ndomain = \"D\"\nsigning_key = \"k\"\n"] {
        let res = c.post(format!("{url}/_vlsim/seed")).body(bad).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 400, "{bad}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].as_str().is_some());
    }
    // the refused seeds changed nothing
    let r = call(&client(), url, &login_xml("viewer", "vmware")).await;
    assert!(!r.is_fault());
}

#[actix_web::test]
async fn journal_records_redacts_and_stays_bounded() {
    let server = Vlsim::start_configured(|c| c.journal_size = 50).await;
    let url = server.url();
    let c = logged_in(url, "administrator").await;
    let (token, _) = generate(&c, url, None).await;
    let (_, j) = get_json(
        &client(),
        &format!("{url}/_vlsim/journal?operation=AuthenticationManager_Login"),
    )
    .await;
    let entry = &j["entries"][0];
    assert_eq!(entry["surface"], "vlsi");
    assert_eq!(entry["status"], 200);
    let text = j.to_string();
    assert!(
        !text.contains("dm13YXJl"),
        "the password is redacted: {text}"
    );
    let (_, j) = get_json(
        &client(),
        &format!("{url}/_vlsim/journal?operation=JwtToken_Generate"),
    )
    .await;
    let text = j.to_string();
    assert!(
        !text.contains(&token[token.len() - 20..]),
        "tokens are redacted"
    );
    assert!(!text.contains(&token[..30]));
    assert!(text.contains("[redacted]"));
    // set-cookie is redacted
    assert!(!text.contains("JSESSIONID="));

    let plain = client();
    for _ in 0..5000 {
        plain
            .get(format!("{url}/view-vlsi/sdk/nothing-here"))
            .send()
            .await
            .unwrap();
    }
    let (_, j) = get_json(&client(), &format!("{url}/_vlsim/journal?limit=10000")).await;
    assert_eq!(j["size"], 50);
    assert_eq!(j["count"], 50);
    let res = client()
        .delete(format!("{url}/_vlsim/journal"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let (_, j) = get_json(&client(), &format!("{url}/_vlsim/journal")).await;
    assert_eq!(j["size"], 0);

    let off = Vlsim::start_configured(|c| c.journal_size = 0).await;
    call(&client(), off.url(), GET_PUBLIC_KEYS).await;
    let (_, j) = get_json(&client(), &format!("{}/_vlsim/journal", off.url())).await;
    assert_eq!(j["size"], 0);
}

#[actix_web::test]
async fn fault_rule_with_max_count_fires_exactly_twice() {
    let server = Vlsim::start().await;
    let url = server.url();
    let c = client();
    let (status, rule) = send_json(
        &c,
        reqwest::Method::POST,
        &format!("{url}/_vlsim/faults"),
        json!({
            "surface": "vlsi", "operation": "JwtToken_GetPublicKeys", "max_count": 2,
            "action": {"kind": "typed", "fault": "UnexpectedFault", "message": "disk on fire"}
        }),
    )
    .await;
    assert_eq!(status, 201, "{rule}");
    let mut faults = 0;
    for _ in 0..5 {
        let r = call(&c, url, GET_PUBLIC_KEYS).await;
        if r.is_fault() {
            assert_eq!(r.fault_type(), "UnexpectedFault");
            assert_eq!(r.faultstring(), "disk on fire");
            faults += 1;
        }
    }
    assert_eq!(faults, 2);
    let (_, rules) = get_json(&c, &format!("{url}/_vlsim/faults")).await;
    assert_eq!(rules["rules"][0]["fired"], 2);
    let (_, j) = get_json(
        &c,
        &format!("{url}/_vlsim/journal?operation=JwtToken_GetPublicKeys&status=500"),
    )
    .await;
    assert_eq!(j["count"], 2);
    assert_eq!(j["entries"][0]["injected_fault"], rule["id"]);

    // a status rule for one user only, then a dropped connection
    let (_, status_rule) = send_json(
        &c,
        reqwest::Method::POST,
        &format!("{url}/_vlsim/faults"),
        json!({
            "operation": "JwtToken_Generate", "user": "VLSIM\\auditor",
            "action": {"kind": "status", "status": 503, "body": "busy"}
        }),
    )
    .await;
    let auditor = logged_in(url, "auditor").await;
    let (status, body) = post_raw(&auditor, url, envelope(&generate_xml(None))).await;
    assert_eq!((status, body.as_str()), (503, "busy"));
    let admin = logged_in(url, "administrator").await;
    generate(&admin, url, None).await; // other users unaffected
    let res = c
        .delete(format!(
            "{url}/_vlsim/faults/{}",
            status_rule["id"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    send_json(
        &c,
        reqwest::Method::POST,
        &format!("{url}/_vlsim/faults"),
        json!({
            "operation": "JwtToken_*", "max_count": 1, "action": {"kind": "drop"}
        }),
    )
    .await;
    let dropped = c
        .post(format!("{url}/view-vlsi/sdk"))
        .body(envelope(GET_PUBLIC_KEYS))
        .send()
        .await;
    let failed = match dropped {
        Err(_) => true,
        Ok(res) => res.bytes().await.is_err(),
    };
    assert!(failed, "the connection was dropped");
    assert!(!call(&c, url, GET_PUBLIC_KEYS).await.is_fault());
    for bad in [
        json!({"action": {"kind": "nope"}}),
        json!({"probability": 2, "action": {"kind": "drop"}}),
        json!({"surface": "x", "action": {"kind": "drop"}}),
    ] {
        let (status, _) = send_json(
            &c,
            reqwest::Method::POST,
            &format!("{url}/_vlsim/faults"),
            bad.clone(),
        )
        .await;
        assert_eq!(status, 400, "{bad}");
    }
    let res = c
        .delete(format!("{url}/_vlsim/faults/unknown"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
}

#[actix_web::test]
async fn latency_adds_at_least_the_delay() {
    let server = Vlsim::start().await;
    let url = server.url();
    let c = client();
    let (status, _) = send_json(
        &c,
        reqwest::Method::PUT,
        &format!("{url}/_vlsim/latency"),
        json!({
            "operations": {"JwtToken_GetPublicKeys": 300}
        }),
    )
    .await;
    assert_eq!(status, 200);
    let started = Instant::now();
    call(&c, url, GET_PUBLIC_KEYS).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let (_, latency) = get_json(&c, &format!("{url}/_vlsim/latency")).await;
    assert_eq!(latency["operations"]["JwtToken_GetPublicKeys"], 300);
    let (status, _) = send_json(
        &c,
        reqwest::Method::PUT,
        &format!("{url}/_vlsim/latency"),
        json!({"global_ms": 10_000_000}),
    )
    .await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn clock_endpoints_move_expiry() {
    let server = Vlsim::start().await;
    let url = server.url();
    let c = client();
    let admin = logged_in(url, "administrator").await;
    let (token, _) = generate(&admin, url, Some("<validityTime>5</validityTime>")).await;
    let (status, clock) = send_json(
        &c,
        reqwest::Method::POST,
        &format!("{url}/_vlsim/clock/advance"),
        json!({"seconds": 301}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(clock["offset_seconds"], 301);
    let r = call(&client(), url, &login_by_token_xml(&token)).await;
    assert_eq!(
        r.fault_type(),
        "InvalidCredentials",
        "expired by the moved clock"
    );
    let (_, clock) = send_json(
        &c,
        reqwest::Method::PUT,
        &format!("{url}/_vlsim/clock"),
        json!({"now": "2040-01-01T00:00:00Z", "freeze": true}),
    )
    .await;
    assert_eq!(clock["now"], "2040-01-01T00:00:00.000Z");
    assert_eq!(clock["frozen"], true);
    let (status, _) = send_json(
        &c,
        reqwest::Method::PUT,
        &format!("{url}/_vlsim/clock"),
        json!({"now": "tomorrow"}),
    )
    .await;
    assert_eq!(status, 400);
    let res = c
        .delete(format!("{url}/_vlsim/clock"))
        .send()
        .await
        .unwrap();
    let clock: Value = res.json().await.unwrap();
    assert_eq!(clock["offset_seconds"], 0);
    let (status, _) = send_json(
        &c,
        reqwest::Method::POST,
        &format!("{url}/_vlsim/clock/advance"),
        json!({"seconds": "x"}),
    )
    .await;
    assert_eq!(status, 400);
}

#[actix_web::test]
async fn admin_token_and_no_admin() {
    let server = Vlsim::start_configured(|c| c.admin_token = Some("s3cret".into())).await;
    let url = server.url();
    let c = client();
    assert_eq!(
        c.get(format!("{url}/_vlsim/health"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    let res = c.get(format!("{url}/_vlsim/state")).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let res = c
        .get(format!("{url}/_vlsim/state"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
    let res = c
        .get(format!("{url}/_vlsim/state"))
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);

    let closed = Vlsim::start_configured(|c| c.no_admin = true).await;
    let url = closed.url();
    assert_eq!(
        c.get(format!("{url}/_vlsim/health"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    assert_eq!(
        c.post(format!("{url}/_vlsim/reset"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert!(
        !call(&c, url, GET_PUBLIC_KEYS).await.is_fault(),
        "surfaces still work"
    );
}

#[actix_web::test]
async fn tls_serves_soap_to_a_client_trusting_the_written_certificate() {
    let server = Vlsim::start_configured(|c| c.tls = true).await;
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let pem = std::fs::read(vlsim::tls::generated_cert_path(server.data_dir())).unwrap();
    let cert = reqwest::Certificate::from_pem(&pem).unwrap();
    let c = reqwest::Client::builder()
        .add_root_certificate(cert)
        .cookie_store(true)
        .no_proxy()
        .build()
        .unwrap();
    let reply = call(&c, server.url(), &login_xml("administrator", "vmware")).await;
    assert!(!reply.is_fault(), "{}", reply.text);
    generate(&c, server.url(), None).await;
    // a client that does not trust the certificate is refused
    let untrusting = reqwest::Client::builder().no_proxy().build().unwrap();
    assert!(untrusting
        .get(format!("{}/_vlsim/health", server.url()))
        .send()
        .await
        .is_err());
}

#[actix_web::test]
async fn healthcheck_command_exits_by_server_state() {
    let server = Vlsim::start().await;
    let listen = server.url().trim_start_matches("http://").to_string();
    let bin = env!("CARGO_BIN_EXE_vlsim");
    let ok = tokio::process::Command::new(bin)
        .args(["healthcheck", "--listen", &listen])
        .env_remove("VLSIM_CONFIG")
        .output()
        .await
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("\"status\":\"ok\""));
    server.stop().await;
    let down = tokio::process::Command::new(bin)
        .args(["healthcheck", "--listen", &listen, "--timeout", "1"])
        .output()
        .await
        .unwrap();
    assert!(!down.status.success());
    let port0 = tokio::process::Command::new(bin)
        .args(["healthcheck", "--listen", "127.0.0.1:0"])
        .output()
        .await
        .unwrap();
    assert!(!port0.status.success());
}
