//! Customer filters at a store's size (a million customers): indexes that
//! match them, a trigram index for nickname keywords on PostgreSQL, and
//! the store's RFM cutoffs kept in a row that the jobs loop refreshes, so
//! that no request computes them.
use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Both backends: join date (with the id the list is ordered by), entry
/// scene, and the order count of the figures.
const INDEXES: &[&str] = &[
    "CREATE INDEX idx_customer_created ON customer (created_at, id)",
    "CREATE INDEX idx_customer_scene ON customer (scene)",
    "CREATE INDEX idx_customer_stats_orders ON customer_stats (orders_count)",
];

/// PostgreSQL: pg_trgm when this role may create it (it is a trusted
/// extension from PostgreSQL 13, so the database's owner may), in `public`
/// where it can be (one copy serves every schema; the operator class is
/// named with the schema the extension is in). A failure is caught inside
/// the block (a subtransaction), so the migration goes on and keywords fall
/// back to a prefix search on a `text_pattern_ops` index.
const PG_KEYWORD_INDEX: &str = r#"
DO $$
DECLARE
  trgm text;
BEGIN
  BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public;
  EXCEPTION WHEN OTHERS THEN
    BEGIN
      CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN OTHERS THEN
      RAISE WARNING 'pg_trgm unavailable (%): customer keywords search nickname prefixes', SQLERRM;
    END;
  END;
  SELECT n.nspname INTO trgm FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
  IF trgm IS NOT NULL THEN
    EXECUTE format('CREATE INDEX idx_customer_nickname_trgm ON customer USING gin (lower(nickname) %I.gin_trgm_ops)', trgm);
  ELSE
    EXECUTE 'CREATE INDEX idx_customer_nickname_prefix ON customer (lower(nickname) text_pattern_ops)';
  END IF;
END
$$
"#;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for sql in INDEXES {
            db.execute_unprepared(sql).await?;
        }
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            db.execute_unprepared(PG_KEYWORD_INDEX).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(StoreScale::Table)
                    .col(integer(StoreScale::Id).primary_key())
                    .col(text_null(StoreScale::Scale))
                    .col(timestamp_with_time_zone_null(StoreScale::ComputedAt))
                    .col(timestamp_with_time_zone(StoreScale::ClaimedAt))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .drop_table(Table::drop().table(StoreScale::Table).to_owned())
            .await?;
        for name in [
            "idx_customer_nickname_trgm",
            "idx_customer_nickname_prefix",
            "idx_customer_stats_orders",
            "idx_customer_scene",
            "idx_customer_created",
        ] {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS {name}"))
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum StoreScale {
    Table,
    Id,
    Scale,
    ComputedAt,
    ClaimedAt,
}
