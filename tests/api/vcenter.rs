//! vCenter surface, at the wire: `/api/session`, the form token endpoint, vAPI JSON-RPC on
//! `POST /api`, the legacy `/rest` forms, OIDC discovery and JWKS. Expiry by moving the
//! server clock, never by sleeping.

use crate::helpers::vc::*;
use crate::helpers::{
    b64_json, claims, client, exchange_form, TestApp, GET_PUBLIC_KEYS, HMAC_KID, RSA_KID,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use std::io::Write;

#[actix_web::test]
async fn session_create_get_delete_and_login_forms() {
    let app = TestApp::start().await;
    let sid = app.vcenter_session().await;
    let info = app.vcenter(Method::GET, "/api/session", &sid).await.json();
    assert_eq!(info["user"], "VSPHERE.LOCAL\\Administrator");
    assert!(info["created_time"].as_str().unwrap().ends_with('Z'));
    assert!(info["last_accessed_time"].is_string());

    for user in [
        "VSPHERE.LOCAL\\Administrator",
        "administrator",
        "ADMINISTRATOR@VSPHERE.LOCAL",
    ] {
        assert_eq!(
            app.vcenter_login(user, PASSWORD).await.status,
            201,
            "{user}"
        );
    }
    for (user, password) in [(USER, "vmware1!"), ("nobody@vsphere.local", PASSWORD)] {
        let r = app.vcenter_login(user, password).await;
        assert_eq!(r.status, 401);
        assert!(r.headers.contains_key("www-authenticate"));
        let body = r.json();
        assert_eq!(body["error_type"], "UNAUTHENTICATED");
        assert_eq!(
            body["messages"][0]["id"],
            "com.vmware.vapi.endpoint.method.authentication.required"
        );
    }
    // bare, then garbage
    for authorization in [None, Some("Basic !!!")] {
        let r = app.vcenter_login_with(authorization).await;
        assert_eq!(r.status, 401, "{authorization:?}");
    }

    let r = app.vcenter(Method::DELETE, "/api/session", &sid).await;
    assert_eq!(r.status, 204);
    for method in [Method::GET, Method::DELETE] {
        let r = app.vcenter(method.clone(), "/api/session", &sid).await;
        assert_eq!(r.status, 401, "{method}");
    }
    for (event_type, count) in [("VCENTER_SESSION_CREATED", 4), ("VCENTER_LOGIN_FAILED", 2)] {
        let events = app
            .events(&format!("surface=vcenter&type={event_type}"))
            .await;
        assert_eq!(events.len(), count, "{event_type}");
    }
    let deleted = app
        .events("surface=vcenter&type=VCENTER_SESSION_DELETED")
        .await;
    assert_eq!(deleted[0]["user"], "Administrator@vsphere.local");
    app.stop().await;
}

#[actix_web::test]
async fn session_idle_timeout_follows_the_server_clock() {
    let app = TestApp::start().await;
    app.freeze_clock();
    let sid = app.vcenter_session().await;
    // each use touches the session: its idle timer restarts
    for (idle, want) in [(1799, 200), (1799, 200), (1800, 401)] {
        app.clock().advance(idle);
        let r = app.vcenter(Method::GET, "/api/session", &sid).await;
        assert_eq!(r.status, want, "after {idle} s idle");
    }
    app.stop().await;
}

#[actix_web::test]
async fn exchange_flows_claims_and_jwks_verification() {
    let app = TestApp::start().await;
    let sid = app.vcenter_session().await;
    let idp = app.idp_jwt(json!({}));

    // IdP JWT -> SAML2, Bearer-authorised like VCF 9.1.
    let r = app
        .send(
            app.request(Method::POST, TOKEN_PATH, Some(&format!("Bearer {idp}")))
                .form(&exchange_form(
                    &idp,
                    ACCESS,
                    &[("requested_token_type", SAML2)],
                )),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.headers["cache-control"], "no-store");
    let saml = r.json();
    assert_eq!(saml["issued_token_type"], SAML2);
    assert_eq!(saml["token_type"], "Bearer");
    assert_eq!(saml["expires_in"], 299);
    assert!(saml.get("scope").is_none() && saml.get("refresh_token").is_none());
    let saml_b64 = saml["access_token"].as_str().unwrap();
    let xml = String::from_utf8(STANDARD.decode(saml_b64).unwrap()).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?><saml2:Assertion"));
    assert!(xml.contains(
        "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\">"
    ));
    assert!(xml.contains("http://www.w3.org/2001/10/xml-exc-c14n#"));
    assert!(xml.contains(">Administrator@vsphere.local</saml2:NameID>"));

    // SAML2 -> id_token for the Supervisor audience.
    let to_k8s_id = [("requested_token_type", ID), ("audience", K8S)];
    let (status, id) = app
        .exchange(&sid, &exchange_form(saml_b64, SAML2, &to_k8s_id))
        .await;
    assert_eq!(status, 200, "{id}");
    assert_eq!(id["token_type"], "N_A");
    assert_eq!(id["issued_token_type"], ID);
    assert_eq!(id["expires_in"], 35999);
    assert_eq!(id["scope"], "openid");
    let token = id["access_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(token).unwrap().kid.as_deref(),
        Some(RSA_KID)
    );
    let c = app.vcenter_verify(token, K8S).await;
    assert_eq!(c["sub"], "Administrator@vsphere.local");
    assert_eq!(c["aud"], K8S);
    assert_eq!(c["domain"], "vsphere.local");
    assert_eq!(c["username"], "Administrator");
    assert_eq!(
        c["group_names"],
        json!([
            "Administrators@vsphere.local",
            "Users@vsphere.local",
            "Everyone@vsphere.local"
        ])
    );
    let now = app.clock().now_secs();
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        36000
    );
    assert!((c["iat"].as_i64().unwrap() - now).abs() <= 1);
    assert_eq!(c["jti"].as_str().unwrap().len(), 36);

    // JWT -> JWT with an actor; and a Horizon JwtToken_Generate token as subject.
    let nsx = "vmware-tes:vc:nsxd-v2:nsx";
    let with_actor = [
        ("requested_token_type", ACCESS),
        ("audience", nsx),
        ("actor_token", idp.as_str()),
        ("actor_token_type", ACCESS),
    ];
    let (status, at) = app
        .exchange(&sid, &exchange_form(token, ID, &with_actor))
        .await;
    assert_eq!(status, 200, "{at}");
    assert_eq!(at["token_type"], "Bearer");
    let c = app
        .vcenter_verify(at["access_token"].as_str().unwrap(), nsx)
        .await;
    assert_eq!(c["act"]["sub"], "Administrator@vsphere.local");

    let horizon_jwt = app.horizon_token(None).await;
    let b64 = STANDARD.encode(&horizon_jwt); // "Token is base64-encoded" is accepted too
    let (status, hz) = app
        .exchange(&sid, &exchange_form(&b64, ACCESS, &to_k8s_id))
        .await;
    assert_eq!(status, 200, "{hz}");
    let c = claims(hz["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], "administrator@VLSIM");

    // A federated user (not in the SSO domain) keeps the groups its IdP token states.
    let federated =
        app.idp_jwt(json!({"sub": "jane@corp.example", "group_names": ["Devs@corp.example"]}));
    let (status, fed) = app
        .exchange(&sid, &exchange_form(&federated, ACCESS, &to_k8s_id))
        .await;
    assert_eq!(status, 200, "{fed}");
    let c = app
        .vcenter_verify(fed["access_token"].as_str().unwrap(), K8S)
        .await;
    assert_eq!(c["sub"], "jane@corp.example");
    assert_eq!(c["username"], "jane");
    assert_eq!(c["domain"], "corp.example");
    assert_eq!(c["group_names"], json!(["Devs@corp.example"]));

    let issued = app
        .events("surface=vcenter&type=VCENTER_TOKEN_ISSUED")
        .await;
    assert_eq!(issued.len(), 5);
    assert_eq!(issued[0]["details"]["issuedTokenType"], ID);
    app.stop().await;
}

#[actix_web::test]
async fn exchange_errors_are_oauth2_400s() {
    let app = TestApp::start().await;
    let sid = app.vcenter_session().await;
    let idp = app.idp_jwt(json!({}));
    let saml = app.saml_token(&sid).await;
    let now = app.clock().now_secs();
    let untrusted = app.mint(
        HMAC_KID,
        json!({"iss": "https://evil.example", "sub": "x", "exp": now + 60}),
    );
    let expired = app.idp_jwt(json!({"exp": now - 1}));
    let alg_none = format!(
        "{}.{}.",
        b64_json(&json!({"alg": "none"})),
        b64_json(&json!({"iss": app.vcenter_issuer(), "sub": "x", "exp": now + 60}))
    );
    let mut tampered = String::from_utf8(STANDARD.decode(&saml).unwrap()).unwrap();
    tampered = tampered.replace("Administrator@vsphere.local", "Mallory@vsphere.local");
    let tampered = STANDARD.encode(tampered);
    let forged_sig = format!("{}AAAA", &idp[..idp.len() - 4]);

    let refresh = "urn:ietf:params:oauth:token-type:refresh_token";
    let saml1 = "urn:ietf:params:oauth:token-type:saml1";
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "invalid_request"),
        // RFC 6749 §5.2: "The authorization grant type is not supported by the
        // authorization server" (vSphere 8.0.3+ declares unsupported_grant_type).
        (vec![("grant_type", "password")], "unsupported_grant_type"),
        (
            vec![("grant_type", GRANT), ("subject_token_type", ACCESS)],
            "invalid_request",
        ),
        (
            vec![("grant_type", GRANT), ("subject_token", &idp)],
            "invalid_request",
        ),
        (exchange_form(&idp, "urn:x", &[]), "invalid_request"),
        (exchange_form(&idp, saml1, &[]), "invalid_request"),
        (
            exchange_form(&idp, ACCESS, &[("requested_token_type", refresh)]),
            "invalid_request",
        ),
        (
            exchange_form(&idp, ACCESS, &[("actor_token", &idp)]),
            "invalid_request",
        ),
        (
            exchange_form(&idp, ACCESS, &[("resource", "not a uri")]),
            "invalid_request",
        ),
        (
            exchange_form(
                &saml,
                SAML2,
                &[("audience", K8S), ("scope", "openid admin")],
            ),
            "invalid_scope",
        ),
        (exchange_form(&forged_sig, ACCESS, &[]), "invalid_grant"),
        (exchange_form(&expired, ACCESS, &[]), "invalid_grant"),
        (exchange_form(&untrusted, ACCESS, &[]), "invalid_grant"),
        (exchange_form(&alg_none, ACCESS, &[]), "invalid_grant"),
        (exchange_form("not-a-jwt", ACCESS, &[]), "invalid_grant"),
        (
            exchange_form(&tampered, SAML2, &[("audience", K8S)]),
            "invalid_grant",
        ),
        (
            exchange_form("%%%", SAML2, &[("audience", K8S)]),
            "invalid_grant",
        ),
        // The subject is read and verified before the optional parameters are judged: a
        // garbage SAML2 subject is invalid_grant even beside a bad requested type or scope.
        (
            exchange_form(
                "%%%",
                SAML2,
                &[("requested_token_type", refresh), ("scope", "admin")],
            ),
            "invalid_grant",
        ),
        (
            exchange_form(
                &idp,
                ACCESS,
                &[("actor_token", "bad"), ("actor_token_type", ACCESS)],
            ),
            "invalid_grant",
        ),
    ];
    for (form, code) in &cases {
        let (status, body) = app.exchange(&sid, form).await;
        assert_eq!(status, 400, "{form:?}: {body}");
        assert_eq!(body["error"], *code, "{form:?}: {body}");
        let description = body["error_description"].as_str().unwrap();
        assert!(
            description
                .chars()
                .all(|c| (' '..='~').contains(&c) && c != '"' && c != '\\'),
            "{description}"
        );
    }
    // A repeated parameter and an oversized body are malformed requests.
    for (name, body, error) in [
        (
            "repeated grant_type",
            format!("grant_type={GRANT}&grant_type={GRANT}").into_bytes(),
            Some("invalid_request"),
        ),
        ("oversized", vec![b'a'; 2 * 1024 * 1024], None),
    ] {
        let r = app
            .send(
                app.request(Method::POST, TOKEN_PATH, None)
                    .header("vmware-api-session-id", &sid)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body),
            )
            .await;
        assert_eq!(r.status, 400, "{name}");
        if let Some(error) = error {
            assert_eq!(r.json()["error"], error, "{name}");
        }
    }
    // No session, an unknown session, an untrusted bearer: std 401.
    for (header, value) in [
        (None, ""),
        (Some("vmware-api-session-id"), "nope"),
        (Some("Authorization"), "Bearer a.b.c"),
    ] {
        let mut rb = app
            .request(Method::POST, TOKEN_PATH, None)
            .form(&[("grant_type", GRANT)]);
        if let Some(header) = header {
            rb = rb.header(header, value);
        }
        let r = app.send(rb).await;
        assert_eq!(r.status, 401, "{header:?}");
        assert_eq!(r.json()["error_type"], "UNAUTHENTICATED");
    }
    let failed = app
        .events("surface=vcenter&type=VCENTER_TOKEN_ISSUE_FAILED")
        .await;
    // Every refused exchange is logged, including the two unreadable bodies.
    assert_eq!(failed.len(), cases.len() + 2);
    assert_eq!(failed[0]["severity"], "AUDIT_FAIL");
    app.stop().await;
}

