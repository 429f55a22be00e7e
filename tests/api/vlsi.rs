//! VLSI SOAP surface, at the wire: a real server on 127.0.0.1:0, spoken to over HTTP.

use crate::helpers::*;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use reqwest::Method;

const ADMIN_PRINCIPAL: &str = "VLSIM\\administrator";

fn verify_with_any(token: &str, pems: &[String]) -> serde_json::Value {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    for pem in pems {
        if let Ok(key) = DecodingKey::from_rsa_pem(pem.as_bytes()) {
            if let Ok(data) = decode::<serde_json::Value>(token, &key, &validation) {
                return data.claims;
            }
        }
    }
    panic!("no published key verifies the token");
}

#[actix_web::test]
async fn login_generate_and_verify_with_published_keys() {
    let app = TestApp::start().await;
    let c = app.logged_in("administrator").await;

    let (token, expiry) = app
        .generate(&c, Some("<validityTime>60</validityTime>"))
        .await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.alg, Algorithm::RS256);
    assert_eq!(
        header.kid.as_deref(),
        Some("40000000-0000-4000-8000-000000000001")
    );
    // No session: GetPublicKeys is open to unauthenticated callers.
    let verified = verify_with_any(&token, &app.public_keys().await);
    assert_eq!(verified["sub"], ADMIN_PRINCIPAL);
    assert_eq!(verified["iss"], "cs1.vlsim.test");
    let (iat, exp) = (
        verified["iat"].as_i64().unwrap(),
        verified["exp"].as_i64().unwrap(),
    );
    assert_eq!(exp - iat, 3600);
    assert_eq!(expiry, vlsim::clock::rfc3339_secs(exp));

    let (default_token, _) = app.generate(&c, None).await;
    let d = claims(&default_token);
    assert_eq!(
        d["exp"].as_i64().unwrap() - d["iat"].as_i64().unwrap(),
        30 * 60
    );
    let (empty_spec, _) = app.generate(&c, Some("")).await;
    let e = claims(&empty_spec);
    assert_eq!(
        e["exp"].as_i64().unwrap() - e["iat"].as_i64().unwrap(),
        30 * 60
    );
    assert_ne!(d["jti"], e["jti"]);

    let events = app.stored_events("VLSI_JWT_TOKEN_GENERATED", 10);
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].user.as_deref(), Some(ADMIN_PRINCIPAL));
    assert_eq!(events[0].severity, "AUDIT_SUCCESS");
}

#[actix_web::test]
async fn accepts_prefixed_namespaced_and_typed_requests() {
    let app = TestApp::start().await;
    let c = app.logged_in("administrator").await;
    // zeep/suds style: prefixed elements, xsi:type on the spec, a SOAP Header, a BOM.
    let body = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><SOAP-ENV:Envelope xmlns:SOAP-ENV=\"{SOAP_NS}\" xmlns:ns0=\"urn:vdi\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><SOAP-ENV:Header/><SOAP-ENV:Body><ns0:JwtToken_Generate><ns0:_this type=\"JwtToken\">JwtToken</ns0:_this><ns0:spec xsi:type=\"ns0:JwtTokenGenerationSpec\"><ns0:validityTime> 5 </ns0:validityTime></ns0:spec></ns0:JwtToken_Generate></SOAP-ENV:Body></SOAP-ENV:Envelope>"
    );
    let (status, text) = app.post_soap(&c, body).await;
    let reply = parse_reply(status, text);
    assert!(!reply.is_fault(), "{}", reply.text);
    let token = &reply.returnval().unwrap().child("token").unwrap().text;
    let cl = claims(token);
    assert_eq!(
        cl["exp"].as_i64().unwrap() - cl["iat"].as_i64().unwrap(),
        300
    );
}

