//! A subscription message (订阅消息) queued for an event: one consent was
//! spent when it was queued; the jobs loop sends it.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscription_message")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The event (`SHIP:F<fulfillment>`, `RF:<refund>:<status>`, …).
    #[sea_orm(unique)]
    pub message_key: String,
    pub customer_id: i64,
    /// `ORDER_SHIPPED`, `REFUND_RESULT`, `COMMISSION_SETTLED`, `WITHDRAWAL_PAID`.
    pub event: String,
    pub template_id: String,
    /// The mini-program page the message opens.
    pub page: String,
    /// The `data` object, JSON.
    #[sea_orm(column_type = "Text")]
    pub data: String,
    /// `PENDING`, `SENT`, `FAILED` (given up) or `REFUSED` (43101).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// Claimed by an instance until then.
    pub locked_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
