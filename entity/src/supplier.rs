//! A drop-shipping supplier (一件代发) and its integration's credentials.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "supplier")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub contact: Option<String>,
    pub webhook_url: Option<String>,
    /// SHA-256 of the API key; the key itself is shown once and never stored.
    #[sea_orm(unique)]
    pub api_key_hash: String,
    /// Key for signing webhook deliveries to this supplier (HMAC-SHA256).
    pub webhook_secret: String,
    /// A disabled supplier's integration cannot sign in, and its sessions
    /// were ended when it was disabled.
    pub active: bool,
    /// Where buyers send back what this supplier shipped.
    #[sea_orm(column_type = "Text", nullable)]
    pub return_address: Option<String>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
