//! GraphQL shapes of coupons and promotions.
use async_graphql::{
    Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, dataloader::DataLoader,
};
use chrono::Utc;
use entity::{coupon, coupon_template, promotion};

use super::{
    loader::UsedCountLoader,
    service::{self, Shown},
};
use crate::api::scalars::Timestamp;
use crate::{
    api::{ids::to_id, scalars::Money},
    auth::ViewerExt,
    modules::order::{service as orders, types::Order},
    state::AppState,
};

/// What a coupon template gives.
pub struct CouponTemplate(pub coupon_template::Model);

fn int(v: i64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

#[Object]
impl CouponTemplate {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Display name, e.g. 满99减10.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Goods (after member prices and promotions) must reach this (fen); 0: no threshold.
    async fn threshold_fen(&self) -> Money {
        Money(self.0.threshold_fen)
    }
    /// Taken off the order (fen).
    async fn off_fen(&self) -> Money {
        Money(self.0.off_fen)
    }
    /// How many may be given out in all; null: no limit.
    async fn total_quantity(&self) -> Option<i32> {
        self.0.total_quantity.map(int)
    }
    /// How many were given out (claimed, issued by the store, given with
    /// top-ups).
    async fn issued_count(&self) -> i32 {
        int(self.0.issued_count)
    }
    /// How many of those an order uses now (one given back when its order
    /// is cancelled unpaid no longer counts) (ADMIN).
    async fn used_count(&self, ctx: &Context<'_>) -> Result<i32> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let loader = ctx.data_unchecked::<DataLoader<UsedCountLoader>>();
        Ok(int(loader.load_one(self.0.id).await?.unwrap_or(0)))
    }
    /// How many are left to give out; null: no limit.
    async fn remaining(&self) -> Option<i32> {
        self.0
            .total_quantity
            .map(|t| int((t - self.0.issued_count).max(0)))
    }
    /// How many one customer may claim.
    async fn per_customer_limit(&self) -> i32 {
        self.0.per_customer_limit
    }
    /// A coupon is valid this many days from when it is given (or see validFrom/validTo).
    async fn valid_days(&self) -> Option<i32> {
        self.0.valid_days
    }
    /// Start of the fixed validity window, when there is one.
    async fn valid_from(&self) -> Option<Timestamp> {
        self.0.valid_from.map(Into::into)
    }
    /// End of the fixed validity window, when there is one.
    async fn valid_to(&self) -> Option<Timestamp> {
        self.0.valid_to.map(Into::into)
    }
    /// Customers can claim it (`claimCoupon`); otherwise the store issues it.
    async fn claimable(&self) -> bool {
        self.0.claimable
    }
    /// Claiming opens.
    async fn claim_starts_at(&self) -> Option<Timestamp> {
        self.0.claim_starts_at.map(Into::into)
    }
    /// Claiming closes.
    async fn claim_ends_at(&self) -> Option<Timestamp> {
        self.0.claim_ends_at.map(Into::into)
    }
    /// Still given out.
    async fn active(&self) -> bool {
        self.0.active
    }
}

/// Where a customer's coupon is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CouponStatus {
    /// Can be used (from `validFrom` until `expiresAt`).
    Unused,
    /// Used by an order (given back if that order is cancelled unpaid).
    Used,
    /// Not used in time.
    Expired,
}

impl From<CouponStatus> for Shown {
    fn from(s: CouponStatus) -> Self {
        match s {
            CouponStatus::Unused => Shown::Unused,
            CouponStatus::Used => Shown::Used,
            CouponStatus::Expired => Shown::Expired,
        }
    }
}

/// A coupon a customer holds.
pub struct Coupon(pub coupon::Model);

