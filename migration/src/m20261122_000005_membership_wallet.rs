//! Paid membership, stored-value top-ups, and the wallet with its ledger.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MembershipPlan::Table)
                    .col(big_pk_auto(MembershipPlan::Id))
                    .col(string(MembershipPlan::Name))
                    .col(big_integer(MembershipPlan::PriceFen))
                    .col(integer(MembershipPlan::DurationDays))
                    .col(integer(MembershipPlan::DiscountPercent))
                    .col(boolean(MembershipPlan::FreeShipping))
                    .col(boolean(MembershipPlan::Active))
                    .col(timestamp_with_time_zone(MembershipPlan::CreatedAt))
                    .check(Expr::col(MembershipPlan::PriceFen).gte(0))
                    .check(Expr::col(MembershipPlan::DiscountPercent).between(1, 100))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Membership::Table)
                    .col(big_integer(Membership::CustomerId).primary_key())
                    .col(big_integer(Membership::PlanId))
                    .col(timestamp_with_time_zone(Membership::StartedAt))
                    .col(timestamp_with_time_zone(Membership::ExpiresAt))
                    .col(timestamp_with_time_zone(Membership::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TopUpPlan::Table)
                    .col(big_pk_auto(TopUpPlan::Id))
                    .col(string(TopUpPlan::Name))
                    .col(big_integer(TopUpPlan::PayFen))
                    .col(big_integer(TopUpPlan::BonusFen))
                    .col(text(TopUpPlan::GiftCouponTemplateIds))
                    .col(boolean(TopUpPlan::Active))
                    .col(timestamp_with_time_zone(TopUpPlan::CreatedAt))
                    .check(Expr::col(TopUpPlan::PayFen).gt(0))
                    .check(Expr::col(TopUpPlan::BonusFen).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Wallet::Table)
                    .col(big_integer(Wallet::CustomerId).primary_key())
                    .col(big_integer(Wallet::PrincipalFen))
                    .col(big_integer(Wallet::BonusFen))
                    .col(timestamp_with_time_zone(Wallet::UpdatedAt))
                    // Backstop for the conditional updates of the ledger function.
                    .check(Expr::col(Wallet::PrincipalFen).gte(0))
                    .check(Expr::col(Wallet::BonusFen).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WalletTransaction::Table)
                    .col(big_pk_auto(WalletTransaction::Id))
                    .col(big_integer(WalletTransaction::CustomerId))
                    .col(string(WalletTransaction::Kind))
                    .col(big_integer(WalletTransaction::AmountFen))
                    .col(big_integer(WalletTransaction::PrincipalDeltaFen))
                    .col(big_integer(WalletTransaction::BonusDeltaFen))
                    .col(big_integer(WalletTransaction::BalanceAfterFen))
                    .col(big_integer(WalletTransaction::PrincipalAfterFen))
                    .col(big_integer(WalletTransaction::BonusAfterFen))
                    .col(big_integer_null(WalletTransaction::OrderId))
                    .col(big_integer_null(WalletTransaction::AdminId))
                    .col(string_null(WalletTransaction::Reason))
                    .col(string_null(WalletTransaction::IdempotencyKey))
                    .col(timestamp_with_time_zone(WalletTransaction::CreatedAt))
                    .check(Expr::col(WalletTransaction::BalanceAfterFen).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_wallet_tx_customer")
                    .table(WalletTransaction::Table)
                    .col(WalletTransaction::CustomerId)
                    .col(WalletTransaction::Id)
                    .to_owned(),
            )
            .await?;
        // An admin adjustment key works once per customer (NULLs do not collide).
        manager
            .create_index(
                Index::create()
                    .name("uq_wallet_tx_key")
                    .table(WalletTransaction::Table)
                    .col(WalletTransaction::CustomerId)
                    .col(WalletTransaction::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // SQLite takes one ALTER per statement.
        for col in [
            ColumnDef::new(ShopOrder::PlanId)
                .big_integer()
                .null()
                .to_owned(),
            ColumnDef::new(ShopOrder::BalancePrincipalFen)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(ShopOrder::BalanceBonusFen)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ShopOrder::Table)
                        .add_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            WalletTransaction::Table.into_iden(),
            Wallet::Table.into_iden(),
            TopUpPlan::Table.into_iden(),
            Membership::Table.into_iden(),
            MembershipPlan::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum MembershipPlan {
    Table,
    Id,
    Name,
    PriceFen,
    DurationDays,
    DiscountPercent,
    FreeShipping,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Membership {
    Table,
    CustomerId,
    PlanId,
    StartedAt,
    ExpiresAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TopUpPlan {
    Table,
    Id,
    Name,
    PayFen,
    BonusFen,
    GiftCouponTemplateIds,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Wallet {
    Table,
    CustomerId,
    PrincipalFen,
    BonusFen,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WalletTransaction {
    Table,
    Id,
    CustomerId,
    Kind,
    AmountFen,
    PrincipalDeltaFen,
    BonusDeltaFen,
    BalanceAfterFen,
    PrincipalAfterFen,
    BonusAfterFen,
    OrderId,
    AdminId,
    Reason,
    IdempotencyKey,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ShopOrder {
    Table,
    PlanId,
    BalancePrincipalFen,
    BalanceBonusFen,
}
