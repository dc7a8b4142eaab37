//! One-time subscription consents a customer accepted for a template and
//! has not yet spent.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subscription_consent")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub customer_id: i64,
    pub template_id: String,
    /// Messages that may still be sent under this template.
    pub available: i32,
    /// When a consent was last granted (spending one does not change it):
    /// only events after it are paid for with it.
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
