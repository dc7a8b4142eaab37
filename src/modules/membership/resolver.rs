//! Membership and top-up plans; buying them.
use async_graphql::{Context, ID, Object, Result};

use super::{
    service::{self, PlanDraft, TopUpDraft},
    types::{
        MembershipPlan, MembershipPlanInput, MembershipPlanUpdateInput, TopUpPlan, TopUpPlanInput,
        TopUpPlanUpdateInput,
    },
};
use crate::{api::ids::parse_id, auth::ViewerExt, error::AppResult, state::AppState};

fn ids(list: Option<Vec<ID>>) -> AppResult<Option<Vec<i64>>> {
    list.map(|l| {
        l.iter()
            .enumerate()
            .map(|(i, id)| parse_id(id, &format!("giftCouponTemplateIds[{i}]")))
            .collect()
    })
    .transpose()
}

#[derive(Default)]
pub struct MembershipQuery;

#[Object]
impl MembershipQuery {
    /// Membership plans on sale, cheapest first; with `includeRetired`
    /// (ADMIN) retired ones too, to put one back on sale
    /// (`updateMembershipPlan` with `active: true`).
    async fn membership_plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_retired: bool,
    ) -> Result<Vec<MembershipPlan>> {
        if include_retired {
            ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        }
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::plans(state, include_retired)
            .await?
            .into_iter()
            .map(MembershipPlan)
            .collect())
    }

    /// Top-up plans on sale, cheapest first; with `includeRetired` (ADMIN)
    /// retired ones too, to put one back on sale (`updateTopUpPlan` with
    /// `active: true`).
    async fn top_up_plans(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_retired: bool,
    ) -> Result<Vec<TopUpPlan>> {
        if include_retired {
            ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        }
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::top_up_plans(state, include_retired)
            .await?
            .into_iter()
            .map(TopUpPlan)
            .collect())
    }
}

#[derive(Default)]
pub struct MembershipMutation;

#[Object]
impl MembershipMutation {
    /// Adds a membership plan (ADMIN: OPERATIONS).
    async fn create_membership_plan(
        &self,
        ctx: &Context<'_>,
        input: MembershipPlanInput,
    ) -> Result<MembershipPlan> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let d = PlanDraft {
            name: Some(input.name),
            price_fen: Some(input.price_fen.0),
            duration_days: Some(input.duration_days),
            discount_percent: Some(input.discount_percent),
            free_shipping: Some(input.free_shipping),
            active: Some(true),
        };
        Ok(MembershipPlan(service::create_plan(state, d).await?))
    }

    /// Changes, retires (`active: false`) or puts back on sale (`active:
    /// true`) a membership plan (ADMIN: OPERATIONS).
    async fn update_membership_plan(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: MembershipPlanUpdateInput,
    ) -> Result<MembershipPlan> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let d = PlanDraft {
            name: input.name,
            price_fen: input.price_fen.map(|m| m.0),
            duration_days: input.duration_days,
            discount_percent: input.discount_percent,
            free_shipping: input.free_shipping,
            active: input.active,
        };
        Ok(MembershipPlan(
            service::update_plan(state, parse_id(&id, "id")?, d).await?,
        ))
    }

    /// Adds a top-up plan (ADMIN: OPERATIONS).
    async fn create_top_up_plan(
        &self,
        ctx: &Context<'_>,
        input: TopUpPlanInput,
    ) -> Result<TopUpPlan> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let d = TopUpDraft {
            name: Some(input.name),
            pay_fen: Some(input.pay_fen.0),
            bonus_fen: Some(input.bonus_fen.0),
            gift_coupon_template_ids: ids(input.gift_coupon_template_ids)?,
            active: Some(true),
        };
        Ok(TopUpPlan(service::create_top_up_plan(state, d).await?))
    }

    /// Changes, retires (`active: false`) or puts back on sale (`active:
    /// true`) a top-up plan (ADMIN: OPERATIONS).
    async fn update_top_up_plan(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: TopUpPlanUpdateInput,
    ) -> Result<TopUpPlan> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let d = TopUpDraft {
            name: input.name,
            pay_fen: input.pay_fen.map(|m| m.0),
            bonus_fen: input.bonus_fen.map(|m| m.0),
            gift_coupon_template_ids: ids(input.gift_coupon_template_ids)?,
            active: input.active,
        };
        Ok(TopUpPlan(
            service::update_top_up_plan(state, parse_id(&id, "id")?, d).await?,
        ))
    }
}
