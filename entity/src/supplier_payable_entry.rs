//! The append-only ledger of a supplier payable: `ACCRUE` (positive, the
//! cost of the supplier's lines at payment), `ADJUST` (negative, refunded
//! units), `PAY` (negative, the store's transfer), `NET` (either sign: a
//! supplier's debt carried into a payment).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_payable_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub payable_id: i64,
    /// `ACCRUE`, `ADJUST`, `PAY` or `NET`.
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
