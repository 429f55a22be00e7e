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
