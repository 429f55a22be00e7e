//! The control plane across all three surfaces: the clock expires tokens and sessions on
//! each, fault rules hit REST and JSON-RPC operations, reset clears every surface, and the
//! journal names REST operations by route.

use crate::helpers::*;
use reqwest::Method;
use serde_json::json;

#[actix_web::test]
async fn clock_advance_expires_tokens_and_sessions_on_every_surface() {
    let app = TestApp::start().await;
    // VLSI: a 5-minute JwtToken_Generate token, a SOAP session
    let admin = app.logged_in("administrator").await;
    let (soap_token, _) = app
        .generate(&admin, Some("<validityTime>5</validityTime>"))
        .await;
    // FusionAuth: an access token (TTL 3600 s) and a refresh token (43200 min)
    let login = app.fusionauth_login("admin@vlsim.test", fa::APP).await;
    let access = login["token"].as_str().unwrap();
    let refresh = login["refreshToken"].as_str().unwrap();
    // vCenter: a session (idle timeout 1800 s)
    let sid = app.vcenter_session().await;
    let vcenter_session = || async { app.vcenter(Method::GET, "/api/session", &sid).await.status };
    assert_eq!(app.fusionauth_validate(access).await.status, 200);
    assert_eq!(
        app.fusionauth_validate(&soap_token).await.status,
        200,
        "cross-surface before expiry"
    );
    assert_eq!(vcenter_session().await, 200);

    app.advance_clock(3601).await;
    assert_eq!(
        app.fusionauth_validate(access).await.status,
        401,
        "FusionAuth access token expired"
    );
    assert_eq!(
        app.fusionauth_validate(&soap_token).await.status,
        401,
        "SOAP token expired at validate"
    );
    assert_eq!(
        app.login_by_token(&soap_token).await.fault_type(),
        "InvalidCredentials",
        "SOAP token expired at LoginByToken"
    );
    assert_eq!(
        app.soap(&admin, &generate_xml(None)).await.fault_type(),
        "SecurityError"
    );
    assert_eq!(vcenter_session().await, 401, "vCenter session idled out");
    assert_eq!(
        app.fusionauth_refresh(refresh).await.status,
        200,
        "the refresh token lives 30 days"
    );

    app.advance_clock(43200 * 60).await;
    assert_ne!(
        app.fusionauth_refresh(refresh).await.status,
        200,
        "and then it expires too"
    );
}

#[actix_web::test]
async fn fault_rules_reach_rest_and_json_rpc_operations() {
    let app = TestApp::start().await;
    app.add_fault(
        json!({"surface": "fusionauth", "operation": "POST /api/login", "max_count": 1,
               "action": {"kind": "typed"}}),
    )
    .await;
    let r = app
        .post(
            "/api/login",
            Some(fa::API_KEY),
            json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": fa::APP}),
        )
        .await;
    assert_eq!(r.status, 503);
    assert!(r.json()["generalErrors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Injected"));
    app.fusionauth_login("admin@vlsim.test", fa::APP).await; // max_count 1: the next call goes through

    app.add_fault(
        json!({"surface": "vcenter", "operation": "POST /api/vcenter/authentication/token",
               "action": {"kind": "typed", "fault": "invalid_scope", "message": "nope"}}),
    )
    .await;
    let sid = app.vcenter_session().await;
    let (status, body) = app.exchange(&sid, &[("grant_type", vc::GRANT)]).await;
    assert_eq!(status, 400);
    assert_eq!(
        body,
        json!({"error": "invalid_scope", "error_description": "nope"})
    );

    app.add_fault(
        json!({"surface": "vcenter", "operation": "com.vmware.cis.session.get",
               "action": {"kind": "typed"}}),
    )
    .await;
    let result = app
        .rpc(
            "com.vmware.cis.session",
            "get",
            json!({}),
            json!({"schemeId": "com.vmware.vapi.std.security.session_id", "sessionId": sid}),
        )
        .await;
    assert!(
        result["error"]["ERROR"]["com.vmware.vapi.std.errors.service_unavailable"].is_object(),
        "{result}"
    );

    let journal = app
        .journal("surface=vcenter&operation=com.vmware.cis.session.get")
        .await;
    assert_eq!(journal["count"], 1);
    assert!(journal["entries"][0]["injected_fault"].is_string());
    let journal = app.journal("operation=POST%20/api/login").await;
    assert_eq!(journal["count"], 2);
    let text = journal.to_string();
    assert!(
        !text.contains("\"password\":\"password\""),
        "passwords are redacted"
    );
    assert!(!text.contains("eyJ"), "tokens are redacted");
}

#[actix_web::test]
async fn reset_clears_every_surface_and_about_lists_them() {
    let app = TestApp::start().await;
    let login = app.fusionauth_login("admin@vlsim.test", fa::APP).await;
    let refresh = login["refreshToken"].as_str().unwrap();
    let sid = app.vcenter_session().await;
    let state = app.state().await;
    assert_eq!(state["counts"]["fusionauth_refresh_tokens"], 1);
    assert!(!state.to_string().contains(refresh), "only metadata");
    app.reset().await;
    assert_ne!(app.fusionauth_refresh(refresh).await.status, 200);
    assert_eq!(
        app.vcenter(Method::GET, "/api/session", &sid).await.status,
        401
    );
    app.fusionauth_login("admin@vlsim.test", fa::APP).await; // fixtures are back
    let (_, about) = app.get_json("/_vlsim/about").await;
    for (surface, op) in [
        ("vlsi", "JwtToken_Generate"),
        ("fusionauth", "POST /api/jwt/refresh"),
        ("vcenter", "POST /api/vcenter/authentication/token"),
    ] {
        assert!(
            about["surfaces"][surface]["operations"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o == op),
            "{surface} {op}"
        );
    }
    let (_, health) = app.get_json("/_vlsim/health").await;
    assert_eq!(
        health["surfaces"],
        json!(["vlsi", "fusionauth", "vcenter", "horizon-rest"])
    );
}
