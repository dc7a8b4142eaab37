//! A carrier name that matches nothing in WeChat's express list, mapped by
//! ADMIN to WeChat's `delivery_id`.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wechat_carrier_map")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// As suppliers type it (trimmed).
    #[sea_orm(unique)]
    pub carrier: String,
    pub delivery_id: String,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
