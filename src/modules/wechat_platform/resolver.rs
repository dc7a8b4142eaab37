//! Share codes and subscription templates and consents.
use async_graphql::{Context, Object, Result};

use super::{
    service,
    types::{ShareCode, ShareCodeInput, SubscriptionTemplate, WechatShippingUpload},
};
use crate::{api::ids::parse_id, auth::ViewerExt, state::AppState};

#[derive(Default)]
pub struct WechatPlatformQuery;

#[Object]
impl WechatPlatformQuery {
    /// The caller's mini-program code (CUSTOMER): its `scene` carries the
    /// caller's referral code (`r=<code>`) and the product when one is
    /// given (`&p=<id>`); `page` defaults to the store's share page. The
    /// image is generated once and served by this server at `imageUrl`.
    async fn share_code(&self, ctx: &Context<'_>, input: ShareCodeInput) -> Result<ShareCode> {
        let customer_id = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let product_id = match &input.product_id {
            Some(id) => Some(parse_id(id, "productId")?),
            None => None,
        };
        let code =
            service::share_code(state, customer_id, input.page.as_deref(), product_id).await?;
        Ok(ShareCode {
            scene: code.scene,
            image_url: code.image_url,
        })
    }

    /// The subscription-message templates the mini-program asks consent for
    /// (`wx.requestSubscribeMessage`), by event. Open to anyone: the ids
    /// ship inside the mini-program anyway.
    async fn subscription_templates(&self, ctx: &Context<'_>) -> Vec<SubscriptionTemplate> {
        let state = ctx.data_unchecked::<AppState>();
        service::templates(state)
            .iter()
            .filter_map(|(event, id)| SubscriptionTemplate::of(event, id))
            .collect()
    }
}

#[derive(Default)]
pub struct WechatPlatformMutation;

#[Object]
impl WechatPlatformMutation {
    /// Records the template ids the customer accepted in
    /// `wx.requestSubscribeMessage` (CUSTOMER): one message each may be
    /// sent later. Every id must be one of `subscriptionTemplates`
    /// (`BAD_USER_INPUT` otherwise, nothing recorded). Returns how many
    /// distinct ids were recorded.
    async fn record_subscription_consents(
        &self,
        ctx: &Context<'_>,
        template_ids: Vec<String>,
    ) -> Result<i32> {
        let customer_id = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::record_consents(state, customer_id, &template_ids).await?)
    }
}

#[derive(Default)]
pub struct WechatPlatformAdminMutation;

#[Object]
impl WechatPlatformAdminMutation {
    /// Uploads a fulfillment's shipping information to WeChat again now
    /// (ADMIN: OPERATIONS): one given up (`FAILED`) or waiting for its next attempt.
    /// `NOT_FOUND` when it has nothing to upload, `CONFLICT` once WeChat
    /// has it. Answers the state after the attempt.
    async fn reupload_wechat_shipping(
        &self,
        ctx: &Context<'_>,
        fulfillment_id: async_graphql::ID,
    ) -> Result<WechatShippingUpload> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&fulfillment_id, "fulfillmentId")?;
        Ok(WechatShippingUpload(service::reupload(state, id).await?))
    }

    /// Maps a carrier name as suppliers type it, which matches nothing in
    /// WeChat's express list, to a `delivery_id` of that list (ADMIN; e.g.
    /// `极兔` → `JTSD`). Later uploads of that carrier use it.
    async fn map_wechat_carrier(
        &self,
        ctx: &Context<'_>,
        carrier: String,
        delivery_id: String,
    ) -> Result<bool> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        service::map_carrier(state, &carrier, &delivery_id).await?;
        Ok(true)
    }
}
