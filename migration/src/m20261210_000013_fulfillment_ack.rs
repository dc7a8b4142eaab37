//! A supplier acknowledges the fulfillments it has received: until it does,
//! its stock report may not yet count their units as gone, so the stock
//! sync subtracts them (with those of unpaid orders). The admin's queues of
//! refunds and withdrawals read newest first by id, filtered by status:
//! indexes for both.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Fulfillment::Table)
                    .add_column(timestamp_with_time_zone_null(Fulfillment::AcknowledgedAt))
                    .to_owned(),
            )
            .await?;
        // The stock sync reads a supplier's pending, unacknowledged
        // fulfillments: few, whatever its history (SQLite and PostgreSQL
        // both take partial indexes).
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_fulfillment_unacknowledged ON fulfillment (supplier_id) \
                 WHERE status = 'PENDING' AND acknowledged_at IS NULL",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refund_status_id")
                    .table(Refund::Table)
                    .col(Refund::Status)
                    .col(Refund::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_withdrawal_status_id")
                    .table(Withdrawal::Table)
                    .col(Withdrawal::Status)
                    .col(Withdrawal::Id)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_withdrawal_status_id")
                    .table(Withdrawal::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_refund_status_id")
                    .table(Refund::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_fulfillment_unacknowledged")
                    .table(Fulfillment::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Fulfillment::Table)
                    .drop_column(Fulfillment::AcknowledgedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Fulfillment {
    Table,
    AcknowledgedAt,
}

#[derive(DeriveIden)]
enum Refund {
    Table,
    Id,
    Status,
}

#[derive(DeriveIden)]
enum Withdrawal {
    Table,
    Id,
    Status,
}
