//! One movement of a wallet: append-only. Credits are positive, debits
//! negative; a wallet's rows sum to its balance.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wallet_transaction")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    /// `TOP_UP`, `BONUS`, `PAYMENT`, `REFUND`, `ADJUSTMENT`.
    pub kind: String,
    pub amount_fen: i64,
    pub principal_delta_fen: i64,
    pub bonus_delta_fen: i64,
    pub balance_after_fen: i64,
    pub principal_after_fen: i64,
    pub bonus_after_fen: i64,
    pub order_id: Option<i64>,
    /// The admin who made an adjustment.
    pub admin_id: Option<i64>,
    pub reason: Option<String>,
    pub idempotency_key: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
