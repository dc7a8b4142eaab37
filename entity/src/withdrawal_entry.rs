//! The append-only ledger of what withdrawals did to a promoter's
//! withdrawable balance: `HOLD` (negative) when asked, `RELEASE` (positive)
//! when the money came back (rejected, transfer failed or cancelled). At
//! most one of each kind per withdrawal.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "withdrawal_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub promoter_id: i64,
    pub withdrawal_id: i64,
    /// `HOLD` or `RELEASE`.
    pub kind: String,
    /// Signed: HOLD negative, RELEASE positive.
    pub amount_fen: i64,
    pub reason: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
