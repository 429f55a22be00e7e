//! The control layer wrapped around every emulated surface: fault injection for the REST
//! surfaces (SOAP checks after it has parsed the operation), latency, and the journal.

use super::faults::{FaultAction, Fired};
use super::journal::{excerpt, Entry, Recorded};
use super::redact::{is_secret_header, REDACTED};
use super::{surface_of, OperationName};
use crate::state::AppState;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderMap;
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{web, HttpMessage, HttpResponse};
use futures_util::Stream;
use serde_json::json;
use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

/// Set by a surface when a fault rule fired for the call (recorded in the journal).
#[derive(Debug, Clone)]
pub struct InjectedFault(pub String);

/// Copies the first bytes of the request body as the handler reads it, so the journal
/// sees the body without buffering or changing how the handler reads it.
struct TeePayload {
    inner: Payload,
    copy: Rc<RefCell<(BytesMut, usize)>>,
}

impl Stream for TeePayload {
    type Item = Result<Bytes, actix_web::error::PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            let mut copy = self.copy.borrow_mut();
            copy.1 += chunk.len();
            let room = super::journal::BODY_EXCERPT.saturating_sub(copy.0.len());
            let take = chunk.len().min(room);
            if let Some(part) = chunk.get(..take) {
                copy.0.extend_from_slice(part);
            }
        }
        polled
    }
}

fn recorded_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .take(64)
        .map(|(name, value)| {
            let value = if is_secret_header(name.as_str()) {
                REDACTED.to_string()
            } else {
                String::from_utf8_lossy(value.as_bytes())
                    .chars()
                    .take(512)
                    .collect()
            };
            (name.as_str().to_string(), value)
        })
        .collect()
}

/// A response whose body fails after the headers: the client sees the connection close
/// without a complete response.
pub fn dropped_connection() -> HttpResponse {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "vlsim: connection dropped by an injected fault",
        ))
    });
    HttpResponse::Ok()
        .insert_header(("connection", "close"))
        .streaming(failing)
}

/// The bare-status response of a `status` rule.
pub fn status_response(status: u16, body: &str) -> HttpResponse {
    HttpResponse::build(StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE))
        .body(body.to_string())
}

/// The message of a typed injected fault: the rule's, or one naming the rule.
pub fn fault_message(fired: &Fired, message: &Option<String>) -> String {
    message
        .clone()
        .unwrap_or_else(|| format!("Injected fault (rule {})", fired.rule_id))
}

/// The response a fired rule produces on a REST surface.
pub fn rest_fault_response(surface: &str, operation: &str, fired: &Fired) -> HttpResponse {
    match &fired.action {
        FaultAction::Drop => dropped_connection(),
        FaultAction::Status { status, body } => status_response(*status, body),
        FaultAction::Typed {
            fault,
            message,
            status,
        } => {
            let message = fault_message(fired, message);
            let status_or = |default: StatusCode| {
                status
                    .and_then(|s| StatusCode::from_u16(s).ok())
                    .unwrap_or(default)
            };
            match surface {
                "vcenter" if operation.contains("/authentication/token") || operation.contains("token-exchange") => {
                    HttpResponse::build(status_or(StatusCode::BAD_REQUEST)).json(json!({
                        "error": fault.clone().unwrap_or_else(|| "invalid_grant".into()),
                        "error_description": message,
                    }))
                }
                "vcenter" => HttpResponse::build(status_or(StatusCode::SERVICE_UNAVAILABLE)).json(json!({
                    "error_type": fault.clone().unwrap_or_else(|| "SERVICE_UNAVAILABLE".into()),
                    "messages": [{"id": "vlsim.injected_fault", "default_message": message, "args": []}],
                })),
                _ => HttpResponse::build(status_or(StatusCode::SERVICE_UNAVAILABLE)).json(json!({
                    "generalErrors": [{
                        "code": fault.clone().unwrap_or_else(|| "[ServiceUnavailable]".into()),
                        "message": message,
                    }]
                })),
            }
        }
    }
}

/// Wraps every request: a tracing span with surface, operation, status and latency, then
/// fault injection, latency and the journal (not for `/_vlsim/`).
pub async fn control_layer(
    req: ServiceRequest,
    next: Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    use tracing::Instrument;
    let surface = surface_of(req.method().as_str(), req.path());
    // Field values are only evaluated when the span is enabled (not at the default level).
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.path(),
        surface,
        operation = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = control_inner(req, next, surface, !span.is_disabled())
        .instrument(span.clone())
        .await;
    match &result {
        Ok(res) => {
            span.record("status", res.status().as_u16());
            tracing::debug!(
                parent: &span,
                latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                "served"
            );
        }
        Err(e) => tracing::warn!(parent: &span, error = %e, "request failed"),
    }
    result
}

