//! vCenter rules: users of the SSO domain (`vsphere.local`), `/api/session` logins by
//! password, SAML token or JWT, and RFC 8693 token exchange (IdP JWT → SAML2, SAML2 → JWT for
//! an audience, JWT → JWT), with the lifetimes, claims and refusals a real vCenter has. The
//! adapters in `src/vcenter/` only parse the wire and encode what comes back.

use crate::core::error::{CoreError, CoreResult};
use crate::core::events::NewEvent;
use crate::core::identity::{hash_password, verify_password};
use crate::core::keys::SigningKey;
use crate::core::saml::{self, Assertion};
use crate::core::sessions::{NewSession, Session};
use crate::core::tokens::{self, Claims, Expectations};
use crate::core::Core;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::io::Read;
use std::sync::Arc;

pub const SURFACE: &str = "vcenter";
const MODULE: &str = "vCenter";
pub const EVENT_SESSION_CREATED: &str = "VCENTER_SESSION_CREATED";
pub const EVENT_LOGIN_FAILED: &str = "VCENTER_LOGIN_FAILED";
pub const EVENT_SESSION_DELETED: &str = "VCENTER_SESSION_DELETED";
pub const EVENT_TOKEN_ISSUED: &str = "VCENTER_TOKEN_ISSUED";
pub const EVENT_TOKEN_FAILED: &str = "VCENTER_TOKEN_ISSUE_FAILED";

pub const GRANT_TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const TYPE_ACCESS_TOKEN: &str = "urn:ietf:params:oauth:token-type:access_token";
pub const TYPE_ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const TYPE_REFRESH_TOKEN: &str = "urn:ietf:params:oauth:token-type:refresh_token";
pub const TYPE_SAML2: &str = "urn:ietf:params:oauth:token-type:saml2";
pub const TYPE_SAML1: &str = "urn:ietf:params:oauth:token-type:saml1";
pub const TYPE_JWT: &str = "urn:ietf:params:oauth:token-type:jwt";

/// `InvalidArgument` fields that mean "cannot issue for this target" (OAuth2 `invalid_scope`)
/// rather than a malformed request (`invalid_request`).
pub const TARGET_FIELDS: &[&str] = &[FIELD_TARGET_AUDIENCE, FIELD_TARGET_SCOPE];
pub const FIELD_TARGET_AUDIENCE: &str = "target.audience";
pub const FIELD_TARGET_SCOPE: &str = "target.scope";

/// Largest decoded token accepted as subject or actor (bytes).
const MAX_TOKEN_BYTES: usize = 256 * 1024;

// ---------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------

/// `[vcenter]` in the fixtures.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VcenterSpec {
    #[serde(default = "default_domain")]
    pub domain: String,
    /// Id of the RSA key in `[[keys]]` that signs JWTs and SAML assertions.
    #[serde(default = "default_signing_key")]
    pub signing_key: String,
    #[serde(default = "default_idle")]
    pub session_idle_timeout_seconds: i64,
    #[serde(default = "default_saml_lifetime")]
    pub saml_token_lifetime_seconds: i64,
    #[serde(default = "default_jwt_lifetime")]
    pub jwt_token_lifetime_seconds: i64,
    #[serde(default = "default_audiences")]
    pub audiences: Vec<String>,
    /// `iss` values accepted on subject/actor/Bearer JWTs; `{host}` matches any host.
    #[serde(default = "default_trusted_issuers")]
    pub trusted_issuers: Vec<String>,
    #[serde(default = "default_users")]
    pub users: Vec<VcenterUserSpec>,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VcenterUserSpec {
    pub name: String,
    pub password: String,
    #[serde(default)]
    pub groups: Vec<String>,
}

fn default_domain() -> String {
    "vsphere.local".into()
}
fn default_signing_key() -> String {
    "40000000-0000-4000-8000-000000000001".into()
}
fn default_idle() -> i64 {
    1800
}
fn default_saml_lifetime() -> i64 {
    300
}
fn default_jwt_lifetime() -> i64 {
    36000
}
fn default_audiences() -> Vec<String> {
    [
        "vmware-tes:vc:vns:k8s",
        "vmware-tes:vc:nsxd-v2:nsx",
        "vmware-tes:vc:nsxd:nsx",
    ]
    .map(String::from)
    .to_vec()
}
fn default_trusted_issuers() -> Vec<String> {
    [
        "vlsim.test",
        "cs1.vlsim.test",
        "https://{host}/openidconnect/vsphere.local",
    ]
    .map(String::from)
    .to_vec()
}
fn default_users() -> Vec<VcenterUserSpec> {
    vec![VcenterUserSpec {
        name: "Administrator".into(),
        password: "VMware1!".into(),
        groups: [
            "Administrators@vsphere.local",
            "Users@vsphere.local",
            "Everyone@vsphere.local",
        ]
        .map(String::from)
        .to_vec(),
    }]
}

