//! Supplier payables follow-up (issue 16): a `NET` entry kind, so that what
//! a supplier owes back (a payable whose balance went negative through a
//! refund after the store paid it) is carried into the supplier's next
//! payment: the negative payable gets a positive `NET` and the payable it
//! is netted against a negative one, both in the paying transaction.
//!
//! Only the kind check of `supplier_payable_entry` changes. PostgreSQL
//! swaps the constraint; SQLite cannot alter a check, so the table is
//! rebuilt with its rows, ids and index.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const CHECK: &str = "(kind = 'ACCRUE' AND amount_fen >= 0) \
    OR (kind IN ('ADJUST', 'PAY') AND amount_fen < 0) \
    OR (kind = 'NET' AND amount_fen <> 0)";
const OLD_CHECK: &str = "(kind = 'ACCRUE' AND amount_fen >= 0) \
    OR (kind IN ('ADJUST', 'PAY') AND amount_fen < 0)";

fn sqlite_rebuild(check: &str) -> Vec<String> {
    vec![
        format!(
            "CREATE TABLE supplier_payable_entry_new (\
             id integer NOT NULL PRIMARY KEY AUTOINCREMENT, \
             payable_id bigint NOT NULL, \
             kind varchar NOT NULL, \
             amount_fen bigint NOT NULL, \
             after_sale_id bigint NULL, \
             reference varchar NULL, \
             created_at timestamp_with_timezone_text NOT NULL, \
             CHECK ({check}), \
             FOREIGN KEY (payable_id) REFERENCES supplier_payable (id))"
        ),
        "INSERT INTO supplier_payable_entry_new \
         SELECT id, payable_id, kind, amount_fen, after_sale_id, reference, created_at \
         FROM supplier_payable_entry"
            .into(),
        "DROP TABLE supplier_payable_entry".into(),
        "ALTER TABLE supplier_payable_entry_new RENAME TO supplier_payable_entry".into(),
        "CREATE UNIQUE INDEX uq_supplier_payable_entry_after_sale \
         ON supplier_payable_entry (payable_id, kind, after_sale_id)"
            .into(),
    ]
}

fn postgres_swap(check: &str) -> Vec<String> {
    vec![
        "ALTER TABLE supplier_payable_entry DROP CONSTRAINT supplier_payable_entry_check".into(),
        format!(
            "ALTER TABLE supplier_payable_entry ADD CONSTRAINT supplier_payable_entry_check CHECK ({check})"
        ),
    ]
}

async fn set_check(manager: &SchemaManager<'_>, check: &str) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let statements = match manager.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => postgres_swap(check),
        _ => sqlite_rebuild(check),
    };
    for sql in statements {
        db.execute_unprepared(&sql).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_check(manager, CHECK).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        set_check(manager, OLD_CHECK).await
    }
}
