//! Moving an order along its state machine (`state.rs`) outside payment and
//! refunds: cancelling (stock and balance back, exactly once), the buyer's
//! receipt, shipping complete, the time-out and auto-completion jobs. Every
//! move is a conditional update checked against the state machine.

use chrono::{DateTime, Utc};
use entity::{fulfillment, order_line, shop_order};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait, sea_query::Expr,
};

use super::query::lines_of;
use super::query::own;
use super::state::{self, Status};
use crate::{
    error::{AppError, AppResult},
    modules::{
        catalogue::stock,
        coupon::service as coupons,
        wallet::ledger::{self, Kind as LedgerKind, Movement},
    },
    state::AppState,
};
/// Gives an order's balance draw back to the wallet, as it was drawn.
pub(super) async fn return_balance(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
) -> AppResult<()> {
    if order.balance_principal_fen + order.balance_bonus_fen > 0 {
        ledger::apply(
            txn,
            order.customer_id,
            Movement::new(
                LedgerKind::Refund,
                order.balance_principal_fen,
                order.balance_bonus_fen,
            )
            .for_order(order.id),
        )
        .await?;
    }
    Ok(())
}

/// Moves an order from `from` to `to` if it is still in `from`; true when this call moved it.
pub(super) async fn transition(
    txn: &DatabaseTransaction,
    id: i64,
    from: Status,
    to: Status,
    stamp: Option<(shop_order::Column, DateTime<Utc>)>,
) -> AppResult<bool> {
    state::check(from, to)?;
    let now = Utc::now();
    let mut q = shop_order::Entity::update_many()
        .col_expr(shop_order::Column::Status, Expr::value(to.as_str()))
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(now));
    if let Some((col, at)) = stamp {
        q = q.col_expr(col, Expr::value(at));
    }
    let res = q
        .filter(shop_order::Column::Id.eq(id))
        .filter(shop_order::Column::Status.eq(from.as_str()))
        .exec(txn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// Lock order, everywhere money and stock move together: the wallet first,
/// then SKUs by id. Keeping to it means two transactions never deadlock.
pub(super) async fn give_back_stock(
    txn: &DatabaseTransaction,
    order_id: i64,
) -> AppResult<Vec<i64>> {
    let lines = lines_of(txn, &[order_id]).await?;
    give_back_stock_of(txn, lines).await
}

pub(super) async fn give_back_stock_of(
    txn: &DatabaseTransaction,
    lines: Vec<order_line::Model>,
) -> AppResult<Vec<i64>> {
    let units: Vec<(i64, i32)> = lines.iter().map(|l| (l.sku_id, l.quantity)).collect();
    stock::give_back(txn, &units).await?;
    Ok(lines.iter().map(|l| l.product_id).collect())
}

/// Cancels an unpaid order and gives its stock back, exactly once: only the
/// call whose conditional update moved the order returns the stock.
pub async fn cancel(state: &AppState, order: &shop_order::Model) -> AppResult<bool> {
    let status = Status::parse(&order.status)?;
    state::check(status, Status::Cancelled)?;
    let txn = state.db.begin().await?;
    let moved = transition(
        &txn,
        order.id,
        Status::PendingPayment,
        Status::Cancelled,
        Some((shop_order::Column::CancelledAt, Utc::now())),
    )
    .await?;
    if !moved {
        return Ok(false);
    }
    return_balance(&txn, order).await?;
    coupons::give_back(&txn, order.id).await?;
    let products = give_back_stock(&txn, order.id).await?;
    txn.commit().await?;
    stock::invalidate(state, &products).await;
    Ok(true)
}

/// The customer cancels its unpaid order.
pub async fn cancel_own(
    state: &AppState,
    customer_id: i64,
    id: i64,
) -> AppResult<shop_order::Model> {
    let order = own(state, customer_id, id).await?;
    if !cancel(state, &order).await? {
        let now = own(state, customer_id, id).await?;
        return Err(AppError::Conflict(format!(
            "the order is {} and can no longer be cancelled",
            now.status
        )));
    }
    // The payment sheet may still be open: close the WeChat Pay transaction
    // so it cannot be paid any more (time-outs close it before cancelling,
    // see `before_time_out`). Should closing fail, a payment that still
    // arrives is recorded and refunded.
    if let (Some(pay), Some(_)) = (&state.pay, &order.prepay_id)
        && let Err(e) = pay.close_order(&state.http, &order.order_no).await
    {
        tracing::warn!(order_no = %order.order_no, error = %e, "closing the WeChat Pay transaction of a cancelled order");
    }
    own(state, customer_id, id).await
}

/// Locks a PAID order's row for the rest of the transaction (a no-op
/// update); false when the order is not PAID.
pub async fn hold_paid(txn: &DatabaseTransaction, order_id: i64) -> AppResult<bool> {
    let res = shop_order::Entity::update_many()
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(shop_order::Column::Id.eq(order_id))
        .filter(shop_order::Column::Status.eq(Status::Paid.as_str()))
        .exec(txn)
        .await?;
    Ok(res.rows_affected == 1)
}

/// The customer confirms delivery: SHIPPED → COMPLETED.
pub async fn confirm_receipt(
    state: &AppState,
    customer_id: i64,
    id: i64,
) -> AppResult<shop_order::Model> {
    let order = own(state, customer_id, id).await?;
    let from = Status::parse(&order.status)?;
    // PAID → COMPLETED is for plan orders only, at payment: a customer
    // confirms receipt of what shipped.
    if from != Status::Shipped {
        return Err(AppError::Conflict(format!(
            "an order that is {} cannot become COMPLETED",
            from.as_str()
        )));
    }
    let txn = state.db.begin().await?;
    let moved = transition(
        &txn,
        id,
        Status::Shipped,
        Status::Completed,
        Some((shop_order::Column::CompletedAt, Utc::now())),
    )
    .await?;
    txn.commit().await?;
    if !moved {
        return Err(AppError::Conflict(
            "the order changed meanwhile; look at it again".into(),
        ));
    }
    own(state, customer_id, id).await
}

/// Marks the order SHIPPED once all its fulfillments have shipped.
pub async fn ship_if_complete(txn: &DatabaseTransaction, order_id: i64) -> AppResult<()> {
    let pending = fulfillment::Entity::find()
        .filter(fulfillment::Column::OrderId.eq(order_id))
        .filter(fulfillment::Column::Status.eq(super::fulfillment::PENDING))
        .one(txn)
        .await?;
    if pending.is_none() {
        transition(
            txn,
            order_id,
            Status::Paid,
            Status::Shipped,
            Some((shop_order::Column::ShippedAt, Utc::now())),
        )
        .await?;
    }
    Ok(())
}

/// Background job: cancels every order unpaid past its deadline and returns
/// its stock. Safe from several instances at once (conditional updates).
pub async fn expire_unpaid(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    const PAGE: u64 = 500;
    let mut cancelled = 0;
    // Everything due, a page at a time (after a flash sale thousands of
    // orders may be abandoned at once); a page in which nothing could be
    // cancelled ends the run, and the next tick tries again.
    loop {
        let due = shop_order::Entity::find()
            .filter(shop_order::Column::Status.eq(Status::PendingPayment.as_str()))
            .filter(shop_order::Column::ExpiresAt.lte(now))
            .order_by_asc(shop_order::Column::ExpiresAt)
            .limit(PAGE)
            .all(&state.db)
            .await?;
        let full_page = due.len() as u64 == PAGE;
        let mut moved = 0;
        for order in due {
            match before_time_out(state, &order, now).await {
                WechatSays::NotPaid => {}
                WechatSays::Paid => {
                    moved += 1;
                    continue;
                }
                WechatSays::Wait => continue,
            }
            // One order failing (a lock conflict, say) must not hold up the rest.
            match cancel(state, &order).await {
                Ok(true) => moved += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(order_id = order.id, error = ?e, "could not time out an order; next tick retries")
                }
            }
        }
        cancelled += moved;
        if !full_page || moved == 0 {
            return Ok(cancelled);
        }
    }
}

