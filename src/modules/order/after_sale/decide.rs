//! Deciding after-sales and taking goods back: the store approves (with an
//! amount no higher than what was paid, and for a return the address the
//! goods go back to) or rejects; a refund-only approval refunds at once; a
//! return waits for the buyer's parcel and for the store or the supplier
//! that shipped those lines to confirm it arrived; an approved return not
//! shipped in time is closed. The store can also refund lines or an amount
//! of its own accord (`refundOrder`).
use chrono::{DateTime, Duration, Utc};
use entity::{after_sale, shop_order};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait, sea_query::Expr,
};

use super::settle::{self, claim, lock_order};
use super::{
    APPROVED, CANCELLED, REFUND_ONLY, REFUNDING, REJECTED, REQUESTED, RETURN_AND_REFUND, RETURNING,
    Request, by_key, price, replay, split, suppliers_of,
};
use crate::modules::order::{
    place::{KIND_GOODS, check_key, request_hash},
    query::lines_of,
    state::Status,
};
use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
    validate,
};

/// The store's approval.
#[derive(Default)]
pub struct Approval {
    /// Less than was paid (a damaged return, say); never more.
    pub amount_fen: Option<i64>,
    /// Where a return goes; by default its supplier's return address, or
    /// the store's.
    pub return_address: Option<String>,
}

async fn find(db: &impl ConnectionTrait, id: i64) -> AppResult<after_sale::Model> {
    after_sale::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("after-sale {id} not found")))
}

async fn order_of(
    db: &impl ConnectionTrait,
    a: &after_sale::Model,
) -> AppResult<shop_order::Model> {
    shop_order::Entity::find_by_id(a.order_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound("order not found".into()))
}

/// Where the goods of a return go: the address given, else the return
/// address of the supplier that shipped the lines, else the store's.
async fn return_address(
    state: &AppState,
    a: &after_sale::Model,
    given: Option<String>,
) -> AppResult<String> {
    if let Some(given) = given {
        return validate::text(&given, "input.returnAddress", 300);
    }
    let ids: Vec<i64> = super::lines(state, a.id)
        .await?
        .iter()
        .map(|l| l.order_line_id)
        .collect();
    let suppliers = suppliers_of(&state.db, a.order_id, &ids).await?;
    let own = match suppliers.iter().flatten().next() {
        Some(s) => crate::modules::supplier::service::return_address_of(&state.db, *s).await?,
        None => None,
    };
    own.or_else(|| state.settings.store_return_address.clone())
        .ok_or_else(|| {
            AppError::bad_input(
                "input.returnAddress",
                "no return address on file for these lines (their supplier's or STORE_RETURN_ADDRESS): give one",
            )
        })
}

/// ADMIN approves a requested after-sale: a refund only is refunded now; a
/// return waits for the buyer's parcel (`RETURN_SHIP_DAYS`).
pub async fn approve(
    state: &AppState,
    id: i64,
    approval: Approval,
) -> AppResult<after_sale::Model> {
    let a = find(&state.db, id).await?;
    if a.status != REQUESTED {
        return Err(AppError::Conflict(format!(
            "the after-sale is {}; only a REQUESTED one can be approved",
            a.status
        )));
    }
    let amount = match approval.amount_fen {
        Some(v) if !(0..=a.amount_fen).contains(&v) => {
            return Err(AppError::bad_input(
                "input.amountFen",
                format!(
                    "must be 0-{} (what was paid for these units); never more",
                    a.amount_fen
                ),
            ));
        }
        Some(v) => v,
        None => a.amount_fen,
    };
    let now = Utc::now();
    if a.kind == RETURN_AND_REFUND {
        let address = return_address(state, &a, approval.return_address).await?;
        let order = order_of(&state.db, &a).await?;
        let (balance, wechat) = resplit(&state.db, &order, &a, amount).await?;
        let deadline = now + Duration::days(i64::from(state.settings.return_ship_days));
        let txn = state.db.begin().await?;
        claim(&txn, &a, &[REQUESTED], APPROVED, |q| {
            q.col_expr(after_sale::Column::AmountFen, Expr::value(amount))
                .col_expr(
                    after_sale::Column::ShippingFen,
                    Expr::value(Ord::min(a.shipping_fen, amount)),
                )
                .col_expr(after_sale::Column::BalanceFen, Expr::value(balance))
                .col_expr(after_sale::Column::WechatFen, Expr::value(wechat))
                .col_expr(after_sale::Column::ReturnAddress, Expr::value(address))
                .col_expr(after_sale::Column::ReturnDeadline, Expr::value(deadline))
                .col_expr(after_sale::Column::DecidedAt, Expr::value(now))
        })
        .await?;
        txn.commit().await?;
        return find(&state.db, id).await;
    }
    let txn = state.db.begin().await?;
    let order = lock_order(&txn, a.order_id).await?;
    claim(&txn, &a, &[REQUESTED], REFUNDING, |q| {
        q.col_expr(after_sale::Column::DecidedAt, Expr::value(now))
    })
    .await?;
    let a = after_sale::Model {
        amount_fen: amount,
        shipping_fen: Ord::min(a.shipping_fen, amount),
        ..a
    };
    // Refund only: units that shipped stay with the buyer.
    let done = settle::refund(
        &txn,
        &order,
        &a,
        false,
        state.settings.refund_only_charges_supplier,
        now,
    )
    .await?;
    txn.commit().await?;
    settle::after_commit(state, order.id, &done).await;
    find(&state.db, id).await
}

