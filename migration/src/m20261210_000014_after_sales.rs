//! After-sales (售后) per order line: a customer's request to refund some
//! units of some lines (refund only, or return and refund), with the amount
//! fixed to the fen when it is asked for. The return fields are filled by
//! the later steps (approval, return shipment).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AfterSale::Table)
                    .col(big_integer(AfterSale::Id).auto_increment().primary_key())
                    .col(big_integer(AfterSale::OrderId))
                    .col(big_integer(AfterSale::CustomerId))
                    .col(string_len(AfterSale::Kind, 24))
                    .col(string_len(AfterSale::Status, 16))
                    .col(string_len(AfterSale::Reason, 800))
                    .col(text_null(AfterSale::Description))
                    .col(text(AfterSale::Images))
                    .col(
                        big_integer(AfterSale::AmountFen)
                            .check(Expr::col(AfterSale::AmountFen).gte(0)),
                    )
                    .col(
                        big_integer(AfterSale::BalanceFen)
                            .check(Expr::col(AfterSale::BalanceFen).gte(0)),
                    )
                    .col(
                        big_integer(AfterSale::WechatFen)
                            .check(Expr::col(AfterSale::WechatFen).gte(0)),
                    )
                    .col(string_len(AfterSale::IdempotencyKey, 128))
                    .col(string_len(AfterSale::RequestHash, 64))
                    .col(text_null(AfterSale::ReturnAddress))
                    .col(string_len_null(AfterSale::ReturnCarrier, 64))
                    .col(string_len_null(AfterSale::ReturnTrackingNo, 64))
                    .col(timestamp_with_time_zone(AfterSale::CreatedAt))
                    .col(timestamp_with_time_zone(AfterSale::UpdatedAt))
                    .col(timestamp_with_time_zone_null(AfterSale::RefundedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_after_sale_customer_key")
                    .table(AfterSale::Table)
                    .col(AfterSale::CustomerId)
                    .col(AfterSale::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_after_sale_order")
                    .table(AfterSale::Table)
                    .col(AfterSale::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_after_sale_status_id")
                    .table(AfterSale::Table)
                    .col(AfterSale::Status)
                    .col(AfterSale::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AfterSaleLine::Table)
                    .col(
                        big_integer(AfterSaleLine::Id)
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(big_integer(AfterSaleLine::AfterSaleId))
                    .col(big_integer(AfterSaleLine::OrderLineId))
                    .col(
                        integer(AfterSaleLine::Quantity)
                            .check(Expr::col(AfterSaleLine::Quantity).gt(0)),
                    )
                    .col(
                        big_integer(AfterSaleLine::AmountFen)
                            .check(Expr::col(AfterSaleLine::AmountFen).gte(0)),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_after_sale_line_after_sale")
                    .table(AfterSaleLine::Table)
                    .col(AfterSaleLine::AfterSaleId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_after_sale_line_order_line")
                    .table(AfterSaleLine::Table)
                    .col(AfterSaleLine::OrderLineId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AfterSaleLine::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AfterSale::Table).to_owned())
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AfterSale {
    Table,
    Id,
    OrderId,
    CustomerId,
    Kind,
    Status,
    Reason,
    Description,
    Images,
    AmountFen,
    BalanceFen,
    WechatFen,
    IdempotencyKey,
    RequestHash,
    ReturnAddress,
    ReturnCarrier,
    ReturnTrackingNo,
    CreatedAt,
    UpdatedAt,
    RefundedAt,
}

#[derive(DeriveIden)]
enum AfterSaleLine {
    Table,
    Id,
    AfterSaleId,
    OrderLineId,
    Quantity,
    AmountFen,
}
