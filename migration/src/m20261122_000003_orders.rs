//! Addresses, carts, orders with their lines, payments, fulfillments and refunds.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Address::Table)
                    .col(big_pk_auto(Address::Id))
                    .col(big_integer(Address::CustomerId))
                    .col(string(Address::Name))
                    .col(string(Address::Phone))
                    .col(string(Address::Province))
                    .col(string(Address::City))
                    .col(string(Address::District))
                    .col(string(Address::Detail))
                    .col(boolean(Address::IsDefault))
                    .col(timestamp_with_time_zone(Address::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Address::Table, Address::CustomerId)
                            .to(Customer::Table, Customer::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_address_customer")
                    .table(Address::Table)
                    .col(Address::CustomerId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CartItem::Table)
                    .col(big_integer(CartItem::CustomerId))
                    .col(big_integer(CartItem::SkuId))
                    .col(integer(CartItem::Quantity))
                    .col(timestamp_with_time_zone(CartItem::UpdatedAt))
                    .primary_key(
                        Index::create()
                            .col(CartItem::CustomerId)
                            .col(CartItem::SkuId),
                    )
                    .check(Expr::col(CartItem::Quantity).between(1, 99))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ShopOrder::Table)
                    .col(big_pk_auto(ShopOrder::Id))
                    .col(string_uniq(ShopOrder::OrderNo))
                    .col(big_integer(ShopOrder::CustomerId))
                    .col(string(ShopOrder::Kind))
                    .col(string(ShopOrder::Status))
                    .col(big_integer(ShopOrder::ItemsFen))
                    .col(big_integer(ShopOrder::MemberDiscountFen))
                    .col(big_integer(ShopOrder::PromotionDiscountFen))
                    .col(big_integer(ShopOrder::CouponDiscountFen))
                    .col(big_integer(ShopOrder::ShippingFen))
                    .col(big_integer(ShopOrder::TotalFen))
                    .col(big_integer(ShopOrder::BalanceFen))
                    .col(big_integer(ShopOrder::PayableFen))
                    .col(big_integer(ShopOrder::PaidFen))
                    .col(text_null(ShopOrder::Address))
                    .col(string_null(ShopOrder::Remark))
                    .col(string(ShopOrder::IdempotencyKey))
                    .col(string(ShopOrder::RequestHash))
                    .col(string_null(ShopOrder::PrepayId))
                    .col(timestamp_with_time_zone(ShopOrder::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ShopOrder::PaidAt))
                    .col(timestamp_with_time_zone_null(ShopOrder::ShippedAt))
                    .col(timestamp_with_time_zone_null(ShopOrder::CompletedAt))
                    .col(timestamp_with_time_zone_null(ShopOrder::CancelledAt))
                    .col(timestamp_with_time_zone(ShopOrder::CreatedAt))
                    .col(timestamp_with_time_zone(ShopOrder::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ShopOrder::Table, ShopOrder::CustomerId)
                            .to(Customer::Table, Customer::Id),
                    )
                    .check(Expr::col(ShopOrder::PayableFen).gte(0))
                    .check(Expr::col(ShopOrder::BalanceFen).gte(0))
                    .check(Expr::col(ShopOrder::TotalFen).gte(0))
                    .to_owned(),
            )
            .await?;
        // The same key from the same customer is the same order.
        manager
            .create_index(
                Index::create()
                    .name("uq_order_idempotency")
                    .table(ShopOrder::Table)
                    .col(ShopOrder::CustomerId)
                    .col(ShopOrder::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "idx_order_customer",
                vec![ShopOrder::CustomerId, ShopOrder::Id],
            ),
            (
                "idx_order_status_expires",
                vec![ShopOrder::Status, ShopOrder::ExpiresAt],
            ),
            (
                "idx_order_status_shipped",
                vec![ShopOrder::Status, ShopOrder::ShippedAt],
            ),
            ("idx_order_created", vec![ShopOrder::CreatedAt]),
        ] {
            let mut idx = Index::create()
                .name(name)
                .table(ShopOrder::Table)
                .to_owned();
            for c in cols {
                idx.col(c);
            }
            manager.create_index(idx).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(Fulfillment::Table)
                    .col(big_pk_auto(Fulfillment::Id))
                    .col(big_integer(Fulfillment::OrderId))
                    .col(big_integer_null(Fulfillment::SupplierId))
                    .col(string(Fulfillment::Status))
                    .col(string_null(Fulfillment::Carrier))
                    .col(string_null(Fulfillment::TrackingNo))
                    .col(big_integer(Fulfillment::CostFen))
                    .col(timestamp_with_time_zone(Fulfillment::CreatedAt))
                    .col(timestamp_with_time_zone_null(Fulfillment::ShippedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Fulfillment::Table, Fulfillment::OrderId)
                            .to(ShopOrder::Table, ShopOrder::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_fulfillment_order")
                    .table(Fulfillment::Table)
                    .col(Fulfillment::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_fulfillment_supplier")
                    .table(Fulfillment::Table)
                    .col(Fulfillment::SupplierId)
                    .col(Fulfillment::Id)
                    .to_owned(),
            )
            .await?;
        // One fulfillment per supplier and order, even if payment is confirmed twice at once.
        manager
            .create_index(
                Index::create()
                    .name("uq_fulfillment_order_supplier")
                    .table(Fulfillment::Table)
                    .col(Fulfillment::OrderId)
                    .col(Fulfillment::SupplierId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(OrderLine::Table)
                    .col(big_pk_auto(OrderLine::Id))
                    .col(big_integer(OrderLine::OrderId))
                    .col(big_integer(OrderLine::SkuId))
                    .col(big_integer(OrderLine::ProductId))
                    .col(string(OrderLine::Title))
                    .col(text(OrderLine::Specs))
                    .col(big_integer(OrderLine::ListPriceFen))
                    .col(big_integer(OrderLine::UnitPriceFen))
                    .col(integer(OrderLine::Quantity))
                    .col(big_integer(OrderLine::LineTotalFen))
                    .col(big_integer_null(OrderLine::CostFen))
                    .col(big_integer_null(OrderLine::SupplierId))
                    .col(big_integer_null(OrderLine::FulfillmentId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OrderLine::Table, OrderLine::OrderId)
                            .to(ShopOrder::Table, ShopOrder::Id),
                    )
                    .check(Expr::col(OrderLine::Quantity).between(1, 99))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_order_line_order")
                    .table(OrderLine::Table)
                    .col(OrderLine::OrderId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Payment::Table)
                    .col(big_pk_auto(Payment::Id))
                    .col(big_integer(Payment::OrderId))
                    .col(string(Payment::Provider))
                    .col(string_uniq(Payment::TransactionId))
                    .col(big_integer(Payment::AmountFen))
                    .col(string(Payment::Outcome))
                    .col(timestamp_with_time_zone(Payment::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Payment::Table, Payment::OrderId)
                            .to(ShopOrder::Table, ShopOrder::Id),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Refund::Table)
                    .col(big_pk_auto(Refund::Id))
                    .col(big_integer(Refund::OrderId))
                    .col(string(Refund::Status))
                    .col(big_integer(Refund::AmountFen))
                    .col(big_integer(Refund::WechatFen))
                    .col(big_integer(Refund::BalanceFen))
                    .col(string(Refund::Reason))
                    .col(string_uniq(Refund::OutRefundNo))
                    .col(string_null(Refund::WechatRefundId))
                    .col(timestamp_with_time_zone(Refund::CreatedAt))
                    .col(timestamp_with_time_zone(Refund::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Refund::Table, Refund::OrderId)
                            .to(ShopOrder::Table, ShopOrder::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refund_order")
                    .table(Refund::Table)
                    .col(Refund::OrderId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Refund::Table.into_iden(),
            Payment::Table.into_iden(),
            OrderLine::Table.into_iden(),
            Fulfillment::Table.into_iden(),
            ShopOrder::Table.into_iden(),
            CartItem::Table.into_iden(),
            Address::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Customer {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Address {
    Table,
    Id,
    CustomerId,
    Name,
    Phone,
    Province,
    City,
    District,
    Detail,
    IsDefault,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CartItem {
    Table,
    CustomerId,
    SkuId,
    Quantity,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ShopOrder {
    Table,
    Id,
    OrderNo,
    CustomerId,
    Kind,
    Status,
    ItemsFen,
    MemberDiscountFen,
    PromotionDiscountFen,
    CouponDiscountFen,
    ShippingFen,
    TotalFen,
    BalanceFen,
    PayableFen,
    PaidFen,
    Address,
    Remark,
    IdempotencyKey,
    RequestHash,
    PrepayId,
    ExpiresAt,
    PaidAt,
    ShippedAt,
    CompletedAt,
    CancelledAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OrderLine {
    Table,
    Id,
    OrderId,
    SkuId,
    ProductId,
    Title,
    Specs,
    ListPriceFen,
    UnitPriceFen,
    Quantity,
    LineTotalFen,
    CostFen,
    SupplierId,
    FulfillmentId,
}

#[derive(DeriveIden)]
enum Fulfillment {
    Table,
    Id,
    OrderId,
    SupplierId,
    Status,
    Carrier,
    TrackingNo,
    CostFen,
    CreatedAt,
    ShippedAt,
}

#[derive(DeriveIden)]
enum Payment {
    Table,
    Id,
    OrderId,
    Provider,
    TransactionId,
    AmountFen,
    Outcome,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Refund {
    Table,
    Id,
    OrderId,
    Status,
    AmountFen,
    WechatFen,
    BalanceFen,
    Reason,
    OutRefundNo,
    WechatRefundId,
    CreatedAt,
    UpdatedAt,
}
