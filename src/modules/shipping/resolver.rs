//! Shipping templates: ADMIN reads and writes; the region table is public.
use async_graphql::{Context, ID, Object, Result};

use super::{
    regions,
    service::{self},
    types::{Region, ShippingTemplate, ShippingTemplateInput},
};
use crate::{api::ids::parse_id, auth::ViewerExt, state::AppState};

#[derive(Default)]
pub struct ShippingQuery;

#[Object]
impl ShippingQuery {
    /// The store's shipping templates, oldest first (ADMIN); retired ones
    /// only with `includeRetired`. A store has a handful, so not paged.
    async fn shipping_templates(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = false)] include_retired: bool,
    ) -> Result<Vec<ShippingTemplate>> {
        ctx.viewer().admin_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::templates(state, include_retired)
            .await?
            .into_iter()
            .map(ShippingTemplate::try_from)
            .collect::<Result<_, _>>()?)
    }

    /// One shipping template (ADMIN), retired or not.
    async fn shipping_template(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<Option<ShippingTemplate>> {
        ctx.viewer().admin_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(service::template(state, id)
            .await?
            .map(ShippingTemplate::try_from)
            .transpose()?)
    }

    /// The mainland's provinces and prefecture-level cities that templates
    /// and addresses name (GB/T 2260), each province followed by its cities.
    async fn shipping_regions(&self) -> Vec<Region> {
        regions::all().iter().copied().map(Region::from).collect()
    }
}

#[derive(Default)]
pub struct ShippingAdminMutation;

#[Object]
impl ShippingAdminMutation {
    /// Adds a shipping template (ADMIN). Regions by name or code; bad input
    /// (unknown or overlapping regions, negative fees) names its field.
    async fn create_shipping_template(
        &self,
        ctx: &Context<'_>,
        input: ShippingTemplateInput,
    ) -> Result<ShippingTemplate> {
        ctx.viewer().admin_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::create_template(state, input.into())
            .await?
            .try_into()?)
    }

    /// Replaces a template's name and rules (ADMIN); the next preview and
    /// order are priced by them, placed orders keep their shipping.
    async fn update_shipping_template(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ShippingTemplateInput,
    ) -> Result<ShippingTemplate> {
        ctx.viewer().admin_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(service::update_template(state, id, input.into())
            .await?
            .try_into()?)
    }

    /// Retires a template no product uses any more (ADMIN; `CONFLICT` while
    /// one does): it leaves `shippingTemplates` and cannot be given to a
    /// product again.
    async fn retire_shipping_template(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<ShippingTemplate> {
        ctx.viewer().admin_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(service::retire_template(state, id).await?.try_into()?)
    }
}
