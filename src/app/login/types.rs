//! GraphQL shapes of the logins.
use async_graphql::{InputObject, SimpleObject};

use crate::api::scalars::Timestamp;
use crate::{auth::Role, modules::customer::types::Customer};

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
