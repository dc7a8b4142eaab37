//! Reading orders: by id, number or owner, their lines, the units unpaid
//! orders hold, the filtered lists, and the sales figures reports read.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{fulfillment, order_line, payment, refund, shop_order};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, QueryFilter, QueryOrder,
    QuerySelect,
    sea_query::{Expr, Query},
};

use super::place::KIND_GOODS;
use super::place::KIND_MEMBERSHIP;
use super::state::Status;
use crate::api::pagination::TotalCount;
use crate::{
    error::{AppError, AppResult},
    state::AppState,
};
pub async fn find(state: &AppState, id: i64) -> AppResult<Option<shop_order::Model>> {
    Ok(shop_order::Entity::find_by_id(id).one(&state.db).await?)
}

pub async fn find_by_no(
    db: &impl ConnectionTrait,
    order_no: &str,
) -> AppResult<Option<shop_order::Model>> {
    Ok(shop_order::Entity::find()
        .filter(shop_order::Column::OrderNo.eq(order_no))
        .one(db)
        .await?)
}

/// The numbers of these orders, by id.
pub async fn order_numbers(state: &AppState, ids: &[i64]) -> AppResult<HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, String)> = shop_order::Entity::find()
        .select_only()
        .column(shop_order::Column::Id)
        .column(shop_order::Column::OrderNo)
        .filter(shop_order::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(rows.into_iter().collect())
}

/// The customer's own order, or `NOT_FOUND` (never someone else's).
pub async fn own(state: &AppState, customer_id: i64, id: i64) -> AppResult<shop_order::Model> {
    own_in(&state.db, customer_id, id).await
}

/// [`own`] on `db` (a transaction that goes on to change the order).
pub async fn own_in(
    db: &impl ConnectionTrait,
    customer_id: i64,
    id: i64,
) -> AppResult<shop_order::Model> {
    shop_order::Entity::find_by_id(id)
        .one(db)
        .await?
        .filter(|o| o.customer_id == customer_id)
        .ok_or_else(|| AppError::NotFound(format!("order {id} not found")))
}

pub async fn lines_of(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> AppResult<Vec<order_line::Model>> {
    Ok(order_line::Entity::find()
        .filter(order_line::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(order_line::Column::Id)
        .all(db)
        .await?)
}

/// Units of these SKUs that unpaid orders (of `customer_id`, or anyone's)
/// hold (taken from stock when the orders were placed, given back should
/// they be cancelled), by SKU.
pub async fn units_held(
    conn: &impl ConnectionTrait,
    sku_ids: &[i64],
    customer_id: Option<i64>,
) -> AppResult<HashMap<i64, i64>> {
    if sku_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<(i64, Option<i64>)> = order_line::Entity::find()
        .select_only()
        .column(order_line::Column::SkuId)
        .column_as(
            Expr::col((order_line::Entity, order_line::Column::Quantity)).sum(),
            "held",
        )
        // From the unpaid orders (few; a partial index holds exactly them)
        // to their lines, not through every line ever sold of these SKUs.
        .filter(
            order_line::Column::OrderId.in_subquery(
                Query::select()
                    .column(shop_order::Column::Id)
                    .from(shop_order::Entity)
                    .and_where(shop_order::Column::Status.eq(Status::PendingPayment.as_str()))
                    .and_where_option(customer_id.map(|c| shop_order::Column::CustomerId.eq(c)))
                    .to_owned(),
            ),
        )
        .filter(order_line::Column::SkuId.is_in(sku_ids.iter().copied()))
        .group_by(order_line::Column::SkuId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(sku, held)| (sku, held.unwrap_or(0)))
        .collect())
}

/// Units of these SKUs taken from the store's stock that `supplier_id`'s
/// own count of what it can ship does not yet reflect, by SKU: those of
/// unpaid orders (which it never hears of) and those of paid orders whose
/// fulfillment by this supplier is still PENDING and not acknowledged
/// (the supplier may not have received it yet). One statement, so an order
/// paid meanwhile is counted once, as unpaid or as not yet acknowledged.
pub async fn units_unknown_to_supplier(
    conn: &impl ConnectionTrait,
    sku_ids: &[i64],
    supplier_id: i64,
) -> AppResult<HashMap<i64, i64>> {
    if sku_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let unpaid_orders = Query::select()
        .column(shop_order::Column::Id)
        .from(shop_order::Entity)
        .and_where(shop_order::Column::Status.eq(Status::PendingPayment.as_str()))
        .to_owned();
    let unacknowledged = |col: fulfillment::Column| {
        Query::select()
            .column(col)
            .from(fulfillment::Entity)
            .and_where(fulfillment::Column::SupplierId.eq(supplier_id))
            .and_where(fulfillment::Column::Status.eq(super::fulfillment::PENDING))
            .and_where(fulfillment::Column::AcknowledgedAt.is_null())
            .to_owned()
    };
    // Both sets are small and indexed (partial indexes hold exactly the
    // unpaid orders and the unacknowledged pending fulfillments): reach the
    // lines through their orders, not through every line of these SKUs;
    // then keep, of a paid order, only the lines of this supplier's part.
    let orders = order_line::Column::OrderId.in_subquery(
        unpaid_orders
            .clone()
            .union(
                sea_orm::sea_query::UnionType::Distinct,
                unacknowledged(fulfillment::Column::OrderId),
            )
            .to_owned(),
    );
    let lines = Condition::any()
        .add(order_line::Column::OrderId.in_subquery(unpaid_orders))
        .add(
            order_line::Column::FulfillmentId.in_subquery(unacknowledged(fulfillment::Column::Id)),
        );
    let rows: Vec<(i64, Option<i64>)> = order_line::Entity::find()
        .select_only()
        .column(order_line::Column::SkuId)
        .column_as(
            Expr::col((order_line::Entity, order_line::Column::Quantity)).sum(),
            "held",
        )
        .filter(orders)
        .filter(lines)
        .filter(order_line::Column::SkuId.is_in(sku_ids.iter().copied()))
        .group_by(order_line::Column::SkuId)
        .into_tuple()
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(sku, held)| (sku, held.unwrap_or(0)))
        .collect())
}

