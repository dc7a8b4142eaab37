//! Units of one order line in an after-sale, and what they refund.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "after_sale_line")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub after_sale_id: i64,
    pub order_line_id: i64,
    pub quantity: i32,
    pub amount_fen: i64,
}

impl ActiveModelBehavior for ActiveModel {}
