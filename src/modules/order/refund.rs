//! Refunds of a whole order: the customer's request, the admin's approval
//! (balance back at once, the provider's part sent, unshipped parts called
//! off with their stock) or rejection.
use std::collections::HashSet;

use chrono::Utc;
use entity::{fulfillment, refund, shop_order};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    TransactionTrait, UpdateMany, sea_query::Expr,
};

use super::fulfillment::kick_webhooks;
use super::lifecycle::give_back_stock_of;
use super::lifecycle::return_balance;
use super::lifecycle::transition;
use super::place::{KIND_GOODS, KIND_MEMBERSHIP, KIND_TOP_UP};
use super::query::find;
use super::query::lines_of;
use super::query::own;
use super::state::{self, Status};
use crate::{
    error::{AppError, AppResult},
    modules::{catalogue::stock, membership::service as membership},
    state::AppState,
};
/// A refunded order's parts that had not shipped are called off: each
/// becomes CANCELLED (its supplier is told by webhook) and the stock of its
/// lines comes back; what has shipped is gone. Returns the products whose
/// stock changed and whether a webhook was queued.
pub(super) async fn call_off_unshipped(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
) -> AppResult<(Vec<i64>, bool)> {
    use super::fulfillment::{CANCELLED, PENDING};
    let called_off = fulfillment::Entity::update_many()
        .col_expr(fulfillment::Column::Status, Expr::value(CANCELLED))
        .filter(fulfillment::Column::OrderId.eq(order.id))
        .filter(fulfillment::Column::Status.eq(PENDING))
        .exec_with_returning(txn)
        .await?;
    let ids: HashSet<i64> = called_off.iter().map(|f| f.id).collect();
    let mut lines = lines_of(txn, &[order.id]).await?;
    lines.retain(|l| l.fulfillment_id.is_none_or(|f| ids.contains(&f)));
    let products = give_back_stock_of(txn, lines).await?;
    let mut hooks = false;
    for f in &called_off {
        let Some(sid) = f.supplier_id else { continue };
        let payload = serde_json::json!({
            "event": "fulfillment.cancelled",
            "fulfillment": { "id": f.id.to_string(), "orderNo": order.order_no },
        });
        hooks |= crate::modules::supplier::webhook::enqueue(
            txn,
            sid,
            f.id,
            "fulfillment.cancelled",
            &payload,
        )
        .await?;
    }
    Ok((products, hooks))
}

pub(super) async fn insert_refund(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
    (wechat_fen, balance_fen): (i64, i64),
    reason: &str,
    status: &str,
    after_sale_id: Option<i64>,
) -> AppResult<refund::Model> {
    let now = Utc::now();
    let r = refund::ActiveModel {
        order_id: Set(order.id),
        status: Set(status.into()),
        amount_fen: Set(wechat_fen + balance_fen),
        wechat_fen: Set(wechat_fen),
        balance_fen: Set(balance_fen),
        reason: Set(reason.chars().take(200).collect()),
        out_refund_no: Set(format!("tmp-{}", uuid::Uuid::new_v4().simple())),
        wechat_refund_id: Set(None),
        approved_at: Set((status == super::provider::REFUND_APPROVED).then_some(now)),
        // The caller sends it at once; the jobs pass only after a minute,
        // so the two rarely send the same refund together (harmless anyway:
        // WeChat Pay deduplicates by out_refund_no).
        next_attempt_at: Set(
            (status == super::provider::REFUND_APPROVED).then(|| now + super::provider::backoff(1))
        ),
        created_at: Set(now),
        updated_at: Set(now),
        after_sale_id: Set(after_sale_id),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let mut a: refund::ActiveModel = r.into();
    a.out_refund_no = Set(format!("R{}-{}", order.order_no, a.id.clone().unwrap()));
    Ok(a.update(txn).await?)
}

/// The customer asks for its paid (or shipped) order to be refunded in full.
pub async fn request_refund(
    state: &AppState,
    customer_id: i64,
    order_id: i64,
    reason: &str,
) -> AppResult<refund::Model> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(AppError::bad_input("reason", "must be 1-200 characters"));
    }
    let order = own(state, customer_id, order_id).await?;
    if order.kind == KIND_TOP_UP {
        // The money is in the wallet and may be spent: the store settles
        // such requests by hand (adjustWallet), never automatically.
        return Err(AppError::Conflict(
            "top-ups cannot be refunded here; ask the store".into(),
        ));
    }
    let from = Status::parse(&order.status)?;
    state::check(from, Status::Refunding)?;
    if from == Status::Completed {
        check_after_sales_window(&order, state.settings.after_sales_days, Utc::now())?;
    }
    let txn = state.db.begin().await?;
    if !transition(&txn, order.id, from, Status::Refunding, None).await? {
        return Err(AppError::Conflict(
            "the order changed meanwhile; look at it again".into(),
        ));
    }
    // The whole-order refund is for orders without after-sales: once units
    // are refunded or asked for, the rest goes per line.
    if super::after_sale::holds_units(&txn, order.id).await? {
        return Err(AppError::Conflict(
            "this order has after-sales: ask for the rest per line (requestAfterSale)".into(),
        ));
    }
    let r = insert_refund(
        &txn,
        &order,
        (order.paid_fen, order.balance_fen),
        reason,
        super::provider::REFUND_PENDING,
        None,
    )
    .await?;
    txn.commit().await?;
    Ok(r)
}

