//! One access line per request, and the request id that every log line of
//! the request carries.
//!
//! tracing-actix-web's `TracingLogger` opens a span per request; this is its
//! root span builder. The request id is the caller's `x-request-id` when it
//! sent a usable one (a proxy or a client that logged it already: both sides
//! then search for the same id), else the one `TracingLogger` generated. It
//! is echoed in the response (`startup::request_id_header`).
use std::time::Instant;

use actix_web::{
    HttpMessage,
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder};

/// The request's id, as logged and echoed.
#[derive(Clone)]
pub struct ReqId(pub String);

/// The GraphQL operation(s) a request ran, for its access line (the
/// `/graphql` handler sets it; names come from the document, see `graphql::guard`).
pub struct Operation(pub String);

struct Started(Instant);

/// The root span builder that writes the access line.
pub struct AccessLog;

impl RootSpanBuilder for AccessLog {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .filter(|v| usable(v))
            .map(str::to_owned)
            .or_else(|| {
                request
                    .extensions()
                    .get::<RequestId>()
                    .map(|id| id.to_string())
            })
            .unwrap_or_default();
        let span = tracing::info_span!("request", request_id = %id);
        let mut extensions = request.extensions_mut();
        extensions.insert(ReqId(id));
        extensions.insert(Started(Instant::now()));
        span
    }

    fn on_request_end<B: MessageBody>(
        _span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let res = match outcome {
            Ok(res) => res,
            Err(e) => {
                let status = e.as_response_error().status_code().as_u16();
                tracing::warn!(target: "siyu::access", status, error = %e, "request failed");
                return;
            }
        };
        let req = res.request();
        let extensions = req.extensions();
        let millis = extensions
            .get::<Started>()
            .map_or(0.0, |s| s.0.elapsed().as_secs_f64() * 1000.0);
        tracing::info!(
            target: "siyu::access",
            method = %req.method(),
            path = %req.path(),
            status = res.status().as_u16(),
            operation = %extensions.get::<Operation>().map_or("-", |o| o.0.as_str()),
            duration_ms = (millis * 10.0).round() / 10.0,
            request_id = %extensions.get::<ReqId>().map_or("", |r| r.0.as_str()),
            "request"
        );
    }
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
