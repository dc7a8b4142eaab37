//! Supplier payables (应付供应商款): what the store owes each drop-ship
//! supplier, one payable per supplier fulfillment.
//!
//! - **Opened when the order is paid** ([`open`], in the payment
//!   transaction that splits the order into fulfillments): the cost
//!   snapshotted on its lines (`order_line.cost_fen`, per unit, at order
//!   time) times their units (`fulfillment.cost_fen`). A fulfillment paid
//!   before payables opened at payment gets its payable when it ships
//!   ([`accrue`]).
//! - **Reduced by refunds of its lines** ([`on_refund`], in the
//!   after-sale's refund transaction; [`on_order_refund`] for a whole-order
//!   refund): the refunded units' cost comes off (`ADJUST`), whether they
//!   never shipped (called off), came back (`RETURN_AND_REFUND`) or were
//!   refunded while the buyer keeps them (`REFUND_ONLY`: the store charges
//!   the supplier back, unless `REFUND_ONLY_CHARGES_SUPPLIER=false`, when
//!   the store bears refunds of shipped goods the buyer keeps).
//! - **Due after the return window** ([`make_due`], the jobs loop): the
//!   order completed `AFTER_SALES_DAYS` ago (or was refunded in full) and no
//!   after-sale of it is still open.
//! - **Paid by the store** ([`mark_paid`]): a `PAY` entry of the balance
//!   and the store's reference; paying again skips it. What the supplier
//!   owes back (a payable whose balance went negative because its lines
//!   were refunded after the store paid it) is carried into that payment:
//!   `NET` entries move it onto the payables being paid, oldest first, so
//!   the transfer is the net amount and the negative balance is cleared.
//!   A batch that cannot absorb it all carries the rest to the next one.
//!
//! Every movement is an append-only `supplier_payable_entry` row; a
//! payable's balance is the sum of its entries.
pub mod resolver;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    after_sale, after_sale_line, fulfillment, order_line, shop_order, supplier_payable,
    supplier_payable_entry as entry,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, TransactionTrait,
    sea_query::{Expr, OnConflict, Query},
};

use super::after_sale::{
    CANCELLED as AS_CANCELLED, FAILED as AS_FAILED, MONEY_MOVED, REFUNDED as AS_REFUNDED,
    REJECTED as AS_REJECTED, RETURN_AND_REFUND,
};
use crate::{
    api::pagination::TotalCount,
    error::{AppError, AppResult},
    state::AppState,
};

pub const PENDING: &str = "PENDING";
pub const DUE: &str = "DUE";
pub const PAID: &str = "PAID";
pub const ACCRUE: &str = "ACCRUE";
pub const ADJUST: &str = "ADJUST";
pub const PAY: &str = "PAY";
pub const NET: &str = "NET";
/// Where the document guard bounds `markSupplierPayablesPaid`'s batch.
const BATCH_LIST: &str = "Mutation.markSupplierPayablesPaid(ids:)";

/// Opens the payables of the supplier fulfillments that the payment in
/// `txn` has just created, at their lines' snapshotted cost. Nothing for
/// the store's own fulfillment.
pub async fn open(
    txn: &DatabaseTransaction,
    fulfillments: &[fulfillment::Model],
    now: DateTime<Utc>,
) -> AppResult<()> {
    for f in fulfillments.iter().filter(|f| f.supplier_id.is_some()) {
        open_one(txn, f, f.cost_fen, now).await?;
    }
    Ok(())
}

