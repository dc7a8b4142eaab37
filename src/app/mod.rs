//! The composition floor: what combines domains into the running store.
//!
//! Nothing below imports from here. Each part calls domain services
//! downward: [`login`] (WeChat identity + customer + tokens), [`checkout`]
//! (placing and paying orders of every kind), [`audit`] (the staff audit
//! log), [`jobs`] (the background loop),
//! [`reports`] (figures that read several domains), [`seed`] (the demo
//! store), [`graphql`] (the handler and the schema assembled from every
//! domain's roots) and [`startup`] (the server).
pub mod access_log;
pub mod admin_console;
pub mod audit;
pub mod checkout;
pub mod edge;
pub mod exports;
pub mod graphiql;
pub mod graphql;
pub mod jobs;
pub mod login;
pub mod reports;
pub mod seed;
pub mod startup;
pub mod stock_sync;
pub mod transfer_webhook;
pub mod webhooks;
pub mod wechat_message;
