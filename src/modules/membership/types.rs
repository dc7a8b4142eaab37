//! GraphQL shapes of membership and top-up plans.
use async_graphql::{Context, ID, InputObject, Object, Result};
use chrono::Utc;
use entity::{membership, membership_plan, top_up_plan};

use super::service;
use crate::api::scalars::Timestamp;
use crate::{
    api::{ids::to_id, scalars::Money},
    modules::coupon::{service as coupons, types::CouponTemplate},
    state::AppState,
};

/// A paid membership card on sale.
pub struct MembershipPlan(pub membership_plan::Model);

#[Object]
impl MembershipPlan {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Display name, e.g. 年卡.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Price (fen).
    async fn price_fen(&self) -> Money {
        Money(self.0.price_fen)
    }
    /// Days one purchase adds.
    async fn duration_days(&self) -> i32 {
        self.0.duration_days
    }
    /// Members pay this percent of the price where a SKU has no member price (90 = 10% off).
    async fn discount_percent(&self) -> i32 {
        self.0.discount_percent
    }
    /// Members' orders ship free.
    async fn free_shipping(&self) -> bool {
        self.0.free_shipping
    }
    /// Still sold.
    async fn active(&self) -> bool {
        self.0.active
    }
}

/// A customer's membership.
pub struct Membership(pub membership::Model, pub membership_plan::Model);

#[Object]
impl Membership {
    /// The plan whose terms apply: of the purchase in force (or the last
    /// one), with its days, discount and free shipping as bought.
    async fn plan(&self) -> MembershipPlan {
        MembershipPlan(self.1.clone())
    }
    /// When the current membership period began.
    async fn started_at(&self) -> Timestamp {
        self.0.started_at.into()
    }
    /// When it ends: the end of the last purchase not refunded.
    async fn expires_at(&self) -> Timestamp {
        self.0.expires_at.into()
    }
    /// Member prices and benefits apply now.
    async fn active(&self) -> bool {
        self.0.expires_at > Utc::now()
    }
}

/// A stored-value offer: pay `payFen`, get `payFen + bonusFen` to spend.
pub struct TopUpPlan(pub top_up_plan::Model);

#[Object]
impl TopUpPlan {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Display name, e.g. 充100送20.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// What the customer pays (fen), credited as principal.
    async fn pay_fen(&self) -> Money {
        Money(self.0.pay_fen)
    }
    /// What the store adds (fen), credited as bonus.
    async fn bonus_fen(&self) -> Money {
        Money(self.0.bonus_fen)
    }
    /// Coupons given with each top-up, one of each template (a template
    /// that can no longer give is skipped).
    async fn gift_coupon_templates(&self, ctx: &Context<'_>) -> Result<Vec<CouponTemplate>> {
        let state = ctx.data_unchecked::<AppState>();
        let ids = service::gift_templates(&self.0);
        let mut found = coupons::templates_by_ids(&state.db, &ids).await?;
        found.sort_by_key(|t| ids.iter().position(|id| *id == t.id));
        Ok(found.into_iter().map(CouponTemplate).collect())
    }
    /// Still sold.
    async fn active(&self) -> bool {
        self.0.active
    }
}

/// A new membership plan.
#[derive(InputObject)]
pub struct MembershipPlanInput {
    /// 1-32 characters.
    pub name: String,
    /// Price (fen), at least 1.
    pub price_fen: Money,
    /// 1-3660 days.
    pub duration_days: i32,
    /// 1-100: members pay this percent (90 = 10% off).
    pub discount_percent: i32,
    /// Members' orders ship free.
    pub free_shipping: bool,
}

/// Changes to a membership plan; only what is given changes.
#[derive(InputObject)]
pub struct MembershipPlanUpdateInput {
    /// 1-32 characters.
    pub name: Option<String>,
    /// Price (fen).
    pub price_fen: Option<Money>,
    /// 1-3660 days.
    pub duration_days: Option<i32>,
    /// 1-100.
    pub discount_percent: Option<i32>,
    /// Members' orders ship free.
    pub free_shipping: Option<bool>,
    /// false retires the plan (memberships bought keep it); true puts it
    /// back on sale.
    pub active: Option<bool>,
}

/// A new top-up plan.
#[derive(InputObject)]
pub struct TopUpPlanInput {
    /// 1-32 characters.
    pub name: String,
    /// What the customer pays (fen), at least 1.
    pub pay_fen: Money,
    /// What the store adds (fen), at least 0.
    pub bonus_fen: Money,
    /// Coupon templates to give with it.
    pub gift_coupon_template_ids: Option<Vec<ID>>,
}

/// Changes to a top-up plan; only what is given changes.
#[derive(InputObject)]
pub struct TopUpPlanUpdateInput {
    /// 1-32 characters.
    pub name: Option<String>,
    /// Pay amount (fen).
    pub pay_fen: Option<Money>,
    /// Bonus (fen).
    pub bonus_fen: Option<Money>,
    /// Coupon templates to give with it.
    pub gift_coupon_template_ids: Option<Vec<ID>>,
    /// false retires the plan; true puts it back on sale.
    pub active: Option<bool>,
}
