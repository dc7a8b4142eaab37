//! One day's reconciliation against WeChat Pay's trade bill; the row is
//! also the claim that decides which instance runs it.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "reconciliation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The bill's date, `YYYY-MM-DD` (China time, as WeChat Pay cuts bills).
    #[sea_orm(unique)]
    pub bill_date: String,
    /// `RUNNING`, `DONE` or `FAILED`.
    pub status: String,
    /// Bill rows that matched a record.
    pub matched: i32,
    pub error: Option<String>,
    pub claimed_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

impl ActiveModelBehavior for ActiveModel {}
