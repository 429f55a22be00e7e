//! The wire tests' one helper, shaped like zero2prod's `TestApp`: a vlsim under test (in
//! process through `vlsim::testkit::Vlsim`, or the binary in a child process) with a method
//! for each request the tests make, so no test builds a URL or writes a request twice.
//!
//! The free functions at the end build XML and decode or sign tokens; none talks to a server.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use reqwest::header::HeaderMap;
use reqwest::{Method, RequestBuilder};
use serde_json::{json, Value};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use tempfile::TempDir;
use vlsim::config::Config;
use vlsim::testkit::Vlsim;
use vlsim::xml::{self, Element, Limits};

// ---------------------------------------------------------------------------------------
// The default world's ids and secrets (fixtures/default.toml): they never change.

pub const RSA_KID: &str = "40000000-0000-4000-8000-000000000001";
pub const EC_KID: &str = "40000000-0000-4000-8000-000000000002";
pub const HMAC_KID: &str = "40000000-0000-4000-8000-000000000003";

/// FusionAuth fixtures.
pub mod fa {
    pub const DEFAULT_TENANT: &str = "10000000-0000-4000-8000-000000000001";
    pub const OTHER_TENANT: &str = "10000000-0000-4000-8000-000000000002";
    /// Application "vlsim": Reusable refresh tokens.
    pub const APP: &str = "20000000-0000-4000-8000-000000000001";
    /// Application "vlsim-second": OneTimeUse refresh tokens.
    pub const APP2: &str = "20000000-0000-4000-8000-000000000002";
    /// The Other tenant's application.
    pub const APP_OTHER: &str = "20000000-0000-4000-8000-000000000003";
    /// admin@vlsim.test
    pub const ADMIN_ID: &str = "30000000-0000-4000-8000-000000000001";
    /// user@vlsim.test
    pub const USER_ID: &str = "30000000-0000-4000-8000-000000000002";
    /// other@vlsim.test (Other tenant)
    pub const OTHER_ID: &str = "30000000-0000-4000-8000-000000000003";
    pub const IDP: &str = "50000000-0000-4000-8000-000000000001";
    /// The superuser API key.
    pub const API_KEY: &str = "vlsim-api-key";
    /// An API key locked to the Other tenant.
    pub const OTHER_KEY: &str = "vlsim-other-tenant-key";
    /// The HS256 secret of the external JWT identity provider.
    pub const EXTERNAL_SECRET: &str = "vlsim-external-secret";
}

/// Horizon REST fixtures.
pub mod hz {
    pub const CS_ID: &str = "60000000-0000-4000-8000-000000000001";
    pub const JWT_AUTHENTICATOR: &str = "61000000-0000-4000-8000-000000000001";
    pub const ACCESS_TTL: i64 = 30 * 60;
    pub const REFRESH_TTL: i64 = 8 * 60 * 60;
    pub const LOGIN_OK: &str = "REST_AUTH_LOGIN_SUCCESS";
    pub const LOGIN_FAILED: &str = "REST_AUTH_LOGIN_FAILURE";
    pub const LOGOUT_OK: &str = "REST_AUTH_LOGOUT_SUCCESS";
}

/// vCenter fixtures and RFC 8693 names.
pub mod vc {
    pub const USER: &str = "administrator@vsphere.local";
    pub const PASSWORD: &str = "VMware1!";
    /// The Supervisor (Kubernetes) audience.
    pub const K8S: &str = "vmware-tes:vc:vns:k8s";
    pub const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
    pub const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
    pub const ID: &str = "urn:ietf:params:oauth:token-type:id_token";
    pub const SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
    pub const TOKEN_PATH: &str = "/api/vcenter/authentication/token";
}

pub const SOAP_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";

// ---------------------------------------------------------------------------------------
// TestApp

/// A vlsim under test. Cheap to clone (a clone speaks to the same server, e.g. from a
/// spawned task); `stop` and `restart` want the last one.
#[derive(Clone)]
pub struct TestApp {
    url: String,
    /// No cookie store and no proxy: each request says who it is.
    http: reqwest::Client,
    backend: Arc<Backend>,
}

