//! The catalogue domain's service: its constants, the cached product
//! bundle, and the public surface of its jobs (`category`, `product`,
//! `listing`, `stock`).
use std::time::Duration;

use entity::{product, sku};
use serde::{Deserialize, Serialize};

pub const ON_SHELF: &str = "ON_SHELF";
pub const OFF_SHELF: &str = "OFF_SHELF";
/// ¥1,000,000: anything dearer is a typo in fen vs yuan.
pub const MAX_PRICE_FEN: i64 = crate::validate::MAX_FEN;
pub const MAX_STOCK: i32 = 10_000_000;
/// The hot list holds this many; `hotProducts(limit)` may ask for up to this.
pub const HOT_LIST_SIZE: u64 = 50;

pub(super) const PRODUCT_TTL: Duration = Duration::from_secs(300);
pub(super) const HOT_TTL: Duration = Duration::from_secs(60);
pub(super) const CATEGORIES_TTL: Duration = Duration::from_secs(600);

/// A product with its live SKUs: what shoppers read, and what is cached.
/// Holds no supplier data (costs never enter the cache).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProductBundle {
    pub product: product::Model,
    pub skus: Vec<sku::Model>,
}

pub use super::{
    category::{
        CategoryDraft, categories, categories_by_ids, create_category, delete_category,
        update_category,
    },
    listing::{
        Position, ProductFilter, Sort, count_products, has_products, hot_products, list_products,
        list_products_with_skus, live_sku_ids, load_bundle_fresh, product_for_shopper, skus_by_ids,
        skus_by_products, skus_with_products,
    },
    product::{
        ProductDraft, SkuDraft, Spec, count_sales, create_product, invalidate_product,
        invalidate_sales, pin_hot, set_product_status, update_product,
    },
};
