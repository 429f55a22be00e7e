//! HTTP helpers shared by every surface.

use actix_web::error::PayloadError;
use actix_web::web::{Bytes, BytesMut};
use actix_web::HttpRequest;
use futures_util::{Stream, StreamExt};
use std::borrow::Cow;

#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error("the request body exceeds the {limit}-byte limit")]
    TooLarge { limit: usize },
    #[error("the request body could not be read: {0}")]
    Read(String),
}

/// Reads a request body, refusing it as soon as it passes `limit` bytes (from the declared
/// Content-Length when there is one, so a huge upload is never buffered).
pub async fn read_body(
    req: &HttpRequest,
    mut payload: impl Stream<Item = Result<Bytes, PayloadError>> + Unpin,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| BodyError::Read(e.to_string()))?;
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// `scheme://host` as the client addressed us (for URLs we hand back, like `soap:address`).
pub fn external_base_url(req: &HttpRequest) -> String {
    let info = req.connection_info();
    format!("{}://{}", info.scheme(), info.host())
}

/// Whether the client reached us over TLS (cookies get `Secure` then).
pub fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// The request's cookies as (name, value) pairs, values percent-decoded as actix-web's
/// `HttpRequest::cookies` decodes them, in header order. Read straight from the `Cookie`
/// headers: the session lookup behind every SOAP call needs one value, and building
/// actix-web's cookie jar cost more than the lookup. A malformed pair (no `=`, no name)
/// is skipped rather than hiding the well-formed ones beside it.
pub fn request_cookies(req: &HttpRequest) -> impl Iterator<Item = (&str, Cow<'_, str>)> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|header| std::str::from_utf8(header.as_bytes()).ok())
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| {
            let (name, value) = pair.trim().split_once('=')?;
            let (name, value) = (name.trim(), value.trim());
            if name.is_empty() {
                return None;
            }
            let value = if value.contains('%') {
                percent_encoding::percent_decode_str(value)
                    .decode_utf8()
                    .ok()?
            } else {
                Cow::Borrowed(value)
            };
            Some((name, value))
        })
}
