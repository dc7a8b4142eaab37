//! Confirming payments in batches (group commit), as `super::batch` places
//! orders.
//!
//! Concurrent confirmations in one instance (WeChat Pay notifications,
//! `demoPay`, the time-out's and the trade bill's queries) wait in one
//! queue; a single writer takes whatever has queued up (up to
//! [`MAX_PAYMENTS`]) and confirms it in one transaction: one update marks
//! every goods order paid that is waiting for exactly its amount, one insert
//! writes their payment rows, one insert and one update split them into
//! fulfillments, one upsert counts them in their buyers' figures, and the
//! sales counters are written once per product for the whole batch (a flash
//! sale's product row is then written once per batch, not once per order).
//!
//! Only the common case is confirmed here: a goods order waiting for payment
//! whose amount matches. Every other confirmation of the batch (a wrong
//! amount, an order paid or closed already, a repeated transaction id, a
//! plan order, a second payment for the same order) is answered afterwards,
//! once the batch has committed, by `confirm_alone`, which says exactly what
//! it said before (`Duplicate`, `Refunded`, `CONFLICT`, …). A transaction id
//! that comes twice in a batch is confirmed once; its repeat then finds the
//! payment and is `Duplicate`. Anything unexpected from the database rolls
//! the batch back and its confirmations are made one by one, so no payment
//! fails for another's sake.
//!
//! No money moves through the wallet here: a balance part was taken when
//! the order was placed, and top-ups (plan orders) go alone.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use entity::{payment, shop_order};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait,
    QueryFilter, TransactionTrait, sea_query::Expr,
};
use tokio::sync::{mpsc, oneshot};

use super::{
    payment::{Confirmation, PaymentOutcome, after_goods_paid, confirm_alone, sales_day},
    place::KIND_GOODS,
    state::{self, Status},
};
use crate::{
    error::AppResult,
    modules::{catalogue::service as catalogue, referral::service as referral},
    state::AppState,
};

/// The most confirmations in one transaction.
pub const MAX_PAYMENTS: usize = 64;
/// Confirmations waiting beyond this make callers wait to queue.
const QUEUE: usize = 1024;

struct Job {
    c: Confirmation,
    reply: oneshot::Sender<Outcome>,
}

/// The queue in front of the batch writer; cheap to clone.
#[derive(Clone)]
pub struct Payer(mpsc::Sender<Job>);

/// The writer's end of the queue, until [`spawn`] hands it to the writer.
pub struct Queue(mpsc::Receiver<Job>);

/// A new queue. The writer starts with [`spawn`], once the state that holds
/// the [`Payer`] exists.
pub fn queue() -> (Payer, Queue) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (Payer(tx), Queue(rx))
}

/// How one confirmation of a batch went.
enum Outcome {
    /// Applied: the order as paid.
    Paid(Box<shop_order::Model>),
    /// Not the common case, or the batch was rolled back: confirmed alone,
    /// after the batch.
    Alone,
}

impl Payer {
    /// Confirms `c` with whatever else is being confirmed.
    pub async fn confirm(
        &self,
        state: &AppState,
        c: Confirmation,
    ) -> AppResult<(PaymentOutcome, Option<shop_order::Model>)> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            c: c.clone(),
            reply,
        };
        // Should the writer have stopped, or dropped this job (a batch that
        // panicked, maybe after its commit), the confirmation is made alone:
        // the transaction id makes that safe, it finds the payment if it went in.
        let outcome = match self.0.send(job).await {
            Ok(()) => answer.await.unwrap_or(Outcome::Alone),
            Err(_) => Outcome::Alone,
        };
        match outcome {
            Outcome::Paid(order) => Ok((PaymentOutcome::Applied, Some(*order))),
            Outcome::Alone => confirm_alone(state, c).await,
        }
    }
}

/// Starts the batch writer on the current runtime; it runs while the queue
/// is open. It waits for more as long as `order_batch_window`, as placing does.
pub fn spawn(state: AppState, Queue(mut queue): Queue) {
    tokio::spawn(async move {
        while let Some(first) = queue.recv().await {
            let until = tokio::time::Instant::now() + state.settings.order_batch_window;
            let mut jobs = vec![first];
            while jobs.len() < MAX_PAYMENTS {
                let next = match queue.try_recv() {
                    Ok(job) => Some(job),
                    Err(_) if tokio::time::Instant::now() < until => {
                        tokio::time::timeout_at(until, queue.recv())
                            .await
                            .ok()
                            .flatten()
                    }
                    Err(_) => None,
                };
                let Some(job) = next else { break };
                jobs.push(job);
            }
            // Its own task: should a batch panic, its callers confirm alone
            // (their answer is dropped) and the writer goes on.
            let state = state.clone();
            if let Err(e) = tokio::spawn(async move { run(&state, jobs).await }).await {
                tracing::error!(error = %e, "a payment batch failed");
            }
        }
    });
}

