//! SAML 2.0 bearer assertions, signed with XML-DSig (enveloped, RSA-SHA256, exclusive C14N).
//!
//! vlsim writes the assertion already in exclusive-canonical form (no whitespace between
//! elements, attributes in canonical order, `<a></a>` for empty elements, one namespace
//! declaration on the root), so the digest is computed over exactly the bytes sent, and any
//! standard verifier (python `signxml`, `xmlsec1`) that canonicalises it gets the same bytes.
//!
//! Verification accepts only assertions in that form: the `ds:Signature` element is cut out
//! of the received text, the rest is digested as is, and `ds:SignedInfo` must be exactly the
//! one vlsim would have written for that digest and id. That is all an emulator needs (it
//! only has to take back its own tokens) and leaves no room for canonicalisation tricks:
//! the claims are read from the very bytes that were digested.

use crate::core::error::{CoreError, CoreResult};
use crate::xml::{self, Element, Limits};
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::{self, KeyPair, UnparsedPublicKey};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

pub const SAML2_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const SHA256_DIGEST: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const XML_DECL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>"#;
const SIG_OPEN: &str = "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">";
const SIG_CLOSE: &str = "</ds:Signature>";
const GROUPS_ATTRIBUTE: &str = "http://rsa.com/schemas/attr-names/2009/01/GroupIdentity";
/// Largest assertion accepted (bytes of XML).
pub const MAX_ASSERTION_BYTES: usize = 256 * 1024;

/// What an assertion says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub id: String,
    pub issuer: String,
    /// `NameID`, e.g. `Administrator@vsphere.local`.
    pub subject: String,
    pub groups: Vec<String>,
    pub audiences: Vec<String>,
    pub issue_instant_ms: i64,
    pub not_before_ms: i64,
    pub not_on_or_after_ms: i64,
}

/// Text content, escaped as canonical XML requires.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// Attribute values, escaped as canonical XML requires.
fn attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c => out.push(c),
        }
    }
    out
}

/// `2026-01-01T00:00:00.000Z`
fn instant(ms: i64) -> String {
    crate::clock::rfc3339_ms(ms)
}

fn parse_instant(s: &str) -> Option<i64> {
    let dt = time::OffsetDateTime::parse(s.trim(), &time::format_description::well_known::Rfc3339)
        .ok()?;
    i64::try_from(dt.unix_timestamp_nanos() / 1_000_000).ok()
}

/// The canonical `ds:SignedInfo` for a reference to `#id` with `digest` (base64); with the
/// `xmlns:ds` declaration exclusive C14N puts on it when it is canonicalised alone.
fn signed_info(id: &str, digest: &str, with_ns: bool) -> String {
    let open = if with_ns {
        format!("<ds:SignedInfo xmlns:ds=\"{DSIG_NS}\">")
    } else {
        "<ds:SignedInfo>".to_string()
    };
    format!(
        "{open}<ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\"></ds:CanonicalizationMethod>\
<ds:SignatureMethod Algorithm=\"{RSA_SHA256}\"></ds:SignatureMethod>\
<ds:Reference URI=\"#{}\"><ds:Transforms><ds:Transform Algorithm=\"{ENVELOPED}\"></ds:Transform>\
<ds:Transform Algorithm=\"{EXC_C14N}\"></ds:Transform></ds:Transforms>\
<ds:DigestMethod Algorithm=\"{SHA256_DIGEST}\"></ds:DigestMethod>\
<ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>",
        attr(id)
    )
}