enum Backend {
    InProcess {
        server: Vlsim,
        /// What it was started with, for `restart` (boxed: a Config is large).
        config: Box<Config>,
        /// The data dir this helper made (dropped after the server).
        temp: Option<TempDir>,
    },
    Binary(Process),
}

/// The vlsim binary in a child process; killed when dropped.
struct Process {
    child: Mutex<Child>,
    data_dir: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Ok(child) = self.child.get_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn with_query(path: &str, query: &str) -> String {
    if query.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{query}")
    }
}

fn no_cookies() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// A client that keeps cookies (a SOAP session), without proxies.
/// `vlsim serve` on `data_dir` in a child process (log level `log`, stderr as given), once
/// it printed its listening line: the child and its URL.
pub fn spawn_vlsim(data_dir: &Path, log: &str, stderr: Stdio) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_vlsim"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("VLSIM_LOG", log)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let mut byte = [0u8; 1];
    while stdout.read(&mut byte).unwrap() == 1 && byte[0] != b'\n' {
        line.push(byte[0] as char);
    }
    let url = line
        .strip_prefix("vlsim listening on ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_string();
    (child, url)
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .no_proxy()
        .build()
        .unwrap()
}

impl TestApp {
    fn new(url: String, backend: Backend) -> Self {
        Self {
            url,
            http: no_cookies(),
            backend: Arc::new(backend),
        }
    }

    async fn boot(config: Config, temp: Option<TempDir>) -> Self {
        let server = Vlsim::start_with(config.clone()).await;
        let url = server.url().to_string();
        Self::new(
            url,
            Backend::InProcess {
                server,
                config: Box::new(config),
                temp,
            },
        )
    }

    /// A fresh server with the embedded default fixtures in a temporary data dir.
    pub async fn start() -> Self {
        Self::start_configured(|_| {}).await
    }

