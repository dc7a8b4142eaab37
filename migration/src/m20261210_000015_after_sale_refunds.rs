//! After-sales decided and refunded: an after-sale keeps its decision (who,
//! when, the note), the return's dates and deadline, whether the units went
//! back to stock and the shipping it refunds; its money moves through a
//! `refund` row that names it. A commission can now be reversed once per
//! after-sale (several partial refunds of one order), so its uniqueness
//! takes the after-sale (0: the order as a whole). A supplier keeps its
//! return address; a fulfillment it cannot ship is declined with a reason.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one at a time.
        for column in [
            big_integer(AfterSale::ShippingFen).default(0).to_owned(),
            boolean(AfterSale::ByAdmin).default(false).to_owned(),
            text_null(AfterSale::Note).to_owned(),
            boolean_null(AfterSale::Restock).to_owned(),
            timestamp_with_time_zone_null(AfterSale::DecidedAt).to_owned(),
            timestamp_with_time_zone_null(AfterSale::ReturnDeadline).to_owned(),
            timestamp_with_time_zone_null(AfterSale::ReturnShippedAt).to_owned(),
            timestamp_with_time_zone_null(AfterSale::ReceivedAt).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AfterSale::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Refund::Table)
                    .add_column(big_integer_null(Refund::AfterSaleId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_refund_after_sale")
                    .table(Refund::Table)
                    .col(Refund::AfterSaleId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Commission::Table)
                    .add_column(big_integer(Commission::AfterSaleId).default(0))
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_commission_order_level_kind")
                    .table(Commission::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_commission_order_level_kind_sale")
                    .table(Commission::Table)
                    .col(Commission::OrderId)
                    .col(Commission::Level)
                    .col(Commission::Kind)
                    .col(Commission::AfterSaleId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Supplier::Table)
                    .add_column(text_null(Supplier::ReturnAddress))
                    .to_owned(),
            )
            .await?;
        for column in [
            timestamp_with_time_zone_null(Fulfillment::DeclinedAt).to_owned(),
            string_null(Fulfillment::DeclineReason).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Fulfillment::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        // The return time-out job reads approved returns by deadline.
        manager
            .create_index(
                Index::create()
                    .name("idx_after_sale_return_deadline")
                    .table(AfterSale::Table)
                    .col(AfterSale::Status)
                    .col(AfterSale::ReturnDeadline)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_after_sale_return_deadline")
                    .table(AfterSale::Table)
                    .to_owned(),
            )
            .await?;
        for column in [Fulfillment::DeclineReason, Fulfillment::DeclinedAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Fulfillment::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Supplier::Table)
                    .drop_column(Supplier::ReturnAddress)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("uq_commission_order_level_kind_sale")
                    .table(Commission::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Commission::Table)
                    .drop_column(Commission::AfterSaleId)
                    .to_owned(),
            )
            .await?;
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
            .drop_index(
                Index::drop()
                    .name("uq_refund_after_sale")
                    .table(Refund::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Refund::Table)
                    .drop_column(Refund::AfterSaleId)
                    .to_owned(),
            )
            .await?;
        for column in [
            AfterSale::ReceivedAt,
            AfterSale::ReturnShippedAt,
            AfterSale::ReturnDeadline,
            AfterSale::DecidedAt,
            AfterSale::Restock,
            AfterSale::Note,
            AfterSale::ByAdmin,
            AfterSale::ShippingFen,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(AfterSale::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AfterSale {
    Table,
    Status,
    ShippingFen,
    ByAdmin,
    Note,
    Restock,
    DecidedAt,
    ReturnDeadline,
    ReturnShippedAt,
    ReceivedAt,
}

#[derive(DeriveIden)]
enum Refund {
    Table,
    AfterSaleId,
}

#[derive(DeriveIden)]
enum Commission {
    Table,
    OrderId,
    Level,
    Kind,
    AfterSaleId,
}

#[derive(DeriveIden)]
enum Supplier {
    Table,
    ReturnAddress,
}

#[derive(DeriveIden)]
enum Fulfillment {
    Table,
    DeclinedAt,
    DeclineReason,
}
