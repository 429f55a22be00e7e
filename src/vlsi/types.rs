//! VLSI data objects on the wire (yaserde). Requests are deserialised from the operation's
//! parameter elements after namespace normalisation; responses are serialised as the
//! `returnval` element, in the documented property order.

use crate::soap::SoapFault;
use yaserde::{YaDeserialize, YaSerialize};

/// `vdi.infrastructure.JwtToken.JwtTokenGenerationSpec`.
#[derive(Debug, Default, Clone, PartialEq, YaDeserialize, YaSerialize)]
#[yaserde(rename = "spec")]
pub struct JwtTokenGenerationSpec {
    /// Token validity in minutes; default 30.
    #[yaserde(rename = "validityTime")]
    pub validity_time: Option<i32>,
}

/// `vdi.util.SecureString`: the UTF-8 bytes of a secret, base64-encoded on the wire.
#[derive(Debug, Default, Clone, PartialEq, YaDeserialize, YaSerialize)]
#[yaserde(rename = "password")]
pub struct SecureString {
    #[yaserde(rename = "utf8String")]
    pub utf8_string: String,
}

/// `vdi.infrastructure.JwtToken.JwtTokenData`, the argument of `LoginByToken`.
#[derive(Debug, Default, Clone, PartialEq, YaDeserialize, YaSerialize)]
#[yaserde(rename = "data")]
pub struct JwtTokenData {
    pub token: String,
}

/// `vdi.infrastructure.JwtToken.JwtTokenInfo`, returned by `JwtToken_Generate`.
#[derive(Debug, Default, Clone, PartialEq, YaDeserialize, YaSerialize)]
#[yaserde(rename = "returnval")]
pub struct JwtTokenInfo {
    pub token: String,
    #[yaserde(rename = "expiryTime")]
    pub expiry_time: Option<String>,
}

impl JwtTokenInfo {
    /// The same fragment [`to_fragment`] makes (a test holds them equal), written directly:
    /// `JwtToken_Generate` is a hot path and yaserde's writer cost more than the rest of
    /// the reply.
    pub fn fragment(&self) -> String {
        let mut out = String::with_capacity(self.token.len() + 96);
        out.push_str("<returnval><token>");
        push_pcdata(&mut out, &self.token);
        out.push_str("</token>");
        if let Some(expiry) = &self.expiry_time {
            out.push_str("<expiryTime>");
            push_pcdata(&mut out, expiry);
            out.push_str("</expiryTime>");
        }
        out.push_str("</returnval>");
        out
    }
}

/// Character data escaped as yaserde's writer escapes it (`&`, `<`, `>`; quick-xml's
/// `partial_escape` also escapes carriage returns, so it would not match).
fn push_pcdata(out: &mut String, text: &str) {
    // Tokens and timestamps have none: one vectorised scan, then a single copy.
    if memchr::memchr3(b'&', b'<', b'>', text.as_bytes()).is_none() {
        out.push_str(text);
        return;
    }
    let mut rest = text;
    while let Some(at) = rest.find(['&', '<', '>']) {
        let (plain, special) = rest.split_at(at);
        out.push_str(plain);
        out.push_str(match special.as_bytes().first() {
            Some(b'&') => "&amp;",
            Some(b'<') => "&lt;",
            _ => "&gt;",
        });
        rest = special.get(1..).unwrap_or_default();
    }
    out.push_str(rest);
}

/// `vdi.infrastructure.JwtToken.JwtPublicKeyInfo`, one per Connection Server.
#[derive(Debug, Default, Clone, PartialEq, YaDeserialize, YaSerialize)]
#[yaserde(rename = "returnval")]
pub struct JwtPublicKeyInfo {
    #[yaserde(rename = "connectionServerName")]
    pub connection_server_name: String,
    pub keys: Vec<String>,
}

/// Serialises a data object as an XML fragment (no declaration, no indentation).
pub fn to_fragment<T: yaserde::YaSerialize>(value: &T) -> Result<String, SoapFault> {
    let config = yaserde::ser::Config {
        perform_indent: false,
        write_document_declaration: false,
        indent_string: None,
    };
    yaserde::ser::to_string_with_config(value, &config)
        .map_err(|e| super::faults::unexpected("Could not encode the reply.", &e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_in_documented_order() {
        let info = JwtTokenInfo {
            token: "a&b".into(),
            expiry_time: Some("2026-01-01T00:00:00Z".into()),
        };
        assert_eq!(
            to_fragment(&info).unwrap(),
            "<returnval><token>a&amp;b</token><expiryTime>2026-01-01T00:00:00Z</expiryTime></returnval>"
        );
        let keys = JwtPublicKeyInfo {
            connection_server_name: "cs".into(),
            keys: vec!["k1".into(), "k2".into()],
        };
        assert_eq!(
            to_fragment(&keys).unwrap(),
            "<returnval><connectionServerName>cs</connectionServerName><keys>k1</keys><keys>k2</keys></returnval>"
        );
    }

    #[test]
    fn the_direct_token_fragment_is_yaserdes() {
        for (token, expiry) in [
            (
                "eyJhbGciOiJSUzI1NiJ9.e30.c2ln",
                Some("2026-01-01T00:00:00Z"),
            ),
            ("a&b<c>d\"e'f&&", Some("<&>")),
            ("", None),
            ("é&ü", Some("")),
        ] {
            let info = JwtTokenInfo {
                token: token.into(),
                expiry_time: expiry.map(str::to_string),
            };
            assert_eq!(info.fragment(), to_fragment(&info).unwrap(), "{token:?}");
        }
    }

    #[test]
    fn deserialises_spec() {
        let spec: JwtTokenGenerationSpec =
            yaserde::de::from_str("<spec><validityTime>60</validityTime></spec>").unwrap();
        assert_eq!(spec.validity_time, Some(60));
        let empty: JwtTokenGenerationSpec = yaserde::de::from_str("<spec></spec>").unwrap();
        assert_eq!(empty.validity_time, None);
        assert!(yaserde::de::from_str::<JwtTokenGenerationSpec>(
            "<spec><validityTime>abc</validityTime></spec>"
        )
        .is_err());
    }
}
