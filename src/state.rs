//! What every request can reach: the database, the cache, settings and clients.
use std::sync::{Arc, atomic::AtomicU64};

use sea_orm::DatabaseConnection;

use crate::{auth::token::JwtKeys, cache::Cache, config::Settings, wechat::pay::WechatPay};

/// Shared, cheap to clone; instances share nothing else in memory.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub cache: Cache,
    pub settings: Arc<Settings>,
    pub jwt: Arc<JwtKeys>,
    /// Outbound HTTP (WeChat), with a time-out on every call.
    pub http: reqwest::Client,
    /// Supplier webhooks: no redirects, public addresses only (`outbound`).
    pub webhook_http: crate::outbound::GuardedClient,
    /// SQL statements run through `db` (see `db::connect`).
    pub db_statements: Arc<AtomicU64>,
    /// WeChat's mini-program server API (access_token and calls), when
    /// WeChat is configured.
    pub wechat_api: Option<Arc<crate::wechat::api::WechatApi>>,
    /// WeChat Pay, when configured.
    pub pay: Option<Arc<WechatPay>>,
    /// Each domain's runtime parts (the order batch queue, the customer
    /// domain's inviter memo), installed at start-up and reached through
    /// their domain: the kernel does not know their types.
    pub parts: Arc<http::Extensions>,
}

impl AppState {
    /// A domain's runtime part. Start-up installs every part before the
    /// state is shared, so a missing one is a programming error.
    pub fn part<T: Send + Sync + 'static>(&self) -> &T {
        self.parts.get::<T>().unwrap_or_else(|| {
            panic!(
                "{} is not installed in AppState::parts",
                std::any::type_name::<T>()
            )
        })
    }
}

/// The client's IP address, for per-IP limits.
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);
