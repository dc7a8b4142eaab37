//! A lighter write path for orders, measured with `scripts/bench.sh orders`.
//!
//! - The order number (the UTC date of `created_at` and the id, zero-padded
//!   to ten digits: `20261123` + `0000000123`) is written by the database as
//!   the row goes in. It used to take a second write of every new order, and
//!   on PostgreSQL that update touched every index of the table.
//! - The job indexes hold only what their job looks for: unpaid orders by
//!   deadline, shipped orders by shipping time. A status change then writes
//!   no entry into them (the old `(status, …)` indexes got one on every move).
//! - `idx_fulfillment_order` goes: the unique `(order_id, supplier_id)` index
//!   serves lookups by order.
//! - Payments get the index their lookups by order need.
//!
//! The number is computed in `order::service::order_number` too (the row a
//! SQLite insert returns predates its AFTER trigger); a test reads the stored
//! number back on both backends.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const PG_NUMBER: &str = r#"
CREATE FUNCTION shop_order_number() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- lpad truncates to its length: never below the id's own width.
    NEW.order_no := to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYYMMDD')
        || lpad(NEW.id::text, greatest(10, length(NEW.id::text)), '0');
    RETURN NEW;
END
$$;
CREATE TRIGGER shop_order_number BEFORE INSERT ON shop_order
    FOR EACH ROW EXECUTE FUNCTION shop_order_number();
"#;

// SQLite cannot assign to NEW: the row is numbered right after it goes in,
// inside the same statement.
const SQLITE_NUMBER: &str = r#"
CREATE TRIGGER shop_order_number AFTER INSERT ON shop_order
BEGIN
    UPDATE shop_order
        SET order_no = strftime('%Y%m%d', NEW.created_at) || printf('%010d', NEW.id)
        WHERE id = NEW.id;
END;
"#;

const PARTIAL_INDEXES: [&str; 4] = [
    "DROP INDEX idx_order_status_expires",
    "DROP INDEX idx_order_status_shipped",
    "CREATE INDEX idx_order_unpaid_expires ON shop_order (expires_at) WHERE status = 'PENDING_PAYMENT'",
    "CREATE INDEX idx_order_shipped_at ON shop_order (shipped_at) WHERE status = 'SHIPPED'",
];

const FULL_INDEXES: [&str; 4] = [
    "DROP INDEX idx_order_unpaid_expires",
    "DROP INDEX idx_order_shipped_at",
    "CREATE INDEX idx_order_status_expires ON shop_order (status, expires_at)",
    "CREATE INDEX idx_order_status_shipped ON shop_order (status, shipped_at)",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => {
                db.execute_unprepared(PG_NUMBER).await?
            }
            _ => db.execute_unprepared(SQLITE_NUMBER).await?,
        };
        for sql in PARTIAL_INDEXES {
            db.execute_unprepared(sql).await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("idx_fulfillment_order")
                    .table(Fulfillment::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_payment_order")
                    .table(Payment::Table)
                    .col(Payment::OrderId)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        manager
            .drop_index(
                Index::drop()
                    .name("idx_payment_order")
                    .table(Payment::Table)
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
        for sql in FULL_INDEXES {
            db.execute_unprepared(sql).await?;
        }
        match manager.get_database_backend() {
            sea_orm_migration::sea_orm::DatabaseBackend::Postgres => {
                db.execute_unprepared(
                    "DROP TRIGGER shop_order_number ON shop_order; DROP FUNCTION shop_order_number();",
                )
                .await?
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER shop_order_number")
                    .await?
            }
        };
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Fulfillment {
    Table,
    OrderId,
}

#[derive(DeriveIden)]
enum Payment {
    Table,
    OrderId,
}
