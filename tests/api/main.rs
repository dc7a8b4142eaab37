//! API tests: the real application on port 0, driven over HTTP.
//!
//! On the embedded default (SQLite in memory, in-process cache) unless
//! `TEST_DATABASE_URL` (a PostgreSQL database: each test gets its own schema)
//! and `TEST_REDIS_URL` (each test gets its own key prefix) are set.
mod admin_console;
mod admin_queues;
mod after_sales;
mod after_sales_refunds;
mod auth;
mod catalogue;
mod catalogue_reads;
mod client_address;
mod client_caches;
mod coupons;
mod credentials;
mod customer_console_api;
mod edge;
mod exports;
mod exposure;
mod fixtures;
mod graphiql;
mod helpers;
mod http_limits;
mod money_admin;
mod operations;
mod ops;
mod order_input;
mod order_limits;
mod orders;
mod payouts;
mod plans;
mod referral;
mod scene;
mod shipping;
mod staff;
mod stock_races;
mod supplier_admin;
mod supplier_payables;
mod wallet;
mod webhook_targets;
mod wechat_api_standin;
mod wechat_login;
mod wechat_obligations;
mod wechat_pay;
mod wechat_pay_followup;
mod wechat_platform;
mod wechat_share;
mod wechatpay_standin;
