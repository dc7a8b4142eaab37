//! Reports: the store's figures (`storeMetrics`), composed from the
//! domains that keep each part (order sales, customer sign-ups,
//! memberships, balances, commissions, lifecycle stages). Read only.
pub mod resolver;
pub mod service;
pub mod types;
