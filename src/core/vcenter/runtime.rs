//! The vCenter's signing material: the RSA key of `[vcenter]`, its derived self-signed
//! certificate (JWKS `x5c`, SAML `KeyInfo`) and the issuer names built from the host.

use crate::core::error::{CoreError, CoreResult};
use crate::core::keys::{Jwks, SigningKey};
use crate::core::tokens::{self, Claims};
use crate::spec::VcenterSpec;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use std::sync::{Arc, OnceLock};

/// Settings plus the signing material, rebuilt on start and reset. The key is the ring's
/// parsed key; the certificate is made on first use and kept across resets while the key
/// and domain stay the same (making it costs an RSA signature and a key parse, which start
/// and reset should not pay).
pub struct VcenterRuntime {
    pub spec: VcenterSpec,
    pub key: Arc<SigningKey>,
    /// DER of the self-signed certificate for `key` (JWKS `x5c`, SAML `KeyInfo`).
    cert_der: Arc<OnceLock<Vec<u8>>>,
}

impl std::fmt::Debug for VcenterRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VcenterRuntime")
            .field("key", &self.key.id)
            .finish_non_exhaustive()
    }
}

/// The trusted-issuer entry that stands for this vlsim's own origin: `http://HOST` or
/// `https://HOST`, HOST being the host the client addressed (what a FusionAuth tenant's
/// `"{origin}"` OAuth issuer becomes).
pub const ORIGIN_PATTERN: &str = "{origin}";

