//! A staff account that signs in to the admin console (the table keeps its
//! first name, from when there was one admin).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "admin")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub username: String,
    /// argon2id PHC string; the password itself is never stored.
    pub password_hash: String,
    pub created_at: DateTimeUtc,
    /// `OWNER`, `OPERATIONS`, `CUSTOMER_SERVICE` or `FINANCE`; never
    /// changes (a new role is a new account).
    pub role: String,
    /// A disabled account cannot sign in and its sessions have ended.
    pub active: bool,
}

impl ActiveModelBehavior for ActiveModel {}
