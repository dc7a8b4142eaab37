//! HTTP-level guards around every route: a deadline on request bodies, and
//! CORS for a browser admin panel on another origin.
use std::{io, time::Duration};

use actix_cors::Cors;
use actix_web::{
    Error, HttpMessage,
    body::MessageBody,
    dev::{Payload, ServiceRequest, ServiceResponse},
    error::PayloadError,
    http::header,
    middleware::{Condition, Next},
    web,
};
use futures_util::StreamExt;

use crate::state::AppState;

/// Ends a request body that has not fully arrived within
/// `CLIENT_REQUEST_TIMEOUT_MS` of the request's head (actix-web's own
/// client request timeout covers only the head). A client trickling a body
/// byte by byte would otherwise hold a connection, and the handler waiting
/// on it, for as long as it likes. The reader sees a `TimedOut` error
/// ([`timed_out`]); the GraphQL handler answers it with a 408.
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(Duration::ZERO, |s| s.settings.client_request_timeout);
    let has_body = req.headers().contains_key(header::CONTENT_LENGTH)
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if has_body && !limit.is_zero() {
        let deadline = tokio::time::Instant::now() + limit;
        let body =
            futures_util::stream::unfold(Some(req.take_payload()), move |payload| async move {
                let mut payload = payload?;
                match tokio::time::timeout_at(deadline, payload.next()).await {
                    Ok(Some(chunk)) => Some((chunk, Some(payload))),
                    Ok(None) => None,
                    Err(_) => Some((
                        Err(PayloadError::Io(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the request body did not arrive in time",
                        ))),
                        None,
                    )),
                }
            });
        req.set_payload(Payload::Stream {
            payload: Box::pin(body),
        });
    }
    next.call(req).await
}

/// Whether reading a body failed on [`body_deadline`].
pub fn timed_out(e: &PayloadError) -> bool {
    matches!(e, PayloadError::Io(io) if io.kind() == io::ErrorKind::TimedOut)
}

/// CORS for the origins in `CORS_ALLOWED_ORIGINS` (none: no CORS headers,
/// as before). Preflights are answered; credentials are not allowed, since
/// the API authenticates with a bearer token, never a cookie.
/// Non-browser clients (the mini-program, suppliers) are not affected.
pub fn cors(origins: &[String]) -> Condition<Cors> {
    let request_id = header::HeaderName::from_static("x-request-id");
    let mut cors = Cors::default()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::ACCEPT,
            request_id.clone(),
        ])
        .expose_headers([request_id])
        .max_age(3600);
    for origin in origins {
        cors = cors.allowed_origin(origin);
    }
    Condition::new(!origins.is_empty(), cors)
}
