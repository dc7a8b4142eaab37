//! What one customer may hold unpaid, and how fast they may place orders.
//!
//! An unpaid order holds its stock until it is paid or times out, so without
//! a bound one account could hold a SKU's whole stock and place again every
//! time its orders time out (库存占用, stock hoarding). Three settings bound
//! that, each 0 to turn it off:
//!
//! - `MAX_UNPAID_ORDERS_PER_CUSTOMER`: orders of any kind awaiting payment;
//! - `MAX_UNPAID_UNITS_PER_SKU`: units of one SKU in a customer's unpaid
//!   orders, this order included;
//! - `ORDER_RATE_LIMIT_PER_MIN`: order placements (goods and plans, replays
//!   included) per customer per minute, counted in the shared cache.
//!
//! The caps are read before the order is written, not under a lock: calls
//! that one customer makes at the same moment may pass together, so a cap can
//! be exceeded by at most the calls in flight, which the rate limit bounds.
//! A retried call whose order already exists is never refused by a cap (see
//! `place::or_replay`).
use entity::shop_order;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::{place::ItemRequest, state::Status};
use crate::{
    cache::keys,
    error::{AppError, AppResult},
    state::AppState,
};

/// Counts one placement by `customer_id` against `ORDER_RATE_LIMIT_PER_MIN`.
pub async fn count_placement(state: &AppState, customer_id: i64) -> AppResult<()> {
    crate::rate_limit::check(
        &state.cache,
        &keys::order_placements(customer_id),
        state.settings.order_rate_limit_per_min,
        "too many orders placed in the last minute; wait a minute and try again",
    )
    .await
}

/// Refuses with `CONFLICT`, saying which cap and what to do, when placing
/// `items` would take `customer_id` past a cap on unpaid orders or units.
pub async fn check_unpaid(
    state: &AppState,
    customer_id: i64,
    items: &[ItemRequest],
) -> AppResult<()> {
    let max_orders = state.settings.max_unpaid_orders_per_customer;
    let max_units = state.settings.max_unpaid_units_per_sku;
    if max_orders == 0 && max_units == 0 {
        return Ok(());
    }
    if max_units > 0 {
        // One order asking for more than the cap is refused without a read.
        if let Some(i) = items.iter().find(|i| i.quantity as u32 > max_units) {
            return Err(units_refusal(i.sku_id, max_units));
        }
    }
    let unpaid = shop_order::Entity::find()
        .filter(shop_order::Column::CustomerId.eq(customer_id))
        .filter(shop_order::Column::Status.eq(Status::PendingPayment.as_str()))
        .count(&state.db)
        .await?;
    if unpaid == 0 {
        return Ok(());
    }
    if max_orders > 0 && unpaid >= u64::from(max_orders) {
        return Err(AppError::Conflict(format!(
            "you have {unpaid} unpaid orders, the most one customer may hold; pay or cancel one first"
        )));
    }
    if max_units == 0 || items.is_empty() {
        return Ok(());
    }
    let sku_ids: Vec<i64> = items.iter().map(|i| i.sku_id).collect();
    let held = super::query::units_held(&state.db, &sku_ids, Some(customer_id)).await?;
    for i in items {
        let total = held.get(&i.sku_id).copied().unwrap_or(0) + i64::from(i.quantity);
        if total > i64::from(max_units) {
            return Err(units_refusal(i.sku_id, max_units));
        }
    }
    Ok(())
}

fn units_refusal(sku_id: i64, max_units: u32) -> AppError {
    AppError::Conflict(format!(
        "at most {max_units} units of SKU {sku_id} may wait in unpaid orders; pay or cancel an order that holds it first"
    ))
}
