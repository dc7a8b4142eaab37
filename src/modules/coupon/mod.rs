//! Coupons and full-reduction promotions (满减).
//!
//! Owns `coupon_template`, `coupon`, `coupon_issue` and `promotion`.
//! Invariants: no more coupons of a template are given out than its total
//! (a conditional update of `issued_count`, a CHECK as the backstop); a
//! customer claims at most the template's per-customer limit (claims of one
//! template take turns on its row); a coupon is used by at most one order,
//! taken with a conditional update in the order's transaction and given
//! back when that order is cancelled unpaid. Promotions do not stack: the
//! one that takes most off applies (`modules::pricing`).
pub mod loader;
pub mod resolver;
pub mod service;
pub mod types;
