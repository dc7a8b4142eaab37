//! An order paid: the one path every payment takes (WeChat Pay notification,
//! demo pay, balance), checked against the order's amount and deduplicated
//! by transaction id, and what follows in the same transaction: the
//! payment row, fulfillments split per supplier, customer figures,
//! commissions, sales counters, plan grants.
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::{fulfillment, order_line, payment, shop_order};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, ExprTrait,
    QueryFilter, SqlErr, TransactionTrait,
    sea_query::{Alias, Expr, Query, QueryStatementBuilder},
};

use super::fulfillment::fulfillment_event;
use super::fulfillment::kick_webhooks;
use super::place::{KIND_GOODS, KIND_MEMBERSHIP, KIND_TOP_UP};
use super::query::find_by_no;
use super::query::lines_of;
use super::refund::insert_refund;
use super::state::{self, Status};
use crate::{
    error::{AppError, AppResult},
    modules::referral::service as referral,
    modules::{
        catalogue::service::{self as catalogue},
        coupon::service as coupons,
        membership::service as membership,
        wallet::ledger::{self, Kind as LedgerKind, Movement},
    },
    state::AppState,
};
/// How a confirmed payment was used.
#[derive(Debug, PartialEq, Eq)]
pub enum PaymentOutcome {
    /// The order is paid now.
    Applied,
    /// This transaction was seen before: nothing changed.
    Duplicate,
    /// The order could no longer take it (cancelled, or already paid): the
    /// payment is recorded and refunded.
    Refunded,
}

/// A payment the provider confirmed (a verified notification, or `demoPay`).
#[derive(Clone, Debug)]
pub struct Confirmation {
    pub order_no: String,
    pub transaction_id: String,
    pub amount_fen: i64,
    /// `WECHAT` or `DEMO`.
    pub provider: &'static str,
}

/// The one path by which an order becomes paid. Checks the amount first
/// (a mismatch changes nothing), deduplicates by transaction id, and splits
/// the order into fulfillments. A payment for an order that can no longer
/// take it is recorded and refunded, never lost.
pub async fn confirm_payment(state: &AppState, c: Confirmation) -> AppResult<PaymentOutcome> {
    Ok(confirm(state, c).await?.0)
}

/// [`confirm_payment`], with the order as it is now when the payment was
/// applied. Goods orders waiting for exactly this amount are confirmed in
/// batches with whatever else is being paid at the moment
/// (`super::pay_batch`); anything else, and anything a batch could not
/// settle, takes [`confirm_alone`].
pub async fn confirm(
    state: &AppState,
    c: Confirmation,
) -> AppResult<(PaymentOutcome, Option<shop_order::Model>)> {
    match state.parts.get::<super::pay_batch::Payer>() {
        Some(payer) => payer.confirm(state, c).await,
        None => confirm_alone(state, c).await,
    }
}

/// One confirmation in a transaction of its own.
pub(super) async fn confirm_alone(
    state: &AppState,
    c: Confirmation,
) -> AppResult<(PaymentOutcome, Option<shop_order::Model>)> {
    let txn = state.db.begin().await?;
    // The common case in one statement: the order is waiting for exactly
    // this amount. Anything else reads the order to say what it is.
    let paid = mark_paid(
        &txn,
        Condition::all()
            .add(shop_order::Column::OrderNo.eq(&c.order_no))
            .add(shop_order::Column::PayableFen.eq(c.amount_fen)),
        c.amount_fen,
    )
    .await?;
    let found = match paid {
        Some(order) => Ok(order),
        None => {
            let order = find_by_no(&txn, &c.order_no)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("no order {}", c.order_no)))?;
            check_amount(&order, &c)?;
            Err(order)
        }
    };
    record_payment(state, txn, found, c).await
}

pub(super) fn check_amount(order: &shop_order::Model, c: &Confirmation) -> AppResult<()> {
    if c.amount_fen != order.payable_fen {
        tracing::warn!(order_no = %c.order_no, paid = c.amount_fen, expected = order.payable_fen, "payment amount mismatch");
        return Err(AppError::Conflict(
            "the paid amount does not match the order".into(),
        ));
    }
    Ok(())
}

