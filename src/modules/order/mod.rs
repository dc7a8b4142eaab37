//! Checkout and orders: addresses, cart, pricing, placing, paying (WeChat Pay
//! v3 or demo pay), the order state machine, fulfilment per supplier,
//! refunds and the order history.
//!
//! Owns `address`, `after_sale`, `after_sale_line`, `cart_item`, `shop_order`, `order_line`, `payment`,
//! `fulfillment`, `refund`, `supplier_payable`, `supplier_payable_entry`,
//! `reconciliation` and
//! `reconciliation_difference`. Invariants: stock is taken with a conditional
//! update in the transaction that writes the order, and given back exactly
//! once (by the call that moved the order to CANCELLED); an idempotency key
//! is one order per customer; an order becomes PAID only through
//! `service::confirm_payment`, which checks the amount and deduplicates by
//! transaction id; every status move is checked by `state` and done with a
//! conditional update. Concurrent orders not paid from the balance are
//! written together by `batch` (group commit), each decided on its own;
//! concurrent payments of goods orders are confirmed together by
//! `pay_batch` the same way.
pub mod address;
pub mod after_sale;
pub mod batch;
pub mod cart;
pub mod fulfillment;
pub mod lifecycle;
pub mod limits;
pub mod loader;
pub mod pay_batch;
pub mod payable;
pub mod payment;
pub mod place;
pub mod provider;
pub mod query;
pub mod reconcile;
pub mod refund;
pub mod resolver;
pub mod service;
pub mod shipping_plan;
pub mod state;
pub mod types;
