//! A paid membership card: price, length, member discount, free shipping.
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "membership_plan")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub price_fen: i64,
    pub duration_days: i32,
    /// 90 = members pay 90% where a SKU has no member price.
    pub discount_percent: i32,
    pub free_shipping: bool,
    /// Retired plans are not sold; memberships bought keep them.
    pub active: bool,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
