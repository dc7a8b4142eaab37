//! Writing products and their SKUs (ADMIN): validation, the product row and
//! its SKUs in one transaction, shelving, hot pins, and the sales counters
//! payments add to. Each write refreshes the product's cache entry after
//! its commit.
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::Utc;
use entity::{category, product, product_sales_daily, sku};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, ExprTrait, QueryFilter, SqlErr,
    Statement, TransactionTrait,
    sea_query::{Expr, OnConflict},
};
use serde::{Deserialize, Serialize};

use super::listing::load_bundle_fresh;
use super::service::{OFF_SHELF, ON_SHELF, ProductBundle};
use crate::{
    cache::keys,
    error::{AppError, AppResult},
    modules::shipping::service as shipping,
    state::AppState,
    validate,
};
/// One spec pair, e.g. 规格: 500g.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    pub name: String,
    pub value: String,
}

/// A SKU as an admin describes it.
#[derive(Clone, Debug, Default)]
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
    /// Weight in grams (templates charging by weight); `None` = unknown.
    pub weight_grams: Option<i32>,
    /// The spec's own image.
    pub image_url: Option<String>,
    /// Code or barcode, unique among the store's live SKUs.
    pub code: Option<String>,
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
    /// The product's shipping template: in an update `None` leaves it,
    /// `Some(None)` takes it off (the store's flat rule again).
    pub shipping_template_id: Option<Option<i64>>,
}

/// A SKU's facts beyond price and stock, checked: (weight, image, code).
pub(super) type SkuFacts = (Option<i32>, Option<String>, Option<String>);

/// Heaviest SKU accepted: a tonne, in grams.
const MAX_WEIGHT_GRAMS: i32 = 1_000_000;

fn check_facts(s: &SkuDraft, at: &str) -> AppResult<SkuFacts> {
    if let Some(w) = s.weight_grams
        && !(0..=MAX_WEIGHT_GRAMS).contains(&w)
    {
        return Err(AppError::bad_input(
            format!("{at}.weightGrams"),
            format!("must be 0 to {MAX_WEIGHT_GRAMS} grams"),
        ));
    }
    let image = s
        .image_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| validate::url(u, &format!("{at}.imageUrl")))
        .transpose()?;
    let code = validate::optional_text(s.code.as_deref(), &format!("{at}.code"), 64)?;
    if let Some(c) = &code
        && c.chars().any(char::is_whitespace)
    {
        return Err(AppError::bad_input(
            format!("{at}.code"),
            "must not contain spaces",
        ));
    }
    Ok((s.weight_grams, image, code))
}

/// A write refused by the unique index on live SKU codes names the SKU's
/// `code` field; any other error stays what it is.
fn code_taken(e: sea_orm::DbErr, at: &str, code: Option<&str>) -> AppError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(m))
            if m.contains("idx_sku_code_live") || m.contains("sku.code") =>
        {
            AppError::bad_input(
                format!("{at}.code"),
                format!(
                    "{} is the code of another SKU of the store",
                    code.unwrap_or_default()
                ),
            )
        }
        _ => e.into(),
    }
}

pub(super) fn images(list: &[String]) -> AppResult<String> {
    if list.len() > 20 {
        return Err(AppError::bad_input("images", "at most 20 images"));
    }
    let checked = list
        .iter()
        .enumerate()
        .map(|(i, u)| validate::url(u, &format!("images[{i}]")))
        .collect::<AppResult<Vec<_>>>()?;
    serde_json::to_string(&checked).map_err(AppError::internal)
}

