//! Catalogue rules: validation, writes in transactions, cache-aside reads.
use std::{
    collections::{HashMap, HashSet},
    time::Duration,
};

use chrono::Utc;
use entity::{category, product, product_sales_daily, sku};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    ExprTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    TransactionTrait,
    sea_query::{Expr, Func, LikeExpr, OnConflict},
};
use serde::{Deserialize, Serialize};

use crate::{
    cache::keys,
    error::{AppError, AppResult},
    state::AppState,
};

pub const ON_SHELF: &str = "ON_SHELF";
pub const OFF_SHELF: &str = "OFF_SHELF";
/// ¥1,000,000: anything dearer is a typo in fen vs yuan.
pub const MAX_PRICE_FEN: i64 = crate::validate::MAX_FEN;
pub const MAX_STOCK: i32 = 10_000_000;
/// The hot list holds this many; `hotProducts(limit)` may ask for up to this.
pub const HOT_LIST_SIZE: u64 = 50;

const PRODUCT_TTL: Duration = Duration::from_secs(300);
const HOT_TTL: Duration = Duration::from_secs(60);
const CATEGORIES_TTL: Duration = Duration::from_secs(600);

/// A product with its live SKUs: what shoppers read, and what is cached.
/// Holds no supplier data (costs never enter the cache).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProductBundle {
    pub product: product::Model,
    pub skus: Vec<sku::Model>,
}

/// One spec pair, e.g. 规格: 500g.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub value: String,
}

/// A SKU as an admin describes it.
#[derive(Clone, Debug)]
pub struct SkuDraft {
    /// Existing SKU to change (updates only); `None` = a new SKU.
    pub id: Option<i64>,
    pub specs: Vec<Spec>,
    pub price_fen: i64,
    pub original_price_fen: Option<i64>,
    pub member_price_fen: Option<i64>,
    /// Units in stock; in an update, `None` leaves an existing SKU's stock as
    /// it is (orders keep taking it meanwhile) and gives a new SKU none.
    pub stock: Option<i32>,
}

#[derive(Clone, Debug, Default)]
pub struct ProductDraft {
    pub title: Option<String>,
    pub subtitle: Option<String>,
    pub description: Option<String>,
    pub category_id: Option<i64>,
    pub brand: Option<String>,
    pub images: Option<Vec<String>>,
    pub skus: Option<Vec<SkuDraft>>,
}

#[derive(Clone, Debug)]
pub struct CategoryDraft {
    pub name: String,
    pub parent_id: Option<i64>,
    pub sort: i32,
    pub icon_url: Option<String>,
}

// ---------------------------------------------------------------- validation

