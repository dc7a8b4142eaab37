//! The reports' queries (ADMIN).
use async_graphql::{Context, Object, Result};
use chrono::{DateTime, Utc};

use super::{service, types::StoreMetrics};
use crate::{auth::ViewerExt, state::AppState};

#[derive(Default)]
pub struct ReportsQuery;

#[Object]
impl ReportsQuery {
    /// The store's figures from `from` (inclusive) to `to` (exclusive) (ADMIN).
    async fn store_metrics(
        &self,
        ctx: &Context<'_>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<StoreMetrics> {
        ctx.viewer().admin_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(StoreMetrics(service::metrics(state, from, to).await?))
    }
}
