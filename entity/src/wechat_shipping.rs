//! Shipping information to upload to WeChat for a payment (发货信息录入):
//! one row per parcel (fulfillment) or per virtual-goods order.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wechat_shipping")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `F<fulfillment id>` or `O<order id>`.
    #[sea_orm(unique)]
    pub upload_key: String,
    pub order_id: i64,
    pub fulfillment_id: Option<i64>,
    /// The WeChat Pay transaction the upload is for.
    pub transaction_id: String,
    /// `PHYSICAL` or `VIRTUAL`.
    pub kind: String,
    /// `PENDING`, `UPLOADED` or `FAILED` (given up).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// Claimed by an instance until then.
    pub locked_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub uploaded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The tracking number the upload carried (parcels).
    pub tracking_no: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
