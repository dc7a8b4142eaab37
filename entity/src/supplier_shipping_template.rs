//! A supplier's default shipping template: its products that name no
//! template of their own are charged by it.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier_shipping_template")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub supplier_id: i64,
    pub shipping_template_id: i64,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
