//! GraphQL shapes of suppliers. A supplier's name shows on the orders it
//! ships; everything else here is for ADMIN and the owning SUPPLIER.
use async_graphql::{
    Context, Enum, ID, InputObject, Object, Result, SimpleObject, connection::Connection,
    dataloader::DataLoader,
};
use entity::{product, sku, supplier, supplier_sku_link, webhook_delivery};

use super::{loader::SupplierLoader, service, webhook};
use crate::api::scalars::Timestamp;
use crate::{
    api::{
        ids::to_id,
        pagination::{decode_cursor, id_connection, page_size},
        scalars::Money,
    },
    auth::{Viewer, ViewerExt},
    modules::catalogue::types::Sku,
    state::AppState,
};

/// A drop-shipping supplier (一件代发).
pub struct Supplier(pub supplier::Model);

#[Object]
impl Supplier {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Company or shop name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Contact person or phone: for ADMIN and this SUPPLIER; null for
    /// anyone else (a shopper sees only the name on its order).
    async fn contact(&self, ctx: &Context<'_>) -> Option<&str> {
        self.private(ctx)
            .then_some(self.0.contact.as_deref())
            .flatten()
    }
    /// Where new fulfillments are POSTed (signed), if anywhere: for ADMIN
    /// and this SUPPLIER; null for anyone else.
    async fn webhook_url(&self, ctx: &Context<'_>) -> Option<&str> {
        self.private(ctx)
            .then_some(self.0.webhook_url.as_deref())
            .flatten()
    }
    /// Whether its integration may sign in (`setSupplierActive`): for ADMIN
    /// and this SUPPLIER; null for anyone else.
    async fn active(&self, ctx: &Context<'_>) -> Option<bool> {
        self.private(ctx).then_some(self.0.active)
    }
    /// Where buyers send back what it shipped: for ADMIN and this
    /// SUPPLIER (a buyer sees it on its approved return).
    async fn return_address(&self, ctx: &Context<'_>) -> Option<&str> {
        self.private(ctx)
            .then_some(self.0.return_address.as_deref())
            .flatten()
    }
    /// When the supplier was added.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
    /// Its webhook deliveries, newest first, optionally of one status: for
    /// ADMIN and this SUPPLIER; null for anyone else.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        status: Option<WebhookDeliveryStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<String, WebhookDelivery>>> {
        if !self.private(ctx) {
            return Ok(None);
        }
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let (rows, more) = webhook::list(
            state,
            self.0.id,
            status.map(WebhookDeliveryStatus::as_str),
            first,
            after,
        )
        .await?;
        Ok(Some(id_connection(
            rows.into_iter()
                .map(|d| (d.id, WebhookDelivery(d)))
                .collect(),
            more,
            after.is_some(),
        )))
    }
    /// The live SKUs it ships (linked with `linkSkuToSupplier`), newest SKU
    /// first, with their products and link terms: for ADMIN and this
    /// SUPPLIER; null for anyone else.
    async fn skus(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Option<Connection<String, SupplierSku>>> {
        if !self.private(ctx) {
            return Ok(None);
        }
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let (rows, more) = service::linked_skus(state, self.0.id, first, after).await?;
        Ok(Some(id_connection(
            rows.into_iter()
                .map(|(sku, product, link)| (sku.id, SupplierSku { sku, product, link }))
                .collect(),
            more,
            after.is_some(),
        )))
    }
}

/// A SKU a supplier ships, with its product and the link's terms.
pub struct SupplierSku {
    sku: sku::Model,
    product: product::Model,
    link: supplier_sku_link::Model,
}

#[Object]
impl SupplierSku {
    /// The SKU.
    async fn sku(&self) -> Sku {
        Sku(self.sku.clone())
    }
    /// Its product's id.
    async fn product_id(&self) -> ID {
        to_id(self.product.id)
    }
    /// Its product's title.
    async fn product_title(&self) -> &str {
        &self.product.title
    }
    /// The supplier's own code for the SKU.
    async fn supplier_sku_code(&self) -> &str {
        &self.link.supplier_sku_code
    }
    /// What the store pays the supplier per unit (fen).
    async fn cost_fen(&self) -> Money {
        Money(self.link.cost_fen)
    }
    /// Shipped by the supplier straight to the buyer.
    async fn drop_ship(&self) -> bool {
        self.link.drop_ship
    }
}

/// Where a webhook delivery is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookDeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// The supplier answered 2xx.
    Delivered,
    /// Given up after its attempts; `retryWebhookDelivery` tries once more.
    Failed,
}

impl WebhookDeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookDeliveryStatus::Pending => webhook::PENDING,
            WebhookDeliveryStatus::Delivered => webhook::DELIVERED,
            WebhookDeliveryStatus::Failed => webhook::FAILED,
        }
    }

    fn of(s: &str) -> Self {
        match s {
            webhook::DELIVERED => WebhookDeliveryStatus::Delivered,
            webhook::FAILED => WebhookDeliveryStatus::Failed,
            _ => WebhookDeliveryStatus::Pending,
        }
    }
}

/// One event POSTed (signed) to a supplier's webhook URL, retried with
/// back-off (ADMIN and the owning SUPPLIER only).
pub struct WebhookDelivery(pub webhook_delivery::Model);

