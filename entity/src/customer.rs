//! A shopper, found by the WeChat openid of the mini-program.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "customer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// WeChat openid for this mini-program (or `demo:<name>` in demo mode).
    #[sea_orm(unique)]
    pub openid: String,
    /// WeChat unionid, when the mini-program is bound to an open platform account.
    pub unionid: Option<String>,
    pub nickname: Option<String>,
    pub avatar_url: Option<String>,
    /// Short code this customer shares to invite others.
    #[sea_orm(unique)]
    pub referral_code: String,
    /// The inviter bound at the first login; never re-bound.
    pub referrer_id: Option<i64>,
    /// Traffic entry of the first login (QR code, share, ad channel).
    pub scene: Option<String>,
    pub created_at: DateTimeUtc,
    pub last_login_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
