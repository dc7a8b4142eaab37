//! The part of a paid order that one supplier (or the store itself) ships.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "fulfillment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    /// `None` = self-operated.
    pub supplier_id: Option<i64>,
    /// `PENDING`, `SHIPPED` or `DELIVERED`.
    pub status: String,
    pub carrier: Option<String>,
    pub tracking_no: Option<String>,
    /// Sum of the lines' supplier cost.
    pub cost_fen: i64,
    pub created_at: DateTimeUtc,
    pub shipped_at: Option<DateTimeUtc>,
    /// When its supplier acknowledged receiving it (`acknowledgeFulfillments`);
    /// until then the stock sync subtracts its units from the supplier's count.
    pub acknowledged_at: Option<DateTimeUtc>,
    /// When its supplier said it cannot ship it (`declineFulfillment`): it
    /// waits in the admin's queue for a refund or another way to ship.
    pub declined_at: Option<DateTimeUtc>,
    pub decline_reason: Option<String>,
    /// When its carrier or tracking number was corrected after shipping.
    pub corrected_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
