//! Customers, admins and refresh tokens.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Customer::Table)
                    .col(big_pk_auto(Customer::Id))
                    .col(string_uniq(Customer::Openid))
                    .col(string_null(Customer::Unionid))
                    .col(string_null(Customer::Nickname))
                    .col(string_null(Customer::AvatarUrl))
                    // Unique: the code alone identifies the inviter.
                    .col(string_uniq(Customer::ReferralCode))
                    .col(big_integer_null(Customer::ReferrerId))
                    .col(string_null(Customer::Scene))
                    .col(timestamp_with_time_zone(Customer::CreatedAt))
                    .col(timestamp_with_time_zone(Customer::LastLoginAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Customer::Table, Customer::ReferrerId)
                            .to(Customer::Table, Customer::Id),
                    )
                    // Nobody refers themselves, whatever the code path.
                    .check(Expr::col(Customer::ReferrerId).ne(Expr::col(Customer::Id)))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_customer_referrer")
                    .table(Customer::Table)
                    .col(Customer::ReferrerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_customer_unionid")
                    .table(Customer::Table)
                    .col(Customer::Unionid)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Admin::Table)
                    .col(big_pk_auto(Admin::Id))
                    .col(string_uniq(Admin::Username))
                    .col(string(Admin::PasswordHash))
                    .col(timestamp_with_time_zone(Admin::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshToken::Table)
                    .col(big_pk_auto(RefreshToken::Id))
                    .col(string_uniq(RefreshToken::TokenHash))
                    .col(string(RefreshToken::FamilyId))
                    .col(string(RefreshToken::Role))
                    .col(big_integer(RefreshToken::SubjectId))
                    .col(timestamp_with_time_zone(RefreshToken::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshToken::UsedAt))
                    .col(timestamp_with_time_zone_null(RefreshToken::RevokedAt))
                    .col(timestamp_with_time_zone(RefreshToken::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_token_family")
                    .table(RefreshToken::Table)
                    .col(RefreshToken::FamilyId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RefreshToken::Table.into_iden(),
            Admin::Table.into_iden(),
            Customer::Table.into_iden(),
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
    Openid,
    Unionid,
    Nickname,
    AvatarUrl,
    ReferralCode,
    ReferrerId,
    Scene,
    CreatedAt,
    LastLoginAt,
}

#[derive(DeriveIden)]
enum Admin {
    Table,
    Id,
    Username,
    PasswordHash,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshToken {
    Table,
    Id,
    TokenHash,
    FamilyId,
    Role,
    SubjectId,
    ExpiresAt,
    UsedAt,
    RevokedAt,
    CreatedAt,
}