#[actix_web::test]
async fn tokens_expire_by_the_server_clock() {
    let app = TestApp::start().await;
    app.freeze_clock();
    let sid = app.vcenter_session().await;
    let saml = app.saml_token(&sid).await;
    let to_k8s_id = [("audience", K8S), ("requested_token_type", ID)];
    let (status, id) = app
        .exchange(&sid, &exchange_form(&saml, SAML2, &to_k8s_id))
        .await;
    assert_eq!(status, 200);
    let id_token = id["access_token"].as_str().unwrap().to_string();
    app.clock().advance(299);
    let (status, _) = app
        .exchange(&sid, &exchange_form(&saml, SAML2, &to_k8s_id))
        .await;
    assert_eq!(status, 200);
    app.vcenter_session().await; // keep a session alive past the SAML lifetime
    app.clock().advance(1);
    let sid2 = app.vcenter_session().await;
    let (status, body) = app
        .exchange(&sid2, &exchange_form(&saml, SAML2, &[("audience", K8S)]))
        .await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
    // The id_token lives 36000 s.
    app.clock().advance(36000 - 301);
    let sid3 = app.vcenter_session().await;
    let (status, body) = app
        .exchange(&sid3, &exchange_form(&id_token, ID, &[]))
        .await;
    assert_eq!(status, 200, "{body}");
    app.clock().advance(1);
    let sid4 = app.vcenter_session().await;
    let (_, body) = app
        .exchange(&sid4, &exchange_form(&id_token, ID, &[]))
        .await;
    assert_eq!(body["error"], "invalid_grant");
    app.stop().await;
}

