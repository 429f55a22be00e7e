//! Shared helpers for the wire tests: a cookie-keeping HTTP client and SOAP helpers.

use vlsim::xml::{self, Element, Limits};

pub const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .no_proxy()
        .build()
        .unwrap()
}

/// A client without a cookie store or proxies (each request says who it is).
pub fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

pub const FA_API_KEY: &str = "vlsim-api-key";
/// FusionAuth application "vlsim" (Reusable refresh tokens).
pub const FA_APP: &str = "20000000-0000-4000-8000-000000000001";

/// Logs admin@vlsim.test in to `app` with the superuser key; asserts 200, returns the body.
pub async fn fa_login(url: &str, app: &str) -> serde_json::Value {
    let res = http()
        .post(format!("{url}/api/login"))
        .header("Authorization", FA_API_KEY)
        .json(&serde_json::json!({"loginId": "admin@vlsim.test", "password": "password", "applicationId": app}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.unwrap()
}

/// A vCenter session for the default user (Basic auth); asserts 201, returns its id.
pub async fn vc_session(url: &str) -> String {
    let res = http()
        .post(format!("{url}/api/session"))
        .basic_auth("administrator@vsphere.local", Some("VMware1!"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    res.json().await.unwrap()
}

pub fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
}

/// A parsed SOAP reply (its HTTP status checked: 500 for a fault, else 200).
pub struct SoapReply {
    pub text: String,
    /// The single child of Body (the response element or soapenv:Fault).
    pub body: Element,
}

impl SoapReply {
    pub fn is_fault(&self) -> bool {
        self.body.name == "Fault"
    }

    pub fn faultcode(&self) -> String {
        self.body
            .child("faultcode")
            .map(|e| e.text.clone())
            .unwrap_or_default()
    }

    pub fn faultstring(&self) -> String {
        self.body
            .child("faultstring")
            .map(|e| e.text.clone())
            .unwrap_or_default()
    }

    /// (detail element local name, xsi:type) of a fault.
    pub fn fault_detail(&self) -> Option<&Element> {
        self.body.child("detail").and_then(|d| d.children.first())
    }

    pub fn fault_type(&self) -> String {
        self.fault_detail()
            .and_then(|d| d.xsi_type())
            .unwrap_or_default()
            .to_string()
    }

    pub fn detail_field(&self, name: &str) -> Option<String> {
        self.fault_detail()
            .and_then(|d| d.child(name))
            .map(|e| e.text.clone())
    }

    pub fn returnval(&self) -> Option<&Element> {
        self.body.child("returnval")
    }
}

pub async fn post_raw(
    client: &reqwest::Client,
    url: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, String) {
    let res = client
        .post(format!("{url}/view-vlsi/sdk"))
        .header("Content-Type", "text/xml; charset=utf-8")
        .header("SOAPAction", "\"urn:vdi/2406\"")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap())
}

pub async fn call(client: &reqwest::Client, url: &str, operation_xml: &str) -> SoapReply {
    let (status, text) = post_raw(client, url, envelope(operation_xml)).await;
    parse_reply(status, text)
}

pub fn parse_reply(status: u16, text: String) -> SoapReply {
    let root = xml::parse(&text, Limits::default())
        .unwrap_or_else(|e| panic!("reply is not XML ({e}): {text}"));
    assert_eq!(root.name, "Envelope", "{text}");
    assert_eq!(root.ns.as_deref(), Some(SOAP_NS));
    let body = root
        .child("Body")
        .and_then(|b| b.children.first())
        .cloned()
        .unwrap_or_else(|| panic!("no Body child: {text}"));
    if body.name == "Fault" {
        assert_eq!(status, 500, "faults travel with HTTP 500: {text}");
    } else {
        assert_eq!(status, 200, "{text}");
    }
    SoapReply { text, body }
}

pub fn login_xml(user: &str, password: &str) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(password.as_bytes());
    format!(
        r#"<AuthenticationManager_Login xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this><username>{user}</username><password><utf8String>{b64}</utf8String></password><domain>VLSIM</domain></AuthenticationManager_Login>"#
    )
}

pub fn generate_xml(spec: Option<&str>) -> String {
    let spec = spec
        .map(|s| format!("<spec>{s}</spec>"))
        .unwrap_or_default();
    format!(
        r#"<JwtToken_Generate xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this>{spec}</JwtToken_Generate>"#
    )
}

pub const GET_PUBLIC_KEYS: &str = r#"<JwtToken_GetPublicKeys xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this></JwtToken_GetPublicKeys>"#;
pub const LOGOUT: &str = r#"<AuthenticationManager_Logout xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this></AuthenticationManager_Logout>"#;

pub fn login_by_token_xml(token: &str) -> String {
    format!(
        r#"<AuthenticationManager_LoginByToken xmlns="urn:vdi"><_this type="AuthenticationManager">AuthenticationManager</_this><data><token>{token}</token></data></AuthenticationManager_LoginByToken>"#
    )
}

/// Logs in as `user` (password `vmware`) on a fresh client and returns it.
pub async fn logged_in(url: &str, user: &str) -> reqwest::Client {
    let c = client();
    let reply = call(&c, url, &login_xml(user, "vmware")).await;
    assert!(!reply.is_fault(), "{}", reply.text);
    c
}

/// Generates a token and returns (token, expiryTime).
pub async fn generate(c: &reqwest::Client, url: &str, spec: Option<&str>) -> (String, String) {
    let reply = call(c, url, &generate_xml(spec)).await;
    assert!(!reply.is_fault(), "{}", reply.text);
    let rv = reply.returnval().unwrap();
    (
        rv.child("token").unwrap().text.clone(),
        rv.child("expiryTime").unwrap().text.clone(),
    )
}

/// Decodes a JWT's claims without verifying (for asserting on their values).
pub fn claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}
