//! GraphQL shapes of the WeChat platform domain.
use async_graphql::{Enum, Object};
use entity::wechat_shipping;

use super::shipping as ship;
use crate::api::scalars::Timestamp;

/// Where a shipping upload to WeChat is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WechatUploadStatus {
    /// Waiting for its first attempt, or for the next after a failure (`lastError`).
    Pending,
    /// WeChat has it.
    Uploaded,
    /// Given up after the last attempt of the back-off schedule.
    Failed,
}

/// The shipping information uploaded to WeChat for a parcel (发货信息录入):
/// until WeChat has it and the buyer confirms receipt, WeChat holds the money.
pub struct WechatShippingUpload(pub wechat_shipping::Model);

#[Object]
impl WechatShippingUpload {
    /// Where the upload is.
    async fn status(&self) -> WechatUploadStatus {
        match self.0.status.as_str() {
            ship::UPLOADED => WechatUploadStatus::Uploaded,
            ship::FAILED => WechatUploadStatus::Failed,
            _ => WechatUploadStatus::Pending,
        }
    }
    /// When WeChat accepted it.
    async fn uploaded_at(&self) -> Option<Timestamp> {
        self.0.uploaded_at.map(Into::into)
    }
    /// Why the last attempt failed (WeChat's errcode and message, or what
    /// kept the upload from being made, such as an unknown carrier).
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
}

/// Which share code to make.
#[derive(async_graphql::InputObject)]
pub struct ShareCodeInput {
    /// The mini-program page it opens (`pages/product/detail`, no leading
    /// slash); the store's share page when absent.
    pub page: Option<String>,
    /// A product on the shelf whose id the scene carries (`p=<id>`).
    pub product_id: Option<async_graphql::ID>,
}

/// A mini-program code (小程序码) that carries the caller's referral.
#[derive(async_graphql::SimpleObject)]
pub struct ShareCode {
    /// What the page receives (URL-encoded) as `scene`: `r=<referral
    /// code>` and `&p=<product id>`; at most 32 characters.
    pub scene: String,
    /// The code's image, served by this server.
    pub image_url: String,
}

/// An event a subscription message is sent for.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionEvent {
    /// A parcel of the customer's order shipped.
    OrderShipped,
    /// An after-sale or refund was decided or paid.
    RefundResult,
    /// A promoter's commission settled.
    CommissionSettled,
    /// A withdrawal was paid.
    WithdrawalPaid,
}

/// A template the mini-program asks consent for.
#[derive(async_graphql::SimpleObject)]
pub struct SubscriptionTemplate {
    /// What it is sent for.
    pub event: SubscriptionEvent,
    /// WeChat's template id (for `wx.requestSubscribeMessage`).
    pub template_id: String,
}

impl SubscriptionTemplate {
    /// From a configured pair (`config::SUBSCRIBE_EVENTS` names).
    pub fn of(event: &str, template_id: &str) -> Option<Self> {
        let event = match event {
            "ORDER_SHIPPED" => SubscriptionEvent::OrderShipped,
            "REFUND_RESULT" => SubscriptionEvent::RefundResult,
            "COMMISSION_SETTLED" => SubscriptionEvent::CommissionSettled,
            "WITHDRAWAL_PAID" => SubscriptionEvent::WithdrawalPaid,
            _ => return None,
        };
        Some(Self {
            event,
            template_id: template_id.to_string(),
        })
    }
}

/// One step of a parcel's trace, from WeChat's logistics query (物流查询).
pub struct TrackingEvent(pub super::tracking::TraceEvent);

#[Object]
impl TrackingEvent {
    /// When the carrier recorded it.
    async fn time(&self) -> Timestamp {
        self.0.time.into()
    }
    /// What happened, as the carrier words it (`快件已揽收`, `已签收`).
    async fn description(&self) -> &str {
        &self.0.description
    }
    /// WeChat's step code: 100001 picked up, 200001 in transit, 300002 out
    /// for delivery, 300003 signed for, 300004 delivery failed, 400001
    /// cancelled, 400002 held.
    async fn action_type(&self) -> i64 {
        self.0.action_type
    }
}

/// WeChat reminded the store to ship an order (`trade_manage_remind_shipping`:
/// the buyer is waiting and WeChat has no shipping information).
pub struct WechatShippingReminder(pub entity::wechat_shipping_reminder::Model);

#[Object]
impl WechatShippingReminder {
    /// How many reminders came.
    async fn reminders(&self) -> i32 {
        self.0.reminders
    }
    /// The first one.
    async fn first_at(&self) -> Timestamp {
        self.0.first_at.into()
    }
    /// The latest one.
    async fn last_at(&self) -> Timestamp {
        self.0.last_at.into()
    }
}