/// The balance and WeChat parts of `amount` for `a`, given the order's
/// other after-sales that hold their units.
async fn resplit(
    db: &impl ConnectionTrait,
    order: &shop_order::Model,
    a: &after_sale::Model,
    amount: i64,
) -> AppResult<(i64, i64)> {
    let others = after_sale::Entity::find()
        .filter(after_sale::Column::OrderId.eq(order.id))
        .filter(after_sale::Column::Status.is_not_in(super::CLOSED))
        .filter(after_sale::Column::Id.ne(a.id))
        .all(db)
        .await?;
    Ok(split(
        order,
        others.iter().map(|o| o.amount_fen).sum(),
        others.iter().map(|o| o.balance_fen).sum(),
        amount,
    ))
}

/// ADMIN refuses a requested after-sale, saying why; its units are free
/// to be asked for again.
pub async fn reject(state: &AppState, id: i64, reason: &str) -> AppResult<after_sale::Model> {
    let reason = validate::text(reason, "reason", 200)?;
    let a = find(&state.db, id).await?;
    let txn = state.db.begin().await?;
    claim(&txn, &a, &[REQUESTED], REJECTED, |q| {
        q.col_expr(after_sale::Column::Note, Expr::value(reason))
            .col_expr(after_sale::Column::DecidedAt, Expr::value(Utc::now()))
    })
    .await?;
    txn.commit().await?;
    find(&state.db, id).await
}

