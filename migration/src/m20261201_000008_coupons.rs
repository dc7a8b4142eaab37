//! Coupons and full-reduction promotions (满减).
//!
//! A coupon template says what a coupon takes off and for how long; the
//! `issued_count` CHECK never lets more coupons out than `total_quantity`
//! (null: unlimited). A coupon keeps its template's terms and its own
//! validity, so changing or retiring a template never changes coupons
//! already given out. A coupon is used by at most one order (`order_id`,
//! set and cleared only together with the status).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CouponTemplate::Table)
                    .col(big_pk_auto(CouponTemplate::Id))
                    .col(string(CouponTemplate::Name))
                    .col(big_integer(CouponTemplate::ThresholdFen))
                    .col(big_integer(CouponTemplate::OffFen))
                    .col(big_integer_null(CouponTemplate::TotalQuantity))
                    .col(big_integer(CouponTemplate::IssuedCount))
                    .col(integer(CouponTemplate::PerCustomerLimit))
                    .col(integer_null(CouponTemplate::ValidDays))
                    .col(timestamp_with_time_zone_null(CouponTemplate::ValidFrom))
                    .col(timestamp_with_time_zone_null(CouponTemplate::ValidTo))
                    .col(boolean(CouponTemplate::Claimable))
                    .col(timestamp_with_time_zone_null(CouponTemplate::ClaimStartsAt))
                    .col(timestamp_with_time_zone_null(CouponTemplate::ClaimEndsAt))
                    .col(boolean(CouponTemplate::Active))
                    .col(timestamp_with_time_zone(CouponTemplate::CreatedAt))
                    .check(Expr::col(CouponTemplate::ThresholdFen).gte(0))
                    .check(Expr::col(CouponTemplate::OffFen).gt(0))
                    .check(Expr::col(CouponTemplate::IssuedCount).gte(0))
                    .check(
                        Expr::col(CouponTemplate::TotalQuantity)
                            .is_null()
                            .or(Expr::col(CouponTemplate::IssuedCount)
                                .lte(Expr::col(CouponTemplate::TotalQuantity))),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Coupon::Table)
                    .col(big_pk_auto(Coupon::Id))
                    .col(big_integer(Coupon::TemplateId))
                    .col(big_integer(Coupon::CustomerId))
                    .col(string(Coupon::Status))
                    .col(big_integer(Coupon::ThresholdFen))
                    .col(big_integer(Coupon::OffFen))
                    .col(timestamp_with_time_zone(Coupon::ValidFrom))
                    .col(timestamp_with_time_zone(Coupon::ExpiresAt))
                    .col(big_integer_null(Coupon::OrderId))
                    .col(timestamp_with_time_zone_null(Coupon::UsedAt))
                    .col(string(Coupon::Source))
                    .col(timestamp_with_time_zone(Coupon::CreatedAt))
                    .check(Expr::col(Coupon::Status).is_in(["UNUSED", "USED"]))
                    .check(
                        Expr::col(Coupon::Status)
                            .eq("USED")
                            .eq(Expr::col(Coupon::OrderId).is_not_null()),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_coupon_customer",
                vec![Coupon::CustomerId, Coupon::Status, Coupon::ExpiresAt],
            ),
            (
                "idx_coupon_template_customer",
                vec![Coupon::TemplateId, Coupon::CustomerId],
            ),
            ("idx_coupon_order", vec![Coupon::OrderId]),
        ] {
            let mut idx = Index::create().name(name).table(Coupon::Table).to_owned();
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(CouponIssue::Table)
                    .col(big_pk_auto(CouponIssue::Id))
                    .col(big_integer(CouponIssue::TemplateId))
                    .col(big_integer(CouponIssue::AdminId))
                    .col(string(CouponIssue::IdempotencyKey))
                    .col(string(CouponIssue::RequestHash))
                    .col(big_integer(CouponIssue::Issued))
                    .col(timestamp_with_time_zone(CouponIssue::CreatedAt))
                    .to_owned(),
            )
            .await?;
        // The same key from the same admin is the same campaign.
        manager
            .create_index(
                Index::create()
                    .name("uq_coupon_issue_key")
                    .table(CouponIssue::Table)
                    .col(CouponIssue::AdminId)
                    .col(CouponIssue::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Promotion::Table)
                    .col(big_pk_auto(Promotion::Id))
                    .col(string(Promotion::Name))
                    .col(big_integer(Promotion::ThresholdFen))
                    .col(big_integer(Promotion::OffFen))
                    .col(timestamp_with_time_zone(Promotion::StartsAt))
                    .col(timestamp_with_time_zone(Promotion::EndsAt))
                    .col(boolean(Promotion::Active))
                    .col(timestamp_with_time_zone(Promotion::CreatedAt))
                    .check(Expr::col(Promotion::ThresholdFen).gt(0))
                    .check(Expr::col(Promotion::OffFen).gt(0))
                    .check(Expr::col(Promotion::OffFen).lte(Expr::col(Promotion::ThresholdFen)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_promotion_ends")
                    .table(Promotion::Table)
                    .col(Promotion::EndsAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Promotion::Table.into_iden(),
            CouponIssue::Table.into_iden(),
            Coupon::Table.into_iden(),
            CouponTemplate::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CouponTemplate {
    Table,
    Id,
    Name,
    ThresholdFen,
    OffFen,
    TotalQuantity,
    IssuedCount,
    PerCustomerLimit,
    ValidDays,
    ValidFrom,
    ValidTo,
    Claimable,
    ClaimStartsAt,
    ClaimEndsAt,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Coupon {
    Table,
    Id,
    TemplateId,
    CustomerId,
    Status,
    ThresholdFen,
    OffFen,
    ValidFrom,
    ExpiresAt,
    OrderId,
    UsedAt,
    Source,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CouponIssue {
    Table,
    Id,
    TemplateId,
    AdminId,
    IdempotencyKey,
    RequestHash,
    Issued,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Promotion {
    Table,
    Id,
    Name,
    ThresholdFen,
    OffFen,
    StartsAt,
    EndsAt,
    Active,
    CreatedAt,
}
