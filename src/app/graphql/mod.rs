//! The GraphQL endpoint: the schema (one Query/Mutation struct per domain,
//! merged), its limits, and the HTTP handler that reads the token, guards the
//! body, and makes sure every error carries an `extensions.code`.
pub mod guard;
pub mod response_cache;
pub mod variables;

use actix_web::{HttpMessage, HttpRequest, HttpResponse, http::header, web};
use async_graphql::{
    BatchRequest, BatchResponse, EmptySubscription, MergedObject, Schema, SchemaBuilder,
    ServerError, dataloader::DataLoader,
};
use futures_util::StreamExt;
use serde_json::json;

use crate::{
    app::{
        audit::{Audit, resolver::AuditQuery},
        checkout::resolver::{CheckoutMutation, CheckoutQuery},
        jobs::JobsMutation,
        login::resolver::{AuthMutation, StaffMutation, StaffQuery, SupplierCredentialsMutation},
        reports::resolver::ReportsQuery,
        stock_sync::SupplierMutation,
    },
    auth::{Viewer, session::Session},
    modules::{
        catalogue::{
            loader::{CategoryLoader, SkuLoader, SkusByProductLoader},
            resolver::{CatalogueAdminMutation, CatalogueQuery},
        },
        coupon::{
            loader::UsedCountLoader,
            resolver::{CouponMutation, CouponQuery},
        },
        customer::resolver::CustomerQuery,
        membership::resolver::{MembershipMutation, MembershipQuery},
        operations::{
            loader::{StatsLoader, TagsLoader},
            resolver::{OperationsMutation, OperationsQuery},
        },
        order::{
            loader::{FulfillmentsByOrderLoader, LinesByOrderLoader, RefundsByOrderLoader},
            payable::resolver::{PayableMutation, PayableQuery},
            resolver::{OrderMutation, OrderQuery, ReconciliationMutation, ReconciliationQuery},
        },
        referral::resolver::{ReferralMutation, ReferralQuery},
        shipping::resolver::{ShippingAdminMutation, ShippingQuery},
        supplier::{
            loader::{SupplierLinkLoader, SupplierLoader},
            resolver::{SupplierAdminMutation, SupplierQuery},
        },
        wallet::resolver::{WalletAdminMutation, WalletQuery},
        wechat_platform::resolver::{
            WechatPlatformAdminMutation, WechatPlatformMutation, WechatPlatformQuery,
        },
    },
    state::{AppState, ClientIp},
};

/// The store's books (reconciliation, supplier payables) as one member of
/// [`Query`]: one more member at the top level overflows rustc's query
/// depth when it lays out the merged resolver.
#[derive(MergedObject, Default)]
pub struct FinanceQuery(ReconciliationQuery, PayableQuery);

/// Staff accounts and the audit log, one member of [`Query`] for the same
/// reason.
#[derive(MergedObject, Default)]
pub struct StaffAdminQuery(StaffQuery, AuditQuery);

/// Signing in and managing staff, one member of [`Mutation`] for the same
/// reason.
#[derive(MergedObject, Default)]
pub struct AccountMutation(AuthMutation, StaffMutation);

/// Everything a client can read.
#[derive(MergedObject, Default)]
pub struct Query(
    CustomerQuery,
    CatalogueQuery,
    ShippingQuery,
    SupplierQuery,
    OrderQuery,
    FinanceQuery,
    CheckoutQuery,
    CouponQuery,
    MembershipQuery,
    WalletQuery,
    ReferralQuery,
    OperationsQuery,
    ReportsQuery,
    WechatPlatformQuery,
    StaffAdminQuery,
);

