//! A SKU: one purchasable variant of a product, with its own price and stock.
//!
//! SKUs removed from a product are archived, not deleted: order lines of the
//! past still point at them.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "sku")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub product_id: i64,
    /// JSON array of `{"name", "value"}` pairs, e.g. 规格: 500g.
    #[sea_orm(column_type = "Text")]
    pub specs: String,
    /// Canonical form of the specs, unique per product among live SKUs.
    pub spec_key: String,
    pub price_fen: i64,
    pub original_price_fen: Option<i64>,
    pub member_price_fen: Option<i64>,
    /// Never below zero (CHECK constraint and conditional updates).
    pub stock: i32,
    pub archived: bool,
    /// Weight in grams, for templates that charge by weight.
    pub weight_grams: Option<i32>,
    /// The spec's own image (the SKU picker shows it).
    pub image_url: Option<String>,
    /// Code or barcode, unique among the store's live SKUs when given.
    pub code: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
