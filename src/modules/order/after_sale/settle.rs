//! The refund of an after-sale and everything downstream of it, in one
//! transaction: the amount split between balance and WeChat Pay as the
//! order was paid, the balance part back to the wallet (principal and bonus
//! as drawn), a `refund` row for the WeChat part (sent after commit and
//! followed to the end like every refund), unshipped units called off with
//! their supplier told, stock back, the order `REFUNDED` once every unit is,
//! commissions reduced in proportion, the buyer's figures and the sales
//! counters adjusted.
//!
//! Each amount is cumulative over the order's after-sales whose money moved,
//! in the order they moved (the order row is locked first), and rounded so
//! that the parts of all of them add up exactly to the order's: the balance
//! part, the principal and bonus parts, each commission's reversal.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{after_sale, after_sale_line, fulfillment, order_line, shop_order};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    sea_query::Expr,
};

use super::{MONEY_MOVED, REFUNDING, split};
use crate::modules::order::{
    fulfillment::{CANCELLED as F_CANCELLED, PENDING as F_PENDING},
    lifecycle::ship_if_complete,
    query::lines_of,
    refund::insert_refund,
    state::Status,
};
use crate::{
    error::{AppError, AppResult},
    modules::{
        catalogue::{service as catalogue, stock},
        operations::service as operations,
        referral::service as referral,
        supplier::webhook,
        wallet::ledger::{self, Kind as LedgerKind, Movement},
    },
    money::prorate_half_up,
};

/// What the caller does after commit.
#[derive(Default)]
pub struct Done {
    /// The refund to send (its WeChat part) now.
    pub refund_id: i64,
    /// Products whose stock came back.
    pub restocked: Vec<i64>,
    /// Products whose sales counters went down.
    pub sold: Vec<i64>,
    /// Supplier webhooks were queued.
    pub webhooks: bool,
}

/// Locks the order row (the first lock of every order change) and reads it
/// fresh: concurrent refunds of one order then move their money one after
/// the other, each seeing the ones before.
pub(super) async fn lock_order(
    txn: &DatabaseTransaction,
    order_id: i64,
) -> AppResult<shop_order::Model> {
    shop_order::Entity::update_many()
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(shop_order::Column::Id.eq(order_id))
        .exec(txn)
        .await?;
    shop_order::Entity::find_by_id(order_id)
        .one(txn)
        .await?
        .ok_or_else(|| AppError::NotFound("order not found".into()))
}