async fn run(state: &AppState, jobs: Vec<Job>) {
    crate::metrics::observe_payment_batch(jobs.len());
    tracing::debug!(payments = jobs.len(), "confirming a payment batch");
    // A transaction id twice in a batch (a repeated notification): the
    // first one is confirmed, the repeat finds its payment afterwards.
    let mut seen = HashSet::new();
    let (jobs, repeats): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|j| seen.insert(j.c.transaction_id.clone()));
    let confirmations: Vec<&Confirmation> = jobs.iter().map(|j| &j.c).collect();
    let paid = match write(state, &confirmations).await {
        Ok(paid) => paid,
        Err(e) => {
            tracing::warn!(error = ?e, payments = jobs.len(), "a payment batch was rolled back; its payments are confirmed one by one");
            HashMap::new()
        }
    };
    let mut paid = paid;
    for job in jobs {
        let outcome = match paid.remove(&job.c.transaction_id) {
            Some(order) => Outcome::Paid(Box::new(order)),
            None => Outcome::Alone,
        };
        let _ = job.reply.send(outcome);
    }
    for job in repeats {
        let _ = job.reply.send(Outcome::Alone);
    }
}

/// Confirms the common cases of a batch in one transaction: the orders
/// paid, by transaction id. Everything else is for `confirm_alone`.
async fn write(
    state: &AppState,
    confirmations: &[&Confirmation],
) -> AppResult<HashMap<String, shop_order::Model>> {
    state::check(Status::PendingPayment, Status::Paid)?;
    let txn = state.db.begin().await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // A batch stuck on a lock would hold up every payment of the
        // instance: it gives up instead, and its payments go alone.
        txn.execute_unprepared(
            "SET LOCAL lock_timeout = '2s'; SET LOCAL statement_timeout = '10s'",
        )
        .await?;
    }
    // Every goods order waiting for exactly what was paid for it, in one
    // statement (a wrong amount moves nothing, as alone).
    let mut which = Condition::any();
    for c in confirmations {
        which = which.add(
            Condition::all()
                .add(shop_order::Column::OrderNo.eq(c.order_no.as_str()))
                .add(shop_order::Column::PayableFen.eq(c.amount_fen)),
        );
    }
    let now = Utc::now();
    let mut orders = shop_order::Entity::update_many()
        .col_expr(
            shop_order::Column::Status,
            Expr::value(Status::Paid.as_str()),
        )
        .col_expr(shop_order::Column::PaidAt, Expr::value(now))
        .col_expr(
            shop_order::Column::PaidFen,
            Expr::col(shop_order::Column::PayableFen),
        )
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(now))
        .filter(which)
        .filter(shop_order::Column::Status.eq(Status::PendingPayment.as_str()))
        .filter(shop_order::Column::Kind.eq(KIND_GOODS))
        .exec_with_returning(&txn)
        .await?;
    if orders.is_empty() {
        return Ok(HashMap::new());
    }
    orders.sort_by_key(|o| o.id);
    // Each order paid by the first confirmation of the batch for it; a
    // second one (another transaction for the same order) goes alone
    // afterwards and is refunded there, as a late payment.
    let mut by_no: HashMap<&str, &shop_order::Model> =
        orders.iter().map(|o| (o.order_no.as_str(), o)).collect();
    let mut applied: Vec<(&Confirmation, &shop_order::Model)> = Vec::new();
    for c in confirmations {
        if let Some(o) = by_no.remove(c.order_no.as_str()) {
            applied.push((c, o));
        }
    }
    // A transaction id stored already (it paid another order) fails the
    // insert: the batch is rolled back, and alone says what it is.
    payment::Entity::insert_many(applied.iter().map(|(c, o)| payment::ActiveModel {
        order_id: Set(o.id),
        provider: Set(c.provider.to_string()),
        transaction_id: Set(c.transaction_id.clone()),
        amount_fen: Set(c.amount_fen),
        outcome: Set("APPLIED".to_string()),
        created_at: Set(now),
        ..Default::default()
    }))
    .exec_without_returning(&txn)
    .await?;
    let goods = after_goods_paid(&txn, &orders, now).await?;
    // Commissions, with the lines just filed (their cost): the same accrual
    // as alone, order by order (the buyers' inviters are remembered in
    // process, so a buyer without one costs no statement).
    let mut lines_of: BTreeMap<i64, i64> = BTreeMap::new();
    for l in &goods.lines {
        *lines_of.entry(l.order_id).or_default() += l.cost_fen.unwrap_or(0) * i64::from(l.quantity);
    }
    for o in &orders {
        if let Some(earners) = referral::earners(state, &txn, o.customer_id).await? {
            let cost = lines_of.get(&o.id).copied().unwrap_or(0);
            let balance_earns = !state.settings.commission_on_plans;
            referral::accrue(&txn, o, earners, cost, balance_earns).await?;
        }
    }
    // Last: the hottest rows, once per product for the whole batch.
    catalogue::count_sales(&txn, &goods.units, &sales_day(now)).await?;
    txn.commit().await?;
    let products: Vec<i64> = goods.units.into_keys().collect();
    catalogue::invalidate_sales(state, &products).await;
    if goods.webhooks {
        super::fulfillment::kick_webhooks(state);
    }
    let paid: HashMap<String, shop_order::Model> = applied
        .into_iter()
        .map(|(c, o)| (c.transaction_id.clone(), o.clone()))
        .collect();
    Ok(paid)
}
