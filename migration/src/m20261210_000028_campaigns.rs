//! The record of coupon campaigns (`issueCoupons`): who issued which
//! template to which segment (or to a hand-picked list) and how many
//! coupons, listed by `campaigns`. `coupon_issue` keeps only the calls made
//! with an idempotency key (it is their replay guard), so it cannot be the
//! record. The segment's name is kept with the row: a segment may be
//! renamed or deleted after its campaign ran.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Campaign::Table)
                    .col(big_pk_auto(Campaign::Id))
                    .col(big_integer(Campaign::AdminId))
                    .col(big_integer(Campaign::TemplateId))
                    .col(big_integer_null(Campaign::SegmentId))
                    .col(string_null(Campaign::SegmentName))
                    .col(big_integer(Campaign::Issued))
                    .col(timestamp_with_time_zone(Campaign::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Campaign::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum Campaign {
    Table,
    Id,
    AdminId,
    TemplateId,
    SegmentId,
    SegmentName,
    Issued,
    CreatedAt,
}
