//! Catalogue (categories, products, SKUs), suppliers and their SKU links,
//! and daily sales counters for the hot-products window.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Category::Table)
                    .col(big_pk_auto(Category::Id))
                    .col(string(Category::Name))
                    .col(big_integer_null(Category::ParentId))
                    .col(integer(Category::Sort).default(0))
                    .col(string_null(Category::IconUrl))
                    .col(timestamp_with_time_zone(Category::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Category::Table, Category::ParentId)
                            .to(Category::Table, Category::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Product::Table)
                    .col(big_pk_auto(Product::Id))
                    .col(string(Product::Title))
                    .col(string_null(Product::Subtitle))
                    .col(text_null(Product::Description))
                    .col(text(Product::Images))
                    .col(big_integer(Product::CategoryId))
                    .col(string_null(Product::Brand))
                    .col(string(Product::Status))
                    .col(integer_null(Product::HotPin))
                    .col(big_integer(Product::SalesCount).default(0))
                    .col(big_integer(Product::MinPriceFen))
                    .col(big_integer(Product::MaxPriceFen))
                    .col(timestamp_with_time_zone(Product::CreatedAt))
                    .col(timestamp_with_time_zone(Product::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Product::Table, Product::CategoryId)
                            .to(Category::Table, Category::Id),
                    )
                    .check(Expr::col(Product::Status).is_in(["ON_SHELF", "OFF_SHELF"]))
                    .check(Expr::col(Product::SalesCount).gte(0))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("idx_product_status_id", vec![Product::Status, Product::Id]),
            (
                "idx_product_category",
                vec![Product::CategoryId, Product::Id],
            ),
            ("idx_product_price", vec![Product::MinPriceFen, Product::Id]),
            ("idx_product_sales", vec![Product::SalesCount, Product::Id]),
        ] {
            let mut idx = Index::create().name(name).table(Product::Table).to_owned();
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Sku::Table)
                    .col(big_pk_auto(Sku::Id))
                    .col(big_integer(Sku::ProductId))
                    .col(text(Sku::Specs))
                    .col(string(Sku::SpecKey))
                    .col(big_integer(Sku::PriceFen))
                    .col(big_integer_null(Sku::OriginalPriceFen))
                    .col(big_integer_null(Sku::MemberPriceFen))
                    .col(integer(Sku::Stock))
                    .col(boolean(Sku::Archived).default(false))
                    .col(timestamp_with_time_zone(Sku::CreatedAt))
                    .col(timestamp_with_time_zone(Sku::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Sku::Table, Sku::ProductId)
                            .to(Product::Table, Product::Id),
                    )
                    // Backstop for the conditional stock updates: never oversell.
                    .check(Expr::col(Sku::Stock).gte(0))
                    .check(Expr::col(Sku::PriceFen).gte(0))
                    .to_owned(),
            )
            .await?;
        // Archived SKUs get their id appended to spec_key, so this plain unique
        // index only constrains live SKUs (portable: no partial index needed).
        manager
            .create_index(
                Index::create()
                    .name("uq_sku_product_spec")
                    .table(Sku::Table)
                    .col(Sku::ProductId)
                    .col(Sku::SpecKey)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Supplier::Table)
                    .col(big_pk_auto(Supplier::Id))
                    .col(string(Supplier::Name))
                    .col(string_null(Supplier::Contact))
                    .col(string_null(Supplier::WebhookUrl))
                    .col(string_uniq(Supplier::ApiKeyHash))
                    .col(string(Supplier::WebhookSecret))
                    .col(timestamp_with_time_zone(Supplier::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SupplierSkuLink::Table)
                    .col(big_integer(SupplierSkuLink::SkuId).primary_key())
                    .col(big_integer(SupplierSkuLink::SupplierId))
                    .col(string(SupplierSkuLink::SupplierSkuCode))
                    .col(big_integer(SupplierSkuLink::CostFen))
                    .col(boolean(SupplierSkuLink::DropShip))
                    .col(timestamp_with_time_zone(SupplierSkuLink::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SupplierSkuLink::Table, SupplierSkuLink::SkuId)
                            .to(Sku::Table, Sku::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SupplierSkuLink::Table, SupplierSkuLink::SupplierId)
                            .to(Supplier::Table, Supplier::Id),
                    )
                    .check(Expr::col(SupplierSkuLink::CostFen).gte(0))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_supplier_sku_code")
                    .table(SupplierSkuLink::Table)
                    .col(SupplierSkuLink::SupplierId)
                    .col(SupplierSkuLink::SupplierSkuCode)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductSalesDaily::Table)
                    .col(big_integer(ProductSalesDaily::ProductId))
                    .col(string(ProductSalesDaily::Day))
                    .col(big_integer(ProductSalesDaily::Units).default(0))
                    .primary_key(
                        Index::create()
                            .col(ProductSalesDaily::ProductId)
                            .col(ProductSalesDaily::Day),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_sales_daily_day")
                    .table(ProductSalesDaily::Table)
                    .col(ProductSalesDaily::Day)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProductSalesDaily::Table.into_iden(),
            SupplierSkuLink::Table.into_iden(),
            Supplier::Table.into_iden(),
            Sku::Table.into_iden(),
            Product::Table.into_iden(),
            Category::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Category {
    Table,
    Id,
    Name,
    ParentId,
    Sort,
    IconUrl,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Product {
    Table,
    Id,
    Title,
    Subtitle,
    Description,
    Images,
    CategoryId,
    Brand,
    Status,
    HotPin,
    SalesCount,
    MinPriceFen,
    MaxPriceFen,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sku {
    Table,
    Id,
    ProductId,
    Specs,
    SpecKey,
    PriceFen,
    OriginalPriceFen,
    MemberPriceFen,
    Stock,
    Archived,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Supplier {
    Table,
    Id,
    Name,
    Contact,
    WebhookUrl,
    ApiKeyHash,
    WebhookSecret,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SupplierSkuLink {
    Table,
    SkuId,
    SupplierId,
    SupplierSkuCode,
    CostFen,
    DropShip,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProductSalesDaily {
    Table,
    ProductId,
    Day,
    Units,
}
