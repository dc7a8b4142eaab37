//! A commission on an order for a level-1 or level-2 inviter. `ACCRUAL` rows
//! are earned; a `REVERSAL` row (negative) takes back a settled one after a refund.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "commission")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub beneficiary_id: i64,
    pub buyer_id: i64,
    pub level: i32,
    /// `ACCRUAL` or `REVERSAL`.
    pub kind: String,
    pub base_fen: i64,
    pub percent: i32,
    pub amount_fen: i64,
    /// `PENDING`, `SETTLED`, `CANCELLED`.
    pub status: String,
    /// The return window of the rule in force when the order was paid.
    pub settle_after_days: i32,
    pub created_at: DateTimeUtc,
    pub settled_at: Option<DateTimeUtc>,
    /// The after-sale a `REVERSAL` takes back for; 0 for accruals and
    /// whole-order reversals.
    pub after_sale_id: i64,
}

impl ActiveModelBehavior for ActiveModel {}
