//! After-sales (售后) per line: the customer asks to refund some units of
//! some lines (refund only, or return and refund), cancels before a
//! decision, and everyone reads them. The amount is fixed to the fen when
//! asked for (see [`line_amount`] and [`split`]); `decide` takes the
//! store's and the supplier's decisions and the returns, `settle` moves the
//! money and everything downstream.
pub mod decide;
pub mod settle;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{after_sale, after_sale_line, fulfillment, order_line, shop_order};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, PaginatorTrait, QueryFilter,
    QueryOrder, TransactionTrait,
    sea_query::{Expr, Query},
};
use serde::Serialize;

use super::place::{KIND_GOODS, check_key, request_hash};
use super::query::{lines_of, own};
use super::state::Status;
use crate::api::pagination::TotalCount;
use crate::{
    error::{AppError, AppResult},
    money::{prorate_half_up, spread_half_up},
    state::AppState,
    validate,
};

pub const REFUND_ONLY: &str = "REFUND_ONLY";
pub const RETURN_AND_REFUND: &str = "RETURN_AND_REFUND";
pub const REQUESTED: &str = "REQUESTED";
pub const APPROVED: &str = "APPROVED";
pub const RETURNING: &str = "RETURNING";
pub const REFUNDING: &str = "REFUNDING";
pub const REFUNDED: &str = "REFUNDED";
pub const REJECTED: &str = "REJECTED";
pub const CANCELLED: &str = "CANCELLED";
/// The WeChat part of its refund failed (see the refund): the store retries
/// or settles it; the units stay refunded.
pub const FAILED: &str = "FAILED";
/// Statuses that no longer hold their units: the units may be asked for again.
pub const CLOSED: [&str; 2] = [REJECTED, CANCELLED];
/// Statuses whose money moved (or is on its way): their units are refunded.
pub const MONEY_MOVED: [&str; 3] = [REFUNDING, REFUNDED, FAILED];
pub const MAX_IMAGES: usize = 9;

/// What the customer asks for.
#[derive(Serialize)]
pub struct Request {
    pub order_id: i64,
    pub kind: &'static str,
    /// (order line id, quantity), in the order given.
    pub lines: Vec<(i64, i32)>,
    pub reason: String,
    pub description: Option<String>,
    pub images: Vec<String>,
}

/// What the buyer paid for each line (by line id): the goods paid
/// (`total − shipping`) spread over the line totals by
/// [`spread_half_up`], so the lines add up exactly to it.
pub fn refundable_by_line(
    order: &shop_order::Model,
    lines: &[order_line::Model],
) -> HashMap<i64, i64> {
    let goods = Ord::max(order.total_fen - order.shipping_fen, 0);
    let weights: Vec<i64> = lines.iter().map(|l| l.line_total_fen).collect();
    lines
        .iter()
        .map(|l| l.id)
        .zip(spread_half_up(goods, &weights))
        .collect()
}

/// What `quantity` units of a line refund, given what the line's earlier
/// (live or refunded) after-sales took: `refundable × quantity / bought`
/// rounded half-up, never more than what is left of the line; the request
/// that takes the line's last units takes exactly what is left, so the
/// after-sales of a line add up to what was paid for it.
pub fn line_amount(
    refundable: i64,
    bought: i32,
    taken_quantity: i32,
    taken_fen: i64,
    quantity: i32,
) -> i64 {
    let left = Ord::max(refundable - taken_fen, 0);
    if taken_quantity + quantity >= bought {
        left
    } else {
        Ord::min(
            prorate_half_up(refundable, i64::from(quantity), i64::from(bought)),
            left,
        )
    }
}

