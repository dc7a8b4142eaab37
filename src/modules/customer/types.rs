//! GraphQL shapes of a customer.
use async_graphql::{ComplexObject, Context, ID, Result, SimpleObject};
use chrono::{DateTime, Utc};

use crate::{auth::ViewerExt, state::AppState};

/// A shopper of the store.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Customer {
    /// Opaque id of the customer.
    pub id: ID,
    /// Display name from the mini-program profile.
    pub nickname: Option<String>,
    /// Avatar URL from the mini-program profile.
    pub avatar_url: Option<String>,
    /// The code this customer shares to invite others.
    pub referral_code: String,
    /// When the customer first signed in.
    pub created_at: DateTime<Utc>,
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
    /// Who invited this customer (bound at the first login, never changed).
    async fn referrer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
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
}

impl From<entity::customer::Model> for Customer {
    fn from(m: entity::customer::Model) -> Self {
        Self {
            id: ID(m.id.to_string()),
            nickname: m.nickname,
            avatar_url: m.avatar_url,
            referral_code: m.referral_code,
            created_at: m.created_at,
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
