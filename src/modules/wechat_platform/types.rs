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
