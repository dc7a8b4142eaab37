//! A bill row (or a record) that reconciliation could not match.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reconciliation_difference")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub reconciliation_id: i64,
    /// `UNKNOWN_PAYMENT`, `AMOUNT_MISMATCH`, `UNKNOWN_REFUND`,
    /// `MISSING_IN_BILL`, `REFUNDED_ORPHAN` (paid for no live order: refunded).
    pub kind: String,
    pub out_trade_no: Option<String>,
    pub out_refund_no: Option<String>,
    /// The bill's amount (ours for `MISSING_IN_BILL`).
    pub amount_fen: i64,
    pub detail: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
