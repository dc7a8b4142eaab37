//! The GraphQL endpoint: the schema (one Query/Mutation struct per domain,
//! merged), its limits, and the HTTP handler that reads the token, guards the
//! body, and makes sure every error carries an `extensions.code`.
use actix_web::{HttpRequest, HttpResponse, http::header, web};
use async_graphql::{
    BatchRequest, BatchResponse, EmptySubscription, MergedObject, Schema, SchemaBuilder,
    ServerError, http::GraphiQLSource,
};
use futures_util::StreamExt;
use serde_json::json;

use crate::{
    auth::{Viewer, resolver::AuthMutation},
    modules::customer::resolver::CustomerQuery,
    state::{AppState, ClientIp},
};

/// Everything a client can read.
#[derive(MergedObject, Default)]
pub struct Query(CustomerQuery);

/// Everything a client can change.
#[derive(MergedObject, Default)]
pub struct Mutation(AuthMutation);

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
}

/// The printed SDL, as committed in `schema/schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// The served schema with its limits; production turns introspection off.
pub fn build_schema(state: AppState) -> AppSchema {
    let s = &state.settings;
    let mut b = builder()
        .limit_depth(s.max_depth)
        .limit_complexity(s.max_complexity)
        .limit_recursive_depth(32)
        .limit_directives(8);
    if !s.introspection {
        b = b.disable_introspection();
    }
    b.data(state).finish()
}

/// `GET /graphql`: GraphiQL where enabled (development by default).
pub async fn graphiql(state: web::Data<AppState>) -> HttpResponse {
    if !state.settings.graphiql {
        return error_response(actix_web::http::StatusCode::NOT_FOUND, "NOT_FOUND", "GraphiQL is disabled here");
    }
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(GraphiQLSource::build().endpoint("/graphql").finish())
}

/// A JSON body in the GraphQL error shape, for failures before execution.
pub fn error_response(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    crate::metrics::count_error(code);
    HttpResponse::build(status).json(json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    }))
}

/// The caller's viewer from `Authorization: Bearer …` (see `auth`).
fn viewer(req: &HttpRequest, state: &AppState) -> Viewer {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Viewer::Anonymous;
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    match token {
        Some(t) if !t.is_empty() => state.jwt.viewer(t),
        _ => Viewer::InvalidToken,
    }
}

/// The client's address: the socket peer, or the first `X-Forwarded-For` hop
/// when `TRUST_FORWARDED_FOR` says a proxy in front sets it.
pub fn client_ip(req: &HttpRequest, state: &AppState) -> String {
    if state.settings.trust_forwarded_for {
        if let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            return first.to_string();
        }
    }
    req.peer_addr().map(|a| a.ip().to_string()).unwrap_or_else(|| "unknown".into())
}

/// `POST /graphql`.
pub async fn graphql(
    req: HttpRequest,
    mut payload: web::Payload,
    schema: web::Data<AppSchema>,
    state: web::Data<AppState>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let limit = state.settings.max_body_bytes;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return error_response(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", "the request body could not be read");
        };
        if body.len() + chunk.len() > limit {
            return error_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BAD_USER_INPUT",
                &format!("the request body is larger than the limit of {limit} bytes"),
            );
        }
        body.extend_from_slice(&chunk);
    }
    let batch: BatchRequest = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("the body must be a GraphQL request in JSON ({{\"query\": …}}): {e}"),
            );
        }
    };
    let max_batch = state.settings.max_batch;
    let batch = match batch {
        BatchRequest::Batch(v) if v.is_empty() => {
            return error_response(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", "an empty batch has nothing to run");
        }
        BatchRequest::Batch(v) if v.len() > max_batch => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                &format!("a batch may hold at most {max_batch} operations"),
            );
        }
        other => other,
    };

    let viewer = viewer(&req, &state);
    let ip = ClientIp(client_ip(&req, &state));
    let batch = match batch {
        BatchRequest::Single(r) => BatchRequest::Single(prepare(r, viewer, &ip)),
        BatchRequest::Batch(v) => BatchRequest::Batch(v.into_iter().map(|r| prepare(r, viewer, &ip)).collect()),
    };
    let response = match schema.execute_batch(batch).await {
        BatchResponse::Single(r) => BatchResponse::Single(with_codes(r)),
        BatchResponse::Batch(v) => BatchResponse::Batch(v.into_iter().map(with_codes).collect()),
    };
    HttpResponse::Ok().json(response)
}

fn prepare(request: async_graphql::Request, viewer: Viewer, ip: &ClientIp) -> async_graphql::Request {
    crate::metrics::count_operation(request.operation_name.as_deref());
    request.data(viewer).data(ip.clone())
}

/// Gives a code to errors that async-graphql raised itself (parse and
/// validation errors, limits): every error a client sees carries one.
fn with_codes(mut response: async_graphql::Response) -> async_graphql::Response {
    for err in &mut response.errors {
        add_code(err);
    }
    response
}

fn add_code(err: &mut ServerError) {
    let has_code = err.extensions.as_ref().and_then(|e| e.get("code")).is_some();
    if has_code {
        return;
    }
    let code = if err.message.contains("too complex")
        || err.message.contains("nested too deep")
        || err.message.contains("recursion depth")
        || err.message.contains("number of directives")
    {
        "QUERY_TOO_COMPLEX"
    } else {
        "BAD_USER_INPUT"
    };
    crate::metrics::count_error(code);
    err.extensions.get_or_insert_with(Default::default).set("code", code);
}

#[cfg(test)]
mod tests {
    /// Keeps `schema/schema.graphql` equal to the served schema.
    /// `UPDATE_SCHEMA=1 cargo test schema_file` (or `cargo run -- print-schema`) rewrites it.
    #[test]
    fn schema_file_matches_served_schema() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/schema.graphql");
        let served = super::sdl();
        if std::env::var("UPDATE_SCHEMA").is_ok() {
            std::fs::write(path, &served).unwrap();
            return;
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == served,
            "schema/schema.graphql differs from the served schema; run `UPDATE_SCHEMA=1 cargo test schema_file` and commit it"
        );
    }
}