#[Object]
impl WebhookDelivery {
    /// Opaque id (sent as `X-Siyu-Delivery`).
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The event, e.g. `fulfillment.created`.
    async fn event(&self) -> &str {
        &self.0.event
    }
    /// Where it is.
    async fn status(&self) -> WebhookDeliveryStatus {
        WebhookDeliveryStatus::of(&self.0.status)
    }
    /// Attempts made so far.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// What went wrong at the last failed attempt (HTTP status, timeout,
    /// refused address); null once delivered or before any attempt.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When it was queued.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
    /// When the supplier accepted it.
    async fn delivered_at(&self) -> Option<Timestamp> {
        self.0.delivered_at.map(Into::into)
    }
    /// When it is attempted next: only while PENDING.
    async fn next_attempt_at(&self) -> Option<Timestamp> {
        (self.0.status == webhook::PENDING).then(|| self.0.next_attempt_at.into())
    }
    /// The fulfillment it is about.
    async fn fulfillment_id(&self) -> ID {
        to_id(self.0.fulfillment_id)
    }
}

impl Supplier {
    /// The supplier's own details are for ADMIN and for that SUPPLIER.
    fn private(&self, ctx: &Context<'_>) -> bool {
        match ctx.viewer() {
            Viewer::Admin(_) => true,
            Viewer::Supplier(id) => id == self.0.id,
            _ => false,
        }
    }
}

/// A new supplier and its API key: shown this once, stored only as a hash.
#[derive(SimpleObject)]
pub struct SupplierWithKey {
    /// The supplier.
    pub supplier: Supplier,
    /// The integration's key for `supplierLogin`. Keep it secret; it cannot be shown again.
    pub api_key: String,
    /// Key that signs webhooks to this supplier (HMAC-SHA256 of
    /// `"<X-Siyu-Timestamp>.<body>"`, sent as `X-Siyu-Signature: sha256=<hex>`).
    pub webhook_secret: String,
}

/// A supplier's new API key from `rotateSupplierKey`: shown this once,
/// stored only as a hash. The old key and every session signed in with it
/// stopped working.
#[derive(SimpleObject)]
pub struct SupplierKey {
    /// The supplier.
    pub supplier: Supplier,
    /// The integration's new key for `supplierLogin`. Keep it secret; it cannot be shown again.
    pub api_key: String,
}

/// Who ships a SKU and at what cost (ADMIN and the owning SUPPLIER only).
pub struct SupplierLink(pub supplier_sku_link::Model);

#[Object]
impl SupplierLink {
    /// The supplier that ships this SKU.
    async fn supplier(&self, ctx: &Context<'_>) -> Result<Supplier> {
        let loader = ctx.data_unchecked::<DataLoader<SupplierLoader>>();
        let found = loader.load_one(self.0.supplier_id).await?;
        found
            .map(Supplier)
            .ok_or_else(|| crate::error::AppError::NotFound("supplier not found".into()).into())
    }
    /// The supplier's own code for the SKU.
    async fn supplier_sku_code(&self) -> &str {
        &self.0.supplier_sku_code
    }
    /// What the store pays the supplier per unit (fen).
    async fn cost_fen(&self) -> Money {
        Money(self.0.cost_fen)
    }
    /// Shipped by the supplier straight to the buyer.
    async fn drop_ship(&self) -> bool {
        self.0.drop_ship
    }
}

/// A new supplier, or (`updateSupplier`) a supplier's details.
#[derive(InputObject)]
pub struct SupplierInput {
    /// 1-64 characters.
    pub name: String,
    /// Contact person or phone.
    pub contact: Option<String>,
    /// http(s) URL that receives new fulfillments.
    pub webhook_url: Option<String>,
    /// Where buyers send back what this supplier shipped (at most 300
    /// characters); without it, returns go to `STORE_RETURN_ADDRESS`.
    pub return_address: Option<String>,
}

/// Links a SKU to a supplier.
#[derive(InputObject)]
pub struct SupplierLinkInput {
    /// An existing supplier.
    pub supplier_id: ID,
    /// The supplier's code for the SKU, unique per supplier.
    pub supplier_sku_code: String,
    /// Cost per unit (fen).
    pub cost_fen: Money,
    /// Shipped by the supplier straight to the buyer.
    pub drop_ship: bool,
}

/// Result of a supplier's stock sync.
#[derive(SimpleObject)]
pub struct StockSyncResult {
    /// SKUs updated.
    pub updated: i32,
    /// Codes that match no SKU of this supplier (nothing was done for them).
    pub unknown_codes: Vec<String>,
}

/// One SKU's stock (and optionally cost) from a supplier, by the supplier's code.
#[derive(InputObject)]
pub struct SupplierStockInput {
    /// The supplier's SKU code.
    pub supplier_sku_code: String,
    /// Units the supplier can still ship, 0 to 10,000,000, not counting
    /// the fulfillments it has already received (acknowledged). The store
    /// sells that many less the units its unpaid orders hold and those of
    /// paid orders whose fulfillment the supplier has not acknowledged.
    pub stock: i32,
    /// New cost per unit (fen).
    pub cost_fen: Option<Money>,
}
