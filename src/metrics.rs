//! Prometheus metrics: HTTP requests, GraphQL operations and errors, caches,
//! batches, WeChat calls, the database pool.
//!
//! The collectors are process-wide (an error can be counted from anywhere);
//! each application registry registers clones of them, which share their data.
use std::sync::{
    Arc, LazyLock,
    atomic::{AtomicU64, Ordering},
};

use actix_web::http::StatusCode;
use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry,
    core::{Collector, Desc},
    proto::MetricFamily,
};
use sea_orm::DatabaseConnection;

static HTTP_REQUESTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "siyu_http_requests_total",
            "HTTP requests answered, by route pattern, method and status",
        ),
        &["endpoint", "method", "status"],
    )
    .expect("valid metric")
});

static HTTP_DURATION: LazyLock<HistogramVec> = LazyLock::new(|| {
    HistogramVec::new(
        HistogramOpts::new(
            "siyu_http_requests_duration_seconds",
            "Time from a request's arrival to its response head, by route pattern, method and status",
        ),
        &["endpoint", "method", "status"],
    )
    .expect("valid metric")
});

/// Counts one answered HTTP request (`app::access_log`); `endpoint` is the
/// route's pattern, never the path, so ids in paths do not multiply series.
pub fn count_http(endpoint: &str, method: &str, status: StatusCode, seconds: f64) {
    let labels = [endpoint, method, status.as_str()];
    HTTP_REQUESTS.with_label_values(&labels).inc();
    HTTP_DURATION.with_label_values(&labels).observe(seconds);
}

static GRAPHQL_OPERATIONS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "siyu_graphql_operations_total",
            "GraphQL operations executed, by operation name",
        ),
        &["operation"],
    )
    .expect("valid metric")
});

static ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "siyu_graphql_errors_total",
            "GraphQL errors returned, by extensions.code",
        ),
        &["code"],
    )
    .expect("valid metric")
});

static CACHE_ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "siyu_cache_errors_total",
            "Cache operations that failed or timed out (answered from the database)",
        ),
        &["backend", "op"],
    )
    .expect("valid metric")
});

static RESPONSE_CACHE: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "siyu_response_cache_total",
            "Shareable GraphQL requests answered from the response cache (hit) or executed and stored (miss)",
        ),
        &["result"],
    )
    .expect("valid metric")
});

/// Counts one shareable request: answered from the response cache or not.
pub fn count_response_cache(hit: bool) {
    RESPONSE_CACHE
        .with_label_values(&[if hit { "hit" } else { "miss" }])
        .inc();
}

static WECHAT_API_CALLS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "siyu_wechat_api_calls_total",
            "Calls to WeChat's mini-program server API, by purpose",
        ),
        &["purpose"],
    )
    .expect("valid metric")
});

static WECHAT_API_ERRORS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "siyu_wechat_api_errors_total",
            "Failed calls to WeChat's mini-program server API, by purpose and kind (timeout, unreachable, http, errcode, answer)",
        ),
        &["purpose", "kind"],
    )
    .expect("valid metric")
});

static WECHAT_MESSAGES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    IntCounterVec::new(
        Opts::new(
            "siyu_wechat_messages_total",
            "Pushes received from WeChat at /webhooks/wechat-message, by event (refused: failed the signature or decryption)",
        ),
        &["event"],
    )
    .expect("valid metric")
});

/// Counts one push from WeChat; `event` is one of a few known names.
pub fn count_wechat_message(event: &str) {
    WECHAT_MESSAGES.with_label_values(&[event]).inc();
}

/// Counts one call to WeChat's server API made for `purpose`.
pub fn count_wechat_call(purpose: &str) {
    WECHAT_API_CALLS.with_label_values(&[purpose]).inc();
}

/// Counts one failed call to WeChat's server API.
pub fn count_wechat_error(purpose: &str, kind: &str) {
    WECHAT_API_ERRORS.with_label_values(&[purpose, kind]).inc();
}

static ORDER_BATCHES: LazyLock<Histogram> = LazyLock::new(|| {
    Histogram::with_opts(
        HistogramOpts::new(
            "siyu_order_batch_orders",
            "Orders written together by the order batch writer, per batch",
        )
        .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
    )
    .expect("valid metric")
});

/// Records the size of one batch of orders written together.
pub fn observe_order_batch(orders: usize) {
    ORDER_BATCHES.observe(orders as f64);
}

static PAYMENT_BATCHES: LazyLock<Histogram> = LazyLock::new(|| {
    Histogram::with_opts(
        HistogramOpts::new(
            "siyu_payment_batch_payments",
            "Payment confirmations taken together by the payment batch writer, per batch",
        )
        .buckets(vec![1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]),
    )
    .expect("valid metric")
});

/// Records the size of one batch of payment confirmations.
pub fn observe_payment_batch(payments: usize) {
    PAYMENT_BATCHES.observe(payments as f64);
}

/// Counts one executed operation under a label from [`OperationLabels`].
pub fn count_operation(label: &str) {
    GRAPHQL_OPERATIONS.with_label_values(&[label]).inc();
}

