//! The envelopes this worker parsed last, by their exact bytes. SOAP clients send the same
//! envelope again and again (every `JwtToken_Generate` without a spec, every
//! `GetPublicKeys`), and parsing it into a namespace-resolved tree cost more than the rest
//! of a `GetPublicKeys` call. Parsing is a pure function of the bytes and the limits, so a
//! copy of an earlier result is the same answer; only successes are kept, and only small
//! bodies, a few per worker thread.

use super::{read_envelope, Envelope, SoapFault};
use crate::recent::Recent;
use crate::xml::Limits;
use actix_web::web::Bytes;
use std::cell::RefCell;

/// Bodies larger than this are parsed every time (a query with filters, say).
const LARGEST: usize = 2048;

thread_local! {
    static RECENT: RefCell<Recent<(Bytes, Limits), Envelope>> =
        const { RefCell::new(Recent::new()) };
}

/// [`read_envelope`], answered from this worker's recent parses when `body` is one of them.
pub fn read_envelope_recent(body: &Bytes, limits: Limits) -> Result<Envelope, SoapFault> {
    if body.len() > LARGEST {
        return read_envelope(body, limits);
    }
    let known = RECENT.with_borrow(|recent| recent.find(|(b, l)| b == body && *l == limits));
    if let Some(envelope) = known {
        return Ok(envelope);
    }
    let envelope = read_envelope(body, limits)?;
    RECENT.with_borrow_mut(|recent| recent.keep((body.clone(), limits), envelope.clone()));
    Ok(envelope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(op: &str) -> Bytes {
        Bytes::from(format!(
            r#"<s:Envelope xmlns:s="{}"><s:Body><{op} xmlns="urn:vdi"><_this type="JwtToken">JwtToken</_this></{op}></s:Body></s:Envelope>"#,
            super::super::SOAP11_NS
        ))
    }

    #[test]
    fn a_repeated_body_gives_what_parsing_gives_and_others_are_parsed() {
        let limits = Limits::default();
        for round in 0..3 {
            for i in 0..(Recent::<(), ()>::KEPT + 3) {
                let body = envelope(&format!("Op{i}"));
                let recent = read_envelope_recent(&body, limits).unwrap();
                let parsed = read_envelope(&body, limits).unwrap();
                assert_eq!(recent.operation, parsed.operation, "round {round}, Op{i}");
                assert_eq!(recent.operation.name, format!("Op{i}"));
            }
        }
        // Failures are never kept, and limits are part of what is matched.
        let deep = Bytes::from("<a>".repeat(10) + &"</a>".repeat(10));
        let tight = Limits {
            max_depth: 3,
            ..limits
        };
        assert!(read_envelope_recent(&deep, tight).is_err());
        assert!(read_envelope_recent(&deep, tight).is_err());
        let body = envelope("Op0");
        assert!(read_envelope_recent(&body, limits).is_ok());
        assert!(read_envelope_recent(
            &body,
            Limits {
                max_depth: 2,
                ..limits
            }
        )
        .is_err());
    }
}
