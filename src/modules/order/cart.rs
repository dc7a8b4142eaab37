//! The cart: SKUs and quantities (1..99). A SKU that went off shelf or sold
//! out stays in the cart, flagged unavailable, so the shopper sees why.
use chrono::Utc;
use entity::cart_item;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    sea_query::OnConflict,
};

use crate::{
    error::{AppError, AppResult},
    modules::catalogue::service as catalogue,
    state::AppState,
};

pub const MAX_QUANTITY: i32 = 99;
const MAX_ITEMS: usize = 100;

fn check_quantity(q: i32) -> AppResult<()> {
    if (1..=MAX_QUANTITY).contains(&q) {
        Ok(())
    } else {
        Err(AppError::bad_input(
            "quantity",
            format!("must be between 1 and {MAX_QUANTITY}"),
        ))
    }
}

pub async fn items(state: &AppState, customer_id: i64) -> AppResult<Vec<cart_item::Model>> {
    Ok(cart_item::Entity::find()
        .filter(cart_item::Column::CustomerId.eq(customer_id))
        .order_by_desc(cart_item::Column::UpdatedAt)
        .all(&state.db)
        .await?)
}

/// Adds `quantity` to the SKU's line (capped at 99).
pub async fn add(state: &AppState, customer_id: i64, sku_id: i64, quantity: i32) -> AppResult<()> {
    check_quantity(quantity)?;
    // An off-shelf product is hidden from shoppers (`product(id)` is null),
    // so the cart must not reveal its title, price and stock either.
    let sku = catalogue::skus_with_products(&state.db, &[sku_id])
        .await?
        .into_iter()
        .next()
        .filter(|(s, p)| !s.archived && p.status == catalogue::ON_SHELF);
    if sku.is_none() {
        return Err(AppError::NotFound(format!("SKU {sku_id} does not exist")));
    }
    let current = items(state, customer_id).await?;
    let existing = current
        .iter()
        .find(|i| i.sku_id == sku_id)
        .map(|i| i.quantity)
        .unwrap_or(0);
    if existing == 0 && current.len() >= MAX_ITEMS {
        return Err(AppError::bad_input(
            "skuId",
            format!("the cart holds at most {MAX_ITEMS} SKUs"),
        ));
    }
    set(
        state,
        customer_id,
        sku_id,
        (existing + quantity).min(MAX_QUANTITY),
    )
    .await
}

/// Sets the SKU's quantity; the SKU must be in the cart.
pub async fn update(
    state: &AppState,
    customer_id: i64,
    sku_id: i64,
    quantity: i32,
) -> AppResult<()> {
    check_quantity(quantity)?;
    if !items(state, customer_id)
        .await?
        .iter()
        .any(|i| i.sku_id == sku_id)
    {
        return Err(AppError::NotFound(format!(
            "SKU {sku_id} is not in your cart"
        )));
    }
    set(state, customer_id, sku_id, quantity).await
}

async fn set(state: &AppState, customer_id: i64, sku_id: i64, quantity: i32) -> AppResult<()> {
    cart_item::Entity::insert(cart_item::ActiveModel {
        customer_id: Set(customer_id),
        sku_id: Set(sku_id),
        quantity: Set(quantity),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::columns([cart_item::Column::CustomerId, cart_item::Column::SkuId])
            .update_columns([cart_item::Column::Quantity, cart_item::Column::UpdatedAt])
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(())
}

pub async fn remove(state: &AppState, customer_id: i64, sku_ids: &[i64]) -> AppResult<()> {
    remove_in(&state.db, customer_id, sku_ids).await
}

/// [`remove`] on `db`: placing an order empties those lines in its transaction.
pub async fn remove_in(
    db: &impl ConnectionTrait,
    customer_id: i64,
    sku_ids: &[i64],
) -> AppResult<()> {
    cart_item::Entity::delete_many()
        .filter(cart_item::Column::CustomerId.eq(customer_id))
        .filter(cart_item::Column::SkuId.is_in(sku_ids.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}