/// `METHOD /route/{pattern}`: how REST rules, latency settings and the journal name a call
/// whose surface did not name it.
fn route_operation(req: &actix_web::HttpRequest) -> String {
    format!(
        "{} {}",
        req.method(),
        req.match_pattern()
            .unwrap_or_else(|| req.path().to_string())
    )
}

/// The operation the surface named (SOAP method, JSON-RPC `service.operation`), else the
/// route.
fn operation_of(req: &actix_web::HttpRequest) -> String {
    req.extensions()
        .get::<OperationName>()
        .map(|o| o.0.clone())
        .unwrap_or_else(|| route_operation(req))
}

async fn control_inner(
    mut req: ServiceRequest,
    next: Next<BoxBody>,
    surface: &'static str,
    traced: bool,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next.call(req).await;
    };
    if surface == "admin" {
        return next.call(req).await;
    }
    let started = Instant::now();
    let control = &state.control;

    // REST surfaces: the operation is known from the route, so rules apply here.
    let mut injected = None;
    let early = if surface != "vlsi" && !control.faults.is_empty() {
        let operation = route_operation(req.request());
        control
            .faults
            .check(surface, &operation, None)
            .map(|fired| {
                injected = Some(fired.rule_id.clone());
                rest_fault_response(surface, &operation, &fired)
            })
    } else {
        None
    };

    let journal = &control.journal;
    let journaling = journal.enabled();
    let copy = journaling.then(|| Rc::new(RefCell::new((BytesMut::new(), 0usize))));
    if let Some(copy) = &copy {
        let inner = req.take_payload();
        let tee = TeePayload {
            inner,
            copy: copy.clone(),
        };
        req.set_payload(Payload::Stream {
            payload: Box::pin(tee),
        });
    }

    let res = match early {
        Some(response) => req.into_response(response),
        None => next.call(req).await?,
    };
    // Naming the call costs a route lookup and a string; only done when something uses it.
    let delayed = !control.latency.is_off();
    let operation = (journaling || delayed || traced).then(|| operation_of(res.request()));
    if let Some(operation) = &operation {
        tracing::Span::current().record("operation", operation.as_str());
        if let Some(delay) = control.latency.delay_for(operation) {
            actix_web::rt::time::sleep(delay).await;
        }
    }
    let Some(operation) = operation.filter(|_| journaling) else {
        return Ok(res);
    };
    if injected.is_none() {
        injected = res
            .request()
            .extensions()
            .get::<InjectedFault>()
            .map(|f| f.0.clone());
    }

    let request_headers = recorded_headers(res.request().headers());
    let method = res.request().method().to_string();
    let path = res.request().path().to_string();
    let query = res.request().query_string().to_string();
    let (http_req, response) = res.into_parts();
    let status = response.status().as_u16();
    let response_headers = recorded_headers(response.headers());
    let (head, body) = response.into_parts();
    // Our responses are in-memory bytes; a streaming one (an injected drop) is passed on
    // untouched and recorded without its body.
    let (body_bytes, body) = match body.try_into_bytes() {
        Ok(bytes) => (Some(bytes.clone()), BoxBody::new(bytes)),
        Err(body) => (None, body),
    };
    let (response_body, response_truncated) =
        body_bytes.as_deref().map(excerpt).unwrap_or_default();
    let (request_copy, request_len) = copy
        .map(|c| {
            let c = c.borrow();
            (c.0.clone(), c.1)
        })
        .unwrap_or_default();
    let (request_body, _) = excerpt(&request_copy);
    journal.push(Entry {
        id: journal.next_id(),
        time: crate::clock::rfc3339_ms(state.core.clock.now_ms()),
        surface: surface.to_string(),
        operation,
        method,
        path,
        query,
        status,
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        injected_fault: injected,
        request: Recorded {
            headers: request_headers,
            body: request_body,
            body_bytes: request_len,
            truncated: request_len > super::journal::BODY_EXCERPT,
        },
        response: Recorded {
            headers: response_headers,
            body_bytes: body_bytes.as_ref().map(|b| b.len()).unwrap_or(0),
            body: response_body,
            truncated: response_truncated,
        },
    });
    let response = head.set_body(body);
    Ok(ServiceResponse::new(http_req, response))
}
