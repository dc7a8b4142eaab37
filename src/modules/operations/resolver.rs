//! Customer operations (ADMIN): lists, tags, segments, metrics.
use async_graphql::{Context, ID, Object, Result};

use super::{
    service,
    types::{CustomerFilter, RfmGrid, Segment, SegmentUpdateInput, TagCount},
};
use crate::{
    api::{
        ids::parse_id,
        pagination::{TotalCount, decode_cursor, id_connection_with, page_size},
    },
    auth::ViewerExt,
    modules::customer::types::{Customer, CustomerConnection},
    state::AppState,
};

fn ids(list: &[ID]) -> Result<Vec<i64>> {
    Ok(list
        .iter()
        .enumerate()
        .map(|(i, id)| parse_id(id, &format!("customerIds[{i}]")))
        .collect::<Result<_, _>>()?)
}

#[derive(Default)]
pub struct OperationsQuery;

#[Object]
impl OperationsQuery {
    /// Customers matching the filter, newest first; `totalCount` counts
    /// them all (only when selected) (ADMIN).
    async fn customers(
        &self,
        ctx: &Context<'_>,
        filter: Option<CustomerFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<CustomerConnection> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let filter = service::Filter::from(filter.unwrap_or_default()).checked("filter")?;
        let (rows, more) = service::customers(state, &filter, first, after).await?;
        Ok(id_connection_with(
            rows.into_iter()
                .map(|c| (c.id, Customer::from(c)))
                .collect(),
            more,
            after.is_some(),
            TotalCount::of(service::customers_query(state, &filter).await?),
        ))
    }

    /// Buyers per recency × frequency score, as the jobs loop last counted
    /// them with the cutoffs (ADMIN).
    async fn rfm_grid(&self, ctx: &Context<'_>) -> Result<RfmGrid> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(RfmGrid(service::store_scale(state).await?))
    }

    /// Saved segments, newest first (ADMIN).
    async fn segments(&self, ctx: &Context<'_>) -> Result<Vec<Segment>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::segments(state)
            .await?
            .into_iter()
            .map(Segment)
            .collect())
    }

    /// Every tag in use, with how many customers carry it (ADMIN).
    async fn customer_tags(&self, ctx: &Context<'_>) -> Result<Vec<TagCount>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::all_tags(state)
            .await?
            .into_iter()
            .map(|(tag, n)| TagCount {
                tag,
                customers: n as i32,
            })
            .collect())
    }
}

#[derive(Default)]
pub struct OperationsMutation;

#[Object]
impl OperationsMutation {
    /// Puts tags (1-10, each 1-20 characters) on customers (1-1000); tags
    /// they already have stay. Returns how many customers were tagged (ADMIN: OPERATIONS).
    async fn tag_customers(
        &self,
        ctx: &Context<'_>,
        customer_ids: Vec<ID>,
        tags: Vec<String>,
    ) -> Result<i32> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::tag(state, &ids(&customer_ids)?, &tags).await?)
    }

    /// Takes tags off customers; returns how many tags came off (ADMIN: OPERATIONS).
    async fn untag_customers(
        &self,
        ctx: &Context<'_>,
        customer_ids: Vec<ID>,
        tags: Vec<String>,
    ) -> Result<i32> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::untag(state, &ids(&customer_ids)?, &tags).await?)
    }

    /// Saves a customer filter as a segment; it is re-evaluated whenever it
    /// is used (ADMIN: OPERATIONS).
    async fn create_segment(
        &self,
        ctx: &Context<'_>,
        name: String,
        filter: CustomerFilter,
    ) -> Result<Segment> {
        let admin = ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Segment(
            service::create_segment(state, admin, &name, filter.into()).await?,
        ))
    }

    /// Renames a segment or replaces its filter (ADMIN: OPERATIONS).
    async fn update_segment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: SegmentUpdateInput,
    ) -> Result<Segment> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(Segment(
            service::update_segment(
                state,
                id,
                input.name.as_deref(),
                input.filter.map(Into::into),
            )
            .await?,
        ))
    }

    /// Deletes a segment; campaigns run to it stay in `campaigns` with its
    /// name (ADMIN: OPERATIONS).
    async fn delete_segment(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        service::delete_segment(state, parse_id(&id, "id")?).await?;
        Ok(true)
    }
}
