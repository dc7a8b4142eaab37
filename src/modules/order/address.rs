//! Shipping addresses. A customer's first address is the default; saving
//! one as default unsets the others in the same transaction.
use chrono::Utc;
use entity::address;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, TransactionTrait, sea_query::Expr,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::{AppError, AppResult},
    state::AppState,
};

/// An address as given, and as snapshotted on an order.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct AddressData {
    pub name: String,
    pub phone: String,
    pub province: String,
    pub city: String,
    pub district: String,
    pub detail: String,
}

impl From<&address::Model> for AddressData {
    fn from(a: &address::Model) -> Self {
        AddressData {
            name: a.name.clone(),
            phone: a.phone.clone(),
            province: a.province.clone(),
            city: a.city.clone(),
            district: a.district.clone(),
            detail: a.detail.clone(),
        }
    }
}

fn field(value: &str, name: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max {
        return Err(AppError::bad_input(
            name,
            format!("must be 1-{max} characters"),
        ));
    }
    Ok(v.to_string())
}

/// A mainland China mobile number: 11 digits starting with 1[3-9].
pub fn valid_mobile(phone: &str) -> bool {
    let b = phone.as_bytes();
    b.len() == 11
        && b[0] == b'1'
        && (b'3'..=b'9').contains(&b[1])
        && b.iter().all(u8::is_ascii_digit)
}

fn check(data: &AddressData) -> AppResult<AddressData> {
    let phone: String = data
        .phone
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    let phone = phone.strip_prefix("+86").unwrap_or(&phone).to_string();
    if !valid_mobile(&phone) {
        return Err(AppError::bad_input(
            "phone",
            "must be a mainland China mobile number (11 digits, 1[3-9]…)",
        ));
    }
    Ok(AddressData {
        name: field(&data.name, "name", 32)?,
        phone,
        province: field(&data.province, "province", 32)?,
        city: field(&data.city, "city", 32)?,
        district: field(&data.district, "district", 32)?,
        detail: field(&data.detail, "detail", 200)?,
    })
}

pub async fn save_address(
    state: &AppState,
    customer_id: i64,
    data: AddressData,
    is_default: Option<bool>,
) -> AppResult<address::Model> {
    let data = check(&data)?;
    let txn = state.db.begin().await?;
    let count = address::Entity::find()
        .filter(address::Column::CustomerId.eq(customer_id))
        .all(&txn)
        .await?
        .len();
    if count >= 20 {
        return Err(AppError::bad_input(
            "input",
            "at most 20 addresses; remove one first",
        ));
    }
    let make_default = is_default.unwrap_or(false) || count == 0;
    if make_default {
        address::Entity::update_many()
            .col_expr(address::Column::IsDefault, Expr::value(false))
            .filter(address::Column::CustomerId.eq(customer_id))
            .exec(&txn)
            .await?;
    }
    let saved = address::ActiveModel {
        customer_id: Set(customer_id),
        name: Set(data.name),
        phone: Set(data.phone),
        province: Set(data.province),
        city: Set(data.city),
        district: Set(data.district),
        detail: Set(data.detail),
        is_default: Set(make_default),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(saved)
}

/// The default address first, then newest.
pub async fn my_addresses(state: &AppState, customer_id: i64) -> AppResult<Vec<address::Model>> {
    addresses_of(&state.db, &[customer_id]).await
}

/// The address to ship to: the one given (it must be the customer's), else
/// the default (or, without one, the newest). Read on `db` so that checkout
/// can read it inside its transaction.
pub async fn shipping_address(
    db: &impl ConnectionTrait,
    customer_id: i64,
    id: Option<i64>,
) -> AppResult<address::Model> {
    let mine = addresses_of(db, &[customer_id]).await?;
    pick(&mine, customer_id, id).cloned()
}

/// Every address of these customers, each customer's default first, then newest.
pub async fn addresses_of(
    db: &impl ConnectionTrait,
    customer_ids: &[i64],
) -> AppResult<Vec<address::Model>> {
    Ok(address::Entity::find()
        .filter(address::Column::CustomerId.is_in(customer_ids.iter().copied()))
        .order_by_desc(address::Column::IsDefault)
        .order_by_desc(address::Column::Id)
        .all(db)
        .await?)
}

/// [`shipping_address`] among addresses read by [`addresses_of`].
pub fn pick(
    addresses: &[address::Model],
    customer_id: i64,
    id: Option<i64>,
) -> AppResult<&address::Model> {
    let mut mine = addresses.iter().filter(|a| a.customer_id == customer_id);
    match id {
        Some(id) => mine
            .find(|a| a.id == id)
            .ok_or_else(|| AppError::NotFound(format!("address {id} is not one of yours"))),
        None => mine.next().ok_or_else(|| {
            AppError::bad_input("addressId", "add a shipping address first (saveAddress)")
        }),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn mobile_numbers() {
        assert!(super::valid_mobile("13800138000"));
        assert!(!super::valid_mobile("12800138000"));
        assert!(!super::valid_mobile("1380013800"));
        assert!(!super::valid_mobile("1380013800a"));
    }
}