impl Default for VcenterSpec {
    fn default() -> Self {
        Self {
            domain: default_domain(),
            signing_key: default_signing_key(),
            session_idle_timeout_seconds: default_idle(),
            saml_token_lifetime_seconds: default_saml_lifetime(),
            jwt_token_lifetime_seconds: default_jwt_lifetime(),
            audiences: default_audiences(),
            trusted_issuers: default_trusted_issuers(),
            users: default_users(),
        }
    }
}

/// A stored vCenter SSO user (password only as a hash).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VcenterUser {
    pub name: String,
    pub domain: String,
    pub password_hash: String,
    pub groups: Vec<String>,
}

impl VcenterUser {
    /// `Administrator@vsphere.local`
    pub fn principal(&self) -> String {
        format!("{}@{}", self.name, self.domain)
    }

    pub fn key(name: &str, domain: &str) -> String {
        format!("{}@{}", name.to_lowercase(), domain.to_lowercase())
    }
}

/// Settings plus the parsed signing material, rebuilt on start and reset.
pub struct VcenterRuntime {
    pub spec: VcenterSpec,
    pub key: Arc<SigningKey>,
    rsa: aws_lc_rs::rsa::KeyPair,
    /// DER of the self-signed certificate for `key` (JWKS `x5c`, SAML `KeyInfo`).
    pub cert_der: Vec<u8>,
}

impl std::fmt::Debug for VcenterRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VcenterRuntime")
            .field("key", &self.key.id)
            .finish_non_exhaustive()
    }
}

/// Whether `iss` matches a trusted-issuer pattern (`{host}` stands for any one host).
pub fn issuer_matches(pattern: &str, iss: &str) -> bool {
    match pattern.split_once("{host}") {
        None => pattern == iss,
        Some((prefix, suffix)) => iss
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_suffix(suffix))
            .is_some_and(|host| !host.is_empty() && !host.contains('/')),
    }
}

/// The signing certificate. It is derived, not stored: fixed subject, serial (from the key
/// id) and validity (2025-01-01 to 2045-01-01), and RSA PKCS#1 v1.5 signatures are
/// deterministic, so the same key always yields byte-identical certificates across restarts
/// and resets, and a regenerated key (`--generate-keys`) gets a matching new one.
fn self_signed_cert(key: &SigningKey, pkcs8_pem: &str, domain: &str) -> CoreResult<Vec<u8>> {
    let err = |e: rcgen::Error| CoreError::Internal(format!("vCenter certificate: {e}"));
    let pair = rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(pkcs8_pem, &rcgen::PKCS_RSA_SHA256)
        .map_err(err)?;
    let mut params = rcgen::CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(
        rcgen::DnType::CommonName,
        format!("vlsim vCenter STS {domain} (TEST)"),
    );
    dn.push(rcgen::DnType::OrganizationName, "vlsim");
    params.distinguished_name = dn;
    params.not_before = rcgen::date_time_ymd(2025, 1, 1);
    params.not_after = rcgen::date_time_ymd(2045, 1, 1);
    let serial: Vec<u8> = sha2::Digest::finalize(sha2::Digest::chain_update(
        <sha2::Sha256 as sha2::Digest>::new(),
        key.id.as_bytes(),
    ))
    .iter()
    .take(16)
    .map(|b| b & 0x7f)
    .collect();
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyCertSign,
    ];
    let cert = params.self_signed(&pair).map_err(err)?;
    Ok(cert.der().to_vec())
}

impl VcenterRuntime {
    fn build(spec: VcenterSpec, key: Arc<SigningKey>) -> CoreResult<Self> {
        let pem = key.material.private_pem.clone().ok_or_else(|| {
            CoreError::Internal(format!("vCenter signing key {} has no PEM", key.id))
        })?;
        let pkcs8_pem = if pem.contains("BEGIN RSA PRIVATE KEY") {
            crate::core::keys::rsa_pkcs8_pem(&pem).unwrap_or(pem)
        } else {
            pem
        };
        let der = crate::core::keys::pem_der(&pkcs8_pem)
            .ok_or_else(|| CoreError::Internal("vCenter signing key: unreadable PEM".into()))?;
        let rsa = aws_lc_rs::rsa::KeyPair::from_pkcs8(&der)
            .map_err(|e| CoreError::Internal(format!("vCenter signing key: {e}")))?;
        let cert_der = self_signed_cert(&key, &pkcs8_pem, &spec.domain)?;
        Ok(Self {
            spec,
            key,
            rsa,
            cert_der,
        })
    }

