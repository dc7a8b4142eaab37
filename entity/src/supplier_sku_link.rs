//! Which supplier ships a SKU, under which code, at what cost.
//!
//! The cost price is for ADMIN and the owning SUPPLIER only; this row is never
//! cached or put into a shopper-visible value.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_sku_link")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sku_id: i64,
    pub supplier_id: i64,
    /// The supplier's own code for the SKU; unique per supplier.
    pub supplier_sku_code: String,
    pub cost_fen: i64,
    pub drop_ship: bool,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
