//! Login mutations: mini-program, admin, refresh.
use async_graphql::{Context, ID, Object, Result, connection::Connection};

use super::{
    service::{self, Tokens},
    sessions, staff,
    types::{AuthPayload, Staff, StaffInput, WechatLoginInput},
};
use crate::{
    api::{
        ids::parse_id,
        pagination::{decode_cursor, id_connection, page_size},
    },
    auth::{Role, ViewerExt, session::Session, staff as may},
    cache::keys,
    error::{AppError, AppResult},
    modules::customer,
    modules::customer::types::Customer,
    modules::supplier::types::{Supplier, SupplierKey},
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

    /// Admin console login, for any active staff account: `staffRole` says
    /// what the account may do. A disabled account is `UNAUTHENTICATED`.
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
        let tokens = service::supplier_login(state, &api_key).await?;
        Ok(payload(tokens, None))
    }

    /// Exchanges a refresh token for a new pair. Each refresh token works
    /// once; presenting a used one again signs out its whole session family,
    /// except within `REFRESH_REUSE_GRACE_SECS` (default 10) of its first
    /// use, which answers the same new pair again (concurrent refreshes).
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

    /// Ends the caller's session (CUSTOMER, ADMIN, SUPPLIER): its refresh
    /// token stops working, and so does this access token, at once.
    async fn logout(&self, ctx: &Context<'_>) -> Result<bool> {
        let state = ctx.data_unchecked::<AppState>();
        // Any role may sign out; only a valid token has a session to end.
        ctx.viewer().any_role()?;
        let session = ctx.data_opt::<Session>().ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("a signed-in viewer without a session"))
        })?;
        sessions::logout(state, &session.sid).await?;
        Ok(true)
    }
}

/// Withdrawing a supplier's credentials (ADMIN).
#[derive(Default)]
pub struct SupplierCredentialsMutation;

#[Object]
impl SupplierCredentialsMutation {
    /// Gives a supplier a new API key (ADMIN: OPERATIONS), shown in the answer this once.
    /// The old key stops working at once, and so does every session signed
    /// in with it: the integration signs in again with the new key.
    async fn rotate_supplier_key(&self, ctx: &Context<'_>, supplier_id: ID) -> Result<SupplierKey> {
        ctx.viewer().staff_id(may::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&supplier_id, "supplierId")?;
        let (found, api_key) = sessions::rotate_supplier_key(state, id).await?;
        Ok(SupplierKey {
            supplier: Supplier(found),
            api_key,
        })
    }

    /// Enables or disables a supplier (ADMIN: OPERATIONS). A disabled supplier cannot
    /// sign in, and its access and refresh tokens stop working at once.
    async fn set_supplier_active(
        &self,
        ctx: &Context<'_>,
        supplier_id: ID,
        active: bool,
    ) -> Result<Supplier> {
        ctx.viewer().staff_id(may::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&supplier_id, "supplierId")?;
        Ok(Supplier(
            sessions::set_supplier_active(state, id, active).await?,
        ))
    }
}

fn payload(tokens: Tokens, found: Option<entity::customer::Model>) -> AuthPayload {
    AuthPayload {
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        expires_at: tokens.expires_at.into(),
        role: tokens.role,
        customer: found.map(Customer::own),
        staff_role: tokens.staff,
    }
}

/// Managing staff accounts (ADMIN: OWNER).
#[derive(Default)]
pub struct StaffMutation;

#[Object]
impl StaffMutation {
    /// Creates a staff account (ADMIN: OWNER). A username already taken is
    /// `CONFLICT`; the password is 12 to 256 characters.
    async fn create_staff(&self, ctx: &Context<'_>, input: StaffInput) -> Result<Staff> {
        ctx.viewer().staff_id(may::OWNER)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Staff(
            staff::create(state, &input.username, &input.password, input.role).await?,
        ))
    }

    /// Enables or disables a staff account (ADMIN: OWNER). Disabling ends
    /// its sessions at once; an owner cannot disable their own account, and
    /// the last active OWNER cannot be disabled (`CONFLICT`).
    async fn set_staff_active(&self, ctx: &Context<'_>, id: ID, active: bool) -> Result<Staff> {
        let actor = ctx.viewer().staff_id(may::OWNER)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(Staff(staff::set_active(state, actor, id, active).await?))
    }

    /// Gives a staff account a new password (ADMIN: OWNER), 12 to 256
    /// characters; its sessions end at once. The account from
    /// `ADMIN_USERNAME` takes `ADMIN_PASSWORD` again at the next start.
    async fn reset_staff_password(
        &self,
        ctx: &Context<'_>,
        id: ID,
        password: String,
    ) -> Result<Staff> {
        ctx.viewer().staff_id(may::OWNER)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(Staff(staff::reset_password(state, id, &password).await?))
    }
}

#[derive(Default)]
pub struct StaffQuery;

#[Object]
impl StaffQuery {
    /// The staff accounts, newest first (ADMIN: OWNER).
    async fn staff(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Staff>> {
        ctx.viewer().staff_id(may::OWNER)?;
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let (rows, more) = staff::list(state, first, after).await?;
        Ok(id_connection(
            rows.into_iter().map(|r| (r.id, Staff(r))).collect(),
            more,
            after.is_some(),
        ))
    }

    /// The signed-in staff account (ADMIN: any staff role), so the console
    /// knows its role.
    async fn viewer_staff(&self, ctx: &Context<'_>) -> Result<Staff> {
        let id = ctx.viewer().staff_id(may::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Staff(staff::get(state, id).await?))
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
