//! A confirmed payment, deduplicated by the provider's transaction id.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    /// `WECHAT` or `DEMO`.
    pub provider: String,
    #[sea_orm(unique)]
    pub transaction_id: String,
    pub amount_fen: i64,
    /// `APPLIED` (paid the order) or `REFUND_DUE` (arrived for an order that
    /// could no longer take it: refunded).
    pub outcome: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