/// Splits `amount` between balance and WeChat in the order's proportion.
/// Rounded cumulatively: the balance part of everything asked so far
/// (`before_fen + amount`) is its half-up share of the order's balance part,
/// minus what earlier after-sales took, so the parts of every after-sale of
/// an order add up exactly to the order's balance and WeChat parts when all
/// is refunded. Bounded so neither part goes below 0 or past what is left.
pub fn split(
    order: &shop_order::Model,
    before_fen: i64,
    before_balance_fen: i64,
    amount: i64,
) -> (i64, i64) {
    let upto = prorate_half_up(before_fen + amount, order.balance_fen, order.total_fen);
    let balance_left = Ord::max(order.balance_fen - before_balance_fen, 0);
    let wechat_left = Ord::max(order.paid_fen - (before_fen - before_balance_fen), 0);
    let mut balance = (upto - before_balance_fen).clamp(0, Ord::min(amount, balance_left));
    // What WeChat cannot take goes to the balance, as far as it has room.
    if amount - balance > wechat_left {
        balance = Ord::min(amount - wechat_left, balance_left);
    }
    (balance, amount - balance)
}

/// The checked request, or `BAD_USER_INPUT` naming the field.
pub fn check_text(
    reason: &str,
    description: Option<&str>,
    images: &[String],
) -> AppResult<(String, Option<String>, Vec<String>)> {
    let reason = validate::text(reason, "reason", 200)?;
    let description = validate::optional_text(description, "description", 500)?;
    if images.len() > MAX_IMAGES {
        return Err(AppError::bad_input("images", "at most 9 images"));
    }
    let images = images
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let field = format!("images[{i}]");
            let u = validate::url(u, &field)?;
            if !u.starts_with("https://") {
                return Err(AppError::bad_input(field, "must be an https URL"));
            }
            Ok(u)
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok((reason, description, images))
}

