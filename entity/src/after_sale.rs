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
}

impl ActiveModelBehavior for ActiveModel {}