/// Checks a SKU and returns its canonical spec key (pairs sorted by name).
pub(super) fn check_sku(s: &SkuDraft, at: &str) -> AppResult<(String, String)> {
    if s.specs.is_empty() || s.specs.len() > 5 {
        return Err(AppError::bad_input(
            format!("{at}.specs"),
            "needs 1 to 5 name/value pairs",
        ));
    }
    let mut pairs = Vec::with_capacity(s.specs.len());
    let mut names = HashSet::new();
    for (i, spec) in s.specs.iter().enumerate() {
        let name = validate::text(&spec.name, &format!("{at}.specs[{i}].name"), 32)?;
        let value = validate::text(&spec.value, &format!("{at}.specs[{i}].value"), 64)?;
        if !names.insert(name.clone()) {
            return Err(AppError::bad_input(
                format!("{at}.specs[{i}].name"),
                format!("{name} appears twice"),
            ));
        }
        pairs.push(Spec { name, value });
    }
    validate::fen(s.price_fen, &format!("{at}.priceFen"), 0)?;
    if let Some(o) = s.original_price_fen {
        validate::fen(o, &format!("{at}.originalPriceFen"), 0)?;
        if o < s.price_fen {
            return Err(AppError::bad_input(
                format!("{at}.originalPriceFen"),
                "must not be below priceFen",
            ));
        }
    }
    if let Some(m) = s.member_price_fen {
        validate::fen(m, &format!("{at}.memberPriceFen"), 0)?;
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
    check_facts(s, at)?;
    let json = serde_json::to_string(&pairs).map_err(AppError::internal)?;
    Ok((json, key))
}

/// Checks all SKUs of a product: each valid, specs unique among them.
pub(super) fn check_skus(skus: &[SkuDraft]) -> AppResult<Vec<(String, String)>> {
    if skus.is_empty() || skus.len() > 100 {
        return Err(AppError::bad_input("skus", "a product needs 1 to 100 SKUs"));
    }
    let mut seen = HashSet::new();
    let mut codes = HashSet::new();
    let mut out = Vec::with_capacity(skus.len());
    for (i, s) in skus.iter().enumerate() {
        let (json, key) = check_sku(s, &format!("skus[{i}]"))?;
        if !seen.insert(key.clone()) {
            return Err(AppError::bad_input(
                format!("skus[{i}].specs"),
                "another SKU of this product has the same specs",
            ));
        }
        if let (_, _, Some(code)) = check_facts(s, &format!("skus[{i}]"))?
            && !codes.insert(code.clone())
        {
            return Err(AppError::bad_input(
                format!("skus[{i}].code"),
                format!("{code} is given to two SKUs"),
            ));
        }
        out.push((json, key));
    }
    Ok(out)
}

pub(super) async fn require_category(db: &impl ConnectionTrait, id: i64) -> AppResult<()> {
    match category::Entity::find_by_id(id).one(db).await? {
        Some(_) => Ok(()),
        None => Err(AppError::NotFound(format!("category {id} does not exist"))),
    }
}

pub(super) fn price_range(skus: &[SkuDraft]) -> (i64, i64) {
    let min = skus.iter().map(|s| s.price_fen).min().unwrap_or(0);
    let max = skus.iter().map(|s| s.price_fen).max().unwrap_or(0);
    (min, max)
}

pub async fn create_product(state: &AppState, draft: ProductDraft) -> AppResult<ProductBundle> {
    let title = validate::text(draft.title.as_deref().unwrap_or_default(), "title", 100)?;
    let subtitle = validate::optional_text(draft.subtitle.as_deref(), "subtitle", 200)?;
    let description = validate::optional_text(draft.description.as_deref(), "description", 20_000)?;
    let brand = validate::optional_text(draft.brand.as_deref(), "brand", 64)?;
    let images = images(draft.images.as_deref().unwrap_or_default())?;
    let category_id = draft
        .category_id
        .ok_or_else(|| AppError::bad_input("categoryId", "is required"))?;
    let skus = draft.skus.unwrap_or_default();
    let checked = check_skus(&skus)?;
    require_category(&state.db, category_id).await?;
    let template = draft.shipping_template_id.flatten();
    if let Some(t) = template {
        shipping::require_usable(&state.db, t, "shippingTemplateId").await?;
    }

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
        shipping_template_id: Set(template),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    for (i, (s, (specs, key))) in skus.iter().zip(checked).enumerate() {
        insert_sku(&txn, product.id, s, specs, key)
            .await
            .map_err(|e| code_taken(e, &format!("skus[{i}]"), s.code.as_deref()))?;
    }
    txn.commit().await?;
    invalidate_product(state, product.id).await;
    load_bundle_fresh(&state.db, product.id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("product vanished")))
}

