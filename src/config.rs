//! Settings, read once from the environment (and `.env` when present).
//!
//! With nothing set the server runs the embedded demo: SQLite under `./data`,
//! the in-process cache, demo WeChat login. `APP_ENV=production` turns every
//! missing secret into a start-up error instead of a silent default.
use std::{path::PathBuf, time::Duration};

use anyhow::{Context, bail};

/// Where the server runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    Development,
    Production,
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// A secret that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Mini-program credentials for `jscode2session`.
#[derive(Clone, Debug)]
pub struct WechatSettings {
    pub appid: String,
    pub secret: Secret,
    pub api_base: String,
}

/// Days since the last purchase up to which a buyer is ACTIVE, SILENT and
/// SLEEPING; past the last, CHURNED.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LifecycleThresholds {
    pub active_days: i64,
    pub silent_days: i64,
    pub sleeping_days: i64,
}

impl Default for LifecycleThresholds {
    fn default() -> Self {
        LifecycleThresholds {
            active_days: 30,
            silent_days: 90,
            sleeping_days: 180,
        }
    }
}

/// Everything the application reads from its environment.
#[derive(Clone, Debug)]
pub struct Settings {
    pub bind: String,
    pub app_env: AppEnv,
    pub database_url: String,
    /// PostgreSQL schema to use (tests isolate themselves this way); `None` = default.
    pub database_schema: Option<String>,
    pub redis_url: Option<String>,
    /// Prefix of every cache key, so that several deployments (or tests) can share one Redis.
    pub cache_prefix: String,
    pub jwt_secret: Secret,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// A refresh token presented again within this of its first use gets
    /// the same new pair (concurrent refreshes of one client) instead of
    /// revoking its family; zero = every second use revokes.
    pub refresh_reuse_grace: Duration,
    pub admin_username: Option<String>,
    pub admin_password: Option<Secret>,
    /// Login attempts per client IP per minute; 0 turns the limit off.
    pub login_rate_limit_per_min: u32,
    /// `/graphql` requests per client IP per minute; 0 turns the limit off.
    pub graphql_rate_limit_per_min: u32,
    /// `None` = demo mode (only in development).
    pub wechat: Option<WechatSettings>,
    /// Timeout of every outbound HTTP call.
    pub outbound_timeout: Duration,
    pub log_format: LogFormat,
    pub graphiql: bool,
    pub introspection: bool,
    /// Proxies in front of the server that append to `X-Forwarded-For`: the
    /// client is the address this many hops from the right (0: the header is
    /// ignored, the socket peer is the client). See `forwarded`.
    pub trusted_proxies: usize,
    /// Demo mode: WeChat login by `demo:<name>` and `demoPay` (see `demo_mode`).
    pub demo: bool,
    /// Supplier webhook targets admitted although they resolve to a loopback
    /// or private address (`WEBHOOK_ALLOWED_HOSTS`).
    pub webhook_allowed_hosts: Vec<crate::outbound::AllowedHost>,
    /// Start-up warnings about the settings (deprecated names), logged once
    /// logging is up.
    pub notices: Vec<String>,
    pub max_body_bytes: usize,
    pub max_batch: usize,
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Seed the demo store into an empty database at start.
    pub seed_demo: bool,
    /// The whole-response cache holds at most this many bytes.
    pub response_cache_max_bytes: u64,
    /// A request's head, and then its body, must arrive within this.
    pub client_request_timeout: Duration,
    /// A second listen address that serves `/metrics` (and the public one then does not).
    pub metrics_bind: Option<String>,
    /// Browser origins allowed to call the API (CORS); empty = none.
    pub cors_allowed_origins: Vec<String>,
    /// HTTP worker threads; `None` = one per core.
    pub workers: Option<usize>,
    /// Hot products rank by units sold in this many recent days.
    pub hot_window_days: u32,
    /// Flat shipping fee (fen).
    pub shipping_fee_fen: i64,
    /// Goods (after discounts) from this amount ship free (fen).
    pub free_shipping_from_fen: i64,
    /// Unpaid orders are cancelled after this many minutes.
    pub order_payment_timeout_mins: u32,
    /// Unpaid orders one customer may hold (0: no cap).
    pub max_unpaid_orders_per_customer: u32,
    /// Units of one SKU one customer may hold in unpaid orders (0: no cap).
    pub max_unpaid_units_per_sku: u32,
    /// Order placements per customer per minute (0: no limit).
    pub order_rate_limit_per_min: u32,
    /// Days after shipping that a supplier still reads the recipient.
    pub supplier_address_days: u32,
    /// Days after completion that a customer may still ask for a refund.
    pub after_sales_days: u32,
    /// Days a buyer has to ship an approved return before it is closed.
    pub return_ship_days: u32,
    /// Whether a refund of shipped goods the buyer keeps (`REFUND_ONLY`)
    /// comes off the supplier's payable (the supplier bears it) or not
    /// (the store does).
    pub refund_only_charges_supplier: bool,
    /// Where returns of what the store ships itself go (and those of a
    /// supplier without a return address of its own).
    pub store_return_address: Option<String>,
    /// Shipped orders complete by themselves after this many days.
    pub auto_complete_days: u32,
    /// A WeChat refund without a final word for this many minutes is
    /// queried by the jobs pass.
    pub refund_query_after_mins: u32,
    /// How long the order batch writer waits for more orders once the first
    /// of a batch has arrived (0: it takes only those already waiting).
    pub order_batch_window: std::time::Duration,
    /// Days since the last purchase up to which a buyer is ACTIVE, SILENT
    /// and SLEEPING (past the last: CHURNED).
    pub lifecycle: LifecycleThresholds,
    /// WeChat Pay API v3; `None` = no WeChat Pay (demo pay in demo mode).
    pub wechatpay: Option<WechatPaySettings>,
    /// Run the background jobs loop in this instance.
    pub jobs: bool,
    /// Smallest commission withdrawal (fen).
    pub min_withdrawal_fen: i64,
    /// Commission withdrawals paid through WeChat Pay's merchant transfer;
    /// `None` = paid by hand and recorded by an admin.
    pub transfer: Option<TransferSettings>,
    /// Withdrawals up to this are approved without an admin (transfers
    /// only; 0 = never), within the daily caps below.
    pub withdrawal_auto_approve_fen: i64,
    /// What one promoter may have approved automatically per China day.
    pub withdrawal_auto_daily_cap_fen: i64,
    /// What the whole store approves automatically per China day.
    pub withdrawal_auto_store_daily_cap_fen: i64,
    /// Membership and top-up orders earn commissions too.
    pub commission_on_plans: bool,
    /// Upload the shipping information of WeChat Pay payments to WeChat
    /// (`WECHAT_SHIPPING_UPLOAD`; needs WeChat credentials).
    pub wechat_shipping_upload: bool,
    /// The mini-program page a share code opens when the caller names none
    /// (`WECHAT_SHARE_PAGE`).
    pub wechat_share_page: String,
    /// `release`, `trial` or `develop`: which version of the mini-program
    /// a share code opens (`WECHAT_SHARE_ENV_VERSION`).
    pub wechat_share_env_version: String,
    /// Where clients reach this server (`PUBLIC_BASE_URL`, no trailing
    /// slash): share-code image URLs start with it; empty = a path only.
    pub public_base_url: String,
    /// Subscription-message template ids by event (`WECHAT_SUBSCRIBE_TEMPLATES`).
    pub wechat_subscribe_templates: Vec<(String, String)>,
    /// How a message of each event is filled, where the store set it
    /// (`WECHAT_SUBSCRIBE_PAGE_<EVENT>`, `WECHAT_SUBSCRIBE_DATA_<EVENT>`);
    /// `wechat_platform::subscription` has the defaults.
    pub wechat_subscribe_layouts: Vec<SubscribeLayout>,
    /// The token of WeChat's message push (`WECHAT_MESSAGE_TOKEN`); unset =
    /// `/webhooks/wechat-message` answers 404.
    pub wechat_message_token: Option<Secret>,
    /// The 43-character EncodingAESKey of the security mode
    /// (`WECHAT_MESSAGE_AES_KEY`); unset = plain-text mode.
    pub wechat_message_aes_key: Option<Secret>,
}

