//! DataLoaders: one statement per batch of keys, whatever the page size.
use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{category, sku};
use sea_orm::DatabaseConnection;

use super::service;
use crate::{error::AppError, state::AppState};

/// Categories by id, from the cached tree (no statement).
pub struct CategoryLoader(pub AppState);

impl Loader<i64> for CategoryLoader {
    type Value = category::Model;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        Ok(service::categories_by_ids(&self.0, keys)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect())
    }
}

/// Live SKUs of products, by product id.
pub struct SkusByProductLoader(pub DatabaseConnection);

impl Loader<i64> for SkusByProductLoader {
    type Value = Vec<sku::Model>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        service::skus_by_products(&self.0, keys).await
    }
}

/// SKUs by id, archived ones included (an order line shows the SKU as it is now).
pub struct SkuLoader(pub DatabaseConnection);

impl Loader<i64> for SkuLoader {
    type Value = sku::Model;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        Ok(service::skus_by_ids(&self.0, keys)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect())
    }
}
