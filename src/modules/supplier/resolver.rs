//! Supplier administration (ADMIN).
use async_graphql::{Context, ID, Object, Result};

use super::{
    service::{self, LinkDraft, SupplierDraft},
    types::{Supplier, SupplierInput, SupplierLinkInput, SupplierWithKey},
};
use crate::{api::ids::parse_id, auth::ViewerExt, modules::catalogue::types::Sku, state::AppState};

#[derive(Default)]
pub struct SupplierQuery;

#[Object]
impl SupplierQuery {
    /// Every supplier (ADMIN).
    async fn suppliers(&self, ctx: &Context<'_>) -> Result<Vec<Supplier>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::list(state)
            .await?
            .into_iter()
            .map(Supplier)
            .collect())
    }
}

#[derive(Default)]
pub struct SupplierAdminMutation;

#[Object]
impl SupplierAdminMutation {
    /// Adds a supplier (ADMIN: OPERATIONS). The API key in the answer is shown this once.
    async fn create_supplier(
        &self,
        ctx: &Context<'_>,
        input: SupplierInput,
    ) -> Result<SupplierWithKey> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let draft = SupplierDraft {
            name: input.name,
            contact: input.contact,
            webhook_url: input.webhook_url,
            return_address: input.return_address,
        };
        let (supplier, api_key) = service::create_supplier(state, draft).await?;
        Ok(SupplierWithKey {
            webhook_secret: supplier.webhook_secret.clone(),
            supplier: Supplier(supplier),
            api_key,
        })
    }

    /// Sets (or with null, clears) where buyers send back what a supplier
    /// shipped (ADMIN: OPERATIONS); returns approved after it go there by default.
    async fn set_supplier_return_address(
        &self,
        ctx: &Context<'_>,
        supplier_id: ID,
        return_address: Option<String>,
    ) -> Result<Supplier> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = crate::api::ids::parse_id(&supplier_id, "supplierId")?;
        Ok(Supplier(
            service::set_return_address(state, id, return_address.as_deref()).await?,
        ))
    }

    /// Sets which supplier ships a SKU, its code there and its cost (ADMIN: OPERATIONS).
    async fn link_sku_to_supplier(
        &self,
        ctx: &Context<'_>,
        sku_id: ID,
        input: SupplierLinkInput,
    ) -> Result<Sku> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let sku_id = parse_id(&sku_id, "skuId")?;
        let draft = LinkDraft {
            supplier_id: parse_id(&input.supplier_id, "supplierId")?,
            supplier_sku_code: input.supplier_sku_code,
            cost_fen: input.cost_fen.0,
            drop_ship: input.drop_ship,
        };
        Ok(Sku(service::link_sku(state, sku_id, draft).await?))
    }
}
