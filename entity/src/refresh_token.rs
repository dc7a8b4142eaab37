//! One refresh token of a rotation family.
//!
//! Only the SHA-256 of the token is stored. Each refresh marks the row used and
//! issues a new row in the same family; presenting a used token again revokes
//! the whole family (it was stolen or replayed).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_token")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub token_hash: String,
    pub family_id: String,
    /// `CUSTOMER`, `ADMIN` or `SUPPLIER`.
    pub role: String,
    pub subject_id: i64,
    pub expires_at: DateTimeUtc,
    pub used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
