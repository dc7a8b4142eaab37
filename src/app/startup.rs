//! Building and running the HTTP server: the one place where the pieces meet.
use std::{
    net::TcpListener,
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use actix_web::{App, HttpResponse, HttpServer, dev::Server, http::StatusCode, web};
use anyhow::Context;
use serde_json::json;

use crate::{
    app::graphql::{self, Schemas},
    app::login::sessions::ensure_admin,
    auth::token::JwtKeys,
    cache::{Cache, CacheBackend, MemoryCache, RedisCache},
    config::Settings,
    db,
    state::AppState,
    wechat::pay::{WechatPay, WechatPayConfig},
};

/// The demo owner account (demo mode without `ADMIN_USERNAME` only; in the
/// README too).
pub const DEMO_ADMIN_USERNAME: &str = "demo-owner";
pub const DEMO_ADMIN_PASSWORD: &str = "siyu-demo-owner";

/// A built server, bound to its port, not yet running.
pub struct Application {
    port: u16,
    server: Server,
    state: AppState,
    /// `/metrics` on its own listener (`METRICS_BIND`).
    metrics: Option<(u16, Server)>,
}

/// Redis calls give up after this, and the request goes to the database.
const REDIS_TIMEOUT: Duration = Duration::from_millis(100);

impl Application {
    /// Connects, migrates, creates the configured admin and binds `settings.bind`
    /// (port 0 picks a free port: tests use that).
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let state = build_state(settings).await?;
        for notice in &state.settings.notices {
            tracing::warn!("{notice}");
        }
        if state.settings.demo_mode() {
            tracing::warn!(
                "demo mode: WeChat login accepts demo:<name> codes; never use this for a real store"
            );
        }
        if state.settings.jobs {
            super::jobs::spawn(state.clone());
        }
        if state.settings.seed_demo
            && super::seed::seed_demo(&state)
                .await
                .map_err(|e| anyhow::anyhow!("seeding the demo store: {e:?}"))?
        {
            tracing::info!(
                "empty database: the demo store was seeded (SEED_DEMO=false turns this off)"
            );
        }

        let listener = TcpListener::bind(&state.settings.bind)
            .with_context(|| format!("binding {}", state.settings.bind))?;
        let port = listener.local_addr()?.port();
        let metrics_listener = match &state.settings.metrics_bind {
            Some(addr) => Some(
                TcpListener::bind(addr).with_context(|| format!("binding METRICS_BIND {addr}"))?,
            ),
            None => None,
        };
        let (server, metrics) = run(listener, metrics_listener, state.clone())?;
        Ok(Self {
            port,
            server,
            state,
            metrics,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port serving `/metrics` apart, when `METRICS_BIND` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until SIGINT/SIGTERM, then finishes in-flight requests (graceful shutdown).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        match self.metrics {
            Some((_, metrics)) => futures_util::future::try_join(self.server, metrics)
                .await
                .map(|_| ()),
            None => self.server.await,
        }
    }
}

/// Everything but the HTTP server: database (migrated), cache, clients,
/// and the configured admin (created, or its password brought in line).
/// The CLI commands use it too.
pub async fn build_state(settings: Settings) -> anyhow::Result<AppState> {
    // reqwest is built without a crypto provider (no C toolchain needed); ring it is.
    let _ = rustls::crypto::ring::default_provider().install_default();

    let db_statements = Arc::new(AtomicU64::new(0));
    let db = db::connect(&settings, db_statements.clone()).await?;

    let backend: Arc<dyn CacheBackend> = match &settings.redis_url {
        Some(url) => Arc::new(
            RedisCache::new(url, REDIS_TIMEOUT).context("REDIS_URL is not a valid Redis URL")?,
        ),
        None => Arc::new(MemoryCache::default()),
    };
    let mut cache = Cache::new(backend, &settings.cache_prefix);
    if let Some(url) = &settings.redis_url {
        cache = cache
            .follow_generation(
                redis::Client::open(url.as_str()).context("REDIS_URL is not a valid Redis URL")?,
            )
            .batch_counters(crate::rate_limit::WINDOW);
    }
    if let Err(e) = cache.ping().await {
        tracing::warn!(error = %e, "cache unreachable at start; serving from the database until it answers");
    }

    let http = reqwest::Client::builder()
        .timeout(settings.outbound_timeout)
        .connect_timeout(settings.outbound_timeout)
        .build()
        .context("building the HTTP client")?;
    let webhook_http = crate::outbound::GuardedClient::new(
        settings.webhook_allowed_hosts.clone(),
        settings.app_env == crate::config::AppEnv::Production,
        settings.outbound_timeout,
    )
    .context("building the webhook client")?;
    let pay = match (&settings.wechatpay, &settings.wechat) {
        (Some(p), Some(w)) => {
            let read = |path: &std::path::Path| {
                std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
            };
            let config = WechatPayConfig {
                appid: w.appid.clone(),
                mchid: p.mchid.clone(),
                merchant_serial: p.merchant_serial.clone(),
                merchant_key_pem: read(&p.merchant_key_file)?,
                apiv3_key: p.apiv3_key.expose().to_string(),
                platform_public_key_pem: read(&p.public_key_file)?,
                platform_public_key_id: p.public_key_id.clone(),
                api_base: p.api_base.clone(),
                notify_url: p.notify_url.clone(),
            };
            Some(Arc::new(
                WechatPay::new(config).context("WeChat Pay settings")?,
            ))
        }
        _ => None,
    };
    let (placer, orders) = crate::modules::order::batch::queue();
    let (payer, payments) = crate::modules::order::pay_batch::queue();
    let mut parts = http::Extensions::new();
    parts.insert(placer);
    parts.insert(payer);
    parts.insert(crate::modules::customer::service::Referrers::default());
    parts.insert(crate::modules::wechat_platform::service::TradeManaged::default());
    parts.insert(
        crate::modules::operations::service::KeywordSearch::detect(&db)
            .await
            .context("checking the customer keyword index")?,
    );
    let wechat_api = settings.wechat.clone().map(|w| {
        Arc::new(crate::wechat::api::WechatApi::new(
            http.clone(),
            w,
            cache.clone(),
        ))
    });
    let state = AppState {
        pay,
        wechat_api,
        jwt: Arc::new(JwtKeys::new(
            settings.jwt_secret.expose(),
            settings.access_token_ttl,
        )),
        db,
        cache,
        settings: Arc::new(settings),
        http,
        webhook_http,
        db_statements,
        parts: Arc::new(parts),
    };
    crate::modules::order::batch::spawn(state.clone(), orders);
    crate::modules::order::pay_batch::spawn(state.clone(), payments);
    crate::modules::wechat_platform::service::check_at_start(&state);
    // After the cache is up: a changed password ends the admin's sessions there.
    if let (Some(user), Some(pass)) = (
        &state.settings.admin_username,
        &state.settings.admin_password,
    ) {
        ensure_admin(&state, user, pass.expose())
            .await
            .map_err(|e| anyhow::anyhow!("setting up the admin: {e:?}"))?;
    } else if state.settings.demo_mode() {
        // `cargo run` on a fresh clone must let someone into /admin with no
        // configuration. Demo mode is never on in production, and a
        // configured ADMIN_USERNAME replaces this account's role as the way in.
        ensure_admin(&state, DEMO_ADMIN_USERNAME, DEMO_ADMIN_PASSWORD)
            .await
            .map_err(|e| anyhow::anyhow!("setting up the demo admin: {e:?}"))?;
        tracing::warn!(
            "demo mode without ADMIN_USERNAME: the admin console at /admin takes the demo owner {DEMO_ADMIN_USERNAME} / {DEMO_ADMIN_PASSWORD}"
        );
    }
    Ok(state)
}

fn run(
    listener: TcpListener,
    metrics_listener: Option<TcpListener>,
    state: AppState,
) -> anyhow::Result<(Server, Option<(u16, Server)>)> {
    let schemas: Schemas = graphql::build_schema(state.clone());
    let registry = crate::metrics::registry(state.db.clone(), state.db_statements.clone())?;
    let settings = state.settings.clone();
    // In production the public listener keeps /metrics to itself unless
    // METRICS_BIND gives it a listener of its own.
    let metrics_here =
        settings.metrics_bind.is_none() && settings.app_env == crate::config::AppEnv::Development;
    let public_registry = web::Data::new(registry.clone());
    let metrics = match metrics_listener {
        Some(l) => Some((l.local_addr()?.port(), crate::metrics::serve(l, registry)?)),
        None => None,
    };
    let workers = state.settings.workers;
    let guard = web::Data::new(graphql::guard::Guard::new(&schemas.reads.sdl(), &settings));
    let schemas = web::Data::new(schemas);
    let responses = web::Data::new(graphql::response_cache::ResponseCache::new(
        settings.response_cache_max_bytes,
    ));
    let data = web::Data::new(state);
    let origins = settings.cors_allowed_origins.clone();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(
                crate::app::edge::body_deadline,
            ))
            .wrap(crate::app::edge::cors(&origins))
            .wrap(actix_web::middleware::from_fn(
                crate::app::access_log::middleware,
            ))
            .app_data(schemas.clone())
            .app_data(guard.clone())
            .app_data(responses.clone())
            .app_data(data.clone())
            .route("/graphql", web::post().to(graphql::graphql))
            .configure(|cfg| {
                if metrics_here {
                    cfg.app_data(public_registry.clone())
                        .route("/metrics", web::get().to(crate::metrics::scrape));
                }
            })
            .configure(super::graphiql::routes)
            .configure(super::admin_console::routes)
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .route(
                "/webhooks/wechat-pay",
                web::post().to(super::webhooks::wechat_pay),
            )
            .route(
                "/webhooks/wechat-transfer",
                web::post().to(super::transfer_webhook::wechat_transfer),
            )
            .route(
                "/webhooks/wechat-message",
                web::get().to(super::wechat_message::verify_url),
            )
            .route(
                "/webhooks/wechat-message",
                web::post().to(super::wechat_message::receive),
            )
            .route("/share-codes/{file}", web::get().to(share_code_image))
            .route(
                "/exports/supplier-payables.csv",
                web::get().to(super::exports::supplier_payables),
            )
            .route("/exports/orders.csv", web::get().to(super::exports::orders))
            .route(
                "/exports/withdrawals.csv",
                web::get().to(super::exports::withdrawals),
            )
            .route(
                "/exports/customers.csv",
                web::get().to(super::exports::customers),
            )
            .route(
                "/exports/fulfillments.csv",
                web::get().to(super::exports::fulfillments),
            )
            .default_service(web::to(not_found))
    })
    .shutdown_timeout(30)
    .client_request_timeout(settings.client_request_timeout)
    .listen(listener)?;
    if let Some(n) = workers {
        server = server.workers(n);
    }
    Ok((server.run(), metrics))
}

