//! Stock: the one module that changes how many units a SKU has.
//!
//! Every change is a conditional statement or happens under the SKU rows'
//! locks, taken in id order (the lock order of every transaction that
//! moves money and stock: the wallet first, then SKUs by id), in the
//! caller's transaction; `CHECK (stock >= 0)` is the backstop. Placing
//! takes, cancelling and refunds give back, suppliers and admins set. After
//! the commit the caller refreshes the products' cache entries
//! ([`invalidate`], [`invalidate_skus`]). A SKU's first stock is written
//! with the SKU itself when its product is created or edited.
use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use entity::sku;
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait, ExprTrait,
    QueryFilter, QueryOrder, QuerySelect,
    sea_query::{CaseStatement, Expr},
};

use super::service::MAX_STOCK;
use crate::{
    cache::keys,
    error::{AppError, AppResult},
    state::AppState,
};

/// A stock figure an admin or a supplier may set.
pub fn check(value: i32, field: &str) -> AppResult<i32> {
    if !(0..=MAX_STOCK).contains(&value) {
        return Err(AppError::bad_input(
            field,
            format!("must be between 0 and {MAX_STOCK}"),
        ));
    }
    Ok(value)
}

/// Sets one SKU's stock (ADMIN), then refreshes its product's entry.
pub async fn set(state: &AppState, sku_id: i64, stock: i32) -> AppResult<sku::Model> {
    check(stock, "stock")?;
    let found = sku::Entity::find_by_id(sku_id)
        .one(&state.db)
        .await?
        .filter(|s| !s.archived)
        .ok_or_else(|| AppError::NotFound(format!("SKU {sku_id} does not exist")))?;
    let mut a: sku::ActiveModel = found.clone().into();
    a.stock = Set(stock);
    a.updated_at = Set(Utc::now());
    let updated = a.update(&state.db).await?;
    invalidate(state, &[found.product_id]).await;
    Ok(updated)
}

/// Locks these SKU rows for the rest of the transaction, in id order (the
/// lock order of every stock change; PostgreSQL `FOR UPDATE`, SQLite has one
/// writer): stock is then read and written by this transaction alone.
pub async fn lock(txn: &DatabaseTransaction, ids: &[i64]) -> AppResult<()> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() || txn.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    sku::Entity::find()
        .select_only()
        .column(sku::Column::Id)
        .filter(sku::Column::Id.is_in(ids))
        .order_by_asc(sku::Column::Id)
        .lock_exclusive()
        .into_tuple::<i64>()
        .all(txn)
        .await?;
    Ok(())
}

/// Sets the stock of several SKUs in the caller's transaction; the caller
/// refreshes their products after the commit ([`invalidate_skus`]).
pub async fn set_in(txn: &DatabaseTransaction, stocks: &[(i64, i32)]) -> AppResult<()> {
    let now = Utc::now();
    for (sku_id, stock) in stocks {
        sku::Entity::update_many()
            .col_expr(sku::Column::Stock, Expr::value(*stock))
            .col_expr(sku::Column::UpdatedAt, Expr::value(now))
            .filter(sku::Column::Id.eq(*sku_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

/// After a stock change of these SKUs: their products' entries.
pub async fn invalidate_skus(state: &AppState, sku_ids: &[i64]) -> AppResult<()> {
    let products: Vec<i64> = super::service::skus_by_ids(&state.db, sku_ids)
        .await?
        .into_iter()
        .map(|s| s.product_id)
        .collect();
    invalidate(state, &products).await;
    Ok(())
}

/// After stock or sales changes: the products' entries only (the hot list
/// holds ids; its order follows sales and is refreshed by its TTL).
pub async fn invalidate(state: &AppState, product_ids: &[i64]) {
    let keys: Vec<String> = product_ids.iter().map(|id| keys::product(*id)).collect();
    state.cache.invalidate(&keys).await;
}

/// The stock of these SKUs, each row locked until the commit (PostgreSQL;
/// SQLite has one writer).
pub async fn lock_counts(db: &impl ConnectionTrait, ids: &[i64]) -> AppResult<HashMap<i64, i32>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = sku::Entity::find()
        .select_only()
        .column(sku::Column::Id)
        .column(sku::Column::Stock)
        .filter(sku::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(sku::Column::Id);
    if db.get_database_backend() == DatabaseBackend::Postgres {
        q = q.lock_exclusive();
    }
    Ok(q.into_tuple::<(i64, i32)>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// Takes `quantity` units of one SKU, if it has them: `false` when short.
pub async fn take(db: &impl ConnectionTrait, sku_id: i64, quantity: i32) -> AppResult<bool> {
    let taken = sku::Entity::update_many()
        .col_expr(
            sku::Column::Stock,
            Expr::col(sku::Column::Stock).sub(quantity),
        )
        .filter(sku::Column::Id.eq(sku_id))
        .filter(sku::Column::Stock.gte(quantity))
        .exec(db)
        .await?;
    Ok(taken.rows_affected == 1)
}

/// Takes `taken` units from each SKU in one statement. The rows are locked
/// and were counted under the lock, so it cannot come up short; the stock
/// condition stays as the backstop it is everywhere else, and coming up short
/// rolls the batch back.
pub async fn take_many(db: &impl ConnectionTrait, taken: &BTreeMap<i64, i32>) -> AppResult<()> {
    let mut units = CaseStatement::new();
    for (id, n) in taken {
        units = units.case(sku::Column::Id.eq(*id), Expr::val(*n));
    }
    let units: Expr = units.finally(Expr::val(0)).into();
    let res = sku::Entity::update_many()
        .col_expr(
            sku::Column::Stock,
            Expr::col(sku::Column::Stock).sub(units.clone()),
        )
        .filter(sku::Column::Id.is_in(taken.keys().copied()))
        .filter(Expr::col(sku::Column::Stock).gte(units))
        .exec(db)
        .await?;
    if res.rows_affected != taken.len() as u64 {
        return Err(AppError::internal(anyhow::anyhow!(
            "stock counted under lock came up short"
        )));
    }
    Ok(())
}

/// Gives units back to their SKUs (a cancelled order, a refund of what
/// had not shipped), in SKU id order.
pub async fn give_back(txn: &DatabaseTransaction, units: &[(i64, i32)]) -> AppResult<()> {
    let mut units = units.to_vec();
    units.sort_by_key(|(sku_id, _)| *sku_id);
    for (sku_id, quantity) in units {
        sku::Entity::update_many()
            .col_expr(
                sku::Column::Stock,
                Expr::col(sku::Column::Stock).add(quantity),
            )
            .filter(sku::Column::Id.eq(sku_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}
