//! siyu: the GraphQL backend of a private-domain (私域) storefront in a WeChat
//! mini-program.
//!
//! A guided tour, in the order a request meets the code. Three floors, and
//! imports point down only (DESIGN.md has the table; `tests/floors.rs`
//! enforces it):
//! - [`app`], the composition floor: [`app::startup`] builds the actix-web
//!   server, [`app::graphql`] is the `/graphql` handler and the schema merged
//!   from every domain, [`app::login`], [`app::checkout`], [`app::jobs`],
//!   [`app::reports`] combine domains.
//! - [`modules`], the domains, each `resolver` → `service` → `entity`.
//! - The ground floor, which knows no domain: [`config`] (settings; the
//!   embedded demo by default), [`state`], [`auth`] (tokens →
//!   [`auth::Viewer`], the per-role guards), [`api`] (ids, pagination,
//!   scalars), [`error`] (one error type with the contract's codes),
//!   [`cache`] (Redis or in-process, never failing a request), [`db`],
//!   [`wechat`] (WeChat's servers), [`outbound`] (calls to addresses others
//!   chose: supplier webhooks), [`forwarded`] (the client's address behind
//!   proxies), [`money`], [`validate`], [`crypto`].
// The merged GraphQL roots nest one resolver future per domain; their
// layout outgrows the default limit of 128.
#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod auth;
pub mod cache;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod forwarded;
pub mod metrics;
pub mod modules;
pub mod money;
pub mod outbound;
pub mod rate_limit;
pub mod state;
pub mod telemetry;
pub mod validate;
pub mod wechat;
