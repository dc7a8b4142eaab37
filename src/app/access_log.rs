//! The one middleware every request passes first: its request id, its span,
//! its access line and its HTTP metrics.
//!
//! The request id is the caller's `x-request-id` when it sent a usable one (a
//! proxy or a client that logged it already: both sides then search for the
//! same id), else a new UUID. Every log line of the request carries it (the
//! `request` span), and the response echoes it, error answers included.
//!
//! One middleware rather than a tracing layer, a metrics layer and a header
//! layer stacked: each layer wrapped the future and the body once more, and
//! one layer serves a cached answer about 10% faster (README, benchmarks). The
//! duration is measured to the response head, so a streamed export counts
//! until its first byte, not its last.
use std::time::Instant;

use actix_web::{
    HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::{
        Method, StatusCode,
        header::{HeaderName, HeaderValue},
    },
    middleware::Next,
};
use tracing::Instrument;

/// The GraphQL operation(s) a request ran, for its access line (the
/// `/graphql` handler sets it; names come from the document, see `graphql::guard`).
pub struct Operation(pub String);

const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The middleware (`actix_web::middleware::from_fn(access_log::middleware)`).
pub async fn middleware<B: MessageBody>(
    req: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<B>, actix_web::Error> {
    let started = Instant::now();
    let id = request_id(&req);
    let span = tracing::info_span!("request", request_id = %shown(&id));
    // (The request cannot be kept here across the call: routing needs the
    // only reference to it. The response gives it back.)
    match next.call(req).instrument(span).await {
        Ok(mut res) => {
            let status = res.status();
            let elapsed = started.elapsed();
            let req = res.request();
            let endpoint = req.match_pattern();
            crate::metrics::count_http(
                endpoint.as_deref().unwrap_or("UNKNOWN"),
                method_label(req.method()),
                status,
                elapsed.as_secs_f64(),
            );
            access_line(req, status, elapsed.as_secs_f64() * 1000.0, &id);
            res.headers_mut().insert(X_REQUEST_ID, id);
            Ok(res)
        }
        // A middleware further in gave up (a handler's own errors arrive as
        // responses). Its answer still carries the request id.
        Err(e) => {
            let mut answer = e.error_response();
            let status = answer.status();
            crate::metrics::count_http("UNKNOWN", "-", status, started.elapsed().as_secs_f64());
            tracing::warn!(target: "siyu::access", status = status.as_u16(), error = %e, request_id = %shown(&id), "request failed");
            answer.headers_mut().insert(X_REQUEST_ID, id);
            Err(actix_web::error::InternalError::from_response(e, answer).into())
        }
    }
}

fn access_line(req: &actix_web::HttpRequest, status: StatusCode, millis: f64, id: &HeaderValue) {
    if !tracing::enabled!(target: "siyu::access", tracing::Level::INFO) {
        return;
    }
    let extensions = req.extensions();
    tracing::info!(
        target: "siyu::access",
        method = %req.method(),
        path = %req.path(),
        status = status.as_u16(),
        operation = %extensions.get::<Operation>().map_or("-", |o| o.0.as_str()),
        duration_ms = (millis * 10.0).round() / 10.0,
        request_id = %shown(id),
        "request"
    );
}

/// A method as a metric label: any other than the standard ones (a client
/// may send whatever it likes) shares one series.
fn method_label(method: &Method) -> &str {
    match *method {
        Method::GET
        | Method::POST
        | Method::PUT
        | Method::DELETE
        | Method::HEAD
        | Method::OPTIONS
        | Method::PATCH
        | Method::CONNECT
        | Method::TRACE => method.as_str(),
        _ => "OTHER",
    }
}

/// An id as logged (only ids that are plain ASCII are ever made or kept).
fn shown(id: &HeaderValue) -> &str {
    id.to_str().unwrap_or_default()
}

/// The caller's id when usable, else a new one.
fn request_id(req: &ServiceRequest) -> HeaderValue {
    if let Some(v) = req
        .headers()
        .get(X_REQUEST_ID)
        .filter(|v| v.to_str().is_ok_and(usable))
    {
        return v.clone();
    }
    let mut buf = uuid::Uuid::encode_buffer();
    let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut buf);
    HeaderValue::from_str(id).expect("a UUID is a valid header value")
}

/// An incoming `x-request-id` short enough and plain enough to log as it is
/// (nothing that could break or forge a log line).
fn usable(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_plain_ids_are_kept() {
        assert!(super::usable("7f3c-a1_b.c:d"));
        assert!(!super::usable(""));
        assert!(!super::usable("a b"));
        assert!(!super::usable("x\nINFO forged"));
        assert!(!super::usable(&"a".repeat(65)));
    }
}