/// Moves the order that `which` picks from PENDING_PAYMENT to PAID with the
/// amount, in one conditional statement; the order as paid, or `None` when
/// no such order was waiting for payment.
pub(super) async fn mark_paid(
    txn: &DatabaseTransaction,
    which: Condition,
    amount_fen: i64,
) -> AppResult<Option<shop_order::Model>> {
    state::check(Status::PendingPayment, Status::Paid)?;
    let now = Utc::now();
    Ok(shop_order::Entity::update_many()
        .col_expr(
            shop_order::Column::Status,
            Expr::value(Status::Paid.as_str()),
        )
        .col_expr(shop_order::Column::PaidAt, Expr::value(now))
        .col_expr(shop_order::Column::PaidFen, Expr::value(amount_fen))
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(now))
        .filter(which)
        .filter(shop_order::Column::Status.eq(Status::PendingPayment.as_str()))
        .exec_with_returning(txn)
        .await?
        .pop())
}

/// Records a confirmed payment of `order` (`Ok`: just marked paid; `Err`: it
/// could not take the payment) and does what follows, then commits: a
/// repeated transaction changes nothing; a payment the order could not take
/// is refunded; a paid order is split into fulfillments, its commissions
/// accrued and its sales counted.
pub(super) async fn record_payment(
    state: &AppState,
    txn: DatabaseTransaction,
    order: Result<shop_order::Model, shop_order::Model>,
    c: Confirmation,
) -> AppResult<(PaymentOutcome, Option<shop_order::Model>)> {
    let now = Utc::now();
    let applied = order.is_ok();
    let (Ok(o) | Err(o)) = &order;
    let inserted = payment::Entity::insert(payment::ActiveModel {
        order_id: Set(o.id),
        provider: Set(c.provider.to_string()),
        transaction_id: Set(c.transaction_id.clone()),
        amount_fen: Set(c.amount_fen),
        outcome: Set(if applied { "APPLIED" } else { "REFUND_DUE" }.to_string()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(&txn)
    .await;
    match inserted {
        Ok(_) => {}
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            return Ok((PaymentOutcome::Duplicate, None));
        }
        Err(e) => return Err(e.into()),
    }
    let order = match order {
        Ok(paid) => paid,
        Err(order) => return refund_late(state, txn, order, c).await,
    };
    // Before the sales counters: those rows are hot in a flash sale and are
    // locked last.
    if (order.kind == KIND_GOODS || state.settings.commission_on_plans)
        && let Some(earners) = referral::earners(state, &txn, order.customer_id).await?
    {
        let lines = lines_of(&txn, &[order.id]).await?;
        let cost: i64 = lines
            .iter()
            .map(|l| l.cost_fen.unwrap_or(0) * i64::from(l.quantity))
            .sum();
        // With commissions on plans, the money in the balance earned when it
        // was topped up: what the balance pays earns nothing a second time.
        let balance_earns = !state.settings.commission_on_plans;
        referral::accrue(&txn, &order, earners, cost, balance_earns).await?;
    }
    let mut order = order;
    let mut webhooks = false;
    let products = match order.kind.as_str() {
        KIND_GOODS => {
            let goods = after_goods_paid(&txn, std::slice::from_ref(&order), now).await?;
            catalogue::count_sales(&txn, &goods.units, &sales_day(now)).await?;
            webhooks = goods.webhooks;
            goods.units.into_keys().collect()
        }
        KIND_MEMBERSHIP => {
            let terms = membership_terms(&txn, &order).await?;
            membership::grant(&txn, order.customer_id, Some(order.id), &terms, now).await?;
            complete_plan_order(&txn, &mut order, now).await?;
            Vec::new()
        }
        KIND_TOP_UP => {
            let terms = top_up_terms(&txn, &order).await?;
            ledger::apply(
                &txn,
                order.customer_id,
                Movement::new(LedgerKind::TopUp, order.total_fen, 0).for_order(order.id),
            )
            .await?;
            if terms.bonus_fen > 0 {
                ledger::apply(
                    &txn,
                    order.customer_id,
                    Movement::new(LedgerKind::Bonus, 0, terms.bonus_fen).for_order(order.id),
                )
                .await?;
            }
            coupons::gift(
                &txn,
                order.customer_id,
                &terms.gift_coupon_template_ids,
                now,
            )
            .await?;
            complete_plan_order(&txn, &mut order, now).await?;
            Vec::new()
        }
        other => {
            return Err(AppError::internal(anyhow::anyhow!(
                "unknown order kind {other}"
            )));
        }
    };
    txn.commit().await?;
    catalogue::invalidate_sales(state, &products).await;
    if webhooks {
        kick_webhooks(state);
    }
    Ok((PaymentOutcome::Applied, Some(order)))
}

/// A plan order has nothing to ship: it is COMPLETED as soon as it is paid
/// (so its commissions settle `settleAfterDays` after the payment).
async fn complete_plan_order(
    txn: &DatabaseTransaction,
    order: &mut shop_order::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let moved = super::lifecycle::transition(
        txn,
        order.id,
        Status::Paid,
        Status::Completed,
        Some((shop_order::Column::CompletedAt, now)),
    )
    .await?;
    if !moved {
        return Err(AppError::internal(anyhow::anyhow!(
            "plan order {} not PAID after payment",
            order.id
        )));
    }
    order.status = Status::Completed.as_str().into();
    order.completed_at = Some(now);
    order.updated_at = now;
    Ok(())
}

/// The membership terms a plan order was placed with (orders placed before
/// terms were kept: the plan as it is).
async fn membership_terms(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
) -> AppResult<membership::MembershipTerms> {
    if let Some(t) = &order.plan_terms {
        return serde_json::from_str(t).map_err(AppError::internal);
    }
    let plan = order
        .plan_id
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("membership order without plan")))?;
    Ok(membership::MembershipTerms::of(
        &membership::plan(txn, plan).await?,
    ))
}