/// The events a subscription-message template can serve.
pub const SUBSCRIBE_EVENTS: [&str; 4] = [
    "ORDER_SHIPPED",
    "REFUND_RESULT",
    "COMMISSION_SETTLED",
    "WITHDRAWAL_PAID",
];

/// A store's own page and fields for an event's messages.
#[derive(Clone, Debug, Default)]
pub struct SubscribeLayout {
    pub event: String,
    /// The page opened, `{placeholder}`s filled in.
    pub page: Option<String>,
    /// (template keyword, value with `{placeholder}`s), e.g. `thing2`, `{carrier}`.
    pub data: Option<Vec<(String, String)>>,
}

/// `WECHAT_SUBSCRIBE_PAGE_<EVENT>` and `WECHAT_SUBSCRIBE_DATA_<EVENT>`
/// (`keyword=value` pairs separated by `;`).
fn subscribe_layouts(
    get: &impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Vec<SubscribeLayout>> {
    let mut out = Vec::new();
    for event in SUBSCRIBE_EVENTS {
        let page = get(&format!("WECHAT_SUBSCRIBE_PAGE_{event}"))
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty());
        if let Some(p) = &page
            && (p.starts_with('/') || p.len() > 256)
        {
            bail!(
                "WECHAT_SUBSCRIBE_PAGE_{event}: a page path without a leading / (at most 256 characters)"
            );
        }
        let data = match get(&format!("WECHAT_SUBSCRIBE_DATA_{event}")) {
            None => None,
            Some(spec) => {
                let mut fields = Vec::new();
                for pair in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
                    let Some((key, value)) = pair.split_once('=') else {
                        bail!(
                            "WECHAT_SUBSCRIBE_DATA_{event} takes keyword=value pairs separated by ;, not {pair:?}"
                        );
                    };
                    let key = key.trim();
                    if key.is_empty()
                        || key.len() > 32
                        || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        bail!(
                            "WECHAT_SUBSCRIBE_DATA_{event}: {key:?} is not a template keyword such as thing1"
                        );
                    }
                    fields.push((key.to_string(), value.trim().to_string()));
                }
                if fields.is_empty() {
                    bail!("WECHAT_SUBSCRIBE_DATA_{event} names no field");
                }
                Some(fields)
            }
        };
        if page.is_some() || data.is_some() {
            out.push(SubscribeLayout {
                event: event.to_string(),
                page,
                data,
            });
        }
    }
    Ok(out)
}