#[Object]
impl Coupon {
    /// Opaque id; pass it as `OrderInput.couponId`.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The template it came from.
    async fn template(&self, ctx: &Context<'_>) -> Result<CouponTemplate> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(CouponTemplate(
            service::template(&state.db, self.0.template_id).await?,
        ))
    }
    /// Goods must reach this (fen), as given.
    async fn threshold_fen(&self) -> Money {
        Money(self.0.threshold_fen)
    }
    /// Taken off (fen), as given.
    async fn off_fen(&self) -> Money {
        Money(self.0.off_fen)
    }
    /// UNUSED, USED or EXPIRED.
    async fn status(&self) -> CouponStatus {
        match service::shown(&self.0, Utc::now()) {
            Shown::Unused => CouponStatus::Unused,
            Shown::Used => CouponStatus::Used,
            Shown::Expired => CouponStatus::Expired,
        }
    }
    /// Usable from.
    async fn valid_from(&self) -> Timestamp {
        self.0.valid_from.into()
    }
    /// Usable until.
    async fn expires_at(&self) -> Timestamp {
        self.0.expires_at.into()
    }
    /// When an order used it.
    async fn used_at(&self) -> Option<Timestamp> {
        self.0.used_at.map(Into::into)
    }
    /// The order that used it.
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<Order>> {
        let Some(id) = self.0.order_id else {
            return Ok(None);
        };
        let state = ctx.data_unchecked::<AppState>();
        let viewer = ctx.viewer();
        let o = orders::find(state, id).await?;
        Ok(
            o.filter(|o| viewer.is_admin() || viewer.customer_id().ok() == Some(o.customer_id))
                .map(Order),
        )
    }
    /// How it was given: CLAIM, ISSUE (a store campaign) or GIFT (with a top-up).
    async fn source(&self) -> &str {
        &self.0.source
    }
}

/// A store-wide full-reduction promotion (满减).
pub struct Promotion(pub promotion::Model);

#[Object]
impl Promotion {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Display name, e.g. 满199减30.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Goods (after member prices) must reach this (fen).
    async fn threshold_fen(&self) -> Money {
        Money(self.0.threshold_fen)
    }
    /// Taken off (fen). Promotions do not stack: the best one applies.
    async fn off_fen(&self) -> Money {
        Money(self.0.off_fen)
    }
    /// Starts.
    async fn starts_at(&self) -> Timestamp {
        self.0.starts_at.into()
    }
    /// Ends.
    async fn ends_at(&self) -> Timestamp {
        self.0.ends_at.into()
    }
    /// Not ended by an admin.
    async fn active(&self) -> bool {
        self.0.active
    }
}

/// A new coupon template. Validity: `validDays` (from when each coupon is
/// given) or both `validFrom` and `validTo`.
#[derive(InputObject)]
pub struct CouponTemplateInput {
    /// 1-40 characters.
    pub name: String,
    /// Goods must reach this (fen); 0 for no threshold.
    pub threshold_fen: Money,
    /// Taken off (fen), at most the threshold when there is one.
    pub off_fen: Money,
    /// How many may be given out in all; omitted: no limit.
    pub total_quantity: Option<i32>,
    /// How many one customer may claim (1-100, default 1).
    pub per_customer_limit: Option<i32>,
    pub valid_days: Option<i32>,
    pub valid_from: Option<Timestamp>,
    pub valid_to: Option<Timestamp>,
    /// Customers may claim it (default true); false: issued by the store only.
    pub claimable: Option<bool>,
    pub claim_starts_at: Option<Timestamp>,
    pub claim_ends_at: Option<Timestamp>,
}

impl From<CouponTemplateInput> for service::TemplateDraft {
    fn from(i: CouponTemplateInput) -> Self {
        service::TemplateDraft {
            name: i.name,
            threshold_fen: i.threshold_fen.0,
            off_fen: i.off_fen.0,
            total_quantity: i.total_quantity.map(i64::from),
            per_customer_limit: i.per_customer_limit,
            valid_days: i.valid_days,
            valid_from: i.valid_from.map(Into::into),
            valid_to: i.valid_to.map(Into::into),
            claimable: i.claimable,
            claim_starts_at: i.claim_starts_at.map(Into::into),
            claim_ends_at: i.claim_ends_at.map(Into::into),
        }
    }
}