/// The process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// Ready to serve: the database answers. A cache that does not answer makes
/// the instance `degraded` (still serving, from the database), not unready.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let db_ok = state.db.ping().await.is_ok();
    let cache = state.cache.ping().await;
    let cache_status = if cache.is_ok() { "ok" } else { "unreachable" };
    let status = match (db_ok, cache.is_ok()) {
        (false, _) => "unavailable",
        (true, false) => "degraded",
        (true, true) => "ready",
    };
    let code = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    HttpResponse::build(code).json(json!({
        "status": status,
        "database": if db_ok { "ok" } else { "unreachable" },
        "cache": { "kind": state.cache.kind(), "status": cache_status },
    }))
}

/// `GET /share-codes/<token>.png`: a share code's image, as stored when it
/// was generated (it never changes, so clients may keep it for a year).
async fn share_code_image(file: web::Path<String>, state: web::Data<AppState>) -> HttpResponse {
    let Some(token) = file.strip_suffix(".png").filter(|t| !t.is_empty()) else {
        return not_found().await;
    };
    match crate::modules::wechat_platform::service::share_code_image(&state, token).await {
        Ok(Some((content_type, image))) => HttpResponse::Ok()
            .content_type(content_type)
            .insert_header(("cache-control", "public, max-age=31536000, immutable"))
            .body(image),
        Ok(None) => not_found().await,
        Err(e) => {
            tracing::error!(error = ?e, "reading a share code image");
            HttpResponse::InternalServerError().finish()
        }
    }
}

async fn not_found() -> HttpResponse {
    graphql::json_error(
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "no such endpoint; the API is POST /graphql",
    )
}