/// A customer asks to refund a COMPLETED order only within `days` of its
/// completion: after it, commissions may have settled and been withdrawn,
/// and a refund would claw them back from the promoter (`owedFen`). This is
/// the customer's window only; the store's own refunds (none exists as a
/// mutation yet) are not bound by it.
pub(super) fn check_after_sales_window(
    order: &shop_order::Model,
    days: u32,
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    // An order completed before `completed_at` was recorded has no date to
    // measure from: it is treated as completed long ago.
    let open = order
        .completed_at
        .is_some_and(|at| now < at + chrono::Duration::days(i64::from(days)));
    if open {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "the after-sales window ({days} days after completion) has closed; ask the store"
        )))
    }
}

/// ADMIN approves a refund: the money goes back, the order becomes REFUNDED,
/// and stock comes back when nothing had shipped.
pub async fn approve_refund(state: &AppState, refund_id: i64) -> AppResult<refund::Model> {
    let (r, order) = refund_and_order(state, refund_id).await?;
    // Everything in the database first, in one transaction; the money last
    // (retried until it goes through), so no approval is ever half done.
    let txn = state.db.begin().await?;
    let approve = refund::Entity::update_many()
        .col_expr(
            refund::Column::Status,
            Expr::value(super::provider::REFUND_APPROVED),
        )
        .col_expr(refund::Column::ApprovedAt, Expr::value(Utc::now()))
        .col_expr(
            refund::Column::NextAttemptAt,
            Expr::value(Utc::now() + super::provider::backoff(1)),
        );
    claim_pending(&txn, &r, approve, "approved").await?;
    let moved = transition(&txn, order.id, Status::Refunding, Status::Refunded, None).await?;
    let mut products = Vec::new();
    let mut webhooks = false;
    if moved {
        return_balance(&txn, &order).await?;
        if order.kind == KIND_GOODS {
            (products, webhooks) = call_off_unshipped(&txn, &order).await?;
            let lines = lines_of(&txn, &[order.id]).await?;
            crate::modules::operations::service::record_refund(&txn, &order, &lines).await?;
            super::payable::on_order_refund(&txn, order.id, Utc::now()).await?;
        }
        // The whole order: every commission goes.
        let goods = order.total_fen - order.shipping_fen;
        crate::modules::referral::service::reverse_share(&txn, &order, 0, goods, goods).await?;
        if order.kind == KIND_MEMBERSHIP {
            membership::revoke(&txn, order.customer_id, order.id, Utc::now()).await?;
        }
    }
    txn.commit().await?;
    stock::invalidate(state, &products).await;
    if webhooks {
        kick_webhooks(state);
    }
    let provider = super::provider::provider_of(state, r.order_id).await?;
    if let Err(e) = super::provider::send_refund(state, r.id, provider).await {
        tracing::warn!(refund_id, error = ?e, "refund approved; sending the money failed and will be retried");
    }
    Ok(refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .unwrap_or(r))
}

/// ADMIN refuses a refund: the order goes back to where it was (PAID,
/// SHIPPED or COMPLETED) and nothing moves.
pub async fn reject_refund(
    state: &AppState,
    refund_id: i64,
    note: Option<String>,
) -> AppResult<refund::Model> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(AppError::bad_input(
            "note",
            "must be at most 200 characters",
        ));
    }
    let (r, order) = refund_and_order(state, refund_id).await?;
    let back_to = match (order.completed_at, order.shipped_at) {
        (Some(_), _) => Status::Completed,
        (None, Some(_)) => Status::Shipped,
        _ => Status::Paid,
    };
    let txn = state.db.begin().await?;
    let mut reject =
        refund::Entity::update_many().col_expr(refund::Column::Status, Expr::value("REJECTED"));
    if let Some(n) = &note {
        reject = reject.col_expr(
            refund::Column::Reason,
            Expr::value(format!("{} | rejected: {n}", r.reason)),
        );
    }
    claim_pending(&txn, &r, reject, "rejected").await?;
    transition(&txn, order.id, Status::Refunding, back_to, None).await?;
    txn.commit().await?;
    Ok(refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .unwrap_or(r))
}

/// A refund and its order, or `NOT_FOUND`.
async fn refund_and_order(
    state: &AppState,
    refund_id: i64,
) -> AppResult<(refund::Model, shop_order::Model)> {
    let r = refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("refund {refund_id} not found")))?;
    let order = find(state, r.order_id)
        .await?
        .ok_or_else(|| AppError::NotFound("order not found".into()))?;
    Ok((r, order))
}

/// Decides a PENDING refund with `update` (its new status and what goes
/// with it), in the caller's transaction: one decision wins, a second one
/// is `CONFLICT`.
async fn claim_pending(
    txn: &DatabaseTransaction,
    r: &refund::Model,
    update: UpdateMany<refund::Entity>,
    decided: &str,
) -> AppResult<()> {
    let claimed = update
        .col_expr(refund::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(refund::Column::Id.eq(r.id))
        .filter(refund::Column::Status.eq(super::provider::REFUND_PENDING))
        .exec(txn)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "the refund is {}; only a PENDING refund can be {decided}",
            r.status
        )));
    }
    Ok(())
}
