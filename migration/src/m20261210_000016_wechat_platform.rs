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
        // A share code (小程序码) per customer, page and product, generated
        // once: WeChat rate-limits generation, and a poster printed with
        // one must keep working. `product_key` is 0 without a product, so
        // that the unique index holds there too (NULLs are all distinct).
        manager
            .create_table(
                Table::create()
                    .table(ShareCode::Table)
                    .col(big_pk_auto(ShareCode::Id))
                    .col(big_integer(ShareCode::CustomerId))
                    .col(string(ShareCode::Page))
                    .col(big_integer(ShareCode::ProductKey))
                    .col(string(ShareCode::Scene))
                    .col(string(ShareCode::EnvVersion))
                    // The image's URL path: unguessable, so that codes
                    // cannot be walked by id.
                    .col(string_uniq(ShareCode::Token))
                    .col(string(ShareCode::ContentType))
                    .col(blob(ShareCode::Image))
                    .col(timestamp_with_time_zone(ShareCode::CreatedAt))
                    .index(
                        Index::create()
                            .name("uq_share_code_owner_page_product")
                            .col(ShareCode::CustomerId)
                            .col(ShareCode::Page)
                            .col(ShareCode::ProductKey)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        // Accepted one-time subscription consents (一次性订阅) per customer
        // and template: each message sent spends one.
        manager
            .create_table(
                Table::create()
                    .table(SubscriptionConsent::Table)
                    .col(big_pk_auto(SubscriptionConsent::Id))
                    .col(big_integer(SubscriptionConsent::CustomerId))
                    .col(string(SubscriptionConsent::TemplateId))
                    .col(integer(SubscriptionConsent::Available))
                    .col(timestamp_with_time_zone(SubscriptionConsent::UpdatedAt))
                    .check(Expr::col(SubscriptionConsent::Available).gte(0))
                    .index(
                        Index::create()
                            .name("uq_subscription_consent_customer_template")
                            .col(SubscriptionConsent::CustomerId)
                            .col(SubscriptionConsent::TemplateId)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        // Carriers as suppliers type them that match no name in WeChat's
        // list, mapped by ADMIN to WeChat's `delivery_id`.
        manager
            .create_table(
                Table::create()
                    .table(WechatCarrierMap::Table)
                    .col(big_pk_auto(WechatCarrierMap::Id))
                    .col(string_uniq(WechatCarrierMap::Carrier))
                    .col(string(WechatCarrierMap::DeliveryId))
                    .col(timestamp_with_time_zone(WechatCarrierMap::UpdatedAt))
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
            .drop_table(Table::drop().table(WechatCarrierMap::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(SubscriptionConsent::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ShareCode::Table).to_owned())
            .await?;
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

#[derive(DeriveIden)]
enum ShareCode {
    Table,
    Id,
    CustomerId,
    Page,
    ProductKey,
    Scene,
    EnvVersion,
    Token,
    ContentType,
    Image,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SubscriptionConsent {
    Table,
    Id,
    CustomerId,
    TemplateId,
    Available,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum WechatCarrierMap {
    Table,
    Id,
    Carrier,
    DeliveryId,
    UpdatedAt,
}