pub(super) async fn insert_sku(
    db: &impl ConnectionTrait,
    product_id: i64,
    s: &SkuDraft,
    specs: String,
    key: String,
) -> Result<sku::Model, sea_orm::DbErr> {
    let now = Utc::now();
    let (weight_grams, image_url, code) = check_facts(s, "sku").unwrap_or_default();
    sku::ActiveModel {
        product_id: Set(product_id),
        specs: Set(specs),
        spec_key: Set(key),
        price_fen: Set(s.price_fen),
        original_price_fen: Set(s.original_price_fen),
        member_price_fen: Set(s.member_price_fen),
        stock: Set(s.stock.unwrap_or(0)),
        archived: Set(false),
        weight_grams: Set(weight_grams),
        image_url: Set(image_url),
        code: Set(code),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await
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
        active.title = Set(validate::text(t, "title", 100)?);
    }
    if let Some(v) = &draft.subtitle {
        active.subtitle = Set(validate::optional_text(Some(v), "subtitle", 200)?);
    }
    if let Some(v) = &draft.description {
        active.description = Set(validate::optional_text(Some(v), "description", 20_000)?);
    }
    if let Some(v) = &draft.brand {
        active.brand = Set(validate::optional_text(Some(v), "brand", 64)?);
    }
    if let Some(v) = &draft.images {
        active.images = Set(images(v)?);
    }
    if let Some(c) = draft.category_id {
        require_category(&state.db, c).await?;
        active.category_id = Set(c);
    }
    if let Some(t) = draft.shipping_template_id {
        if let Some(t) = t {
            shipping::require_usable(&state.db, t, "shippingTemplateId").await?;
        }
        active.shipping_template_id = Set(t);
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
        // Every live SKU of the product is locked first, in id order (the
        // lock order of placing an order): the writes below then take no
        // new row lock, so an edit and a concurrent order on the same SKUs
        // wait for each other instead of deadlocking on PostgreSQL.
        let mut live_ids: Vec<i64> = live.keys().copied().collect();
        live_ids.sort_unstable();
        super::stock::lock(&txn, &live_ids).await?;
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
        for old in live_ids
            .iter()
            .map(|i| &live[i])
            .filter(|s| !kept.contains(&s.id))
        {
            let mut a: sku::ActiveModel = old.clone().into();
            a.archived = Set(true);
            a.spec_key = Set(format!("{}#archived-{}", old.spec_key, old.id));
            a.updated_at = Set(now);
            a.update(&txn).await?;
        }
        // Park updated keys and codes first, so swapping specs or codes
        // between two SKUs does not collide.
        let order = write_order(skus);
        for s in order.iter().filter_map(|&i| skus[i].id) {
            sku::Entity::update_many()
                .col_expr(sku::Column::SpecKey, Expr::value(format!("#updating-{s}")))
                .col_expr(sku::Column::Code, Expr::value(Option::<String>::None))
                .filter(sku::Column::Id.eq(s))
                .exec(&txn)
                .await?;
        }
        let mut checked: Vec<Option<(String, String)>> = checked.into_iter().map(Some).collect();
        for &i in &order {
            let s = &skus[i];
            let (specs, key) = checked[i]
                .take()
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("SKU {i} written twice")))?;
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
                    let (weight_grams, image_url, code) = check_facts(s, "sku")?;
                    a.weight_grams = Set(weight_grams);
                    a.image_url = Set(image_url);
                    a.code = Set(code);
                    a.updated_at = Set(now);
                    a.update(&txn)
                        .await
                        .map_err(|e| code_taken(e, &format!("skus[{i}]"), s.code.as_deref()))?;
                }
                None => {
                    insert_sku(&txn, id, s, specs, key)
                        .await
                        .map_err(|e| code_taken(e, &format!("skus[{i}]"), s.code.as_deref()))?;
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

/// The order `update_product` writes an update's SKUs in (indexes into
/// it): existing SKUs by ascending id (the order in which orders lock SKU
/// rows, whatever order the admin listed them in), then the new ones as
/// listed.
fn write_order(skus: &[SkuDraft]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..skus.len()).collect();
    // Stable: new SKUs (no id) keep their listed order, after the others.
    order.sort_by_key(|&i| skus[i].id.map_or((1, 0), |id| (0, id)));
    order
}

