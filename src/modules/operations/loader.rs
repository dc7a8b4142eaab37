//! DataLoaders of customer figures and tags (a page of customers asks for
//! each in one statement).
use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use entity::customer_stats;
use sea_orm::DatabaseConnection;

use super::service;
use crate::error::AppError;

pub struct StatsLoader(pub DatabaseConnection);

impl Loader<i64> for StatsLoader {
    type Value = customer_stats::Model;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        Ok(service::stats_of(&self.0, keys)
            .await?
            .into_iter()
            .map(|s| (s.customer_id, s))
            .collect())
    }
}

pub struct TagsLoader(pub DatabaseConnection);

impl Loader<i64> for TagsLoader {
    type Value = Vec<String>;
    type Error = AppError;

    async fn load(&self, keys: &[i64]) -> Result<HashMap<i64, Self::Value>, Self::Error> {
        service::tags_of(&self.0, keys).await
    }
}
