//! A coupon campaign run by an admin (`issueCoupons`), kept by its
//! idempotency key so that a repeated call issues nothing more.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupon_issue")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub template_id: i64,
    pub admin_id: i64,
    pub idempotency_key: String,
    pub request_hash: String,
    pub issued: i64,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
