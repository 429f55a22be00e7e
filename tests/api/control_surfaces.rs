//! The control plane across all three surfaces: the clock expires tokens and sessions on
//! each, fault rules hit REST and JSON-RPC operations, reset clears every surface, and the
//! journal names REST operations by route.

use crate::helpers::*;
use serde_json::{json, Value};
use vlsim::testkit::Vlsim;

async fn fa_validate(url: &str, token: &str) -> u16 {
    http()
        .get(format!("{url}/api/jwt/validate"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn fa_refresh(url: &str, refresh_token: &str) -> u16 {
    http()
        .post(format!("{url}/api/jwt/refresh"))
        .json(&json!({"refreshToken": refresh_token}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn vc_session_status(url: &str, id: &str) -> u16 {
    http()
        .get(format!("{url}/api/session"))
        .header("vmware-api-session-id", id)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn advance(url: &str, seconds: i64) {
    let res = http()
        .post(format!("{url}/_vlsim/clock/advance"))
        .json(&json!({ "seconds": seconds }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
}

#[actix_web::test]
async fn clock_advance_expires_tokens_and_sessions_on_every_surface() {
    let server = Vlsim::start().await;
    let url = server.url();
    // VLSI: a 5-minute JwtToken_Generate token, a SOAP session
    let admin = logged_in(url, "administrator").await;
    let (soap_token, _) = generate(&admin, url, Some("<validityTime>5</validityTime>")).await;
    // FusionAuth: an access token (TTL 3600 s) and a refresh token (43200 min)
    let login = fa_login(url, FA_APP).await;
    let access = login["token"].as_str().unwrap().to_string();
    let refresh = login["refreshToken"].as_str().unwrap().to_string();
    // vCenter: a session (idle timeout 1800 s)
    let sid = vc_session(url).await;
    assert_eq!(fa_validate(url, &access).await, 200);
    assert_eq!(
        fa_validate(url, &soap_token).await,
        200,
        "cross-surface before expiry"
    );
    assert_eq!(vc_session_status(url, &sid).await, 200);

    advance(url, 3601).await;
    assert_eq!(
        fa_validate(url, &access).await,
        401,
        "FusionAuth access token expired"
    );
    assert_eq!(
        fa_validate(url, &soap_token).await,
        401,
        "SOAP token expired at validate"
    );
    let r = call(&client(), url, &login_by_token_xml(&soap_token)).await;
    assert_eq!(
        r.fault_type(),
        "InvalidCredentials",
        "SOAP token expired at LoginByToken"
    );
    assert_eq!(
        call(&admin, url, &generate_xml(None)).await.fault_type(),
        "SecurityError"
    );
    assert_eq!(
        vc_session_status(url, &sid).await,
        401,
        "vCenter session idled out"
    );
    assert_eq!(
        fa_refresh(url, &refresh).await,
        200,
        "the refresh token lives 30 days"
    );

    advance(url, 43200 * 60).await;
    assert_ne!(
        fa_refresh(url, &refresh).await,
        200,
        "and then it expires too"
    );
}

#[actix_web::test]
async fn fault_rules_reach_rest_and_json_rpc_operations() {
    let server = Vlsim::start().await;
    let url = server.url();
    let add = |rule: Value| {
        let url = url.to_string();
        async move {
            let res = http()
                .post(format!("{url}/_vlsim/faults"))
                .json(&rule)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status().as_u16(), 201);
        }
    };
    add(
        json!({"surface": "fusionauth", "operation": "POST /api/login", "max_count": 1,
               "action": {"kind": "typed"}}),
    )
    .await;
    let res = http()
        .post(format!("{url}/api/login"))
        .header("Authorization", FA_API_KEY)
        .json(&json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": FA_APP}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);
    let body: Value = res.json().await.unwrap();
    assert!(body["generalErrors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("Injected"));
    fa_login(url, FA_APP).await; // max_count 1: the next call goes through

    add(
        json!({"surface": "vcenter", "operation": "POST /api/vcenter/authentication/token",
               "action": {"kind": "typed", "fault": "invalid_scope", "message": "nope"}}),
    )
    .await;
    let sid = vc_session(url).await;
    let res = http()
        .post(format!("{url}/api/vcenter/authentication/token"))
        .header("vmware-api-session-id", &sid)
        .form(&[(
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": "invalid_scope", "error_description": "nope"})
    );

    add(
        json!({"surface": "vcenter", "operation": "com.vmware.cis.session.get",
               "action": {"kind": "typed"}}),
    )
    .await;
    let rpc = json!({"jsonrpc": "2.0", "id": "7", "method": "invoke", "params": {
        "serviceId": "com.vmware.cis.session", "operationId": "get",
        "ctx": {"appCtx": {}, "securityCtx": {"schemeId": "com.vmware.vapi.std.security.session_id", "sessionId": sid}},
        "input": {"STRUCTURE": {"operation-input": {}}}}});
    let res = http()
        .post(format!("{url}/api"))
        .json(&rpc)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["id"], "7");
    assert!(
        body["result"]["error"]["ERROR"]["com.vmware.vapi.std.errors.service_unavailable"]
            .is_object(),
        "{body}"
    );

    let res = http()
        .get(format!(
            "{url}/_vlsim/journal?surface=vcenter&operation=com.vmware.cis.session.get"
        ))
        .send()
        .await
        .unwrap();
    let journal: Value = res.json().await.unwrap();
    assert_eq!(journal["count"], 1);
    assert!(journal["entries"][0]["injected_fault"].is_string());
    let res = http()
        .get(format!("{url}/_vlsim/journal?operation=POST%20/api/login"))
        .send()
        .await
        .unwrap();
    let journal: Value = res.json().await.unwrap();
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
    let server = Vlsim::start().await;
    let url = server.url();
    let login = fa_login(url, FA_APP).await;
    let sid = vc_session(url).await;
    let state: Value = http()
        .get(format!("{url}/_vlsim/state"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(state["counts"]["fusionauth_refresh_tokens"], 1);
    assert!(
        !state
            .to_string()
            .contains(login["refreshToken"].as_str().unwrap()),
        "only metadata"
    );
    http()
        .post(format!("{url}/_vlsim/reset"))
        .send()
        .await
        .unwrap();
    assert_ne!(
        fa_refresh(url, login["refreshToken"].as_str().unwrap()).await,
        200
    );
    assert_eq!(vc_session_status(url, &sid).await, 401);
    fa_login(url, FA_APP).await; // fixtures are back
    let about: Value = http()
        .get(format!("{url}/_vlsim/about"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
    let health: Value = http()
        .get(format!("{url}/_vlsim/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["surfaces"], json!(["vlsi", "fusionauth", "vcenter"]));
}