/// Changes to a coupon template; only what is given changes, and only
/// coupons given afterwards see them (each coupon keeps the terms it was
/// given with). `thresholdFen` and `offFen` are fixed once a coupon was
/// given (CONFLICT): create a new template for new terms. `totalQuantity`
/// may not go below `issuedCount` (BAD_USER_INPUT).
#[derive(InputObject)]
pub struct CouponTemplateUpdateInput {
    /// 1-40 characters.
    pub name: Option<String>,
    /// Only while no coupon was given.
    pub threshold_fen: Option<Money>,
    /// Only while no coupon was given.
    pub off_fen: Option<Money>,
    /// At least `issuedCount`; null: no limit.
    pub total_quantity: MaybeUndefined<i32>,
    /// 1-100.
    pub per_customer_limit: Option<i32>,
    /// Validity is replaced whole: `validDays`, or both `validFrom` and
    /// `validTo`.
    pub valid_days: Option<i32>,
    pub valid_from: Option<Timestamp>,
    pub valid_to: Option<Timestamp>,
    pub claimable: Option<bool>,
    /// null: claiming opens at once.
    pub claim_starts_at: MaybeUndefined<Timestamp>,
    /// null: claiming does not close.
    pub claim_ends_at: MaybeUndefined<Timestamp>,
}

fn maybe<T, U>(v: MaybeUndefined<T>, f: impl Fn(T) -> U) -> Option<Option<U>> {
    match v {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(f(v))),
    }
}

impl From<CouponTemplateUpdateInput> for service::TemplateChange {
    fn from(i: CouponTemplateUpdateInput) -> Self {
        service::TemplateChange {
            name: i.name,
            threshold_fen: i.threshold_fen.map(|m| m.0),
            off_fen: i.off_fen.map(|m| m.0),
            total_quantity: maybe(i.total_quantity, i64::from),
            per_customer_limit: i.per_customer_limit,
            valid_days: i.valid_days,
            valid_from: i.valid_from.map(Into::into),
            valid_to: i.valid_to.map(Into::into),
            claimable: i.claimable,
            claim_starts_at: maybe(i.claim_starts_at, Into::into),
            claim_ends_at: maybe(i.claim_ends_at, Into::into),
        }
    }
}

/// A new full-reduction promotion: `offFen` off goods of at least `thresholdFen`.
#[derive(InputObject)]
pub struct PromotionInput {
    /// 1-40 characters.
    pub name: String,
    pub threshold_fen: Money,
    pub off_fen: Money,
    /// Default: now.
    pub starts_at: Option<Timestamp>,
    pub ends_at: Timestamp,
}

impl From<PromotionInput> for service::PromotionDraft {
    fn from(i: PromotionInput) -> Self {
        service::PromotionDraft {
            name: i.name,
            threshold_fen: i.threshold_fen.0,
            off_fen: i.off_fen.0,
            starts_at: i.starts_at.map(Into::into),
            ends_at: i.ends_at.into(),
        }
    }
}

/// A coupon campaign as it ran (`issueCoupons`): who issued which template
/// to which segment (none: a hand-picked list), and how many coupons.
pub struct Campaign(pub entity::campaign::Model);

#[Object]
impl Campaign {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The staff account that issued (the owner's `staff` list names it).
    async fn staff_id(&self) -> ID {
        to_id(self.0.admin_id)
    }
    async fn template_id(&self) -> ID {
        to_id(self.0.template_id)
    }
    /// The template as it is now (null if it is gone).
    async fn template(&self, ctx: &Context<'_>) -> Result<Option<CouponTemplate>> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::templates_by_ids(&state.db, &[self.0.template_id])
            .await?
            .into_iter()
            .next()
            .map(CouponTemplate))
    }
    /// The segment it went to; null for a hand-picked list. It may have
    /// been deleted since.
    async fn segment_id(&self) -> Option<ID> {
        self.0.segment_id.map(to_id)
    }
    /// The segment's name when the campaign ran.
    async fn segment_name(&self) -> Option<&str> {
        self.0.segment_name.as_deref()
    }
    /// Coupons issued, one per customer.
    async fn issued(&self) -> i32 {
        i32::try_from(self.0.issued).unwrap_or(i32::MAX)
    }
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
}
