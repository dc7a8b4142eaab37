//! Login mutations: mini-program, admin, refresh.
use async_graphql::{Context, Object, Result};

use super::{
    service::{self, Tokens},
    types::{AuthPayload, WechatLoginInput},
};
use crate::{
    auth::Role,
    cache::keys,
    error::{AppError, AppResult},
    modules::customer::types::Customer,
    modules::{customer, supplier},
    state::{AppState, ClientIp},
};

#[derive(Default)]
pub struct AuthMutation;

#[Object]
impl AuthMutation {
    /// Mini-program login with the code from `wx.login()`. The server calls
    /// WeChat's jscode2session; `referralCode` binds the inviter and `scene`
    /// records the traffic entry, both on the first login only.
    async fn wechat_login(
        &self,
        ctx: &Context<'_>,
        input: WechatLoginInput,
    ) -> Result<AuthPayload> {
        let state = ctx.data_unchecked::<AppState>();
        limit_login_attempts(ctx).await?;
        let found = service::wechat_login(state, input).await?;
        let tokens = service::issue_tokens(state, Role::Customer, found.id, None).await?;
        Ok(payload(tokens, Some(found)))
    }

    /// Admin panel login.
    async fn admin_login(
        &self,
        ctx: &Context<'_>,
        username: String,
        password: String,
    ) -> Result<AuthPayload> {
        let state = ctx.data_unchecked::<AppState>();
        limit_login_attempts(ctx).await?;
        if username.len() > 64 || password.len() > 256 {
            return Err(AppError::Unauthenticated("wrong username or password".into()).into());
        }
        let tokens = service::admin_login(state, &username, &password).await?;
        Ok(payload(tokens, None))
    }

    /// A supplier integration signs in with the API key it was given once.
    async fn supplier_login(&self, ctx: &Context<'_>, api_key: String) -> Result<AuthPayload> {
        let state = ctx.data_unchecked::<AppState>();
        limit_login_attempts(ctx).await?;
        let found = supplier::service::authenticate(state, &api_key).await?;
        let tokens = service::issue_tokens(state, Role::Supplier, found.id, None).await?;
        Ok(payload(tokens, None))
    }

    /// Exchanges a refresh token for a new pair. Each refresh token works
    /// once; presenting a used one again signs out its whole session family.
    async fn refresh_token(&self, ctx: &Context<'_>, refresh_token: String) -> Result<AuthPayload> {
        let state = ctx.data_unchecked::<AppState>();
        limit_login_attempts(ctx).await?;
        let tokens = service::rotate(state, &refresh_token).await?;
        let found = match tokens.role {
            Role::Customer => Some(customer::service::get(state, tokens.subject_id).await?),
            _ => None,
        };
        Ok(payload(tokens, found))
    }
}

fn payload(tokens: Tokens, found: Option<entity::customer::Model>) -> AuthPayload {
    AuthPayload {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_at: tokens.expires_at.into(),
        role: tokens.role,
        customer: found.map(Customer::own),
    }
}

/// Login attempts per client IP per minute (`LOGIN_RATE_LIMIT_PER_MIN`),
/// counted in the shared cache so that every instance sees the same count.
async fn limit_login_attempts(ctx: &Context<'_>) -> AppResult<()> {
    let state = ctx.data_unchecked::<AppState>();
    let ip = ctx
        .data_opt::<ClientIp>()
        .map(|c| c.0.as_str())
        .unwrap_or("unknown");
    crate::rate_limit::check(
        &state.cache,
        &keys::login_attempts(ip),
        state.settings.login_rate_limit_per_min,
        "too many login attempts from this address; wait a minute and try again",
    )
    .await
}
