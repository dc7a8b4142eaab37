//! What the store owes a drop-ship supplier for one shipped fulfillment;
//! its amount is the sum of its `supplier_payable_entry` rows.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_payable")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub supplier_id: i64,
    pub order_id: i64,
    pub fulfillment_id: i64,
    /// `PENDING` (return window open), `DUE` or `PAID`.
    pub status: String,
    /// When it accrued: its fulfillment shipped.
    pub created_at: DateTimeUtc,
    pub due_at: Option<DateTimeUtc>,
    pub paid_at: Option<DateTimeUtc>,
    /// The store's reference of the transfer (bank slip, voucher number).
    pub paid_reference: Option<String>,
    /// The admin who marked it paid.
    pub paid_by: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
