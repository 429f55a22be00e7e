//! vCenter surface, at the wire: `/api/session`, the form token endpoint, vAPI JSON-RPC on
//! `POST /api`, the legacy `/rest` forms, OIDC discovery and JWKS. Expiry by moving the
//! server clock, never by sleeping.

use crate::helpers::{call, claims, client, generate, logged_in};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::Write;
use vlsim::testkit::Vlsim;

const USER: &str = "administrator@vsphere.local";
const PASSWORD: &str = "VMware1!";
const K8S: &str = "vmware-tes:vc:vns:k8s";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
const ID: &str = "urn:ietf:params:oauth:token-type:id_token";
const SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
const RSA_KID: &str = "40000000-0000-4000-8000-000000000001";
const TOKEN_PATH: &str = "/api/vcenter/authentication/token";

fn plain() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Stops the server clock where it is, so moving it is exact to the second.
fn freeze(server: &Vlsim) {
    server.clock().set(server.clock().now_ms(), true);
}

fn host(server: &Vlsim) -> String {
    server.url().trim_start_matches("http://").to_string()
}

fn issuer(server: &Vlsim) -> String {
    format!("https://{}/openidconnect/vsphere.local", host(server))
}

async fn login(server: &Vlsim) -> String {
    let res = plain()
        .post(format!("{}/api/session", server.url()))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<String>().await.unwrap()
}

/// An IdP access token for the administrator, signed by the fixture RSA key.
fn idp_jwt(server: &Vlsim, extra: Value) -> String {
    let now = server.clock().now_secs();
    let mut c = json!({
        "iss": issuer(server), "sub": "Administrator@vsphere.local",
        "iat": now, "exp": now + 600,
    });
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    let key = server.core().key_ring().get(RSA_KID).unwrap();
    vlsim::core::tokens::mint(&key, c.as_object().unwrap()).unwrap()
}

async fn exchange(server: &Vlsim, sid: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let res = plain()
        .post(format!("{}{TOKEN_PATH}", server.url()))
        .header("vmware-api-session-id", sid)
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status();
    (status, res.json().await.unwrap())
}

