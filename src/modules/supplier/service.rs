//! Supplier accounts and SKU links.
use chrono::Utc;
use entity::{sku, supplier, supplier_sku_link};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect, SqlErr,
    TransactionTrait, sea_query::OnConflict,
};

use crate::{
    config::AppEnv,
    crypto::{random_token, sha256_hex},
    error::{AppError, AppResult},
    modules::catalogue::{
        service::{self as catalogue, MAX_PRICE_FEN},
        stock,
    },
    state::AppState,
};

pub struct SupplierDraft {
    pub name: String,
    pub contact: Option<String>,
    pub webhook_url: Option<String>,
    pub return_address: Option<String>,
}

pub struct LinkDraft {
    pub supplier_id: i64,
    pub supplier_sku_code: String,
    pub cost_fen: i64,
    pub drop_ship: bool,
}

/// Creates a supplier; returns it with its API key, which is not stored and
/// cannot be shown again.
pub async fn create_supplier(
    state: &AppState,
    draft: SupplierDraft,
) -> AppResult<(supplier::Model, String)> {
    let Checked {
        name,
        contact,
        webhook_url,
        return_address,
    } = check(state, draft).await?;
    let api_key = new_api_key();
    let created = supplier::ActiveModel {
        name: Set(name),
        contact: Set(contact),
        webhook_url: Set(webhook_url),
        api_key_hash: Set(key_hash(&api_key)),
        webhook_secret: Set(random_token(32)),
        active: Set(true),
        created_at: Set(Utc::now()),
        return_address: Set(return_address),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    Ok((created, api_key))
}

/// A supplier's details as given, checked.
struct Checked {
    name: String,
    contact: Option<String>,
    webhook_url: Option<String>,
    return_address: Option<String>,
}

async fn check(state: &AppState, draft: SupplierDraft) -> AppResult<Checked> {
    let name = draft.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(AppError::bad_input("name", "must be 1-64 characters"));
    }
    let contact = draft
        .contact
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if contact.as_ref().is_some_and(|c| c.chars().count() > 128) {
        return Err(AppError::bad_input(
            "contact",
            "must be at most 128 characters",
        ));
    }
    Ok(Checked {
        name,
        contact,
        webhook_url: webhook_url(state, draft.webhook_url).await?,
        return_address: return_address(draft.return_address.as_deref())?,
    })
}

