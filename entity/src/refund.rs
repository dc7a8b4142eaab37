//! A refund of an order: the WeChat part goes back through WeChat Pay, the
//! balance part back to the wallet.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refund")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub order_id: i64,
    /// `PENDING` (asked), `APPROVED` (order side done, WeChat part to send),
    /// `PROCESSING` (WeChat Pay took it, no final word yet), `REFUNDED`,
    /// `FAILED` (see `failure_reason`), `REJECTED`.
    pub status: String,
    pub amount_fen: i64,
    pub wechat_fen: i64,
    pub balance_fen: i64,
    pub reason: String,
    #[sea_orm(unique)]
    pub out_refund_no: String,
    pub wechat_refund_id: Option<String>,
    /// When the store approved it (late payments: when they were recorded).
    pub approved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// Calls to WeChat Pay's refund API that failed so far.
    pub attempts: i32,
    /// When the jobs pass next sends it (`APPROVED`) or asks WeChat Pay
    /// about it (`PROCESSING`).
    pub next_attempt_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    /// Why it is `FAILED` (WeChat Pay's `ABNORMAL`/`CLOSED`, or a refusal
    /// that cannot succeed); for the admin.
    pub failure_reason: Option<String>,
    pub updated_at: DateTimeUtc,
    /// The after-sale whose money this is; none for a whole-order refund.
    #[sea_orm(unique)]
    pub after_sale_id: Option<i64>,
}

impl ActiveModelBehavior for ActiveModel {}
