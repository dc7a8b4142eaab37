//! Referral distribution (分销): the commission rule (append-only versions),
//! promoters with their withdrawable balance, commissions and withdrawals.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CommissionRule::Table)
                    .col(big_pk_auto(CommissionRule::Id))
                    .col(integer(CommissionRule::Level1Percent))
                    .col(integer(CommissionRule::Level2Percent))
                    .col(integer(CommissionRule::SettleAfterDays))
                    .col(string(CommissionRule::Base))
                    .col(string(CommissionRule::PromoterMode))
                    .col(big_integer_null(CommissionRule::AdminId))
                    .col(timestamp_with_time_zone(CommissionRule::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Promoter::Table)
                    .col(big_integer(Promoter::CustomerId).primary_key())
                    .col(string(Promoter::Status))
                    .col(big_integer(Promoter::WithdrawableFen))
                    .col(big_integer(Promoter::OwedFen))
                    .col(timestamp_with_time_zone(Promoter::AppliedAt))
                    .col(timestamp_with_time_zone_null(Promoter::ReviewedAt))
                    .check(Expr::col(Promoter::WithdrawableFen).gte(0))
                    .check(Expr::col(Promoter::OwedFen).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Commission::Table)
                    .col(big_pk_auto(Commission::Id))
                    .col(big_integer(Commission::OrderId))
                    .col(big_integer(Commission::BeneficiaryId))
                    .col(big_integer(Commission::BuyerId))
                    .col(integer(Commission::Level))
                    .col(string(Commission::Kind))
                    .col(big_integer(Commission::BaseFen))
                    .col(integer(Commission::Percent))
                    .col(big_integer(Commission::AmountFen))
                    .col(string(Commission::Status))
                    .col(integer(Commission::SettleAfterDays))
                    .col(timestamp_with_time_zone(Commission::CreatedAt))
                    .col(timestamp_with_time_zone_null(Commission::SettledAt))
                    .check(Expr::col(Commission::Level).between(1, 2))
                    .to_owned(),
            )
            .await?;
        // Exactly once per order, level and kind, however often a payment is confirmed.
        manager
            .create_index(
                Index::create()
                    .name("uq_commission_order_level_kind")
                    .table(Commission::Table)
                    .col(Commission::OrderId)
                    .col(Commission::Level)
                    .col(Commission::Kind)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_commission_beneficiary")
                    .table(Commission::Table)
                    .col(Commission::BeneficiaryId)
                    .col(Commission::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_commission_status")
                    .table(Commission::Table)
                    .col(Commission::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Withdrawal::Table)
                    .col(big_pk_auto(Withdrawal::Id))
                    .col(big_integer(Withdrawal::PromoterId))
                    .col(big_integer(Withdrawal::AmountFen))
                    .col(string(Withdrawal::Status))
                    .col(boolean(Withdrawal::ToWallet))
                    .col(string_null(Withdrawal::Note))
                    .col(string(Withdrawal::IdempotencyKey))
                    .col(big_integer_null(Withdrawal::AdminId))
                    .col(timestamp_with_time_zone(Withdrawal::CreatedAt))
                    .col(timestamp_with_time_zone_null(Withdrawal::ReviewedAt))
                    .check(Expr::col(Withdrawal::AmountFen).gt(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_withdrawal_key")
                    .table(Withdrawal::Table)
                    .col(Withdrawal::PromoterId)
                    .col(Withdrawal::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Withdrawal::Table.into_iden(),
            Commission::Table.into_iden(),
            Promoter::Table.into_iden(),
            CommissionRule::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CommissionRule {
    Table,
    Id,
    Level1Percent,
    Level2Percent,
    SettleAfterDays,
    Base,
    PromoterMode,
    AdminId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Promoter {
    Table,
    CustomerId,
    Status,
    WithdrawableFen,
    OwedFen,
    AppliedAt,
    ReviewedAt,
}

#[derive(DeriveIden)]
enum Commission {
    Table,
    Id,
    OrderId,
    BeneficiaryId,
    BuyerId,
    Level,
    Kind,
    BaseFen,
    Percent,
    AmountFen,
    Status,
    SettleAfterDays,
    CreatedAt,
    SettledAt,
}

#[derive(DeriveIden)]
enum Withdrawal {
    Table,
    Id,
    PromoterId,
    AmountFen,
    Status,
    ToWallet,
    Note,
    IdempotencyKey,
    AdminId,
    CreatedAt,
    ReviewedAt,
}
