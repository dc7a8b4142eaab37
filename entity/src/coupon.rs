//! A coupon a customer holds, with its template's terms as given.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupon")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub template_id: i64,
    pub customer_id: i64,
    /// `UNUSED` or `USED` (expired = unused past `expires_at`).
    pub status: String,
    pub threshold_fen: i64,
    pub off_fen: i64,
    pub valid_from: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// The order using it; set exactly while `USED`.
    pub order_id: Option<i64>,
    pub used_at: Option<DateTimeUtc>,
    /// `CLAIM`, `ISSUE` (an admin campaign) or `GIFT` (with a top-up).
    pub source: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
