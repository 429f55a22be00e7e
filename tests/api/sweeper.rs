//! The sweeper at the wire: after the clock moves, what expired is gone (counts in
//! `/_vlsim/state`, the run in `/_vlsim/health`) and what is live is untouched.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;
use vlsim::core::sessions::NewSession;
use vlsim::surface::Surface;

#[actix_web::test]
async fn a_sweep_after_a_clock_advance_empties_expired_sessions_and_refresh_tokens() {
    let app = TestApp::start().await;
    app.freeze_clock();
    // Sessions idle out after 1800 s (VLSI and vCenter); refresh tokens of the Default
    // tenant live 43200 minutes (30 days).
    for _ in 0..3 {
        app.soap_login_cookie("administrator").await;
    }
    let old_vcenter = app.vcenter_session().await;
    let mut old_tokens = Vec::new();
    for _ in 0..3 {
        let login = app.fusionauth_login("admin@vlsim.test", fa::APP).await;
        old_tokens.push(login["refreshToken"].as_str().unwrap().to_string());
    }
    let state = app.state().await;
    assert_eq!(state["counts"]["sessions"], 4);
    assert_eq!(state["counts"]["fusionauth_refresh_tokens"], 3);

    let run = app.advance_and_sweep(2 * 3600).await;
    assert_eq!(run["trigger"], "clock", "{run}");
    assert_eq!(run["removed"]["sessions"], 4, "{run}");
    assert_eq!(run["removed"]["fusionauth_refresh_tokens"], 0, "{run}");
    let live_cookie = app.soap_login_cookie("administrator").await;
    let state = app.state().await;
    assert_eq!(state["counts"]["sessions"], 1, "only the new session");
    assert_eq!(
        state["counts"]["fusionauth_refresh_tokens"], 3,
        "still live"
    );
    assert_eq!(state["counts"]["swept"]["sessions"], 4);
    assert_eq!(
        app.vcenter(Method::GET, "/api/session", &old_vcenter)
            .await
            .status,
        401
    );

    // 31 days on, the three old refresh tokens expired; one issued now is live.
    let run = app.advance_and_sweep(31 * 86_400 - 2 * 3600).await;
    assert_eq!(run["removed"]["fusionauth_refresh_tokens"], 3, "{run}");
    let fresh = app.fusionauth_login("user@vlsim.test", fa::APP).await;
    let state = app.state().await;
    assert_eq!(state["counts"]["fusionauth_refresh_tokens"], 1);
    assert_eq!(state["counts"]["swept"]["fusionauth_refresh_tokens"], 3);
    // Removed through the indexes too: the user's list and the id lookup forget them.
    assert!(app.refresh_tokens(fa::ADMIN_ID).await.is_empty());
    let fresh_token = fresh["refreshToken"].as_str().unwrap();
    assert_eq!(app.fusionauth_refresh(fresh_token).await.status, 200);
    for old in &old_tokens {
        assert_eq!(
            app.fusionauth_refresh(old).await.field_code("refreshToken"),
            "[invalid]refreshToken"
        );
    }
    let (status, health) = app.health().await;
    assert_eq!(status, 200);
    assert_eq!(health["status"], "ok");
    assert!(health["sweeper"]["runs"].as_u64().unwrap() >= 3);
    assert!(health["sweeper"]["last_run"]["duration_ms"].is_u64());
    drop(live_cookie);
}

#[actix_web::test]
async fn horizon_rest_logins_and_oauth2_records_are_swept_when_they_expire() {
    let app = TestApp::start().await;
    app.freeze_clock();
    // REST logins live 8 h (their refresh token); a code 30 s; an SSO session 3600 s.
    let (_, old_refresh) = app.rest_login("administrator").await;
    let b = crate::oauth2::browser();
    crate::oauth2::login_for_code(&app, &b, &[]).await;
    let state = app.state().await;
    assert_eq!(state["counts"]["horizon_rest_logins"], 1);
    let stored = &state["fusionauth"]["oauth"]["stored"];
    assert_eq!(stored["authorizationCodes"], 1, "{stored}");
    assert_eq!(stored["ssoSessions"], 1, "{stored}");

    let run = app.advance_and_sweep(2 * 3600).await;
    assert_eq!(run["removed"]["oauth2_codes"], 1, "{run}");
    assert_eq!(run["removed"]["oauth2_sso_sessions"], 1, "{run}");
    assert_eq!(run["removed"]["horizon_rest_logins"], 0, "{run}");
    let state = app.state().await;
    let stored = &state["fusionauth"]["oauth"]["stored"];
    assert_eq!(stored["authorizationCodes"], 0, "{stored}");
    assert_eq!(stored["ssoSessions"], 0, "{stored}");
    assert_eq!(state["counts"]["horizon_rest_logins"], 1, "still live");
    assert_eq!(app.rest_refresh(&old_refresh).await.status, 200);

    let (_, fresh_refresh) = app.rest_login("administrator").await;
    let run = app.advance_and_sweep(7 * 3600).await;
    assert_eq!(run["removed"]["horizon_rest_logins"], 1, "{run}");
    assert_eq!(app.state().await["counts"]["horizon_rest_logins"], 1);
    assert_eq!(app.rest_refresh(&old_refresh).await.status, 400);
    assert_eq!(app.rest_refresh(&fresh_refresh).await.status, 200);
}

