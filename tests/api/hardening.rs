//! Hostile input and crash durability, at the wire.

use crate::helpers::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use vlsim::testkit::Vlsim;

fn host_port(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

/// Sends raw bytes and returns what the server answered (until it closes or times out).
fn raw_exchange(addr: &str, head: &[u8], body_chunks: usize) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(head).unwrap();
    let chunk = vec![b'a'; 64 * 1024];
    let framed = [
        format!("{:x}\r\n", chunk.len()).into_bytes(),
        chunk,
        b"\r\n".to_vec(),
    ]
    .concat();
    for _ in 0..body_chunks {
        // The server may answer and close early: stop sending then.
        if s.write_all(&framed).is_err() {
            break;
        }
    }
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[actix_web::test]
async fn a_100_mb_chunked_body_is_refused_early_with_a_client_fault() {
    let server = Vlsim::start().await;
    let addr = host_port(server.url());
    let answer = tokio::task::spawn_blocking(move || {
        let head = format!(
            "POST /view-vlsi/sdk HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
        );
        // 1600 chunks of 64 KiB = 100 MiB, unless the server cuts us off first.
        raw_exchange(&addr, head.as_bytes(), 1600)
    })
    .await
    .unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 500"),
        "{}",
        &answer[..answer.len().min(300)]
    );
    assert!(answer.contains("<faultcode>soapenv:Client</faultcode>"));
    assert!(answer.contains("exceeds the 1048576-byte limit"));
    assert!(!call(&client(), server.url(), GET_PUBLIC_KEYS)
        .await
        .is_fault());
}

#[actix_web::test]
async fn header_and_cookie_floods_get_4xx_and_the_server_survives() {
    let server = Vlsim::start().await;
    let c = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut req = c.post(format!("{}/view-vlsi/sdk", server.url()));
    for i in 0..2000 {
        req = req.header(format!("x-flood-{i}"), "v");
    }
    match req.body(envelope(GET_PUBLIC_KEYS)).send().await {
        Ok(res) => assert!(res.status().is_client_error(), "{}", res.status()),
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    let cookies: Vec<String> = (0..5000).map(|i| format!("c{i}=v{i}")).collect();
    let res = c
        .post(format!("{}/view-vlsi/sdk", server.url()))
        .header("Cookie", cookies.join("; "))
        .body(envelope(&generate_xml(None)))
        .send()
        .await;
    if let Ok(res) = res {
        assert!(res.status().as_u16() < 600 && res.status() != 502);
        assert_ne!(res.status().as_u16(), 200, "no session hides in a flood");
    }
    // many plausible cookies, none a session: a SecurityError, not a slow scan or a crash
    let cookies: Vec<String> = (0..100)
        .map(|i| format!("c{i}={}", "x".repeat(40)))
        .collect();
    let res = c
        .post(format!("{}/view-vlsi/sdk", server.url()))
        .header("Cookie", cookies.join("; "))
        .body(envelope(&generate_xml(None)))
        .send()
        .await
        .unwrap();
    let reply = parse_reply(res.status().as_u16(), res.text().await.unwrap());
    assert_eq!(reply.fault_type(), "SecurityError");
    assert!(!call(&client(), server.url(), GET_PUBLIC_KEYS)
        .await
        .is_fault());
}

struct Server {
    child: Child,
    url: String,
}

fn start_binary(data_dir: &std::path::Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vlsim"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("VLSIM_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
        line.push(byte[0] as char);
    }
    let url = line
        .strip_prefix("vlsim listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    Server { child, url }
}

/// Logs in many clients concurrently, SIGKILLs the server while logins are in flight, and
/// checks that every login whose response arrived still holds after a restart.
#[actix_web::test]
async fn acknowledged_sessions_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for trial in 0..3 {
        let mut server = start_binary(dir.path());
        let url = server.url.clone();
        let acks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let url = url.clone();
            let acks = acks.clone();
            tasks.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for _ in 0..50 {
                    let c = client();
                    let res = c
                        .post(format!("{url}/view-vlsi/sdk"))
                        .body(envelope(&login_xml("administrator", "vmware")))
                        .send()
                        .await;
                    let Ok(res) = res else { break };
                    let Some(cookie) = res
                        .headers()
                        .get("set-cookie")
                        .map(|v| v.to_str().unwrap().to_string())
                    else {
                        break;
                    };
                    if res.bytes().await.is_err() {
                        break;
                    }
                    acked.push(cookie.split(';').next().unwrap().to_string());
                    acks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                acked
            }));
        }
        let target = 100 + 200 * trial;
        for _ in 0..600 {
            if acks.load(std::sync::atomic::Ordering::Relaxed) >= target {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.child.kill().unwrap(); // SIGKILL, mid-load
        server.child.wait().unwrap();
        let mut acked = Vec::new();
        for t in tasks {
            acked.extend(t.await.unwrap());
        }
        assert!(
            !acked.is_empty(),
            "some logins were acknowledged before the kill"
        );

        let mut again = start_binary(dir.path());
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        for cookie in &acked {
            let res = c
                .post(format!("{}/view-vlsi/sdk", again.url))
                .header("Cookie", cookie)
                .body(envelope(&generate_xml(None)))
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status().as_u16(),
                200,
                "acknowledged session {cookie} was lost"
            );
            checked += 1;
        }
        again.child.kill().unwrap();
        again.child.wait().unwrap();
    }
    assert!(checked > 0);
    eprintln!("sessions checked after SIGKILL: {checked}");
}

