//! Races: revocation against concurrent refreshes (reusable and one-time-use rotation), and
//! logout against concurrent use. After an acknowledged revoke or logout, nothing works.

use crate::helpers::*;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A server with two workers, so requests really run side by side.
async fn two_workers() -> TestApp {
    TestApp::start_configured(|c| c.workers = Some(2)).await
}

#[actix_web::test]
async fn an_acknowledged_revoke_beats_concurrent_refreshes() {
    let app = two_workers().await;
    for _ in 0..15 {
        let token = app.fusionauth_login("admin@vlsim.test", fa::APP).await["refreshToken"]
            .as_str()
            .unwrap()
            .to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let mut hammer = Vec::new();
        for _ in 0..6 {
            let (app, token, stop) = (app.with_new_client(), token.clone(), stop.clone());
            hammer.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    app.fusionauth_refresh(&token).await;
                }
            }));
        }
        let r = app
            .fusionauth_revoke(&[("token", token.as_str())], Some(fa::API_KEY))
            .await;
        assert_eq!(r.status, 200, "a revoke racing refreshes still succeeds");
        for _ in 0..5 {
            assert_ne!(
                app.fusionauth_refresh(&token).await.status,
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
    let app = two_workers().await;
    for _ in 0..15 {
        let first = app.fusionauth_login("admin@vlsim.test", fa::APP2).await["refreshToken"]
            .as_str()
            .unwrap()
            .to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let latest = Arc::new(std::sync::Mutex::new(first));
        let chain = {
            let (app, stop, latest) = (app.with_new_client(), stop.clone(), latest.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let current = latest.lock().unwrap().clone();
                    let r = app.fusionauth_refresh(&current).await;
                    match (r.status, r.json_or_null()["refreshToken"].as_str()) {
                        (200, Some(next)) => *latest.lock().unwrap() = next.to_string(),
                        _ => break,
                    }
                }
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let r = app
            .fusionauth_revoke(
                &[("userId", fa::ADMIN_ID), ("applicationId", fa::APP2)],
                Some(fa::API_KEY),
            )
            .await;
        assert_eq!(r.status, 200);
        stop.store(true, Ordering::Relaxed);
        chain.await.unwrap();
        let newest = latest.lock().unwrap().clone();
        assert_ne!(
            app.fusionauth_refresh(&newest).await.status,
            200,
            "a rotated successor escaped the revoke"
        );
        let listed = app.refresh_tokens(fa::ADMIN_ID).await;
        let left = listed
            .iter()
            .filter(|t| t["applicationId"] == fa::APP2)
            .count();
        assert_eq!(left, 0, "{listed:?}");
    }
}

#[actix_web::test]
async fn logout_beats_concurrent_use() {
    let app = two_workers().await;
    for _ in 0..15 {
        let set_cookie = app.soap_login_cookie("administrator").await;
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        let stop = Arc::new(AtomicBool::new(false));
        let mut users = Vec::new();
        for _ in 0..4 {
            let (app, cookie, stop) = (app.with_new_client(), cookie.clone(), stop.clone());
            users.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let _ = app
                        .soap_request(app.http())
                        .header("Cookie", &cookie)
                        .body(envelope(GET_PUBLIC_KEYS))
                        .send()
                        .await;
                    // advance past the touch granularity so uses write the session back
                }
            }));
        }
        app.clock().advance(2);
        let r = app.soap_as(&cookie, LOGOUT).await;
        assert!(!r.is_fault(), "{}", r.text);
        for _ in 0..5 {
            app.clock().advance(2);
            let reply = app.soap_as(&cookie, &generate_xml(None)).await;
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
