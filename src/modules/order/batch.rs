//! Placing goods orders in batches (group commit).
//!
//! Concurrent `placeOrder` calls in one instance wait in one queue; a single
//! writer takes whatever has queued up (up to [`MAX_ORDERS`]) and writes it
//! in one transaction: one read each for the SKUs, the supplier links, the
//! addresses and the memberships of every order, one lock per SKU, one insert
//! for all the orders and one for all their lines, one statement for the
//! carts and one for the stock. A lone order is a batch of one; under load
//! the batches grow by themselves, with no timer. A flash sale's buyers then
//! queue on the hot SKU row once per batch instead of once per order.
//!
//! Every order is decided on its own, as if placed alone: one that fails (an
//! unknown or retired SKU, no address, not enough stock) fails alone, with
//! the same error. Stock is given out in the order the calls arrived. A key
//! already used (a replay, or a concurrent call with the same key) inserts
//! nothing and gets the stored order, as in `super::place::or_replay`. Anything
//! unexpected from the database rolls the batch back, and its orders are
//! then placed one by one (`super::place::place_one`), so no order fails for
//! another's sake.
//!
//! Orders paid partly from the balance or using a coupon do not come here:
//! the wallet or the coupon must be taken for each, and they are placed one
//! by one.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use entity::{cart_item, shop_order};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    TransactionTrait, TryInsertResult,
};
use tokio::sync::{mpsc, oneshot};

use super::{
    address::{self, AddressData},
    place::{Draft, PricedLine},
    service::{self, KIND_GOODS, OrderRequest, Placed},
};
use crate::{
    error::{AppError, AppResult},
    modules::pricing::{self, Breakdown},
    modules::{catalogue::stock, coupon::service as coupons, membership::service as membership},
    state::AppState,
};

/// The most orders written in one transaction.
pub const MAX_ORDERS: usize = 64;
/// The most order lines written in one transaction (each order has at most
/// 50): keeps every statement far below both databases' parameter limits.
const MAX_LINES: usize = 256;
/// Orders waiting beyond this make callers wait to queue.
const QUEUE: usize = 1024;

/// A checked order waiting to be placed, and where its answer goes.
struct Job {
    customer_id: i64,
    req: OrderRequest,
    key: String,
    hash: String,
    reply: oneshot::Sender<Outcome>,
}

/// The queue in front of the batch writer; cheap to clone.
#[derive(Clone)]
pub struct Placer(mpsc::Sender<Job>);

/// The writer's end of the queue, until [`spawn`] hands it to the writer.
pub struct Queue(mpsc::Receiver<Job>);

/// A new queue. The writer starts with [`spawn`], once the state that holds
/// the [`Placer`] exists.
pub fn queue() -> (Placer, Queue) {
    let (tx, rx) = mpsc::channel(QUEUE);
    (Placer(tx), Queue(rx))
}

impl Placer {
    /// Places a checked goods order (`hash`: of its canonical request) with
    /// whatever else is waiting.
    pub async fn place(
        &self,
        state: &AppState,
        customer_id: i64,
        req: &OrderRequest,
        key: &str,
        hash: String,
    ) -> AppResult<Placed> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            customer_id,
            req: req.clone(),
            key: key.to_string(),
            hash: hash.clone(),
            reply,
        };
        // Should the writer have stopped, or dropped this order (a batch that
        // panicked, maybe after its commit), the order is placed alone: the
        // key makes that safe, it finds the order if it went in.
        let outcome = match self.0.send(job).await {
            Ok(()) => answer.await.unwrap_or(Outcome::Alone),
            Err(_) => Outcome::Alone,
        };
        // What is left to do is done here, by the caller, so that the writer
        // goes on to the next batch at once.
        match outcome {
            Outcome::Placed(order) => Ok(Placed {
                order: *order,
                created: true,
            }),
            Outcome::Failed(e) => super::place::or_replay(state, customer_id, key, &hash, e).await,
            Outcome::KeyUsed => {
                let race = AppError::Conflict(super::place::IDEMPOTENCY_RACE.into());
                super::place::or_replay(state, customer_id, key, &hash, race).await
            }
            Outcome::Alone => super::place::place_one(state, customer_id, req, key, &hash).await,
        }
    }
}

/// Starts the batch writer on the current runtime; it runs while the queue is open.
pub fn spawn(state: AppState, Queue(mut queue): Queue) {
    tokio::spawn(async move {
        while let Some(first) = queue.recv().await {
            // Whatever is waiting, and what arrives within the window.
            let until = tokio::time::Instant::now() + state.settings.order_batch_window;
            let mut lines = first.req.items.len();
            let mut jobs = vec![first];
            while jobs.len() < MAX_ORDERS && lines < MAX_LINES {
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
                lines += job.req.items.len();
                jobs.push(job);
            }
            // Its own task: should a batch panic, its callers get an
            // internal error (their answer is dropped) and the writer goes on.
            let state = state.clone();
            if let Err(e) = tokio::spawn(async move { run(&state, jobs).await }).await {
                tracing::error!(error = %e, "an order batch failed");
            }
        }
    });
}

