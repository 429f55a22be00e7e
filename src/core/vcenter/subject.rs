//! Who a token speaks for: a JWT from a trusted issuer, or a SAML assertion this vCenter
//! signed; and how clients pass SAML tokens.

use super::exchange::{
    TYPE_ACCESS_TOKEN, TYPE_ID_TOKEN, TYPE_JWT, TYPE_REFRESH_TOKEN, TYPE_SAML1, TYPE_SAML2,
};
use super::{split_user, Vcenter};
use crate::core::error::{CoreError, CoreResult};
use crate::core::saml;
use crate::core::tokens::{self, Expectations};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;
use std::io::Read;

/// Largest decoded token accepted as subject or actor (bytes).
const MAX_TOKEN_BYTES: usize = 256 * 1024;

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
    /// A JWT from a trusted issuer (`Authorization: Bearer`, vAPI `oauth` context), and
    /// the host the client addressed (what `{origin}` in `trusted_issuers` stands for).
    Jwt(&'a str, &'a str),
}

impl Credentials<'_> {
    pub(super) fn method(&self) -> &'static str {
        match self {
            Self::Password { .. } => "password",
            Self::Saml(_) => "saml",
            Self::Jwt(..) => "jwt",
        }
    }
}

pub(super) fn grant(message: impl Into<String>) -> CoreError {
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

impl Vcenter<'_> {
    /// Who a JWT from a trusted issuer (signed by a key in the ring) speaks for; `host` is
    /// the host the client addressed.
    pub fn jwt_subject(&self, token: &str, host: &str) -> CoreResult<Subject> {
        let rt = self.runtime()?;
        let ring = self.svc.keys.ring();
        let verified = tokens::verify(
            &ring,
            token.trim(),
            self.svc.clock.now_secs(),
            &Expectations::default(),
        )?;
        let iss = verified.claim_str("iss").unwrap_or_default();
        if !rt.trusts(iss, host) {
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
        if let Some(user) = self.user(name, domain)? {
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

    /// A SAML assertion whose signature this vCenter's key verifies, its times unchecked.
    pub fn verify_saml(&self, xml: &str) -> CoreResult<saml::Assertion> {
        let rt = self.runtime()?;
        saml::verify_assertion(xml, &saml::public_key_der(rt.rsa()?))
    }

    /// Who a SAML assertion signed by this vCenter speaks for, if it is valid now.
    pub fn saml_subject(&self, xml: &str) -> CoreResult<Subject> {
        let rt = self.runtime()?;
        let assertion = saml::verify_assertion(xml, &saml::public_key_der(rt.rsa()?))?;
        let now = self.svc.clock.now_ms();
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

    pub(super) fn subject(
        &self,
        token: &str,
        token_type: &str,
        role: &str,
        host: &str,
    ) -> CoreResult<Subject> {
        match token_type {
            TYPE_SAML2 => self.saml_subject(&decode_saml_token(token)?),
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
                self.jwt_subject(&jwt, host).map_err(|e| match e {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
