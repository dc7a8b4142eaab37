//! A customer's stored balance: principal (money paid in) and bonus (given).
//! Changed only by `wallet::ledger::apply`; never below zero (CHECKs).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wallet")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i64,
    pub principal_fen: i64,
    pub bonus_fen: i64,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
