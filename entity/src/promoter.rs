//! A customer who earns commissions, with what it can withdraw and what it owes.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "promoter")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i64,
    /// `PENDING`, `APPROVED` or `REJECTED`.
    pub status: String,
    /// Settled commissions not yet withdrawn (never below zero).
    pub withdrawable_fen: i64,
    /// Reversed settled commissions not yet covered (taken from future earnings).
    pub owed_fen: i64,
    pub applied_at: DateTimeUtc,
    pub reviewed_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
