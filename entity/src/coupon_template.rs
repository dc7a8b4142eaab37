//! What a coupon takes off, for how long, and how many may be given out.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "coupon_template")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// Goods (after member prices and promotions) must reach this; 0 = none.
    pub threshold_fen: i64,
    pub off_fen: i64,
    /// `None` = unlimited.
    pub total_quantity: Option<i64>,
    /// Coupons given out so far (claimed, issued or gifted).
    pub issued_count: i64,
    /// How many one customer may claim.
    pub per_customer_limit: i32,
    /// Valid for this many days from when the coupon is given …
    pub valid_days: Option<i32>,
    /// … or in this fixed window.
    pub valid_from: Option<DateTimeUtc>,
    pub valid_to: Option<DateTimeUtc>,
    /// Shown to customers to claim (`availableCoupons`); otherwise issued only.
    pub claimable: bool,
    pub claim_starts_at: Option<DateTimeUtc>,
    pub claim_ends_at: Option<DateTimeUtc>,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