/// Everything a client can change.
#[derive(MergedObject, Default)]
pub struct Mutation(
    AccountMutation,
    CatalogueAdminMutation,
    ShippingAdminMutation,
    SupplierAdminMutation,
    SupplierCredentialsMutation,
    SupplierMutation,
    OrderMutation,
    ReconciliationMutation,
    PayableMutation,
    CheckoutMutation,
    CouponMutation,
    MembershipMutation,
    WalletAdminMutation,
    ReferralMutation,
    OperationsMutation,
    JobsMutation,
    WechatPlatformMutation,
    WechatPlatformAdminMutation,
);

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// The served schema twice over: with the audit extension for documents
/// that may run mutations, and without it for queries. The audit looks only
/// at root mutation fields, but any extension at all sends async-graphql
/// down its slower path for every field of every answer (a `ResolveInfo`
/// built with registry look-ups, a boxed call through the extension), which
/// a products page pays hundreds of times.
pub struct Schemas {
    pub audited: AppSchema,
    pub reads: AppSchema,
}

impl Schemas {
    /// The schema a request runs on: queries skip the audit, and anything
    /// else (mutations, or a document the guard could not read) keeps it.
    pub fn for_request(&self, passed: &guard::Passed) -> &AppSchema {
        if passed.query {
            &self.reads
        } else {
            &self.audited
        }
    }
}

fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
}

/// The printed SDL, as committed in `schema/schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// The served schema; production turns introspection and field
/// suggestions off. Depth and cost are limited by [`guard`] before a
/// document gets here (async-graphql's own limits are computed only after
/// fragments were expanded, and would refuse the standard introspection query).
pub fn build_schema(state: AppState) -> Schemas {
    let build = |audited: bool| {
        let s = &state.settings;
        let mut b = builder().limit_recursive_depth(32).limit_directives(8);
        if audited {
            b = b.extension(Audit);
        }
        if !s.introspection {
            b = b.disable_introspection();
        }
        // "Did you mean …?" helps a developer, and maps the schema for anyone
        // probing a production server with introspection off.
        if s.app_env == crate::config::AppEnv::Production {
            b = b.disable_suggestions();
        }
        b.data(state.clone()).finish()
    };
    Schemas {
        audited: build(true),
        reads: build(false),
    }
}

/// A JSON body in the GraphQL error shape, for failures before execution
/// (counted in `siyu_graphql_errors_total`).
pub fn error_response(
    status: actix_web::http::StatusCode,
    code: &str,
    message: &str,
) -> HttpResponse {
    crate::metrics::count_error(code);
    json_error(status, code, message)
}

/// The same body for answers that are not GraphQL errors (an unknown path),
/// so they stay out of the GraphQL error counts.
pub fn json_error(status: actix_web::http::StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    }))
}

/// The bearer token of a request: `None` without an `Authorization`
/// header, `Some("")` for one that carries no usable token.
fn bearer(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    Some(
        value
            .to_str()
            .ok()
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map_or("", str::trim),
    )
}

/// Who is calling: the viewer from `Authorization: Bearer …` and its
/// session (see `auth`); one cache round trip for a well-formed token
/// (its session may have ended), none otherwise.
pub(crate) async fn caller(req: &HttpRequest, state: &AppState) -> Caller {
    let (viewer, session) = match bearer(req) {
        None => return Caller::default(),
        Some("") => (Viewer::InvalidToken, None),
        Some(t) => crate::auth::session::authenticate(&state.jwt, &state.cache, t).await,
    };
    Caller { viewer, session }
}

/// Whether the caller is one who shares answers from the response cache,
/// told from the token alone: a customer's token whose session has ended
/// makes its bearer an `InvalidToken` viewer, who shares them too, so the
/// session is not looked up; a staff or supplier token says no here (the
/// full check decides those).
fn shares_cached_answers(req: &HttpRequest, state: &AppState) -> bool {
    let viewer = match bearer(req) {
        None => Viewer::Anonymous,
        Some(t) => state
            .jwt
            .verify(t)
            .map_or(Viewer::InvalidToken, |claims| claims.viewer()),
    };
    response_cache::shares(viewer)
}

/// The viewer and session of one HTTP request (every operation of a batch).
pub(crate) struct Caller {
    pub(crate) viewer: Viewer,
    session: Option<Session>,
}

