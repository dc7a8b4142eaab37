//! Reading the catalogue as shoppers do: a product with its live SKUs
//! (cache-aside, one entry per product so a stock change refreshes one
//! entry), filtered and sorted lists on keyset cursors, and the hot list
//! ranked by units sold in the window.
use std::{collections::HashMap, sync::Arc};

use chrono::Utc;
use entity::{product, sku};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseConnection, EntityTrait,
    ExprTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    sea_query::{Expr, Func, LikeExpr},
};
use serde::{Deserialize, Serialize};

use super::category::categories;
use super::category::subtree;
use super::service::{HOT_LIST_SIZE, HOT_TTL, ON_SHELF, PRODUCT_TTL, ProductBundle};
use crate::{
    cache::keys,
    error::{AppError, AppResult},
    state::AppState,
};
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

/// The ids of live (not archived) SKUs as a subquery, for another domain
/// that filters its own rows by them in one statement (a supplier's links).
pub fn live_sku_ids() -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(sku::Column::Id)
        .from(sku::Entity)
        .and_where(sku::Column::Archived.eq(false))
        .to_owned()
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

pub(super) async fn load_bundles(
    db: &DatabaseConnection,
    ids: &[i64],
) -> AppResult<Vec<ProductBundle>> {
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

impl Sort {
    fn name(self) -> &'static str {
        match self {
            Sort::Hot => "hot",
            Sort::Newest => "newest",
            Sort::PriceAsc => "price-asc",
            Sort::PriceDesc => "price-desc",
        }
    }
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

pub(super) async fn filter_condition(
    state: &AppState,
    filter: &ProductFilter,
) -> AppResult<Condition> {
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

/// One page of a product list: each product with its live SKUs when they
/// were asked for, and whether more products follow.
pub struct Page {
    pub rows: Vec<(product::Model, Option<Vec<sku::Model>>)>,
    pub more: bool,
}

impl Page {
    /// Roughly the bytes it holds, for the memo's bound.
    fn weight(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        self.rows
            .iter()
            .map(|(p, skus)| {
                256 + p.title.len()
                    + text(&p.subtitle)
                    + text(&p.description)
                    + p.images.len()
                    + text(&p.brand)
                    + skus
                        .iter()
                        .flatten()
                        .map(|s| 160 + s.specs.len() + text(&s.image_url) + text(&s.code))
                        .sum::<usize>()
            })
            .sum()
    }
}

/// One page of products, their live SKUs when asked for (one more
/// statement for the whole page), and whether more follow.
///
/// A shopper's page is kept in process per catalogue generation, as its
/// count is: every change a shopper could see on it (an edit, stock, units
/// sold) moves the generation, so it is as fresh as a cached response,
/// while any document or viewer asking for the same page shares it. ADMIN's
/// pages (off-shelf products too) are read from the database every time.
pub async fn list_products_with_skus(
    state: &AppState,
    filter: &ProductFilter,
    sort: Sort,
    first: u64,
    after: Option<Position>,
    with_skus: bool,
) -> AppResult<Arc<Page>> {
    // Boxed: the reads' futures are large, and nested in the memo's they
    // would otherwise sit on the worker's stack.
    let read = || {
        Box::pin(async {
            let (rows, more) = list_products(state, filter, sort, first, after.clone()).await?;
            if !with_skus || rows.is_empty() {
                let rows = rows.into_iter().map(|p| (p, None)).collect();
                return Ok(Arc::new(Page { rows, more }));
            }
            let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
            let mut skus = skus_by_products(&state.db, &ids).await?;
            let rows = rows
                .into_iter()
                .map(|p| {
                    let s = skus.remove(&p.id).unwrap_or_default();
                    (p, Some(s))
                })
                .collect();
            Ok(Arc::new(Page { rows, more }))
        })
    };
    if filter.include_off_shelf {
        return read().await;
    }
    let key = keys::product_page(
        filter.category_id,
        sort.name(),
        after.as_ref().map(|p| (p.key, p.id)),
        first,
        with_skus,
        filter.keyword.as_deref().map_or("", str::trim),
    );
    state
        .cache
        .catalogue_memo_sized(&key, |page: &Arc<Page>| page.weight(), read)
        .await
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

/// How many products match `filter`: counted once per catalogue generation
/// and kept in process (every change a count could see bumps the
/// generation), so a page does not scan every matching product for it.
pub async fn count_products(state: &AppState, filter: &ProductFilter) -> AppResult<u64> {
    let keyword = filter.keyword.as_deref().map_or("", str::trim);
    let key = keys::product_count(filter.include_off_shelf, filter.category_id, keyword);
    state
        .cache
        .catalogue_memo(&key, || async {
            Ok(product::Entity::find()
                .filter(filter_condition(state, filter).await?)
                .count(&state.db)
                .await?)
        })
        .await
}

/// Ids of the hot list, best first: admin pins (by rank), then units sold in
/// the last `HOT_WINDOW_DAYS`, then newest. On shelf only.
#[derive(FromQueryResult)]
struct IdRow {
    id: i64,
}

pub(super) async fn rank_hot_ids(db: &DatabaseConnection, window_days: u32) -> AppResult<Vec<i64>> {
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