fn text(value: &str, field: &str, max: usize) -> AppResult<String> {
    let v = value.trim();
    if v.is_empty() {
        return Err(AppError::bad_input(field, "must not be empty"));
    }
    if v.chars().count() > max {
        return Err(AppError::bad_input(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(v.to_string())
}

fn optional_text(value: Option<&str>, field: &str, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        Some(v) => text(v, field, max).map(Some),
        None => Ok(None),
    }
}

fn url(value: &str, field: &str) -> AppResult<String> {
    let v = text(value, field, 1024)?;
    if !(v.starts_with("https://") || v.starts_with("http://")) {
        return Err(AppError::bad_input(field, "must be an http(s) URL"));
    }
    Ok(v)
}

fn money(value: i64, field: &str) -> AppResult<i64> {
    if !(0..=MAX_PRICE_FEN).contains(&value) {
        return Err(AppError::bad_input(
            field,
            format!("must be between 0 and {MAX_PRICE_FEN} fen"),
        ));
    }
    Ok(value)
}

fn images(list: &[String]) -> AppResult<String> {
    if list.len() > 20 {
        return Err(AppError::bad_input("images", "at most 20 images"));
    }
    let checked = list
        .iter()
        .enumerate()
        .map(|(i, u)| url(u, &format!("images[{i}]")))
        .collect::<AppResult<Vec<_>>>()?;
    serde_json::to_string(&checked).map_err(AppError::internal)
}

/// Checks a SKU and returns its canonical spec key (pairs sorted by name).
fn check_sku(s: &SkuDraft, at: &str) -> AppResult<(String, String)> {
    if s.specs.is_empty() || s.specs.len() > 5 {
        return Err(AppError::bad_input(
            format!("{at}.specs"),
            "needs 1 to 5 name/value pairs",
        ));
    }
    let mut pairs = Vec::with_capacity(s.specs.len());
    let mut names = HashSet::new();
    for (i, spec) in s.specs.iter().enumerate() {
        let name = text(&spec.name, &format!("{at}.specs[{i}].name"), 32)?;
        let value = text(&spec.value, &format!("{at}.specs[{i}].value"), 64)?;
        if !names.insert(name.clone()) {
            return Err(AppError::bad_input(
                format!("{at}.specs[{i}].name"),
                format!("{name} appears twice"),
            ));
        }
        pairs.push(Spec { name, value });
    }
    money(s.price_fen, &format!("{at}.priceFen"))?;
    if let Some(o) = s.original_price_fen {
        money(o, &format!("{at}.originalPriceFen"))?;
        if o < s.price_fen {
            return Err(AppError::bad_input(
                format!("{at}.originalPriceFen"),
                "must not be below priceFen",
            ));
        }
    }
    if let Some(m) = s.member_price_fen {
        money(m, &format!("{at}.memberPriceFen"))?;
        if m > s.price_fen {
            return Err(AppError::bad_input(
                format!("{at}.memberPriceFen"),
                "must not be above priceFen",
            ));
        }
    }
    if let Some(stock) = s.stock {
        super::stock::check(stock, &format!("{at}.stock"))?;
    }
    let mut sorted = pairs.clone();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let key = sorted
        .iter()
        .map(|p| format!("{}={}", p.name, p.value))
        .collect::<Vec<_>>()
        .join("\u{1f}");
    let json = serde_json::to_string(&pairs).map_err(AppError::internal)?;
    Ok((json, key))
}

/// Checks all SKUs of a product: each valid, specs unique among them.
fn check_skus(skus: &[SkuDraft]) -> AppResult<Vec<(String, String)>> {
    if skus.is_empty() || skus.len() > 100 {
        return Err(AppError::bad_input("skus", "a product needs 1 to 100 SKUs"));
    }
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(skus.len());
    for (i, s) in skus.iter().enumerate() {
        let (json, key) = check_sku(s, &format!("skus[{i}]"))?;
        if !seen.insert(key.clone()) {
            return Err(AppError::bad_input(
                format!("skus[{i}].specs"),
                "another SKU of this product has the same specs",
            ));
        }
        out.push((json, key));
    }
    Ok(out)
}

// ---------------------------------------------------------------- categories

pub async fn create_category(state: &AppState, draft: CategoryDraft) -> AppResult<category::Model> {
    let name = text(&draft.name, "name", 32)?;
    let icon_url = draft
        .icon_url
        .as_deref()
        .map(|u| url(u, "iconUrl"))
        .transpose()?;
    if let Some(parent) = draft.parent_id
        && category::Entity::find_by_id(parent)
            .one(&state.db)
            .await?
            .is_none()
    {
        return Err(AppError::NotFound(format!(
            "parent category {parent} does not exist"
        )));
    }
    let created = category::ActiveModel {
        name: Set(name),
        parent_id: Set(draft.parent_id),
        sort: Set(draft.sort),
        icon_url: Set(icon_url),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    state
        .cache
        .invalidate(&[keys::CATEGORIES.to_string()])
        .await;
    Ok(created)
}

/// All categories, by sort order then id (cached: the tree is small and read on every page).
pub async fn categories(state: &AppState) -> AppResult<Vec<category::Model>> {
    let db = state.db.clone();
    state
        .cache
        .get_or_load(keys::CATEGORIES, CATEGORIES_TTL, || async move {
            Ok(category::Entity::find()
                .order_by_asc(category::Column::Sort)
                .order_by_asc(category::Column::Id)
                .all(&db)
                .await?)
        })
        .await
}

pub async fn categories_by_ids(
    db: &DatabaseConnection,
    ids: &[i64],
) -> AppResult<Vec<category::Model>> {
    Ok(category::Entity::find()
        .filter(category::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// A category and everything below it.
fn subtree(all: &[category::Model], root: i64) -> Vec<i64> {
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(
            all.iter()
                .filter(|c| c.parent_id == Some(parent))
                .map(|c| c.id),
        );
        i += 1;
    }
    out
}

// ---------------------------------------------------------------- products: writes

async fn require_category(db: &impl ConnectionTrait, id: i64) -> AppResult<()> {
    match category::Entity::find_by_id(id).one(db).await? {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound(format!("category {id} does not exist"))),
    }
}

fn price_range(skus: &[SkuDraft]) -> (i64, i64) {
    let min = skus.iter().map(|s| s.price_fen).min().unwrap_or(0);
    let max = skus.iter().map(|s| s.price_fen).max().unwrap_or(0);
    (min, max)
}

pub async fn create_product(state: &AppState, draft: ProductDraft) -> AppResult<ProductBundle> {
    let title = text(draft.title.as_deref().unwrap_or_default(), "title", 100)?;
    let subtitle = optional_text(draft.subtitle.as_deref(), "subtitle", 200)?;
    let description = optional_text(draft.description.as_deref(), "description", 20_000)?;
    let brand = optional_text(draft.brand.as_deref(), "brand", 64)?;
    let images = images(draft.images.as_deref().unwrap_or_default())?;
    let category_id = draft
        .category_id
        .ok_or_else(|| AppError::bad_input("categoryId", "is required"))?;
    let skus = draft.skus.unwrap_or_default();
    let checked = check_skus(&skus)?;
    require_category(&state.db, category_id).await?;

    let (min, max) = price_range(&skus);
    let now = Utc::now();
    let txn = state.db.begin().await?;
    let product = product::ActiveModel {
        title: Set(title),
        subtitle: Set(subtitle),
        description: Set(description),
        images: Set(images),
        category_id: Set(category_id),
        brand: Set(brand),
        status: Set(ON_SHELF.to_string()),
        hot_pin: Set(None),
        sales_count: Set(0),
        min_price_fen: Set(min),
        max_price_fen: Set(max),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for (s, (specs, key)) in skus.iter().zip(checked) {
        insert_sku(&txn, product.id, s, specs, key).await?;
    }
    txn.commit().await?;
    invalidate_product(state, product.id).await;
    load_bundle_fresh(&state.db, product.id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("product vanished")))
}

async fn insert_sku(
    db: &impl ConnectionTrait,
    product_id: i64,
    s: &SkuDraft,
    specs: String,
    key: String,
) -> AppResult<sku::Model> {
    let now = Utc::now();
    Ok(sku::ActiveModel {
        product_id: Set(product_id),
        specs: Set(specs),
        spec_key: Set(key),
        price_fen: Set(s.price_fen),
        original_price_fen: Set(s.original_price_fen),
        member_price_fen: Set(s.member_price_fen),
        stock: Set(s.stock.unwrap_or(0)),
        archived: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

/// Changes what is given. With `skus`, the list is the product's new set:
/// listed ids are updated, entries without id are added, live SKUs not
/// listed are archived (past orders keep pointing at them).
pub async fn update_product(
    state: &AppState,
    id: i64,
    draft: ProductDraft,
) -> AppResult<ProductBundle> {
    let existing = product::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("product {id} does not exist")))?;
    let mut active: product::ActiveModel = existing.into();
    if let Some(t) = &draft.title {
        active.title = Set(text(t, "title", 100)?);
    }
    if let Some(v) = &draft.subtitle {
        active.subtitle = Set(optional_text(Some(v), "subtitle", 200)?);
    }
    if let Some(v) = &draft.description {
        active.description = Set(optional_text(Some(v), "description", 20_000)?);
    }
    if let Some(v) = &draft.brand {
        active.brand = Set(optional_text(Some(v), "brand", 64)?);
    }
    if let Some(v) = &draft.images {
        active.images = Set(images(v)?);
    }
    if let Some(c) = draft.category_id {
        require_category(&state.db, c).await?;
        active.category_id = Set(c);
    }
    let checked = draft.skus.as_deref().map(check_skus).transpose()?;

    let now = Utc::now();
    let txn = state.db.begin().await?;
    if let (Some(skus), Some(checked)) = (&draft.skus, checked) {
        let live: HashMap<i64, sku::Model> = sku::Entity::find()
            .filter(sku::Column::ProductId.eq(id))
            .filter(sku::Column::Archived.eq(false))
            .all(&txn)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let kept: HashSet<i64> = skus.iter().filter_map(|s| s.id).collect();
        for (i, s) in skus.iter().enumerate() {
            if let Some(sid) = s.id
                && !live.contains_key(&sid)
            {
                return Err(AppError::NotFound(format!(
                    "skus[{i}].id: SKU {sid} is not a live SKU of product {id}"
                )));
            }
        }
        // Archive first so that a kept spec combination can move between SKUs.
        for old in live.values().filter(|s| !kept.contains(&s.id)) {
            let mut a: sku::ActiveModel = old.clone().into();
            a.archived = Set(true);
            a.spec_key = Set(format!("{}#archived-{}", old.spec_key, old.id));
            a.updated_at = Set(now);
            a.update(&txn).await?;
        }
        // Park updated keys first, so swapping specs between two SKUs does not collide.
        for s in skus.iter().filter_map(|s| s.id) {
            sku::Entity::update_many()
                .col_expr(sku::Column::SpecKey, Expr::value(format!("#updating-{s}")))
                .filter(sku::Column::Id.eq(s))
                .exec(&txn)
                .await?;
        }
        for (s, (specs, key)) in skus.iter().zip(checked) {
            match s.id {
                Some(sid) => {
                    let mut a: sku::ActiveModel = live[&sid].clone().into();
                    a.specs = Set(specs);
                    a.spec_key = Set(key);
                    a.price_fen = Set(s.price_fen);
                    a.original_price_fen = Set(s.original_price_fen);
                    a.member_price_fen = Set(s.member_price_fen);
                    if let Some(stock) = s.stock {
                        a.stock = Set(stock);
                    }
                    a.updated_at = Set(now);
                    a.update(&txn).await?;
                }
                None => {
                    insert_sku(&txn, id, s, specs, key).await?;
                }
            }
        }
        let (min, max) = price_range(skus);
        active.min_price_fen = Set(min);
        active.max_price_fen = Set(max);
    }
    active.updated_at = Set(now);
    active.update(&txn).await?;
    txn.commit().await?;
    invalidate_product(state, id).await;
    load_bundle_fresh(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("product {id} does not exist")))
}

pub async fn set_product_status(
    state: &AppState,
    id: i64,
    on_shelf: bool,
) -> AppResult<ProductBundle> {
    let status = if on_shelf { ON_SHELF } else { OFF_SHELF };
    let res = product::Entity::update_many()
        .col_expr(product::Column::Status, Expr::value(status))
        .col_expr(product::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(product::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound(format!("product {id} does not exist")));
    }
    invalidate_product(state, id).await;
    load_bundle_fresh(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("product {id} does not exist")))
}

/// Pins a product on the hot list (`rank`: smaller first), or unpins it (`None`).
pub async fn pin_hot(state: &AppState, id: i64, rank: Option<i32>) -> AppResult<ProductBundle> {
    if let Some(r) = rank
        && !(0..=1000).contains(&r)
    {
        return Err(AppError::bad_input("rank", "must be between 0 and 1000"));
    }
    let res = product::Entity::update_many()
        .col_expr(product::Column::HotPin, Expr::value(rank))
        .col_expr(product::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(product::Column::Id.eq(id))
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound(format!("product {id} does not exist")));
    }
    invalidate_product(state, id).await;
    load_bundle_fresh(&state.db, id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("product {id} does not exist")))
}

/// After a change a shopper can see: the product's entry and the hot list.
pub async fn invalidate_product(state: &AppState, product_id: i64) {
    state
        .cache
        .invalidate(&[keys::product(product_id), keys::HOT_IDS.to_string()])
        .await;
}

/// After a payment: the products' entries (units sold) and the hot list,
/// whose rank follows sales.
pub async fn invalidate_sales(state: &AppState, product_ids: &[i64]) {
    let mut keys: Vec<String> = product_ids.iter().map(|id| keys::product(*id)).collect();
    keys.push(keys::HOT_IDS.to_string());
    state.cache.invalidate(&keys).await;
}

/// Counts `units` sold of a product today (all-time counter and the daily
/// row the hot list ranks by), in the payment's transaction.
pub async fn count_sale(
    db: &impl ConnectionTrait,
    product_id: i64,
    day: &str,
    units: i64,
) -> AppResult<()> {
    product::Entity::update_many()
        .col_expr(
            product::Column::SalesCount,
            Expr::col(product::Column::SalesCount).add(units),
        )
        .filter(product::Column::Id.eq(product_id))
        .exec(db)
        .await?;
    product_sales_daily::Entity::insert(product_sales_daily::ActiveModel {
        product_id: Set(product_id),
        day: Set(day.to_string()),
        units: Set(units),
    })
    .on_conflict(
        OnConflict::columns([
            product_sales_daily::Column::ProductId,
            product_sales_daily::Column::Day,
        ])
        .value(
            product_sales_daily::Column::Units,
            Expr::cust("product_sales_daily.units + excluded.units"),
        )
        .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- products: reads

pub async fn skus_by_products(
    db: &DatabaseConnection,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<sku::Model>>> {
    let rows = sku::Entity::find()
        .filter(sku::Column::ProductId.is_in(ids.iter().copied()))
        .filter(sku::Column::Archived.eq(false))
        .order_by_asc(sku::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<i64, Vec<sku::Model>> = ids.iter().map(|id| (*id, Vec::new())).collect();
    for s in rows {
        out.entry(s.product_id).or_default().push(s);
    }
    Ok(out)
}

pub async fn skus_by_ids(db: &DatabaseConnection, ids: &[i64]) -> AppResult<Vec<sku::Model>> {
    Ok(sku::Entity::find()
        .filter(sku::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// SKUs with their products, in one statement (checkout reads them inside
/// its transaction, where every round trip counts).
pub async fn skus_with_products(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<(sku::Model, product::Model)>> {
    let of_product = sku::Entity::belongs_to(product::Entity)
        .from(sku::Column::ProductId)
        .to(product::Column::Id)
        .into();
    Ok(sku::Entity::find()
        .join(sea_orm::JoinType::InnerJoin, of_product)
        .select_also(product::Entity)
        .filter(sku::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(s, p)| Some((s, p?)))
        .collect())
}

async fn load_bundles(db: &DatabaseConnection, ids: &[i64]) -> AppResult<Vec<ProductBundle>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let products = product::Entity::find()
        .filter(product::Column::Id.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    let mut skus = skus_by_products(db, ids).await?;
    Ok(products
        .into_iter()
        .map(|p| {
            let s = skus.remove(&p.id).unwrap_or_default();
            ProductBundle {
                product: p,
                skus: s,
            }
        })
        .collect())
}

/// Straight from the database (admins, and right after a write).
pub async fn load_bundle_fresh(
    db: &DatabaseConnection,
    id: i64,
) -> AppResult<Option<ProductBundle>> {
    Ok(load_bundles(db, &[id]).await?.into_iter().next())
}

/// A product as a shopper sees it: from the cache, `None` when unknown or off shelf.
pub async fn product_for_shopper(state: &AppState, id: i64) -> AppResult<Option<ProductBundle>> {
    let db = state.db.clone();
    let bundle: Option<ProductBundle> = state
        .cache
        .get_or_load(&keys::product(id), PRODUCT_TTL, || async move {
            load_bundle_fresh(&db, id).await
        })
        .await?;
    Ok(bundle.filter(|b| b.product.status == ON_SHELF))
}

/// How a product list is ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sort {
    Hot,
    Newest,
    PriceAsc,
    PriceDesc,
}

/// Filters of a product list.
#[derive(Clone, Debug, Default)]
pub struct ProductFilter {
    pub category_id: Option<i64>,
    pub keyword: Option<String>,
    /// Admins see every status; shoppers only ON_SHELF.
    pub include_off_shelf: bool,
}

/// Keyset position: the sort key and id of the last row of a page.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Position {
    pub sort: Sort,
    pub key: i64,
    pub id: i64,
}

impl Position {
    pub fn of(sort: Sort, p: &product::Model) -> Self {
        let key = match sort {
            Sort::Hot => p.sales_count,
            Sort::Newest => p.id,
            Sort::PriceAsc | Sort::PriceDesc => p.min_price_fen,
        };
        Position {
            sort,
            key,
            id: p.id,
        }
    }
}

async fn filter_condition(state: &AppState, filter: &ProductFilter) -> AppResult<Condition> {
    let mut cond = Condition::all();
    if !filter.include_off_shelf {
        cond = cond.add(product::Column::Status.eq(ON_SHELF));
    }
    if let Some(cat) = filter.category_id {
        let all = categories(state).await?;
        if !all.iter().any(|c| c.id == cat) {
            return Err(AppError::NotFound(format!("category {cat} does not exist")));
        }
        cond = cond.add(product::Column::CategoryId.is_in(subtree(&all, cat)));
    }
    if let Some(kw) = filter
        .keyword
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
    {
        if kw.chars().count() > 50 {
            return Err(AppError::bad_input(
                "keyword",
                "must be at most 50 characters",
            ));
        }
        let pattern = crate::validate::contains_pattern(kw);
        let like = |col: product::Column| {
            Expr::expr(Func::lower(Expr::col(col)))
                .like(LikeExpr::new(pattern.clone()).escape('\\'))
        };
        cond = cond.add(
            Condition::any()
                .add(like(product::Column::Title))
                .add(like(product::Column::Subtitle))
                .add(like(product::Column::Brand)),
        );
    }
    Ok(cond)
}

/// One page of products and whether more follow. Keyset pagination: a page
/// continues strictly after `after`, so no row is skipped or repeated while
/// the sort keys are stable.
pub async fn list_products(
    state: &AppState,
    filter: &ProductFilter,
    sort: Sort,
    first: u64,
    after: Option<Position>,
) -> AppResult<(Vec<product::Model>, bool)> {
    let mut q = product::Entity::find().filter(filter_condition(state, filter).await?);
    if let Some(pos) = &after {
        if pos.sort != sort {
            return Err(AppError::bad_input(
                "after",
                "the cursor belongs to another sort order",
            ));
        }
        let (k, id) = (pos.key, pos.id);
        let after_cond = match sort {
            Sort::Newest => Condition::all().add(product::Column::Id.lt(id)),
            Sort::PriceAsc => Condition::any()
                .add(product::Column::MinPriceFen.gt(k))
                .add(
                    Condition::all()
                        .add(product::Column::MinPriceFen.eq(k))
                        .add(product::Column::Id.gt(id)),
                ),
            Sort::PriceDesc => Condition::any()
                .add(product::Column::MinPriceFen.lt(k))
                .add(
                    Condition::all()
                        .add(product::Column::MinPriceFen.eq(k))
                        .add(product::Column::Id.lt(id)),
                ),
            Sort::Hot => Condition::any().add(product::Column::SalesCount.lt(k)).add(
                Condition::all()
                    .add(product::Column::SalesCount.eq(k))
                    .add(product::Column::Id.lt(id)),
            ),
        };
        q = q.filter(after_cond);
    }
    q = match sort {
        Sort::Newest => q.order_by_desc(product::Column::Id),
        Sort::PriceAsc => q
            .order_by_asc(product::Column::MinPriceFen)
            .order_by_asc(product::Column::Id),
        Sort::PriceDesc => q
            .order_by_desc(product::Column::MinPriceFen)
            .order_by_desc(product::Column::Id),
        Sort::Hot => q
            .order_by_desc(product::Column::SalesCount)
            .order_by_desc(product::Column::Id),
    };
    let mut rows = q.limit(first + 1).all(&state.db).await?;
    let more = rows.len() as u64 > first;
    rows.truncate(first as usize);
    Ok((rows, more))
}

pub async fn count_products(state: &AppState, filter: &ProductFilter) -> AppResult<u64> {
    Ok(product::Entity::find()
        .filter(filter_condition(state, filter).await?)
        .count(&state.db)
        .await?)
}

#[derive(FromQueryResult)]
struct IdRow {
    id: i64,
}

/// Ids of the hot list, best first: admin pins (by rank), then units sold in
/// the last `HOT_WINDOW_DAYS`, then newest. On shelf only.
async fn rank_hot_ids(db: &DatabaseConnection, window_days: u32) -> AppResult<Vec<i64>> {
    let since = (Utc::now() - chrono::Duration::days(i64::from(window_days)))
        .format("%Y-%m-%d")
        .to_string();
    let backend = db.get_database_backend();
    let (p1, p2, p3) = match backend {
        DatabaseBackend::Postgres => ("$1", "$2", "$3"),
        _ => ("?", "?", "?"),
    };
    let sql = format!(
        "SELECT p.id AS id FROM product p \
         LEFT JOIN (SELECT product_id, SUM(units) AS units FROM product_sales_daily WHERE day >= {p1} GROUP BY product_id) s \
           ON s.product_id = p.id \
         WHERE p.status = {p2} \
         ORDER BY CASE WHEN p.hot_pin IS NULL THEN 1 ELSE 0 END, p.hot_pin, COALESCE(s.units, 0) DESC, p.id DESC \
         LIMIT {p3}"
    );
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [since.into(), ON_SHELF.into(), (HOT_LIST_SIZE as i64).into()],
    );
    Ok(IdRow::find_by_statement(stmt)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect())
}

/// The hot list for the home page: ids from the cache, each product from
/// its own cache entry (so a stock change refreshes one entry, not the list).
pub async fn hot_products(state: &AppState, limit: u64) -> AppResult<Vec<ProductBundle>> {
    if !(1..=HOT_LIST_SIZE).contains(&limit) {
        return Err(AppError::bad_input(
            "limit",
            format!("must be between 1 and {HOT_LIST_SIZE}"),
        ));
    }
    let db = state.db.clone();
    let window = state.settings.hot_window_days;
    let ids: Vec<i64> = state
        .cache
        .get_or_load(keys::HOT_IDS, HOT_TTL, || async move {
            rank_hot_ids(&db, window).await
        })
        .await?;
    let wanted: Vec<i64> = ids.into_iter().take(limit as usize).collect();
    let cache_keys: Vec<String> = wanted.iter().map(|id| keys::product(*id)).collect();
    let cached = state.cache.get_many_bytes(&cache_keys).await;

    let mut found: HashMap<i64, ProductBundle> = HashMap::with_capacity(wanted.len());
    let mut missing = Vec::new();
    for (id, bytes) in wanted.iter().zip(cached) {
        match bytes.and_then(|b| serde_json::from_slice::<Option<ProductBundle>>(&b).ok()) {
            Some(Some(bundle)) => {
                found.insert(*id, bundle);
            }
            Some(None) => {}
            None => missing.push(*id),
        }
    }
    if !missing.is_empty() {
        // One flight for the whole batch of misses: concurrent requests that
        // miss the same set load it once.
        let flight = format!("catalogue:hot-fill:{missing:?}");
        let db = state.db.clone();
        let cache = state.cache.clone();
        let loaded: Vec<ProductBundle> = state
            .cache
            .single_flight(&flight, || async move {
                let bundles = load_bundles(&db, &missing).await?;
                for b in &bundles {
                    let bytes = serde_json::to_vec(&Some(b)).map_err(AppError::internal)?;
                    cache
                        .set_bytes(&keys::product(b.product.id), bytes, PRODUCT_TTL)
                        .await;
                }
                serde_json::to_vec(&bundles).map_err(AppError::internal)
            })
            .await
            .and_then(|bytes| serde_json::from_slice(&bytes).map_err(AppError::internal))?;
        for b in loaded {
            found.insert(b.product.id, b);
        }
    }
    Ok(wanted
        .iter()
        .filter_map(|id| found.remove(id))
        .filter(|b| b.product.status == ON_SHELF)
        .collect())
}

/// Is the database empty of products (for seeding)?
pub async fn has_products(db: &DatabaseConnection) -> AppResult<bool> {
    Ok(product::Entity::find().one(db).await?.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(specs: &[(&str, &str)], price: i64) -> SkuDraft {
        SkuDraft {
            id: None,
            specs: specs
                .iter()
                .map(|(n, v)| Spec {
                    name: n.to_string(),
                    value: v.to_string(),
                })
                .collect(),
            price_fen: price,
            original_price_fen: None,
            member_price_fen: None,
            stock: Some(1),
        }
    }

    #[test]
    fn spec_keys_ignore_order_and_duplicates_are_named() {
        let a = check_sku(&draft(&[("颜色", "红"), ("规格", "500g")], 100), "skus[0]").unwrap();
        let b = check_sku(&draft(&[("规格", "500g"), ("颜色", "红")], 100), "skus[1]").unwrap();
        assert_eq!(a.1, b.1);
        let err = check_skus(&[draft(&[("规格", "500g")], 1), draft(&[("规格", "500g")], 2)])
            .unwrap_err();
        assert!(
            matches!(err, AppError::BadUserInput { ref field, .. } if field == "skus[1].specs"),
            "{err:?}"
        );
    }

    #[test]
    fn prices_and_stock_are_bounded() {
        let err = check_sku(&draft(&[("规格", "1")], -1), "skus[0]").unwrap_err();
        assert!(
            matches!(err, AppError::BadUserInput { ref field, .. } if field == "skus[0].priceFen")
        );
        let err = check_sku(&draft(&[("规格", "1")], MAX_PRICE_FEN + 1), "skus[0]").unwrap_err();
        assert_eq!(err.code(), "BAD_USER_INPUT");
        let mut d = draft(&[("规格", "1")], 100);
        d.member_price_fen = Some(200);
        assert!(check_sku(&d, "s").is_err());
        let mut d = draft(&[("规格", "1")], 100);
        d.stock = Some(-1);
        assert!(check_sku(&d, "s").is_err());
        assert!(check_skus(&[]).is_err());
    }

    #[test]
    fn subtree_includes_descendants() {
        let c = |id, parent| category::Model {
            id,
            name: String::new(),
            parent_id: parent,
            sort: 0,
            icon_url: None,
            created_at: Utc::now(),
        };
        let all = vec![c(1, None), c(2, Some(1)), c(3, Some(2)), c(4, None)];
        let mut t = subtree(&all, 1);
        t.sort();
        assert_eq!(t, vec![1, 2, 3]);
    }
}
