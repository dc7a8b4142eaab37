//! Connecting to the database and applying migrations.
use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection, Statement,
    TransactionTrait, sqlx::sqlite::SqliteJournalMode,
};

use crate::config::Settings;

/// Opens the pool. SQLite gets one connection: it has a single writer, and a
/// deferred transaction that upgrades to a write fails with SQLITE_BUSY
/// whatever the busy timeout, so one connection serializes cleanly instead.
///
/// `statements` counts every SQL statement run (exported in `/metrics`; tests
/// use it to check that DataLoaders and the cache bound the queries).
pub async fn connect(
    settings: &Settings,
    statements: Arc<AtomicU64>,
) -> anyhow::Result<DatabaseConnection> {
    let url = &settings.database_url;
    let mut opts = ConnectOptions::new(url.clone());
    opts.sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10));
    if url.starts_with("sqlite:") {
        if let Some(dir) = sqlite_file_dir(url) {
            std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        // An in-memory database vanishes with its last connection: keep it open.
        opts.max_connections(1)
            .min_connections(1)
            // In-process: nothing can drop the connection, no ping needed.
            .test_before_acquire(false)
            .idle_timeout(None::<Duration>)
            .max_lifetime(None::<Duration>)
            .map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .foreign_keys(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(5))
            });
    } else {
        let max = std::env::var("DATABASE_MAX_CONNECTIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20);
        // Pinging every connection on every checkout doubles the round trips
        // of each autocommit statement; ping only ones idle long enough to
        // have been dropped by the server or a proxy.
        opts.max_connections(max)
            .min_connections(1)
            .test_before_acquire_if_idle_for(Duration::from_secs(30));
        if let Some(schema) = &settings.database_schema {
            opts.set_schema_search_path(schema.clone());
        }
    }
    let mut db = Database::connect(opts)
        .await
        .context("connecting to the database")?;
    db.set_metric_callback(move |_| {
        statements.fetch_add(1, Ordering::Relaxed);
    });
    migrate(&db).await?;
    Ok(db)
}

/// Applies pending migrations. On PostgreSQL they run in one transaction
/// under an advisory lock, so instances starting together migrate once.
pub async fn migrate(db: &DatabaseConnection) -> anyhow::Result<()> {
    if db.get_database_backend() == DatabaseBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock(7303823311)",
        ))
        .await?;
        Migrator::up(&txn, None)
            .await
            .context("applying migrations")?;
        txn.commit().await?;
    } else {
        Migrator::up(db, None)
            .await
            .context("applying migrations")?;
    }
    Ok(())
}

/// The folder of a file database, to create it; `None` for in-memory ones.
fn sqlite_file_dir(url: &str) -> Option<std::path::PathBuf> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    std::path::Path::new(path)
        .parent()
        .map(|p| p.to_path_buf())
        .filter(|p| !p.as_os_str().is_empty())
}

/// One page of a newest-first list, keyset-paginated on an id column: the
/// rows after `after_id` (exclusive), at most `first`, and whether more follow.
pub async fn page_desc<E>(
    db: &impl ConnectionTrait,
    query: sea_orm::Select<E>,
    id: E::Column,
    first: u64,
    after_id: Option<i64>,
) -> Result<(Vec<E::Model>, bool), sea_orm::DbErr>
where
    E: sea_orm::EntityTrait,
{
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    let query = match after_id {
        Some(a) => query.filter(id.lt(a)),
        None => query,
    };
    let mut rows = query.order_by_desc(id).limit(first + 1).all(db).await?;
    let more = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Ok((rows, more))
}

/// `SUM(col)` of a BIGINT column as a BIGINT (NULL over no rows): PostgreSQL
/// sums BIGINTs into NUMERIC, which does not read back as `i64`.
pub fn sum_bigint(col: impl sea_orm::sea_query::IntoColumnRef) -> sea_orm::sea_query::Expr {
    use sea_orm::sea_query::{Expr, Func};
    Expr::expr(Func::cast_as(Func::sum(Expr::col(col)), "BIGINT"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_dir_of_sqlite_urls() {
        assert_eq!(
            super::sqlite_file_dir("sqlite://./data/siyu.db"),
            Some("./data".into())
        );
        assert_eq!(super::sqlite_file_dir("sqlite::memory:"), None);
        assert_eq!(super::sqlite_file_dir("sqlite://siyu.db"), None);
    }
}
