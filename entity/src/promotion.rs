//! A store-wide full-reduction promotion (满减): `off_fen` off goods of at
//! least `threshold_fen`, between `starts_at` and `ends_at`.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "promotion")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub threshold_fen: i64,
    pub off_fen: i64,
    pub starts_at: DateTimeUtc,
    pub ends_at: DateTimeUtc,
    pub active: bool,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
