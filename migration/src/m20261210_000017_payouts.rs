//! Withdrawals paid through WeChat Pay's merchant transfer (商家转账).
//!
//! A withdrawal gains its transfer bill: `out_bill_no` (unique: WeChat Pay
//! is idempotent on it, so a retried creation can never open a second
//! bill), the bill's number, state and `package_info`, why it failed, when
//! the jobs pass next looks at it, and the real name a large transfer needs.
//! `withdrawal_entry` is the append-only ledger of what withdrawals did to
//! a promoter's withdrawable balance (HOLD when asked, RELEASE when the
//! money came back); its unique (withdrawal, kind) is what makes giving the
//! money back happen once however many notifications and queries race.
//! `withdrawal_day` counts what was approved automatically per China day,
//! per promoter and for the store, so the daily caps hold under concurrency
//! (one conditional update each).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            string_null(Withdrawal::OutBillNo).to_owned(),
            string_null(Withdrawal::TransferBillNo).to_owned(),
            text_null(Withdrawal::TransferPackage).to_owned(),
            string_null(Withdrawal::TransferState).to_owned(),
            string_null(Withdrawal::FailureReason).to_owned(),
            string_null(Withdrawal::RealName).to_owned(),
            boolean(Withdrawal::AutoApproved).default(false).to_owned(),
            timestamp_with_time_zone_null(Withdrawal::ApprovedAt).to_owned(),
            timestamp_with_time_zone_null(Withdrawal::TransferCreatedAt).to_owned(),
            timestamp_with_time_zone_null(Withdrawal::FinishedAt).to_owned(),
            integer(Withdrawal::Attempts).default(0).to_owned(),
            string_null(Withdrawal::LastError).to_owned(),
            timestamp_with_time_zone_null(Withdrawal::NextCheckAt).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Withdrawal::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("uq_withdrawal_out_bill_no")
                    .table(Withdrawal::Table)
                    .col(Withdrawal::OutBillNo)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_withdrawal_status_due")
                    .table(Withdrawal::Table)
                    .col(Withdrawal::Status)
                    .col(Withdrawal::NextCheckAt)
                    .to_owned(),
            )
            .await?;
        // The contract's name for a withdrawal waiting for the store.
        manager
            .exec_stmt(
                Query::update()
                    .table(Withdrawal::Table)
                    .value(Withdrawal::Status, "REQUESTED")
                    .and_where(Expr::col(Withdrawal::Status).eq("PENDING"))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(WithdrawalEntry::Table)
                    .col(big_pk_auto(WithdrawalEntry::Id))
                    .col(big_integer(WithdrawalEntry::PromoterId))
                    .col(big_integer(WithdrawalEntry::WithdrawalId))
                    .col(string(WithdrawalEntry::Kind))
                    .col(big_integer(WithdrawalEntry::AmountFen))
                    .col(string_null(WithdrawalEntry::Reason))
                    .col(timestamp_with_time_zone(WithdrawalEntry::CreatedAt))
                    // HOLD takes from the balance, RELEASE gives back.
                    .check(
                        Expr::col(WithdrawalEntry::Kind)
                            .eq("HOLD")
                            .and(Expr::col(WithdrawalEntry::AmountFen).lt(0))
                            .or(Expr::col(WithdrawalEntry::Kind)
                                .eq("RELEASE")
                                .and(Expr::col(WithdrawalEntry::AmountFen).gt(0))),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WithdrawalEntry::Table, WithdrawalEntry::WithdrawalId)
                            .to(Withdrawal::Table, Withdrawal::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_withdrawal_entry_kind")
                    .table(WithdrawalEntry::Table)
                    .col(WithdrawalEntry::WithdrawalId)
                    .col(WithdrawalEntry::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_withdrawal_entry_promoter")
                    .table(WithdrawalEntry::Table)
                    .col(WithdrawalEntry::PromoterId)
                    .col(WithdrawalEntry::Id)
                    .to_owned(),
            )
            .await?;
        // The ledger of the withdrawals made before it: each held its
        // amount, and a rejected one gave it back.
        for (kind, sign, only_rejected) in [("HOLD", -1i64, false), ("RELEASE", 1, true)] {
            let mut select = Query::select();
            select
                .expr(Expr::col(Withdrawal::PromoterId))
                .expr(Expr::col(Withdrawal::Id))
                .expr(Expr::val(kind))
                .expr(Expr::col(Withdrawal::AmountFen).mul(sign))
                .expr(Expr::col(Withdrawal::CreatedAt))
                .from(Withdrawal::Table);
            if only_rejected {
                select.and_where(Expr::col(Withdrawal::Status).eq("REJECTED"));
            }
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(WithdrawalEntry::Table)
                        .columns([
                            WithdrawalEntry::PromoterId,
                            WithdrawalEntry::WithdrawalId,
                            WithdrawalEntry::Kind,
                            WithdrawalEntry::AmountFen,
                            WithdrawalEntry::CreatedAt,
                        ])
                        .select_from(select)
                        .map_err(|e| DbErr::Migration(e.to_string()))?
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(WithdrawalDay::Table)
                    .col(string(WithdrawalDay::Day))
                    .col(string(WithdrawalDay::Scope))
                    .col(big_integer(WithdrawalDay::TotalFen).default(0))
                    .primary_key(
                        Index::create()
                            .col(WithdrawalDay::Day)
                            .col(WithdrawalDay::Scope),
                    )
                    .check(Expr::col(WithdrawalDay::TotalFen).gte(0))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WithdrawalDay::Table.into_iden(),
            WithdrawalEntry::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .exec_stmt(
                Query::update()
                    .table(Withdrawal::Table)
                    .value(Withdrawal::Status, "PENDING")
                    .and_where(Expr::col(Withdrawal::Status).eq("REQUESTED"))
                    .to_owned(),
            )
            .await?;
        for index in ["idx_withdrawal_status_due", "uq_withdrawal_out_bill_no"] {
            manager
                .drop_index(
                    Index::drop()
                        .name(index)
                        .table(Withdrawal::Table)
                        .to_owned(),
                )
                .await?;
        }
        for column in [
            Withdrawal::NextCheckAt,
            Withdrawal::LastError,
            Withdrawal::Attempts,
            Withdrawal::FinishedAt,
            Withdrawal::TransferCreatedAt,
            Withdrawal::ApprovedAt,
            Withdrawal::AutoApproved,
            Withdrawal::RealName,
            Withdrawal::FailureReason,
            Withdrawal::TransferState,
            Withdrawal::TransferPackage,
            Withdrawal::TransferBillNo,
            Withdrawal::OutBillNo,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Withdrawal::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Withdrawal {
    Table,
    Id,
    PromoterId,
    AmountFen,
    Status,
    CreatedAt,
    OutBillNo,
    TransferBillNo,
    TransferPackage,
    TransferState,
    FailureReason,
    RealName,
    AutoApproved,
    ApprovedAt,
    TransferCreatedAt,
    FinishedAt,
    Attempts,
    LastError,
    NextCheckAt,
}

#[derive(DeriveIden)]
enum WithdrawalEntry {
    Table,
    Id,
    PromoterId,
    WithdrawalId,
    Kind,
    AmountFen,
    Reason,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WithdrawalDay {
    Table,
    Day,
    Scope,
    TotalFen,
}