impl Default for Caller {
    fn default() -> Self {
        Caller {
            viewer: Viewer::Anonymous,
            session: None,
        }
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
    schemas: web::Data<Schemas>,
    state: web::Data<AppState>,
    responses: web::Data<response_cache::ResponseCache>,
    guard: web::Data<guard::Guard>,
) -> HttpResponse {
    use actix_web::http::StatusCode;
    let ip = ClientIp(client_ip(&req, &state));
    if let Err(e) = crate::rate_limit::check(
        &state.cache,
        &crate::cache::keys::graphql_requests(&ip.0),
        state.settings.graphql_rate_limit_per_min,
        "too many requests from this address; wait a minute and try again",
    )
    .await
    {
        let mut res = app_error_response(StatusCode::TOO_MANY_REQUESTS, &e);
        res.headers_mut().insert(
            header::RETRY_AFTER,
            header::HeaderValue::from(crate::rate_limit::WINDOW.as_secs()),
        );
        return res;
    }
    let limit = state.settings.max_body_bytes;
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) if crate::app::edge::timed_out(&e) => {
                return error_response(
                    StatusCode::REQUEST_TIMEOUT,
                    "BAD_USER_INPUT",
                    "the request body did not arrive in time",
                );
            }
            Err(_) => {
                return error_response(
                    StatusCode::BAD_REQUEST,
                    "BAD_USER_INPUT",
                    "the request body could not be read",
                );
            }
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
    let body = body.freeze();
    if let Some(answer) = known_answer(&req, &body, &state, &responses).await {
        return answer;
    }
    let mut batch = match parse_batch(&body, state.settings.max_batch) {
        Ok(b) => b,
        Err(message) => return error_response(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", &message),
    };
    let checked = guard.check_batch(&mut batch);
    let labels: Vec<&str> = checked
        .iter()
        .map(|c| c.as_ref().map_or("refused", |p| p.label.as_str()))
        .collect();
    req.extensions_mut()
        .insert(crate::app::access_log::Operation(labels.join(",")));

    let caller = caller(&req, &state).await;
    let requests = match batch {
        BatchRequest::Single(request) => {
            let passed = match checked.into_iter().next() {
                Some(Ok(passed)) => passed,
                Some(Err(e)) => return HttpResponse::Ok().json(refused(e)),
                None => unreachable!("one check per request"),
            };
            let schema = schemas.for_request(&passed);
            let run = Single {
                body,
                caller: &caller,
                ip: &ip,
                state: &state,
            };
            return run.answer(request, passed, schema, &responses).await;
        }
        BatchRequest::Batch(requests) => requests,
    };
    let runs = requests.into_iter().zip(checked).map(|(request, passed)| {
        let (schemas, state, ip, caller) = (&schemas, &state, &ip, &caller);
        async move {
            match passed {
                Ok(p) => with_codes(
                    schemas
                        .for_request(&p)
                        .execute(prepare(request, &p.label, caller, ip, state))
                        .await,
                ),
                Err(e) => refused(e),
            }
        }
    });
    let response = BatchResponse::Batch(futures_util::future::join_all(runs).await);
    HttpResponse::Ok().json(response)
}

/// A stored answer to a body seen before (see
/// [`ResponseCache::known`](response_cache::ResponseCache::known)), for a
/// caller who shares answers, under the current catalogue generation:
/// served without parsing, checking or executing the document again.
async fn known_answer(
    req: &HttpRequest,
    body: &web::Bytes,
    state: &AppState,
    responses: &response_cache::ResponseCache,
) -> Option<HttpResponse> {
    let known = responses.known(body)?;
    if !shares_cached_answers(req, state) {
        return None;
    }
    let generation = state.cache.catalogue_generation().await?;
    let answer = responses.get(&known.key, generation).await?;
    req.extensions_mut()
        .insert(crate::app::access_log::Operation(known.label.clone()));
    crate::metrics::count_operation(&known.label);
    crate::metrics::count_response_cache(true);
    Some(json_ok(answer, Some(CacheStatus::Hit)))
}

/// One request (not a batch), with the body it came in.
struct Single<'a> {
    body: web::Bytes,
    caller: &'a Caller,
    ip: &'a ClientIp,
    state: &'a AppState,
}

