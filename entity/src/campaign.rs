//! A coupon campaign as run (`issueCoupons`): who issued which template to
//! which segment, or to a hand-picked list (no segment), and how many.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The staff account that issued.
    pub admin_id: i64,
    pub template_id: i64,
    /// The segment it went to; kept after the segment is deleted.
    pub segment_id: Option<i64>,
    /// The segment's name then.
    pub segment_name: Option<String>,
    /// Coupons issued (one per customer).
    pub issued: i64,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
