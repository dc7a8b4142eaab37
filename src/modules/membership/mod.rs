//! Paid membership cards (付费会员) and stored-value top-up plans (储值卡).
//!
//! Owns `membership_plan`, `membership` and `top_up_plan`. A membership is
//! bought as an order of kind MEMBERSHIP and granted by the payment's
//! transaction: it starts now or, while one is active, extends from its
//! expiry. Refunding a membership order takes that purchase's days back off
//! the expiry (no pro rata: the customer loses the period bought; written in
//! README). Top-ups are orders of kind TOP_UP, paid by WeChat only, credited
//! to the wallet as principal and bonus when paid.
pub mod resolver;
pub mod service;
pub mod types;
