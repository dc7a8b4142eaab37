//! Each paid membership purchase as its own grant, with the terms it was
//! bought on, and the terms of a plan order snapshotted when it is placed.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(MembershipGrant::Table)
                    .col(big_pk_auto(MembershipGrant::Id))
                    .col(big_integer(MembershipGrant::CustomerId))
                    // None for memberships carried over from before grants.
                    .col(big_integer_null(MembershipGrant::OrderId).unique_key())
                    .col(big_integer(MembershipGrant::PlanId))
                    .col(integer(MembershipGrant::DiscountPercent))
                    .col(boolean(MembershipGrant::FreeShipping))
                    .col(integer(MembershipGrant::Days))
                    .col(timestamp_with_time_zone(MembershipGrant::StartsAt))
                    .col(timestamp_with_time_zone(MembershipGrant::EndsAt))
                    .col(timestamp_with_time_zone_null(MembershipGrant::RevokedAt))
                    .col(timestamp_with_time_zone(MembershipGrant::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_membership_grant_customer")
                    .table(MembershipGrant::Table)
                    .col(MembershipGrant::CustomerId)
                    .col(MembershipGrant::EndsAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ShopOrder::Table)
                    .add_column(text_null(ShopOrder::PlanTerms))
                    .to_owned(),
            )
            .await?;
        // Memberships bought before grants existed carry on as one grant on
        // the terms of their plan today.
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO membership_grant (customer_id, order_id, plan_id, discount_percent, \
                 free_shipping, days, starts_at, ends_at, revoked_at, created_at) \
                 SELECT m.customer_id, NULL, m.plan_id, p.discount_percent, p.free_shipping, \
                 p.duration_days, m.started_at, m.expires_at, NULL, m.updated_at \
                 FROM membership m JOIN membership_plan p ON p.id = m.plan_id",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ShopOrder::Table)
                    .drop_column(ShopOrder::PlanTerms)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(MembershipGrant::Table).to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum MembershipGrant {
    Table,
    Id,
    CustomerId,
    OrderId,
    PlanId,
    DiscountPercent,
    FreeShipping,
    Days,
    StartsAt,
    EndsAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ShopOrder {
    Table,
    PlanTerms,
}
