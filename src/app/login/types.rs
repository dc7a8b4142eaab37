//! GraphQL shapes of the logins.
use async_graphql::{ID, InputObject, Object, SimpleObject};

use crate::api::{ids::to_id, scalars::Timestamp};
use crate::{
    auth::{Role, StaffRole},
    modules::customer::types::Customer,
};

/// Tokens returned by every login and by `refreshToken`.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// Single use: exchange it with `refreshToken` for a new pair.
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: Timestamp,
    /// The role the tokens carry.
    pub role: Role,
    /// The signed-in customer (for the CUSTOMER role).
    pub customer: Option<Customer>,
    /// The staff role (for the ADMIN role): what the console may show.
    pub staff_role: Option<StaffRole>,
}

/// A staff account (the ADMIN role).
pub struct Staff(pub entity::admin::Model);

#[Object]
impl Staff {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }

    async fn username(&self) -> &str {
        &self.0.username
    }

    /// What it may do; never changes.
    async fn role(&self) -> async_graphql::Result<StaffRole> {
        StaffRole::parse(&self.0.role).ok_or_else(|| {
            crate::error::AppError::internal(anyhow::anyhow!("bad staff role {}", self.0.role))
                .into()
        })
    }

    /// A disabled account cannot sign in.
    async fn active(&self) -> bool {
        self.0.active
    }

    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
}

/// A new staff account.
#[derive(InputObject)]
pub struct StaffInput {
    /// 1-64 letters, digits, `.`, `_`, `-` or `@`; unique.
    pub username: String,
    /// 12 to 256 characters.
    pub password: String,
    pub role: StaffRole,
}

/// Mini-program login.
#[derive(InputObject)]
pub struct WechatLoginInput {
    /// The code from `wx.login()` (or `demo:<name>` in demo mode).
    pub code: String,
    /// The inviter's referral code; bound on the first login only.
    pub referral_code: Option<String>,
    /// Traffic entry (QR code, share, ad channel); recorded on the first login.
    pub scene: Option<String>,
    /// Display name from the mini-program profile.
    pub nickname: Option<String>,
    /// Avatar URL from the mini-program profile.
    pub avatar_url: Option<String>,
}