/// The top-up terms a plan order was placed with (see [`membership_terms`]).
async fn top_up_terms(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
) -> AppResult<membership::TopUpTerms> {
    if let Some(t) = &order.plan_terms {
        return serde_json::from_str(t).map_err(AppError::internal);
    }
    let plan = order
        .plan_id
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("top-up order without plan")))?;
    Ok(membership::TopUpTerms::of(
        &membership::top_up_plan(txn, plan).await?,
    ))
}

/// A payment recorded for an order that could no longer take it (closed,
/// or paid already): refunded in full. Nothing to undo on the order, so the
/// refund is approved from the start.
pub(super) async fn refund_late(
    state: &AppState,
    txn: DatabaseTransaction,
    order: shop_order::Model,
    c: Confirmation,
) -> AppResult<(PaymentOutcome, Option<shop_order::Model>)> {
    let refund = insert_refund(
        &txn,
        &order,
        (c.amount_fen, 0),
        "payment arrived after the order closed",
        super::provider::REFUND_APPROVED,
        None,
    )
    .await?;
    txn.commit().await?;
    tracing::warn!(order_no = %order.order_no, transaction = %c.transaction_id, "late payment recorded; refunding");
    if let Err(e) = super::provider::send_refund(state, refund.id, c.provider).await {
        tracing::warn!(refund_id = refund.id, error = ?e, "late payment refund failed; the jobs loop retries it");
    }
    Ok((PaymentOutcome::Refunded, None))
}

/// What paying goods orders did beyond the orders themselves.
pub(super) struct GoodsPaid {
    /// Units sold per product, for the sales counters (which the caller
    /// writes last: those rows are the hottest).
    pub units: BTreeMap<i64, i64>,
    /// Whether a supplier webhook was queued.
    pub webhooks: bool,
    /// The orders' lines, filed under their fulfillments, in id order.
    pub lines: Vec<order_line::Model>,
}

