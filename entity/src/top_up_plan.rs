//! A stored-value offer: pay `pay_fen`, get `pay_fen + bonus_fen` to spend.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "top_up_plan")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub pay_fen: i64,
    pub bonus_fen: i64,
    /// JSON array of coupon template ids given with the top-up.
    #[sea_orm(column_type = "Text")]
    pub gift_coupon_template_ids: String,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