    /// `https://HOST/openidconnect/<domain>`
    pub fn issuer(&self, host: &str) -> String {
        format!("https://{host}/openidconnect/{}", self.spec.domain)
    }

    fn saml_issuer(&self, host: &str) -> String {
        format!("https://{host}/websso/SAML2/Metadata/{}", self.spec.domain)
    }

    fn trusts(&self, iss: &str) -> bool {
        self.spec
            .trusted_issuers
            .iter()
            .any(|pattern| issuer_matches(pattern, iss))
    }

    /// Signs `claims` with the vCenter key (jsonwebtoken, through the provider that caches
    /// parsed keys: see `core::crypto`).
    fn mint_jwt(&self, claims: &Claims) -> CoreResult<String> {
        tokens::mint(&self.key, claims)
    }

    /// The JWKS: the signing key with its certificate chain (`x5c`) and thumbprint.
    pub fn jwks(&self) -> Value {
        let mut jwk = self.key.jwk.clone().unwrap_or_else(|| json!({}));
        if let Some(obj) = jwk.as_object_mut() {
            obj.insert("x5c".into(), json!([STANDARD.encode(&self.cert_der)]));
            let sha1 = aws_lc_rs::digest::digest(
                &aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY,
                &self.cert_der,
            );
            obj.insert("x5t".into(), json!(URL_SAFE_NO_PAD.encode(sha1.as_ref())));
            let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &self.cert_der);
            obj.insert(
                "x5t#S256".into(),
                json!(URL_SAFE_NO_PAD.encode(sha256.as_ref())),
            );
        }
        json!({ "keys": [jwk] })
    }

    pub fn cert_pem(&self) -> String {
        let b64 = STANDARD.encode(&self.cert_der);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(&String::from_utf8_lossy(chunk));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }
}

// ---------------------------------------------------------------------------------------
// Exchange inputs and outputs
// ---------------------------------------------------------------------------------------

/// `com.vmware.vcenter.authentication.token.issue_spec` (also the legacy exchange spec).
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct IssueSpec {
    pub grant_type: Option<String>,
    pub resource: Option<String>,
    pub audience: Option<String>,
    pub scope: Option<String>,
    pub requested_token_type: Option<String>,
    pub subject_token: Option<String>,
    pub subject_token_type: Option<String>,
    pub actor_token: Option<String>,
    pub actor_token_type: Option<String>,
}

impl IssueSpec {
    /// Empty strings count as absent (HTML forms send `audience=`).
    pub fn normalised(mut self) -> Self {
        for field in [
            &mut self.grant_type,
            &mut self.resource,
            &mut self.audience,
            &mut self.scope,
            &mut self.requested_token_type,
            &mut self.subject_token,
            &mut self.subject_token_type,
            &mut self.actor_token,
            &mut self.actor_token_type,
        ] {
            if field.as_deref().is_some_and(|v| v.trim().is_empty()) {
                *field = None;
            }
        }
        self
    }
}

/// `com.vmware.oauth2.token_info`
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenInfo {
    pub access_token: String,
    pub token_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub issued_token_type: String,
}

/// Who a token or session speaks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Subject {
    /// `name@domain`
    pub principal: String,
    pub groups: Vec<String>,
}

/// How a caller of `/api/session` proves who it is.
pub enum Credentials<'a> {
    Password {
        user: &'a str,
        password: &'a str,
    },
    /// Raw SAML assertion XML.
    Saml(&'a str),
    /// A JWT from a trusted issuer (`Authorization: Bearer`, vAPI `oauth` context).
    Jwt(&'a str),
}

impl Credentials<'_> {
    fn method(&self) -> &'static str {
        match self {
            Self::Password { .. } => "password",
            Self::Saml(_) => "saml",
            Self::Jwt(_) => "jwt",
        }
    }
}

fn details(pairs: &[(&str, Value)]) -> Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

fn grant(message: impl Into<String>) -> CoreError {
    CoreError::InvalidToken(message.into())
}

/// A SAML token as clients pass it: raw XML, base64 (standard or URL-safe) of the XML, or
/// of gzip'ed XML (the `SIGN` header form).
pub fn decode_saml_token(token: &str) -> CoreResult<String> {
    let trimmed = token.trim();
    if trimmed.starts_with('<') {
        return Ok(trimmed.to_string());
    }
    let compact: String = trimmed.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = STANDARD
        .decode(&compact)
        .or_else(|_| URL_SAFE_NO_PAD.decode(compact.trim_end_matches('=')))
        .map_err(|_| grant("the SAML token is not base64"))?;
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .take(MAX_TOKEN_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|_| grant("the SAML token is not valid gzip"))?;
        out
    } else {
        bytes
    };
    if bytes.len() > MAX_TOKEN_BYTES {
        return Err(grant("the SAML token is too large"));
    }
    String::from_utf8(bytes).map_err(|_| grant("the SAML token is not UTF-8 XML"))
}