/// Inserts fulfillment `f`'s payable with an `ACCRUE` of `amount`, unless
/// it has one (one payable per fulfillment: a unique index).
async fn open_one(
    txn: &DatabaseTransaction,
    f: &fulfillment::Model,
    amount: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(supplier_id) = f.supplier_id else {
        return Ok(());
    };
    let inserted = supplier_payable::Entity::insert(supplier_payable::ActiveModel {
        supplier_id: Set(supplier_id),
        order_id: Set(f.order_id),
        fulfillment_id: Set(f.id),
        status: Set(PENDING.into()),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(supplier_payable::Column::FulfillmentId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted == 0 {
        return Ok(());
    }
    let p = supplier_payable::Entity::find()
        .filter(supplier_payable::Column::FulfillmentId.eq(f.id))
        .one(txn)
        .await?
        .ok_or_else(|| {
            AppError::Internal(anyhow::anyhow!("the payable just written is missing"))
        })?;
    insert_entry(txn, p.id, ACCRUE, amount, None, None, now).await
}

/// Fulfillment `f` has just shipped in `txn` (the order row is locked: no
/// refund runs meanwhile). Its payable was opened at payment; one paid
/// before that rule has none yet and gets it now, at the cost of the units
/// that shipped (those refunded before shipping were called off).
pub async fn accrue(
    txn: &DatabaseTransaction,
    f: &fulfillment::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if f.supplier_id.is_none() {
        return Ok(());
    }
    let opened = supplier_payable::Entity::find()
        .filter(supplier_payable::Column::FulfillmentId.eq(f.id))
        .one(txn)
        .await?;
    if opened.is_some() {
        return Ok(());
    }
    let lines = order_line::Entity::find()
        .filter(order_line::Column::FulfillmentId.eq(f.id))
        .all(txn)
        .await?;
    let line_ids: Vec<i64> = lines.iter().map(|l| l.id).collect();
    let refunded = after_sale_line::Entity::find()
        .filter(after_sale_line::Column::OrderLineId.is_in(line_ids))
        .filter(
            after_sale_line::Column::AfterSaleId.in_subquery(
                Query::select()
                    .column(after_sale::Column::Id)
                    .from(after_sale::Entity)
                    .and_where(after_sale::Column::Status.is_in(MONEY_MOVED))
                    .to_owned(),
            ),
        )
        .all(txn)
        .await?;
    let mut gone: HashMap<i64, i32> = HashMap::new();
    for r in &refunded {
        *gone.entry(r.order_line_id).or_default() += r.quantity;
    }
    let amount: i64 = lines
        .iter()
        .map(|l| {
            let units = Ord::max(l.quantity - gone.get(&l.id).copied().unwrap_or(0), 0);
            l.cost_fen.unwrap_or(0) * i64::from(units)
        })
        .sum();
    open_one(txn, f, amount, now).await
}

async fn insert_entry(
    txn: &impl ConnectionTrait,
    payable_id: i64,
    kind: &str,
    amount_fen: i64,
    after_sale_id: Option<i64>,
    reference: Option<String>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    entry::Entity::insert(entry::ActiveModel {
        payable_id: Set(payable_id),
        kind: Set(kind.into()),
        amount_fen: Set(amount_fen),
        after_sale_id: Set(after_sale_id),
        reference: Set(reference),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// The after-sale `a` is being refunded in `txn` (its units in
/// `sale_lines`; the order's lines and fulfillments as they were before
/// it): the refunded units' cost comes off their supplier's payable. Units
/// the buyer keeps from a shipped part are charged back to the supplier
/// only when `charge_refund_only` (`REFUND_ONLY_CHARGES_SUPPLIER`).
pub async fn on_refund(
    txn: &DatabaseTransaction,
    a: &after_sale::Model,
    lines: &[order_line::Model],
    fulfillments: &[fulfillment::Model],
    sale_lines: &[after_sale_line::Model],
    charge_refund_only: bool,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let kept = a.kind != RETURN_AND_REFUND;
    let mut by_fulfillment: BTreeMap<i64, i64> = BTreeMap::new();
    for sl in sale_lines {
        let Some(l) = lines.iter().find(|l| l.id == sl.order_line_id) else {
            continue;
        };
        let (Some(fid), Some(_)) = (l.fulfillment_id, l.supplier_id) else {
            continue;
        };
        let shipped = fulfillments
            .iter()
            .any(|f| f.id == fid && f.shipped_at.is_some());
        if shipped && kept && !charge_refund_only {
            continue;
        }
        *by_fulfillment.entry(fid).or_default() += l.cost_fen.unwrap_or(0) * i64::from(sl.quantity);
    }
    if by_fulfillment.is_empty() {
        return Ok(());
    }
    let payables = supplier_payable::Entity::find()
        .filter(supplier_payable::Column::FulfillmentId.is_in(by_fulfillment.keys().copied()))
        .all(txn)
        .await?;
    for p in payables {
        let cost = by_fulfillment.get(&p.fulfillment_id).copied().unwrap_or(0);
        adjust(txn, p.id, cost, Some(a.id), now).await?;
    }
    Ok(())
}

/// The whole order `order_id` is being refunded in `txn` (`approveRefund`,
/// which moves it to `REFUNDED` once): each of its payables loses what is
/// left of its cost.
pub async fn on_order_refund(
    txn: &DatabaseTransaction,
    order_id: i64,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let payables = supplier_payable::Entity::find()
        .filter(supplier_payable::Column::OrderId.eq(order_id))
        .all(txn)
        .await?;
    if payables.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = payables.iter().map(|p| p.id).collect();
    let entries = entries_in(txn, &ids).await?;
    for p in &payables {
        let cost: i64 = entries
            .get(&p.id)
            .into_iter()
            .flatten()
            .filter(|e| e.kind == ACCRUE || e.kind == ADJUST)
            .map(|e| e.amount_fen)
            .sum();
        adjust(txn, p.id, cost, None, now).await?;
    }
    Ok(())
}

/// Takes `cost` off payable `payable_id`: one `ADJUST` per after-sale and
/// payable however often asked (a unique index).
async fn adjust(
    txn: &DatabaseTransaction,
    payable_id: i64,
    cost: i64,
    after_sale_id: Option<i64>,
    now: DateTime<Utc>,
) -> AppResult<()> {
    if cost <= 0 {
        return Ok(());
    }
    entry::Entity::insert(entry::ActiveModel {
        payable_id: Set(payable_id),
        kind: Set(ADJUST.into()),
        amount_fen: Set(-cost),
        after_sale_id: Set(after_sale_id),
        reference: Set(None),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            entry::Column::PayableId,
            entry::Column::Kind,
            entry::Column::AfterSaleId,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Moves to `DUE` the pending payables whose return window closed by `now`:
/// the order completed `AFTER_SALES_DAYS` before (or was refunded in full,
/// which ends its after-sales), and none of its after-sales is still open
/// (an open one may yet return goods). One conditional statement, so
/// concurrent runs move each once.
pub async fn make_due(state: &AppState, now: DateTime<Utc>) -> AppResult<u64> {
    let cutoff = now - chrono::Duration::days(i64::from(state.settings.after_sales_days));
    let closed = Query::select()
        .column(shop_order::Column::Id)
        .from(shop_order::Entity)
        .cond_where(
            Condition::any()
                .add(
                    Condition::all()
                        .add(shop_order::Column::Status.eq("COMPLETED"))
                        .add(shop_order::Column::CompletedAt.lte(cutoff)),
                )
                .add(shop_order::Column::Status.eq("REFUNDED")),
        )
        .to_owned();
    let open = Query::select()
        .column(after_sale::Column::OrderId)
        .from(after_sale::Entity)
        .and_where(after_sale::Column::Status.is_not_in([
            AS_REJECTED,
            AS_CANCELLED,
            AS_REFUNDED,
            AS_FAILED,
        ]))
        .to_owned();
    let moved = supplier_payable::Entity::update_many()
        .col_expr(supplier_payable::Column::Status, Expr::value(DUE))
        .col_expr(supplier_payable::Column::DueAt, Expr::value(now))
        .filter(supplier_payable::Column::Status.eq(PENDING))
        .filter(supplier_payable::Column::OrderId.in_subquery(closed))
        .filter(supplier_payable::Column::OrderId.not_in_subquery(open))
        .exec(&state.db)
        .await?;
    Ok(moved.rows_affected)
}

/// ADMIN pays the payables `ids` (all of them must exist and be due or
/// already paid) with `reference`: each due one gets a `PAY` entry of its
/// balance and becomes `PAID`; already paid ones are skipped. Returns how
/// many were newly paid. Unknown ids (`NOT_FOUND`) or pending ones
/// (`CONFLICT`) change nothing.
pub async fn mark_paid(
    state: &AppState,
    admin_id: i64,
    ids: &[i64],
    reference: &str,
    now: DateTime<Utc>,
) -> AppResult<u64> {
    let reference = crate::validate::text(reference, "reference", 100)?;
    if ids.is_empty() {
        return Err(AppError::bad_input("ids", "must name at least one payable"));
    }
    let max = crate::validate::list_limit(BATCH_LIST);
    if ids.len() > max {
        return Err(AppError::bad_input(
            "ids",
            format!("at most {max} payables at once"),
        ));
    }
    let mut ids: Vec<i64> = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let txn = state.db.begin().await?;
    let found = supplier_payable::Entity::find()
        .filter(supplier_payable::Column::Id.is_in(ids.clone()))
        .order_by_asc(supplier_payable::Column::Id)
        .all(&txn)
        .await?;
    let known: HashSet<i64> = found.iter().map(|p| p.id).collect();
    let missing: Vec<String> = ids
        .iter()
        .filter(|i| !known.contains(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(AppError::NotFound(format!(
            "no supplier payable {}",
            missing.join(", ")
        )));
    }
    if let Some(p) = found.iter().find(|p| p.status == PENDING) {
        return Err(AppError::Conflict(format!(
            "supplier payable {} is not due yet: its return window is open",
            p.id
        )));
    }
    // Two batches for one supplier net its debt once: the second waits
    // for the first (PostgreSQL; SQLite runs one transaction at a time).
    let suppliers: Vec<i64> = found
        .iter()
        .filter(|p| p.status == DUE)
        .map(|p| p.supplier_id)
        .collect::<BTreeSet<i64>>()
        .into_iter()
        .collect();
    crate::modules::supplier::service::lock(&txn, &suppliers).await?;
    let mut paid = 0;
    // What each newly paid payable still owes, by supplier, oldest first.
    let mut owing: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for p in found.iter().filter(|p| p.status == DUE) {
        let moved = supplier_payable::Entity::update_many()
            .col_expr(supplier_payable::Column::Status, Expr::value(PAID))
            .col_expr(supplier_payable::Column::PaidAt, Expr::value(now))
            .col_expr(
                supplier_payable::Column::PaidReference,
                Expr::value(reference.clone()),
            )
            .col_expr(supplier_payable::Column::PaidBy, Expr::value(admin_id))
            .filter(supplier_payable::Column::Id.eq(p.id))
            .filter(supplier_payable::Column::Status.eq(DUE))
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            // Paid by a concurrent call: skipped like any paid one.
            continue;
        }
        paid += 1;
        let balance = balance_in(&txn, p.id).await?;
        if balance > 0 {
            owing
                .entry(p.supplier_id)
                .or_default()
                .push((p.id, balance));
        }
    }
    for (supplier_id, mut payables) in owing {
        net_debts(&txn, supplier_id, &mut payables, &reference, now).await?;
        for (id, left) in payables {
            if left > 0 {
                insert_entry(&txn, id, PAY, -left, None, Some(reference.clone()), now).await?;
            }
        }
    }
    txn.commit().await?;
    Ok(paid)
}

async fn balance_in(txn: &DatabaseTransaction, payable_id: i64) -> AppResult<i64> {
    let row: Option<Option<i64>> = entry::Entity::find()
        .select_only()
        .expr(crate::db::sum_bigint(entry::Column::AmountFen))
        .filter(entry::Column::PayableId.eq(payable_id))
        .into_tuple()
        .one(txn)
        .await?;
    Ok(row.flatten().unwrap_or(0))
}

/// Carries what `supplier_id` owes back (its paid payables with a negative
/// balance, oldest first) into the payment of `payables` (id, balance),
/// oldest first: each fen moved is a `NET` on both sides, and `payables`'
/// balances come down by it. What the payment cannot absorb stays owed.
async fn net_debts(
    txn: &DatabaseTransaction,
    supplier_id: i64,
    payables: &mut [(i64, i64)],
    reference: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let sum = crate::db::sum_bigint(entry::Column::AmountFen);
    let debts: Vec<(i64, Option<i64>)> = entry::Entity::find()
        .select_only()
        .column(entry::Column::PayableId)
        .expr(sum.clone())
        .filter(
            entry::Column::PayableId.in_subquery(
                Query::select()
                    .column(supplier_payable::Column::Id)
                    .from(supplier_payable::Entity)
                    .and_where(supplier_payable::Column::SupplierId.eq(supplier_id))
                    .and_where(supplier_payable::Column::Status.eq(PAID))
                    .to_owned(),
            ),
        )
        .group_by(entry::Column::PayableId)
        .having(sea_orm::sea_query::ExprTrait::lt(sum, 0))
        .order_by_asc(entry::Column::PayableId)
        .into_tuple()
        .all(txn)
        .await?;
    let mut next = 0;
    for (debt_id, balance) in debts {
        let mut owed = -balance.unwrap_or(0);
        while owed > 0 && next < payables.len() {
            let (id, left) = &mut payables[next];
            let moved = Ord::min(owed, *left);
            let into = Some(format!("{reference} (netted into payable {id})"));
            let from = Some(format!("{reference} (payable {debt_id} netted)"));
            insert_entry(txn, debt_id, NET, moved, None, into, now).await?;
            insert_entry(txn, *id, NET, -moved, None, from, now).await?;
            owed -= moved;
            *left -= moved;
            if *left == 0 {
                next += 1;
            }
        }
        if next == payables.len() {
            break;
        }
    }
    Ok(())
}

/// Filters of `supplierPayables`.
#[derive(Default, Clone)]
pub struct Filter {
    /// A SUPPLIER's own (set from the viewer, never from input).
    pub scope: Option<i64>,
    pub supplier_id: Option<i64>,
    pub status: Option<&'static str>,
    /// Accrued (shipped) at or after.
    pub from: Option<DateTime<Utc>>,
    /// Accrued before.
    pub to: Option<DateTime<Utc>>,
}

fn condition(f: &Filter) -> Condition {
    use supplier_payable::Column as C;
    let mut c = Condition::all();
    if let Some(s) = f.scope {
        c = c.add(C::SupplierId.eq(s));
    }
    if let Some(s) = f.supplier_id {
        c = c.add(C::SupplierId.eq(s));
    }
    if let Some(s) = f.status {
        c = c.add(C::Status.eq(s));
    }
    if let Some(t) = f.from {
        c = c.add(C::CreatedAt.gte(t));
    }
    if let Some(t) = f.to {
        c = c.add(C::CreatedAt.lt(t));
    }
    c
}

/// A page of payables, newest first.
pub async fn list(
    state: &AppState,
    filter: &Filter,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<supplier_payable::Model>, bool)> {
    let q = supplier_payable::Entity::find().filter(condition(filter));
    Ok(crate::db::page_desc(&state.db, q, supplier_payable::Column::Id, first, after_id).await?)
}

/// How many payables match `filter` (all pages), counted when asked.
pub fn total(filter: &Filter) -> TotalCount {
    TotalCount::of(supplier_payable::Entity::find().filter(condition(filter)))
}

/// The sum of the entries of every payable matching `filter` (all pages).
pub async fn balance_of(state: &AppState, filter: &Filter) -> AppResult<i64> {
    use sea_orm::QueryTrait;
    let ids = supplier_payable::Entity::find()
        .select_only()
        .column(supplier_payable::Column::Id)
        .filter(condition(filter))
        .into_query();
    let row: Option<Option<i64>> = entry::Entity::find()
        .select_only()
        .expr(crate::db::sum_bigint(entry::Column::AmountFen))
        .filter(entry::Column::PayableId.in_subquery(ids))
        .into_tuple()
        .one(&state.db)
        .await?;
    Ok(row.flatten().unwrap_or(0))
}

/// The entries of the payables `ids`, oldest first, by payable.
pub async fn entries_of(
    state: &AppState,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<entry::Model>>> {
    entries_in(&state.db, ids).await
}

async fn entries_in(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<entry::Model>>> {
    let rows = entry::Entity::find()
        .filter(entry::Column::PayableId.is_in(ids.iter().copied()))
        .order_by_asc(entry::Column::Id)
        .all(db)
        .await?;
    let mut by: HashMap<i64, Vec<entry::Model>> = HashMap::new();
    for e in rows {
        by.entry(e.payable_id).or_default().push(e);
    }
    Ok(by)
}