    /// Like `start`, with the test configuration adjusted (`|c| c.workers = Some(2)`).
    pub async fn start_configured(adjust: impl FnOnce(&mut Config)) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let mut config = Config::for_tests(temp.path());
        adjust(&mut config);
        Self::boot(config, Some(temp)).await
    }

    /// A server with this configuration (its data dir is the caller's).
    pub async fn start_with(config: Config) -> Self {
        Self::boot(config, None).await
    }

    /// A server whose fixtures are the default ones with `edits` applied.
    pub async fn start_edited(edits: &[(&str, &str)]) -> Self {
        let (temp, config) = edited_world(edits);
        Self::boot(config, Some(temp)).await
    }

    /// The vlsim binary serving `data_dir` in a child process, once it said it listens.
    pub fn spawn_binary(data_dir: &Path) -> Self {
        let (child, url) = spawn_vlsim(data_dir, "warn", Stdio::null());
        Self::new(
            url,
            Backend::Binary(Process {
                child: Mutex::new(child),
                data_dir: data_dir.to_path_buf(),
            }),
        )
    }

    /// Stops gracefully; returns the temporary data dir this helper made, if any, so that
    /// a restart test can reuse it. A binary is killed.
    pub async fn stop(self) -> Option<TempDir> {
        let backend = Arc::try_unwrap(self.backend)
            .unwrap_or_else(|_| panic!("stop: a clone of this TestApp is still alive"));
        match backend {
            Backend::InProcess { server, temp, .. } => server.stop().await.or(temp),
            Backend::Binary(process) => {
                drop(process);
                None
            }
        }
    }

    /// Stops and starts again with the same configuration on the same data dir.
    pub async fn restart(self) -> Self {
        let config = match &*self.backend {
            Backend::InProcess { config, .. } => Config::clone(config),
            Backend::Binary(_) => panic!("restart: use spawn_binary for a binary"),
        };
        let temp = self.stop().await;
        Self::boot(config, temp).await
    }

    /// The same server through a new connection pool (for a thread with its own runtime).
    pub fn with_new_client(&self) -> Self {
        Self {
            url: self.url.clone(),
            http: no_cookies(),
            backend: Arc::clone(&self.backend),
        }
    }

    fn process(&self) -> &Process {
        match &*self.backend {
            Backend::Binary(process) => process,
            Backend::InProcess { .. } => panic!("not a child process"),
        }
    }

    /// SIGKILL, and wait for the child to be gone.
    pub fn kill(&self) {
        let mut child = self.process().child.lock().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// Sends `signal` (`-TERM`, ...) with kill(1) and waits for the child to exit.
    pub fn signal(&self, signal: &str) -> ExitStatus {
        let mut child = self.process().child.lock().unwrap();
        let status = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        child.wait().unwrap()
    }

    fn server(&self) -> &Vlsim {
        match &*self.backend {
            Backend::InProcess { server, .. } => server,
            Backend::Binary(_) => panic!("only an in-process server has a core and a clock"),
        }
    }

    /// `http://127.0.0.1:PORT` (or `https://`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL of `path` (which starts with `/`).
    pub fn at(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> &str {
        self.url
            .split_once("://")
            .map_or(&self.url, |(_, host)| host)
    }

    pub fn core(&self) -> &vlsim::core::Core {
        self.server().core()
    }

    pub fn clock(&self) -> &vlsim::clock::SharedClock {
        self.server().clock()
    }

    /// Stops the server clock where it is, so moving it is exact to the second.
    pub fn freeze_clock(&self) {
        self.clock().set(self.clock().now_ms(), true);
    }

    pub fn data_dir(&self) -> &Path {
        match &*self.backend {
            Backend::InProcess { server, .. } => server.data_dir(),
            Backend::Binary(process) => &process.data_dir,
        }
    }

    // -----------------------------------------------------------------------------------
    // Any HTTP

    /// The shared client: no cookie store, no proxy.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// A request on the shared client, with `Authorization: {authorization}` if given (an
    /// API key, `Bearer ...`, `Basic ...`, `SIGN ...`).
    pub fn request(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
    ) -> RequestBuilder {
        let rb = self.http.request(method, self.at(path));
        match authorization {
            Some(value) => rb.header("Authorization", value),
            None => rb,
        }
    }

    pub async fn send(&self, rb: RequestBuilder) -> Reply {
        let res = rb.send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        Reply {
            status,
            headers,
            text,
        }
    }

    /// `POST /_vlsim/seed` with `fixtures` (TOML): replaces the world.
    pub async fn seed(&self, fixtures: impl Into<String>) -> Reply {
        self.send(
            self.request(Method::POST, "/_vlsim/seed", None)
                .header("content-type", "application/toml")
                .body(fixtures.into()),
        )
        .await
    }

    pub async fn get(&self, path: &str, authorization: Option<&str>) -> Reply {
        self.send(self.request(Method::GET, path, authorization))
            .await
    }

    pub async fn post(&self, path: &str, authorization: Option<&str>, body: Value) -> Reply {
        self.send(self.request(Method::POST, path, authorization).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str, authorization: Option<&str>) -> Reply {
        self.send(self.request(Method::DELETE, path, authorization))
            .await
    }

    /// Sends `method path` and checks the answer against `want` (table-driven tests).
    pub async fn expect(
        &self,
        method: Method,
        path: &str,
        authorization: Option<&str>,
        want: &Want,
    ) -> Reply {
        let reply = self
            .send(self.request(method.clone(), path, authorization))
            .await;
        reply.assert_is(want, &format!("{method} {path}"));
        reply
    }

    /// GET; (status, JSON body or null).
    pub async fn get_json(&self, path: &str) -> (u16, Value) {
        let r = self.get(path, None).await;
        (r.status, r.json_or_null())
    }

    /// `method` with a JSON body; (status, JSON body or null).
    pub async fn send_json(&self, method: Method, path: &str, body: Value) -> (u16, Value) {
        let r = self
            .send(self.request(method, path, None).json(&body))
            .await;
        (r.status, r.json_or_null())
    }

    // -----------------------------------------------------------------------------------
    // VLSI SOAP

    /// A POST to the SOAP endpoint with the headers a Horizon client sends.
    pub fn soap_request(&self, client: &reqwest::Client) -> RequestBuilder {
        client
            .post(self.at("/view-vlsi/sdk"))
            .header("Content-Type", "text/xml; charset=utf-8")
            .header("SOAPAction", "\"urn:vdi/2406\"")
    }

    /// Posts `body` as it is; (status, text).
    pub async fn post_soap(
        &self,
        client: &reqwest::Client,
        body: impl Into<reqwest::Body>,
    ) -> (u16, String) {
        let res = self.soap_request(client).body(body).send().await.unwrap();
        let status = res.status().as_u16();
        (status, res.text().await.unwrap())
    }

    /// Calls `operation_xml` in an envelope; the reply's status is checked.
    pub async fn soap(&self, client: &reqwest::Client, operation_xml: &str) -> SoapReply {
        let (status, text) = self.post_soap(client, envelope(operation_xml)).await;
        parse_reply(status, text)
    }

    /// Calls `operation_xml` with `Cookie: {cookie}` on the shared (cookie-less) client.
    pub async fn soap_as(&self, cookie: &str, operation_xml: &str) -> SoapReply {
        let res = self
            .soap_request(&self.http)
            .header("Cookie", cookie)
            .body(envelope(operation_xml))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        parse_reply(status, res.text().await.unwrap())
    }

    /// Logs in as `user` (password `vmware`) on a fresh cookie-keeping client; returns it.
    pub async fn logged_in(&self, user: &str) -> reqwest::Client {
        let c = client();
        let reply = self.soap(&c, &login_xml(user, "vmware")).await;
        assert!(!reply.is_fault(), "{}", reply.text);
        c
    }

    /// LoginByToken with `token` on the shared (cookie-less) client.
    pub async fn login_by_token(&self, token: &str) -> SoapReply {
        self.soap(&self.http, &login_by_token_xml(token)).await
    }

    /// Logs in as `user` without a cookie store; returns the `Set-Cookie` header.
    pub async fn soap_login_cookie(&self, user: &str) -> String {
        let res = self
            .soap_request(&self.http)
            .body(envelope(&login_xml(user, "vmware")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
        res.headers()["set-cookie"].to_str().unwrap().to_string()
    }

    /// Generates a token on `client`'s session and returns (token, expiryTime).
    pub async fn generate(&self, client: &reqwest::Client, spec: Option<&str>) -> (String, String) {
        let reply = self.soap(client, &generate_xml(spec)).await;
        assert!(!reply.is_fault(), "{}", reply.text);
        let rv = reply.returnval().unwrap();
        (
            rv.child("token").unwrap().text.clone(),
            rv.child("expiryTime").unwrap().text.clone(),
        )
    }

    /// A JwtToken_Generate token of `administrator` (on a session of its own).
    pub async fn horizon_token(&self, spec: Option<&str>) -> String {
        let admin = self.logged_in("administrator").await;
        self.generate(&admin, spec).await.0
    }

    /// JwtToken_GetPublicKeys without a session: the PEM keys.
    pub async fn public_keys(&self) -> Vec<String> {
        let reply = self.soap(&self.http, GET_PUBLIC_KEYS).await;
        assert!(!reply.is_fault(), "{}", reply.text);
        let rv = reply.returnval().unwrap();
        assert_eq!(
            rv.child("connectionServerName").unwrap().text,
            "cs1.vlsim.test"
        );
        rv.children_named("keys").map(|k| k.text.clone()).collect()
    }

    /// Events of `event_type` as the core stores them (newest first).
    pub fn stored_events(&self, event_type: &str, limit: usize) -> Vec<vlsim::core::events::Event> {
        self.core()
            .events()
            .list(&vlsim::core::events::EventFilter {
                event_type: Some(event_type.into()),
                limit,
                ..Default::default()
            })
            .unwrap()
    }

    // -----------------------------------------------------------------------------------
    // FusionAuth REST

    /// Logs `email` (password `password`) in to `application` with the superuser key;
    /// asserts 200 and returns the body.
    pub async fn fusionauth_login(&self, email: &str, application: &str) -> Value {
        self.fusionauth_login_with(fa::API_KEY, email, application)
            .await
    }

    /// `fusionauth_login` with the API key `key`.
    pub async fn fusionauth_login_with(&self, key: &str, email: &str, application: &str) -> Value {
        let r = self
            .post(
                "/api/login",
                Some(key),
                json!({"loginId": email, "password": "password", "applicationId": application}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    }

    /// `GET /api/jwt/validate` with `Authorization: Bearer {token}`.
    pub async fn fusionauth_validate(&self, token: &str) -> Reply {
        self.get("/api/jwt/validate", Some(&format!("Bearer {token}")))
            .await
    }

    /// `POST /api/jwt/refresh` with the refresh token in the body.
    pub async fn fusionauth_refresh(&self, refresh_token: &str) -> Reply {
        self.post(
            "/api/jwt/refresh",
            None,
            json!({ "refreshToken": refresh_token }),
        )
        .await
    }

    /// `DELETE /api/jwt/refresh?{query}` (by token, user, application).
    pub async fn fusionauth_revoke(
        &self,
        query: &[(&str, &str)],
        authorization: Option<&str>,
    ) -> Reply {
        self.send(
            self.request(Method::DELETE, "/api/jwt/refresh", authorization)
                .query(query),
        )
        .await
    }

    /// The refresh tokens of `user_id`, listed with the superuser key.
    pub async fn refresh_tokens(&self, user_id: &str) -> Vec<Value> {
        let r = self
            .get(
                &format!("/api/jwt/refresh?userId={user_id}"),
                Some(fa::API_KEY),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()["refreshTokens"].as_array().unwrap().clone()
    }

    /// `GET /api/jwt/public-key?{query}` (kid, applicationId); asserts 200, the PEM.
    pub async fn fusionauth_public_key(&self, query: &str) -> Value {
        let r = self
            .get(&format!("/api/jwt/public-key?{query}"), None)
            .await;
        assert_eq!(r.status, 200, "{query}: {}", r.text);
        r.json()["publicKey"].clone()
    }

    /// Verifies `token` with nothing but the FusionAuth JWKS (RS256 or ES256); its claims.
    pub async fn fusionauth_verify(&self, token: &str) -> Value {
        self.verify_with_jwks("/.well-known/jwks.json", token, |v| {
            v.validate_aud = false;
            v.required_spec_claims.clear();
        })
        .await
    }

    // -----------------------------------------------------------------------------------
    // vCenter

    /// A session for the default user (Basic auth); asserts 201, returns its id.
    pub async fn vcenter_session(&self) -> String {
        let r = self.vcenter_login(vc::USER, vc::PASSWORD).await;
        assert_eq!(r.status, 201, "{}", r.text);
        serde_json::from_str(&r.text).unwrap()
    }

    /// `POST /api/session` with Basic auth.
    pub async fn vcenter_login(&self, user: &str, password: &str) -> Reply {
        self.send(
            self.request(Method::POST, "/api/session", None)
                .basic_auth(user, Some(password)),
        )
        .await
    }

    /// `POST /api/session` with this `Authorization` (`Bearer ...`, `SIGN ...`), or none.
    pub async fn vcenter_login_with(&self, authorization: Option<&str>) -> Reply {
        self.send(self.request(Method::POST, "/api/session", authorization))
            .await
    }

    /// `method path` with the session id in `vmware-api-session-id`.
    pub async fn vcenter(&self, method: Method, path: &str, session_id: &str) -> Reply {
        self.send(
            self.request(method, path, None)
                .header("vmware-api-session-id", session_id),
        )
        .await
    }

    /// The RFC 8693 token endpoint on session `session_id`; (status, JSON body or null).
    pub async fn exchange(&self, session_id: &str, form: &[(&str, &str)]) -> (u16, Value) {
        let r = self
            .send(
                self.request(Method::POST, vc::TOKEN_PATH, None)
                    .header("vmware-api-session-id", session_id)
                    .form(form),
            )
            .await;
        (r.status, r.json_or_null())
    }

    /// A SAML2 token for the administrator, exchanged for an IdP JWT; asserts 200.
    pub async fn saml_token(&self, session_id: &str) -> String {
        let idp = self.idp_jwt(json!({}));
        let form = exchange_form(&idp, vc::ACCESS, &[("requested_token_type", vc::SAML2)]);
        let (status, body) = self.exchange(session_id, &form).await;
        assert_eq!(status, 200, "{body}");
        body["access_token"].as_str().unwrap().to_string()
    }

    /// The vCenter OIDC issuer (`https://HOST/openidconnect/vsphere.local`).
    pub fn vcenter_issuer(&self) -> String {
        format!("https://{}/openidconnect/vsphere.local", self.host())
    }

    /// An IdP access token for the administrator (10 minutes) with `extra` claims
    /// overriding, signed by the fixture RSA key.
    pub fn idp_jwt(&self, extra: Value) -> String {
        let now = self.clock().now_secs();
        let mut c = json!({
            "iss": self.vcenter_issuer(), "sub": "Administrator@vsphere.local",
            "iat": now, "exp": now + 600,
        });
        for (k, v) in extra.as_object().unwrap() {
            c[k] = v.clone();
        }
        self.mint(RSA_KID, c)
    }

    pub async fn vcenter_jwks(&self) -> Value {
        let r = self.get("/openidconnect/jwks/vsphere.local", None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json()
    }

    /// Verifies an RS256 `token` for `audience` with nothing but the vCenter JWKS; its
    /// claims. `exp` is not checked (the server clock may have moved).
    pub async fn vcenter_verify(&self, token: &str, audience: &str) -> Value {
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(header.alg, Algorithm::RS256);
        let issuer = self.vcenter_issuer();
        self.verify_with_jwks("/openidconnect/jwks/vsphere.local", token, |v| {
            v.set_audience(&[audience]);
            v.set_issuer(&[issuer]);
            v.validate_exp = false;
        })
        .await
    }

    /// vAPI JSON-RPC `invoke` of `service.operation`; asserts the envelope, returns `result`.
    pub async fn rpc(
        &self,
        service: &str,
        operation: &str,
        input: Value,
        security: Value,
    ) -> Value {
        let body = json!({"jsonrpc": "2.0", "method": "invoke", "id": "7", "params": {
            "serviceId": service, "operationId": operation,
            "input": {"STRUCTURE": {"operation-input": input}},
            "ctx": {"appCtx": {"opId": "x"}, "securityCtx": security},
        }});
        let r = self
            .send(
                self.request(Method::POST, "/api", None)
                    .header("vapi-service", service)
                    .json(&body),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let reply = r.json();
        assert_eq!(reply["jsonrpc"], "2.0");
        assert_eq!(reply["id"], "7");
        reply["result"].clone()
    }

    // -----------------------------------------------------------------------------------
    // Horizon REST (/rest/...)

    /// `POST /rest/login` with `body` as it is.
    pub async fn rest_login_with(&self, body: Value) -> Reply {
        self.post("/rest/login", None, body).await
    }

    /// Logs `user` (password `vmware`, domain VLSIM) in; asserts 200; (access, refresh).
    pub async fn rest_login(&self, user: &str) -> (String, String) {
        let r = self
            .rest_login_with(json!({"domain": "VLSIM", "username": user, "password": "vmware"}))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let body = r.json();
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
        (
            body["access_token"].as_str().unwrap().to_string(),
            body["refresh_token"].as_str().unwrap().to_string(),
        )
    }

    /// `GET path` with `Authorization: Bearer {access}`.
    pub async fn rest_get(&self, path: &str, access: &str) -> Reply {
        self.get(path, Some(&format!("Bearer {access}"))).await
    }

    pub async fn rest_refresh(&self, refresh: &str) -> Reply {
        self.post("/rest/refresh", None, json!({ "refresh_token": refresh }))
            .await
    }

    pub async fn rest_logout(&self, refresh: &str) -> Reply {
        self.post("/rest/logout", None, json!({ "refresh_token": refresh }))
            .await
    }

    /// `GET /rest/external/{version}/audit-events` with these query parameters.
    pub async fn audit_events_raw(
        &self,
        version: &str,
        access: &str,
        query: &[(&str, &str)],
    ) -> Reply {
        let path = format!("/rest/external/{version}/audit-events");
        self.send(
            self.request(Method::GET, &path, Some(&format!("Bearer {access}")))
                .query(query),
        )
        .await
    }

    /// v1 audit events; asserts 200 and returns the items.
    pub async fn audit_events(&self, access: &str, query: &[(&str, &str)]) -> Vec<Value> {
        let r = self.audit_events_raw("v1", access, query).await;
        assert_eq!(r.status, 200, "{query:?}: {}", r.text);
        r.json().as_array().unwrap().clone()
    }

    // -----------------------------------------------------------------------------------
    // The control plane under /_vlsim

    /// `POST /_vlsim/clock/advance`; asserts 200, returns the clock.
    pub async fn advance_clock(&self, seconds: i64) -> Value {
        let (status, clock) = self
            .send_json(
                Method::POST,
                "/_vlsim/clock/advance",
                json!({ "seconds": seconds }),
            )
            .await;
        assert_eq!(status, 200, "{clock}");
        clock
    }

    /// `POST /_vlsim/faults`; asserts 201, returns the rule.
    pub async fn add_fault(&self, rule: Value) -> Value {
        let (status, created) = self.send_json(Method::POST, "/_vlsim/faults", rule).await;
        assert_eq!(status, 201, "{created}");
        created
    }

    /// `POST /_vlsim/reset` without a body; asserts 200.
    pub async fn reset(&self) {
        let r = self
            .send(self.request(Method::POST, "/_vlsim/reset", None))
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }

    /// `GET /_vlsim/state`; asserts 200.
    pub async fn state(&self) -> Value {
        self.control("/_vlsim/state").await
    }

    /// `GET /_vlsim/journal?{query}` (operation, surface, status, limit); asserts 200.
    pub async fn journal(&self, query: &str) -> Value {
        self.control(&with_query("/_vlsim/journal", query)).await
    }

    /// `GET /_vlsim/events?{query}` (type, prefix, surface, user, limit); the events.
    pub async fn events(&self, query: &str) -> Vec<Value> {
        let body = self.control(&with_query("/_vlsim/events", query)).await;
        assert_eq!(body["count"], body["events"].as_array().unwrap().len());
        body["events"].as_array().unwrap().clone()
    }

    /// The types of (up to 1000 of) `surface`'s events, newest first.
    pub async fn event_types(&self, surface: &str) -> Vec<String> {
        self.events(&format!("surface={surface}&limit=1000"))
            .await
            .iter()
            .map(|e| e["type"].as_str().unwrap().to_string())
            .collect()
    }

    /// `GET /_vlsim/health`: (status, body); 503 while the store is degraded.
    pub async fn health(&self) -> (u16, Value) {
        self.get_json("/_vlsim/health").await
    }

    /// How many sweeps have finished.
    pub async fn sweeps(&self) -> u64 {
        self.health().await.1["sweeper"]["runs"].as_u64().unwrap()
    }

    /// Waits (bounded) until a sweep after the `after`th has finished; its report.
    pub async fn sweep_after(&self, after: u64) -> Value {
        for _ in 0..400 {
            let (_, health) = self.health().await;
            if health["sweeper"]["runs"].as_u64().unwrap() > after {
                return health["sweeper"]["last_run"].clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("no sweep ran after run {after}");
    }

    /// Moves the clock by `seconds` and waits for the sweep that the move sets off.
    pub async fn advance_and_sweep(&self, seconds: i64) -> Value {
        // The sweep at start-up first (it read the clock before the move).
        self.sweep_after(0).await;
        let runs = self.sweeps().await;
        self.advance_clock(seconds).await;
        self.sweep_after(runs).await
    }

    async fn control(&self, path: &str) -> Value {
        let (status, body) = self.get_json(path).await;
        assert_eq!(status, 200, "{path}: {body}");
        body
    }

    // -----------------------------------------------------------------------------------
    // JWTs

    /// Signs `claims` with the server's key `kid` (to forge otherwise-valid tokens).
    pub fn mint(&self, kid: &str, claims: Value) -> String {
        let key = self.core().key_ring().get(kid).unwrap();
        vlsim::core::tokens::mint(&key, claims.as_object().unwrap()).unwrap()
    }

    /// Verifies `token` with the key of its `kid` in the JWKS at `jwks_path`.
    async fn verify_with_jwks(
        &self,
        jwks_path: &str,
        token: &str,
        configure: impl FnOnce(&mut Validation),
    ) -> Value {
        let jwks = self.get(jwks_path, None).await.json();
        let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        let jwk = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == kid.as_str())
            .unwrap_or_else(|| panic!("kid {kid} not in the JWKS"));
        let s = |name: &str| jwk[name].as_str().unwrap();
        let (key, alg) = match s("kty") {
            "RSA" => (
                DecodingKey::from_rsa_components(s("n"), s("e")).unwrap(),
                Algorithm::RS256,
            ),
            _ => (
                DecodingKey::from_ec_components(s("x"), s("y")).unwrap(),
                Algorithm::ES256,
            ),
        };
        let mut v = Validation::new(alg);
        configure(&mut v);
        jsonwebtoken::decode::<Value>(token, &key, &v)
            .unwrap()
            .claims
    }
}

// ---------------------------------------------------------------------------------------
// Replies

/// Any HTTP answer, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

/// What a REST answer should be, for table-driven checks.
#[derive(Debug)]
pub enum Want {
    /// This status and an empty body.
    Empty(u16),
    /// 400, and this code is the first error of this field.
    Field(&'static str, &'static str),
    /// 400, and this is the first general error's code.
    General(&'static str),
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {:?}", self.status, self.text))
    }

    pub fn json_or_null(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The code of the first error of `field` (a FusionAuth 400).
    pub fn field_code(&self, field: &str) -> String {
        assert_eq!(self.status, 400, "{}", self.text);
        self.json()["fieldErrors"][field][0]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no field error for {field}: {}", self.text))
            .to_string()
    }

    /// The code of the first general error (a FusionAuth 400).
    pub fn general_code(&self) -> String {
        assert_eq!(self.status, 400, "{}", self.text);
        self.json()["generalErrors"][0]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("no general error: {}", self.text))
            .to_string()
    }

    pub fn assert_empty(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.text);
        assert!(
            self.text.is_empty(),
            "expected an empty body: {}",
            self.text
        );
    }

    pub fn assert_is(&self, want: &Want, what: &str) {
        match *want {
            Want::Empty(status) => {
                assert_eq!(self.status, status, "{what}: {}", self.text);
                assert!(self.text.is_empty(), "{what}: not empty: {}", self.text);
            }
            Want::Field(field, code) => assert_eq!(self.field_code(field), code, "{what}"),
            Want::General(code) => assert_eq!(self.general_code(), code, "{what}"),
        }
    }

    /// A Horizon REST error: asserts the status and the envelope
    /// `{"error_message", "errors": [{"error_key", "error_message"}]}`; (key, message).
    pub fn rest_error(&self, status: u16) -> (String, String) {
        assert_eq!(self.status, status, "{}", self.text);
        assert!(
            self.headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{:?}",
            self.headers
        );
        let body = self.json();
        let message = body["error_message"].as_str().unwrap().to_string();
        let errors = body["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1, "{body}");
        assert_eq!(errors[0]["error_message"], message.as_str(), "{body}");
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
        (
            errors[0]["error_key"].as_str().unwrap().to_string(),
            message,
        )
    }

    pub fn cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .collect()
    }
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

    /// The detail element of a fault.
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

// ---------------------------------------------------------------------------------------
// SOAP bodies

pub fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="{SOAP_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>{body}</soapenv:Body></soapenv:Envelope>"#
    )
}

pub fn login_xml(user: &str, password: &str) -> String {
    let b64 = STANDARD.encode(password.as_bytes());
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

// ---------------------------------------------------------------------------------------
// Tokens and fixtures

/// Decodes a JWT's claims without verifying (for asserting on their values).
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// base64url (no padding) of `v` as JSON: a JWT header or payload.
pub fn b64_json(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
}

/// An HS256 JWT with this header (any `alg`, `kid`, ... it states) and these claims.
pub fn sign_hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64_json(header), b64_json(claims));
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// An RFC 8693 form: the token-exchange grant, this subject token, then `more` fields.
pub fn exchange_form<'a>(
    subject_token: &'a str,
    subject_token_type: &'a str,
    more: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("grant_type", vc::GRANT),
        ("subject_token", subject_token),
        ("subject_token_type", subject_token_type),
    ];
    form.extend_from_slice(more);
    form
}

/// A temporary dir holding the default fixtures with `edits` (text replacements, each
/// asserted to apply) as `world.toml`, and a test configuration that loads them into
/// `data/` there.
pub fn edited_world(edits: &[(&str, &str)]) -> (TempDir, Config) {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("world.toml");
    let mut text = vlsim::fixtures::EMBEDDED_DEFAULT.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "fixtures do not contain {from}");
        text = text.replacen(from, to, 1);
    }
    std::fs::write(&fixtures, text).unwrap();
    let mut config = Config::for_tests(&dir.path().join("data"));
    config.fixtures = Some(fixtures);
    (dir, config)
}
