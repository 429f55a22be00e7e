//! JSON strings written without serde's per-value machinery, for records written on hot
//! paths (the event every SOAP Generate, login and refresh records). Escapes exactly as
//! serde_json does, so what is written reads back, and compares, the same.

use serde_json::{Map, Number, Value};

/// `s` as a JSON string, escaped as serde_json escapes it (`\"`, `\\`, the short forms
/// of control characters, `\u00XX` for the others; everything else as is). Eight bytes
/// at a time where none needs escaping (most; a user `DOMAIN\\name` has one), byte by
/// byte through [`ESCAPES`] where one does.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut plain_from = 0;
    let mut at = 0;
    while at < bytes.len() {
        let word = bytes
            .get(at..at + 8)
            .and_then(|w| <[u8; 8]>::try_from(w).ok());
        if word.is_some_and(|word| !word_needs_escape(word)) {
            at += 8;
            continue;
        }
        let end = (at + 8).min(bytes.len());
        for (i, &b) in bytes.iter().enumerate().take(end).skip(at) {
            let escape = ESCAPES.get(usize::from(b)).copied().unwrap_or(0);
            if escape == 0 {
                continue;
            }
            out.extend_from_slice(bytes.get(plain_from..i).unwrap_or_default());
            if escape == b'u' {
                out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
            } else {
                out.extend_from_slice(&[b'\\', escape]);
            }
            plain_from = i + 1;
        }
        at = end;
    }
    out.extend_from_slice(bytes.get(plain_from..).unwrap_or_default());
    out.push(b'"');
}

/// A JSON object written field by field, in the order given (as serde writes a struct's
/// fields): for records that write themselves on hot paths. Keys are names in code and are
/// written as given; values are escaped as [`push_str`] escapes them.
pub struct ObjectWriter<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> ObjectWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        out.push(b'{');
        Self { out, empty: true }
    }

    fn key(&mut self, key: &str) {
        debug_assert!(!key.bytes().any(|b| ESCAPES.get(usize::from(b)) != Some(&0)));
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(key.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    pub fn str(&mut self, key: &str, value: &str) -> &mut Self {
        self.key(key);
        push_str(self.out, value);
        self
    }

    pub fn int(&mut self, key: &str, value: impl itoa::Integer) -> &mut Self {
        self.key(key);
        self.out
            .extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
        self
    }

    pub fn object(&mut self, key: &str, map: &Map<String, Value>) -> &mut Self {
        self.key(key);
        push_object(self.out, map);
        self
    }

    pub fn finish(self) {
        self.out.push(b'}');
    }
}

/// `value` as `serde_json::to_writer` writes it (compact, keys in the map's order),
/// strings through [`push_str`]: event details go through here on every recorded event.
pub fn push_value(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => push_number(out, n),
        Value::String(s) => push_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => push_object(out, map),
    }
}

/// A JSON object, as [`push_value`] writes one.
pub fn push_object(out: &mut Vec<u8>, map: &Map<String, Value>) {
    out.push(b'{');
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, key);
        out.push(b':');
        push_value(out, value);
    }
    out.push(b'}');
}

fn push_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(u) = n.as_u64() {
        out.extend_from_slice(itoa::Buffer::new().format(u).as_bytes());
    } else if let Some(i) = n.as_i64() {
        out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
    } else {
        // A float: serde_json's own formatting, which writes no error for a Number.
        out.extend_from_slice(n.to_string().as_bytes());
    }
}

/// For each byte, how JSON escapes it: 0 not at all, `u` as `\u00XX`, else `\` and that.
#[allow(clippy::indexing_slicing)] // evaluated at compile time: a bad index cannot build
const ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[0x08] = b'b';
    table[0x09] = b't';
    table[0x0a] = b'n';
    table[0x0c] = b'f';
    table[0x0d] = b'r';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Whether any of eight bytes is `"`, `\\` or below 0x20, tested on the word at once:
/// the classic SWAR "has a byte below n" test, exact as a yes/no.
fn word_needs_escape(word: [u8; 8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let any_below = |word: u64, n: u64| word.wrapping_sub(ONES * n) & !word & HIGHS != 0;
    let word = u64::from_ne_bytes(word);
    any_below(word, 0x20)
        || any_below(word ^ (ONES * u64::from(b'"')), 1)
        || any_below(word ^ (ONES * u64::from(b'\\')), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_byte_json_escapes_wherever_it_is() {
        for at in 0..8 {
            for b in 0u8..=0xff {
                let mut word = [b'a'; 8];
                word[at] = b;
                let expected = b < 0x20 || b == b'"' || b == b'\\';
                assert_eq!(word_needs_escape(word), expected, "{b:#x} at {at}");
                assert_eq!(ESCAPES[usize::from(b)] != 0, expected, "{b:#x}");
            }
        }
        assert!(!word_needs_escape([0xc3; 8]), "non-ASCII bytes are kept");
    }

    #[test]
    fn escapes_as_serde_json_does() {
        let every_byte: String = (0u8..0x80).map(char::from).collect();
        for s in [
            String::new(),
            every_byte,
            "é ü 日本 🦀 \u{2028}\u{2029} \u{fffd} \u{7f}".to_string(),
            "VLSIM\\administrator, a longer name: 0123456789 \" 0123456789\n".to_string(),
            format!("{}\u{1}", "x".repeat(23)),
        ] {
            let mut ours = Vec::new();
            push_str(&mut ours, &s);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&s).unwrap()
            );
        }
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let values = [
            serde_json::json!(null),
            serde_json::json!(true),
            serde_json::json!(false),
            serde_json::json!(0),
            serde_json::json!(u64::MAX),
            serde_json::json!(i64::MIN),
            serde_json::json!(-1),
            serde_json::json!(2.5),
            serde_json::json!(1e300),
            serde_json::json!(-0.0),
            serde_json::json!(0.1),
            serde_json::json!("a \"quoted\"\n string"),
            serde_json::json!([]),
            serde_json::json!({}),
            serde_json::json!([1, null, "x", [true, {"k": -3}]]),
            serde_json::json!({"validityMinutes": 30, "expiryTime": "2026-12-02T10:00:00Z",
                "nested": {"b": [1.5, "\u{1}"], "a": null}, "\"key\"": false}),
        ];
        for value in &values {
            let mut ours = Vec::new();
            push_value(&mut ours, value);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(value).unwrap()
            );
        }
    }
}