/// `WECHAT_SUBSCRIBE_TEMPLATES`: `EVENT=templateId` pairs, comma-separated.
fn subscribe_templates(value: Option<&str>) -> anyhow::Result<Vec<(String, String)>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((event, id)) = pair.split_once('=') else {
            bail!("WECHAT_SUBSCRIBE_TEMPLATES takes EVENT=templateId pairs, not {pair:?}");
        };
        let (event, id) = (event.trim().to_ascii_uppercase(), id.trim().to_string());
        if !SUBSCRIBE_EVENTS.contains(&event.as_str()) {
            bail!(
                "WECHAT_SUBSCRIBE_TEMPLATES: unknown event {event:?} (one of {})",
                SUBSCRIBE_EVENTS.join(", ")
            );
        }
        if id.is_empty() || id.len() > 64 || out.iter().any(|(e, _)| *e == event) {
            bail!(
                "WECHAT_SUBSCRIBE_TEMPLATES: one template id (1-64 characters) per event, {event} is not"
            );
        }
        out.push((event, id));
    }
    Ok(out)
}

/// Merchant transfer (商家转账) settings, on top of WeChat Pay's.
#[derive(Clone, Debug)]
pub struct TransferSettings {
    /// `WECHATPAY_TRANSFER_SCENE_ID`, e.g. `1005` (佣金报酬).
    pub scene_id: String,
    /// `transfer_scene_report_infos` the scene requires.
    pub report_infos: Vec<(String, String)>,
    /// Shown to the promoter with the transfer (at most 32 characters).
    pub remark: String,
    /// Where WeChat Pay posts transfer notifications.
    pub notify_url: String,
    /// A bill WeChat Pay has not finished is queried after this many minutes.
    pub query_after_mins: u32,
    /// A bill the promoter has not confirmed after this many minutes is
    /// cancelled (WeChat Pay closes unconfirmed bills after 24 hours).
    pub confirm_expire_mins: u32,
}

/// WeChat Pay API v3 merchant settings (key material is read from files).
#[derive(Clone, Debug)]
pub struct WechatPaySettings {
    pub mchid: String,
    pub merchant_serial: String,
    pub merchant_key_file: PathBuf,
    pub apiv3_key: Secret,
    pub public_key_file: PathBuf,
    pub public_key_id: String,
    pub api_base: String,
    pub notify_url: String,
}

impl Settings {
    /// Demo mode: WeChat login by `demo:<name>` and `demoPay`. Never in
    /// production, never on a reachable address unless asked for (`demo`).
    pub fn demo_mode(&self) -> bool {
        self.demo
    }

    /// Reads the process environment (after loading `.env` when present).
    pub fn from_env() -> anyhow::Result<Self> {
        let _ = dotenvy::dotenv();
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds settings from any lookup function, so tests can check the rules
    /// without touching the process environment.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let app_env = match get("APP_ENV").as_deref() {
            None | Some("development") => AppEnv::Development,
            Some("production") => AppEnv::Production,
            Some(other) => bail!("APP_ENV must be development or production, not {other:?}"),
        };
        let prod = app_env == AppEnv::Production;

        if prod {
            let mut missing = Vec::new();
            for key in [
                "JWT_SECRET",
                "DATABASE_URL",
                "WECHAT_APPID",
                "WECHAT_SECRET",
            ] {
                if get(key).is_none() {
                    missing.push(key);
                }
            }
            if !missing.is_empty() {
                bail!(
                    "APP_ENV=production requires {} to be set",
                    missing.join(", ")
                );
            }
        }

        let jwt_secret = match get("JWT_SECRET") {
            Some(s) if s.len() >= 32 => Secret::new(s),
            Some(_) => bail!("JWT_SECRET must be at least 32 bytes long"),
            None => Secret::new(dev_jwt_secret()?),
        };

        let wechat = match (get("WECHAT_APPID"), get("WECHAT_SECRET")) {
            (Some(appid), Some(secret)) => Some(WechatSettings {
                appid,
                secret: Secret::new(secret),
                api_base: get("WECHAT_API_BASE")
                    .unwrap_or_else(|| "https://api.weixin.qq.com".into())
                    .trim_end_matches('/')
                    .to_string(),
            }),
            (None, None) => None,
            _ => bail!("WECHAT_APPID and WECHAT_SECRET must be set together"),
        };

        let wechatpay = match get("WECHATPAY_MCHID") {
            None => None,
            Some(mchid) => {
                let need = |key: &str| {
                    get(key)
                        .with_context(|| format!("WECHATPAY_MCHID is set, so {key} must be too"))
                };
                if wechat.is_none() {
                    bail!(
                        "WeChat Pay needs WECHAT_APPID and WECHAT_SECRET (the mini-program pays with its appid)"
                    );
                }
                let apiv3_key = need("WECHATPAY_APIV3_KEY")?;
                if apiv3_key.len() != 32 {
                    bail!("WECHATPAY_APIV3_KEY must be 32 bytes");
                }
                Some(WechatPaySettings {
                    mchid,
                    merchant_serial: need("WECHATPAY_MERCHANT_SERIAL")?,
                    merchant_key_file: need("WECHATPAY_MERCHANT_KEY_FILE")?.into(),
                    apiv3_key: Secret::new(apiv3_key),
                    public_key_file: need("WECHATPAY_PUBLIC_KEY_FILE")?.into(),
                    public_key_id: need("WECHATPAY_PUBLIC_KEY_ID")?,
                    api_base: get("WECHATPAY_API_BASE")
                        .unwrap_or_else(|| "https://api.mch.weixin.qq.com".into())
                        .trim_end_matches('/')
                        .to_string(),
                    notify_url: need("WECHATPAY_NOTIFY_URL")?,
                })
            }
        };

        let transfer = transfer_settings(&get, wechatpay.as_ref())?;

