//! The order domain's service: what other domains and the composition
//! floor call. Each job has its file (`place`, `query`, `lifecycle`,
//! `payment`, `refund`, `fulfillment`, `provider`); this is their public
//! surface in one list.
pub use super::fulfillment::acknowledge_in as acknowledge_fulfillments_in;
pub use super::lifecycle::{
    auto_complete, cancel, cancel_own, confirm_receipt, expire_unpaid, hold_paid, ship_if_complete,
};
pub use super::payment::{Confirmation, PaymentOutcome, confirm, confirm_payment, set_prepay_id};
pub use super::place::{
    ItemRequest, KIND_GOODS, KIND_MEMBERSHIP, KIND_TOP_UP, OrderRequest, Placed, PlanKind,
    order_number, place, place_plan_order, preview,
};
pub use super::provider::{refund_notified, retry_failed, settle_failed};
pub use super::query::{
    OrderFilter, RefundFilter, Sales, find, find_by_no, lines_of, list, own, own_in, refunds,
    refunds_of, sales, total, total_refunds, units_held, units_unknown_to_supplier,
};
pub use super::refund::{approve_refund, reject_refund, request_refund};