/// Writes and signs an assertion. `cert_der` goes into `ds:KeyInfo`.
pub fn sign_assertion(a: &Assertion, key: &RsaKeyPair, cert_der: &[u8]) -> CoreResult<String> {
    let issuer = format!(
        "<saml2:Issuer Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:entity\">{}</saml2:Issuer>",
        text(&a.issuer)
    );
    let audiences = if a.audiences.is_empty() {
        String::new()
    } else {
        let list: String = a
            .audiences
            .iter()
            .map(|x| format!("<saml2:Audience>{}</saml2:Audience>", text(x)))
            .collect();
        format!("<saml2:AudienceRestriction>{list}</saml2:AudienceRestriction>")
    };
    let groups: String = a
        .groups
        .iter()
        .map(|g| format!("<saml2:AttributeValue>{}</saml2:AttributeValue>", text(g)))
        .collect();
    let rest = format!(
        "<saml2:Subject><saml2:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress\">{subject}</saml2:NameID>\
<saml2:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">\
<saml2:SubjectConfirmationData NotOnOrAfter=\"{nooa}\"></saml2:SubjectConfirmationData></saml2:SubjectConfirmation></saml2:Subject>\
<saml2:Conditions NotBefore=\"{nb}\" NotOnOrAfter=\"{nooa}\">{audiences}</saml2:Conditions>\
<saml2:AuthnStatement AuthnInstant=\"{ii}\" SessionIndex=\"{sid}\"><saml2:AuthnContext>\
<saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef>\
</saml2:AuthnContext></saml2:AuthnStatement>\
<saml2:AttributeStatement><saml2:Attribute FriendlyName=\"Groups\" Name=\"{GROUPS_ATTRIBUTE}\" \
NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:uri\">{groups}</saml2:Attribute></saml2:AttributeStatement>",
        subject = text(&a.subject),
        nooa = instant(a.not_on_or_after_ms),
        nb = instant(a.not_before_ms),
        ii = instant(a.issue_instant_ms),
        sid = attr(&a.id),
    );
    let open = format!(
        "<saml2:Assertion xmlns:saml2=\"{SAML2_NS}\" ID=\"{}\" IssueInstant=\"{}\" Version=\"2.0\">",
        attr(&a.id),
        instant(a.issue_instant_ms)
    );
    let unsigned = format!("{open}{issuer}{rest}</saml2:Assertion>");
    let digest = STANDARD.encode(Sha256::digest(unsigned.as_bytes()));
    let to_sign = signed_info(&a.id, &digest, true);
    let mut sig = vec![0u8; key.public_modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        to_sign.as_bytes(),
        &mut sig,
    )
    .map_err(|e| CoreError::Internal(format!("signing the SAML assertion: {e}")))?;
    let signature = format!(
        "{SIG_OPEN}{}<ds:SignatureValue>{}</ds:SignatureValue><ds:KeyInfo><ds:X509Data>\
<ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>{SIG_CLOSE}",
        signed_info(&a.id, &digest, false),
        STANDARD.encode(&sig),
        STANDARD.encode(cert_der)
    );
    Ok(format!(
        "{XML_DECL}{open}{issuer}{signature}{rest}</saml2:Assertion>"
    ))
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::InvalidToken(format!("the SAML token is not valid: {}", message.into()))
}

/// The text between the first `<{tag}>` and the following `</{tag}>`.
fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)?.checked_add(open.len())?;
    let len = s.get(start..)?.find(close)?;
    s.get(start..start.checked_add(len)?)
}

/// Checks the signature of an assertion vlsim wrote (see the module docs) against the
/// public key (DER `RSAPublicKey`) and returns what it says. Time conditions are left to
/// the caller.
pub fn verify_assertion(xml_text: &str, public_key_der: &[u8]) -> CoreResult<Assertion> {
    if xml_text.len() > MAX_ASSERTION_BYTES {
        return Err(invalid("it is too large"));
    }
    let body = xml_text.trim();
    let body = body.strip_prefix(XML_DECL).unwrap_or(body);
    let openings = ["<ds:Signature ", "<ds:Signature>", "<ds:Signature/"]
        .iter()
        .map(|o| body.matches(o).count())
        .sum::<usize>();
    if openings != 1 || body.matches(SIG_CLOSE).count() != 1 {
        return Err(invalid("it must carry exactly one ds:Signature"));
    }
    let start = body
        .find(SIG_OPEN)
        .ok_or_else(|| invalid("its ds:Signature is not in the expected form"))?;
    let end = body
        .find(SIG_CLOSE)
        .and_then(|e| e.checked_add(SIG_CLOSE.len()))
        .filter(|e| *e > start)
        .ok_or_else(|| invalid("its ds:Signature is not closed"))?;
    let signature = body.get(start..end).unwrap_or_default();
    let unsigned = format!(
        "{}{}",
        body.get(..start).unwrap_or_default(),
        body.get(end..).unwrap_or_default()
    );
    let root = xml::parse(&unsigned, Limits::default())
        .map_err(|e| invalid(format!("it is not well-formed XML: {e}")))?;
    if root.name != "Assertion" || root.ns.as_deref() != Some(SAML2_NS) {
        return Err(invalid("the root element is not a SAML 2.0 Assertion"));
    }
    let id = root
        .attr("ID")
        .ok_or_else(|| invalid("the Assertion has no ID"))?
        .to_string();
    let digest = STANDARD.encode(Sha256::digest(unsigned.as_bytes()));
    let expected_info = signed_info(&id, &digest, false);
    let info = between(signature, "<ds:SignedInfo>", "</ds:SignedInfo>")
        .map(|inner| format!("<ds:SignedInfo>{inner}</ds:SignedInfo>"))
        .ok_or_else(|| invalid("it has no ds:SignedInfo"))?;
    if info != expected_info {
        let claimed = between(&info, "<ds:DigestValue>", "</ds:DigestValue>").unwrap_or("");
        return Err(if claimed != digest {
            invalid("the digest does not match its content (it was altered)")
        } else {
            invalid("its ds:SignedInfo is not the one vlsim signs")
        });
    }
    let sig_b64 = between(signature, "<ds:SignatureValue>", "</ds:SignatureValue>")
        .ok_or_else(|| invalid("it has no ds:SignatureValue"))?;
    let sig = STANDARD
        .decode(sig_b64.trim())
        .map_err(|_| invalid("its ds:SignatureValue is not base64"))?;
    UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, public_key_der)
        .verify(signed_info(&id, &digest, true).as_bytes(), &sig)
        .map_err(|_| invalid("the signature does not verify with the vCenter signing key"))?;
    read_assertion(&root, id)
}