        let database_url = get("DATABASE_URL").unwrap_or_else(|| "sqlite://./data/siyu.db".into());
        if !(database_url.starts_with("sqlite:") || database_url.starts_with("postgres")) {
            bail!("DATABASE_URL must start with sqlite: or postgres://");
        }

        let admin_username = get("ADMIN_USERNAME");
        let admin_password = get("ADMIN_PASSWORD").map(Secret::new);
        if admin_username.is_some() != admin_password.is_some() {
            bail!("ADMIN_USERNAME and ADMIN_PASSWORD must be set together");
        }
        if prod
            && admin_password
                .as_ref()
                .is_some_and(|p| p.expose().len() < 12)
        {
            bail!("ADMIN_PASSWORD must be at least 12 characters in production");
        }

        let cors_allowed_origins = cors_origins(get("CORS_ALLOWED_ORIGINS").as_deref())?;

        let log_format = match get("LOG_FORMAT").as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("LOG_FORMAT must be text or json, not {other:?}"),
        };
        let bind = get("BIND").unwrap_or_else(|| "127.0.0.1:8080".into());
        let demo = demo(&get, prod, wechat.is_some(), &bind)?;
        let mut notices = Vec::new();
        let trusted_proxies = trusted_proxies(&get, &mut notices)?;
        let webhook_allowed_hosts = match get("WEBHOOK_ALLOWED_HOSTS") {
            Some(list) => crate::outbound::AllowedHost::parse_list(&list)
                .map_err(|e| anyhow::anyhow!("WEBHOOK_ALLOWED_HOSTS: {e}"))?,
            None => Vec::new(),
        };
        let wechat_shipping_upload = parse_bool(&get, "WECHAT_SHIPPING_UPLOAD")?.unwrap_or(false);
        if wechat_shipping_upload && wechat.is_none() {
            bail!("WECHAT_SHIPPING_UPLOAD=true needs WECHAT_APPID and WECHAT_SECRET");
        }
        let wechat_share_env_version =
            get("WECHAT_SHARE_ENV_VERSION").unwrap_or_else(|| "release".into());
        if !["release", "trial", "develop"].contains(&wechat_share_env_version.as_str()) {
            bail!("WECHAT_SHARE_ENV_VERSION must be release, trial or develop");
        }
        let wechat_share_page =
            get("WECHAT_SHARE_PAGE").unwrap_or_else(|| "pages/index/index".into());
        if !valid_page(&wechat_share_page) {
            bail!(
                "WECHAT_SHARE_PAGE must be a mini-program page path such as pages/index/index (no leading /)"
            );
        }
        let wechat_message_token = get("WECHAT_MESSAGE_TOKEN").map(Secret::new);
        let wechat_message_aes_key = get("WECHAT_MESSAGE_AES_KEY").map(Secret::new);
        if let Some(key) = &wechat_message_aes_key {
            if crate::wechat::message::aes_key(key.expose()).is_none() {
                bail!("WECHAT_MESSAGE_AES_KEY must be the 43-character EncodingAESKey");
            }
            if wechat_message_token.is_none() || wechat.is_none() {
                bail!("WECHAT_MESSAGE_AES_KEY needs WECHAT_MESSAGE_TOKEN and WECHAT_APPID");
            }
        }
        let seed_demo = parse_bool(&get, "SEED_DEMO")?.unwrap_or(!prod);
        if prod && seed_demo {
            bail!("SEED_DEMO cannot be on in production");
        }

        Ok(Self {
            bind,
            app_env,
            database_url,
            database_schema: None,
            redis_url: get("REDIS_URL"),
            cache_prefix: get("CACHE_PREFIX").unwrap_or_else(|| "siyu".into()),
            jwt_secret,
            access_token_ttl: Duration::from_secs(
                parse_num(&get, "ACCESS_TOKEN_TTL_SECS")?.unwrap_or(7200),
            ),
            refresh_token_ttl: Duration::from_secs(
                parse_num(&get, "REFRESH_TOKEN_TTL_SECS")?.unwrap_or(30 * 24 * 3600),
            ),
            refresh_reuse_grace: Duration::from_secs(
                parse_num(&get, "REFRESH_REUSE_GRACE_SECS")?.unwrap_or(10),
            ),
            admin_username,
            admin_password,
            login_rate_limit_per_min: parse_num(&get, "LOGIN_RATE_LIMIT_PER_MIN")?.unwrap_or(60),
            graphql_rate_limit_per_min: parse_num(&get, "GRAPHQL_RATE_LIMIT_PER_MIN")?
                .unwrap_or(1200),
            wechat,
            outbound_timeout: Duration::from_millis(
                parse_num(&get, "OUTBOUND_TIMEOUT_MS")?.unwrap_or(5000),
            ),
            log_format,
            graphiql: parse_bool(&get, "GRAPHIQL")?.unwrap_or(!prod),
            introspection: parse_bool(&get, "INTROSPECTION")?.unwrap_or(!prod),
            trusted_proxies,
            demo,
            webhook_allowed_hosts,
            notices,
            max_body_bytes: parse_num(&get, "MAX_BODY_BYTES")?.unwrap_or(1024 * 1024),
            max_batch: parse_num(&get, "MAX_BATCH")?.unwrap_or(10),
            max_depth: parse_num(&get, "MAX_QUERY_DEPTH")?.unwrap_or(12),
            max_complexity: parse_num(&get, "MAX_QUERY_COMPLEXITY")?.unwrap_or(2000),
            seed_demo,
            response_cache_max_bytes: parse_num(&get, "RESPONSE_CACHE_MAX_BYTES")?
                .unwrap_or(64 * 1024 * 1024),
            client_request_timeout: Duration::from_millis(
                parse_num(&get, "CLIENT_REQUEST_TIMEOUT_MS")?.unwrap_or(10_000),
            ),
            metrics_bind: get("METRICS_BIND"),
            cors_allowed_origins,
            workers: parse_num(&get, "WORKERS")?,
            hot_window_days: parse_num(&get, "HOT_WINDOW_DAYS")?.unwrap_or(30),
            shipping_fee_fen: parse_num(&get, "SHIPPING_FEE_FEN")?.unwrap_or(800),
            free_shipping_from_fen: parse_num(&get, "FREE_SHIPPING_FROM_FEN")?.unwrap_or(9900),
            order_payment_timeout_mins: parse_num(&get, "ORDER_PAYMENT_TIMEOUT_MINS")?
                .unwrap_or(30),
            auto_complete_days: parse_num(&get, "AUTO_COMPLETE_DAYS")?.unwrap_or(10),
            refund_query_after_mins: parse_num(&get, "REFUND_QUERY_AFTER_MINS")?.unwrap_or(10),
            order_batch_window: std::time::Duration::from_millis(
                parse_num(&get, "ORDER_BATCH_WINDOW_MS")?.unwrap_or(0),
            ),
            lifecycle: lifecycle(&get)?,
            wechatpay,
            jobs: parse_bool(&get, "JOBS")?.unwrap_or(true),
            min_withdrawal_fen: parse_num(&get, "MIN_WITHDRAWAL_FEN")?.unwrap_or(100),
            transfer,
            withdrawal_auto_approve_fen: parse_num(&get, "WITHDRAWAL_AUTO_APPROVE_FEN")?
                .unwrap_or(0),
            withdrawal_auto_daily_cap_fen: parse_num(&get, "WITHDRAWAL_AUTO_DAILY_CAP_FEN")?
                .unwrap_or(50_000),
            withdrawal_auto_store_daily_cap_fen: parse_num(
                &get,
                "WITHDRAWAL_AUTO_STORE_DAILY_CAP_FEN",
            )?
            .unwrap_or(1_000_000),
            max_unpaid_orders_per_customer: parse_num(&get, "MAX_UNPAID_ORDERS_PER_CUSTOMER")?
                .unwrap_or(5),
            max_unpaid_units_per_sku: parse_num(&get, "MAX_UNPAID_UNITS_PER_SKU")?.unwrap_or(50),
            order_rate_limit_per_min: parse_num(&get, "ORDER_RATE_LIMIT_PER_MIN")?.unwrap_or(20),
            supplier_address_days: parse_num(&get, "SUPPLIER_ADDRESS_DAYS")?.unwrap_or(30),
            after_sales_days: parse_num(&get, "AFTER_SALES_DAYS")?.unwrap_or(15),
            return_ship_days: parse_num(&get, "RETURN_SHIP_DAYS")?.unwrap_or(7),
            refund_only_charges_supplier: parse_bool(&get, "REFUND_ONLY_CHARGES_SUPPLIER")?
                .unwrap_or(true),
            store_return_address: get("STORE_RETURN_ADDRESS")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            commission_on_plans: parse_bool(&get, "COMMISSION_ON_PLANS")?.unwrap_or(false),
            wechat_shipping_upload,
            wechat_share_page,
            wechat_share_env_version,
            public_base_url: get("PUBLIC_BASE_URL")
                .unwrap_or_default()
                .trim_end_matches('/')
                .to_string(),
            wechat_subscribe_templates: subscribe_templates(
                get("WECHAT_SUBSCRIBE_TEMPLATES").as_deref(),
            )?,
            wechat_subscribe_layouts: subscribe_layouts(&get)?,
            wechat_message_token,
            wechat_message_aes_key,
        })
    }
}

