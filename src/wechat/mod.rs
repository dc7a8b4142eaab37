//! Clients for WeChat's servers. Every call has a time-out (`OUTBOUND_TIMEOUT_MS`).
pub mod api;
pub mod login;
pub mod message;
pub mod pay;
