//! Shipping by region (运费模板): fee templates, the template of a product,
//! the SKU facts a template charges by (weight) and shows (image, code),
//! the region codes of an address, and a supplier's default template.
//!
//! A template's rules are one JSON document (`rules`): they are read and
//! written whole, always with the template, and never queried by part.
//! Region codes are GB/T 2260 codes from the table compiled into the
//! server; the database does not know the table, so the service checks them.
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ShippingTemplate::Table)
                    .col(
                        big_integer(ShippingTemplate::Id)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(string_len(ShippingTemplate::Name, 64))
                    .col(string_len(ShippingTemplate::ChargeBy, 16))
                    .col(text(ShippingTemplate::Rules))
                    .col(boolean(ShippingTemplate::Retired).default(false))
                    .col(timestamp_with_time_zone(ShippingTemplate::CreatedAt))
                    .col(timestamp_with_time_zone(ShippingTemplate::UpdatedAt))
                    .check(Expr::col(ShippingTemplate::ChargeBy).is_in(["PIECE", "WEIGHT"]))
                    .to_owned(),
            )
            .await?;
        // A supplier's default template, for its products that name none.
        // Kept by the shipping domain (the supplier row is not its to write).
        manager
            .create_table(
                Table::create()
                    .table(SupplierShippingTemplate::Table)
                    .col(big_integer(SupplierShippingTemplate::SupplierId).primary_key())
                    .col(big_integer(SupplierShippingTemplate::ShippingTemplateId))
                    .col(timestamp_with_time_zone(
                        SupplierShippingTemplate::UpdatedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                SupplierShippingTemplate::Table,
                                SupplierShippingTemplate::SupplierId,
                            )
                            .to(Supplier::Table, Supplier::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                SupplierShippingTemplate::Table,
                                SupplierShippingTemplate::ShippingTemplateId,
                            )
                            .to(ShippingTemplate::Table, ShippingTemplate::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // SQLite takes one change per ALTER TABLE.
        let add =
            |table: DynIden, col: ColumnDef| Table::alter().table(table).add_column(col).to_owned();
        for stmt in [
            add(
                Product::Table.into_iden(),
                big_integer_null(Product::ShippingTemplateId),
            ),
            add(Sku::Table.into_iden(), integer_null(Sku::WeightGrams)),
            add(Sku::Table.into_iden(), string_len_null(Sku::ImageUrl, 1024)),
            add(Sku::Table.into_iden(), string_len_null(Sku::Code, 64)),
            add(
                Address::Table.into_iden(),
                string_len_null(Address::ProvinceCode, 6),
            ),
            add(
                Address::Table.into_iden(),
                string_len_null(Address::CityCode, 6),
            ),
        ] {
            manager.alter_table(stmt).await?;
        }
        let db = manager.get_connection();
        // A code names one live SKU of the store; archived SKUs keep theirs
        // as history without blocking its reuse.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX idx_sku_code_live ON sku (code) \
             WHERE code IS NOT NULL AND archived = false",
        )
        .await?;
        // Retiring a template asks whether a product still uses it.
        db.execute_unprepared(
            "CREATE INDEX idx_product_shipping_template ON product (shipping_template_id) \
             WHERE shipping_template_id IS NOT NULL",
        )
        .await?;
        // SQLite cannot add a constraint to an existing table; the service
        // checks the weight there (and everywhere).
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE sku ADD CONSTRAINT sku_weight_nonneg CHECK (weight_grams >= 0)",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared("DROP INDEX IF EXISTS idx_product_shipping_template")
            .await?;
        db.execute_unprepared("DROP INDEX IF EXISTS idx_sku_code_live")
            .await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared("ALTER TABLE sku DROP CONSTRAINT IF EXISTS sku_weight_nonneg")
                .await?;
        }
        let drop =
            |table: DynIden, col: DynIden| Table::alter().table(table).drop_column(col).to_owned();
        for stmt in [
            drop(Address::Table.into_iden(), Address::CityCode.into_iden()),
            drop(
                Address::Table.into_iden(),
                Address::ProvinceCode.into_iden(),
            ),
            drop(Sku::Table.into_iden(), Sku::Code.into_iden()),
            drop(Sku::Table.into_iden(), Sku::ImageUrl.into_iden()),
            drop(Sku::Table.into_iden(), Sku::WeightGrams.into_iden()),
            drop(
                Product::Table.into_iden(),
                Product::ShippingTemplateId.into_iden(),
            ),
        ] {
            manager.alter_table(stmt).await?;
        }
        manager
            .drop_table(
                Table::drop()
                    .table(SupplierShippingTemplate::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ShippingTemplate::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ShippingTemplate {
    Table,
    Id,
    Name,
    ChargeBy,
    Rules,
    Retired,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SupplierShippingTemplate {
    Table,
    SupplierId,
    ShippingTemplateId,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Supplier {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Product {
    Table,
    ShippingTemplateId,
}

#[derive(DeriveIden)]
enum Sku {
    Table,
    WeightGrams,
    ImageUrl,
    Code,
}

#[derive(DeriveIden)]
enum Address {
    Table,
    ProvinceCode,
    CityCode,
}
