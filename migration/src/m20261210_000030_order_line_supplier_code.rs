//! The supplier's own SKU code on an order line, fixed at placing like the
//! line's supplier and cost: the supplier's webhook for an order placed
//! before its SKU was re-linked or unlinked names the code the line was
//! bought under, not whatever the SKU is linked to when it is paid.
//!
//! Lines placed before this column existed take their SKU's current link
//! when it is still the same supplier's (the best that is known of them).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrderLine {
    Table,
    SupplierSkuCode,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OrderLine::Table)
                    .add_column(ColumnDef::new(OrderLine::SupplierSkuCode).string().null())
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE order_line SET supplier_sku_code = (\
                 SELECT l.supplier_sku_code FROM supplier_sku_link l \
                 WHERE l.sku_id = order_line.sku_id AND l.supplier_id = order_line.supplier_id) \
                 WHERE supplier_id IS NOT NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OrderLine::Table)
                    .drop_column(OrderLine::SupplierSkuCode)
                    .to_owned(),
            )
            .await
    }
}
