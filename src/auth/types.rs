//! GraphQL shapes of authentication.
use async_graphql::{Enum, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::modules::customer::types::Customer;

/// What a caller is allowed to do.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// A shopper in the mini-program.
    Customer,
    /// A store operator.
    Admin,
    /// A drop-shipping supplier's integration.
    Supplier,
}

impl Role {
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Customer => "CUSTOMER",
            Role::Admin => "ADMIN",
            Role::Supplier => "SUPPLIER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "CUSTOMER" => Some(Role::Customer),
            "ADMIN" => Some(Role::Admin),
            "SUPPLIER" => Some(Role::Supplier),
            _ => None,
        }
    }
}

/// Tokens returned by every login and by `refreshToken`.
#[derive(SimpleObject)]
pub struct AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// Single use: exchange it with `refreshToken` for a new pair.
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
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