/// Moves the after-sale `a` (just claimed into `REFUNDING` by the caller, in
/// `txn`, with the order locked) to its refund. `restock`: whether shipped
/// units go back to stock (returned goods in a sellable state); units that
/// never shipped always do. `charge_refund_only`: the store's
/// `REFUND_ONLY_CHARGES_SUPPLIER`.
pub(super) async fn refund(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
    a: &after_sale::Model,
    restock: bool,
    charge_refund_only: bool,
    now: DateTime<Utc>,
) -> AppResult<Done> {
    let lines = lines_of(txn, &[order.id]).await?;
    let fulfillments = crate::modules::order::fulfillment::of_orders(txn, &[order.id]).await?;
    let sale_lines = after_sale_line::Entity::find()
        .filter(after_sale_line::Column::AfterSaleId.eq(a.id))
        .all(txn)
        .await?;
    // The order's earlier after-sales whose money moved.
    let before = after_sale::Entity::find()
        .filter(after_sale::Column::OrderId.eq(order.id))
        .filter(after_sale::Column::Status.is_in(MONEY_MOVED))
        .filter(after_sale::Column::Id.ne(a.id))
        .all(txn)
        .await?;
    let before_fen: i64 = before.iter().map(|b| b.amount_fen).sum();
    let before_balance: i64 = before.iter().map(|b| b.balance_fen).sum();
    let before_goods: i64 = before.iter().map(|b| b.amount_fen - b.shipping_fen).sum();
    let before_ids: Vec<i64> = before.iter().map(|b| b.id).collect();
    let earlier_units: Vec<after_sale_line::Model> = after_sale_line::Entity::find()
        .filter(after_sale_line::Column::AfterSaleId.is_in(before_ids))
        .all(txn)
        .await?;

    // Shipping goes back only if nothing shipped, checked again now: a
    // supplier may have shipped since the request.
    let shipped = order.shipped_at.is_some()
        || fulfillments
            .iter()
            .any(|f| f.shipped_at.is_some() || f.status != F_PENDING && f.status != F_CANCELLED);
    let shipping = if shipped { 0 } else { a.shipping_fen };
    let mut amount = a.amount_fen - (a.shipping_fen - shipping);
    // Never more than what is left of the order.
    amount = amount.clamp(0, Ord::max(order.total_fen - before_fen, 0));
    let shipping = Ord::min(shipping, amount);
    let (balance, wechat) = split(order, before_fen, before_balance, amount);

    // The balance part back to the wallet, principal and bonus as drawn:
    // the principal part of everything refunded so far is its half-up
    // share of the order's principal draw.
    if balance > 0 {
        let principal_upto = |refunded: i64| {
            prorate_half_up(order.balance_principal_fen, refunded, order.balance_fen)
        };
        let principal = principal_upto(before_balance + balance) - principal_upto(before_balance);
        ledger::apply(
            txn,
            order.customer_id,
            Movement::new(LedgerKind::Refund, principal, balance - principal).for_order(order.id),
        )
        .await?;
    }

    let mut row = after_sale::ActiveModel {
        id: Set(a.id),
        ..Default::default()
    };
    row.amount_fen = Set(amount);
    row.balance_fen = Set(balance);
    row.wechat_fen = Set(wechat);
    row.shipping_fen = Set(shipping);
    row.restock = Set(Some(restock));
    row.updated_at = Set(now);
    row.update(txn).await?;
    let r = insert_refund(
        txn,
        order,
        (wechat, balance),
        &a.reason,
        crate::modules::order::provider::REFUND_APPROVED,
        Some(a.id),
    )
    .await?;

    // Units: refunded per line, before and with this one.
    let mut refunded: HashMap<i64, i32> = HashMap::new();
    for l in &earlier_units {
        *refunded.entry(l.order_line_id).or_default() += l.quantity;
    }
    let mut back: Vec<(i64, i32)> = Vec::new();
    let mut touched: HashSet<i64> = HashSet::new();
    let mut sold: BTreeMap<i64, i64> = BTreeMap::new();
    for sl in &sale_lines {
        let Some(ol) = lines.iter().find(|l| l.id == sl.order_line_id) else {
            continue;
        };
        *refunded.entry(ol.id).or_default() += sl.quantity;
        *sold.entry(ol.product_id).or_default() += i64::from(sl.quantity);
        let unshipped = ol.fulfillment_id.and_then(|fid| {
            fulfillments
                .iter()
                .find(|f| f.id == fid && f.status == F_PENDING)
        });
        if let Some(f) = unshipped {
            touched.insert(f.id);
            back.push((ol.sku_id, sl.quantity));
        } else if restock {
            back.push((ol.sku_id, sl.quantity));
        }
    }
    back.sort_unstable();
    stock::give_back(txn, &back).await?;
    let restocked: Vec<i64> = lines
        .iter()
        .filter(|l| back.iter().any(|(s, _)| *s == l.sku_id))
        .map(|l| l.product_id)
        .collect();

    // Unshipped parts lose the called-off units; their supplier is told.
    let mut webhooks = false;
    for f in fulfillments.iter().filter(|f| touched.contains(&f.id)) {
        let left: Vec<(&order_line::Model, i32)> = lines
            .iter()
            .filter(|l| l.fulfillment_id == Some(f.id))
            .map(|l| (l, l.quantity - refunded.get(&l.id).copied().unwrap_or(0)))
            .collect();
        let gone = left.iter().all(|(_, q)| *q <= 0);
        if gone {
            fulfillment::Entity::update_many()
                .col_expr(fulfillment::Column::Status, Expr::value(F_CANCELLED))
                .filter(fulfillment::Column::Id.eq(f.id))
                .filter(fulfillment::Column::Status.eq(F_PENDING))
                .exec(txn)
                .await?;
        }
        let Some(sid) = f.supplier_id else { continue };
        let event = if gone {
            "fulfillment.cancelled"
        } else {
            "fulfillment.updated"
        };
        let payload = fulfillment_change(order, f, event, &left);
        webhooks |= webhook::enqueue(txn, sid, f.id, event, &payload).await?;
    }

    let all_refunded = lines
        .iter()
        .all(|l| refunded.get(&l.id).copied().unwrap_or(0) >= l.quantity);
    if all_refunded {
        shop_order::Entity::update_many()
            .col_expr(
                shop_order::Column::Status,
                Expr::value(Status::Refunded.as_str()),
            )
            .col_expr(shop_order::Column::UpdatedAt, Expr::value(now))
            .filter(shop_order::Column::Id.eq(order.id))
            .filter(shop_order::Column::Status.is_in([
                Status::Paid.as_str(),
                Status::Shipped.as_str(),
                Status::Completed.as_str(),
            ]))
            .exec(txn)
            .await?;
    } else if order.status == Status::Paid.as_str()
        && fulfillments
            .iter()
            .any(|f| f.status != F_PENDING && f.status != F_CANCELLED)
    {
        // What was left to ship is called off and the rest has shipped.
        ship_if_complete(txn, order.id).await?;
    }

    // The refunded units' cost comes off their supplier's payable.
    crate::modules::order::payable::on_refund(
        txn,
        a,
        &lines,
        &fulfillments,
        &sale_lines,
        charge_refund_only,
        now,
    )
    .await?;
    let goods_fen = order.total_fen - order.shipping_fen;
    let goods_after = before_goods + (amount - shipping);
    referral::reverse_share(txn, order, a.id, goods_after, goods_fen).await?;
    operations::record_partial_refund(
        txn,
        order,
        &lines,
        amount,
        (before_goods, goods_after),
        all_refunded,
    )
    .await?;
    if let Some(paid_at) = order.paid_at {
        let day = paid_at.format("%Y-%m-%d").to_string();
        let unsold = sold.iter().map(|(p, n)| (*p, -n)).collect();
        catalogue::count_sales(txn, &unsold, &day).await?;
    }
    Ok(Done {
        refund_id: r.id,
        restocked,
        sold: sold.into_keys().collect(),
        webhooks,
    })
}

