//! Shipping addresses. A customer with addresses always has exactly one
//! default: the first address is it, making another the default unsets the
//! others in the same transaction, and deleting the default (or unsetting
//! it) hands it to the newest other address.
use chrono::Utc;
use entity::address;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseBackend,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Statement, TransactionTrait,
    TryIntoModel, sea_query::Expr,
};
use serde::{Deserialize, Serialize};

use crate::{
    error::{AppError, AppResult},
    modules::shipping::service as shipping,
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

impl AddressData {
    /// The address with the recipient hidden (张**, 138****8000, street
    /// withheld), region kept: what a supplier sees once its part of the
    /// order is long shipped.
    pub fn masked(&self) -> AddressData {
        let mut name = self.name.chars();
        let first: String = name.next().into_iter().collect();
        let phone: Vec<char> = self.phone.chars().collect();
        let phone = if phone.len() >= 7 {
            let head: String = phone[..3].iter().collect();
            let tail: String = phone[phone.len() - 4..].iter().collect();
            format!("{head}****{tail}")
        } else {
            "****".to_string()
        };
        AddressData {
            name: format!("{first}{}", "*".repeat(name.count().max(1))),
            phone,
            province: self.province.clone(),
            city: self.city.clone(),
            district: self.district.clone(),
            detail: "****".to_string(),
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

/// Saves a new address (`id: None`) or changes one of the customer's own.
/// The first address is the default; making one the default unsets the
/// others. A customer's address changes take turns (PostgreSQL: a
/// transaction-scoped advisory lock; SQLite has one writer), so two first
/// addresses saved at once never both end up the default.
pub async fn save_address(
    state: &AppState,
    customer_id: i64,
    id: Option<i64>,
    data: AddressData,
    is_default: Option<bool>,
) -> AppResult<address::Model> {
    let data = check(&data)?;
    let txn = state.db.begin().await?;
    take_turn(&txn, customer_id).await?;
    let mine = addresses_of(&txn, &[customer_id]).await?;
    let existing = match id {
        Some(id) => Some(pick(&mine, customer_id, Some(id))?.clone()),
        None if mine.len() >= MAX_ADDRESSES => {
            return Err(AppError::bad_input(
                "input",
                format!("at most {MAX_ADDRESSES} addresses; delete one first (deleteAddress)"),
            ));
        }
        None => None,
    };
    let was_default = existing.as_ref().is_some_and(|a| a.is_default);
    // The only address stays the default whatever is asked: checkout needs one.
    let make_default = match (&existing, is_default) {
        (_, Some(true)) => true,
        (None, _) => mine.is_empty(),
        (Some(_), None) => was_default,
        (Some(_), Some(false)) => was_default && mine.len() == 1,
    };
    if make_default {
        address::Entity::update_many()
            .col_expr(address::Column::IsDefault, Expr::value(false))
            .filter(address::Column::CustomerId.eq(customer_id))
            .exec(&txn)
            .await?;
    }
    let mut row = match existing {
        Some(a) => a.into(),
        None => address::ActiveModel {
            customer_id: Set(customer_id),
            created_at: Set(Utc::now()),
            ..Default::default()
        },
    };
    row.name = Set(data.name);
    row.phone = Set(data.phone);
    // The names stay as typed; the codes are what shipping templates match.
    let (province_code, city_code) = shipping::codes_of(&data.province, &data.city);
    row.province_code = Set(province_code);
    row.city_code = Set(city_code);
    row.province = Set(data.province);
    row.city = Set(data.city);
    row.district = Set(data.district);
    row.detail = Set(data.detail);
    row.is_default = Set(make_default);
    let saved = row.save(&txn).await?.try_into_model()?;
    if was_default && !make_default {
        promote_newest(&txn, customer_id, Some(saved.id)).await?;
    }
    txn.commit().await?;
    Ok(saved)
}

/// Deletes one of the customer's addresses; when it was the default, the
/// newest remaining one becomes the default. Orders keep their own copy of
/// the address they ship to.
pub async fn delete_address(state: &AppState, customer_id: i64, id: i64) -> AppResult<()> {
    let txn = state.db.begin().await?;
    take_turn(&txn, customer_id).await?;
    let mine = addresses_of(&txn, &[customer_id]).await?;
    let gone = pick(&mine, customer_id, Some(id))?;
    address::Entity::delete_by_id(gone.id).exec(&txn).await?;
    if gone.is_default {
        promote_newest(&txn, customer_id, None).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// The most addresses one customer keeps.
const MAX_ADDRESSES: usize = 20;

async fn take_turn(txn: &DatabaseTransaction, customer_id: i64) -> AppResult<()> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        // Key space 1: a customer's addresses (two customers sharing a key
        // only wait for each other).
        txn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_advisory_xact_lock(1, ($1 % 2147483647)::int4)",
            [customer_id.into()],
        ))
        .await?;
    }
    Ok(())
}

/// Makes the customer's newest address (other than `except`) the default.
async fn promote_newest(
    txn: &DatabaseTransaction,
    customer_id: i64,
    except: Option<i64>,
) -> AppResult<()> {
    let mut q = address::Entity::find().filter(address::Column::CustomerId.eq(customer_id));
    if let Some(e) = except {
        q = q.filter(address::Column::Id.ne(e));
    }
    if let Some(newest) = q.order_by_desc(address::Column::Id).one(txn).await? {
        address::Entity::update_many()
            .col_expr(address::Column::IsDefault, Expr::value(true))
            .filter(address::Column::Id.eq(newest.id))
            .exec(txn)
            .await?;
    }
    Ok(())
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
    use super::*;

    #[test]
    fn masking_keeps_the_region_and_hides_the_person() {
        let a = AddressData {
            name: "张三丰".into(),
            phone: "13800138000".into(),
            province: "浙江省".into(),
            city: "杭州市".into(),
            district: "西湖区".into(),
            detail: "文三路 1 号".into(),
        };
        let m = a.masked();
        assert_eq!(m.name, "张**");
        assert_eq!(m.phone, "138****8000");
        assert_eq!(m.detail, "****");
        assert_eq!(
            (m.province, m.city, m.district),
            (a.province, a.city, a.district)
        );
    }

    #[test]
    fn mobile_numbers() {
        assert!(super::valid_mobile("13800138000"));
        assert!(!super::valid_mobile("12800138000"));
        assert!(!super::valid_mobile("1380013800"));
        assert!(!super::valid_mobile("1380013800a"));
    }
}
