//! Customers: who they are (WeChat identity), who invited them, where they came from.
//!
//! Owns the `customer` table. Invariants: one customer per openid; the
//! referrer is bound when the customer is created and never changes; a
//! referral code is unique, short and unambiguous. Must not issue tokens
//! (that is `auth`'s job).
pub mod referral_code;
pub mod resolver;
pub mod scene;
pub mod service;
pub mod types;
