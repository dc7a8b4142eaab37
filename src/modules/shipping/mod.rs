//! Shipping by region (运费模板): fee templates charged by piece or weight,
//! with a default rule, region rules, free rules and regions not delivered
//! to; the bundled table of the mainland's provinces and cities they name;
//! and the plan that charges an order's lines by their templates.
//!
//! Owns `shipping_template`; reads `product` (only to refuse retiring a
//! template a product still uses). Invariants: regions are stored as GB/T
//! 2260 codes of the bundled table, never as typed names; a destination
//! meets at most one region rule (overlaps are refused on input); the fee
//! calculation (`fee`) is pure and shared by preview and placing through
//! `pricing`. It must not read orders or write products: catalogue checks
//! a product's template through `service::require_usable`, and the order
//! domain asks for a plan.
pub mod fee;
pub mod regions;
pub mod resolver;
pub mod service;
pub mod types;
