//! WeChat refunds followed to the end and payments reconciled: a refund
//! records its attempts, the last error, when it is next due (a retry, or a
//! query of one WeChat Pay has not answered for), and why it failed; each
//! day's trade bill is reconciled once (the row is the claim that several
//! instances race for) and its differences kept for the admin.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            integer(Refund::Attempts).default(0).to_owned(),
            timestamp_with_time_zone_null(Refund::NextAttemptAt).to_owned(),
            string_null(Refund::LastError).to_owned(),
            string_null(Refund::FailureReason).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Refund::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // Refunds still waiting to be sent are due at once.
        manager
            .exec_stmt(
                Query::update()
                    .table(Refund::Table)
                    .value(Refund::NextAttemptAt, Expr::col(Refund::UpdatedAt))
                    .and_where(Expr::col(Refund::Status).eq("APPROVED"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refund_status_due")
                    .table(Refund::Table)
                    .col(Refund::Status)
                    .col(Refund::NextAttemptAt)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Reconciliation::Table)
                    .col(big_pk_auto(Reconciliation::Id))
                    .col(string_uniq(Reconciliation::BillDate))
                    .col(string(Reconciliation::Status))
                    .col(integer(Reconciliation::Matched).default(0))
                    .col(string_null(Reconciliation::Error))
                    .col(timestamp_with_time_zone(Reconciliation::ClaimedAt))
                    .col(timestamp_with_time_zone_null(Reconciliation::FinishedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReconciliationDifference::Table)
                    .col(big_pk_auto(ReconciliationDifference::Id))
                    .col(big_integer(ReconciliationDifference::ReconciliationId))
                    .col(string(ReconciliationDifference::Kind))
                    .col(string_null(ReconciliationDifference::OutTradeNo))
                    .col(string_null(ReconciliationDifference::OutRefundNo))
                    .col(big_integer(ReconciliationDifference::AmountFen))
                    .col(string(ReconciliationDifference::Detail))
                    .col(timestamp_with_time_zone(
                        ReconciliationDifference::CreatedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ReconciliationDifference::Table,
                                ReconciliationDifference::ReconciliationId,
                            )
                            .to(Reconciliation::Table, Reconciliation::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_reconciliation_difference_run")
                    .table(ReconciliationDifference::Table)
                    .col(ReconciliationDifference::ReconciliationId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(ReconciliationDifference::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(Reconciliation::Table).to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_refund_status_due")
                    .table(Refund::Table)
                    .to_owned(),
            )
            .await?;
        for column in [
            Refund::FailureReason,
            Refund::LastError,
            Refund::NextAttemptAt,
            Refund::Attempts,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Refund::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Refund {
    Table,
    Status,
    UpdatedAt,
    Attempts,
    NextAttemptAt,
    LastError,
    FailureReason,
}

#[derive(DeriveIden)]
enum Reconciliation {
    Table,
    Id,
    BillDate,
    Status,
    Matched,
    Error,
    ClaimedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum ReconciliationDifference {
    Table,
    Id,
    ReconciliationId,
    Kind,
    OutTradeNo,
    OutRefundNo,
    AmountFen,
    Detail,
    CreatedAt,
}