/// The buyer says how the goods of an approved return were sent back; the
/// supplier that shipped them hears of it (`after_sale.return_shipped`).
pub async fn submit_return(
    state: &AppState,
    customer_id: i64,
    id: i64,
    carrier: &str,
    tracking_no: &str,
) -> AppResult<after_sale::Model> {
    let carrier = validate::text(carrier, "carrier", 32)?;
    let tracking_no = validate::text(tracking_no, "trackingNo", 64)?;
    let a = Some(find(&state.db, id).await?)
        .filter(|a| a.customer_id == customer_id)
        .ok_or_else(|| AppError::NotFound(format!("after-sale {id} not found")))?;
    if a.kind != RETURN_AND_REFUND {
        return Err(AppError::Conflict(
            "a refund-only after-sale sends nothing back".into(),
        ));
    }
    if a.status != APPROVED {
        return Err(AppError::Conflict(format!(
            "the after-sale is {}; a return is sent once it is APPROVED",
            a.status
        )));
    }
    let order = order_of(&state.db, &a).await?;
    let lines = lines_of(&state.db, &[a.order_id]).await?;
    let sale_lines = super::lines(state, a.id).await?;
    let shipped_by: Vec<_> = lines
        .iter()
        .filter(|l| sale_lines.iter().any(|s| s.order_line_id == l.id))
        .collect();
    let now = Utc::now();
    let txn = state.db.begin().await?;
    claim(&txn, &a, &[APPROVED], RETURNING, |q| {
        q.col_expr(
            after_sale::Column::ReturnCarrier,
            Expr::value(carrier.clone()),
        )
        .col_expr(
            after_sale::Column::ReturnTrackingNo,
            Expr::value(tracking_no.clone()),
        )
        .col_expr(after_sale::Column::ReturnShippedAt, Expr::value(now))
    })
    .await?;
    let mut hooks = false;
    if let Some(l) = shipped_by.iter().find(|l| l.supplier_id.is_some()) {
        let (Some(sid), Some(fid)) = (l.supplier_id, l.fulfillment_id) else {
            unreachable!("filtered on supplier_id");
        };
        let payload = serde_json::json!({
            "event": "after_sale.return_shipped",
            "afterSale": {
                "id": a.id.to_string(),
                "orderNo": order.order_no,
                "fulfillmentId": fid.to_string(),
                "carrier": carrier,
                "trackingNo": tracking_no,
                "returnAddress": a.return_address,
                "lines": shipped_by.iter().map(|l| serde_json::json!({
                    "title": l.title,
                    "quantity": sale_lines.iter().find(|s| s.order_line_id == l.id).map(|s| s.quantity),
                })).collect::<Vec<_>>(),
            }
        });
        hooks = crate::modules::supplier::webhook::enqueue(
            &txn,
            sid,
            fid,
            "after_sale.return_shipped",
            &payload,
        )
        .await?;
    }
    txn.commit().await?;
    if hooks {
        crate::modules::order::fulfillment::kick_webhooks(state);
    }
    find(&state.db, id).await
}

