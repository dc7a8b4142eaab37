//! Credentials that can be withdrawn: a supplier can be disabled (its
//! integration can no longer sign in), and the refresh tokens of one
//! subject can be revoked together (a supplier disabled or its key rotated,
//! the admin's password changed), which needs them found by subject.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Supplier::Table)
                    .add_column(boolean(Supplier::Active).default(true))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_token_subject")
                    .table(RefreshToken::Table)
                    .col(RefreshToken::SubjectId)
                    .col(RefreshToken::Role)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_refresh_token_subject")
                    .table(RefreshToken::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Supplier::Table)
                    .drop_column(Supplier::Active)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Supplier {
    Table,
    Active,
}

#[derive(DeriveIden)]
enum RefreshToken {
    Table,
    SubjectId,
    Role,
}
