//! Bodies as a person reads them: XML indented, JSON formatted, form fields one a line,
//! JWT parts decoded. Anything that does not parse (a truncated excerpt) is shown as it is.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use quick_xml::events::Event;
use quick_xml::{Reader, Writer};
use serde_json::Value;

/// How a body was laid out for reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Xml,
    Json,
    Form,
    Text,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Xml => "XML",
            Self::Json => "JSON",
            Self::Form => "form",
            Self::Text => "text",
        }
    }
}

/// `text` laid out for reading, and what it was taken for.
pub fn body(text: &str) -> (Kind, String) {
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        if let Some(xml) = indent_xml(text) {
            return (Kind::Xml, xml);
        }
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(v) = serde_json::from_str::<Value>(text) {
            return (Kind::Json, json(&v));
        }
    }
    let form_like = !trimmed.is_empty()
        && !trimmed.contains(char::is_whitespace)
        && trimmed.contains('=')
        && trimmed
            .split('&')
            .all(|pair| pair.split_once('=').is_some_and(|(k, _)| !k.is_empty()));
    if form_like {
        return (
            Kind::Form,
            trimmed.split('&').collect::<Vec<_>>().join("\n"),
        );
    }
    (Kind::Text, text.to_string())
}

/// Indented XML, or `None` if `text` is not well-formed (a truncated excerpt, HTML).
pub fn indent_xml(text: &str) -> Option<String> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    let mut depth: i64 = 0;
    loop {
        match reader.read_event().ok()? {
            Event::Eof => break,
            Event::DocType(_) => return None,
            e => {
                match &e {
                    Event::Start(_) => depth += 1,
                    Event::End(_) => depth -= 1,
                    _ => {}
                }
                writer.write_event(e).ok()?;
            }
        }
    }
    if depth != 0 {
        return None;
    }
    String::from_utf8(writer.into_inner()).ok()
}

/// JSON with two-space indentation.
pub fn json(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

/// A base64url JWT part decoded as JSON.
pub fn jwt_part(part: &str) -> Option<Value> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lays_out_each_kind() {
        let (kind, xml) = body(r#"<a xmlns="urn:x"><b>1</b><c/></a>"#);
        assert_eq!(kind, Kind::Xml);
        assert_eq!(xml, "<a xmlns=\"urn:x\">\n  <b>1</b>\n  <c/>\n</a>");
        assert_eq!(body("<a><b>cut").0, Kind::Text);
        let (kind, j) = body(r#"{"b":1,"a":[true]}"#);
        assert_eq!(kind, Kind::Json);
        assert!(j.contains("\n  \"a\": [\n    true\n  ]"), "{j}");
        assert_eq!(body("a=1&b=2"), (Kind::Form, "a=1\nb=2".into()));
        assert_eq!(body("hello there").0, Kind::Text);
        assert_eq!(jwt_part("eyJhbGciOiJSUzI1NiJ9").unwrap()["alg"], "RS256");
    }
}
