//! What was approved automatically on one China day, per promoter
//! (`P<customer id>`) and for the whole store (`STORE`): the daily caps.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "withdrawal_day")]
pub struct Model {
    /// `YYYY-MM-DD` in China time.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    pub total_fen: i64,
}

impl ActiveModelBehavior for ActiveModel {}
