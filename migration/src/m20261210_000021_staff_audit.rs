//! Staff accounts and the audit log (issue 19, item 4).
//!
//! `admin` rows become staff accounts: a `role` (`OWNER`, `OPERATIONS`,
//! `CUSTOMER_SERVICE`, `FINANCE`) and an `active` flag. Every account that
//! existed before was the one from `ADMIN_USERNAME`, which may do
//! everything: it becomes an `OWNER`.
//!
//! `audit_entry` is append-only (nothing updates or deletes it): one row per
//! successful staff mutation, with the actor's username as it was then,
//! the mutation's name, its target id and its arguments as JSON (secrets
//! redacted).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per ALTER: SQLite takes one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(Admin::Table)
                    .add_column(string(Admin::Role).default("OWNER").check(
                        Expr::col(Admin::Role).is_in([
                            "OWNER",
                            "OPERATIONS",
                            "CUSTOMER_SERVICE",
                            "FINANCE",
                        ]),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Admin::Table)
                    .add_column(boolean(Admin::Active).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditEntry::Table)
                    .col(big_pk_auto(AuditEntry::Id))
                    .col(big_integer(AuditEntry::ActorId))
                    .col(string(AuditEntry::Actor))
                    .col(string(AuditEntry::Action))
                    .col(string_null(AuditEntry::Target))
                    .col(text(AuditEntry::Arguments))
                    .col(timestamp_with_time_zone(AuditEntry::CreatedAt))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("idx_audit_entry_actor", AuditEntry::Actor),
            ("idx_audit_entry_action", AuditEntry::Action),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(AuditEntry::Table)
                        .col(col)
                        .col(AuditEntry::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("idx_audit_entry_created")
                    .table(AuditEntry::Table)
                    .col(AuditEntry::CreatedAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditEntry::Table).to_owned())
            .await?;
        for col in [Admin::Active, Admin::Role] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Admin::Table)
                        .drop_column(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Admin {
    Table,
    Role,
    Active,
}

#[derive(DeriveIden)]
enum AuditEntry {
    Table,
    Id,
    ActorId,
    Actor,
    Action,
    Target,
    Arguments,
    CreatedAt,
}
