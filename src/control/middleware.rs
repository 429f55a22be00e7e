//! The control layer wrapped around every request: a tracing span, fault injection before
//! the handler for surfaces that name their operations by route, latency, and the journal.
//! The emulator's own `/_vlsim/` requests pass through untouched.

use super::faults::Injected;
use super::journal::{excerpt, Entry, Recorded};
use super::redact::{is_secret_header, redact_header, REDACTED};
use super::routes::RouteTag;
use super::{Control, InjectedFault, OperationName};
use crate::core::request::within_request;
use crate::surface::Surface;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{forward_ready, Payload, Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::HeaderMap;
use actix_web::web::{Bytes, BytesMut};
use actix_web::{web, HttpMessage, HttpRequest};
use futures_util::future::{ready, Either, LocalBoxFuture, Ready};
use futures_util::Stream;
use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Instant;

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
                let raw: String = String::from_utf8_lossy(value.as_bytes())
                    .chars()
                    .take(512)
                    .collect();
                redact_header(name.as_str(), &raw)
            };
            (name.as_str().to_string(), value)
        })
        .collect()
}

/// The control layer, as `App::wrap` takes it: a tracing span with surface, operation,
/// status and latency, then fault injection, latency and the journal (not for `/_vlsim/`).
/// When none of these has anything to do (no journal, no fault or latency rule, the span
/// disabled) a request goes straight to the handler: a boxed future and the layer's own
/// state cost a cheap call (GetPublicKeys) about 5% of its instructions for nothing.
pub struct ControlLayer;

impl<S> Transform<S, ServiceRequest> for ControlLayer
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>
        + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Transform = ControlService<S>;
    type InitError = ();
    type Future = Ready<Result<ControlService<S>, ()>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(ControlService {
            service: Rc::new(service),
        }))
    }
}

pub struct ControlService<S> {
    service: Rc<S>,
}

impl<S> Service<ServiceRequest> for ControlService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>
        + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = actix_web::Error;
    type Future = Either<S::Future, LocalBoxFuture<'static, Result<Self::Response, Self::Error>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let Some(control) = req.app_data::<web::Data<Control>>() else {
            return Either::Left(self.service.call(req));
        };
        // Field values are only evaluated when the span is enabled (not at the default level).
        let span = tracing::info_span!(
            "request",
            method = %req.method(),
            path = %req.path(),
            surface = control.registry.surface_of_path(req.path()).name(),
            operation = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        let busy =
            control.journal.enabled() || !control.faults.is_empty() || !control.latency.is_off();
        if span.is_disabled() && !busy {
            return Either::Left(self.service.call(req));
        }
        let control = control.clone();
        Either::Right(Box::pin(control_layer(
            control,
            span,
            req,
            self.service.clone(),
        )))
    }
}

async fn control_layer<S>(
    control: web::Data<Control>,
    span: tracing::Span,
    req: ServiceRequest,
    service: Rc<S>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>,
{
    use tracing::Instrument;
    let surface = control.registry.surface_of_path(req.path());
    let traced = !span.is_disabled();
    // Reading the clock is a few percent of a cheap call: only when something reports it.
    let started = traced.then(Instant::now);
    let result = control_inner(&control, req, &*service, surface, traced)
        .instrument(span.clone())
        .await;
    match &result {
        Ok(res) => {
            span.record("status", res.status().as_u16());
            if let Some(started) = started {
                tracing::debug!(
                    parent: &span,
                    latency_us =
                        u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
                    "served"
                );
            }
        }
        Err(e) => tracing::warn!(parent: &span, error = %e, "request failed"),
    }
    result
}

/// The surface and operation a request was for: what the surface named (a SOAP method, a
/// vAPI operation), else its route, else (no route matched) `METHOD /path`.
fn named(req: &HttpRequest, fallback: Surface) -> (Surface, String) {
    let tag = req.app_data::<RouteTag>();
    let surface = tag.map_or(fallback, |t| t.def.surface);
    let operation = match req.extensions().get::<OperationName>() {
        Some(name) => name.0.to_string(),
        None => match tag.and_then(|t| t.route(req.method())) {
            Some(route) => route.operation.to_string(),
            None => format!("{} {}", req.method(), req.path()),
        },
    };
    (surface, operation)
}

/// A fault rule for the route this request is for, applied before the handler, where the
/// route's surface renders typed faults by route.
fn early_fault(
    control: &Control,
    req: &ServiceRequest,
) -> Option<(String, actix_web::HttpResponse)> {
    let pattern = req.request().match_pattern()?;
    let (def, route) = control.registry.route(req.method(), &pattern)?;
    let render = def.typed_fault?;
    let fired = control.faults.check(def.surface, route.operation, None)?;
    let response = match fired.injected() {
        Injected::Response(response) => response,
        Injected::Typed(typed) => render(route, &typed),
    };
    Some((fired.rule_id, response))
}

async fn control_inner<S>(
    control: &Control,
    mut req: ServiceRequest,
    next: &S,
    surface: Surface,
    traced: bool,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<BoxBody>, Error = actix_web::Error>,
{
    if surface == Surface::Admin {
        return next.call(req).await;
    }
    let journal = &control.journal;
    let journaling = journal.enabled();
    let started = journaling.then(Instant::now);
    let mut injected = None;
    let early = if control.faults.is_empty() {
        None
    } else {
        early_fault(control, &req).map(|(rule, response)| {
            injected = Some(rule);
            response
        })
    };

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

    // The request's context (its journal id, the user the core learns) only when journaled:
    // otherwise the handler runs exactly as it would without a journal.
    let context = journaling.then(|| {
        let id = journal.next_id();
        (id, journal.context(id))
    });
    let res = match (early, &context) {
        (Some(response), _) => req.into_response(response),
        (None, Some((_, context))) => within_request(context.clone(), next.call(req)).await?,
        (None, None) => next.call(req).await?,
    };
    // Naming the call costs a string; only done when something uses it.
    let delayed = !control.latency.is_off();
    let named = (journaling || delayed || traced).then(|| named(res.request(), surface));
    if let Some((_, operation)) = &named {
        tracing::Span::current().record("operation", operation.as_str());
        if let Some(delay) = control.latency.delay_for(operation) {
            actix_web::rt::time::sleep(delay).await;
        }
    }
    let Some((surface, operation)) = named.filter(|_| journaling) else {
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
    let (id, user) = context
        .map(|(id, c)| (id, c.user()))
        .unwrap_or_else(|| (journal.next_id(), None));
    journal.push(Entry {
        id,
        time: crate::clock::rfc3339_ms(control.clock.now_ms()),
        surface,
        operation,
        method,
        path,
        query,
        status,
        latency_ms: started.map_or(0.0, |s| s.elapsed().as_secs_f64() * 1000.0),
        injected_fault: injected,
        user,
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
