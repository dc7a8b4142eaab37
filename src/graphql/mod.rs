//! The GraphQL endpoint: the schema (one Query/Mutation struct per domain,
//! merged), its limits, and the HTTP handler that reads the token, guards the
//! body, and makes sure every error carries an `extensions.code`.
pub mod ids;
pub mod pagination;
pub mod response_cache;
pub mod scalars;

use actix_web::{HttpRequest, HttpResponse, http::header, web};
use async_graphql::{
    BatchRequest, BatchResponse, EmptySubscription, MergedObject, Schema, SchemaBuilder,
    ServerError, dataloader::DataLoader,
};
use futures_util::StreamExt;
use serde_json::json;

use crate::{
    auth::{Viewer, resolver::AuthMutation},
    modules::{
        catalogue::{
            loader::{CategoryLoader, SkusByProductLoader},
            resolver::{CatalogueAdminMutation, CatalogueQuery},
        },
        coupon::resolver::{CouponMutation, CouponQuery},
        customer::resolver::CustomerQuery,
        membership::resolver::{MembershipMutation, MembershipQuery},
        operations::{
            loader::{StatsLoader, TagsLoader},
            resolver::{OperationsMutation, OperationsQuery},
        },
        order::resolver::{OrderMutation, OrderQuery},
        referral::resolver::{ReferralMutation, ReferralQuery},
        supplier::{
            loader::{SupplierLinkLoader, SupplierLoader},
            resolver::{SupplierAdminMutation, SupplierMutation, SupplierQuery},
        },
        wallet::resolver::{WalletAdminMutation, WalletQuery},
    },
    state::{AppState, ClientIp},
};

/// Everything a client can read.
#[derive(MergedObject, Default)]
pub struct Query(
    CustomerQuery,
    CatalogueQuery,
    SupplierQuery,
    OrderQuery,
    CouponQuery,
    MembershipQuery,
    WalletQuery,
    ReferralQuery,
    OperationsQuery,
);

/// Everything a client can change.
#[derive(MergedObject, Default)]
pub struct Mutation(
    AuthMutation,
    CatalogueAdminMutation,
    SupplierAdminMutation,
    SupplierMutation,
    OrderMutation,
    CouponMutation,
    MembershipMutation,
    WalletAdminMutation,
    ReferralMutation,
    OperationsMutation,
);

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

/// A JSON body in the GraphQL error shape, for failures before execution.
pub fn error_response(
    status: actix_web::http::StatusCode,
    code: &str,
    message: &str,
) -> HttpResponse {
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
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    match token {
        Some(t) if !t.is_empty() => state.jwt.viewer(t),
        _ => Viewer::InvalidToken,
    }
}

/// The client's address: the socket peer, or the `X-Forwarded-For` entry
/// `TRUSTED_PROXIES` hops from the right (see `forwarded`).
pub fn client_ip(req: &HttpRequest, state: &AppState) -> String {
    crate::forwarded::client_address(
        req.peer_addr().map(|a| a.ip()),
        req.headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok()),
        state.settings.trusted_proxies,
    )
}

