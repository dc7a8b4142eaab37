//! A line of an order: a snapshot of the SKU at the moment of purchase.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "order_line")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    pub sku_id: i64,
    pub product_id: i64,
    pub title: String,
    /// JSON array of `{"name","value"}`.
    #[sea_orm(column_type = "Text")]
    pub specs: String,
    /// The SKU's price then.
    pub list_price_fen: i64,
    /// What was charged per unit (member price applied).
    pub unit_price_fen: i64,
    pub quantity: i32,
    pub line_total_fen: i64,
    /// Supplier cost per unit then (ADMIN and the supplier only).
    pub cost_fen: Option<i64>,
    /// The drop-shipping supplier then; `None` = self-operated.
    pub supplier_id: Option<i64>,
    /// That supplier's own code for the SKU then (what its webhook names).
    pub supplier_sku_code: Option<String>,
    pub fulfillment_id: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