/// Sets a supplier's details as given, checked as `create_supplier` checks
/// them (an omitted contact, URL or return address is cleared). Deliveries
/// still pending go to a new webhook URL from their next attempt: the old
/// one is usually changed because it stopped answering. Its credentials
/// and active flag are not touched.
pub async fn update_supplier(
    state: &AppState,
    id: i64,
    draft: SupplierDraft,
) -> AppResult<supplier::Model> {
    let checked = check(state, draft).await?;
    let txn = state.db.begin().await?;
    let found = find_or_not_found(&txn, id).await?;
    let moved = checked
        .webhook_url
        .clone()
        .filter(|new| found.webhook_url.as_ref() != Some(new));
    let mut row: supplier::ActiveModel = found.into();
    row.name = Set(checked.name);
    row.contact = Set(checked.contact);
    row.webhook_url = Set(checked.webhook_url);
    row.return_address = Set(checked.return_address);
    let updated = row.update(&txn).await?;
    if let Some(url) = moved {
        super::webhook::redirect_pending(&txn, id, &url).await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Gives a supplier a new webhook signing secret; returns it (shown once
/// to the admin, who passes it on). Every attempt from now on, pending
/// deliveries' included, is signed with it.
pub async fn rotate_webhook_secret(state: &AppState, id: i64) -> AppResult<String> {
    let secret = random_token(32);
    let found = find_or_not_found(&state.db, id).await?;
    let mut row: supplier::ActiveModel = found.into();
    row.webhook_secret = Set(secret.clone());
    row.update(&state.db).await?;
    tracing::info!(supplier_id = id, "supplier webhook secret rotated");
    Ok(secret)
}

/// Removes a SKU's supplier link, if it has one: orders placed from now on
/// are self-operated (the store ships, no supplier cost). Orders already
/// placed keep the supplier and cost their lines took at placing. Returns
/// the SKU.
pub async fn unlink_sku(state: &AppState, sku_id: i64) -> AppResult<sku::Model> {
    let found = catalogue::skus_by_ids(&state.db, &[sku_id])
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| AppError::NotFound(format!("SKU {sku_id} does not exist")))?;
    supplier_sku_link::Entity::delete_many()
        .filter(supplier_sku_link::Column::SkuId.eq(sku_id))
        .exec(&state.db)
        .await?;
    Ok(found)
}

/// One page of a supplier's linked live SKUs, newest SKU first, with their
/// products and links; and whether more follow.
pub async fn linked_skus(
    state: &AppState,
    supplier_id: i64,
    first: u64,
    after_sku: Option<i64>,
) -> AppResult<(
    Vec<(sku::Model, entity::product::Model, supplier_sku_link::Model)>,
    bool,
)> {
    let q = supplier_sku_link::Entity::find()
        .filter(supplier_sku_link::Column::SupplierId.eq(supplier_id))
        .filter(supplier_sku_link::Column::SkuId.in_subquery(catalogue::live_sku_ids()));
    let (links, more) = crate::db::page_desc(
        &state.db,
        q,
        supplier_sku_link::Column::SkuId,
        first,
        after_sku,
    )
    .await?;
    let ids: Vec<i64> = links.iter().map(|l| l.sku_id).collect();
    let mut found: std::collections::HashMap<i64, (sku::Model, entity::product::Model)> =
        catalogue::skus_with_products(&state.db, &ids)
            .await?
            .into_iter()
            .map(|(s, p)| (s.id, (s, p)))
            .collect();
    let rows = links
        .into_iter()
        .filter_map(|l| found.remove(&l.sku_id).map(|(s, p)| (s, p, l)))
        .collect();
    Ok((rows, more))
}

/// A return address as given: trimmed, empty = none, at most 300 characters.
fn return_address(given: Option<&str>) -> AppResult<Option<String>> {
    crate::validate::optional_text(given, "returnAddress", 300)
}

/// Where buyers send back what a supplier shipped, if it said.
pub async fn return_address_of(
    db: &impl ConnectionTrait,
    supplier_id: i64,
) -> AppResult<Option<String>> {
    Ok(supplier::Entity::find_by_id(supplier_id)
        .one(db)
        .await?
        .and_then(|s| s.return_address))
}

/// Sets (or with none, clears) where buyers send back what a supplier
/// shipped.
pub async fn set_return_address(
    state: &AppState,
    supplier_id: i64,
    address: Option<&str>,
) -> AppResult<supplier::Model> {
    let address = return_address(address)?;
    let found = supplier::Entity::find_by_id(supplier_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("supplier {supplier_id} not found")))?;
    let mut row: supplier::ActiveModel = found.into();
    row.return_address = Set(address);
    Ok(row.update(&state.db).await?)
}

/// A webhook URL as given to `createSupplier` (and whatever changes a
/// supplier's URL): trimmed, empty = none. In production it must be https
/// and must not point inward (`outbound`); in development any http(s) URL
/// is kept, and the delivery-time check still applies.
pub async fn webhook_url(state: &AppState, url: Option<String>) -> AppResult<Option<String>> {
    let Some(url) = url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 1024 {
        return Err(AppError::bad_input("webhookUrl", "must be an http(s) URL"));
    }
    if state.settings.app_env == AppEnv::Production
        && let Err(refused) = state.webhook_http.vet(&url).await
    {
        return Err(AppError::bad_input("webhookUrl", refused.0));
    }
    Ok(Some(url))
}

fn new_api_key() -> String {
    format!("sk_{}", random_token(32))
}

/// The supplier an API key belongs to; the same error for any wrong key,
/// another for a disabled supplier.
pub async fn authenticate(state: &AppState, api_key: &str) -> AppResult<supplier::Model> {
    let wrong = || AppError::Unauthenticated("unknown API key".into());
    if api_key.len() > 128 {
        return Err(wrong());
    }
    let found = supplier::Entity::find()
        .filter(supplier::Column::ApiKeyHash.eq(key_hash(api_key)))
        .one(&state.db)
        .await?
        .ok_or_else(wrong)?;
    if !found.active {
        return Err(disabled());
    }
    Ok(found)
}

/// How an API key is stored and looked up.
fn key_hash(api_key: &str) -> String {
    sha256_hex(api_key.trim())
}

fn disabled() -> AppError {
    AppError::Unauthenticated("this supplier is disabled; ask the store to enable it".into())
}

/// The supplier as it stands once any change of its credentials in flight
/// has committed: on PostgreSQL a locking read, which waits for a
/// transaction that updated the row (SQLite has one connection, so nothing
/// is in flight). A sign-in checks it after writing its refresh token, so
/// that a concurrent disable or key rotation either is seen here or
/// revokes that token (see `app::login`).
pub async fn settled(db: &impl ConnectionTrait, id: i64) -> AppResult<Option<supplier::Model>> {
    let mut q = supplier::Entity::find_by_id(id);
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        q = sea_orm::QuerySelect::lock_exclusive(q);
    }
    Ok(q.one(db).await?)
}

