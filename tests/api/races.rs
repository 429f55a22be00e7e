//! Races: revocation against concurrent refreshes (reusable and one-time-use rotation), and
//! logout against concurrent use. After an acknowledged revoke or logout, nothing works.

use crate::helpers::*;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use vlsim::testkit::Vlsim;

const ONE_TIME_APP: &str = "20000000-0000-4000-8000-000000000002";
const ADMIN_USER: &str = "30000000-0000-4000-8000-000000000001";

/// (status, the new refresh token if one came back)
async fn refresh(c: &reqwest::Client, url: &str, token: &str) -> (u16, Option<String>) {
    let res = c
        .post(format!("{url}/api/jwt/refresh"))
        .json(&json!({ "refreshToken": token }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    (status, body["refreshToken"].as_str().map(str::to_string))
}

#[actix_web::test]
async fn an_acknowledged_revoke_beats_concurrent_refreshes() {
    let server = Vlsim::start_configured(|c| c.workers = Some(2)).await;
    let url = server.url().to_string();
    for _ in 0..15 {
        let token = fa_login(&url, FA_APP).await["refreshToken"]
            .as_str()
            .unwrap()
            .to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let mut hammer = Vec::new();
        for _ in 0..6 {
            let (url, token, stop) = (url.clone(), token.clone(), stop.clone());
            hammer.push(tokio::spawn(async move {
                let c = http();
                while !stop.load(Ordering::Relaxed) {
                    refresh(&c, &url, &token).await;
                }
            }));
        }
        let res = http()
            .delete(format!("{url}/api/jwt/refresh"))
            .query(&[("token", token.as_str())])
            .header("Authorization", FA_API_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status().as_u16(),
            200,
            "a revoke racing refreshes still succeeds"
        );
        for _ in 0..5 {
            assert_ne!(
                refresh(&http(), &url, &token).await.0,
                200,
                "revoked token refreshed"
            );
        }
        stop.store(true, Ordering::Relaxed);
        futures_util::future::join_all(hammer).await;
    }
}

#[actix_web::test]
async fn revoke_by_user_catches_one_time_use_rotations_in_flight() {
    let server = Vlsim::start_configured(|c| c.workers = Some(2)).await;
    let url = server.url().to_string();
    for _ in 0..15 {
        let first = fa_login(&url, ONE_TIME_APP).await["refreshToken"]
            .as_str()
            .unwrap()
            .to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let latest = Arc::new(std::sync::Mutex::new(first));
        let chain = {
            let (url, stop, latest) = (url.clone(), stop.clone(), latest.clone());
            tokio::spawn(async move {
                let c = http();
                while !stop.load(Ordering::Relaxed) {
                    let current = latest.lock().unwrap().clone();
                    match refresh(&c, &url, &current).await {
                        (200, Some(next)) => *latest.lock().unwrap() = next,
                        _ => break,
                    }
                }
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let res = http()
            .delete(format!("{url}/api/jwt/refresh"))
            .query(&[("userId", ADMIN_USER), ("applicationId", ONE_TIME_APP)])
            .header("Authorization", FA_API_KEY)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        stop.store(true, Ordering::Relaxed);
        chain.await.unwrap();
        let newest = latest.lock().unwrap().clone();
        assert_ne!(
            refresh(&http(), &url, &newest).await.0,
            200,
            "a rotated successor escaped the revoke"
        );
        let listed: Value = http()
            .get(format!("{url}/api/jwt/refresh"))
            .query(&[("userId", ADMIN_USER)])
            .header("Authorization", FA_API_KEY)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let left = listed["refreshTokens"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|t| t["applicationId"] == ONE_TIME_APP)
                    .count()
            })
            .unwrap_or(0);
        assert_eq!(left, 0, "{listed}");
    }
}

#[actix_web::test]
async fn logout_beats_concurrent_use() {
    let server = Vlsim::start_configured(|c| c.workers = Some(2)).await;
    let url = server.url().to_string();
    for _ in 0..15 {
        let raw = http();
        let res = raw
            .post(format!("{url}/view-vlsi/sdk"))
            .body(envelope(&login_xml("administrator", "vmware")))
            .send()
            .await
            .unwrap();
        let cookie = res.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let mut users = Vec::new();
        for _ in 0..4 {
            let (url, cookie, stop) = (url.clone(), cookie.clone(), stop.clone());
            users.push(tokio::spawn(async move {
                let c = http();
                while !stop.load(Ordering::Relaxed) {
                    let _ = c
                        .post(format!("{url}/view-vlsi/sdk"))
                        .header("Cookie", &cookie)
                        .body(envelope(GET_PUBLIC_KEYS))
                        .send()
                        .await;
                    // advance past the touch granularity so uses write the session back
                }
            }));
        }
        server.clock().advance(2);
        let res = raw
            .post(format!("{url}/view-vlsi/sdk"))
            .header("Cookie", &cookie)
            .body(envelope(LOGOUT))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        for _ in 0..5 {
            server.clock().advance(2);
            let res = raw
                .post(format!("{url}/view-vlsi/sdk"))
                .header("Cookie", &cookie)
                .body(envelope(&generate_xml(None)))
                .send()
                .await
                .unwrap();
            let reply = parse_reply(res.status().as_u16(), res.text().await.unwrap());
            assert_eq!(
                reply.fault_type(),
                "SecurityError",
                "a logged-out session was used"
            );
        }
        stop.store(true, Ordering::Relaxed);
        futures_util::future::join_all(users).await;
    }
}