/// Splits paid goods orders into one fulfillment per order and supplier
/// (self-operated lines form one without supplier), counts them in their
/// buyers' figures and opens the suppliers' payables. The sales are left
/// to the caller ([`GoodsPaid::units`]).
///
/// The split is two statements whatever the number of orders and
/// suppliers: one insert of a fulfillment per order and supplier group, one
/// update that files every line under its group's fulfillment and returns
/// the lines.
pub(super) async fn after_goods_paid(
    txn: &DatabaseTransaction,
    orders: &[shop_order::Model],
    now: DateTime<Utc>,
) -> AppResult<GoodsPaid> {
    let ids: Vec<i64> = orders.iter().map(|o| o.id).collect();
    use fulfillment::Column as F;
    use order_line::Column as L;
    let backend = txn.get_database_backend();
    let groups = Query::select()
        .column(L::OrderId)
        .column(L::SupplierId)
        .expr(Expr::val(super::fulfillment::PENDING))
        .expr(
            Expr::col(L::CostFen)
                .if_null(0)
                .mul(Expr::col(L::Quantity))
                .sum(),
        )
        .expr(Expr::val(now))
        .from(order_line::Entity)
        .and_where(L::OrderId.is_in(ids.iter().copied()))
        .group_by_col(L::OrderId)
        .group_by_col(L::SupplierId)
        .to_owned();
    let insert = Query::insert()
        .into_table(fulfillment::Entity)
        .columns([
            F::OrderId,
            F::SupplierId,
            F::Status,
            F::CostFen,
            F::CreatedAt,
        ])
        .select_from(groups)
        .map_err(AppError::internal)?
        .returning_all()
        .to_owned();
    let fulfillments = fulfillment::Entity::find()
        .from_raw_sql(backend.build(&insert))
        .all(txn)
        .await?;
    // A line's fulfillment is its order's one for the line's supplier; 0
    // stands for "none" (self-operated) on both sides, as ids start at 1.
    let f = Alias::new("f");
    let of_group = Query::select()
        .column((f.clone(), F::Id))
        .from_as(fulfillment::Entity, f.clone())
        .and_where(Expr::col((f.clone(), F::OrderId)).equals((order_line::Entity, L::OrderId)))
        .and_where(
            Expr::col((f.clone(), F::SupplierId))
                .if_null(0)
                .eq(Expr::col((order_line::Entity, L::SupplierId)).if_null(0)),
        )
        .to_owned();
    let mut lines = order_line::Entity::update_many()
        .col_expr(
            L::FulfillmentId,
            Expr::SubQuery(None, Box::new(of_group.into_sub_query_statement())),
        )
        .filter(L::OrderId.is_in(ids.iter().copied()))
        .exec_with_returning(txn)
        .await?;
    lines.sort_by_key(|l| l.id);
    let mut by_order: BTreeMap<i64, Vec<order_line::Model>> = BTreeMap::new();
    for l in &lines {
        by_order.entry(l.order_id).or_default().push(l.clone());
    }
    let paid: Vec<(&shop_order::Model, &[order_line::Model])> = orders
        .iter()
        .map(|o| (o, by_order.get(&o.id).map_or(&[][..], Vec::as_slice)))
        .collect();
    crate::modules::operations::service::record_purchases(txn, &paid, now).await?;
    super::payable::open(txn, &fulfillments, now).await?;
    let mut hooks = false;
    for f in &fulfillments {
        let Some(sid) = f.supplier_id else { continue };
        let Some(order) = orders.iter().find(|o| o.id == f.order_id) else {
            continue;
        };
        let group: Vec<&order_line::Model> = lines
            .iter()
            .filter(|l| l.fulfillment_id == Some(f.id))
            .collect();
        let payload = fulfillment_event(order, f, &group);
        hooks |= crate::modules::supplier::webhook::enqueue(
            txn,
            sid,
            f.id,
            "fulfillment.created",
            &payload,
        )
        .await?;
    }
    let mut units: BTreeMap<i64, i64> = BTreeMap::new();
    for l in &lines {
        *units.entry(l.product_id).or_default() += i64::from(l.quantity);
    }
    Ok(GoodsPaid {
        units,
        webhooks: hooks,
        lines,
    })
}

/// The day (UTC) a sale counts on in `product_sales_daily`.
pub(super) fn sales_day(now: DateTime<Utc>) -> String {
    now.format("%Y-%m-%d").to_string()
}

/// Stores the prepay id of the WeChat Pay transaction opened for an order.
pub async fn set_prepay_id(state: &AppState, order_id: i64, prepay_id: &str) -> AppResult<()> {
    shop_order::Entity::update_many()
        .col_expr(shop_order::Column::PrepayId, Expr::value(prepay_id))
        .filter(shop_order::Column::Id.eq(order_id))
        .exec(&state.db)
        .await?;
    Ok(())
}