/// FusionAuth refresh tokens under SIGKILL: every token whose issue was acknowledged still
/// refreshes after a restart, and every acknowledged revocation still holds.
#[actix_web::test]
async fn acknowledged_refresh_tokens_and_revocations_survive_sigkill() {
    const APP: &str = "20000000-0000-4000-8000-000000000001";
    let dir = tempfile::tempdir().unwrap();
    let (mut live_checked, mut revoked_checked) = (0, 0);
    for trial in 0..3 {
        let mut server = start_binary(dir.path());
        let url = server.url.clone();
        let acks = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for worker in 0..32 {
            let url = url.clone();
            let acks = acks.clone();
            tasks.push(tokio::spawn(async move {
                let c = reqwest::Client::builder().no_proxy().build().unwrap();
                let (mut issued, mut revoked) = (Vec::new(), Vec::new());
                for i in 0..200 {
                    let res = c
                        .post(format!("{url}/api/login"))
                        .header("Authorization", "vlsim-api-key")
                        .json(&serde_json::json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": APP}))
                        .send()
                        .await;
                    let Ok(res) = res else { break };
                    let Ok(body) = res.json::<serde_json::Value>().await else { break };
                    let Some(token) = body["refreshToken"].as_str().map(str::to_string) else { break };
                    // Revoke every third token this worker was given.
                    if (i + worker) % 3 == 0 {
                        let res = c
                            .delete(format!("{url}/api/jwt/refresh"))
                            .query(&[("token", token.as_str())])
                            .header("Authorization", "vlsim-api-key")
                            .send()
                            .await;
                        match res {
                            Ok(r) if r.status().as_u16() == 200 => revoked.push(token),
                            _ => break, // in flight at the kill: either outcome is fine
                        }
                    } else {
                        issued.push(token);
                    }
                    acks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                (issued, revoked)
            }));
        }
        // Kill mid-load: once a trial-dependent number of operations were acknowledged.
        let target = 100 + 150 * trial;
        for _ in 0..600 {
            if acks.load(std::sync::atomic::Ordering::Relaxed) >= target {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.child.kill().unwrap();
        server.child.wait().unwrap();
        let (mut issued, mut revoked) = (Vec::new(), Vec::new());
        for t in tasks {
            let (i, r) = t.await.unwrap();
            issued.extend(i);
            revoked.extend(r);
        }
        assert!(
            !issued.is_empty() && !revoked.is_empty(),
            "load ran before the kill"
        );

        let mut again = start_binary(dir.path());
        let c = reqwest::Client::builder().no_proxy().build().unwrap();
        let refresh = |token: String| {
            let c = c.clone();
            let url = again.url.clone();
            async move {
                c.post(format!("{url}/api/jwt/refresh"))
                    .json(&serde_json::json!({ "refreshToken": token }))
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            }
        };
        for token in issued {
            assert_eq!(
                refresh(token).await,
                200,
                "an acknowledged refresh token was lost"
            );
            live_checked += 1;
        }
        for token in revoked {
            assert_ne!(
                refresh(token).await,
                200,
                "an acknowledged revocation was lost"
            );
            revoked_checked += 1;
        }
        again.child.kill().unwrap();
        again.child.wait().unwrap();
    }
    eprintln!("after 3 SIGKILL trials: {live_checked} live tokens refreshed, {revoked_checked} revocations held");
}

/// sled's `flush_async` could leave callers waiting forever under concurrent durable writes
/// (seen in the benchmark: every later login hung). Thousands of concurrent flushed writes
/// must all complete, and a later one too.
#[actix_web::test]
async fn concurrent_durable_writes_never_hang() {
    let server = Vlsim::start_configured(|c| c.workers = Some(2)).await;
    let url = server.url().to_string();
    let body = serde_json::json!({"loginId": "admin@vlsim.test", "password": "password",
        "applicationId": "20000000-0000-4000-8000-000000000001"});
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (url, body) = (url.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let c = reqwest::Client::builder().no_proxy().build().unwrap();
            for _ in 0..40 {
                let res = c
                    .post(format!("{url}/api/login"))
                    .header("Authorization", "vlsim-api-key")
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status().as_u16(), 200);
            }
        }));
    }
    let all = futures_util::future::join_all(tasks);
    tokio::time::timeout(Duration::from_secs(120), all)
        .await
        .expect("1280 flushed logins finished");
    let res = tokio::time::timeout(
        Duration::from_secs(10),
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .unwrap()
            .post(format!("{url}/api/session"))
            .basic_auth("administrator@vsphere.local", Some("VMware1!"))
            .send(),
    )
    .await
    .expect("a session after the storm is not stuck behind a flush")
    .unwrap();
    assert_eq!(res.status().as_u16(), 201);
}