/// What WeChat Pay says of an unpaid order about to time out.
enum WechatSays {
    /// Not paid (or no WeChat Pay transaction): cancel it.
    NotPaid,
    /// Paid after all (its notification was lost): confirmed now.
    Paid,
    /// Ask again next tick (the buyer is paying right now, or WeChat Pay
    /// did not answer).
    Wait,
}

/// How long past its deadline an order whose WeChat Pay transaction cannot
/// be queried (WeChat Pay down) keeps its stock before it is cancelled
/// anyway: its prepay has expired by then, and a payment that still shows
/// up (notification or trade bill) is recorded and refunded.
const QUERY_GRACE_MINS: i64 = 60;

/// Before an order with a WeChat Pay transaction times out, WeChat Pay is
/// asked whether it was paid, so a lost notification never cancels a paid
/// order: paid → confirmed through the same path as a notification; not
/// paid → the transaction is closed (so nothing can pay it later), then the
/// order is cancelled; the buyer still paying (`USERPAYING`) → next tick.
async fn before_time_out(
    state: &AppState,
    order: &shop_order::Model,
    now: DateTime<Utc>,
) -> WechatSays {
    let (Some(pay), Some(_)) = (&state.pay, &order.prepay_id) else {
        return WechatSays::NotPaid;
    };
    let tx = match pay.query_order(&state.http, &order.order_no).await {
        Ok(tx) => tx,
        Err(e) => {
            tracing::warn!(order_no = %order.order_no, error = %e, "could not ask WeChat Pay about an order before timing it out");
            return if now > order.expires_at + chrono::Duration::minutes(QUERY_GRACE_MINS) {
                WechatSays::NotPaid
            } else {
                WechatSays::Wait
            };
        }
    };
    match tx.trade_state.as_str() {
        "SUCCESS" => {
            if tx.appid != pay.appid() || tx.mchid != pay.mchid() {
                tracing::error!(order_no = %order.order_no, "WeChat Pay's order query is for another merchant or app");
                return WechatSays::Wait;
            }
            let confirmed = super::payment::confirm_payment(
                state,
                super::payment::Confirmation {
                    order_no: order.order_no.clone(),
                    transaction_id: tx.transaction_id,
                    amount_fen: tx.total_fen,
                    provider: "WECHAT",
                },
            )
            .await;
            match confirmed {
                Ok(outcome) => {
                    tracing::warn!(order_no = %order.order_no, ?outcome, "payment notification lost; the time-out's query confirmed the payment");
                    WechatSays::Paid
                }
                Err(e) => {
                    tracing::error!(order_no = %order.order_no, error = ?e, "WeChat Pay says paid but the payment could not be confirmed");
                    WechatSays::Wait
                }
            }
        }
        "USERPAYING" => WechatSays::Wait,
        state_now => {
            if state_now != "CLOSED"
                && let Err(e) = pay.close_order(&state.http, &order.order_no).await
            {
                if matches!(&e, crate::wechat::pay::PayError::Rejected { code, .. } if code == "ORDERPAID")
                {
                    // Paid between the query and the close: next tick confirms it.
                    return WechatSays::Wait;
                }
                // Its prepay expired with the order; a payment that still
                // arrives is recorded and refunded.
                tracing::warn!(order_no = %order.order_no, error = %e, "closing the WeChat Pay transaction of a timed-out order");
            }
            WechatSays::NotPaid
        }
    }
}

/// Background job: completes orders shipped `AUTO_COMPLETE_DAYS` ago. One
/// conditional statement: safe from several instances at once.
pub async fn auto_complete(state: &AppState, now: DateTime<Utc>) -> AppResult<u64> {
    state::check(Status::Shipped, Status::Completed)?;
    let cutoff = now - chrono::Duration::days(i64::from(state.settings.auto_complete_days));
    let res = shop_order::Entity::update_many()
        .col_expr(
            shop_order::Column::Status,
            Expr::value(Status::Completed.as_str()),
        )
        .col_expr(shop_order::Column::CompletedAt, Expr::value(now))
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(now))
        .filter(shop_order::Column::Status.eq(Status::Shipped.as_str()))
        .filter(shop_order::Column::ShippedAt.lte(cutoff))
        .exec(&state.db)
        .await?;
    Ok(res.rows_affected)
}
