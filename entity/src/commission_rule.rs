//! A version of the commission rule; the newest row is in force. Rows are
//! never changed, so what applied to an order can always be read back.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "commission_rule")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub level1_percent: i32,
    pub level2_percent: i32,
    pub settle_after_days: i32,
    /// `PAID_AMOUNT` or `GROSS_MARGIN`.
    pub base: String,
    /// `OPEN` or `APPLY`.
    pub promoter_mode: String,
    pub admin_id: Option<i64>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
