//! One attempt to upload a shipping row to WeChat.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wechat_shipping_attempt")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub shipping_id: i64,
    pub attempt_no: i32,
    /// The request as sent (JSON, without the access_token).
    #[sea_orm(column_type = "Text")]
    pub request: String,
    pub errcode: Option<i64>,
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
