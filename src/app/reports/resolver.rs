//! The reports' queries (ADMIN).
use async_graphql::{Context, Object, Result};

use super::{service, types::StoreMetrics};
use crate::api::scalars::Timestamp;
use crate::{auth::ViewerExt, state::AppState};

#[derive(Default)]
pub struct ReportsQuery;

#[Object]
impl ReportsQuery {
    /// The store's figures from `from` (inclusive) to `to` (exclusive) (ADMIN).
    async fn store_metrics(
        &self,
        ctx: &Context<'_>,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<StoreMetrics> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(StoreMetrics(
            service::metrics(state, from.into(), to.into()).await?,
        ))
    }
}