pub(super) async fn by_key(
    db: &impl ConnectionTrait,
    customer_id: i64,
    key: &str,
) -> AppResult<Option<after_sale::Model>> {
    Ok(after_sale::Entity::find()
        .filter(after_sale::Column::CustomerId.eq(customer_id))
        .filter(after_sale::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

pub(super) fn replay(existing: after_sale::Model, hash: &str) -> AppResult<after_sale::Model> {
    if existing.request_hash == hash {
        Ok(existing)
    } else {
        Err(AppError::Conflict(
            "this idempotencyKey was used for a different after-sale; use a new key".into(),
        ))
    }
}

/// The after-sales of `order_ids` that still hold their units (live or
/// refunded), with their lines.
async fn holding(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> AppResult<Vec<(after_sale::Model, Vec<after_sale_line::Model>)>> {
    let sales = after_sale::Entity::find()
        .filter(after_sale::Column::OrderId.is_in(order_ids.iter().copied()))
        .filter(after_sale::Column::Status.is_not_in(CLOSED))
        .all(db)
        .await?;
    let mut lines = after_sale_line::Entity::find()
        .filter(after_sale_line::Column::AfterSaleId.is_in(sales.iter().map(|a| a.id)))
        .all(db)
        .await?;
    Ok(sales
        .into_iter()
        .map(|a| {
            let (mine, rest) = lines.drain(..).partition(|l| l.after_sale_id == a.id);
            lines = rest;
            (a, mine)
        })
        .collect())
}

/// What an after-sale on some units refunds, priced in the transaction
/// that writes it (the order row locked).
pub(super) struct Priced {
    /// (order line id, quantity, fen) per line asked for.
    pub rows: Vec<(i64, i32, i64)>,
    pub amount: i64,
    pub shipping: i64,
    pub balance: i64,
    pub wechat: i64,
}

/// Whether anything of the order has shipped.
pub(super) async fn any_shipped(
    db: &impl ConnectionTrait,
    order: &shop_order::Model,
) -> AppResult<bool> {
    Ok(order.shipped_at.is_some()
        || fulfillment::Entity::find()
            .filter(fulfillment::Column::OrderId.eq(order.id))
            .filter(fulfillment::Column::ShippedAt.is_not_null())
            .count(db)
            .await?
            > 0)
}

/// Prices `asked` (order line id, quantity) against what the order's other
/// after-sales hold: `BAD_USER_INPUT` naming the line for one not of the
/// order, named twice, or asking for more than is left; every line's amount
/// by [`line_amount`]; shipping when this request completes every unit
/// before anything shipped; never more than is left of the order (a
/// goodwill refund may have taken part of it).
pub(super) async fn price(
    db: &impl ConnectionTrait,
    order: &shop_order::Model,
    asked: &[(i64, i32)],
    shipped: bool,
) -> AppResult<Priced> {
    let lines = lines_of(db, &[order.id]).await?;
    let refundable = refundable_by_line(order, &lines);
    let held = holding(db, &[order.id]).await?;
    // Per line: units and fen already held by other after-sales.
    let mut taken: HashMap<i64, (i32, i64)> = HashMap::new();
    let (mut before_fen, mut before_balance) = (0, 0);
    for (a, ls) in &held {
        before_fen += a.amount_fen;
        before_balance += a.balance_fen;
        for l in ls {
            let t = taken.entry(l.order_line_id).or_default();
            t.0 += l.quantity;
            t.1 += l.amount_fen;
        }
    }
    let mut seen = HashSet::new();
    let mut rows = Vec::new();
    for (i, (line_id, quantity)) in asked.iter().enumerate() {
        let Some(line) = lines.iter().find(|l| l.id == *line_id) else {
            return Err(AppError::bad_input(
                format!("lines[{i}].orderLineId"),
                "not a line of this order",
            ));
        };
        if !seen.insert(line.id) {
            return Err(AppError::bad_input(
                format!("lines[{i}].orderLineId"),
                "named twice",
            ));
        }
        let (tq, tf) = taken.get(&line.id).copied().unwrap_or_default();
        let left = line.quantity - tq;
        if left <= 0 {
            return Err(AppError::bad_input(
                format!("lines[{i}].quantity"),
                "every unit of this line is refunded or asked for already",
            ));
        }
        if !(1..=left).contains(quantity) {
            return Err(AppError::bad_input(
                format!("lines[{i}].quantity"),
                format!("must be 1-{left} (bought minus refunded or asked for)"),
            ));
        }
        let fen = line_amount(refundable[&line.id], line.quantity, tq, tf, *quantity);
        rows.push((line.id, *quantity, fen));
    }
    let goods: i64 = rows.iter().map(|r| r.2).sum();
    let all_covered = lines.iter().all(|l| {
        let t = taken.get(&l.id).map_or(0, |t| t.0);
        let now = rows.iter().find(|r| r.0 == l.id).map_or(0, |r| r.1);
        t + now >= l.quantity
    });
    let shipping = if all_covered && !shipped {
        order.shipping_fen
    } else {
        0
    };
    let amount = Ord::min(goods + shipping, Ord::max(order.total_fen - before_fen, 0));
    let shipping = Ord::min(shipping, amount);
    let (balance, wechat) = split(order, before_fen, before_balance, amount);
    Ok(Priced {
        rows,
        amount,
        shipping,
        balance,
        wechat,
    })
}

/// What is left of the order to refund: paid minus what every after-sale
/// that holds its units (live or refunded) takes.
pub(super) async fn left_of_order(
    db: &impl ConnectionTrait,
    order: &shop_order::Model,
) -> AppResult<i64> {
    let held = holding(db, &[order.id]).await?;
    Ok(Ord::max(
        order.total_fen - held.iter().map(|(a, _)| a.amount_fen).sum::<i64>(),
        0,
    ))
}

/// Whether some after-sale of the order holds units (live or refunded).
pub async fn holds_units(db: &impl ConnectionTrait, order_id: i64) -> AppResult<bool> {
    Ok(after_sale::Entity::find()
        .filter(after_sale::Column::OrderId.eq(order_id))
        .filter(after_sale::Column::Status.is_not_in(CLOSED))
        .count(db)
        .await?
        > 0)
}

/// The suppliers that shipped (or are to ship) the given order lines; `None`
/// for the store's own.
pub(super) async fn suppliers_of(
    db: &impl ConnectionTrait,
    order_id: i64,
    line_ids: &[i64],
) -> AppResult<HashSet<Option<i64>>> {
    Ok(lines_of(db, &[order_id])
        .await?
        .into_iter()
        .filter(|l| line_ids.contains(&l.id))
        .map(|l| l.supplier_id)
        .collect())
}

/// Writes an after-sale and its lines in `txn`; on a unique-key clash (the
/// same key written meanwhile by a concurrent call) the caller replays.
#[allow(clippy::too_many_arguments)]
pub(super) async fn insert(
    txn: &sea_orm::DatabaseTransaction,
    order: &shop_order::Model,
    req: &Request,
    priced: &Priced,
    status: &str,
    by_admin: bool,
    key: &str,
    hash: &str,
) -> Result<after_sale::Model, sea_orm::DbErr> {
    let now = Utc::now();
    let a = after_sale::ActiveModel {
        order_id: Set(order.id),
        customer_id: Set(order.customer_id),
        kind: Set(req.kind.into()),
        status: Set(status.into()),
        reason: Set(req.reason.clone()),
        description: Set(req.description.clone()),
        images: Set(serde_json::to_string(&req.images).unwrap_or_else(|_| "[]".into())),
        amount_fen: Set(priced.amount),
        balance_fen: Set(priced.balance),
        wechat_fen: Set(priced.wechat),
        shipping_fen: Set(priced.shipping),
        by_admin: Set(by_admin),
        idempotency_key: Set(key.into()),
        request_hash: Set(hash.into()),
        decided_at: Set(by_admin.then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    for (line_id, quantity, fen) in &priced.rows {
        after_sale_line::ActiveModel {
            after_sale_id: Set(a.id),
            order_line_id: Set(*line_id),
            quantity: Set(*quantity),
            amount_fen: Set(*fen),
            ..Default::default()
        }
        .insert(txn)
        .await?;
    }
    Ok(a)
}

/// The customer asks for an after-sale on its own goods order.
pub async fn request(
    state: &AppState,
    customer_id: i64,
    req: Request,
    key: &str,
) -> AppResult<after_sale::Model> {
    check_key(key)?;
    let hash = request_hash(&req);
    if let Some(existing) = by_key(&state.db, customer_id, key).await? {
        return replay(existing, &hash);
    }
    let order = own(state, customer_id, req.order_id).await?;
    if order.kind != KIND_GOODS {
        return Err(AppError::bad_input(
            "orderId",
            "after-sales are for goods orders",
        ));
    }
    let from = Status::parse(&order.status)?;
    match from {
        Status::Paid | Status::Shipped => {}
        Status::Completed => super::refund::check_after_sales_window(
            &order,
            state.settings.after_sales_days,
            Utc::now(),
        )?,
        _ => {
            return Err(AppError::Conflict(format!(
                "an order that is {} takes no after-sale",
                order.status
            )));
        }
    }
    if req.lines.is_empty() {
        return Err(AppError::bad_input("lines", "name at least one line"));
    }
    let txn = state.db.begin().await?;
    // Touching the order in its status serializes concurrent requests on it
    // (a row lock on PostgreSQL, the write lock on SQLite) and checks that it
    // did not move meanwhile.
    let touched = shop_order::Entity::update_many()
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(shop_order::Column::Id.eq(order.id))
        .filter(shop_order::Column::Status.eq(order.status.clone()))
        .exec(&txn)
        .await?;
    if touched.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the order changed meanwhile; look at it again".into(),
        ));
    }
    let shipped = any_shipped(&txn, &order).await?;
    if req.kind == RETURN_AND_REFUND {
        if !shipped {
            return Err(AppError::bad_input(
                "kind",
                "nothing has shipped yet: ask for REFUND_ONLY",
            ));
        }
        let ids: Vec<i64> = req.lines.iter().map(|l| l.0).collect();
        if suppliers_of(&txn, order.id, &ids).await?.len() > 1 {
            return Err(AppError::bad_input(
                "lines",
                "these lines go back to different places (their suppliers): ask for one return per supplier",
            ));
        }
    }
    let priced = price(&txn, &order, &req.lines, shipped).await?;
    let inserted = insert(&txn, &order, &req, &priced, REQUESTED, false, key, &hash).await;
    let a = match inserted {
        Ok(a) => a,
        Err(e) => {
            drop(txn);
            return match by_key(&state.db, customer_id, key).await? {
                Some(existing) => replay(existing, &hash),
                None => Err(e.into()),
            };
        }
    };
    txn.commit().await?;
    Ok(a)
}

/// The customer withdraws its request before it is decided.
pub async fn cancel(state: &AppState, customer_id: i64, id: i64) -> AppResult<after_sale::Model> {
    let a = after_sale::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|a| a.customer_id == customer_id)
        .ok_or_else(|| AppError::NotFound(format!("after-sale {id} not found")))?;
    let done = after_sale::Entity::update_many()
        .col_expr(after_sale::Column::Status, Expr::value(CANCELLED))
        .col_expr(after_sale::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(after_sale::Column::Id.eq(id))
        .filter(after_sale::Column::Status.eq(REQUESTED))
        .exec(&state.db)
        .await?;
    if done.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "the after-sale is {}; only a REQUESTED one can be cancelled",
            a.status
        )));
    }
    Ok(after_sale::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .unwrap_or(a))
}