/// `Authorization: SIGN token=...` for a SAML assertion (gzip, then base64).
fn sign_header(xml: &[u8]) -> String {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(xml).unwrap();
    format!(
        "SIGN token=\"{}\", signature_alg=\"RSA-SHA256\"",
        STANDARD.encode(gz.finish().unwrap())
    )
}

#[actix_web::test]
async fn saml_and_bearer_logins() {
    let app = TestApp::start().await;
    let sid = app.vcenter_session().await;
    let saml = app.saml_token(&sid).await;
    let xml = STANDARD.decode(&saml).unwrap();

    let r = app.vcenter_login_with(Some(&sign_header(&xml))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let saml_sid = r.json().as_str().unwrap().to_string();
    let info = app
        .vcenter(Method::GET, "/api/session", &saml_sid)
        .await
        .json();
    assert_eq!(info["user"], "VSPHERE.LOCAL\\Administrator");

    let tampered = String::from_utf8(xml.clone())
        .unwrap()
        .replace("PasswordProtectedTransport", "Kerberos");
    for header in [
        sign_header(tampered.as_bytes()),
        "SIGN token=\"bm90IGd6aXA=\"".to_string(),
        "SIGN nothing".to_string(),
    ] {
        let r = app.vcenter_login_with(Some(&header)).await;
        assert_eq!(r.status, 401, "{header}");
    }

    // Bearer JWT from a trusted issuer opens a session; an untrusted one does not.
    for (claims, want) in [
        (json!({}), 201),
        (json!({"iss": "https://evil.example/x"}), 401),
    ] {
        let bearer = format!("Bearer {}", app.idp_jwt(claims.clone()));
        let r = app.vcenter_login_with(Some(&bearer)).await;
        assert_eq!(r.status, want, "{claims}");
    }

    // The SAML token expires after 300 s: no more logins with it.
    app.clock().advance(300);
    let r = app.vcenter_login_with(Some(&sign_header(&xml))).await;
    assert_eq!(r.status, 401);
    let methods: Vec<String> = app
        .events("surface=vcenter&type=VCENTER_SESSION_CREATED")
        .await
        .iter()
        .map(|e| e["details"]["method"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(methods, ["jwt", "saml", "password"]);
    app.stop().await;
}

fn opt(v: &str) -> Value {
    json!({ "OPTIONAL": v })
}

#[actix_web::test]
async fn vapi_json_rpc_encoding() {
    let app = TestApp::start().await;
    let user_pass = json!({"schemeId": "com.vmware.vapi.std.security.user_pass",
        "userName": USER, "password": PASSWORD});
    let created = app
        .rpc("com.vmware.cis.session", "create", json!({}), user_pass)
        .await;
    let sid = created["output"]["SECRET"].as_str().unwrap().to_string();
    let sec = json!({"schemeId": "com.vmware.vapi.std.security.session_id", "sessionId": sid});

    let info = app
        .rpc("com.vmware.cis.session", "get", json!({}), sec.clone())
        .await;
    let fields = &info["output"]["STRUCTURE"]["com.vmware.cis.session.info"];
    assert_eq!(fields["user"], "VSPHERE.LOCAL\\Administrator");
    assert_eq!(fields["created_time"].as_str().unwrap().len(), 24); // 2026-01-01T00:00:00.000Z

    let idp = app.idp_jwt(json!({}));
    let spec =
        |subject: &str, subject_type: &str, requested: Option<&str>, audience: Option<&str>| {
            json!({"spec": {"STRUCTURE": {"com.vmware.vcenter.authentication.token.issue_spec": {
                "grant_type": GRANT,
                "resource": {"OPTIONAL": null}, "audience": {"OPTIONAL": audience},
                "scope": {"OPTIONAL": null}, "requested_token_type": {"OPTIONAL": requested},
                "subject_token": opt(subject), "subject_token_type": opt(subject_type),
                "actor_token": {"OPTIONAL": null}, "actor_token_type": {"OPTIONAL": null},
            }}}})
        };
    let token = "com.vmware.vcenter.authentication.token";
    let issued = app
        .rpc(
            token,
            "issue",
            spec(&idp, ACCESS, Some(SAML2), None),
            sec.clone(),
        )
        .await;
    let ti = &issued["output"]["STRUCTURE"]["com.vmware.oauth2.token_info"];
    assert_eq!(ti["token_type"], "Bearer");
    assert_eq!(ti["expires_in"], json!({"OPTIONAL": 299}));
    assert_eq!(ti["scope"], json!({"OPTIONAL": null}));
    assert_eq!(ti["refresh_token"], json!({"OPTIONAL": null}));
    assert_eq!(ti["issued_token_type"], opt(SAML2));
    let saml = ti["access_token"].as_str().unwrap();
    let issued = app
        .rpc(
            token,
            "issue",
            spec(saml, SAML2, Some(ID), Some(K8S)),
            sec.clone(),
        )
        .await;
    let ti = &issued["output"]["STRUCTURE"]["com.vmware.oauth2.token_info"];
    assert_eq!(ti["token_type"], "N_A");
    assert_eq!(ti["scope"], opt("openid"));

    // OAuth2 errors are results, typed.
    let bad = app
        .rpc(
            token,
            "issue",
            spec("x.y.z", ACCESS, None, None),
            sec.clone(),
        )
        .await;
    let err = &bad["error"]["ERROR"]["com.vmware.oauth2.errors.invalid_grant"];
    assert_eq!(err["error"], "invalid_grant");
    assert!(err["error_description"]["OPTIONAL"].is_string());
    assert_eq!(err["error_uri"], json!({"OPTIONAL": null}));
    // Any audience, when the fixtures do not restrict them (see
    // `audiences_are_refused_only_where_the_fixtures_list_them` for the refusal).
    let any = app
        .rpc(
            token,
            "issue",
            spec(saml, SAML2, Some(ID), Some("urn:x")),
            sec.clone(),
        )
        .await;
    assert!(
        any["output"]["STRUCTURE"]["com.vmware.oauth2.token_info"].is_object(),
        "{any}"
    );
    let bad = app.rpc(token, "issue", json!({}), sec.clone()).await;
    assert!(bad["error"]["ERROR"]["com.vmware.oauth2.errors.invalid_request"].is_object());

    // Legacy token service through JSON-RPC: required issued_token_type, its own errors.
    let legacy = "com.vmware.vcenter.tokenservice.token_exchange";
    let out = app
        .rpc(
            legacy,
            "exchange",
            spec(saml, SAML2, Some(ID), Some(K8S)),
            sec.clone(),
        )
        .await;
    let info = &out["output"]["STRUCTURE"]["com.vmware.vcenter.tokenservice.token_exchange.info"];
    assert_eq!(info["issued_token_type"], ID);
    let out = app
        .rpc(
            legacy,
            "exchange",
            spec("x", ACCESS, None, None),
            sec.clone(),
        )
        .await;
    let err = &out["error"]["ERROR"]["com.vmware.vcenter.tokenservice.invalid_grant"];
    assert!(
        err["messages"][0]["STRUCTURE"]["com.vmware.vapi.std.localizable_message"]
            ["default_message"]
            .is_string()
    );

    // Unauthenticated, unknown operations, protocol errors.
    let wrong = json!({"schemeId": "com.vmware.vapi.std.security.user_pass", "userName": USER, "password": "x"});
    let denied = app
        .rpc("com.vmware.cis.session", "create", json!({}), wrong)
        .await;
    let un = &denied["error"]["ERROR"]["com.vmware.vapi.std.errors.unauthenticated"];
    assert_eq!(un["error_type"], opt("UNAUTHENTICATED"));
    assert_eq!(un["challenge"], json!({"OPTIONAL": null}));
    assert_eq!(un["data"], json!({"OPTIONAL": null}));
    let m = &un["messages"][0]["STRUCTURE"]["com.vmware.vapi.std.localizable_message"];
    assert_eq!(m["args"], json!([]));
    assert_eq!(m["params"], json!({"OPTIONAL": null}));
    let anon = app
        .rpc(token, "issue", spec(&idp, ACCESS, None, None), json!(null))
        .await;
    assert!(anon["error"]["ERROR"]["com.vmware.vapi.std.errors.unauthenticated"].is_object());
    let oauth = json!({"schemeId": "com.vmware.vapi.std.security.oauth", "accessToken": idp});
    let via_oauth = app
        .rpc(
            token,
            "issue",
            spec(&idp, ACCESS, None, None),
            oauth.clone(),
        )
        .await;
    assert!(via_oauth["output"].is_object(), "{via_oauth}");
    let by_saml = json!({"schemeId": "com.vmware.vapi.std.security.saml_bearer_token",
        "samlToken": String::from_utf8(STANDARD.decode(saml).unwrap()).unwrap()});
    let s2 = app
        .rpc("com.vmware.cis.session", "create", json!({}), by_saml)
        .await;
    assert!(s2["output"]["SECRET"].is_string());
    let unknown = app
        .rpc(
            "com.vmware.cis.session",
            "frobnicate",
            json!({}),
            sec.clone(),
        )
        .await;
    assert!(
        unknown["error"]["ERROR"]["com.vmware.vapi.std.errors.operation_not_found"].is_object()
    );

    for (body, code) in [
        ("{not json".to_string(), -32700),
        (
            json!({"jsonrpc": "1.0", "method": "invoke", "id": 1}).to_string(),
            -32600,
        ),
        (
            json!({"jsonrpc": "2.0", "method": "other", "id": 1}).to_string(),
            -32601,
        ),
    ] {
        let r = app
            .send(
                app.request(Method::POST, "/api", None)
                    .header("Content-Type", "application/json")
                    .body(body),
            )
            .await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json()["error"]["code"], code);
    }

    let deleted = app
        .rpc("com.vmware.cis.session", "delete", json!({}), sec.clone())
        .await;
    assert_eq!(deleted, json!({"output": null}));
    let gone = app
        .rpc("com.vmware.cis.session", "get", json!({}), sec)
        .await;
    assert!(gone["error"]["ERROR"]["com.vmware.vapi.std.errors.unauthenticated"].is_object());
    app.stop().await;
}

#[actix_web::test]
async fn legacy_rest_session_and_token_exchange() {
    let app = TestApp::start().await;
    let c = client(); // keeps cookies
    let session = "/rest/com/vmware/cis/session";
    let r = app
        .send(c.post(app.at(session)).basic_auth(USER, Some(PASSWORD)))
        .await;
    assert_eq!(r.status, 200);
    let cookie = r.headers["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("Path=/rest"), "{cookie}");
    let sid = r.json()["value"].as_str().unwrap().to_string();
    assert!(cookie.starts_with(&format!("vmware-api-session-id={sid}")));

    let get = format!("{session}?~action=get");
    let info = app.send(c.post(app.at(&get))).await.json();
    assert_eq!(info["value"]["user"], "VSPHERE.LOCAL\\Administrator");
    let info = app.vcenter(Method::GET, session, &sid).await.json();
    assert_eq!(info["value"]["user"], "VSPHERE.LOCAL\\Administrator");

    let token_exchange = "/rest/vcenter/tokenservice/token-exchange";
    let exchange = |body: Value| app.send(c.post(app.at(token_exchange)).json(&body));
    let idp = app.idp_jwt(json!({}));
    let r = exchange(json!({"spec": {"grant_type": GRANT, "subject_token": idp,
            "subject_token_type": ACCESS, "requested_token_type": ID, "audience": K8S}}))
    .await;
    assert_eq!(r.status, 200);
    let value = r.json()["value"].clone();
    assert_eq!(value["token_type"], "N_A");
    app.vcenter_verify(value["access_token"].as_str().unwrap(), K8S)
        .await;
    for (body, status, kind) in [
        (
            json!({"spec": {"grant_type": GRANT, "subject_token": "x", "subject_token_type": ACCESS}}),
            400,
            "com.vmware.vcenter.tokenservice.invalid_grant",
        ),
        (
            json!({"spec": {"grant_type": "nope", "subject_token": "x", "subject_token_type": ACCESS}}),
            400,
            "com.vmware.vcenter.tokenservice.invalid_request",
        ),
        (
            json!({"nospec": 1}),
            400,
            "com.vmware.vcenter.tokenservice.invalid_request",
        ),
    ] {
        let r = exchange(body).await;
        assert_eq!(r.status, status);
        let b = r.json();
        assert_eq!(b["type"], kind, "{b}");
        assert!(b["value"]["messages"][0]["default_message"].is_string());
    }

    assert_eq!(app.send(c.delete(app.at(session))).await.status, 200);
    let r = app.vcenter(Method::POST, &get, &sid).await;
    assert_eq!(r.status, 401);
    let b = r.json();
    assert_eq!(b["type"], "com.vmware.vapi.std.errors.unauthenticated");
    assert_eq!(b["value"]["error_type"], "UNAUTHENTICATED");
    let r = app.post(token_exchange, None, json!({"spec": {}})).await;
    assert_eq!(r.status, 401);

    let r = app
        .send(
            app.request(Method::POST, session, None)
                .basic_auth(USER, Some(PASSWORD))
                .header("vmware-use-header-authn", "true"),
        )
        .await;
    assert_eq!(r.status, 200);
    assert!(!r.headers.contains_key("set-cookie"));
    app.stop().await;
}

#[actix_web::test]
async fn oidc_discovery_and_a_stable_jwks_certificate() {
    let app = TestApp::start().await;
    let doc = app
        .get(
            "/openidconnect/vsphere.local/.well-known/openid-configuration",
            None,
        )
        .await
        .json();
    assert_eq!(doc["issuer"], app.vcenter_issuer());
    assert_eq!(doc["jwks_uri"], app.at("/openidconnect/jwks/vsphere.local"));
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    let first = app.vcenter_jwks().await;
    let key = &first["keys"][0];
    assert_eq!(first["keys"].as_array().unwrap().len(), 1);
    assert_eq!(key["kid"], RSA_KID);
    assert_eq!(key["alg"], "RS256");
    let der = STANDARD.decode(key["x5c"][0].as_str().unwrap()).unwrap();
    assert_eq!(der[0], 0x30, "x5c holds a DER certificate");
    assert!(key["x5t"].is_string() && key["x5t#S256"].is_string());
    for path in [
        "/openidconnect/jwks/other.local",
        "/openidconnect/other.local/.well-known/openid-configuration",
    ] {
        assert_eq!(app.get(path, None).await.status, 404, "{path}");
    }
    // Same key, same certificate after a restart.
    let app = app.restart().await;
    assert_eq!(app.vcenter_jwks().await, first);
    // The other surfaces' routes are untouched by /api and /rest registrations.
    let reply = app.soap(app.http(), GET_PUBLIC_KEYS).await;
    assert!(!reply.is_fault());
    app.stop().await;
}

#[actix_web::test]
async fn a_data_dir_from_before_vcenter_gets_its_world() {
    let app = TestApp::start().await;
    {
        // Make it look like a data dir written before the vCenter surface existed.
        let store = app.core().store();
        let meta = store.table::<Value>("meta").unwrap();
        assert!(meta.remove("vcenter").unwrap().is_some());
        store
            .table::<Value>("vcenter_users")
            .unwrap()
            .clear()
            .unwrap();
        store.flush().await.unwrap();
    }
    let app = app.restart().await;
    app.vcenter_session().await;
    app.stop().await;
}

/// IssueSpec: "audience ... If missing or null, it is inferred from other arguments", and
/// "If the requested type is unspecified, the issued token type is at the discretion of the
/// server": a SAML2 subject alone gets an id_token whose audience is this vCenter (its
/// issuer), on every wire form.
#[actix_web::test]
async fn a_jwt_requested_without_audience_is_for_this_vcenter() {
    let app = TestApp::start().await;
    let sid = app.vcenter_session().await;
    let saml = app.saml_token(&sid).await;
    let issuer = app.vcenter_issuer();
    for form in [
        exchange_form(&saml, SAML2, &[]),
        exchange_form(&saml, SAML2, &[("requested_token_type", ID)]),
        exchange_form(
            &app.idp_jwt(json!({})),
            ACCESS,
            &[("requested_token_type", ACCESS)],
        ),
    ] {
        let (status, body) = app.exchange(&sid, &form).await;
        assert_eq!(status, 200, "{form:?}: {body}");
        let token = body["access_token"].as_str().unwrap();
        let claims = app.vcenter_verify(token, &issuer).await;
        assert_eq!(claims["aud"], issuer.as_str());
    }
    // And any audience string is accepted when the fixtures list none.
    let (status, body) = app
        .exchange(
            &sid,
            &exchange_form(&saml, SAML2, &[("audience", "urn:example:any")]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    // Only scopes it cannot satisfy are invalid_scope.
    let (status, body) = app
        .exchange(
            &sid,
            &exchange_form(&saml, SAML2, &[("scope", "openid profile groups")]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .exchange(
            &sid,
            &exchange_form(&saml, SAML2, &[("scope", "openid vmomi")]),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "{body}"
    );
}

/// With `[vcenter] audiences` listed, another audience is `invalid_target` on the OAuth2
/// form (RFC 8693 §2.2.2); the vAPI operations, which declare only invalid_request,
/// invalid_grant and invalid_scope, report it as invalid_scope.
#[actix_web::test]
async fn audiences_are_refused_only_where_the_fixtures_list_them() {
    let app =
        TestApp::start_edited(&[("audiences = []", "audiences = [\"vmware-tes:vc:vns:k8s\"]")])
            .await;
    let sid = app.vcenter_session().await;
    let saml = app.saml_token(&sid).await;
    let (status, body) = app
        .exchange(&sid, &exchange_form(&saml, SAML2, &[("audience", K8S)]))
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app
        .exchange(
            &sid,
            &exchange_form(&saml, SAML2, &[("audience", "urn:nope")]),
        )
        .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_target")),
        "{body}"
    );

    let sec = json!({"schemeId": "com.vmware.vapi.std.security.session_id", "sessionId": sid});
    let input = |service: &str| {
        json!({"spec": {"STRUCTURE": {service: {
            "grant_type": GRANT, "audience": {"OPTIONAL": "urn:nope"},
            "subject_token": saml, "subject_token_type": SAML2,
        }}}})
    };
    let rpc = app
        .rpc(
            "com.vmware.vcenter.authentication.token",
            "issue",
            input("com.vmware.vcenter.authentication.token.issue_spec"),
            sec.clone(),
        )
        .await;
    assert!(
        rpc["error"]["ERROR"]["com.vmware.oauth2.errors.invalid_scope"].is_object(),
        "{rpc}"
    );
    let legacy = app
        .rpc(
            "com.vmware.vcenter.tokenservice.token_exchange",
            "exchange",
            input("com.vmware.vcenter.tokenservice.token_exchange.exchange_spec"),
            sec,
        )
        .await;
    assert!(
        legacy["error"]["ERROR"]["com.vmware.vcenter.tokenservice.invalid_scope"].is_object(),
        "{legacy}"
    );
}