/// The returned goods arrived: ADMIN, or the SUPPLIER that shipped those
/// lines, confirms; `restock` puts the units back in stock; the refund goes.
/// A supplier sees no after-sale on lines it did not ship (`NOT_FOUND`).
pub async fn confirm_received(
    state: &AppState,
    viewer: Viewer,
    id: i64,
    restock: bool,
) -> AppResult<after_sale::Model> {
    let a = find(&state.db, id).await?;
    match viewer {
        Viewer::Admin(_) => {}
        Viewer::Supplier(s) => {
            let ids: Vec<i64> = super::lines(state, a.id)
                .await?
                .iter()
                .map(|l| l.order_line_id)
                .collect();
            let by = suppliers_of(&state.db, a.order_id, &ids).await?;
            if by.len() != 1 || !by.contains(&Some(s)) {
                return Err(AppError::NotFound(format!("after-sale {id} not found")));
            }
        }
        v => {
            v.staff_id(crate::auth::staff::SERVICE)?;
        }
    }
    if a.kind != RETURN_AND_REFUND {
        return Err(AppError::Conflict(
            "a refund-only after-sale has no return to receive".into(),
        ));
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let order = lock_order(&txn, a.order_id).await?;
    // An APPROVED one too: goods may arrive before the buyer files the
    // tracking number.
    claim(&txn, &a, &[APPROVED, RETURNING], REFUNDING, |q| {
        q.col_expr(after_sale::Column::ReceivedAt, Expr::value(now))
    })
    .await?;
    let done = settle::refund(
        &txn,
        &order,
        &a,
        restock,
        state.settings.refund_only_charges_supplier,
        now,
    )
    .await?;
    txn.commit().await?;
    settle::after_commit(state, order.id, &done).await;
    find(&state.db, id).await
}

/// The store's own refund of an order.
pub struct AdminRefund {
    /// Units to refund; none: an amount only (a goodwill refund).
    pub lines: Vec<(i64, i32)>,
    /// For lines, less than they paid; without lines, the amount (at most
    /// what is left of the order).
    pub amount_fen: Option<i64>,
    pub reason: String,
    /// Whether shipped units go back to stock (unshipped ones always do).
    pub restock: bool,
}

/// ADMIN refunds lines or an amount of a paid goods order without a
/// customer's request (a supplier cannot ship, a goodwill gesture), at
/// once. Idempotent on `key`: the same key and input return the same
/// after-sale.
pub async fn refund_order(
    state: &AppState,
    order_id: i64,
    input: AdminRefund,
    key: &str,
) -> AppResult<after_sale::Model> {
    check_key(key)?;
    let reason = validate::text(&input.reason, "input.reason", 200)?;
    let order = shop_order::Entity::find_by_id(order_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("order {order_id} not found")))?;
    let key = format!("admin:{key}");
    let req = Request {
        order_id,
        kind: REFUND_ONLY,
        lines: input.lines.clone(),
        reason,
        description: None,
        images: Vec::new(),
    };
    let hash = request_hash(&(&req, input.amount_fen, input.restock));
    if let Some(existing) = by_key(&state.db, order.customer_id, &key).await? {
        return replay(existing, &hash);
    }
    if order.kind != KIND_GOODS {
        return Err(AppError::bad_input("orderId", "not a goods order"));
    }
    if !matches!(
        Status::parse(&order.status)?,
        Status::Paid | Status::Shipped | Status::Completed
    ) {
        return Err(AppError::Conflict(format!(
            "an order that is {} cannot be refunded here",
            order.status
        )));
    }
    if input.lines.is_empty() && input.amount_fen.is_none() {
        return Err(AppError::bad_input(
            "input",
            "give lines to refund, or an amount",
        ));
    }
    if input.amount_fen.is_some_and(|v| v < 0) {
        return Err(AppError::bad_input(
            "input.amountFen",
            "must not be negative",
        ));
    }
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let order = lock_order(&txn, order_id).await?;
    if order.status != Status::Paid.as_str()
        && order.status != Status::Shipped.as_str()
        && order.status != Status::Completed.as_str()
    {
        return Err(AppError::Conflict(
            "the order changed meanwhile; look at it again".into(),
        ));
    }
    let shipped = super::any_shipped(&txn, &order).await?;
    let mut priced = price(&txn, &order, &input.lines, shipped).await?;
    if input.lines.is_empty() {
        let left = super::left_of_order(&txn, &order).await?;
        let amount = input.amount_fen.unwrap_or(0);
        if amount == 0 || amount > left {
            return Err(AppError::bad_input(
                "input.amountFen",
                format!("must be 1-{left} (what is left of the order to refund)"),
            ));
        }
        priced.amount = amount;
        priced.shipping = 0;
    } else if let Some(amount) = input.amount_fen {
        if amount > priced.amount {
            return Err(AppError::bad_input(
                "input.amountFen",
                format!(
                    "must be 0-{} (what was paid for these units); never more",
                    priced.amount
                ),
            ));
        }
        priced.shipping = Ord::min(priced.shipping, amount);
        priced.amount = amount;
    }
    let inserted = super::insert(&txn, &order, &req, &priced, REFUNDING, true, &key, &hash).await;
    let a = match inserted {
        Ok(a) => a,
        Err(e) => {
            drop(txn);
            return match by_key(&state.db, order.customer_id, &key).await? {
                Some(existing) => replay(existing, &hash),
                None => Err(e.into()),
            };
        }
    };
    let done = settle::refund(
        &txn,
        &order,
        &a,
        input.restock,
        state.settings.refund_only_charges_supplier,
        now,
    )
    .await?;
    txn.commit().await?;
    settle::after_commit(state, order.id, &done).await;
    find(&state.db, a.id).await
}

/// Background job: approved returns the buyer did not ship by their
/// deadline are closed (`CANCELLED`, with a note); their units are free to
/// be asked for again. Conditional updates: safe on every instance.
pub async fn close_unshipped_returns(state: &AppState, now: DateTime<Utc>) -> AppResult<u64> {
    let done = after_sale::Entity::update_many()
        .col_expr(after_sale::Column::Status, Expr::value(CANCELLED))
        .col_expr(
            after_sale::Column::Note,
            Expr::value(format!(
                "closed: the return was not sent within {} days of approval",
                state.settings.return_ship_days
            )),
        )
        .col_expr(after_sale::Column::UpdatedAt, Expr::value(now))
        .filter(after_sale::Column::Status.eq(APPROVED))
        .filter(after_sale::Column::Kind.eq(RETURN_AND_REFUND))
        .filter(after_sale::Column::ReturnDeadline.lt(now))
        .exec(&state.db)
        .await?;
    Ok(done.rows_affected)
}
