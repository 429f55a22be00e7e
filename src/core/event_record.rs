//! How an event is written to its log: the JSON the derived `Serialize` writes, written
//! directly (every SOAP Generate, login and refresh records one, and serde's per-field
//! machinery cost more than the rest of the record).

use crate::core::events::Event;
use crate::json::ObjectWriter;

impl crate::store::Logged for Event {
    fn log_id(&self) -> u64 {
        self.id
    }

    /// `encodes_as_serde_does` holds this to what the derived `Serialize` writes.
    fn encode_into(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let mut object = ObjectWriter::new(out);
        object
            .int("id", self.id)
            .str("type", &self.event_type)
            .str("severity", &self.severity)
            .str("module", &self.module)
            .str("surface", self.surface.name())
            .str("time", &self.time)
            .int("time_ms", self.time_ms);
        if let Some(user) = &self.user {
            object.str("user", user);
        }
        object.str("message", &self.message);
        if !self.details.is_empty() {
            object.object("details", &self.details);
        }
        if let Some(request_id) = &self.request_id {
            object.str("request_id", request_id);
        }
        object.finish();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::events::{details, AUDIT_SUCCESS};
    use crate::store::Logged;
    use crate::surface::Surface;
    use serde_json::json;
    use serde_json::{Map, Value};

    fn event(text: &str, user: Option<&str>, details: Map<String, Value>) -> Event {
        Event {
            id: u64::MAX - 7,
            event_type: format!("TYPE_{text}"),
            severity: AUDIT_SUCCESS.to_string(),
            module: text.to_string(),
            surface: Surface::HorizonRest,
            time: "2026-12-02T10:00:00.123Z".to_string(),
            time_ms: -1_764_669_600_123,
            user: user.map(str::to_string),
            message: format!("User {text} did \"it\""),
            details,
            request_id: user.map(|u| format!("run-{u}")),
        }
    }

    #[test]
    fn encodes_as_serde_does() {
        let every_control: String = (0u8..0x20).map(char::from).collect();
        let texts = [
            String::new(),
            "plain".to_string(),
            every_control,
            "quote \" backslash \\ slash / del \u{7f}".to_string(),
            "é ü 日本 🦀 \u{2028}\u{2029} \u{fffd}".to_string(),
            "\\\"\n\r\t\u{8}\u{c}\u{0}\u{1f}".to_string(),
            "VLSIM\\administrator, a longer name: 0123456789 \" 0123456789\n".to_string(),
            format!("{}\u{1}", "x".repeat(23)),
        ];
        for text in &texts {
            for user in [None, Some(text.as_str()), Some("VLSIM\\administrator")] {
                for details in [
                    Map::new(),
                    details([
                        ("validityMinutes", json!(30)),
                        ("note", json!(text)),
                        ("nested", json!({"a": [1, null, true, 2.5]})),
                    ]),
                ] {
                    let e = event(text, user, details);
                    let mut ours = Vec::new();
                    e.encode_into(&mut ours).unwrap();
                    assert_eq!(
                        String::from_utf8(ours.clone()).unwrap(),
                        serde_json::to_string(&e).unwrap()
                    );
                    let back: Event = serde_json::from_slice(&ours).unwrap();
                    assert_eq!(back, e);
                }
            }
        }
    }
}