/// `user@domain`, `DOMAIN\user` or a bare name (then the SSO domain).
fn split_user<'a>(user: &'a str, default_domain: &'a str) -> (&'a str, &'a str) {
    if let Some((d, n)) = user.split_once('\\') {
        (n, d)
    } else if let Some((n, d)) = user.split_once('@') {
        (n, d)
    } else {
        (user, default_domain)
    }
}

impl Core {
    pub(crate) fn load_vcenter(&self, spec: &VcenterSpec) -> CoreResult<()> {
        let key_ok = self
            .key_materials
            .get(&spec.signing_key)?
            .is_some_and(|k| k.algorithm == "RS256");
        if !key_ok {
            return Err(CoreError::invalid_argument(
                "vcenter.signing_key",
                format!("no RS256 key with id {} in the fixtures", spec.signing_key),
            ));
        }
        for (field, value) in [
            (
                "session_idle_timeout_seconds",
                spec.session_idle_timeout_seconds,
            ),
            (
                "saml_token_lifetime_seconds",
                spec.saml_token_lifetime_seconds,
            ),
            (
                "jwt_token_lifetime_seconds",
                spec.jwt_token_lifetime_seconds,
            ),
        ] {
            if value < 1 {
                return Err(CoreError::invalid_argument(
                    format!("vcenter.{field}"),
                    format!("must be at least 1 second, got {value}"),
                ));
            }
        }
        if spec.domain.trim().is_empty() || spec.domain.contains('/') {
            return Err(CoreError::invalid_argument(
                "vcenter.domain",
                "must be a domain name such as vsphere.local",
            ));
        }
        for user in &spec.users {
            let record = VcenterUser {
                name: user.name.clone(),
                domain: spec.domain.clone(),
                password_hash: hash_password(&user.password),
                groups: user.groups.clone(),
            };
            self.vcenter_users
                .put(VcenterUser::key(&record.name, &record.domain), &record)?;
        }
        let mut stored = spec.clone();
        stored.users.clear(); // users live in their own table, passwords only hashed
        let json = serde_json::to_string(&stored)
            .map_err(|e| CoreError::Internal(format!("encoding vcenter settings: {e}")))?;
        self.store.meta_put(META_VCENTER, &json)?;
        Ok(())
    }

