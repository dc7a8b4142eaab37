//! One paid membership purchase: the terms it was bought on and the period
//! it is in force, `[starts_at, ends_at)`. A customer's live grants follow
//! each other without gaps or overlaps (see `membership::service`).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "membership_grant")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    /// The MEMBERSHIP order that bought it (None: carried over from before grants).
    #[sea_orm(unique)]
    pub order_id: Option<i64>,
    pub plan_id: i64,
    pub discount_percent: i32,
    pub free_shipping: bool,
    /// Days bought.
    pub days: i32,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    /// Set when its order was refunded: it gives nothing from then on.
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
