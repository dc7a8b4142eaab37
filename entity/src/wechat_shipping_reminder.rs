//! WeChat reminded the store to ship an order (`trade_manage_remind_shipping`).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wechat_shipping_reminder")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub order_id: i64,
    pub transaction_id: String,
    /// How many reminders came.
    pub reminders: i32,
    pub first_at: DateTimeUtc,
    pub last_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