/// How one order of a batch went; the caller finishes it.
enum Outcome {
    Placed(Box<shop_order::Model>),
    /// Failed on its own (checks, stock); a replay of a stored order still
    /// gets that order.
    Failed(AppError),
    /// Its key is used already: the stored order answers.
    KeyUsed,
    /// To be placed on its own: its key came twice in the batch (concurrent
    /// replays; it then finds the first one's order), or the batch was
    /// rolled back.
    Alone,
}

async fn run(state: &AppState, jobs: Vec<Job>) {
    crate::metrics::observe_order_batch(jobs.len());
    tracing::debug!(orders = jobs.len(), "writing an order batch");
    let mut seen = HashSet::new();
    let (jobs, repeats): (Vec<Job>, Vec<Job>) = jobs
        .into_iter()
        .partition(|j| seen.insert((j.customer_id, j.key.clone())));
    match write(state, &jobs).await {
        Ok(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.reply.send(outcome);
            }
        }
        Err(e) => {
            tracing::warn!(error = ?e, orders = jobs.len(), "an order batch was rolled back; its orders are placed one by one");
            for job in jobs {
                let _ = job.reply.send(Outcome::Alone);
            }
        }
    }
    for job in repeats {
        let _ = job.reply.send(Outcome::Alone);
    }
}

/// An order that passed its checks, priced.
struct Priced {
    lines: Vec<PricedLine>,
    address: AddressData,
    input: pricing::PricingInput,
    breakdown: Breakdown,
}