pub async fn set_product_status(
    state: &AppState,
    id: i64,
    on_shelf: bool,
) -> AppResult<ProductBundle> {
    let status = if on_shelf { ON_SHELF } else { OFF_SHELF };
    set_column(state, id, product::Column::Status, Expr::value(status)).await
}

/// Sets one column of a product, then refreshes its cache entry and reads
/// it back as shoppers see it.
async fn set_column(
    state: &AppState,
    id: i64,
    column: product::Column,
    value: Expr,
) -> AppResult<ProductBundle> {
    let res = product::Entity::update_many()
        .col_expr(column, value)
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
    set_column(state, id, product::Column::HotPin, Expr::value(rank)).await
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

/// Counts the units sold today per product (all-time counter and the daily
/// row the hot list ranks by), in the payment's transaction. Called once
/// per payment batch with the units of all its orders added up, so a flash
/// sale's product row is written once per batch, not once per order.
/// Products are written in id order (the map's), the lock order of every
/// payment, so concurrent batches never deadlock on them.
pub async fn count_sales(
    db: &impl ConnectionTrait,
    units: &BTreeMap<i64, i64>,
    day: &str,
) -> AppResult<()> {
    if units.is_empty() {
        return Ok(());
    }
    if db.get_database_backend() == DatabaseBackend::Postgres {
        add_sales_at_once(db, units).await?;
    } else {
        add_sales_one_by_one(db, units).await?;
    }
    let rows = units
        .iter()
        .map(|(product_id, n)| product_sales_daily::ActiveModel {
            product_id: Set(*product_id),
            day: Set(day.to_string()),
            units: Set(*n),
        });
    product_sales_daily::Entity::insert_many(rows)
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

/// PostgreSQL: every product's counter in one statement. The rows are
/// locked in id order first (a materialized CTE, sorted, under
/// `FOR UPDATE`), the lock order of every payment, whatever plan the
/// update itself gets.
async fn add_sales_at_once(db: &impl ConnectionTrait, units: &BTreeMap<i64, i64>) -> AppResult<()> {
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(units.len() * 2);
    let mut rows = Vec::with_capacity(units.len());
    for (i, (product_id, n)) in units.iter().enumerate() {
        rows.push(format!("(${}::bigint, ${}::bigint)", 2 * i + 1, 2 * i + 2));
        values.push((*product_id).into());
        values.push((*n).into());
    }
    let sql = format!(
        "WITH sold(id, n) AS (VALUES {}), \
         locked AS MATERIALIZED \
           (SELECT id FROM product WHERE id IN (SELECT id FROM sold) ORDER BY id FOR UPDATE) \
         UPDATE product p SET sales_count = p.sales_count + sold.n \
         FROM sold JOIN locked ON locked.id = sold.id WHERE p.id = sold.id",
        rows.join(", ")
    );
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        sql,
        values,
    ))
    .await?;
    Ok(())
}

/// SQLite (one writer): a statement per product.
async fn add_sales_one_by_one(
    db: &impl ConnectionTrait,
    units: &BTreeMap<i64, i64>,
) -> AppResult<()> {
    for (product_id, n) in units {
        product::Entity::update_many()
            .col_expr(
                product::Column::SalesCount,
                Expr::col(product::Column::SalesCount).add(*n),
            )
            .filter(product::Column::Id.eq(*product_id))
            .exec(db)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modules::catalogue::{category::subtree, service::MAX_PRICE_FEN};

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
            ..Default::default()
        }
    }

    #[test]
    fn skus_are_written_in_id_order_new_ones_last() {
        let with_id = |id: Option<i64>, v: &str| SkuDraft {
            id,
            ..draft(&[("c", v)], 100)
        };
        let skus = [
            with_id(Some(9), "a"),
            with_id(None, "n1"),
            with_id(Some(3), "b"),
            with_id(Some(7), "c"),
            with_id(None, "n2"),
        ];
        assert_eq!(write_order(&skus), vec![2, 3, 0, 1, 4]);
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
