//! siyu: the GraphQL backend of a private-domain (私域) storefront in a WeChat
//! mini-program.
//!
//! A guided tour, in the order a request meets the code:
//! - [`config`]: settings from the environment; the embedded demo by default.
//! - [`startup`]: builds the actix-web server (routes, middleware, metrics).
//! - [`graphql`]: the `/graphql` handler, the merged schema and its limits.
//! - [`auth`]: tokens → [`auth::Viewer`], the per-role guards, logins.
//! - [`modules`]: the business domains, each `resolver` → `service` → `entity`.
//! - [`error`]: one error type with the contract's codes.
//! - [`cache`]: Redis or in-process, behind one trait, never failing a request.
//! - [`db`]: the pool and migrations; [`wechat`]: WeChat's servers;
//!   [`outbound`]: calls to addresses others chose (supplier webhooks).
//! - [`money`], [`validate`]: the money and input rules every domain shares.
pub mod auth;
pub mod bench;
pub mod cache;
pub mod config;
pub mod db;
pub mod error;
pub mod forwarded;
pub mod graphiql;
pub mod graphql;
pub mod jobs;
pub mod metrics;
pub mod modules;
pub mod money;
pub mod outbound;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod validate;
pub mod wechat;
