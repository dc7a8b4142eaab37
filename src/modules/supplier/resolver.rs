//! Supplier administration (ADMIN; a SUPPLIER may retry its own webhook deliveries).
use async_graphql::{Context, ID, Object, Result};

use super::{
    service::{self, LinkDraft, SupplierDraft},
    types::{Supplier, SupplierInput, SupplierLinkInput, SupplierWithKey, WebhookDelivery},
    webhook,
};
use crate::{
    api::ids::{lookup_id, parse_id},
    auth::{Viewer, ViewerExt},
    error::AppError,
    modules::catalogue::types::Sku,
    state::AppState,
};

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

    /// One supplier (ADMIN; a SUPPLIER gets its own and null for any
    /// other); null when unknown.
    async fn supplier(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Supplier>> {
        match ctx.viewer() {
            Viewer::Supplier(own) if lookup_id(&id) != Some(own) => return Ok(None),
            Viewer::Supplier(_) => {}
            v => {
                v.staff_id(crate::auth::staff::ANY)?;
            }
        }
        let Some(id) = lookup_id(&id) else {
            return Ok(None);
        };
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::suppliers_by_ids(&state.db, &[id])
            .await?
            .into_iter()
            .next()
            .map(Supplier))
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

    /// Changes a supplier's name, contact, webhook URL and return address
    /// (ADMIN: OPERATIONS), checked as `createSupplier` checks them; each is
    /// set as given (omitted = cleared). Pending webhook deliveries go to a
    /// new URL from their next attempt. Keys and the active flag stay.
    async fn update_supplier(
        &self,
        ctx: &Context<'_>,
        supplier_id: ID,
        input: SupplierInput,
    ) -> Result<Supplier> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&supplier_id, "supplierId")?;
        let draft = SupplierDraft {
            name: input.name,
            contact: input.contact,
            webhook_url: input.webhook_url,
            return_address: input.return_address,
        };
        Ok(Supplier(service::update_supplier(state, id, draft).await?))
    }

    /// Gives a supplier a new webhook signing secret (ADMIN: OPERATIONS),
    /// shown in the answer this once; every attempt from now on, pending
    /// deliveries' included, is signed with it.
    async fn rotate_supplier_webhook_secret(
        &self,
        ctx: &Context<'_>,
        supplier_id: ID,
    ) -> Result<String> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&supplier_id, "supplierId")?;
        Ok(service::rotate_webhook_secret(state, id).await?)
    }

    /// Removes a SKU's supplier link (ADMIN: OPERATIONS): orders placed from
    /// now on are self-operated; orders already placed keep the supplier and
    /// cost their lines took. A SKU without a link is returned as it is.
    async fn unlink_sku_from_supplier(&self, ctx: &Context<'_>, sku_id: ID) -> Result<Sku> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let sku_id = parse_id(&sku_id, "skuId")?;
        Ok(Sku(service::unlink_sku(state, sku_id).await?))
    }

    /// Gives a webhook delivery that was given up (FAILED) one more attempt,
    /// due now and sent to the supplier's current URL (ADMIN: OPERATIONS, or
    /// the SUPPLIER it is for). Answers it as PENDING; if the attempt fails
    /// it is FAILED again. CONFLICT when it is not FAILED.
    async fn retry_webhook_delivery(&self, ctx: &Context<'_>, id: ID) -> Result<WebhookDelivery> {
        let own = match ctx.viewer() {
            Viewer::Supplier(s) => Some(s),
            v => {
                v.staff_id(crate::auth::staff::OPERATIONS)?;
                None
            }
        };
        let state = ctx.data_unchecked::<AppState>();
        let not_found = || AppError::NotFound("webhook delivery not found".into());
        let id = lookup_id(&id).ok_or_else(not_found)?;
        let found = webhook::find(state, id)
            .await?
            .filter(|d| own.is_none_or(|s| d.supplier_id == s))
            .ok_or_else(not_found)?;
        Ok(WebhookDelivery(webhook::retry(state, &found).await?))
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
