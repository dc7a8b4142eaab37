//! The append-only ledger of a supplier payable: `ACCRUE` (positive, the
//! cost of the units shipped), `ADJUST` (negative, units returned to the
//! supplier by an after-sale), `PAY` (negative, the store's transfer).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_payable_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub payable_id: i64,
    /// `ACCRUE`, `ADJUST` or `PAY`.
    pub kind: String,
    /// Signed fen.
    pub amount_fen: i64,
    /// The after-sale an `ADJUST` comes from.
    pub after_sale_id: Option<i64>,
    /// The store's reference of a `PAY`.
    pub reference: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
