//! The catalogue: categories (a tree), products (SPU) and their SKUs, the
//! hot-products list, and the demo store.
//!
//! Owns `category`, `product`, `sku` and `product_sales_daily`.
//! Invariants: stock is never negative (CHECK + conditional updates);
//! `product.min_price_fen`/`max_price_fen` match its live SKUs; specs are
//! unique within a product; SKUs are archived, never deleted (order lines
//! point at them). Every shopper-visible change invalidates the cache after
//! its commit. Must not read supplier costs: those belong to `supplier` and
//! never enter a cached value.
pub mod category;
pub mod listing;
pub mod loader;
pub mod product;
pub mod resolver;
pub mod service;
pub mod stock;
pub mod types;