#[actix_web::test]
async fn sweeps_cover_more_than_one_batch_and_keep_live_sessions() {
    let app = TestApp::start().await;
    app.freeze_clock();
    let sessions = app.core().sessions();
    for i in 0..700 {
        sessions
            .create(NewSession {
                surface: Surface::Vcenter,
                principal: format!("user{i}@vsphere.local"),
                privileges: vec![],
                // Every other one lives a day.
                idle_timeout_secs: if i % 2 == 0 { 60 } else { 86_400 },
                method: "password",
            })
            .await
            .unwrap();
    }
    let run = app.advance_and_sweep(120).await;
    assert_eq!(run["removed"]["sessions"], 350, "{run}");
    let state = app.state().await;
    assert_eq!(state["counts"]["sessions"], 350);
    assert!(
        state["sessions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["expired"] == false),
        "only live sessions are left"
    );
}

#[actix_web::test]
async fn query_cursors_of_expired_sessions_are_swept() {
    let app = TestApp::start().await;
    app.freeze_clock();
    let admin = app.logged_in("administrator").await;
    let create = r#"<QueryService_Create xmlns="urn:vdi"><_this type="QueryService">QueryService</_this><definition><queryEntityType>AuditEventSummaryView</queryEntityType><maxPageSize>1</maxPageSize></definition></QueryService_Create>"#;
    for _ in 0..3 {
        let r = app.soap(&admin, create).await;
        assert!(!r.is_fault(), "{}", r.text);
    }
    assert_eq!(app.state().await["counts"]["horizon_query_cursors"], 3);
    let run = app.advance_and_sweep(3600).await;
    assert_eq!(run["removed"]["horizon_query_cursors"], 3, "{run}");
    assert_eq!(app.state().await["counts"]["horizon_query_cursors"], 0);
}

#[actix_web::test]
async fn the_clock_setting_survives_a_restart_until_it_is_deleted() {
    let app = TestApp::start().await;
    app.advance_clock(3600).await;
    let app = app.restart().await;
    let (_, clock) = app.get_json("/_vlsim/clock").await;
    let offset = clock["offset_seconds"].as_i64().unwrap();
    assert!((3590..=3600).contains(&offset), "{clock}");
    // A token issued under the moved clock is not from the future after the restart.
    let token = app.horizon_token(None).await;
    assert!(claims(&token)["iat"].as_i64().unwrap() <= app.clock().now_secs());

    let (status, clock) = app
        .send_json(
            Method::PUT,
            "/_vlsim/clock",
            json!({"now": "2031-05-01T12:00:00Z", "freeze": true}),
        )
        .await;
    assert_eq!(status, 200, "{clock}");
    let app = app.restart().await;
    let (_, clock) = app.get_json("/_vlsim/clock").await;
    assert_eq!(clock["frozen"], true);
    assert_eq!(clock["now"], "2031-05-01T12:00:00.000Z");
    // A reset keeps the clock (documented), DELETE clears it for good.
    app.reset().await;
    let app = app.restart().await;
    assert_eq!(app.get_json("/_vlsim/clock").await.1["frozen"], true);
    let r = app.delete("/_vlsim/clock", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let app = app.restart().await;
    let (_, clock) = app.get_json("/_vlsim/clock").await;
    assert_eq!(clock["frozen"], false);
    assert_eq!(clock["offset_seconds"], 0);
}

#[actix_web::test]
async fn the_state_dump_is_paged() {
    let app = TestApp::start().await;
    let sessions = app.core().sessions();
    for i in 0..250 {
        sessions
            .create(NewSession {
                surface: Surface::Vcenter,
                principal: format!("user{i}@vsphere.local"),
                privileges: vec![],
                idle_timeout_secs: 600,
                method: "password",
            })
            .await
            .unwrap();
    }
    let state = app.state().await;
    assert_eq!(state["limit"], 100);
    assert_eq!(state["counts"]["sessions"], 250);
    assert_eq!(state["sessions"].as_array().unwrap().len(), 100);
    assert_eq!(state["pages"]["horizon_users"], serde_json::Value::Null);
    let mut next = state["pages"]["sessions"].as_str().unwrap().to_string();
    let mut seen: Vec<String> = state["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    loop {
        let (status, page) = app
            .get_json(&format!(
                "/_vlsim/state?relation=sessions&limit=70&after={next}"
            ))
            .await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["count"], 250);
        seen.extend(
            page["records"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_str().unwrap().to_string()),
        );
        match page["next"].as_str() {
            Some(n) => next = n.to_string(),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (250, 250), "every session once");
    let (status, err) = app.get_json("/_vlsim/state?relation=nope").await;
    assert_eq!(status, 400, "{err}");
    let (status, _) = app.get_json("/_vlsim/state?limit=5000").await;
    assert_eq!(status, 200, "a large limit is capped, not refused");
}
