//! Customer operations (私域运营): what each customer is worth and where it
//! stands, so that the store can bring it back — purchase figures, RFM,
//! lifecycle stages, lifetime value, user value, tags, segments — and the
//! store's own figures (`storeMetrics`).
//!
//! Owns `customer_stats`, `customer_tag` and `segment`. Invariant: a
//! customer's figures count its goods orders paid and not refunded, exactly
//! once each: they change only in the transaction that marks an order paid
//! (`record_purchases`) or refunded (`record_refund`). Scoring and staging are
//! pure (`scoring.rs`). Everything here is ADMIN-only.
pub mod loader;
pub mod resolver;
pub mod scoring;
pub mod service;
pub mod types;
