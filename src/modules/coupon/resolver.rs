//! Coupon and promotion operations.
use async_graphql::{Context, ID, Object, Result, connection::Connection};
use chrono::Utc;

use super::{
    service,
    types::{
        Campaign, Coupon, CouponStatus, CouponTemplate, CouponTemplateInput,
        CouponTemplateUpdateInput, Promotion, PromotionInput,
    },
};
use crate::{
    api::{
        ids::parse_id,
        pagination::{decode_cursor, id_connection, page_size},
    },
    auth::ViewerExt,
    state::AppState,
};

#[derive(Default)]
pub struct CouponQuery;

#[Object]
impl CouponQuery {
    /// Coupons customers can claim now (public), newest first.
    async fn available_coupons(&self, ctx: &Context<'_>) -> Result<Vec<CouponTemplate>> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::available(state, Utc::now())
            .await?
            .into_iter()
            .map(CouponTemplate)
            .collect())
    }

    /// The caller's coupons: usable ones first, soonest to expire first
    /// (CUSTOMER; at most 500).
    async fn my_coupons(
        &self,
        ctx: &Context<'_>,
        status: Option<CouponStatus>,
    ) -> Result<Vec<Coupon>> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::mine(state, me, status.map(Into::into), Utc::now())
            .await?
            .into_iter()
            .map(Coupon)
            .collect())
    }

    /// Coupon campaigns run (`issueCoupons`), newest first (ADMIN:
    /// OPERATIONS, who run them).
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Campaign>> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let (rows, more) = service::campaigns(state, first, after).await?;
        Ok(id_connection(
            rows.into_iter().map(|c| (c.id, Campaign(c))).collect(),
            more,
            after.is_some(),
        ))
    }

    /// Every coupon template, newest first (ADMIN).
    async fn coupon_templates(&self, ctx: &Context<'_>) -> Result<Vec<CouponTemplate>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::all_templates(state)
            .await?
            .into_iter()
            .map(CouponTemplate)
            .collect())
    }

    /// Full-reduction promotions running now (public), soonest to end
    /// first; with `all` (ADMIN) also those ended by an admin or not yet
    /// started.
    async fn promotions(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] all: bool,
    ) -> Result<Vec<Promotion>> {
        if all {
            ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        }
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::promotions(&state.db, Utc::now(), all)
            .await?
            .into_iter()
            .map(Promotion)
            .collect())
    }
}

#[derive(Default)]
pub struct CouponMutation;

#[Object]
impl CouponMutation {
    /// Claims a coupon of a claimable template, up to its per-customer
    /// limit (CUSTOMER). CONFLICT when it is all given out, outside its
    /// claim window, or already claimed up to the limit.
    async fn claim_coupon(&self, ctx: &Context<'_>, template_id: ID) -> Result<Coupon> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Coupon(
            service::claim(state, me, parse_id(&template_id, "templateId")?).await?,
        ))
    }

    /// Creates a coupon template (ADMIN: OPERATIONS).
    async fn create_coupon_template(
        &self,
        ctx: &Context<'_>,
        input: CouponTemplateInput,
    ) -> Result<CouponTemplate> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(CouponTemplate(
            service::create_template(state, input.into()).await?,
        ))
    }

    /// Edits a coupon template (ADMIN: OPERATIONS). Coupons already given
    /// keep the terms they were given with; the threshold and amount off
    /// are fixed once one was given (CONFLICT), and the total may not go
    /// below `issuedCount` (BAD_USER_INPUT).
    async fn update_coupon_template(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: CouponTemplateUpdateInput,
    ) -> Result<CouponTemplate> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(CouponTemplate(
            service::update_template(state, parse_id(&id, "id")?, input.into()).await?,
        ))
    }

    /// Stops (`active: false`) or resumes giving out a template's coupons;
    /// coupons already given stay valid (ADMIN: OPERATIONS).
    async fn set_coupon_template_active(
        &self,
        ctx: &Context<'_>,
        id: ID,
        active: bool,
    ) -> Result<CouponTemplate> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(CouponTemplate(
            service::set_template_active(state, parse_id(&id, "id")?, active).await?,
        ))
    }

    /// Gives one coupon of a template to each customer of a segment, or to
    /// the customers listed (a targeted campaign), all or none; returns how
    /// many were given. The template's total is respected; its claim window
    /// and per-customer limit are for claiming and do not apply. With an
    /// `idempotencyKey`, a repeated call gives nothing more (ADMIN: OPERATIONS).
    async fn issue_coupons(
        &self,
        ctx: &Context<'_>,
        template_id: ID,
        segment_id: Option<ID>,
        customer_ids: Option<Vec<ID>>,
        idempotency_key: Option<String>,
    ) -> Result<i32> {
        let admin = ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let template_id = parse_id(&template_id, "templateId")?;
        let mut ids = Vec::new();
        if let Some(list) = &customer_ids {
            for (i, id) in list.iter().enumerate() {
                ids.push(parse_id(id, &format!("customerIds[{i}]"))?);
            }
        }
        let audience = service::Audience {
            customer_ids: ids,
            segment_id: segment_id
                .as_ref()
                .map(|s| parse_id(s, "segmentId"))
                .transpose()?,
        };
        let n = service::issue(
            state,
            admin,
            template_id,
            audience,
            idempotency_key.as_deref(),
        )
        .await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    /// Starts a store-wide full-reduction promotion (满减) (ADMIN: OPERATIONS).
    async fn create_promotion(
        &self,
        ctx: &Context<'_>,
        input: PromotionInput,
    ) -> Result<Promotion> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Promotion(
            service::create_promotion(state, input.into()).await?,
        ))
    }

    /// Ends (`active: false`) or resumes a promotion (ADMIN: OPERATIONS).
    async fn set_promotion_active(
        &self,
        ctx: &Context<'_>,
        id: ID,
        active: bool,
    ) -> Result<Promotion> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Promotion(
            service::set_promotion_active(state, parse_id(&id, "id")?, active).await?,
        ))
    }
}
