//! Shipping templates: ADMIN reads and writes; the region table is public.
use async_graphql::{Context, ID, Object, Result};

use super::{
    regions,
    service::{self},
    types::{Region, ShippingTemplate, ShippingTemplateInput, SupplierShippingTemplate},
};
use crate::{
    api::ids::{parse_id, to_id},
    auth::ViewerExt,
    state::AppState,
};

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
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
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
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(service::template(state, id)
            .await?
            .map(ShippingTemplate::try_from)
            .transpose()?)
    }

    /// Suppliers' default templates (ADMIN), by supplier id; suppliers
    /// without one are not listed.
    async fn supplier_shipping_templates(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<SupplierShippingTemplate>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        let defaults = service::supplier_defaults_all(state).await?;
        let templates = service::templates(state, true).await?;
        let mut out = Vec::with_capacity(defaults.len());
        for (supplier, template) in defaults {
            let t = templates.iter().find(|t| t.id == template).cloned();
            out.push(SupplierShippingTemplate {
                supplier_id: to_id(supplier),
                shipping_template: t.map(ShippingTemplate::try_from).transpose()?,
            });
        }
        Ok(out)
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
    /// Adds a shipping template (ADMIN: OPERATIONS). Regions by name or code; bad input
    /// (unknown or overlapping regions, negative fees) names its field.
    async fn create_shipping_template(
        &self,
        ctx: &Context<'_>,
        input: ShippingTemplateInput,
    ) -> Result<ShippingTemplate> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::create_template(state, input.into())
            .await?
            .try_into()?)
    }

    /// Replaces a template's name and rules (ADMIN: OPERATIONS); the next preview and
    /// order are priced by them, placed orders keep their shipping.
    async fn update_shipping_template(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ShippingTemplateInput,
    ) -> Result<ShippingTemplate> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(service::update_template(state, id, input.into())
            .await?
            .try_into()?)
    }

    /// Sets a supplier's default template (ADMIN: OPERATIONS): its products that name
    /// no template of their own are charged by it. Null clears it.
    async fn set_supplier_shipping_template(
        &self,
        ctx: &Context<'_>,
        supplier_id: ID,
        shipping_template_id: Option<ID>,
    ) -> Result<SupplierShippingTemplate> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let sid = parse_id(&supplier_id, "supplierId")?;
        let tid = shipping_template_id
            .as_ref()
            .map(|t| parse_id(t, "shippingTemplateId"))
            .transpose()?;
        let t = service::set_supplier_default(state, sid, tid).await?;
        Ok(SupplierShippingTemplate {
            supplier_id: to_id(sid),
            shipping_template: t.map(ShippingTemplate::try_from).transpose()?,
        })
    }

    /// Retires a template no product or supplier uses any more (ADMIN;
    /// `CONFLICT` while one does): it leaves `shippingTemplates` and cannot
    /// be given to a product or supplier again.
    async fn retire_shipping_template(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> Result<ShippingTemplate> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(service::retire_template(state, id).await?.try_into()?)
    }
}