/// Filters of an order list.
#[derive(Default, Clone, Debug)]
pub struct OrderFilter {
    pub customer_id: Option<i64>,
    pub status: Option<Status>,
    pub supplier_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Orders newest first, a page after `after_id` (keyset on id).
pub async fn list(
    state: &AppState,
    filter: &OrderFilter,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<shop_order::Model>, bool)> {
    let q = shop_order::Entity::find().filter(condition(filter));
    Ok(crate::db::page_desc(&state.db, q, shop_order::Column::Id, first, after_id).await?)
}

/// How many orders match `filter` (all pages), counted when asked.
pub fn total(filter: &OrderFilter) -> TotalCount {
    TotalCount::of(shop_order::Entity::find().filter(condition(filter)))
}

fn condition(filter: &OrderFilter) -> Condition {
    let mut cond = Condition::all();
    if let Some(c) = filter.customer_id {
        cond = cond.add(shop_order::Column::CustomerId.eq(c));
    }
    if let Some(s) = filter.status {
        cond = cond.add(shop_order::Column::Status.eq(s.as_str()));
    }
    if let Some(from) = filter.from {
        cond = cond.add(shop_order::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        cond = cond.add(shop_order::Column::CreatedAt.lt(to));
    }
    if let Some(s) = filter.supplier_id {
        cond = cond.add(
            shop_order::Column::Id.in_subquery(
                Query::select()
                    .column(fulfillment::Column::OrderId)
                    .from(fulfillment::Entity)
                    .and_where(fulfillment::Column::SupplierId.eq(s))
                    .to_owned(),
            ),
        );
    }
    cond
}

/// The store's sales over a period, for `storeMetrics`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sales {
    /// Goods orders paid in the period (whatever happened to them later).
    pub gmv_fen: i64,
    pub paid_orders: i64,
    /// Customers who paid for goods in the period.
    pub buyers: i64,
    /// Of those, the ones who paid for two or more orders in the period.
    pub repeat_buyers: i64,
    /// Of those buyers, how many had reached their 2nd, 3rd and 5th paid
    /// (and not refunded) goods order by the end of the period.
    pub reached: [i64; 3],
    /// Memberships sold in the period (not refunded).
    pub membership_revenue_fen: i64,
    /// Refunds of goods orders approved in the period.
    pub refunded_fen: i64,
}

/// Orders that count as purchases: paid, not refunded.
pub(super) const COUNTED: [Status; 4] = [
    Status::Paid,
    Status::Shipped,
    Status::Completed,
    Status::Refunding,
];

pub async fn sales(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Sales> {
    use shop_order::Column as O;
    let in_period = || {
        Condition::all()
            .add(O::PaidAt.gte(from))
            .add(O::PaidAt.lt(to))
    };
    let per_buyer: Vec<(i64, i64, Option<i64>)> = shop_order::Entity::find()
        .select_only()
        .column(O::CustomerId)
        .column_as(Expr::col(O::Id).count(), "n")
        .column_as(crate::db::sum_bigint(O::TotalFen), "total")
        .filter(O::Kind.eq(KIND_GOODS))
        .filter(in_period())
        .group_by(O::CustomerId)
        .into_tuple()
        .all(db)
        .await?;
    let mut s = Sales {
        buyers: per_buyer.len() as i64,
        ..Default::default()
    };
    for (_, n, total) in &per_buyer {
        s.paid_orders += n;
        s.gmv_fen += total.unwrap_or(0);
        s.repeat_buyers += i64::from(*n >= 2);
    }
    let counted: Vec<&str> = COUNTED.iter().map(|st| st.as_str()).collect();
    let buyers: Vec<i64> = per_buyer.iter().map(|(c, _, _)| *c).collect();
    for chunk in buyers.chunks(1000) {
        let lifetime: Vec<(i64, i64)> = shop_order::Entity::find()
            .select_only()
            .column(O::CustomerId)
            .column_as(Expr::col(O::Id).count(), "n")
            .filter(O::Kind.eq(KIND_GOODS))
            .filter(O::Status.is_in(counted.clone()))
            .filter(O::PaidAt.lt(to))
            .filter(O::CustomerId.is_in(chunk.iter().copied()))
            .group_by(O::CustomerId)
            .into_tuple()
            .all(db)
            .await?;
        for (_, n) in lifetime {
            for (i, k) in [2, 3, 5].into_iter().enumerate() {
                s.reached[i] += i64::from(n >= k);
            }
        }
    }
    let membership: Option<Option<i64>> = shop_order::Entity::find()
        .select_only()
        .column_as(crate::db::sum_bigint(O::TotalFen), "s")
        .filter(O::Kind.eq(KIND_MEMBERSHIP))
        .filter(O::Status.is_in(counted))
        .filter(in_period())
        .into_tuple()
        .one(db)
        .await?;
    s.membership_revenue_fen = membership.flatten().unwrap_or(0);
    // Refunds of goods orders approved in the period: whole-order ones
    // (their order is REFUNDED) and after-sales (partial or not); a late
    // payment's refund was never a sale (neither).
    let refunded: Option<Option<i64>> = refund::Entity::find()
        .select_only()
        .column_as(crate::db::sum_bigint(refund::Column::AmountFen), "s")
        .filter(refund::Column::ApprovedAt.gte(from))
        .filter(refund::Column::ApprovedAt.lt(to))
        .filter(
            Condition::any()
                .add(refund::Column::AfterSaleId.is_not_null())
                .add(
                    refund::Column::OrderId.in_subquery(
                        Query::select()
                            .column(O::Id)
                            .from(shop_order::Entity)
                            .and_where(O::Kind.eq(KIND_GOODS))
                            .and_where(O::Status.eq(Status::Refunded.as_str()))
                            .to_owned(),
                    ),
                ),
        )
        .into_tuple()
        .one(db)
        .await?;
    s.refunded_fen = refunded.flatten().unwrap_or(0);
    Ok(s)
}

/// Filters of the admin's refund queue.
#[derive(Default, Clone, Debug)]
pub struct RefundFilter {
    /// Stored statuses to keep (one API status may span several); empty: all.
    pub statuses: Vec<&'static str>,
    pub order_id: Option<i64>,
    /// Asked for at or after.
    pub from: Option<DateTime<Utc>>,
    /// Asked for before.
    pub to: Option<DateTime<Utc>>,
}

fn refund_condition(filter: &RefundFilter) -> Condition {
    let mut cond = Condition::all();
    if !filter.statuses.is_empty() {
        cond = cond.add(refund::Column::Status.is_in(filter.statuses.iter().copied()));
    }
    if let Some(o) = filter.order_id {
        cond = cond.add(refund::Column::OrderId.eq(o));
    }
    if let Some(from) = filter.from {
        cond = cond.add(refund::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        cond = cond.add(refund::Column::CreatedAt.lt(to));
    }
    cond
}

/// Refunds newest first, a page after `after_id` (keyset on id): the queue
/// the admin approves and rejects from.
pub async fn refunds(
    state: &AppState,
    filter: &RefundFilter,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<refund::Model>, bool)> {
    let q = refund::Entity::find().filter(refund_condition(filter));
    Ok(crate::db::page_desc(&state.db, q, refund::Column::Id, first, after_id).await?)
}

/// WeChat Pay's confirmed payments of an order (a late one kept as
/// `REFUND_DUE`), oldest first.
pub async fn payments_of(
    db: &impl ConnectionTrait,
    order_id: i64,
) -> AppResult<Vec<payment::Model>> {
    Ok(payment::Entity::find()
        .filter(payment::Column::OrderId.eq(order_id))
        .order_by_asc(payment::Column::Id)
        .all(db)
        .await?)
}

/// How many refunds match `filter` (all pages), counted when asked.
pub fn total_refunds(filter: &RefundFilter) -> TotalCount {
    TotalCount::of(refund::Entity::find().filter(refund_condition(filter)))
}

/// The refunds of these orders, oldest first.
pub async fn refunds_of(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> AppResult<Vec<refund::Model>> {
    Ok(refund::Entity::find()
        .filter(refund::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(refund::Column::Id)
        .all(db)
        .await?)
}
