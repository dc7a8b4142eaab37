//! A shipping fee template (运费模板): how the lines of the products using
//! it are charged (by piece or by weight), where, and where not delivered.
//! Retired templates stay for history; no product may use one.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shipping_template")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// `PIECE` or `WEIGHT`.
    pub charge_by: String,
    /// The rules as one JSON document (default rule, region rules, free
    /// rules, regions not delivered to), regions as GB/T 2260 codes.
    #[sea_orm(column_type = "Text")]
    pub rules: String,
    pub retired: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
