//! A mini-program code (小程序码) whose scene carries a customer's referral
//! code (and a product), generated once and served by siyu.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "share_code")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub page: String,
    /// The product's id, 0 for none.
    pub product_key: i64,
    /// `r=<referral code>` or `r=<code>&p=<product id>`.
    pub scene: String,
    pub env_version: String,
    /// The image's URL path segment (unguessable).
    #[sea_orm(unique)]
    pub token: String,
    pub content_type: String,
    #[sea_orm(column_type = "Blob")]
    pub image: Vec<u8>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