/// `WECHATPAY_TRANSFER_*`: transfers need WeChat Pay and a scene id.
fn transfer_settings(
    get: &impl Fn(&str) -> Option<String>,
    wechatpay: Option<&WechatPaySettings>,
) -> anyhow::Result<Option<TransferSettings>> {
    let Some(scene_id) = get("WECHATPAY_TRANSFER_SCENE_ID") else {
        return Ok(None);
    };
    let Some(pay) = wechatpay else {
        bail!("WECHATPAY_TRANSFER_SCENE_ID needs WeChat Pay (WECHATPAY_MCHID and the rest)");
    };
    if scene_id.len() > 36 || !scene_id.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!("WECHATPAY_TRANSFER_SCENE_ID must be letters and digits (e.g. 1005)");
    }
    // 佣金报酬 (1005) asks for the payee's role and what the pay is for.
    let infos = get("WECHATPAY_TRANSFER_REPORT_INFOS")
        .unwrap_or_else(|| "岗位类型=推广员;报酬说明=分销佣金".into());
    let report_infos = infos
        .split(';')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .map(|i| match i.split_once('=') {
            Some((t, c)) if !t.trim().is_empty() && !c.trim().is_empty() => {
                Ok((t.trim().to_string(), c.trim().to_string()))
            }
            _ => bail!("WECHATPAY_TRANSFER_REPORT_INFOS takes type=content pairs separated by ';'"),
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let remark = get("WECHATPAY_TRANSFER_REMARK").unwrap_or_else(|| "推广佣金提现".into());
    if remark.chars().count() > 32 {
        bail!("WECHATPAY_TRANSFER_REMARK must be at most 32 characters");
    }
    // Next to the payment notifications unless said otherwise.
    let notify_url = match get("WECHATPAY_TRANSFER_NOTIFY_URL") {
        Some(u) => u,
        None => {
            let url = reqwest::Url::parse(&pay.notify_url)
                .context("WECHATPAY_NOTIFY_URL is not a URL")?;
            format!(
                "{}/webhooks/wechat-transfer",
                url.origin().ascii_serialization()
            )
        }
    };
    Ok(Some(TransferSettings {
        scene_id,
        report_infos,
        remark,
        notify_url,
        query_after_mins: parse_num(get, "TRANSFER_QUERY_AFTER_MINS")?.unwrap_or(10),
        confirm_expire_mins: parse_num(get, "TRANSFER_CONFIRM_EXPIRE_MINS")?.unwrap_or(24 * 60),
    }))
}

/// A mini-program page path as WeChat takes it: `pages/index/index`, no
/// leading slash, no query.
pub fn valid_page(page: &str) -> bool {
    !page.is_empty()
        && page.len() <= 128
        && !page.starts_with('/')
        && page
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'))
}

/// `CORS_ALLOWED_ORIGINS`: comma-separated origins such as
/// `https://admin.example.com`. A wildcard is refused: the admin panel's
/// origin is known, and `*` would let any page drive a logged-in browser's calls.
fn cors_origins(value: Option<&str>) -> anyhow::Result<Vec<String>> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    value
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|o| {
            let host = o
                .strip_prefix("https://")
                .or_else(|| o.strip_prefix("http://"));
            match host {
                Some(h) if !h.is_empty() && !h.contains(['/', '*', ' ']) => Ok(o.to_string()),
                _ => bail!(
                    "CORS_ALLOWED_ORIGINS takes origins like https://admin.example.com (scheme, host, optional port), not {o:?}"
                ),
            }
        })
        .collect()
}