/// Holds the rows of suppliers `ids` until `txn` ends (PostgreSQL; SQLite
/// runs one transaction at a time), in id order, so that work done per
/// supplier by concurrent transactions (netting its debts into a payment)
/// runs one after the other.
pub async fn lock(txn: &DatabaseTransaction, ids: &[i64]) -> AppResult<()> {
    if txn.get_database_backend() != sea_orm::DatabaseBackend::Postgres || ids.is_empty() {
        return Ok(());
    }
    supplier::Entity::find()
        .filter(supplier::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(supplier::Column::Id)
        .lock_exclusive()
        .all(txn)
        .await?;
    Ok(())
}

/// Gives a supplier a new API key (in the caller's transaction); the old
/// one stops working when it commits. Returns the supplier and the key,
/// which is not stored and cannot be shown again.
pub async fn rotate_key(
    db: &impl ConnectionTrait,
    id: i64,
) -> AppResult<(supplier::Model, String)> {
    let api_key = new_api_key();
    let found = find_or_not_found(db, id).await?;
    let mut row: supplier::ActiveModel = found.into();
    row.api_key_hash = Set(key_hash(&api_key));
    Ok((row.update(db).await?, api_key))
}

/// Enables or disables a supplier (in the caller's transaction). A
/// disabled supplier cannot sign in; ending its sessions is the caller's part.
pub async fn set_active(
    db: &impl ConnectionTrait,
    id: i64,
    active: bool,
) -> AppResult<supplier::Model> {
    let found = find_or_not_found(db, id).await?;
    let mut row: supplier::ActiveModel = found.into();
    // Written even when unchanged: the update takes the row lock that a
    // concurrent sign-in's `settled` read waits for.
    row.active = Set(active);
    Ok(row.update(db).await?)
}

async fn find_or_not_found(db: &impl ConnectionTrait, id: i64) -> AppResult<supplier::Model> {
    supplier::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("supplier {id} does not exist")))
}

pub async fn list(state: &AppState) -> AppResult<Vec<supplier::Model>> {
    Ok(supplier::Entity::find()
        .order_by_asc(supplier::Column::Id)
        .all(&state.db)
        .await?)
}