    pub(crate) fn refresh_vcenter(&self) -> CoreResult<()> {
        let spec = match self.store.meta_get(META_VCENTER)? {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| CoreError::Internal(format!("stored vcenter settings: {e}")))?,
            None => VcenterSpec::default(),
        };
        let key = self
            .key_ring()
            .get(&spec.signing_key)
            .filter(|k| k.algorithm == jsonwebtoken::Algorithm::RS256)
            .ok_or_else(|| {
                CoreError::invalid_argument(
                    "vcenter.signing_key",
                    format!("no RS256 key with id {} in the fixtures", spec.signing_key),
                )
            })?;
        let runtime = Arc::new(VcenterRuntime::build(spec, key)?);
        if let Ok(mut guard) = self.vcenter.write() {
            *guard = Some(runtime);
        }
        Ok(())
    }

    pub fn vcenter(&self) -> CoreResult<Arc<VcenterRuntime>> {
        self.vcenter
            .read()
            .ok()
            .and_then(|g| g.clone())
            .ok_or_else(|| CoreError::Internal("the vCenter surface is not configured".into()))
    }

    fn vcenter_user(&self, name: &str, domain: &str) -> CoreResult<Option<VcenterUser>> {
        Ok(self.vcenter_users.get(VcenterUser::key(name, domain))?)
    }

    /// Who a JWT from a trusted issuer (signed by a key in the ring) speaks for.
    pub fn vcenter_jwt_subject(&self, token: &str) -> CoreResult<Subject> {
        let rt = self.vcenter()?;
        let ring = self.key_ring();
        let verified = tokens::verify(
            &ring,
            token.trim(),
            self.clock.now_secs(),
            &Expectations::default(),
        )?;
        let iss = verified.claim_str("iss").unwrap_or_default();
        if !rt.trusts(iss) {
            return Err(grant(format!("the token's issuer [{iss}] is not trusted")));
        }
        let claim = |name: &str| {
            verified
                .claim_str(name)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let principal = match (claim("username"), claim("domain")) {
            (Some(u), Some(d)) if !u.contains('@') && !u.contains('\\') => format!("{u}@{d}"),
            _ => claim("preferred_username")
                .or_else(|| claim("email"))
                .or_else(|| claim("sub"))
                .map(str::to_string)
                .ok_or_else(|| grant("the token names no subject"))?,
        };
        let (name, domain) = split_user(&principal, &rt.spec.domain);
        if let Some(user) = self.vcenter_user(name, domain)? {
            return Ok(Subject {
                principal: user.principal(),
                groups: user.groups,
            });
        }
        // A federated identity: groups as the token states them.
        let groups = verified
            .claims
            .get("group_names")
            .or_else(|| verified.claims.get("groups"))
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Subject { principal, groups })
    }

    /// Who a SAML assertion signed by this vCenter speaks for, if it is valid now.
    pub fn vcenter_saml_subject(&self, xml: &str) -> CoreResult<Subject> {
        let rt = self.vcenter()?;
        let assertion = saml::verify_assertion(xml, &saml::public_key_der(&rt.rsa))?;
        let now = self.clock.now_ms();
        if now < assertion.not_before_ms {
            return Err(grant("the SAML token is not valid yet"));
        }
        if now >= assertion.not_on_or_after_ms {
            return Err(grant("the SAML token has expired"));
        }
        Ok(Subject {
            principal: assertion.subject,
            groups: assertion.groups,
        })
    }

    fn vcenter_login_failed(&self, who: Option<String>, method: &str, reason: &str) {
        let recorded = self.record_event(NewEvent {
            event_type: EVENT_LOGIN_FAILED,
            severity: "AUDIT_FAIL",
            module: MODULE,
            surface: SURFACE,
            user: who.clone(),
            message: format!(
                "vCenter login failed for {} ({method}): {reason}",
                who.as_deref().unwrap_or("an unknown user")
            ),
            details: details(&[("method", json!(method)), ("reason", json!(reason))]),
        });
        if let Err(e) = recorded {
            tracing::error!(error = %e, "could not record {EVENT_LOGIN_FAILED}");
        }
    }

    /// `POST /api/session` and friends: checks the credentials and opens a session.
    pub async fn vcenter_login(&self, credentials: Credentials<'_>) -> CoreResult<Session> {
        let rt = self.vcenter()?;
        let method = credentials.method();
        let subject = match credentials {
            Credentials::Password { user, password } => {
                let (name, domain) = split_user(user.trim(), &rt.spec.domain);
                match self
                    .vcenter_user(name, domain)?
                    .filter(|u| verify_password(password, &u.password_hash))
                {
                    Some(u) => Ok(Subject {
                        principal: u.principal(),
                        groups: u.groups,
                    }),
                    None => Err((
                        Some(user.to_string()),
                        "invalid user name or password".to_string(),
                    )),
                }
            }
            Credentials::Saml(xml) => self
                .vcenter_saml_subject(xml)
                .map_err(|e| (None, e.to_string())),
            Credentials::Jwt(token) => self
                .vcenter_jwt_subject(token)
                .map_err(|e| (None, e.to_string())),
        };
        let subject = match subject {
            Ok(s) => s,
            Err((who, reason)) => {
                self.vcenter_login_failed(who, method, &reason);
                return Err(CoreError::NotAuthenticated(
                    "Authentication required.".into(),
                ));
            }
        };
        let session = self
            .create_session(NewSession {
                surface: SURFACE,
                principal: subject.principal.clone(),
                privileges: subject.groups.clone(),
                idle_timeout_secs: rt.spec.session_idle_timeout_seconds,
                method,
            })
            .await?;
        self.record_event(NewEvent {
            event_type: EVENT_SESSION_CREATED,
            severity: "AUDIT_SUCCESS",
            module: MODULE,
            surface: SURFACE,
            user: Some(subject.principal.clone()),
            message: format!("User {} logged in to vCenter ({method})", subject.principal),
            details: details(&[("method", json!(method))]),
        })?;
        Ok(session)
    }

    /// The live vCenter session `id` (touched).
    pub fn vcenter_session(&self, id: &str) -> CoreResult<Session> {
        if id.is_empty() || id.len() > 128 {
            return Err(CoreError::NotAuthenticated(
                "The session is not authenticated.".into(),
            ));
        }
        self.session(SURFACE, id)
    }

    pub async fn vcenter_logout(&self, session: &Session) -> CoreResult<()> {
        self.end_session(&session.id).await?;
        self.record_event(NewEvent {
            event_type: EVENT_SESSION_DELETED,
            severity: "AUDIT_SUCCESS",
            module: MODULE,
            surface: SURFACE,
            user: Some(session.principal.clone()),
            message: format!("User {} logged out of vCenter", session.principal),
            details: Map::new(),
        })?;
        Ok(())
    }

    /// `/api/session` user name: `VSPHERE.LOCAL\Administrator`.
    pub fn vcenter_display_user(principal: &str) -> String {
        match principal.rsplit_once('@') {
            Some((name, domain)) => format!("{}\\{name}", domain.to_uppercase()),
            None => principal.to_string(),
        }
    }

    /// Token exchange (`Token.issue` and the legacy `TokenExchange.exchange`) for `caller`,
    /// with `host` the name the client addressed (it goes into `iss`). Records
    /// `VCENTER_TOKEN_ISSUED` or `VCENTER_TOKEN_ISSUE_FAILED`.
    pub fn vcenter_issue_token(
        &self,
        caller: &str,
        spec: &IssueSpec,
        host: &str,
    ) -> CoreResult<TokenInfo> {
        let result = self.vcenter_exchange(spec, host);
        let requested = spec.requested_token_type.clone().unwrap_or_default();
        match &result {
            Ok((info, subject)) => {
                let recorded = self.record_event(NewEvent {
                    event_type: EVENT_TOKEN_ISSUED,
                    severity: "AUDIT_SUCCESS",
                    module: MODULE,
                    surface: SURFACE,
                    user: Some(subject.principal.clone()),
                    message: format!(
                        "{caller} exchanged a token of {} for {} ({})",
                        subject.principal, info.issued_token_type, info.token_type
                    ),
                    details: details(&[
                        ("caller", json!(caller)),
                        ("subjectTokenType", json!(spec.subject_token_type)),
                        ("issuedTokenType", json!(info.issued_token_type)),
                        ("audience", json!(spec.audience)),
                        ("expiresIn", json!(info.expires_in)),
                    ]),
                });
                if let Err(e) = recorded {
                    tracing::error!(error = %e, "could not record {EVENT_TOKEN_ISSUED}");
                }
            }
            Err(e) => self.vcenter_token_failed(caller, Some(spec), &requested, e),
        }
        result.map(|(info, _)| info)
    }

    /// Records `VCENTER_TOKEN_ISSUE_FAILED` (also for requests refused before the exchange,
    /// e.g. an unreadable body: then `spec` is `None`).
    pub fn vcenter_token_failed(
        &self,
        caller: &str,
        spec: Option<&IssueSpec>,
        requested: &str,
        error: &CoreError,
    ) {
        let recorded = self.record_event(NewEvent {
            event_type: EVENT_TOKEN_FAILED,
            severity: "AUDIT_FAIL",
            module: MODULE,
            surface: SURFACE,
            user: Some(caller.to_string()),
            message: format!("Token exchange by {caller} failed: {error}"),
            details: details(&[
                ("caller", json!(caller)),
                (
                    "subjectTokenType",
                    json!(spec.and_then(|s| s.subject_token_type.clone())),
                ),
                ("requestedTokenType", json!(requested)),
                ("reason", json!(error.to_string())),
            ]),
        });
        if let Err(e) = recorded {
            tracing::error!(error = %e, "could not record {EVENT_TOKEN_FAILED}");
        }
    }

    fn vcenter_subject(&self, token: &str, token_type: &str, role: &str) -> CoreResult<Subject> {
        match token_type {
            TYPE_SAML2 => self.vcenter_saml_subject(&decode_saml_token(token)?),
            TYPE_ACCESS_TOKEN | TYPE_ID_TOKEN | TYPE_JWT => {
                let raw = token.trim();
                // "Token is base64-encoded": accept a bare JWT or base64 of one.
                let jwt = if raw.matches('.').count() == 2 {
                    raw.to_string()
                } else {
                    STANDARD
                        .decode(raw)
                        .ok()
                        .and_then(|b| String::from_utf8(b).ok())
                        .filter(|s| s.matches('.').count() == 2)
                        .ok_or_else(|| grant(format!("the {role} is not a JWT")))?
                };
                self.vcenter_jwt_subject(&jwt).map_err(|e| match e {
                    CoreError::InvalidToken(m) => grant(format!("the {role} is not valid: {m}")),
                    other => other,
                })
            }
            TYPE_SAML1 | TYPE_REFRESH_TOKEN => Err(CoreError::invalid_argument(
                format!("{role}_type"),
                format!("{role}_type {token_type} is not supported"),
            )),
            other => Err(CoreError::invalid_argument(
                format!("{role}_type"),
                format!("unknown {role}_type {other}"),
            )),
        }
    }

    fn vcenter_exchange(&self, spec: &IssueSpec, host: &str) -> CoreResult<(TokenInfo, Subject)> {
        let rt = self.vcenter()?;
        let required = |v: &Option<String>, name: &str| {
            v.clone()
                .ok_or_else(|| CoreError::invalid_argument(name, format!("{name} is required")))
        };
        let grant_type = required(&spec.grant_type, "grant_type")?;
        if grant_type != GRANT_TOKEN_EXCHANGE {
            return Err(CoreError::invalid_argument(
                "grant_type",
                format!("Unsupported grant type {grant_type}"),
            ));
        }
        let subject_token = required(&spec.subject_token, "subject_token")?;
        let subject_type = required(&spec.subject_token_type, "subject_token_type")?;
        let requested = match spec.requested_token_type.as_deref() {
            Some(t @ (TYPE_SAML2 | TYPE_ID_TOKEN | TYPE_ACCESS_TOKEN)) => t,
            Some(TYPE_JWT) => TYPE_ACCESS_TOKEN,
            Some(other) => {
                return Err(CoreError::invalid_argument(
                    "requested_token_type",
                    format!("requested_token_type {other} is not supported"),
                ))
            }
            // Server's discretion: SAML for an IdP token, a JWT for a SAML token.
            None if subject_type == TYPE_SAML2 => TYPE_ID_TOKEN,
            None => TYPE_SAML2,
        };
        match (&spec.actor_token, &spec.actor_token_type) {
            (Some(_), None) => {
                return Err(CoreError::invalid_argument(
                    "actor_token_type",
                    "actor_token_type is required with actor_token",
                ))
            }
            (None, Some(_)) => {
                return Err(CoreError::invalid_argument(
                    "actor_token",
                    "actor_token_type given without actor_token",
                ))
            }
            _ => {}
        }
        if let Some(resource) = &spec.resource {
            let absolute = resource
                .split_once("://")
                .is_some_and(|(scheme, rest)| !scheme.is_empty() && !rest.is_empty());
            if !absolute || resource.contains(' ') {
                return Err(CoreError::invalid_argument(
                    "resource",
                    "resource must be an absolute URI",
                ));
            }
        }
        let wants_jwt = requested != TYPE_SAML2;
        if let Some(audience) = &spec.audience {
            if wants_jwt && !rt.spec.audiences.iter().any(|a| a == audience) {
                return Err(CoreError::invalid_argument(
                    FIELD_TARGET_AUDIENCE,
                    format!("Unknown audience value {audience}"),
                ));
            }
        } else if wants_jwt {
            return Err(CoreError::invalid_argument(
                "audience",
                "Audience is required to request a JWT.",
            ));
        }
        let scopes: Vec<&str> = spec
            .scope
            .as_deref()
            .map(|s| s.split(' ').filter(|x| !x.is_empty()).collect())
            .unwrap_or_default();
        if let Some(bad) = scopes.iter().find(|s| **s != "openid") {
            return Err(CoreError::invalid_argument(
                FIELD_TARGET_SCOPE,
                format!("scope {bad} cannot be granted"),
            ));
        }

        let subject = self.vcenter_subject(&subject_token, &subject_type, "subject_token")?;
        let actor = match (&spec.actor_token, &spec.actor_token_type) {
            (Some(t), Some(tt)) => Some(self.vcenter_subject(t, tt, "actor_token")?),
            _ => None,
        };

        let now_ms = self.clock.now_ms();
        let now = now_ms.div_euclid(1000);
        let info = if requested == TYPE_SAML2 {
            let lifetime = rt.spec.saml_token_lifetime_seconds;
            let assertion = Assertion {
                id: format!("_{}", uuid::Uuid::new_v4()),
                issuer: rt.saml_issuer(host),
                subject: subject.principal.clone(),
                groups: subject.groups.clone(),
                audiences: spec.audience.iter().cloned().collect(),
                issue_instant_ms: now_ms,
                not_before_ms: now_ms,
                not_on_or_after_ms: now_ms.saturating_add(lifetime.saturating_mul(1000)),
            };
            let xml = saml::sign_assertion(&assertion, &rt.rsa, &rt.cert_der)?;
            TokenInfo {
                access_token: STANDARD.encode(xml.as_bytes()),
                token_type: "Bearer".into(),
                expires_in: Some(lifetime.saturating_sub(1)),
                scope: None,
                refresh_token: None,
                issued_token_type: TYPE_SAML2.into(),
            }
        } else {
            let lifetime = rt.spec.jwt_token_lifetime_seconds;
            let (name, domain) = split_user(&subject.principal, &rt.spec.domain);
            let mut claims: Claims = details(&[
                ("iss", json!(rt.issuer(host))),
                ("sub", json!(subject.principal)),
                ("aud", json!(spec.audience)),
                ("domain", json!(domain)),
                ("group_names", json!(subject.groups)),
                ("iat", json!(now)),
                ("exp", json!(now.saturating_add(lifetime))),
                ("jti", json!(uuid::Uuid::new_v4().to_string())),
                ("username", json!(name)),
            ]);
            if let Some(actor) = &actor {
                claims.insert("act".into(), json!({"sub": actor.principal}));
            }
            let token = rt.mint_jwt(&claims)?;
            let id_token = requested == TYPE_ID_TOKEN;
            TokenInfo {
                access_token: token,
                token_type: if id_token { "N_A" } else { "Bearer" }.into(),
                expires_in: Some(lifetime.saturating_sub(1)),
                scope: Some("openid".into()),
                refresh_token: None,
                issued_token_type: requested.into(),
            }
        };
        Ok((info, subject))
    }
}

