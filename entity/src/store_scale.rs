//! The store's buyers as RFM sees them (cutoffs and average order), one
//! row (id 1) that the jobs loop recomputes; requests only read it.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "store_scale")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    /// JSON of `operations::service::StoreScale`; null until computed.
    pub scale: Option<String>,
    pub computed_at: Option<DateTimeUtc>,
    /// The instance that set it last recomputes the row (a conditional
    /// update claims it, so one instance works per period).
    pub claimed_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
