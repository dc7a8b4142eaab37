//! A product (SPU). Prices live on its SKUs; `min_price_fen`/`max_price_fen`
//! are kept in step with them so lists can sort and page by price.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "product")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub title: String,
    pub subtitle: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub description: Option<String>,
    /// JSON array of image URLs, first = cover.
    #[sea_orm(column_type = "Text")]
    pub images: String,
    pub category_id: i64,
    pub brand: Option<String>,
    /// `ON_SHELF` or `OFF_SHELF`.
    pub status: String,
    /// Admin pin on the hot list: smaller first; `None` = not pinned.
    pub hot_pin: Option<i32>,
    /// Units sold, all time.
    pub sales_count: i64,
    /// Cheapest SKU price (fen) among live SKUs.
    pub min_price_fen: i64,
    /// Dearest SKU price (fen) among live SKUs.
    pub max_price_fen: i64,
    /// The shipping template (运费模板) its lines are charged by; `None` =
    /// the store's flat rule.
    pub shipping_template_id: Option<i64>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
