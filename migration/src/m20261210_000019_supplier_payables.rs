//! What the store owes its drop-ship suppliers (issue 16, item 2).
//!
//! `supplier_payable`: one per shipped supplier fulfillment (unique
//! `fulfillment_id`: shipping twice can never open a second one), with its
//! status (`PENDING` until the return window closes, then `DUE`, then
//! `PAID` with the store's reference). `supplier_payable_entry` is the
//! append-only ledger of its money: `ACCRUE` (the cost of the units
//! shipped), `ADJUST` (negative: units returned to the supplier; unique per
//! after-sale, so a refund settles its adjustment once), `PAY` (negative:
//! what the store transferred). A payable's balance is the sum of its
//! entries.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SupplierPayable::Table)
                    .col(big_pk_auto(SupplierPayable::Id))
                    .col(big_integer(SupplierPayable::SupplierId))
                    .col(big_integer(SupplierPayable::OrderId))
                    .col(big_integer(SupplierPayable::FulfillmentId))
                    .col(string(SupplierPayable::Status))
                    .col(timestamp_with_time_zone(SupplierPayable::CreatedAt))
                    .col(timestamp_with_time_zone_null(SupplierPayable::DueAt))
                    .col(timestamp_with_time_zone_null(SupplierPayable::PaidAt))
                    .col(string_null(SupplierPayable::PaidReference))
                    .col(big_integer_null(SupplierPayable::PaidBy))
                    .check(Expr::col(SupplierPayable::Status).is_in(["PENDING", "DUE", "PAID"]))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SupplierPayable::Table, SupplierPayable::FulfillmentId)
                            .to(Fulfillment::Table, Fulfillment::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_supplier_payable_fulfillment")
                    .table(SupplierPayable::Table)
                    .col(SupplierPayable::FulfillmentId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_supplier_payable_supplier")
                    .table(SupplierPayable::Table)
                    .col(SupplierPayable::SupplierId)
                    .col(SupplierPayable::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_supplier_payable_status_order")
                    .table(SupplierPayable::Table)
                    .col(SupplierPayable::Status)
                    .col(SupplierPayable::OrderId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SupplierPayableEntry::Table)
                    .col(big_pk_auto(SupplierPayableEntry::Id))
                    .col(big_integer(SupplierPayableEntry::PayableId))
                    .col(string(SupplierPayableEntry::Kind))
                    .col(big_integer(SupplierPayableEntry::AmountFen))
                    .col(big_integer_null(SupplierPayableEntry::AfterSaleId))
                    .col(string_null(SupplierPayableEntry::Reference))
                    .col(timestamp_with_time_zone(SupplierPayableEntry::CreatedAt))
                    // ACCRUE adds, ADJUST and PAY take away.
                    .check(
                        Expr::col(SupplierPayableEntry::Kind)
                            .eq("ACCRUE")
                            .and(Expr::col(SupplierPayableEntry::AmountFen).gte(0))
                            .or(Expr::col(SupplierPayableEntry::Kind)
                                .is_in(["ADJUST", "PAY"])
                                .and(Expr::col(SupplierPayableEntry::AmountFen).lt(0))),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SupplierPayableEntry::Table, SupplierPayableEntry::PayableId)
                            .to(SupplierPayable::Table, SupplierPayable::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // NULLs are distinct in a unique index on both backends: this holds
        // one ADJUST per after-sale and payable, and leaves ACCRUE and PAY
        // (no after-sale) to their payable's status moves.
        manager
            .create_index(
                Index::create()
                    .name("uq_supplier_payable_entry_after_sale")
                    .table(SupplierPayableEntry::Table)
                    .col(SupplierPayableEntry::PayableId)
                    .col(SupplierPayableEntry::Kind)
                    .col(SupplierPayableEntry::AfterSaleId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            SupplierPayableEntry::Table.into_iden(),
            SupplierPayable::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum SupplierPayable {
    Table,
    Id,
    SupplierId,
    OrderId,
    FulfillmentId,
    Status,
    CreatedAt,
    DueAt,
    PaidAt,
    PaidReference,
    PaidBy,
}

#[derive(DeriveIden)]
enum SupplierPayableEntry {
    Table,
    Id,
    PayableId,
    Kind,
    AmountFen,
    AfterSaleId,
    Reference,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Fulfillment {
    Table,
    Id,
}
