//! DataLoaders of coupon figures: a list of templates asks for its used
//! counts in one grouped statement.
use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use sea_orm::DatabaseConnection;

use super::service;
use crate::error::AppError;

/// Coupons of a template used by an order now, by template id.
pub struct UsedCountLoader(pub DatabaseConnection);

impl Loader<i64> for UsedCountLoader {
    type Value = i64;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        service::used_counts(&self.0, keys).await
    }
}
