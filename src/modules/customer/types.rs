//! GraphQL shapes of a customer.
use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject, dataloader::DataLoader};
use chrono::Utc;

use crate::api::scalars::Timestamp;
use crate::{
    api::scalars::Money,
    auth::ViewerExt,
    modules::operations::{loader as ops_loader, scoring, service as ops, types as ops_types},
    state::AppState,
};

/// A shopper of the store. Anyone who meets one (a promoter its buyers)
/// sees its id, nickname and avatar; the rest is for the customer itself and
/// ADMIN.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Customer {
    /// Opaque id of the customer.
    pub id: ID,
    /// Display name from the mini-program profile.
    pub nickname: Option<String>,
    /// Avatar URL from the mini-program profile.
    pub avatar_url: Option<String>,
    #[graphql(skip)]
    pub referral_code: String,
    #[graphql(skip)]
    pub created_at: Timestamp,
    #[graphql(skip)]
    pub referrer_id: Option<i64>,
    #[graphql(skip)]
    pub scene_value: Option<String>,
    #[graphql(skip)]
    pub raw_id: i64,
    /// Built for the customer itself (login payloads, `me`), whose private
    /// fields it may see even before its token is in the request.
    #[graphql(skip)]
    pub is_self: bool,
}

#[ComplexObject]
impl Customer {
    /// The code this customer shares to invite others (self or ADMIN).
    async fn referral_code(&self, ctx: &Context<'_>) -> Result<&str> {
        self.private(ctx)?;
        Ok(&self.referral_code)
    }

    /// When the customer first signed in (self or ADMIN).
    async fn created_at(&self, ctx: &Context<'_>) -> Result<Timestamp> {
        self.private(ctx)?;
        Ok(self.created_at)
    }