/// What a supplier's webhook receives when its unshipped part changes:
/// the units still to ship per line (none left: called off).
fn fulfillment_change(
    order: &shop_order::Model,
    f: &fulfillment::Model,
    event: &str,
    left: &[(&order_line::Model, i32)],
) -> serde_json::Value {
    serde_json::json!({
        "event": event,
        "fulfillment": {
            "id": f.id.to_string(),
            "orderNo": order.order_no,
            "lines": left.iter().map(|(l, q)| serde_json::json!({
                "supplierSkuCode": l.supplier_sku_code,
                "title": l.title,
                "quantity": Ord::max(*q, 0),
            })).collect::<Vec<_>>(),
        }
    })
}

/// Claims the after-sale `id` from one of `from` into `REFUNDING` in `txn`,
/// with `set` applied too; `CONFLICT` when it is not in one of them any
/// more (decided meanwhile).
pub(super) async fn claim(
    txn: &DatabaseTransaction,
    a: &after_sale::Model,
    from: &[&str],
    to: &str,
    set: impl FnOnce(sea_orm::UpdateMany<after_sale::Entity>) -> sea_orm::UpdateMany<after_sale::Entity>,
) -> AppResult<()> {
    let q = after_sale::Entity::update_many()
        .col_expr(after_sale::Column::Status, Expr::value(to))
        .col_expr(after_sale::Column::UpdatedAt, Expr::value(Utc::now()));
    let done = set(q)
        .filter(after_sale::Column::Id.eq(a.id))
        .filter(after_sale::Column::Status.is_in(from.iter().copied()))
        .exec(txn)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "the after-sale is {}; it cannot move to {to} from there",
            a.status
        )));
    }
    Ok(())
}

/// After commit: stock and sales caches, the suppliers' webhooks, and the
/// WeChat part sent (retried by the jobs loop when it fails).
pub(super) async fn after_commit(state: &crate::state::AppState, order_id: i64, done: &Done) {
    stock::invalidate(state, &done.restocked).await;
    catalogue::invalidate_sales(state, &done.sold).await;
    if done.webhooks {
        crate::modules::order::fulfillment::kick_webhooks(state);
    }
    let sent = async {
        let provider = crate::modules::order::provider::provider_of(state, order_id).await?;
        crate::modules::order::provider::send_refund(state, done.refund_id, provider).await
    };
    if let Err(e) = sent.await {
        tracing::warn!(refund_id = done.refund_id, error = ?e, "after-sale refunded; sending the money failed and will be retried");
    }
}

/// The status an after-sale shows for its refund's status.
pub fn status_for_refund(refund_status: &str) -> &'static str {
    use crate::modules::order::provider::{REFUND_DONE, REFUND_FAILED};
    match refund_status {
        REFUND_DONE => super::REFUNDED,
        REFUND_FAILED => super::FAILED,
        _ => REFUNDING,
    }
}
