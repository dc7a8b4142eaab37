//! Customer operations: each customer's purchase figures (kept with every
//! payment and refund, so that lists and segments filter on indexed
//! columns instead of adding up orders), tags, and saved segments.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Goods orders count once paid, until refunded.
const COUNTED: &str =
    "o.kind = 'GOODS' AND o.status IN ('PAID', 'SHIPPED', 'COMPLETED', 'REFUNDING')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CustomerStats::Table)
                    .col(big_integer(CustomerStats::CustomerId).primary_key())
                    .col(integer(CustomerStats::OrdersCount))
                    .col(big_integer(CustomerStats::SpentFen))
                    .col(big_integer(CustomerStats::CostedFen))
                    .col(big_integer(CustomerStats::MarginFen))
                    .col(timestamp_with_time_zone(CustomerStats::FirstPaidAt))
                    .col(timestamp_with_time_zone(CustomerStats::LastPaidAt))
                    .col(timestamp_with_time_zone(CustomerStats::UpdatedAt))
                    .check(Expr::col(CustomerStats::OrdersCount).gte(0))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_customer_stats_last", CustomerStats::LastPaidAt),
            ("idx_customer_stats_spent", CustomerStats::SpentFen),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(CustomerStats::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        // The figures of orders paid before this migration.
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO customer_stats (customer_id, orders_count, spent_fen, costed_fen, margin_fen, first_paid_at, last_paid_at, updated_at) \
                 SELECT o.customer_id, COUNT(*), SUM(o.total_fen), \
                   COALESCE(SUM((SELECT SUM(l.line_total_fen) FROM order_line l WHERE l.order_id = o.id AND l.cost_fen IS NOT NULL)), 0), \
                   COALESCE(SUM((SELECT SUM(l.line_total_fen - l.cost_fen * l.quantity) FROM order_line l WHERE l.order_id = o.id AND l.cost_fen IS NOT NULL)), 0), \
                   MIN(o.paid_at), MAX(o.paid_at), MAX(o.paid_at) \
                 FROM shop_order o WHERE {COUNTED} AND o.paid_at IS NOT NULL GROUP BY o.customer_id"
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CustomerTag::Table)
                    .col(big_integer(CustomerTag::CustomerId))
                    .col(string(CustomerTag::Tag))
                    .col(timestamp_with_time_zone(CustomerTag::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(CustomerTag::CustomerId)
                            .col(CustomerTag::Tag),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_customer_tag_tag")
                    .table(CustomerTag::Table)
                    .col(CustomerTag::Tag)
                    .to_owned(),
            )
            .await?;
        // When a refund was approved, for the store's figures (its
        // `updated_at` moves again when the money is sent).
        manager
            .alter_table(
                Table::alter()
                    .table(Refund::Table)
                    .add_column(timestamp_with_time_zone_null(Refund::ApprovedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE refund SET approved_at = updated_at WHERE status IN ('APPROVED', 'REFUNDED')",
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Segment::Table)
                    .col(big_pk_auto(Segment::Id))
                    .col(string(Segment::Name))
                    .col(text(Segment::Filter))
                    .col(big_integer(Segment::AdminId))
                    .col(timestamp_with_time_zone(Segment::CreatedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Refund::Table)
                    .drop_column(Refund::ApprovedAt)
                    .to_owned(),
            )
            .await?;
        for t in [
            Segment::Table.into_iden(),
            CustomerTag::Table.into_iden(),
            CustomerStats::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(t).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum CustomerStats {
    Table,
    CustomerId,
    OrdersCount,
    SpentFen,
    CostedFen,
    MarginFen,
    FirstPaidAt,
    LastPaidAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CustomerTag {
    Table,
    CustomerId,
    Tag,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Refund {
    Table,
    ApprovedAt,
}

#[derive(DeriveIden)]
enum Segment {
    Table,
    Id,
    Name,
    Filter,
    AdminId,
    CreatedAt,
}