/// What an assertion says, read without checking its signature (to show it).
pub fn read_unverified(xml_text: &str) -> CoreResult<Assertion> {
    if xml_text.len() > MAX_ASSERTION_BYTES {
        return Err(invalid("it is too large"));
    }
    let body = xml_text.trim();
    let root = xml::parse(
        body.strip_prefix(XML_DECL).unwrap_or(body),
        Limits::default(),
    )
    .map_err(|e| invalid(format!("it is not well-formed XML: {e}")))?;
    if root.name != "Assertion" || root.ns.as_deref() != Some(SAML2_NS) {
        return Err(invalid("the root element is not a SAML 2.0 Assertion"));
    }
    let id = root.attr("ID").unwrap_or_default().to_string();
    read_assertion(&root, id)
}

fn read_assertion(root: &Element, id: String) -> CoreResult<Assertion> {
    let issuer = root
        .child("Issuer")
        .map(|e| e.text.clone())
        .unwrap_or_default();
    let subject = root
        .child("Subject")
        .and_then(|s| s.child("NameID"))
        .map(|n| n.text.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| invalid("it names no subject"))?;
    let conditions = root
        .child("Conditions")
        .ok_or_else(|| invalid("it has no Conditions"))?;
    let time_attr = |e: &Element, name: &str| {
        e.attr(name)
            .and_then(parse_instant)
            .ok_or_else(|| invalid(format!("{name} is missing or not a time")))
    };
    let not_before_ms = time_attr(conditions, "NotBefore")?;
    let not_on_or_after_ms = time_attr(conditions, "NotOnOrAfter")?;
    let issue_instant_ms = time_attr(root, "IssueInstant")?;
    let audiences = conditions
        .children_named("AudienceRestriction")
        .flat_map(|r| r.children_named("Audience"))
        .map(|a| a.text.trim().to_string())
        .collect();
    let groups = root
        .children_named("AttributeStatement")
        .flat_map(|s| s.children_named("Attribute"))
        .filter(|a| a.attr("Name") == Some(GROUPS_ATTRIBUTE))
        .flat_map(|a| a.children_named("AttributeValue"))
        .map(|v| v.text.trim().to_string())
        .collect();
    Ok(Assertion {
        id,
        issuer,
        subject,
        groups,
        audiences,
        issue_instant_ms,
        not_before_ms,
        not_on_or_after_ms,
    })
}

/// The DER `RSAPublicKey` of a key pair (what [`verify_assertion`] takes).
pub fn public_key_der(key: &RsaKeyPair) -> Vec<u8> {
    key.public_key().as_ref().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RsaKeyPair {
        let pem = include_str!("../../fixtures/keys/rsa-2048.TEST-KEY.pem");
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        RsaKeyPair::from_pkcs8(&STANDARD.decode(body).unwrap()).unwrap()
    }

    fn sample() -> Assertion {
        Assertion {
            id: "_abc".into(),
            issuer: "https://h/websso/SAML2/Metadata/vsphere.local".into(),
            subject: "Administrator@vsphere.local".into(),
            groups: vec!["Administrators@vsphere.local".into(), "A&B <x>".into()],
            audiences: vec!["vmware-tes:vc:vns:k8s".into()],
            issue_instant_ms: 1_700_000_000_000,
            not_before_ms: 1_700_000_000_000,
            not_on_or_after_ms: 1_700_000_300_000,
        }
    }

    #[test]
    fn roundtrip_and_tamper() {
        let key = key();
        let xml = sign_assertion(&sample(), &key, b"cert").unwrap();
        let pk = public_key_der(&key);
        assert_eq!(verify_assertion(&xml, &pk).unwrap(), sample());
        let tampered = xml.replace("Administrator@vsphere.local", "Mallory@vsphere.local");
        let err = verify_assertion(&tampered, &pk).unwrap_err();
        assert!(err.to_string().contains("altered"), "{err}");
        let two = xml.replace(
            "</saml2:Assertion>",
            "<ds:Signature></ds:Signature></saml2:Assertion>",
        );
        assert!(verify_assertion(&two, &pk).is_err());
        assert!(verify_assertion("<x/>", &pk).is_err());
    }
}
