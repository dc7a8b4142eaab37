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
    /// WeChat Pay, when configured.
    pub pay: Option<Arc<WechatPay>>,
    /// Each customer's inviter, as read. It is bound when the customer is
    /// created and never changes, so every instance may keep its own copy
    /// (`customer::service::referrer_of`); payments would otherwise read it
    /// on every order.
    pub referrers: moka::future::Cache<i64, Option<i64>>,
    /// The queue in front of the order batch writer (`order::batch`).
    pub placer: crate::modules::order::batch::Placer,
}

/// The client's IP address, for per-IP limits.
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);