async fn saml_token(server: &Vlsim, sid: &str) -> String {
    let idp = idp_jwt(server, json!({}));
    let (status, body) = exchange(
        server,
        sid,
        &[
            ("grant_type", GRANT),
            ("subject_token", &idp),
            ("subject_token_type", ACCESS),
            ("requested_token_type", SAML2),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().unwrap().to_string()
}

async fn jwks(server: &Vlsim) -> Value {
    plain()
        .get(format!("{}/openidconnect/jwks/vsphere.local", server.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Verifies with nothing but the JWKS; returns the claims.
async fn verify_with_jwks(server: &Vlsim, token: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    let keys = jwks(server).await;
    let jwk = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"].as_str() == header.kid.as_deref())
        .unwrap()
        .clone();
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[audience]);
    v.set_issuer(&[issuer(server)]);
    v.validate_exp = false; // the server clock may be moved; exp is checked by hand below
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap()
        .claims
}

async fn events(server: &Vlsim, event_type: &str) -> Vec<Value> {
    let body: Value = plain()
        .get(format!(
            "{}/_vlsim/events?surface=vcenter&type={event_type}",
            server.url()
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["events"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn session_create_get_delete_and_login_forms() {
    let server = Vlsim::start().await;
    let url = server.url();
    let sid = login(&server).await;
    let info: Value = plain()
        .get(format!("{url}/api/session"))
        .header("vmware-api-session-id", &sid)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["user"], "VSPHERE.LOCAL\\Administrator");
    assert!(info["created_time"].as_str().unwrap().ends_with('Z'));
    assert!(info["last_accessed_time"].is_string());

    for user in [
        "VSPHERE.LOCAL\\Administrator",
        "administrator",
        "ADMINISTRATOR@VSPHERE.LOCAL",
    ] {
        let res = plain()
            .post(format!("{url}/api/session"))
            .basic_auth(user, Some(PASSWORD))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED, "{user}");
    }
    for (user, password) in [(USER, "vmware1!"), ("nobody@vsphere.local", PASSWORD)] {
        let res = plain()
            .post(format!("{url}/api/session"))
            .basic_auth(user, Some(password))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.headers().contains_key("www-authenticate"));
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error_type"], "UNAUTHENTICATED");
        assert_eq!(
            body["messages"][0]["id"],
            "com.vmware.vapi.endpoint.method.authentication.required"
        );
    }
    let bare = plain()
        .post(format!("{url}/api/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    let garbage = plain()
        .post(format!("{url}/api/session"))
        .header("Authorization", "Basic !!!")
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED);

    let del = plain()
        .delete(format!("{url}/api/session"))
        .header("vmware-api-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let res = plain()
            .request(method, format!("{url}/api/session"))
            .header("vmware-api-session-id", &sid)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(events(&server, "VCENTER_SESSION_CREATED").await.len(), 4);
    assert_eq!(events(&server, "VCENTER_LOGIN_FAILED").await.len(), 2);
    let deleted = events(&server, "VCENTER_SESSION_DELETED").await;
    assert_eq!(deleted[0]["user"], "Administrator@vsphere.local");
    server.stop().await;
}

#[actix_web::test]
async fn session_idle_timeout_follows_the_server_clock() {
    let server = Vlsim::start().await;
    freeze(&server);
    let sid = login(&server).await;
    let get = || {
        plain()
            .get(format!("{}/api/session", server.url()))
            .header("vmware-api-session-id", &sid)
            .send()
    };
    server.clock().advance(1799);
    assert_eq!(get().await.unwrap().status(), StatusCode::OK); // touched: timer restarts
    server.clock().advance(1799);
    assert_eq!(get().await.unwrap().status(), StatusCode::OK);
    server.clock().advance(1800);
    assert_eq!(get().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[actix_web::test]
async fn exchange_flows_claims_and_jwks_verification() {
    let server = Vlsim::start().await;
    let sid = login(&server).await;
    let idp = idp_jwt(&server, json!({}));

    // IdP JWT -> SAML2, Bearer-authorised like VCF 9.1.
    let res = plain()
        .post(format!("{}{TOKEN_PATH}", server.url()))
        .bearer_auth(&idp)
        .form(&[
            ("grant_type", GRANT),
            ("requested_token_type", SAML2),
            ("subject_token_type", ACCESS),
            ("subject_token", idp.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let saml: Value = res.json().await.unwrap();
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
    let (status, id) = exchange(
        &server,
        &sid,
        &[
            ("grant_type", GRANT),
            ("subject_token", saml_b64),
            ("subject_token_type", SAML2),
            ("requested_token_type", ID),
            ("audience", K8S),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{id}");
    assert_eq!(id["token_type"], "N_A");
    assert_eq!(id["issued_token_type"], ID);
    assert_eq!(id["expires_in"], 35999);
    assert_eq!(id["scope"], "openid");
    let token = id["access_token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(token).unwrap().kid.as_deref(),
        Some(RSA_KID)
    );
    let c = verify_with_jwks(&server, token, K8S).await;
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
    let now = server.clock().now_secs();
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        36000
    );
    assert!((c["iat"].as_i64().unwrap() - now).abs() <= 1);
    assert_eq!(c["jti"].as_str().unwrap().len(), 36);

    // JWT -> JWT with an actor; and a Horizon JwtToken_Generate token as subject.
    let (status, at) = exchange(
        &server,
        &sid,
        &[
            ("grant_type", GRANT),
            ("subject_token", token),
            ("subject_token_type", ID),
            ("requested_token_type", ACCESS),
            ("audience", "vmware-tes:vc:nsxd-v2:nsx"),
            ("actor_token", idp.as_str()),
            ("actor_token_type", ACCESS),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{at}");
    assert_eq!(at["token_type"], "Bearer");
    let c = verify_with_jwks(
        &server,
        at["access_token"].as_str().unwrap(),
        "vmware-tes:vc:nsxd-v2:nsx",
    )
    .await;
    assert_eq!(c["act"]["sub"], "Administrator@vsphere.local");

    let horizon = logged_in(server.url(), "administrator").await;
    let (horizon_jwt, _) = generate(&horizon, server.url(), None).await;
    let b64 = STANDARD.encode(&horizon_jwt); // "Token is base64-encoded" is accepted too
    let (status, hz) = exchange(
        &server,
        &sid,
        &[
            ("grant_type", GRANT),
            ("subject_token", &b64),
            ("subject_token_type", ACCESS),
            ("requested_token_type", ID),
            ("audience", K8S),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{hz}");
    let c = claims(hz["access_token"].as_str().unwrap());
    assert_eq!(c["sub"], "administrator@VLSIM");

    // A federated user (not in the SSO domain) keeps the groups its IdP token states.
    let federated = idp_jwt(
        &server,
        json!({"sub": "jane@corp.example", "group_names": ["Devs@corp.example"]}),
    );
    let (status, fed) = exchange(
        &server,
        &sid,
        &[
            ("grant_type", GRANT),
            ("subject_token", &federated),
            ("subject_token_type", ACCESS),
            ("requested_token_type", ID),
            ("audience", K8S),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{fed}");
    let c = verify_with_jwks(&server, fed["access_token"].as_str().unwrap(), K8S).await;
    assert_eq!(c["sub"], "jane@corp.example");
    assert_eq!(c["username"], "jane");
    assert_eq!(c["domain"], "corp.example");
    assert_eq!(c["group_names"], json!(["Devs@corp.example"]));

    let issued = events(&server, "VCENTER_TOKEN_ISSUED").await;
    assert_eq!(issued.len(), 5);
    assert_eq!(issued[0]["details"]["issuedTokenType"], ID);
    server.stop().await;
}

#[actix_web::test]
async fn exchange_errors_are_oauth2_400s() {
    let server = Vlsim::start().await;
    let sid = login(&server).await;
    let idp = idp_jwt(&server, json!({}));
    let saml = saml_token(&server, &sid).await;
    let hmac = server
        .core()
        .key_ring()
        .get("40000000-0000-4000-8000-000000000003")
        .unwrap();
    let now = server.clock().now_secs();
    let untrusted = vlsim::core::tokens::mint(
        &hmac,
        json!({"iss": "https://evil.example", "sub": "x", "exp": now + 60})
            .as_object()
            .unwrap(),
    )
    .unwrap();
    let expired = idp_jwt(&server, json!({"exp": now - 1}));
    let alg_none = {
        let h = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#);
        let p = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(json!({"iss": issuer(&server), "sub": "x", "exp": now + 60}).to_string());
        format!("{h}.{p}.")
    };
    let mut tampered = String::from_utf8(STANDARD.decode(&saml).unwrap()).unwrap();
    tampered = tampered.replace("Administrator@vsphere.local", "Mallory@vsphere.local");
    let tampered = STANDARD.encode(tampered);
    let forged_sig = format!("{}AAAA", &idp[..idp.len() - 4]);

    let base = |extra: &[(&'static str, String)]| {
        let mut v: Vec<(&'static str, String)> = vec![("grant_type", GRANT.to_string())];
        v.extend(extra.iter().cloned());
        v
    };
    let s = |x: &str| x.to_string();
    let cases: Vec<(Vec<(&'static str, String)>, &str)> = vec![
        (vec![], "invalid_request"),
        (vec![("grant_type", s("password"))], "invalid_request"),
        (
            base(&[("subject_token_type", s(ACCESS))]),
            "invalid_request",
        ),
        (base(&[("subject_token", idp.clone())]), "invalid_request"),
        (
            base(&[
                ("subject_token", idp.clone()),
                ("subject_token_type", s("urn:x")),
            ]),
            "invalid_request",
        ),
        (
            base(&[
                ("subject_token", idp.clone()),
                (
                    "subject_token_type",
                    s("urn:ietf:params:oauth:token-type:saml1"),
                ),
            ]),
            "invalid_request",
        ),
        (
            base(&[
                ("subject_token", idp.clone()),
                ("subject_token_type", s(ACCESS)),
                (
                    "requested_token_type",
                    s("urn:ietf:params:oauth:token-type:refresh_token"),
                ),
            ]),
            "invalid_request",
        ),
        (
            base(&[
                ("subject_token", idp.clone()),
                ("subject_token_type", s(ACCESS)),
                ("requested_token_type", s(ID)),
            ]),
            "invalid_request",
        ),
        (
            base(&[
                ("subject_token", idp.clone()),
                ("subject_token_type", s(ACCESS)),
                ("actor_token", idp.clone()),
            ]),
            "invalid_request",
        ),
        (
            base(&[
                ("subject_token", idp.clone()),
                ("subject_token_type", s(ACCESS)),
                ("resource", s("not a uri")),
            ]),
            "invalid_request",
        ),
        (
            base(&[
                ("subject_token", saml.clone()),
                ("subject_token_type", s(SAML2)),
                ("audience", s("urn:nope")),
            ]),
            "invalid_scope",
        ),
        (
            base(&[
                ("subject_token", saml.clone()),
                ("subject_token_type", s(SAML2)),
                ("audience", s(K8S)),
                ("scope", s("openid admin")),
            ]),
            "invalid_scope",
        ),
        (
            base(&[
                ("subject_token", forged_sig),
                ("subject_token_type", s(ACCESS)),
            ]),
            "invalid_grant",
        ),
        (
            base(&[
                ("subject_token", expired),
                ("subject_token_type", s(ACCESS)),
            ]),
            "invalid_grant",
        ),
        (
            base(&[
                ("subject_token", untrusted),
                ("subject_token_type", s(ACCESS)),
            ]),
            "invalid_grant",
        ),
        (
            base(&[
                ("subject_token", alg_none),
                ("subject_token_type", s(ACCESS)),
            ]),
            "invalid_grant",
        ),
        (
            base(&[
                ("subject_token", s("not-a-jwt")),
                ("subject_token_type", s(ACCESS)),
            ]),
            "invalid_grant",
        ),
        (
            base(&[
                ("subject_token", tampered),
                ("subject_token_type", s(SAML2)),
                ("audience", s(K8S)),
            ]),
            "invalid_grant",
        ),
        (
            base(&[
                ("subject_token", s("%%%")),
                ("subject_token_type", s(SAML2)),
                ("audience", s(K8S)),
            ]),
            "invalid_grant",
        ),
        (
            base(&[
                ("subject_token", idp.clone()),
                ("subject_token_type", s(ACCESS)),
                ("actor_token", s("bad")),
                ("actor_token_type", s(ACCESS)),
            ]),
            "invalid_grant",
        ),
    ];
    for (form, code) in &cases {
        let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = exchange(&server, &sid, &borrowed).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{form:?}: {body}");
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
    let res = plain()
        .post(format!("{}{TOKEN_PATH}", server.url()))
        .header("vmware-api-session-id", &sid)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("grant_type={GRANT}&grant_type={GRANT}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "invalid_request"
    );
    let res = plain()
        .post(format!("{}{TOKEN_PATH}", server.url()))
        .header("vmware-api-session-id", &sid)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 2 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // No session, an unknown session, an untrusted bearer: std 401.
    for req in [
        plain().post(format!("{}{TOKEN_PATH}", server.url())),
        plain()
            .post(format!("{}{TOKEN_PATH}", server.url()))
            .header("vmware-api-session-id", "nope"),
        plain()
            .post(format!("{}{TOKEN_PATH}", server.url()))
            .bearer_auth("a.b.c"),
    ] {
        let res = req.form(&[("grant_type", GRANT)]).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            res.json::<Value>().await.unwrap()["error_type"],
            "UNAUTHENTICATED"
        );
    }
    let failed = events(&server, "VCENTER_TOKEN_ISSUE_FAILED").await;
    // Every refused exchange is logged, including the two unreadable bodies.
    assert_eq!(failed.len(), cases.len() + 2);
    assert_eq!(failed[0]["severity"], "AUDIT_FAIL");
    server.stop().await;
}

#[actix_web::test]
async fn tokens_expire_by_the_server_clock() {
    let server = Vlsim::start().await;
    freeze(&server);
    let sid = login(&server).await;
    let saml = saml_token(&server, &sid).await;
    let to_id = |subject: String, subject_type: &'static str| {
        let sid = sid.clone();
        let server = &server;
        async move {
            exchange(
                server,
                &sid,
                &[
                    ("grant_type", GRANT),
                    ("subject_token", &subject),
                    ("subject_token_type", subject_type),
                    ("audience", K8S),
                    ("requested_token_type", ID),
                ],
            )
            .await
        }
    };
    let (status, id) = to_id(saml.clone(), SAML2).await;
    assert_eq!(status, StatusCode::OK);
    let id_token = id["access_token"].as_str().unwrap().to_string();
    server.clock().advance(299);
    assert_eq!(to_id(saml.clone(), SAML2).await.0, StatusCode::OK);
    login(&server).await; // keep a session alive past the SAML lifetime
    server.clock().advance(1);
    let sid2 = login(&server).await;
    let (status, body) = exchange(
        &server,
        &sid2,
        &[
            ("grant_type", GRANT),
            ("subject_token", &saml),
            ("subject_token_type", SAML2),
            ("audience", K8S),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "invalid_grant");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("expired"));
    // The id_token lives 36000 s.
    server.clock().advance(36000 - 301);
    let sid3 = login(&server).await;
    let ok = exchange(
        &server,
        &sid3,
        &[
            ("grant_type", GRANT),
            ("subject_token", &id_token),
            ("subject_token_type", ID),
        ],
    )
    .await;
    assert_eq!(ok.0, StatusCode::OK, "{}", ok.1);
    server.clock().advance(1);
    let sid4 = login(&server).await;
    let gone = exchange(
        &server,
        &sid4,
        &[
            ("grant_type", GRANT),
            ("subject_token", &id_token),
            ("subject_token_type", ID),
        ],
    )
    .await;
    assert_eq!(gone.1["error"], "invalid_grant");
    server.stop().await;
}

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
    let server = Vlsim::start().await;
    let url = server.url();
    let sid = login(&server).await;
    let saml = saml_token(&server, &sid).await;
    let xml = STANDARD.decode(&saml).unwrap();

    let res = plain()
        .post(format!("{url}/api/session"))
        .header("Authorization", sign_header(&xml))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let saml_sid: String = res.json().await.unwrap();
    let info: Value = plain()
        .get(format!("{url}/api/session"))
        .header("vmware-api-session-id", &saml_sid)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["user"], "VSPHERE.LOCAL\\Administrator");

    let tampered = String::from_utf8(xml.clone())
        .unwrap()
        .replace("PasswordProtectedTransport", "Kerberos");
    for header in [
        sign_header(tampered.as_bytes()),
        "SIGN token=\"bm90IGd6aXA=\"".to_string(),
        "SIGN nothing".to_string(),
    ] {
        let res = plain()
            .post(format!("{url}/api/session"))
            .header("Authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }

    // Bearer JWT from a trusted issuer opens a session; an untrusted one does not.
    let res = plain()
        .post(format!("{url}/api/session"))
        .bearer_auth(idp_jwt(&server, json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = plain()
        .post(format!("{url}/api/session"))
        .bearer_auth(idp_jwt(&server, json!({"iss": "https://evil.example/x"})))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // The SAML token expires after 300 s: no more logins with it.
    server.clock().advance(300);
    let res = plain()
        .post(format!("{url}/api/session"))
        .header("Authorization", sign_header(&xml))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let methods: Vec<String> = events(&server, "VCENTER_SESSION_CREATED")
        .await
        .iter()
        .map(|e| e["details"]["method"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(methods, ["jwt", "saml", "password"]);
    server.stop().await;
}

async fn rpc(server: &Vlsim, service: &str, operation: &str, input: Value, sec: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "method": "invoke", "id": "7", "params": {
        "serviceId": service, "operationId": operation,
        "input": {"STRUCTURE": {"operation-input": input}},
        "ctx": {"appCtx": {"opId": "x"}, "securityCtx": sec},
    }});
    let res = plain()
        .post(format!("{}/api", server.url()))
        .header("vapi-service", service)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let reply: Value = res.json().await.unwrap();
    assert_eq!(reply["jsonrpc"], "2.0");
    assert_eq!(reply["id"], "7");
    reply["result"].clone()
}

fn opt(v: &str) -> Value {
    json!({ "OPTIONAL": v })
}

#[actix_web::test]
async fn vapi_json_rpc_encoding() {
    let server = Vlsim::start().await;
    let user_pass = json!({"schemeId": "com.vmware.vapi.std.security.user_pass",
        "userName": USER, "password": PASSWORD});
    let created = rpc(
        &server,
        "com.vmware.cis.session",
        "create",
        json!({}),
        user_pass,
    )
    .await;
    let sid = created["output"]["SECRET"].as_str().unwrap().to_string();
    let sec = json!({"schemeId": "com.vmware.vapi.std.security.session_id", "sessionId": sid});

    let info = rpc(
        &server,
        "com.vmware.cis.session",
        "get",
        json!({}),
        sec.clone(),
    )
    .await;
    let fields = &info["output"]["STRUCTURE"]["com.vmware.cis.session.info"];
    assert_eq!(fields["user"], "VSPHERE.LOCAL\\Administrator");
    assert_eq!(fields["created_time"].as_str().unwrap().len(), 24); // 2026-01-01T00:00:00.000Z

    let idp = idp_jwt(&server, json!({}));
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
    let issued = rpc(
        &server,
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
    let issued = rpc(
        &server,
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
    let bad = rpc(
        &server,
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
    let bad = rpc(
        &server,
        token,
        "issue",
        spec(saml, SAML2, Some(ID), Some("urn:x")),
        sec.clone(),
    )
    .await;
    assert!(bad["error"]["ERROR"]["com.vmware.oauth2.errors.invalid_scope"].is_object());
    let bad = rpc(&server, token, "issue", json!({}), sec.clone()).await;
    assert!(bad["error"]["ERROR"]["com.vmware.oauth2.errors.invalid_request"].is_object());

    // Legacy token service through JSON-RPC: required issued_token_type, its own errors.
    let legacy = "com.vmware.vcenter.tokenservice.token_exchange";
    let out = rpc(
        &server,
        legacy,
        "exchange",
        spec(saml, SAML2, Some(ID), Some(K8S)),
        sec.clone(),
    )
    .await;
    let info = &out["output"]["STRUCTURE"]["com.vmware.vcenter.tokenservice.token_exchange.info"];
    assert_eq!(info["issued_token_type"], ID);
    let out = rpc(
        &server,
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
    let denied = rpc(
        &server,
        "com.vmware.cis.session",
        "create",
        json!({}),
        wrong,
    )
    .await;
    let un = &denied["error"]["ERROR"]["com.vmware.vapi.std.errors.unauthenticated"];
    assert_eq!(un["error_type"], opt("UNAUTHENTICATED"));
    assert_eq!(un["challenge"], json!({"OPTIONAL": null}));
    assert_eq!(un["data"], json!({"OPTIONAL": null}));
    let m = &un["messages"][0]["STRUCTURE"]["com.vmware.vapi.std.localizable_message"];
    assert_eq!(m["args"], json!([]));
    assert_eq!(m["params"], json!({"OPTIONAL": null}));
    let anon = rpc(
        &server,
        token,
        "issue",
        spec(&idp, ACCESS, None, None),
        json!(null),
    )
    .await;
    assert!(anon["error"]["ERROR"]["com.vmware.vapi.std.errors.unauthenticated"].is_object());
    let oauth = json!({"schemeId": "com.vmware.vapi.std.security.oauth", "accessToken": idp});
    let via_oauth = rpc(
        &server,
        token,
        "issue",
        spec(&idp, ACCESS, None, None),
        oauth.clone(),
    )
    .await;
    assert!(via_oauth["output"].is_object(), "{via_oauth}");
    let by_saml = json!({"schemeId": "com.vmware.vapi.std.security.saml_bearer_token",
        "samlToken": String::from_utf8(STANDARD.decode(saml).unwrap()).unwrap()});
    let s2 = rpc(
        &server,
        "com.vmware.cis.session",
        "create",
        json!({}),
        by_saml,
    )
    .await;
    assert!(s2["output"]["SECRET"].is_string());
    let unknown = rpc(
        &server,
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
        let res = plain()
            .post(format!("{}/api", server.url()))
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], code);
    }

    let deleted = rpc(
        &server,
        "com.vmware.cis.session",
        "delete",
        json!({}),
        sec.clone(),
    )
    .await;
    assert_eq!(deleted, json!({"output": null}));
    let gone = rpc(&server, "com.vmware.cis.session", "get", json!({}), sec).await;
    assert!(gone["error"]["ERROR"]["com.vmware.vapi.std.errors.unauthenticated"].is_object());
    server.stop().await;
}

#[actix_web::test]
async fn legacy_rest_session_and_token_exchange() {
    let server = Vlsim::start().await;
    let url = server.url();
    let c = client(); // keeps cookies
    let res = c
        .post(format!("{url}/rest/com/vmware/cis/session"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.contains("Path=/rest"), "{cookie}");
    let sid = res.json::<Value>().await.unwrap()["value"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with(&format!("vmware-api-session-id={sid}")));

    let info: Value = c
        .post(format!("{url}/rest/com/vmware/cis/session?~action=get"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["value"]["user"], "VSPHERE.LOCAL\\Administrator");
    let info: Value = plain()
        .get(format!("{url}/rest/com/vmware/cis/session"))
        .header("vmware-api-session-id", &sid)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["value"]["user"], "VSPHERE.LOCAL\\Administrator");

    let idp = idp_jwt(&server, json!({}));
    let res = c
        .post(format!("{url}/rest/vcenter/tokenservice/token-exchange"))
        .json(&json!({"spec": {"grant_type": GRANT, "subject_token": idp,
            "subject_token_type": ACCESS, "requested_token_type": ID, "audience": K8S}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let value = res.json::<Value>().await.unwrap()["value"].clone();
    assert_eq!(value["token_type"], "N_A");
    verify_with_jwks(&server, value["access_token"].as_str().unwrap(), K8S).await;
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
        let res = c
            .post(format!("{url}/rest/vcenter/tokenservice/token-exchange"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), status);
        let b: Value = res.json().await.unwrap();
        assert_eq!(b["type"], kind, "{b}");
        assert!(b["value"]["messages"][0]["default_message"].is_string());
    }

    let res = c
        .delete(format!("{url}/rest/com/vmware/cis/session"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = plain()
        .post(format!("{url}/rest/com/vmware/cis/session?~action=get"))
        .header("vmware-api-session-id", &sid)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["type"], "com.vmware.vapi.std.errors.unauthenticated");
    assert_eq!(b["value"]["error_type"], "UNAUTHENTICATED");
    let res = plain()
        .post(format!("{url}/rest/vcenter/tokenservice/token-exchange"))
        .json(&json!({"spec": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let res = plain()
        .post(format!("{url}/rest/com/vmware/cis/session"))
        .basic_auth(USER, Some(PASSWORD))
        .header("vmware-use-header-authn", "true")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!res.headers().contains_key("set-cookie"));
    server.stop().await;
}

#[actix_web::test]
async fn oidc_discovery_and_a_stable_jwks_certificate() {
    let server = Vlsim::start().await;
    let url = server.url().to_string();
    let doc: Value = plain()
        .get(format!(
            "{url}/openidconnect/vsphere.local/.well-known/openid-configuration"
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["issuer"], issuer(&server));
    assert_eq!(
        doc["jwks_uri"],
        format!("{url}/openidconnect/jwks/vsphere.local")
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    let first = jwks(&server).await;
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
        let res = plain().get(format!("{url}{path}")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    // Same key, same certificate after a restart.
    let data = server.stop().await.unwrap();
    let again = Vlsim::start_with(vlsim::config::Config::for_tests(data.path())).await;
    assert_eq!(jwks(&again).await, first);
    // The other surfaces' routes are untouched by /api and /rest registrations.
    let reply = call(&client(), again.url(), crate::helpers::GET_PUBLIC_KEYS).await;
    assert!(!reply.is_fault());
    again.stop().await;
}

#[actix_web::test]
async fn a_data_dir_from_before_vcenter_gets_its_world() {
    let server = Vlsim::start().await;
    {
        // Make it look like a data dir written before the vCenter surface existed.
        let store = server.core().store();
        let meta = store.table::<Value>("meta").unwrap();
        assert!(meta.remove("vcenter").unwrap().is_some());
        store
            .table::<Value>("vcenter_users")
            .unwrap()
            .clear()
            .unwrap();
        store.flush().await.unwrap();
    }
    let data = server.stop().await.unwrap();
    let again = Vlsim::start_with(vlsim::config::Config::for_tests(data.path())).await;
    login(&again).await;
    again.stop().await;
}
