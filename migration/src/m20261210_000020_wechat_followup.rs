//! WeChat platform follow-up: subscription messages queued and sent (each
//! attempt recorded), the tracking number each shipping upload carried (so
//! a corrected one is uploaded once more) and when a parcel's was corrected
//! (once per payment), and WeChat's reminders to ship.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SubscriptionMessage::Table)
                    .col(big_pk_auto(SubscriptionMessage::Id))
                    // The event it is for (`SHIP:F<fulfillment>`, …): unique,
                    // so instances finding the same event at once queue it
                    // once and spend one consent.
                    .col(string_uniq(SubscriptionMessage::MessageKey))
                    .col(big_integer(SubscriptionMessage::CustomerId))
                    .col(string(SubscriptionMessage::Event))
                    .col(string(SubscriptionMessage::TemplateId))
                    .col(string(SubscriptionMessage::Page))
                    // The `data` object sent, JSON.
                    .col(text(SubscriptionMessage::Data))
                    // PENDING (due or waiting for its next attempt), SENT,
                    // FAILED (given up), REFUSED (43101: the consent is gone).
                    .col(string(SubscriptionMessage::Status))
                    .col(integer(SubscriptionMessage::Attempts))
                    .col(timestamp_with_time_zone(SubscriptionMessage::NextAttemptAt))
                    .col(timestamp_with_time_zone_null(
                        SubscriptionMessage::LockedUntil,
                    ))
                    .col(string_null(SubscriptionMessage::LastError))
                    .col(timestamp_with_time_zone_null(SubscriptionMessage::SentAt))
                    .col(timestamp_with_time_zone(SubscriptionMessage::CreatedAt))
                    .check(
                        Expr::col(SubscriptionMessage::Status)
                            .is_in(["PENDING", "SENT", "FAILED", "REFUSED"]),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_subscription_message_due")
                    .table(SubscriptionMessage::Table)
                    .col(SubscriptionMessage::Status)
                    .col(SubscriptionMessage::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SubscriptionMessageAttempt::Table)
                    .col(big_pk_auto(SubscriptionMessageAttempt::Id))
                    .col(big_integer(SubscriptionMessageAttempt::MessageId))
                    .col(integer(SubscriptionMessageAttempt::AttemptNo))
                    .col(big_integer_null(SubscriptionMessageAttempt::Errcode))
                    .col(string_null(SubscriptionMessageAttempt::Error))
                    .col(timestamp_with_time_zone(
                        SubscriptionMessageAttempt::CreatedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                SubscriptionMessageAttempt::Table,
                                SubscriptionMessageAttempt::MessageId,
                            )
                            .to(SubscriptionMessage::Table, SubscriptionMessage::Id),
                    )
                    .index(
                        Index::create()
                            .name("uq_subscription_message_attempt")
                            .col(SubscriptionMessageAttempt::MessageId)
                            .col(SubscriptionMessageAttempt::AttemptNo)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        // The tracking number an upload carried: a fulfillment whose number
        // changed after it was uploaded is uploaded once more (a correction).
        manager
            .alter_table(
                Table::alter()
                    .table(WechatShipping::Table)
                    .add_column(string_null(WechatShipping::TrackingNo))
                    .to_owned(),
            )
            .await?;
        // When a shipped parcel's carrier or tracking number was corrected:
        // WeChat takes one correction per payment.
        manager
            .alter_table(
                Table::alter()
                    .table(Fulfillment::Table)
                    .add_column(timestamp_with_time_zone_null(Fulfillment::CorrectedAt))
                    .to_owned(),
            )
            .await?;
        // WeChat's `trade_manage_remind_shipping` pushes, one row per order,
        // shown to ADMIN on the order.
        manager
            .create_table(
                Table::create()
                    .table(WechatShippingReminder::Table)
                    .col(big_pk_auto(WechatShippingReminder::Id))
                    .col(big_integer_uniq(WechatShippingReminder::OrderId))
                    .col(string(WechatShippingReminder::TransactionId))
                    .col(integer(WechatShippingReminder::Reminders))
                    .col(timestamp_with_time_zone(WechatShippingReminder::FirstAt))
                    .col(timestamp_with_time_zone(WechatShippingReminder::LastAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(
                Table::drop()
                    .table(WechatShippingReminder::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(WechatShipping::Table)
                    .drop_column(WechatShipping::TrackingNo)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(
                Table::drop()
                    .table(SubscriptionMessageAttempt::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(SubscriptionMessage::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum SubscriptionMessage {
    Table,
    Id,
    MessageKey,
    CustomerId,
    Event,
    TemplateId,
    Page,
    Data,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    SentAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SubscriptionMessageAttempt {
    Table,
    Id,
    MessageId,
    AttemptNo,
    Errcode,
    Error,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WechatShipping {
    Table,
    TrackingNo,
}

#[derive(DeriveIden)]
enum Fulfillment {
    Table,
    CorrectedAt,
}

#[derive(DeriveIden)]
enum WechatShippingReminder {
    Table,
    Id,
    OrderId,
    TransactionId,
    Reminders,
    FirstAt,
    LastAt,
}