/// The run contract: SIGTERM or SIGINT sent the moment the `listening` line appears stops
/// the server gracefully with exit code 0, and state written before it is kept.
#[actix_web::test]
async fn signal_right_after_the_listening_line_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    for signal in ["-TERM", "-INT", "-TERM"] {
        let mut server = start_binary(dir.path());
        let status = Command::new("kill")
            .args([signal, &server.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let exit = server.child.wait().unwrap();
        assert_eq!(exit.code(), Some(0), "{signal}: {exit:?}");
    }
}

/// Events are buffered (store::Log) and no Generate flushes; the drain timer and sled's
/// write-back still put them on disk, so a SIGKILL a second later loses none.
#[actix_web::test]
async fn buffered_events_reach_disk_without_a_flush() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start_binary(dir.path());
    let c = client();
    let url = format!("{}/view-vlsi/sdk", server.url);
    let login = c
        .post(&url)
        .body(envelope(&login_xml("administrator", "vmware")))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status().as_u16(), 200);
    for _ in 0..3 {
        let res = c
            .post(&url)
            .body(envelope(&generate_xml(None)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.child.kill().unwrap(); // SIGKILL: no shutdown flush
    server.child.wait().unwrap();

    let mut again = start_binary(dir.path());
    let events: serde_json::Value = http()
        .get(format!(
            "{}/_vlsim/events?type=VLSI_JWT_TOKEN_GENERATED",
            again.url
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(events["count"], 3, "{events}");
    again.child.kill().unwrap();
    again.child.wait().unwrap();
}
