//! Drop-shipping suppliers (一件代发): accounts, API keys, SKU links.
//!
//! Owns `supplier` and `supplier_sku_link`. Invariants: an API key is shown
//! once and stored only as its SHA-256; a supplier SKU code is unique per
//! supplier; cost prices are visible to ADMIN and the owning SUPPLIER only
//! and never enter the cache, a shopper-visible field, an error or a log.
pub mod loader;
pub mod resolver;
pub mod service;
pub mod types;
pub mod webhook;