/// Demo logins let anyone sign in as anyone: fine on a laptop, not on an
/// address others can reach. Off the loopback interface the demo runs only
/// when `DEMO=true` asks for it.
fn demo(
    get: &impl Fn(&str) -> Option<String>,
    prod: bool,
    wechat_configured: bool,
    bind: &str,
) -> anyhow::Result<bool> {
    match parse_bool(get, "DEMO")? {
        Some(true) if prod => bail!("DEMO=true is refused with APP_ENV=production"),
        Some(true) if wechat_configured => {
            bail!("DEMO=true cannot be combined with WECHAT_APPID and WECHAT_SECRET")
        }
        Some(asked) => Ok(asked),
        None => {
            let demo = !prod && !wechat_configured;
            if demo && !is_loopback_bind(bind) {
                bail!(
                    "demo mode (no WECHAT_APPID: anyone can log in as anyone) is refused on BIND={bind}, which is not a loopback address; set DEMO=true to serve the demo there on purpose, or configure WECHAT_APPID and WECHAT_SECRET"
                );
            }
            Ok(demo)
        }
    }
}

/// `127.0.0.1:…`, `[::1]:…` or `localhost:…`; a name that could resolve
/// elsewhere counts as reachable.
fn is_loopback_bind(bind: &str) -> bool {
    if let Ok(addr) = bind.parse::<std::net::SocketAddr>() {
        return addr.ip().is_loopback();
    }
    let host = bind.rsplit_once(':').map_or(bind, |(host, _)| host);
    host.eq_ignore_ascii_case("localhost")
}

/// `TRUSTED_PROXIES=N`; the older `TRUST_FORWARDED_FOR=true` means one proxy.
fn trusted_proxies(
    get: &impl Fn(&str) -> Option<String>,
    notices: &mut Vec<String>,
) -> anyhow::Result<usize> {
    match (
        parse_num::<usize>(get, "TRUSTED_PROXIES")?,
        parse_bool(get, "TRUST_FORWARDED_FOR")?,
    ) {
        (Some(_), Some(_)) => {
            bail!("TRUST_FORWARDED_FOR is replaced by TRUSTED_PROXIES; set only TRUSTED_PROXIES")
        }
        (Some(n), None) => Ok(n),
        (None, Some(true)) => {
            notices.push(
                "TRUST_FORWARDED_FOR=true is deprecated: it means TRUSTED_PROXIES=1 (the client is the right-most X-Forwarded-For entry); set TRUSTED_PROXIES instead".into(),
            );
            Ok(1)
        }
        (None, _) => Ok(0),
    }
}

fn lifecycle(get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<LifecycleThresholds> {
    let d = LifecycleThresholds::default();
    let t = LifecycleThresholds {
        active_days: parse_num(get, "LIFECYCLE_ACTIVE_DAYS")?.unwrap_or(d.active_days),
        silent_days: parse_num(get, "LIFECYCLE_SILENT_DAYS")?.unwrap_or(d.silent_days),
        sleeping_days: parse_num(get, "LIFECYCLE_SLEEPING_DAYS")?.unwrap_or(d.sleeping_days),
    };
    if !(0 <= t.active_days && t.active_days < t.silent_days && t.silent_days < t.sleeping_days) {
        anyhow::bail!(
            "LIFECYCLE_ACTIVE_DAYS < LIFECYCLE_SILENT_DAYS < LIFECYCLE_SLEEPING_DAYS must hold"
        );
    }
    Ok(t)
}

fn parse_num<T: std::str::FromStr>(
    get: &impl Fn(&str) -> Option<String>,
    key: &str,
) -> anyhow::Result<Option<T>> {
    get(key)
        .map(|v| {
            v.trim()
                .parse::<T>()
                .ok()
                .with_context(|| format!("{key} must be a non-negative integer, not {v:?}"))
        })
        .transpose()
}

fn parse_bool(get: &impl Fn(&str) -> Option<String>, key: &str) -> anyhow::Result<Option<bool>> {
    get(key)
        .map(|v| match v.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(true),
            "0" | "false" | "no" | "off" => Ok(false),
            _ => bail!("{key} must be true or false, not {v:?}"),
        })
        .transpose()
}