    /// Who invited this customer, bound at the first login and never
    /// changed (self or ADMIN: a promoter seeing its buyers must not walk
    /// up their inviter chain).
    async fn referrer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        self.private(ctx)?;
        let Some(id) = self.referrer_id else {
            return Ok(None);
        };
        let state = ctx.data_unchecked::<AppState>();
        Ok(crate::modules::customer::service::find(state, id)
            .await?
            .map(Into::into))
    }

    /// The paid membership, if the customer ever bought one (self or ADMIN).
    async fn membership(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::modules::membership::types::Membership>> {
        self.private(ctx)?;
        let state = ctx.data_unchecked::<AppState>();
        let found =
            crate::modules::membership::service::membership_of(&state.db, self.raw_id).await?;
        Ok(found.map(|(m, p)| crate::modules::membership::types::Membership(m, p)))
    }

    /// The promoter account, if the customer is one (self or ADMIN).
    async fn promoter(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::modules::referral::types::Promoter>> {
        self.private(ctx)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(
            crate::modules::referral::service::promoter_of(&state.db, self.raw_id)
                .await?
                .map(crate::modules::referral::types::Promoter::new),
        )
    }

    /// The stored-value wallet (self or ADMIN).
    async fn wallet(&self, ctx: &Context<'_>) -> Result<crate::modules::wallet::types::Wallet> {
        self.private(ctx)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(crate::modules::wallet::types::Wallet(
            crate::modules::wallet::service::wallet_of(state, self.raw_id).await?,
        ))
    }

    /// Traffic entry of the first login (QR code, share, ad channel).
    /// Visible to ADMIN and to the customer itself; null for anyone else.
    async fn scene(&self, ctx: &Context<'_>) -> Option<String> {
        let viewer = ctx.viewer();
        let allowed =
            self.is_self || viewer.is_admin() || viewer.customer_id().ok() == Some(self.raw_id);
        if allowed {
            self.scene_value.clone()
        } else {
            None
        }
    }

    // Customer operations: ADMIN only (FORBIDDEN for anyone else, the
    // customer itself included).

    /// Purchases: goods orders paid and not refunded (ADMIN).
    async fn stats(&self, ctx: &Context<'_>) -> Result<ops_types::CustomerStats> {
        let s = self.stats_row(ctx).await?;
        Ok(ops_types::CustomerStats::of(s.as_ref(), Utc::now()))
    }

    /// RFM scores over the store's buyers; null before the first purchase (ADMIN).
    async fn rfm(&self, ctx: &Context<'_>) -> Result<Option<ops_types::Rfm>> {
        let Some(s) = self.stats_row(ctx).await?.filter(|s| s.orders_count > 0) else {
            return Ok(None);
        };
        let state = ctx.data_unchecked::<AppState>();
        let scale = ops::store_scale(state).await?;
        Ok(Some(ops_types::Rfm::of(&s, &scale.cutoffs, Utc::now())))
    }

    /// NEW before the first purchase, then by days since the last one (ADMIN).
    async fn lifecycle_stage(&self, ctx: &Context<'_>) -> Result<ops_types::LifecycleStage> {
        let s = self.stats_row(ctx).await?;
        let state = ctx.data_unchecked::<AppState>();
        let last = ops::bought(s.as_ref()).map(|s| s.last_paid_at);
        Ok(scoring::stage(last, Utc::now(), ops::thresholds(state)).into())
    }

    /// Lifetime value to date: what its paid, not refunded goods orders
    /// brought in (ADMIN).
    async fn clv_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        let s = self.stats_row(ctx).await?;
        Ok(Money(ops::bought(s.as_ref()).map_or(0, |s| s.spent_fen)))
    }

    /// Purchase frequency × gross margin rate × recommendation index (1 +
    /// the customers it invited who bought + what they spent in average
    /// orders); 0 before the first purchase (ADMIN).
    async fn user_value(&self, ctx: &Context<'_>) -> Result<f64> {
        let Some(s) = self.stats_row(ctx).await?.filter(|s| s.orders_count > 0) else {
            return Ok(0.0);
        };
        let state = ctx.data_unchecked::<AppState>();
        let (invited, invited_spent) = ops::invited_buyers(state, self.raw_id).await?;
        let scale = ops::store_scale(state).await?;
        Ok(scoring::user_value(
            i64::from(s.orders_count),
            s.costed_fen,
            s.margin_fen,
            invited,
            invited_spent,
            scale.average_order_fen,
        ))
    }

    /// Tags the store put on the customer, in order (ADMIN).
    async fn tags(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let loader = ctx.data_unchecked::<DataLoader<ops_loader::TagsLoader>>();
        Ok(loader.load_one(self.raw_id).await?.unwrap_or_default())
    }
}

impl Customer {
    async fn stats_row(&self, ctx: &Context<'_>) -> Result<Option<entity::customer_stats::Model>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let loader = ctx.data_unchecked::<DataLoader<ops_loader::StatsLoader>>();
        Ok(loader.load_one(self.raw_id).await?)
    }
}

/// A list of customers; `totalCount` runs its count only when selected.
pub type CustomerConnection =
    async_graphql::connection::Connection<String, Customer, crate::api::pagination::TotalCount>;

impl From<entity::customer::Model> for Customer {
    fn from(m: entity::customer::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            nickname: m.nickname,
            avatar_url: m.avatar_url,
            referral_code: m.referral_code,
            created_at: m.created_at.into(),
            referrer_id: m.referrer_id,
            scene_value: m.scene,
            raw_id: m.id,
            is_self: false,
        }
    }
}

impl Customer {
    /// Private fields: the customer itself and ADMIN only.
    fn private(&self, ctx: &Context<'_>) -> Result<()> {
        let viewer = ctx.viewer();
        if self.is_self || viewer.is_admin() || viewer.customer_id().ok() == Some(self.raw_id) {
            Ok(())
        } else {
            Err(crate::error::AppError::Forbidden(
                "only the customer and the store see this".into(),
            )
            .into())
        }
    }

    /// The customer as seen by itself.
    pub fn own(m: entity::customer::Model) -> Self {
        Self {
            is_self: true,
            ..m.into()
        }
    }
}