/// Filters of the after-sale lists.
#[derive(Default, Clone)]
pub struct Filter {
    pub customer_id: Option<i64>,
    /// Only those with a line this supplier ships.
    pub supplier_id: Option<i64>,
    pub status: Option<&'static str>,
    pub order_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

fn condition(f: &Filter) -> Condition {
    use after_sale::Column as C;
    let mut c = Condition::all();
    if let Some(id) = f.customer_id {
        c = c.add(C::CustomerId.eq(id));
    }
    if let Some(s) = f.supplier_id {
        c = c.add(
            C::Id.in_subquery(
                Query::select()
                    .column((
                        after_sale_line::Entity,
                        after_sale_line::Column::AfterSaleId,
                    ))
                    .from(after_sale_line::Entity)
                    .inner_join(
                        order_line::Entity,
                        Expr::col((order_line::Entity, order_line::Column::Id)).equals((
                            after_sale_line::Entity,
                            after_sale_line::Column::OrderLineId,
                        )),
                    )
                    .and_where(
                        Expr::col((order_line::Entity, order_line::Column::SupplierId)).eq(s),
                    )
                    .to_owned(),
            ),
        );
    }
    if let Some(s) = f.status {
        c = c.add(C::Status.eq(s));
    }
    if let Some(o) = f.order_id {
        c = c.add(C::OrderId.eq(o));
    }
    if let Some(t) = f.from {
        c = c.add(C::CreatedAt.gte(t));
    }
    if let Some(t) = f.to {
        c = c.add(C::CreatedAt.lt(t));
    }
    c
}

/// A page of after-sales, newest first.
pub async fn list(
    state: &AppState,
    filter: &Filter,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<after_sale::Model>, bool)> {
    let q = after_sale::Entity::find().filter(condition(filter));
    Ok(crate::db::page_desc(&state.db, q, after_sale::Column::Id, first, after_id).await?)
}

/// How many after-sales match `filter` (all pages), counted when asked.
pub fn total(filter: &Filter) -> TotalCount {
    TotalCount::of(after_sale::Entity::find().filter(condition(filter)))
}

/// An order's after-sales, oldest first.
pub async fn of_order(state: &AppState, order_id: i64) -> AppResult<Vec<after_sale::Model>> {
    Ok(after_sale::Entity::find()
        .filter(after_sale::Column::OrderId.eq(order_id))
        .order_by_asc(after_sale::Column::Id)
        .all(&state.db)
        .await?)
}

pub async fn lines(state: &AppState, after_sale_id: i64) -> AppResult<Vec<after_sale_line::Model>> {
    Ok(after_sale_line::Entity::find()
        .filter(after_sale_line::Column::AfterSaleId.eq(after_sale_id))
        .order_by_asc(after_sale_line::Column::Id)
        .all(&state.db)
        .await?)
}

/// The refund that carries an after-sale's money, once approved.
pub async fn refund_of(
    state: &AppState,
    after_sale_id: i64,
) -> AppResult<Option<entity::refund::Model>> {
    Ok(entity::refund::Entity::find()
        .filter(entity::refund::Column::AfterSaleId.eq(after_sale_id))
        .one(&state.db)
        .await?)
}

/// An after-sale by id.
pub async fn find(state: &AppState, id: i64) -> AppResult<Option<after_sale::Model>> {
    Ok(after_sale::Entity::find_by_id(id).one(&state.db).await?)
}

/// Units of a line refunded: those of its after-sales whose money moved
/// (sent, or on its way), or all of them once the whole order was refunded.
pub async fn refunded_quantity(state: &AppState, line: &order_line::Model) -> AppResult<i32> {
    let order = super::query::find(state, line.order_id).await?;
    if order.is_some_and(|o| o.status == "REFUNDED") {
        return Ok(line.quantity);
    }
    let rows = after_sale_line::Entity::find()
        .filter(after_sale_line::Column::OrderLineId.eq(line.id))
        .filter(
            after_sale_line::Column::AfterSaleId.in_subquery(
                Query::select()
                    .column(after_sale::Column::Id)
                    .from(after_sale::Entity)
                    .and_where(Expr::col(after_sale::Column::Status).is_in(MONEY_MOVED))
                    .to_owned(),
            ),
        )
        .all(&state.db)
        .await?;
    Ok(Ord::min(
        rows.iter().map(|r| r.quantity).sum::<i32>(),
        line.quantity,
    ))
}

/// The after-sale whose money a refund carries follows the refund's status
/// (`REFUNDING` while it is sent or processed, `REFUNDED` with its date,
/// `FAILED` until the store retries or settles it). Called wherever a
/// refund's status moves; a whole-order refund has no after-sale.
pub async fn follow_refund(db: &impl ConnectionTrait, refund_id: i64) -> AppResult<()> {
    let Some(r) = entity::refund::Entity::find_by_id(refund_id)
        .one(db)
        .await?
    else {
        return Ok(());
    };
    let Some(id) = r.after_sale_id else {
        return Ok(());
    };
    let to = settle::status_for_refund(&r.status);
    let now = Utc::now();
    let mut q = after_sale::Entity::update_many()
        .col_expr(after_sale::Column::Status, Expr::value(to))
        .col_expr(after_sale::Column::UpdatedAt, Expr::value(now));
    if to == REFUNDED {
        q = q.col_expr(after_sale::Column::RefundedAt, Expr::value(now));
    }
    q.filter(after_sale::Column::Id.eq(id))
        .filter(after_sale::Column::Status.is_in(MONEY_MOVED))
        .filter(after_sale::Column::Status.ne(to))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::line_amount;

    #[test]
    fn the_last_units_take_the_remainder() {
        // 3 units paid 1000 together: 333, 333, then the rest (334).
        assert_eq!(line_amount(1000, 3, 0, 0, 1), 333);
        assert_eq!(line_amount(1000, 3, 1, 333, 1), 333);
        assert_eq!(line_amount(1000, 3, 2, 666, 1), 334);
        // Two units at once, then the last.
        assert_eq!(line_amount(1000, 3, 0, 0, 2), 667);
        assert_eq!(line_amount(1000, 3, 2, 667, 1), 333);
        // Rounding up never takes more than is left: 2 fen over 4 units.
        assert_eq!(line_amount(2, 4, 0, 0, 1), 1);
        assert_eq!(line_amount(2, 4, 1, 1, 1), 1);
        assert_eq!(line_amount(2, 4, 2, 2, 1), 0);
        assert_eq!(line_amount(2, 4, 3, 2, 1), 0);
        // The whole line at once.
        assert_eq!(line_amount(999, 2, 0, 0, 2), 999);
    }
}