#[actix_web::test]
async fn typed_faults_for_each_mistake() {
    let app = TestApp::start().await;
    let admin = app.logged_in("administrator").await;

    // auditor lacks the privilege
    let auditor = app.logged_in("auditor").await;
    let r = app.soap(&auditor, &generate_xml(None)).await;
    assert_eq!(r.fault_type(), "InsufficientPermission", "{}", r.text);
    assert_eq!(
        r.fault_detail().unwrap().name,
        "InsufficientPermissionFault"
    );
    assert_eq!(
        r.detail_field("privileges").as_deref(),
        Some("ADMINISTRATOR")
    );
    assert_eq!(r.faultcode(), "ServerFaultCode");

    // wrong password, unknown user
    for (user, pw) in [("administrator", "nope"), ("ghost", "vmware")] {
        let r = app.soap(app.http(), &login_xml(user, pw)).await;
        assert_eq!(r.fault_type(), "InvalidCredentials", "{}", r.text);
        assert!(r.detail_field("errorMessage").is_some());
    }

    // no session
    let r = app.soap(app.http(), &generate_xml(None)).await;
    assert_eq!(r.fault_type(), "SecurityError");
    assert_eq!(r.faultstring(), "The session is not authenticated.");

    // invalid spec fields name the field
    for bad in ["0", "-5", "abc", "", "99999999999", "525601"] {
        let spec = format!("<validityTime>{bad}</validityTime>");
        let r = app.soap(&admin, &generate_xml(Some(&spec))).await;
        assert_eq!(r.fault_type(), "InvalidArgument", "{bad}: {}", r.text);
        assert_eq!(
            r.detail_field("parameterName").as_deref(),
            Some("spec.validityTime"),
            "{bad}"
        );
    }
    // spec of the wrong xsi:type
    let r = app
        .soap(
            &admin,
            r#"<JwtToken_Generate xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this><spec xsi:type="SecureString"/></JwtToken_Generate>"#,
        )
        .await;
    assert_eq!(r.fault_type(), "InvalidType", "{}", r.text);
    assert_eq!(
        r.detail_field("expectedType").as_deref(),
        Some("JwtTokenGenerationSpec")
    );

    // unknown managed object value, wrong managed object type
    let r = app.soap(&admin, r#"<JwtToken_Generate xmlns="urn:vdi"><_this type="JwtToken">Nope</_this></JwtToken_Generate>"#).await;
    assert_eq!(r.fault_type(), "EntityNotFound", "{}", r.text);
    assert_eq!(
        r.fault_detail()
            .unwrap()
            .child("id")
            .unwrap()
            .child("id")
            .unwrap()
            .text,
        "Nope"
    );
    let r = app.soap(&admin, r#"<JwtToken_GetPublicKeys xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this></JwtToken_GetPublicKeys>"#).await;
    assert_eq!(r.fault_type(), "InvalidType");
    assert_eq!(r.detail_field("parameterName").as_deref(), Some("_this"));

    // every failed Generate above left an event
    let failed = app.stored_events("VLSI_JWT_TOKEN_GENERATION_FAILED", 100);
    assert_eq!(failed.len(), 1 + 1 + 6 + 1 + 1);
    assert!(failed
        .iter()
        .any(|e| e.user.as_deref() == Some("VLSIM\\auditor")
            && e.details["fault"] == "InsufficientPermission"));
    assert!(failed
        .iter()
        .all(|e| e.severity == "AUDIT_FAIL" && e.module == "Vlsi"));
}

#[actix_web::test]
async fn client_mistakes_get_client_faults_and_the_server_keeps_answering() {
    let app = TestApp::start().await;
    let cases: Vec<(&str, String, &str)> = vec![
        ("malformed", "<soapenv:Envelope".into(), "soapenv:Client"),
        ("not xml", "hello".into(), "soapenv:Client"),
        ("unknown op", envelope(r#"<JwtToken_Frobnicate xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this></JwtToken_Frobnicate>"#), "soapenv:Client"),
        ("missing _this", envelope(r#"<JwtToken_GetPublicKeys xmlns="urn:vdi"/>"#), "soapenv:Client"),
        ("empty body", envelope(""), "soapenv:Client"),
        ("soap 1.2", r#"<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><JwtToken_GetPublicKeys/></e:Body></e:Envelope>"#.into(), "soapenv:VersionMismatch"),
        ("no namespace", "<Envelope><Body/></Envelope>".into(), "soapenv:VersionMismatch"),
        ("xxe", format!(r#"<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body><a>&x;</a></soapenv:Body></soapenv:Envelope>"#), "soapenv:Client"),
        ("billion laughs", format!(r#"<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body><x>&b;</x></soapenv:Body></soapenv:Envelope>"#), "soapenv:Client"),
        ("undefined entity", envelope("<x>&nope;</x>"), "soapenv:Client"),
        ("deep", envelope(&("<a>".repeat(10_000) + &"</a>".repeat(10_000))), "soapenv:Client"),
        ("duplicate attribute", envelope(r#"<JwtToken_GetPublicKeys><_this type="JwtToken" type="X">JwtToken</_this></JwtToken_GetPublicKeys>"#), "soapenv:Client"),
        ("oversized", envelope(&"x".repeat(1024 * 1024 + 1)), "soapenv:Client"),
    ];
    for (name, body, code) in cases {
        let (status, text) = app.post_soap(app.http(), body).await;
        let reply = parse_reply(status, text);
        assert!(reply.is_fault(), "{name}: {}", reply.text);
        assert_eq!(reply.faultcode(), code, "{name}: {}", reply.text);
        assert!(!reply.faultstring().is_empty(), "{name}");
    }
    // invalid UTF-8
    let (status, text) = app
        .post_soap(app.http(), vec![0x3c, 0xff, 0xfe, 0x3e])
        .await;
    assert_eq!(parse_reply(status, text).faultcode(), "soapenv:Client");
    // the server is still fine
    assert_eq!(app.public_keys().await.len(), 2);
    for method in [Method::GET, Method::DELETE] {
        let r = app
            .send(app.request(method.clone(), "/view-vlsi/sdk", None))
            .await;
        assert_eq!(r.status, 405, "{method}");
    }
}

#[actix_web::test]
async fn login_by_token_accepts_only_valid_tokens() {
    let app = TestApp::start().await;
    let token = app
        .horizon_token(Some("<validityTime>10</validityTime>"))
        .await;

    let fresh = client();
    let r = app.soap(&fresh, &login_by_token_xml(&token)).await;
    assert!(!r.is_fault(), "{}", r.text);
    app.generate(&fresh, None).await; // the token session may generate

    // tampered: flip a character of the signature
    let mut forged = token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    // alg none with the admin's claims
    let parts: Vec<&str> = token.split('.').collect();
    let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.", parts[1]);
    for (name, bad) in [
        ("forged", forged.as_str()),
        ("garbage", "not-a-jwt"),
        ("alg none", &none),
    ] {
        let r = app.login_by_token(bad).await;
        assert_eq!(r.fault_type(), "InvalidCredentials", "{name}: {}", r.text);
    }

    // expired: move the server clock past the 10 minutes
    app.clock().advance(10 * 60);
    let r = app.login_by_token(&token).await;
    assert_eq!(r.fault_type(), "InvalidCredentials", "{}", r.text);
    assert!(r.faultstring().contains("expired"), "{}", r.faultstring());
}

#[actix_web::test]
async fn sessions_idle_out_and_log_out() {
    let app = TestApp::start().await;
    let c = app.logged_in("administrator").await;
    app.clock().advance(29 * 60);
    app.generate(&c, None).await; // touching restarts the idle timer
    app.clock().advance(29 * 60);
    app.generate(&c, None).await;
    app.clock().advance(31 * 60);
    let r = app.soap(&c, &generate_xml(None)).await;
    assert_eq!(r.fault_type(), "SecurityError");

    let c = app.logged_in("administrator").await;
    let r = app.soap(&c, LOGOUT).await;
    assert!(!r.is_fault());
    let r = app.soap(&c, &generate_xml(None)).await;
    assert_eq!(r.fault_type(), "SecurityError");
    // logging out without a session is refused too
    let r = app.soap(app.http(), LOGOUT).await;
    assert_eq!(r.fault_type(), "SecurityError");
}

#[actix_web::test]
async fn set_locale_validates() {
    let app = TestApp::start().await;
    let c = app.logged_in("administrator").await;
    let set = |l: &str| {
        format!(
            r#"<AuthenticationManager_SetLocale xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this><locale>{l}</locale></AuthenticationManager_SetLocale>"#
        )
    };
    assert!(!app.soap(&c, &set("fr")).await.is_fault());
    let r = app.soap(&c, &set("xx")).await;
    assert_eq!(r.fault_type(), "InvalidArgument");
    assert_eq!(r.detail_field("parameterName").as_deref(), Some("locale"));
}

#[actix_web::test]
async fn session_cookie_from_any_cookie_name() {
    let app = TestApp::start().await;
    let cookie = app.soap_login_cookie("administrator").await;
    assert!(cookie.starts_with("JSESSIONID="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("Path=/view-vlsi"));
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP must not mark the cookie Secure"
    );
    let id = cookie
        .trim_start_matches("JSESSIONID=")
        .split(';')
        .next()
        .unwrap();
    let r = app
        .soap_as(&format!("vmware_soap_session={id}"), &generate_xml(None))
        .await;
    assert!(!r.is_fault(), "{}", r.text);
    // Beside other cookies (a stale JSESSIONID is tried first, then the others), with
    // spaces, percent-encoded, or next to a malformed pair: the session is found.
    let escaped: String = id.bytes().map(|b| format!("%{b:02X}")).collect();
    for header in [
        format!("theme=dark; JSESSIONID = {id} ; lang=fr"),
        format!("JSESSIONID=stale; vmware_soap_session={id}"),
        format!("JSESSIONID={escaped}"),
        format!("not-a-pair; =nameless; JSESSIONID={id}"),
    ] {
        let r = app.soap_as(&header, &generate_xml(None)).await;
        assert!(!r.is_fault(), "Cookie: {header}: {}", r.text);
    }
    for header in ["JSESSIONID=stale", "theme=dark", "JSESSIONID=%ZZ", ""] {
        let r = app.soap_as(header, &generate_xml(None)).await;
        assert_eq!(r.fault_type(), "SecurityError", "Cookie: {header}");
    }
}

#[actix_web::test]
async fn wsdl_points_back_at_the_server() {
    let app = TestApp::start().await;
    for path in [
        "/view-vlsi/sdk?wsdl",
        "/view-vlsi/sdk?WSDL",
        "/view-vlsi/sdk/vdiService.wsdl",
    ] {
        let r = app.get(path, None).await;
        assert_eq!(r.status, 200, "{path}");
        assert!(
            r.text
                .contains(&format!(r#"location="{}""#, app.at("/view-vlsi/sdk"))),
            "{path}"
        );
        assert!(!r.text.contains("vlsim.invalid"));
    }
    let xsd = app.get("/view-vlsi/sdk?xsd", None).await;
    assert!(xsd.text.contains("JwtTokenInfo"));
}

#[actix_web::test]
async fn state_survives_a_restart() {
    let app = TestApp::start().await;
    let c = app.logged_in("administrator").await;
    let (token, _) = app.generate(&c, None).await;
    let keys_before = app.public_keys().await;
    let events_before = app.core().events().count();

    let app = app.restart().await;
    assert_eq!(app.public_keys().await, keys_before);
    assert!(app.core().events().count() >= events_before);
    let r = app.login_by_token(&token).await;
    assert!(
        !r.is_fault(),
        "a token from before the restart still logs in: {}",
        r.text
    );
}

#[actix_web::test]
async fn generated_keys_replace_fixture_keys_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = vlsim::config::Config::for_tests(dir.path());
    config.generate_keys = true;
    let fixture_keys = TestApp::start().await.public_keys().await;
    let app = TestApp::start_with(config).await;
    let generated = app.public_keys().await;
    assert_eq!(generated.len(), 2);
    assert!(generated.iter().all(|k| !fixture_keys.contains(k)));
    let c = app.logged_in("administrator").await;
    let (token, _) = app.generate(&c, None).await;
    verify_with_any(&token, &generated);
    // restarted with generate_keys still set: the keys of the first start are kept
    let app = app.restart().await;
    assert_eq!(app.public_keys().await, generated);
}

#[actix_web::test]
async fn events_endpoint_filters_newest_first() {
    let app = TestApp::start().await;
    let auditor = app.logged_in("auditor").await;
    app.soap(&auditor, &generate_xml(None)).await;
    let admin = app.logged_in("administrator").await;
    app.generate(&admin, None).await;
    let events = app.events("prefix=VLSI_JWT_&limit=10").await;
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["type"], "VLSI_JWT_TOKEN_GENERATED");
    assert_eq!(events[1]["type"], "VLSI_JWT_TOKEN_GENERATION_FAILED");
    assert_eq!(events[1]["user"], "VLSIM\\auditor");
    assert_eq!(app.get("/_vlsim/events?limit=abc", None).await.status, 400);
}