/// Writes the batch in one transaction; each order's outcome, in order.
///
/// Locks are taken in the order the single path takes them (order keys,
/// then SKU rows by id, then cart rows), so the two never deadlock: the
/// orders go in first, and only then is stock given out, to orders that
/// really went in; those that come up short are deleted again before the
/// commit, so nobody ever sees them.
async fn write(state: &AppState, jobs: &[Job]) -> AppResult<Vec<Outcome>> {
    let txn = state.db.begin().await?;
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // A batch stuck on a lock would hold up every order of the
        // instance: it gives up instead, and its orders are placed alone.
        txn.execute_unprepared(
            "SET LOCAL lock_timeout = '2s'; SET LOCAL statement_timeout = '10s'",
        )
        .await?;
    }
    let customers: Vec<i64> = jobs
        .iter()
        .map(|j| j.customer_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let found = super::place::read_skus(&txn, jobs.iter().map(|j| &j.req)).await?;
    let sku_ids: Vec<i64> = found.keys().copied().collect();
    let links = super::place::links_of(&txn, &sku_ids).await?;
    let addresses = address::addresses_of(&txn, &customers).await?;
    let now = Utc::now();
    let terms = membership::terms_of(&txn, &customers, now).await?;
    let promotions = coupons::running(&txn, now).await?;
    let shipping =
        super::shipping_plan::facts_for(&txn, found.values().map(|(_, p)| p), &links).await?;

    // Each order checked and priced on its own, as `place_one` would.
    let mut outcomes: Vec<Option<Outcome>> = Vec::with_capacity(jobs.len());
    let mut priced: Vec<Option<Priced>> = Vec::with_capacity(jobs.len());
    for j in jobs {
        let checked = super::place::lines_of_request(&found, &j.req).and_then(|lines| {
            let address = address::pick(&addresses, j.customer_id, j.req.address_id)?;
            let mut input = super::place::pricing_input_with(
                state,
                &lines,
                terms.get(&j.customer_id).copied(),
                promotions.clone(),
            );
            let address = AddressData::from(address);
            super::shipping_plan::apply(&mut input, &shipping, &lines, &links, Some(&address))?;
            Ok(Priced {
                breakdown: pricing::price(&input),
                lines,
                address,
                input,
            })
        });
        match checked {
            Ok(p) => {
                priced.push(Some(p));
                outcomes.push(None);
            }
            Err(e) => {
                priced.push(None);
                outcomes.push(Some(Outcome::Failed(e)));
            }
        }
    }
    let drafts: Vec<Option<Draft<'_>>> = priced
        .iter()
        .zip(jobs)
        .map(|(p, j)| {
            p.as_ref().map(|p| Draft {
                kind: KIND_GOODS,
                plan_id: None,
                lines: &p.lines,
                input: p.input.clone(),
                use_balance: false,
                address: Some(p.address.clone()),
                remark: super::place::remark_of(&j.req),
                links: &links,
                coupon_id: None,
                plan_terms: None,
            })
        })
        .collect();

    // The orders, in one insert, in key order (two batches lock their keys
    // in the same order); a key used already inserts nothing.
    let times = super::place::placing_times(state);
    let mut rows = Vec::new();
    let mut by_key_order: Vec<usize> = (0..jobs.len()).filter(|&i| drafts[i].is_some()).collect();
    by_key_order.sort_by(|&a, &b| {
        (jobs[a].customer_id, &jobs[a].key).cmp(&(jobs[b].customer_id, &jobs[b].key))
    });
    for i in by_key_order {
        if let (Some(d), Some(p)) = (&drafts[i], &priced[i]) {
            let j = &jobs[i];
            rows.push(super::place::order_row(
                j.customer_id,
                (&j.key, &j.hash),
                d,
                &p.breakdown,
                (0, 0),
                times,
            )?);
        }
    }
    let inserted = match shop_order::Entity::insert_many(rows)
        .on_conflict_do_nothing_on([
            shop_order::Column::CustomerId,
            shop_order::Column::IdempotencyKey,
        ])
        .exec_with_returning_many(&txn)
        .await?
    {
        TryInsertResult::Inserted(orders) => orders,
        TryInsertResult::Conflicted | TryInsertResult::Empty => Vec::new(),
    };
    let mut by_key: HashMap<(i64, String), shop_order::Model> = inserted
        .into_iter()
        .map(|mut o| {
            // Numbered by the database; SQLite returns the row from before its trigger.
            o.order_no = service::order_number(o.id, o.created_at);
            ((o.customer_id, o.idempotency_key.clone()), o)
        })
        .collect();
    let mut orders: Vec<Option<shop_order::Model>> = Vec::with_capacity(jobs.len());
    for (j, outcome) in jobs.iter().zip(outcomes.iter_mut()) {
        let order = if outcome.is_none() {
            by_key.remove(&(j.customer_id, j.key.clone()))
        } else {
            None
        };
        if outcome.is_none() && order.is_none() {
            *outcome = Some(Outcome::KeyUsed);
        }
        orders.push(order);
    }

    // Stock: each SKU locked once, in id order (the lock order everywhere),
    // and given out to the orders that went in, in the order the calls
    // arrived; an order that comes up short goes out again.
    let wanted: Vec<i64> = orders
        .iter()
        .zip(&priced)
        .filter(|(o, _)| o.is_some())
        .flat_map(|(_, p)| p.iter().flat_map(|p| p.lines.iter().map(|l| l.sku.id)))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut left = stock::lock_counts(&txn, &wanted).await?;
    let mut short_orders = Vec::new();
    for ((order, p), outcome) in orders.iter_mut().zip(&priced).zip(outcomes.iter_mut()) {
        let (Some(o), Some(p)) = (order.as_ref(), p) else {
            continue;
        };
        // The first short line in SKU id order, as the single path finds it.
        let mut by_sku: Vec<&PricedLine> = p.lines.iter().collect();
        by_sku.sort_by_key(|l| l.sku.id);
        let short = by_sku
            .into_iter()
            .find(|l| left.get(&l.sku.id).copied().unwrap_or(0) < l.quantity);
        if let Some(short) = short {
            *outcome = Some(Outcome::Failed(super::place::out_of_stock(short)));
            short_orders.push(o.id);
            *order = None;
            continue;
        }
        for l in &p.lines {
            *left.entry(l.sku.id).or_default() -= l.quantity;
        }
    }
    if !short_orders.is_empty() {
        shop_order::Entity::delete_many()
            .filter(shop_order::Column::Id.is_in(short_orders))
            .exec(&txn)
            .await?;
    }

    // Lines, stock and carts of the orders that stay.
    let mut lines = Vec::new();
    let mut carts = Condition::any();
    let mut taken: BTreeMap<i64, i32> = BTreeMap::new();
    let mut products = Vec::new();
    for (((order, d), p), (j, outcome)) in orders
        .into_iter()
        .zip(&drafts)
        .zip(&priced)
        .zip(jobs.iter().zip(outcomes.iter_mut()))
    {
        let (Some(order), Some(d), Some(p)) = (order, d, p) else {
            continue;
        };
        lines.extend(super::place::line_rows(order.id, d, &p.breakdown));
        // What was ordered leaves the cart with the order, not before.
        carts = carts.add(
            Condition::all()
                .add(cart_item::Column::CustomerId.eq(j.customer_id))
                .add(cart_item::Column::SkuId.is_in(p.lines.iter().map(|l| l.sku.id))),
        );
        for l in &p.lines {
            *taken.entry(l.sku.id).or_default() += l.quantity;
            products.push(l.product.id);
        }
        *outcome = Some(Outcome::Placed(Box::new(order)));
    }
    if !lines.is_empty() {
        entity::order_line::Entity::insert_many(lines)
            .exec_without_returning(&txn)
            .await?;
        stock::take_many(&txn, &taken).await?;
        cart_item::Entity::delete_many()
            .filter(carts)
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    products.sort_unstable();
    products.dedup();
    stock::invalidate(state, &products).await;
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Outcome::KeyUsed))
        .collect())
}
