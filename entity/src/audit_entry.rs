//! One successful staff mutation (append-only).
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_entry")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The staff account's id.
    pub actor_id: i64,
    /// Its username at the time.
    pub actor: String,
    /// The mutation's name (`approveRefund`).
    pub action: String,
    /// The id it acted on, when it names one.
    pub target: Option<String>,
    /// The arguments as JSON, secrets redacted.
    pub arguments: String,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
