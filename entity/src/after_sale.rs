//! An after-sale (售后) request on some units of some lines of an order.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "after_sale")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub customer_id: i64,
    /// `REFUND_ONLY` or `RETURN_AND_REFUND`.
    pub kind: String,
    /// `REQUESTED`, `APPROVED`, `RETURNING`, `RECEIVED`, `REFUNDING`,
    /// `REFUNDED`, `REJECTED`, `CANCELLED`, `FAILED`.
    pub status: String,
    pub reason: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    /// JSON array of image URLs.
    #[sea_orm(column_type = "Text")]
    pub images: String,
    /// What goes back: `balance_fen + wechat_fen`.
    pub amount_fen: i64,
    pub balance_fen: i64,
    pub wechat_fen: i64,
    pub idempotency_key: String,
    pub request_hash: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub return_address: Option<String>,
    pub return_carrier: Option<String>,
    pub return_tracking_no: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub refunded_at: Option<DateTimeUtc>,
    /// The part of `amount_fen` that is the order's shipping.
    pub shipping_fen: i64,
    /// Made by the store (`refundOrder`), not asked for by the customer.
    pub by_admin: bool,
    /// Why it was rejected or closed; the store's note.
    #[sea_orm(column_type = "Text", nullable)]
    pub note: Option<String>,
    /// Whether the returned (or called-off) units went back to stock.
    pub restock: Option<bool>,
    pub decided_at: Option<DateTimeUtc>,
    /// An approved return not shipped by then is closed.
    pub return_deadline: Option<DateTimeUtc>,
    pub return_shipped_at: Option<DateTimeUtc>,
    pub received_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