impl Single<'_> {
    /// The answer, from the response cache when it may be.
    async fn answer(
        self,
        mut request: async_graphql::Request,
        passed: guard::Passed,
        schema: &AppSchema,
        responses: &response_cache::ResponseCache,
    ) -> HttpResponse {
        let Single {
            body,
            caller,
            ip,
            state,
        } = self;
        if responses.enabled()
            && let Some(key) = response_cache::shared_key(&mut request, caller.viewer)
            && let Some(generation) = state.cache.catalogue_generation().await
        {
            if let Some(answer) = responses.get(&key, generation).await {
                responses.learn(body, &passed.label, key);
                crate::metrics::count_operation(&passed.label);
                crate::metrics::count_response_cache(true);
                return json_ok(answer, Some(CacheStatus::Hit));
            }
            crate::metrics::count_response_cache(false);
            let response = with_codes(
                schema
                    .execute(prepare(request, &passed.label, caller, ip, state))
                    .await,
            );
            let answer = web::Bytes::from(serde_json::to_vec(&response).unwrap_or_default());
            if response.errors.is_empty() {
                responses.put(key, generation, answer.clone()).await;
                responses.learn(body, &passed.label, key);
            }
            return json_ok(answer, Some(CacheStatus::Miss));
        }
        let response = with_codes(
            schema
                .execute(prepare(request, &passed.label, caller, ip, state))
                .await,
        );
        HttpResponse::Ok().json(response)
    }
}

/// The GraphQL response of a request refused before it ran.
fn refused(e: crate::error::AppError) -> async_graphql::Response {
    let err = async_graphql::Error::from(e);
    let mut server = ServerError::new(err.message, None);
    server.extensions = err.extensions;
    async_graphql::Response::from_errors(vec![server])
}

/// An [`AppError`](crate::error::AppError) as a JSON body in the GraphQL error shape.
fn app_error_response(
    status: actix_web::http::StatusCode,
    e: &crate::error::AppError,
) -> HttpResponse {
    error_response(status, e.code(), &e.client_message())
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

/// Per-request data: the viewer and its session, the client IP, and fresh
/// DataLoaders (they batch within one request and cache nothing across
/// requests).
fn prepare(
    request: async_graphql::Request,
    label: &str,
    caller: &Caller,
    ip: &ClientIp,
    state: &AppState,
) -> async_graphql::Request {
    crate::metrics::count_operation(label);
    let db = &state.db;
    let mut request = request.data(caller.viewer);
    if let Some(session) = &caller.session {
        request = request.data(session.clone());
    }
    request
        .data(ip.clone())
        .data(DataLoader::new(CategoryLoader(state.clone()), tokio::spawn))
        .data(DataLoader::new(
            SkusByProductLoader(db.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            SupplierLinkLoader(db.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(SupplierLoader(db.clone()), tokio::spawn))
        .data(DataLoader::new(SkuLoader(db.clone()), tokio::spawn))
        .data(DataLoader::new(
            LinesByOrderLoader(db.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            FulfillmentsByOrderLoader(db.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            RefundsByOrderLoader(db.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(StatsLoader(db.clone()), tokio::spawn))
        .data(DataLoader::new(TagsLoader(db.clone()), tokio::spawn))
        .data(DataLoader::new(UsedCountLoader(db.clone()), tokio::spawn))
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

/// Whether a shareable answer came from the response cache, in its
/// `x-cache` header (`HIT` or `MISS`, as CDNs say it): for operators
/// reading a client's network log, and for tests, which cannot tell a
/// cached answer by its bytes.
#[derive(Clone, Copy)]
enum CacheStatus {
    Hit,
    Miss,
}

/// A 200 answer carrying bytes that are already JSON.
fn json_ok(
    body: impl actix_web::body::MessageBody + 'static,
    cache: Option<CacheStatus>,
) -> HttpResponse {
    let mut answer = HttpResponse::Ok();
    answer.content_type("application/json");
    if let Some(status) = cache {
        let value = match status {
            CacheStatus::Hit => "HIT",
            CacheStatus::Miss => "MISS",
        };
        answer.insert_header((
            actix_web::http::header::HeaderName::from_static("x-cache"),
            actix_web::http::header::HeaderValue::from_static(value),
        ));
    }
    answer.body(body)
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
