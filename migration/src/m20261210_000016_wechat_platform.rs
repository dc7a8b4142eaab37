//! WeChat platform obligations: the shipping information uploaded to
//! WeChat for every order paid through WeChat Pay (发货信息录入: until it is
//! uploaded and the buyer confirms receipt, WeChat holds the money), with
//! every attempt recorded.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(WechatShipping::Table)
                    .col(big_pk_auto(WechatShipping::Id))
                    // `F<fulfillment id>` for a parcel, `O<order id>` for a
                    // virtual-goods order: unique, so that instances
                    // discovering the same shipment at once add it once.
                    .col(string_uniq(WechatShipping::UploadKey))
                    .col(big_integer(WechatShipping::OrderId))
                    .col(big_integer_null(WechatShipping::FulfillmentId))
                    .col(string(WechatShipping::TransactionId))
                    // PHYSICAL (a parcel) or VIRTUAL (membership, top-up).
                    .col(string(WechatShipping::Kind))
                    // PENDING (due or waiting for its next attempt), UPLOADED, FAILED (given up).
                    .col(string(WechatShipping::Status))
                    .col(integer(WechatShipping::Attempts))
                    .col(timestamp_with_time_zone(WechatShipping::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(WechatShipping::LockedUntil))
                    .col(string_null(WechatShipping::LastError))
                    .col(timestamp_with_time_zone_null(WechatShipping::UploadedAt))
                    .col(timestamp_with_time_zone(WechatShipping::CreatedAt))
                    .check(Expr::col(WechatShipping::Kind).is_in(["PHYSICAL", "VIRTUAL"]))
                    .check(
                        Expr::col(WechatShipping::Status).is_in(["PENDING", "UPLOADED", "FAILED"]),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_wechat_shipping_due")
                    .table(WechatShipping::Table)
                    .col(WechatShipping::Status)
                    .col(WechatShipping::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_wechat_shipping_order")
                    .table(WechatShipping::Table)
                    .col(WechatShipping::OrderId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_wechat_shipping_fulfillment")
                    .table(WechatShipping::Table)
                    .col(WechatShipping::FulfillmentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WechatShippingAttempt::Table)
                    .col(big_pk_auto(WechatShippingAttempt::Id))
                    .col(big_integer(WechatShippingAttempt::ShippingId))
                    .col(integer(WechatShippingAttempt::AttemptNo))
                    // The request as sent (JSON; no token in it).
                    .col(text(WechatShippingAttempt::Request))
                    .col(big_integer_null(WechatShippingAttempt::Errcode))
                    .col(string_null(WechatShippingAttempt::Error))
                    .col(timestamp_with_time_zone(WechatShippingAttempt::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                WechatShippingAttempt::Table,
                                WechatShippingAttempt::ShippingId,
                            )
                            .to(WechatShipping::Table, WechatShipping::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_wechat_shipping_attempt_shipping")
                    .table(WechatShippingAttempt::Table)
                    .col(WechatShippingAttempt::ShippingId)
                    .to_owned(),
            )
            .await?;
        // The jobs pass looks for uploads to add among recent WeChat Pay
        // payments: by time, not over every payment ever made.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX idx_payment_wechat_recent ON payment (created_at) \
                 WHERE provider = 'WECHAT' AND outcome = 'APPLIED'",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DROP INDEX idx_payment_wechat_recent")
            .await?;
        manager
            .drop_table(Table::drop().table(WechatShippingAttempt::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(WechatShipping::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum WechatShipping {
    Table,
    Id,
    UploadKey,
    OrderId,
    FulfillmentId,
    TransactionId,
    Kind,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    UploadedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WechatShippingAttempt {
    Table,
    Id,
    ShippingId,
    AttemptNo,
    Request,
    Errcode,
    Error,
    CreatedAt,
}
