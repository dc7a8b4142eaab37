//! Reading wallets, admin adjustments, and the store's prepaid liability.
use entity::{wallet, wallet_transaction};
use sea_orm::{
    ColumnTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    SqlErr, TransactionTrait,
    sea_query::{Expr, Func},
};

use super::ledger::{self, Kind, Movement};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
};

/// Largest single adjustment (¥1,000,000): anything bigger is a typo.
const MAX_ADJUSTMENT_FEN: i64 = 100_000_000;

/// The customer's wallet (zero balances when it has none yet).
pub async fn wallet_of(state: &AppState, customer_id: i64) -> AppResult<wallet::Model> {
    Ok(wallet::Entity::find_by_id(customer_id)
        .one(&state.db)
        .await?
        .unwrap_or(wallet::Model {
            customer_id,
            principal_fen: 0,
            bonus_fen: 0,
            updated_at: chrono::Utc::now(),
        }))
}

/// Ledger rows, newest first, a page after `after_id`.
pub async fn transactions(
    state: &AppState,
    customer_id: i64,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<wallet_transaction::Model>, bool)> {
    let q = wallet_transaction::Entity::find()
        .filter(wallet_transaction::Column::CustomerId.eq(customer_id));
    Ok(crate::db::page_desc(
        &state.db,
        q,
        wallet_transaction::Column::Id,
        first,
        after_id,
    )
    .await?)
}

/// The balance's payments towards an order (its ledger `PAYMENT` rows),
/// oldest first.
pub async fn payments_for_order(
    state: &AppState,
    order_id: i64,
) -> AppResult<Vec<wallet_transaction::Model>> {
    Ok(wallet_transaction::Entity::find()
        .filter(wallet_transaction::Column::OrderId.eq(order_id))
        .filter(wallet_transaction::Column::Kind.eq(super::ledger::Kind::Payment.as_str()))
        .order_by_asc(wallet_transaction::Column::Id)
        .all(&state.db)
        .await?)
}

#[derive(FromQueryResult)]
struct Sum {
    total: Option<i64>,
}

/// Sum of a customer's ledger rows (equals the balance; tests check it).
pub async fn ledger_sum(state: &AppState, customer_id: i64) -> AppResult<i64> {
    let row = wallet_transaction::Entity::find()
        .select_only()
        .column_as(
            Expr::expr(Func::cast_as(
                Func::sum(Expr::col(wallet_transaction::Column::AmountFen)),
                "BIGINT",
            )),
            "total",
        )
        .filter(wallet_transaction::Column::CustomerId.eq(customer_id))
        .into_model::<Sum>()
        .one(&state.db)
        .await?;
    Ok(row.and_then(|r| r.total).unwrap_or(0))
}

/// All stored balances together: what the store owes its customers.
pub async fn outstanding(state: &AppState) -> AppResult<i64> {
    let row = wallet::Entity::find()
        .select_only()
        .column_as(
            // SUM of bigint is numeric on PostgreSQL: cast back to read it as i64.
            Expr::expr(Func::cast_as(
                Func::sum(
                    Expr::col(wallet::Column::PrincipalFen)
                        .add(Expr::col(wallet::Column::BonusFen)),
                ),
                "BIGINT",
            )),
            "total",
        )
        .into_model::<Sum>()
        .one(&state.db)
        .await?;
    Ok(row.and_then(|r| r.total).unwrap_or(0))
}

/// ADMIN adjusts a wallet, with a reason, audited with the admin's id. A
/// credit goes to principal; a debit draws like a payment and never below
/// zero. The same key again returns the wallet and changes nothing; with
/// another amount or reason it is a CONFLICT.
pub async fn adjust(
    state: &AppState,
    admin_id: i64,
    customer_id: i64,
    amount_fen: i64,
    reason: &str,
    key: &str,
) -> AppResult<wallet::Model> {
    if amount_fen == 0 || amount_fen.abs() > MAX_ADJUSTMENT_FEN {
        return Err(AppError::bad_input(
            "amountFen",
            format!("must be non-zero and at most {MAX_ADJUSTMENT_FEN} fen either way"),
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(AppError::bad_input("reason", "must be 1-200 characters"));
    }
    if key.trim().is_empty() || key.len() > 64 {
        return Err(AppError::bad_input(
            "idempotencyKey",
            "must be 1-64 characters",
        ));
    }
    if crate::modules::customer::service::find(state, customer_id)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound(format!(
            "customer {customer_id} not found"
        )));
    }
    let stored_key = format!("adjust:{key}");
    let replay = |row: wallet_transaction::Model| {
        if row.amount_fen == amount_fen && row.reason.as_deref() == Some(reason) {
            Ok(())
        } else {
            Err(AppError::Conflict(
                "this idempotencyKey was used for another adjustment".into(),
            ))
        }
    };
    let find = || {
        wallet_transaction::Entity::find()
            .filter(wallet_transaction::Column::CustomerId.eq(customer_id))
            .filter(wallet_transaction::Column::IdempotencyKey.eq(stored_key.clone()))
            .one(&state.db)
    };
    if let Some(row) = find().await? {
        replay(row)?;
        return wallet_of(state, customer_id).await;
    }
    let txn = state.db.begin().await?;
    let w = ledger::lock(&txn, customer_id).await?;
    let (dp, db) = if amount_fen > 0 {
        (amount_fen, 0)
    } else {
        if -amount_fen > w.principal_fen + w.bonus_fen {
            return Err(AppError::InsufficientBalance(format!(
                "the wallet holds {} fen; it cannot go below zero",
                w.principal_fen + w.bonus_fen
            )));
        }
        let (p, b) = ledger::split_draw(-amount_fen, w.principal_fen, w.bonus_fen);
        (-p, -b)
    };
    let movement = Movement {
        admin_id: Some(admin_id),
        reason: Some(reason.to_string()),
        idempotency_key: Some(stored_key.clone()),
        ..Movement::new(Kind::Adjustment, dp, db)
    };
    match ledger::apply(&txn, customer_id, movement).await {
        Ok(_) => {}
        Err(AppError::Internal(e))
            if e.downcast_ref::<sea_orm::DbErr>()
                .and_then(|d| d.sql_err())
                .is_some_and(|s| matches!(s, SqlErr::UniqueConstraintViolation(_))) =>
        {
            drop(txn);
            let row = find().await?.ok_or_else(|| {
                AppError::internal(anyhow::anyhow!("adjustment race without a row"))
            })?;
            replay(row)?;
            return wallet_of(state, customer_id).await;
        }
        Err(e) => return Err(e),
    }
    txn.commit().await?;
    tracing::info!(admin_id, customer_id, amount_fen, "wallet adjusted");
    wallet_of(state, customer_id).await
}
