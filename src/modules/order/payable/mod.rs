//! Supplier payables (应付供应商款): what the store owes each drop-ship
//! supplier, one payable per shipped supplier fulfillment.
//!
//! - **Accrued when the fulfillment ships** ([`accrue`], in the shipping
//!   transaction): the cost snapshotted on its lines (`order_line.cost_fen`,
//!   per unit, at order time) times the units that shipped. Units refunded
//!   before shipping were called off from the fulfillment and never ship,
//!   so they are never owed.
//! - **Reduced by returns** ([`on_refund`], in the after-sale's refund
//!   transaction): a `RETURN_AND_REFUND` of shipped units sends them back
//!   to the supplier, so their cost is taken off (`ADJUST`). A `REFUND_ONLY`
//!   of shipped goods (the buyer keeps them) changes nothing: the supplier
//!   shipped them and is owed for them.
//! - **Due after the return window** ([`make_due`], the jobs loop): the
//!   order completed `AFTER_SALES_DAYS` ago (or was refunded in full) and no
//!   after-sale of it is still open.
//! - **Paid by the store** ([`mark_paid`]): a `PAY` entry of the balance
//!   and the store's reference; paying again skips it.
//!
//! Every movement is an append-only `supplier_payable_entry` row; a
//! payable's balance is the sum of its entries. A return settled after the
//! payable was paid adds its `ADJUST` all the same: the balance goes
//! negative, which is what the supplier owes back, listed with the
//! supplier's payables until the store nets it off.
pub mod resolver;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{
    after_sale, after_sale_line, fulfillment, order_line, shop_order, supplier_payable,
    supplier_payable_entry as entry,
};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait,
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
/// Where the document guard bounds `markSupplierPayablesPaid`'s batch.
const BATCH_LIST: &str = "Mutation.markSupplierPayablesPaid(ids:)";

/// Opens the payable of fulfillment `f`, which `txn` has just moved to
/// shipped (the order row is locked: no refund runs meanwhile). Nothing for
/// the store's own fulfillments.
pub async fn accrue(
    txn: &DatabaseTransaction,
    f: &fulfillment::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let Some(supplier_id) = f.supplier_id else {
        return Ok(());
    };
    let lines = order_line::Entity::find()
        .filter(order_line::Column::FulfillmentId.eq(f.id))
        .all(txn)
        .await?;
    let line_ids: Vec<i64> = lines.iter().map(|l| l.id).collect();
    // Units refunded before shipping: called off, they did not ship.
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
        // Shipped once already (cannot happen through the conditional
        // status move, kept as a backstop): one payable per fulfillment.
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
/// `sale_lines`, the order's lines in `lines`): returned units that had
/// shipped go back to their supplier, whose payable loses their cost.
/// Refund-only after-sales, and units that never shipped, change nothing.
pub async fn on_refund(
    txn: &DatabaseTransaction,
    a: &after_sale::Model,
    lines: &[order_line::Model],
    sale_lines: &[after_sale_line::Model],
    now: DateTime<Utc>,
) -> AppResult<()> {
    if a.kind != RETURN_AND_REFUND {
        return Ok(());
    }
    let mut by_fulfillment: BTreeMap<i64, i64> = BTreeMap::new();
    for sl in sale_lines {
        let Some(l) = lines.iter().find(|l| l.id == sl.order_line_id) else {
            continue;
        };
        let (Some(fid), Some(_)) = (l.fulfillment_id, l.supplier_id) else {
            continue;
        };
        *by_fulfillment.entry(fid).or_default() += l.cost_fen.unwrap_or(0) * i64::from(sl.quantity);
    }
    if by_fulfillment.is_empty() {
        return Ok(());
    }
    // Only shipped fulfillments have a payable.
    let payables = supplier_payable::Entity::find()
        .filter(supplier_payable::Column::FulfillmentId.is_in(by_fulfillment.keys().copied()))
        .all(txn)
        .await?;
    for p in payables {
        let cost = by_fulfillment.get(&p.fulfillment_id).copied().unwrap_or(0);
        if cost <= 0 {
            continue;
        }
        entry::Entity::insert(entry::ActiveModel {
            payable_id: Set(p.id),
            kind: Set(ADJUST.into()),
            amount_fen: Set(-cost),
            after_sale_id: Set(Some(a.id)),
            reference: Set(None),
            created_at: Set(now),
            ..Default::default()
        })
        // One adjustment per after-sale and payable, however often asked.
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
    }
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
    let mut paid = 0;
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
        let balance: i64 = entry::Entity::find()
            .filter(entry::Column::PayableId.eq(p.id))
            .all(&txn)
            .await?
            .iter()
            .map(|e| e.amount_fen)
            .sum();
        if balance > 0 {
            insert_entry(
                &txn,
                p.id,
                PAY,
                -balance,
                None,
                Some(reference.clone()),
                now,
            )
            .await?;
        }
        paid += 1;
    }
    txn.commit().await?;
    Ok(paid)
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
    use sea_orm::{QuerySelect, QueryTrait};
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
    let rows = entry::Entity::find()
        .filter(entry::Column::PayableId.is_in(ids.iter().copied()))
        .order_by_asc(entry::Column::Id)
        .all(&state.db)
        .await?;
    let mut by: HashMap<i64, Vec<entry::Model>> = HashMap::new();
    for e in rows {
        by.entry(e.payable_id).or_default().push(e);
    }
    Ok(by)
}