/// Distinct operation labels one instance records; later names count as `other`.
pub const MAX_OPERATION_LABELS: usize = 200;

/// The `operation` label values of one instance: operation names as the
/// documents hold them (clients choose them, so they are capped: every
/// label value is a series Prometheus keeps), `anonymous` for unnamed ones.
#[derive(Default)]
pub struct OperationLabels {
    seen: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl OperationLabels {
    pub fn label(&self, name: Option<&str>) -> String {
        let Some(name) = name else {
            return "anonymous".into();
        };
        let name: String = name.chars().take(64).collect();
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains(&name) {
            return name;
        }
        if seen.len() >= MAX_OPERATION_LABELS {
            return "other".into();
        }
        seen.insert(name.clone());
        name
    }
}

pub fn count_error(code: &str) {
    ERRORS.with_label_values(&[code]).inc();
}

pub fn count_cache_error(backend: &str, op: &str) {
    CACHE_ERRORS.with_label_values(&[backend, op]).inc();
}

/// Database pool size and idle connections, read at scrape time.
struct DbPoolCollector {
    db: DatabaseConnection,
    statements: Arc<AtomicU64>,
    size: Desc,
    idle: Desc,
    statements_desc: Desc,
}

impl DbPoolCollector {
    fn new(db: DatabaseConnection, statements: Arc<AtomicU64>) -> Self {
        let desc = |name: &str, help: &str| {
            Desc::new(name.into(), help.into(), vec![], Default::default()).expect("valid metric")
        };
        Self {
            db,
            statements,
            size: desc("siyu_db_pool_connections", "Open database connections"),
            idle: desc("siyu_db_pool_idle_connections", "Idle database connections"),
            statements_desc: desc("siyu_db_statements_total", "SQL statements executed"),
        }
    }

    fn stats(&self) -> (u32, usize) {
        match &self.db {
            db if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (pool.size(), pool.num_idle())
            }
            db => {
                let pool = db.get_sqlite_connection_pool();
                (pool.size(), pool.num_idle())
            }
        }
    }
}

impl Collector for DbPoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        vec![&self.size, &self.idle, &self.statements_desc]
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let (size, idle) = self.stats();
        let gauge = |name: &str, help: &str, v: f64| {
            let g = prometheus::Gauge::new(name, help).expect("valid metric");
            g.set(v);
            g.collect()
        };
        let mut out = gauge(
            "siyu_db_pool_connections",
            "Open database connections",
            size as f64,
        );
        out.extend(gauge(
            "siyu_db_pool_idle_connections",
            "Idle database connections",
            idle as f64,
        ));
        let statements =
            prometheus::IntCounter::new("siyu_db_statements_total", "SQL statements executed")
                .expect("valid metric");
        statements.inc_by(self.statements.load(Ordering::Relaxed));
        out.extend(statements.collect());
        out
    }
}

/// Answers a scrape with `registry`'s metrics in Prometheus' text format.
pub async fn scrape(registry: actix_web::web::Data<Registry>) -> actix_web::HttpResponse {
    use prometheus::Encoder;
    let mut body = Vec::new();
    let encoder = prometheus::TextEncoder::new();
    match encoder.encode(&registry.gather(), &mut body) {
        Ok(()) => actix_web::HttpResponse::Ok()
            .content_type(encoder.format_type())
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "encoding metrics");
            actix_web::HttpResponse::InternalServerError().finish()
        }
    }
}

/// Serves `/metrics` alone on `listener` (`METRICS_BIND`): scrapers reach
/// it on an internal address while the public listener does not answer it.
pub fn serve(
    listener: std::net::TcpListener,
    registry: Registry,
) -> std::io::Result<actix_web::dev::Server> {
    use actix_web::{App, HttpServer, web};
    let registry = web::Data::new(registry);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(registry.clone())
            .route("/metrics", web::get().to(scrape))
    })
    .workers(1)
    .listen(listener)?
    .run())
}

/// A registry for one application: the shared collectors plus its pool gauges.
pub fn registry(db: DatabaseConnection, statements: Arc<AtomicU64>) -> anyhow::Result<Registry> {
    let registry = Registry::new();
    registry.register(Box::new(HTTP_REQUESTS.clone()))?;
    registry.register(Box::new(HTTP_DURATION.clone()))?;
    registry.register(Box::new(GRAPHQL_OPERATIONS.clone()))?;
    registry.register(Box::new(ERRORS.clone()))?;
    registry.register(Box::new(CACHE_ERRORS.clone()))?;
    registry.register(Box::new(RESPONSE_CACHE.clone()))?;
    registry.register(Box::new(ORDER_BATCHES.clone()))?;
    registry.register(Box::new(PAYMENT_BATCHES.clone()))?;
    registry.register(Box::new(WECHAT_API_CALLS.clone()))?;
    registry.register(Box::new(WECHAT_API_ERRORS.clone()))?;
    registry.register(Box::new(WECHAT_MESSAGES.clone()))?;
    registry.register(Box::new(DbPoolCollector::new(db, statements)))?;
    Ok(registry)
}
