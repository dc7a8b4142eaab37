//! A customer's purchase figures: goods orders paid and not refunded, kept
//! in the transactions of payments and refunds.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer_stats")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub customer_id: i64,
    pub orders_count: i32,
    /// What those orders cost the customer (balance included).
    pub spent_fen: i64,
    /// The part of the goods whose supplier cost is known …
    pub costed_fen: i64,
    /// … and its margin over that cost.
    pub margin_fen: i64,
    pub first_paid_at: DateTimeUtc,
    pub last_paid_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
