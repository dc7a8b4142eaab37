//! DataLoaders of supplier data (ADMIN and SUPPLIER views only).
use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::{supplier, supplier_sku_link};
use sea_orm::DatabaseConnection;

use super::service;
use crate::error::AppError;

/// The supplier link of SKUs, by SKU id.
pub struct SupplierLinkLoader(pub DatabaseConnection);

impl Loader<i64> for SupplierLinkLoader {
    type Value = supplier_sku_link::Model;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        Ok(service::links_by_skus(&self.0, keys)
            .await?
            .into_iter()
            .map(|l| (l.sku_id, l))
            .collect())
    }
}

pub struct SupplierLoader(pub DatabaseConnection);

impl Loader<i64> for SupplierLoader {
    type Value = supplier::Model;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        Ok(service::suppliers_by_ids(&self.0, keys)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect())
    }
}