/// `POST /graphql`.
pub async fn graphql(
    req: HttpRequest,
    mut payload: web::Payload,
    schema: web::Data<AppSchema>,
    state: web::Data<AppState>,
    responses: web::Data<response_cache::ResponseCache>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let limit = state.settings.max_body_bytes;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let Ok(chunk) = chunk else {
            return error_response(
                StatusCode::BAD_REQUEST,
                "BAD_USER_INPUT",
                "the request body could not be read",
            );
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
    let batch = match parse_batch(&body, state.settings.max_batch) {
        Ok(b) => b,
        Err(message) => return error_response(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &message),
    };

    let viewer = viewer(&req, &state);
    let ip = ClientIp(client_ip(&req, &state));
    if let BatchRequest::Single(request) = &batch
        && response_cache::cacheable(request, viewer)
        && let Some(generation) = response_cache::generation(&state).await
    {
        let key = response_cache::key(request);
        if let Some(body) = responses.get(&key, generation).await {
            crate::metrics::count_operation(operation_name(request).as_deref());
            return HttpResponse::Ok()
                .content_type("application/json")
                .body(body);
        }
        let BatchRequest::Single(request) = batch else {
            unreachable!("matched above")
        };
        let response = with_codes(schema.execute(prepare(request, viewer, &ip, &state)).await);
        let body = serde_json::to_vec(&response).unwrap_or_default();
        if response.errors.is_empty() {
            responses.put(key, generation, body.clone()).await;
        }
        return HttpResponse::Ok()
            .content_type("application/json")
            .body(body);
    }
    let batch = match batch {
        BatchRequest::Single(r) => BatchRequest::Single(prepare(r, viewer, &ip, &state)),
        BatchRequest::Batch(v) => BatchRequest::Batch(
            v.into_iter()
                .map(|r| prepare(r, viewer, &ip, &state))
                .collect(),
        ),
    };
    let response = match schema.execute_batch(batch).await {
        BatchResponse::Single(r) => BatchResponse::Single(with_codes(r)),
        BatchResponse::Batch(v) => BatchResponse::Batch(v.into_iter().map(with_codes).collect()),
    };
    HttpResponse::Ok().json(response)
}

/// A single request (a JSON object) or a batch (a non-empty array of at most
/// `max_batch` objects); anything else is a client error with a message.
fn parse_batch(body: &[u8], max_batch: usize) -> Result<BatchRequest, String> {
    const SHAPE: &str =
        "the body must be a GraphQL request in JSON: {\"query\": \"…\", \"variables\": {…}}";
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| format!("{SHAPE} ({e})"))?;
    let one = |v: serde_json::Value| -> Result<async_graphql::Request, String> {
        if !v.is_object() {
            return Err(SHAPE.to_string());
        }
        serde_json::from_value(v).map_err(|e| format!("{SHAPE} ({e})"))
    };
    match value {
        serde_json::Value::Array(items) if items.is_empty() => {
            Err("an empty batch has nothing to run".into())
        }
        serde_json::Value::Array(items) if items.len() > max_batch => {
            Err(format!("a batch may hold at most {max_batch} operations"))
        }
        serde_json::Value::Array(items) => Ok(BatchRequest::Batch(
            items.into_iter().map(one).collect::<Result<_, _>>()?,
        )),
        other => Ok(BatchRequest::Single(one(other)?)),
    }
}

/// The name of the operation for metrics: `operationName`, else the name
/// written after the first `query`/`mutation`/`subscription` keyword.
fn operation_name(request: &async_graphql::Request) -> Option<String> {
    if let Some(name) = &request.operation_name {
        return Some(name.clone());
    }
    let query = request.query.trim_start();
    let rest = ["query", "mutation", "subscription"]
        .iter()
        .find_map(|kw| query.strip_prefix(kw))?
        .trim_start();
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!name.is_empty()).then_some(name)
}

/// Per-request data: the viewer, the client IP, and fresh DataLoaders (they
/// batch within one request and cache nothing across requests).
fn prepare(
    request: async_graphql::Request,
    viewer: Viewer,
    ip: &ClientIp,
    state: &AppState,
) -> async_graphql::Request {
    crate::metrics::count_operation(operation_name(&request).as_deref());
    let db = &state.db;
    request
        .data(viewer)
        .data(ip.clone())
        .data(DataLoader::new(CategoryLoader(db.clone()), tokio::spawn))
        .data(DataLoader::new(
            SkusByProductLoader(db.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            SupplierLinkLoader(db.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(SupplierLoader(db.clone()), tokio::spawn))
        .data(DataLoader::new(StatsLoader(db.clone()), tokio::spawn))
        .data(DataLoader::new(TagsLoader(db.clone()), tokio::spawn))
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
    let has_code = err
        .extensions
        .as_ref()
        .and_then(|e| e.get("code"))
        .is_some();
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
    err.extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
}

#[cfg(test)]
mod tests {
    #[test]
    fn operation_names_for_metrics() {
        let name = |q: &str| super::operation_name(&async_graphql::Request::new(q));
        assert_eq!(
            name("query WhoAmI { me { id } }").as_deref(),
            Some("WhoAmI")
        );
        assert_eq!(
            name("  mutation Login($x: Int) { a }").as_deref(),
            Some("Login")
        );
        assert_eq!(name("{ me { id } }"), None);
        assert_eq!(name("query { me { id } }"), None);
        assert_eq!(name("query($a: Int) { me }"), None);
        let named = async_graphql::Request::new("{ a }").operation_name("Given");
        assert_eq!(super::operation_name(&named).as_deref(), Some("Given"));
    }

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
