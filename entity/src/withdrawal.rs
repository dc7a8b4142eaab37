//! A promoter's withdrawal; its amount is held from the withdrawable balance
//! when requested and returned if rejected.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "withdrawal")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub promoter_id: i64,
    pub amount_fen: i64,
    /// `PENDING`, `PAID` or `REJECTED`.
    pub status: String,
    /// Paid into the stored-value wallet at once.
    pub to_wallet: bool,
    /// The admin's note or payout reference.
    pub note: Option<String>,
    pub idempotency_key: String,
    pub admin_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub reviewed_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
