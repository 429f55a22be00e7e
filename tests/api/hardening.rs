//! Hostile input and crash durability, at the wire.

use crate::helpers::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::future::Future;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

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
    let app = TestApp::start().await;
    let addr = app.host().to_string();
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
    assert!(!app.soap(app.http(), GET_PUBLIC_KEYS).await.is_fault());
}

#[actix_web::test]
async fn header_and_cookie_floods_get_4xx_and_the_server_survives() {
    let app = TestApp::start().await;
    let mut req = app.soap_request(app.http());
    for i in 0..2000 {
        req = req.header(format!("x-flood-{i}"), "v");
    }
    match req.body(envelope(GET_PUBLIC_KEYS)).send().await {
        Ok(res) => assert!(res.status().is_client_error(), "{}", res.status()),
        Err(e) => assert!(!e.is_timeout(), "{e}"),
    }
    let cookies: Vec<String> = (0..5000).map(|i| format!("c{i}=v{i}")).collect();
    let res = app
        .soap_request(app.http())
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
    let reply = app.soap_as(&cookies.join("; "), &generate_xml(None)).await;
    assert_eq!(reply.fault_type(), "SecurityError");
    assert!(!app.soap(app.http(), GET_PUBLIC_KEYS).await.is_fault());
}

/// Starts the binary on `dir`, runs `workers` copies of `work` (worker number, a handle on
/// the server with its own connections, the count of acknowledged operations to bump),
/// SIGKILLs the server once `target` operations were acknowledged (or after 30 s), and
/// returns what each worker saw acknowledged.
async fn kill_mid_load<T, Fut>(
    dir: &Path,
    workers: usize,
    target: usize,
    work: impl Fn(usize, TestApp, Arc<AtomicUsize>) -> Fut,
) -> Vec<T>
where
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let app = TestApp::spawn_binary(dir);
    let acks = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..workers)
        .map(|worker| tokio::spawn(work(worker, app.with_new_client(), acks.clone())))
        .collect();
    for _ in 0..600 {
        if acks.load(Ordering::Relaxed) >= target {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.kill(); // SIGKILL, mid-load
    let mut acknowledged = Vec::new();
    for t in tasks {
        acknowledged.push(t.await.unwrap());
    }
    acknowledged
}

/// Logs in many clients concurrently, SIGKILLs the server while logins are in flight, and
/// checks that every login whose response arrived still holds after a restart.
#[actix_web::test]
async fn acknowledged_sessions_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut checked = 0;
    for trial in 0..3 {
        let login = |_, app: TestApp, acks: Arc<AtomicUsize>| async move {
            let mut acked = Vec::new();
            for _ in 0..50 {
                let res = app
                    .soap_request(&client())
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
                acks.fetch_add(1, Ordering::Relaxed);
            }
            acked
        };
        let acked: Vec<String> = kill_mid_load(dir.path(), 64, 100 + 200 * trial, login)
            .await
            .into_iter()
            .flatten()
            .collect();
        assert!(
            !acked.is_empty(),
            "some logins were acknowledged before the kill"
        );

        let again = TestApp::spawn_binary(dir.path());
        for cookie in &acked {
            let r = again.soap_as(cookie, &generate_xml(None)).await;
            assert!(
                !r.is_fault(),
                "acknowledged session {cookie} was lost: {}",
                r.text
            );
            checked += 1;
        }
        again.kill();
    }
    assert!(checked > 0);
    eprintln!("sessions checked after SIGKILL: {checked}");
}