/// Whether `iss` matches a trusted-issuer pattern (`{host}` stands for any one host,
/// `{origin}` for `http(s)://` + `request_host`).
pub fn issuer_matches(pattern: &str, iss: &str, request_host: &str) -> bool {
    if pattern == ORIGIN_PATTERN {
        return !request_host.is_empty()
            && iss
                .strip_prefix("http://")
                .or_else(|| iss.strip_prefix("https://"))
                .is_some_and(|h| h.eq_ignore_ascii_case(request_host));
    }
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

fn rsa_pair(key: &SigningKey) -> CoreResult<&aws_lc_rs::rsa::KeyPair> {
    key.rsa_pair().ok_or_else(|| {
        CoreError::Internal(format!(
            "vCenter signing key {} is not an RSA key pair",
            key.id
        ))
    })
}

impl VcenterRuntime {
    /// The runtime for `spec` and `key`; the certificate of `previous` is kept when it was
    /// made for the same key (the ring keeps a key's `Arc` while its material is unchanged)
    /// and domain.
    pub(super) fn build(
        spec: VcenterSpec,
        key: Arc<SigningKey>,
        previous: Option<&VcenterRuntime>,
    ) -> CoreResult<Self> {
        rsa_pair(&key)?;
        let cert_der = match previous {
            Some(p) if Arc::ptr_eq(&p.key, &key) && p.spec.domain == spec.domain => {
                p.cert_der.clone()
            }
            _ => Arc::default(),
        };
        Ok(Self {
            spec,
            key,
            cert_der,
        })
    }

    /// The signing key pair (checked to be RSA when the runtime was built).
    pub(super) fn rsa(&self) -> CoreResult<&aws_lc_rs::rsa::KeyPair> {
        rsa_pair(&self.key)
    }

    /// DER of the self-signed certificate for the key, made on first use.
    pub fn cert_der(&self) -> CoreResult<&[u8]> {
        if let Some(der) = self.cert_der.get() {
            return Ok(der);
        }
        let pem = self.key.material.private_pem.clone().ok_or_else(|| {
            CoreError::Internal(format!("vCenter signing key {} has no PEM", self.key.id))
        })?;
        let pkcs8_pem = if pem.contains("BEGIN RSA PRIVATE KEY") {
            crate::core::keys::rsa_pkcs8_pem(&pem).unwrap_or(pem)
        } else {
            pem
        };
        let der = self_signed_cert(&self.key, &pkcs8_pem, &self.spec.domain)?;
        // Two first uses at once make the same bytes (the certificate is deterministic).
        Ok(self.cert_der.get_or_init(|| der))
    }

    /// `https://HOST/openidconnect/<domain>`
    pub fn issuer(&self, host: &str) -> String {
        format!("https://{host}/openidconnect/{}", self.spec.domain)
    }

    pub(super) fn saml_issuer(&self, host: &str) -> String {
        format!("https://{host}/websso/SAML2/Metadata/{}", self.spec.domain)
    }

    pub(super) fn trusts(&self, iss: &str, request_host: &str) -> bool {
        self.spec
            .trusted_issuers
            .iter()
            .any(|pattern| issuer_matches(pattern, iss, request_host))
    }

    /// Signs `claims` with the vCenter key (jsonwebtoken, through the provider that caches
    /// parsed keys: see `core::crypto`).
    pub(super) fn mint_jwt(&self, claims: &Claims) -> CoreResult<String> {
        tokens::mint(&self.key, claims)
    }

    /// The JWKS: the signing key with its certificate chain (`x5c`) and thumbprint.
    pub fn jwks(&self) -> CoreResult<Jwks> {
        let mut jwk = self.key.jwk.clone().ok_or_else(|| {
            CoreError::Internal(format!("vCenter signing key {} has no JWK", self.key.id))
        })?;
        let cert_der = self.cert_der()?;
        jwk.x5c = Some(vec![STANDARD.encode(cert_der)]);
        let sha1 =
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA1_FOR_LEGACY_USE_ONLY, cert_der);
        jwk.x5t = Some(URL_SAFE_NO_PAD.encode(sha1.as_ref()));
        let sha256 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, cert_der);
        jwk.x5t_s256 = Some(URL_SAFE_NO_PAD.encode(sha256.as_ref()));
        Ok(Jwks { keys: vec![jwk] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::events::details;
    use crate::core::tokens::Expectations;
    use crate::spec::vcenter::default_signing_key;
    use serde_json::json;

    #[test]
    fn issuer_patterns() {
        let spec = VcenterSpec::default();
        let trusts = |iss: &str| {
            spec.trusted_issuers
                .iter()
                .any(|p| issuer_matches(p, iss, "127.0.0.1:9"))
        };
        assert!(trusts("vlsim.test"));
        assert!(trusts("http://127.0.0.1:9"));
        assert!(trusts("https://127.0.0.1:9"));
        assert!(!trusts("http://127.0.0.1:10"));
        assert!(!trusts("https://evil.example"));
        assert!(trusts("https://127.0.0.1:9/openidconnect/vsphere.local"));
        assert!(!trusts("https://a/b/openidconnect/vsphere.local"));
        assert!(!trusts("evil.test"));
    }

    #[test]
    fn cached_signer_jwts_verify_like_minted_ones() {
        crate::core::install_crypto_provider();
        let (_, materials) = crate::fixtures::embedded().unwrap();
        let ring = crate::core::keys::KeyRing::new(
            materials
                .iter()
                .map(|m| SigningKey::from_material(m).unwrap())
                .collect(),
        );
        let key = ring.get(&default_signing_key()).unwrap();
        let rt = VcenterRuntime::build(VcenterSpec::default(), key, None).unwrap();
        let claims: Claims = details([("sub", json!("u")), ("exp", json!(100))]);
        let token = rt.mint_jwt(&claims).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), Some(rt.key.id.as_str()));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let verified = tokens::verify(&ring, &token, 99, &Expectations::default()).unwrap();
        assert_eq!(verified.claims, claims);
        assert!(tokens::verify(&ring, &token, 100, &Expectations::default()).is_err());
        // The certificate is derived deterministically: same key, same bytes.
        let again = VcenterRuntime::build(VcenterSpec::default(), rt.key.clone(), None).unwrap();
        assert_eq!(again.cert_der().unwrap(), rt.cert_der().unwrap());
        // A reset with the same key and domain keeps the certificate made before.
        let kept =
            VcenterRuntime::build(VcenterSpec::default(), rt.key.clone(), Some(&rt)).unwrap();
        assert!(Arc::ptr_eq(&kept.cert_der, &rt.cert_der));
        let other_domain = VcenterSpec {
            domain: "other.local".into(),
            ..VcenterSpec::default()
        };
        let remade = VcenterRuntime::build(other_domain, rt.key.clone(), Some(&rt)).unwrap();
        assert!(!Arc::ptr_eq(&remade.cert_der, &rt.cert_der));
        assert_ne!(remade.cert_der().unwrap(), rt.cert_der().unwrap());
    }
}