/// In development without `JWT_SECRET`, a random secret is made once and kept
/// in `./data/jwt_secret`, so that tokens survive restarts.
fn dev_jwt_secret() -> anyhow::Result<String> {
    let path = PathBuf::from("data/jwt_secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_string();
        if existing.len() >= 32 {
            return Ok(existing);
        }
    }
    std::fs::create_dir_all("data").context("creating ./data")?;
    let secret = crate::crypto::random_token(48);
    write_private(&path, &secret).with_context(|| format!("writing {}", path.display()))?;
    Ok(secret)
}

fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(content.as_bytes())
    }
    #[cfg(not(unix))]
    std::fs::write(path, content)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|k| map.get(k).cloned())
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn production_names_what_is_missing() {
        let err = settings(&[("APP_ENV", "production"), ("JWT_SECRET", SECRET)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "APP_ENV=production requires DATABASE_URL, WECHAT_APPID, WECHAT_SECRET to be set"
        );
    }

    #[test]
    fn production_rejects_short_secret_and_never_demo() {
        let base = [
            ("APP_ENV", "production"),
            ("DATABASE_URL", "postgres://x/y"),
            ("WECHAT_APPID", "wx1"),
            ("WECHAT_SECRET", "s"),
        ];
        let mut short = base.to_vec();
        short.push(("JWT_SECRET", "short"));
        assert!(
            settings(&short)
                .unwrap_err()
                .to_string()
                .contains("at least 32 bytes")
        );
        let mut ok = base.to_vec();
        ok.push(("JWT_SECRET", SECRET));
        let s = settings(&ok).unwrap();
        assert!(!s.demo_mode());
        assert!(!s.graphiql && !s.introspection && !s.seed_demo);
        let mut seeded = ok.clone();
        seeded.push(("SEED_DEMO", "true"));
        assert!(settings(&seeded).is_err());
    }

    #[test]
    fn development_defaults_are_the_embedded_demo() {
        let s = settings(&[("JWT_SECRET", SECRET)]).unwrap();
        assert!(s.demo_mode());
        assert_eq!(s.database_url, "sqlite://./data/siyu.db");
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.access_token_ttl, Duration::from_secs(7200));
        assert_eq!(s.refresh_token_ttl, Duration::from_secs(2_592_000));
        assert_eq!(s.refresh_reuse_grace, Duration::from_secs(10));
        assert_eq!(s.login_rate_limit_per_min, 60);
        assert_eq!(s.max_unpaid_orders_per_customer, 5);
        assert_eq!(s.max_unpaid_units_per_sku, 50);
        assert_eq!(s.order_rate_limit_per_min, 20);
        assert!(s.redis_url.is_none());
    }

    #[test]
    fn cors_origins_are_checked() {
        let s = settings(&[
            ("JWT_SECRET", SECRET),
            (
                "CORS_ALLOWED_ORIGINS",
                " https://admin.example.com , http://localhost:5173",
            ),
        ])
        .unwrap();
        assert_eq!(
            s.cors_allowed_origins,
            ["https://admin.example.com", "http://localhost:5173"]
        );
        for bad in ["*", "admin.example.com", "https://a.com/path", "https://"] {
            let err =
                settings(&[("JWT_SECRET", SECRET), ("CORS_ALLOWED_ORIGINS", bad)]).unwrap_err();
            assert!(
                err.to_string().contains("CORS_ALLOWED_ORIGINS"),
                "{bad}: {err}"
            );
        }
        assert!(
            settings(&[("JWT_SECRET", SECRET)])
                .unwrap()
                .cors_allowed_origins
                .is_empty()
        );
    }

    #[test]
    fn bad_numbers_are_named() {
        let err =
            settings(&[("JWT_SECRET", SECRET), ("ACCESS_TOKEN_TTL_SECS", "abc")]).unwrap_err();
        assert!(err.to_string().contains("ACCESS_TOKEN_TTL_SECS"));
    }

    #[test]
    fn demo_mode_off_the_loopback_only_when_asked_for() {
        let with = |vars: &[(&str, &str)]| {
            let mut all = vec![("JWT_SECRET", SECRET)];
            all.extend_from_slice(vars);
            settings(&all)
        };
        for bind in [
            "127.0.0.1:8080",
            "[::1]:0",
            "localhost:8080",
            "127.0.0.2:80",
        ] {
            assert!(with(&[("BIND", bind)]).unwrap().demo_mode(), "{bind}");
        }
        for bind in [
            "0.0.0.0:8080",
            "[::]:8080",
            "10.0.0.5:8080",
            "shop.example.com:80",
        ] {
            let err = with(&[("BIND", bind)]).unwrap_err().to_string();
            assert!(
                err.contains("not a loopback address") && err.contains("DEMO=true"),
                "{bind}: {err}"
            );
            assert!(!err.contains('\n'), "one line");
            assert!(
                with(&[("BIND", bind), ("DEMO", "true")])
                    .unwrap()
                    .demo_mode()
            );
        }
        // Asked off, or real WeChat credentials: no demo, on any address.
        assert!(
            !with(&[("BIND", "0.0.0.0:8080"), ("DEMO", "false")])
                .unwrap()
                .demo_mode()
        );
        let wechat = [
            ("BIND", "0.0.0.0:8080"),
            ("WECHAT_APPID", "wx1"),
            ("WECHAT_SECRET", "s"),
        ];
        assert!(!with(&wechat).unwrap().demo_mode());
        let mut both = wechat.to_vec();
        both.push(("DEMO", "true"));
        assert!(with(&both).is_err());
        let prod = [
            ("APP_ENV", "production"),
            ("DATABASE_URL", "postgres://x/y"),
            ("WECHAT_APPID", "wx1"),
            ("WECHAT_SECRET", "s"),
            ("DEMO", "true"),
        ];
        assert!(with(&prod).unwrap_err().to_string().contains("production"));
    }

    #[test]
    fn trusted_proxies_and_the_old_switch() {
        let with = |vars: &[(&str, &str)]| {
            let mut all = vec![("JWT_SECRET", SECRET)];
            all.extend_from_slice(vars);
            settings(&all)
        };
        assert_eq!(with(&[]).unwrap().trusted_proxies, 0);
        assert_eq!(
            with(&[("TRUSTED_PROXIES", "2")]).unwrap().trusted_proxies,
            2
        );
        let old = with(&[("TRUST_FORWARDED_FOR", "true")]).unwrap();
        assert_eq!(old.trusted_proxies, 1);
        assert!(old.notices[0].contains("deprecated"));
        assert_eq!(
            with(&[("TRUST_FORWARDED_FOR", "false")])
                .unwrap()
                .trusted_proxies,
            0
        );
        assert!(with(&[("TRUSTED_PROXIES", "1"), ("TRUST_FORWARDED_FOR", "true")]).is_err());
        assert!(with(&[("TRUSTED_PROXIES", "-1")]).is_err());
    }

    #[test]
    fn subscription_templates_and_share_pages_are_checked() {
        let s = settings(&[
            ("JWT_SECRET", SECRET),
            (
                "WECHAT_SUBSCRIBE_TEMPLATES",
                "order_shipped=T-ship, WITHDRAWAL_PAID=T-paid",
            ),
        ])
        .unwrap();
        assert_eq!(
            s.wechat_subscribe_templates,
            [
                ("ORDER_SHIPPED".to_string(), "T-ship".to_string()),
                ("WITHDRAWAL_PAID".to_string(), "T-paid".to_string())
            ]
        );
        assert_eq!(s.wechat_share_page, "pages/index/index");
        assert_eq!(s.wechat_share_env_version, "release");
        for bad in ["NOPE=T", "ORDER_SHIPPED", "ORDER_SHIPPED=a,ORDER_SHIPPED=b"] {
            assert!(
                settings(&[("JWT_SECRET", SECRET), ("WECHAT_SUBSCRIBE_TEMPLATES", bad)]).is_err(),
                "{bad}"
            );
        }
        assert!(settings(&[("JWT_SECRET", SECRET), ("WECHAT_SHARE_PAGE", "/pages/x")]).is_err());
        assert!(settings(&[("JWT_SECRET", SECRET), ("WECHAT_SHARE_ENV_VERSION", "beta")]).is_err());
    }

    #[test]
    fn secrets_do_not_print() {
        let s = settings(&[("JWT_SECRET", SECRET)]).unwrap();
        assert!(!format!("{s:?}").contains(SECRET));
    }

    #[test]
    fn transfers_need_wechat_pay_and_take_their_defaults() {
        let base = [
            ("JWT_SECRET", SECRET),
            ("WECHATPAY_TRANSFER_SCENE_ID", "1005"),
        ];
        let err = settings(&base).unwrap_err().to_string();
        assert!(err.contains("needs WeChat Pay"), "{err}");
        let mut pay = base.to_vec();
        pay.extend([
            ("WECHAT_APPID", "wx1"),
            ("WECHAT_SECRET", "s"),
            ("WECHATPAY_MCHID", "1900000109"),
            ("WECHATPAY_MERCHANT_SERIAL", "S"),
            ("WECHATPAY_MERCHANT_KEY_FILE", "/k.pem"),
            ("WECHATPAY_APIV3_KEY", "0123456789abcdef0123456789abcdef"),
            ("WECHATPAY_PUBLIC_KEY_FILE", "/p.pem"),
            ("WECHATPAY_PUBLIC_KEY_ID", "PUB_KEY_ID_1"),
            (
                "WECHATPAY_NOTIFY_URL",
                "https://shop.example.com/webhooks/wechat-pay",
            ),
        ]);
        let t = settings(&pay).unwrap().transfer.unwrap();
        assert_eq!(
            t.notify_url,
            "https://shop.example.com/webhooks/wechat-transfer"
        );
        assert_eq!(
            t.report_infos,
            vec![
                ("岗位类型".to_string(), "推广员".to_string()),
                ("报酬说明".to_string(), "分销佣金".to_string())
            ]
        );
        assert_eq!((t.query_after_mins, t.confirm_expire_mins), (10, 1440));
        let mut bad = pay.clone();
        bad.push(("WECHATPAY_TRANSFER_REPORT_INFOS", "岗位类型"));
        assert!(settings(&bad).is_err());
        let mut long = pay.clone();
        long.push((
            "WECHATPAY_TRANSFER_REMARK",
            "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三",
        ));
        assert!(settings(&long).is_err());
        let without = settings(&pay[..1]).unwrap();
        assert!(without.transfer.is_none());
        assert_eq!(without.withdrawal_auto_approve_fen, 0);
    }
}