/// FusionAuth refresh tokens under SIGKILL: every token whose issue was acknowledged still
/// refreshes after a restart, and every acknowledged revocation still holds.
#[actix_web::test]
async fn acknowledged_refresh_tokens_and_revocations_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let (mut live_checked, mut revoked_checked) = (0, 0);
    for trial in 0..3 {
        let login_and_revoke = |worker, app: TestApp, acks: Arc<AtomicUsize>| async move {
            let (mut issued, mut revoked) = (Vec::new(), Vec::new());
            for i in 0..200 {
                // Not fusionauth_login: a login in flight at the kill may fail.
                let res = app
                    .request(Method::POST, "/api/login", Some(fa::API_KEY))
                    .json(&json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": fa::APP}))
                    .send()
                    .await;
                let Ok(res) = res else { break };
                let Ok(body) = res.json::<Value>().await else {
                    break;
                };
                let Some(token) = body["refreshToken"].as_str().map(str::to_string) else {
                    break;
                };
                // Revoke every third token this worker was given.
                if (i + worker) % 3 == 0 {
                    let res = app
                        .request(Method::DELETE, "/api/jwt/refresh", Some(fa::API_KEY))
                        .query(&[("token", token.as_str())])
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status().as_u16() == 200 => revoked.push(token),
                        _ => break, // in flight at the kill: either outcome is fine
                    }
                } else {
                    issued.push(token);
                }
                acks.fetch_add(1, Ordering::Relaxed);
            }
            (issued, revoked)
        };
        // Kill mid-load: once a trial-dependent number of operations were acknowledged.
        let (mut issued, mut revoked) = (Vec::new(), Vec::new());
        for (i, r) in kill_mid_load(dir.path(), 32, 100 + 150 * trial, login_and_revoke).await {
            issued.extend(i);
            revoked.extend(r);
        }
        assert!(
            !issued.is_empty() && !revoked.is_empty(),
            "load ran before the kill"
        );

        let again = TestApp::spawn_binary(dir.path());
        for token in issued {
            assert_eq!(
                again.fusionauth_refresh(&token).await.status,
                200,
                "an acknowledged refresh token was lost"
            );
            live_checked += 1;
        }
        for token in revoked {
            assert_ne!(
                again.fusionauth_refresh(&token).await.status,
                200,
                "an acknowledged revocation was lost"
            );
            revoked_checked += 1;
        }
        again.kill();
    }
    eprintln!("after 3 SIGKILL trials: {live_checked} live tokens refreshed, {revoked_checked} revocations held");
}

/// sled's `flush_async` could leave callers waiting forever under concurrent durable writes
/// (seen in the benchmark: every later login hung). Thousands of concurrent flushed writes
/// must all complete, and a later one too; logins waiting together share flushes.
#[actix_web::test]
async fn concurrent_durable_writes_never_hang() {
    let app = TestApp::start_configured(|c| c.workers = Some(2)).await;
    let flushes = |health: Value| health["store"]["durable_flushes"].as_u64().unwrap();
    let before = flushes(app.health().await.1);
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let app = app.with_new_client();
        tasks.push(tokio::spawn(async move {
            for _ in 0..40 {
                app.fusionauth_login("admin@vlsim.test", fa::APP).await;
            }
        }));
    }
    let all = futures_util::future::join_all(tasks);
    tokio::time::timeout(Duration::from_secs(120), all)
        .await
        .expect("1280 flushed logins finished");
    let storm = flushes(app.health().await.1) - before;
    eprintln!("1280 concurrent logins: {storm} flushes");
    assert!(
        (1..1280).contains(&storm),
        "1280 concurrent logins made {storm} flushes: none shared"
    );
    let after = app.with_new_client();
    let r = tokio::time::timeout(
        Duration::from_secs(10),
        after.vcenter_login(vc::USER, vc::PASSWORD),
    )
    .await
    .expect("a session after the storm is not stuck behind a flush");
    assert_eq!(r.status, 201);
}

/// The run contract: SIGTERM or SIGINT sent the moment the `listening` line appears stops
/// the server gracefully with exit code 0, and state written before it is kept.
#[actix_web::test]
async fn signal_right_after_the_listening_line_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    for signal in ["-TERM", "-INT", "-TERM"] {
        let app = TestApp::spawn_binary(dir.path());
        let exit = app.signal(signal);
        assert_eq!(exit.code(), Some(0), "{signal}: {exit:?}");
    }
}

/// Events are buffered (store::Log) and no Generate flushes; the drain timer and sled's
/// write-back still put them on disk, so a SIGKILL a second later loses none.
#[actix_web::test]
async fn buffered_events_reach_disk_without_a_flush() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_binary(dir.path());
    let c = app.logged_in("administrator").await;
    for _ in 0..3 {
        app.generate(&c, None).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.kill(); // SIGKILL: no shutdown flush

    let again = TestApp::spawn_binary(dir.path());
    let events = again.events("type=VLSI_JWT_TOKEN_GENERATED").await;
    assert_eq!(events.len(), 3, "{events:?}");
    again.kill();
}
