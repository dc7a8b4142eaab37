//! Business domains, one folder each, layered the same way inside:
//! `resolver.rs` (thin GraphQL layer: viewer, guard, call, map), `types.rs`
//! (GraphQL shapes built from entities), `service.rs` (the rules: queries,
//! transactions, cache). A domain calls another domain's service, never its
//! tables.
pub mod catalogue;
pub mod coupon;
pub mod customer;
pub mod membership;
pub mod operations;
pub mod order;
pub mod pricing;
pub mod referral;
pub mod shipping;
pub mod supplier;
pub mod wallet;
pub mod wechat_platform;