pub(crate) const META_VCENTER: &str = "vcenter";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_patterns() {
        let spec = VcenterSpec::default();
        let trusts = |iss: &str| spec.trusted_issuers.iter().any(|p| issuer_matches(p, iss));
        assert!(trusts("vlsim.test"));
        assert!(trusts("https://127.0.0.1:9/openidconnect/vsphere.local"));
        assert!(!trusts("https://a/b/openidconnect/vsphere.local"));
        assert!(!trusts("evil.test"));
    }

    #[test]
    fn vcenter_fixtures_are_strict() {
        let err = crate::fixtures::World::parse(
            "[horizon]\nconnection_server_name = \"c\"\ndomain = \"D\"\nsigning_key = \"k\"\n[vcenter]\nbogus = 1\n",
            "t",
            None,
        )
        .unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }

    #[test]
    fn bad_vcenter_settings_stop_the_start() {
        let (mut world, keys) = crate::fixtures::World::embedded().unwrap();
        world.vcenter.signing_key = "40000000-0000-4000-8000-000000000002".into(); // ES256
        let source = crate::core::WorldSource {
            world: world.clone(),
            keys: keys.clone(),
            origin: "t".into(),
            generate_keys: false,
        };
        let store = crate::store::Store::temporary().unwrap();
        let Err(err) = Core::open(store, crate::clock::Clock::new(), &source) else {
            panic!("the start should fail");
        };
        assert!(err.to_string().contains("RS256"), "{err}");
        world.vcenter.signing_key = default_signing_key();
        world.vcenter.saml_token_lifetime_seconds = 0;
        let source = crate::core::WorldSource { world, ..source };
        let store = crate::store::Store::temporary().unwrap();
        let Err(err) = Core::open(store, crate::clock::Clock::new(), &source) else {
            panic!("the start should fail");
        };
        assert!(err.to_string().contains("at least 1"), "{err}");
    }

    #[test]
    fn default_fixture_matches_default_spec() {
        let (world, _) = crate::fixtures::World::embedded().unwrap();
        assert_eq!(world.vcenter, VcenterSpec::default());
    }

    #[test]
    fn saml_decoding_forms() {
        let xml = "<a>x</a>";
        assert_eq!(decode_saml_token(xml).unwrap(), xml);
        assert_eq!(decode_saml_token(&STANDARD.encode(xml)).unwrap(), xml);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, xml.as_bytes()).unwrap();
        let gz = STANDARD.encode(gz.finish().unwrap());
        assert_eq!(decode_saml_token(&gz).unwrap(), xml);
        assert!(decode_saml_token("!!!").is_err());
    }

    #[test]
    fn cached_signer_jwts_verify_like_minted_ones() {
        crate::core::install_crypto_provider();
        let (_, materials) = crate::fixtures::World::embedded().unwrap();
        let ring = crate::core::keys::KeyRing::new(
            materials
                .iter()
                .map(|m| SigningKey::from_material(m).unwrap())
                .collect(),
        );
        let key = ring.get(&default_signing_key()).unwrap();
        let rt = VcenterRuntime::build(VcenterSpec::default(), key).unwrap();
        let claims: Claims = details(&[("sub", json!("u")), ("exp", json!(100))]);
        let token = rt.mint_jwt(&claims).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(rt.key.id.as_str()));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let verified = tokens::verify(&ring, &token, 99, &Expectations::default()).unwrap();
        assert_eq!(verified.claims, claims);
        assert!(tokens::verify(&ring, &token, 100, &Expectations::default()).is_err());
        // The certificate is derived deterministically: same key, same bytes.
        let again = VcenterRuntime::build(VcenterSpec::default(), rt.key.clone()).unwrap();
        assert_eq!(again.cert_der, rt.cert_der);
    }
}