/// Links a SKU to a supplier (or moves the link): one supplier per SKU.
pub async fn link_sku(state: &AppState, sku_id: i64, draft: LinkDraft) -> AppResult<sku::Model> {
    let code = draft.supplier_sku_code.trim().to_string();
    if code.is_empty() || code.len() > 64 {
        return Err(AppError::bad_input(
            "supplierSkuCode",
            "must be 1-64 characters",
        ));
    }
    if !(0..=MAX_PRICE_FEN).contains(&draft.cost_fen) {
        return Err(AppError::bad_input(
            "costFen",
            format!("must be between 0 and {MAX_PRICE_FEN} fen"),
        ));
    }
    let found = catalogue::skus_by_ids(&state.db, &[sku_id])
        .await?
        .into_iter()
        .find(|s| !s.archived)
        .ok_or_else(|| AppError::NotFound(format!("SKU {sku_id} does not exist")))?;
    if supplier::Entity::find_by_id(draft.supplier_id)
        .one(&state.db)
        .await?
        .is_none()
    {
        return Err(AppError::NotFound(format!(
            "supplier {} does not exist",
            draft.supplier_id
        )));
    }
    let row = supplier_sku_link::ActiveModel {
        sku_id: Set(sku_id),
        supplier_id: Set(draft.supplier_id),
        supplier_sku_code: Set(code.clone()),
        cost_fen: Set(draft.cost_fen),
        drop_ship: Set(draft.drop_ship),
        updated_at: Set(Utc::now()),
    };
    let upsert = supplier_sku_link::Entity::insert(row)
        .on_conflict(
            OnConflict::column(supplier_sku_link::Column::SkuId)
                .update_columns([
                    supplier_sku_link::Column::SupplierId,
                    supplier_sku_link::Column::SupplierSkuCode,
                    supplier_sku_link::Column::CostFen,
                    supplier_sku_link::Column::DropShip,
                    supplier_sku_link::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&state.db)
        .await;
    match upsert {
        Ok(_) => Ok(found),
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(AppError::Conflict(format!(
                "supplier {} already uses code {code} for another SKU",
                draft.supplier_id
            )))
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn links_by_skus(
    db: &impl ConnectionTrait,
    sku_ids: &[i64],
) -> AppResult<Vec<supplier_sku_link::Model>> {
    Ok(supplier_sku_link::Entity::find()
        .filter(supplier_sku_link::Column::SkuId.is_in(sku_ids.iter().copied()))
        .all(db)
        .await?)
}

pub async fn suppliers_by_ids(
    db: &DatabaseConnection,
    ids: &[i64],
) -> AppResult<Vec<supplier::Model>> {
    Ok(supplier::Entity::find()
        .filter(supplier::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// One SKU's stock from a supplier's system.
pub struct StockUpdate {
    pub supplier_sku_code: String,
    pub stock: i32,
    pub cost_fen: Option<i64>,
}

/// Checks a supplier's stock report; returns its SKU codes, trimmed.
pub fn check_stock_updates(items: &[StockUpdate]) -> AppResult<Vec<String>> {
    if items.is_empty() || items.len() > 500 {
        return Err(AppError::bad_input("items", "send 1 to 500 SKUs at a time"));
    }
    for (i, it) in items.iter().enumerate() {
        stock::check(it.stock, &format!("items[{i}].stock"))?;
        if let Some(c) = it.cost_fen
            && !(0..=MAX_PRICE_FEN).contains(&c)
        {
            return Err(AppError::bad_input(
                format!("items[{i}].costFen"),
                "out of range",
            ));
        }
    }
    Ok(items
        .iter()
        .map(|i| i.supplier_sku_code.trim().to_string())
        .collect())
}

/// The supplier's links for these codes of its own, by code.
pub async fn links_by_codes(
    db: &impl ConnectionTrait,
    supplier_id: i64,
    codes: &[String],
) -> AppResult<std::collections::HashMap<String, supplier_sku_link::Model>> {
    Ok(supplier_sku_link::Entity::find()
        .filter(supplier_sku_link::Column::SupplierId.eq(supplier_id))
        .filter(supplier_sku_link::Column::SupplierSkuCode.is_in(codes.to_vec()))
        .all(db)
        .await?
        .into_iter()
        .map(|l| (l.supplier_sku_code.clone(), l))
        .collect())
}

/// Records what a linked SKU now costs the store.
pub async fn set_cost(db: &impl ConnectionTrait, sku_id: i64, cost_fen: i64) -> AppResult<()> {
    supplier_sku_link::Entity::update_many()
        .col_expr(
            supplier_sku_link::Column::CostFen,
            sea_orm::sea_query::Expr::value(cost_fen),
        )
        .col_expr(
            supplier_sku_link::Column::UpdatedAt,
            sea_orm::sea_query::Expr::value(Utc::now()),
        )
        .filter(supplier_sku_link::Column::SkuId.eq(sku_id))
        .exec(db)
        .await?;
    Ok(())
}
