//! GraphQL shapes of the catalogue.
use async_graphql::{
    Context, Enum, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject,
    dataloader::DataLoader,
};
use entity::{category, product, sku};

use super::{
    loader::{CategoryLoader, SkusByProductLoader},
    service::{self, ProductBundle, Spec},
};
use crate::api::scalars::Timestamp;
use crate::{
    api::{ids::to_id, scalars::Money},
    auth::ViewerExt,
    modules::supplier::{loader::SupplierLinkLoader, types::SupplierLink},
    state::AppState,
};

/// Whether shoppers can see and buy a product.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProductStatus {
    /// Listed and for sale.
    OnShelf,
    /// Hidden from shoppers.
    OffShelf,
}

impl ProductStatus {
    fn parse(s: &str) -> Self {
        if s == service::ON_SHELF {
            ProductStatus::OnShelf
        } else {
            ProductStatus::OffShelf
        }
    }
}

/// Order of a product list.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProductSort {
    /// Best sellers first (units sold), then newest.
    Hot,
    /// Newest first.
    Newest,
    /// Cheapest (lowest SKU price) first.
    PriceAsc,
    /// Dearest (lowest SKU price) first.
    PriceDesc,
}

impl From<ProductSort> for service::Sort {
    fn from(s: ProductSort) -> Self {
        match s {
            ProductSort::Hot => service::Sort::Hot,
            ProductSort::Newest => service::Sort::Newest,
            ProductSort::PriceAsc => service::Sort::PriceAsc,
            ProductSort::PriceDesc => service::Sort::PriceDesc,
        }
    }
}

/// A name/value pair describing a SKU, e.g. 规格: 500g.
#[derive(SimpleObject, Clone)]
pub struct SpecValue {
    /// The dimension, e.g. 规格 or 颜色.
    pub name: String,
    /// The option, e.g. 500g or 红.
    pub value: String,
}

/// A spec pair as input.
#[derive(InputObject, Clone)]
pub struct SpecValueInput {
    /// The dimension, e.g. 规格.
    pub name: String,
    /// The option, e.g. 500g.
    pub value: String,
}

pub fn specs_of(json: &str) -> Vec<SpecValue> {
    serde_json::from_str::<Vec<Spec>>(json)
        .unwrap_or_default()
        .into_iter()
        .map(|s| SpecValue {
            name: s.name,
            value: s.value,
        })
        .collect()
}

/// A catalogue category; categories form a tree.
pub struct Category(pub category::Model);

#[Object]
impl Category {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Parent category id; null at the top level.
    async fn parent_id(&self) -> Option<ID> {
        self.0.parent_id.map(to_id)
    }
    /// The parent category; null at the top level.
    async fn parent(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let Some(pid) = self.0.parent_id else {
            return Ok(None);
        };
        let loader = ctx.data_unchecked::<DataLoader<CategoryLoader>>();
        Ok(loader.load_one(pid).await?.map(Category))
    }
    /// Direct sub-categories, in display order.
    async fn children(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let all = service::categories(ctx.data_unchecked::<AppState>()).await?;
        Ok(all
            .into_iter()
            .filter(|c| c.parent_id == Some(self.0.id))
            .map(Category)
            .collect())
    }
    /// Display order among siblings: smaller first.
    async fn sort(&self) -> i32 {
        self.0.sort
    }
    /// Icon image URL.
    async fn icon_url(&self) -> Option<&str> {
        self.0.icon_url.as_deref()
    }
}

/// A product (SPU) with its SKUs.
pub struct Product {
    pub model: product::Model,
    /// SKUs already at hand (from the cache); otherwise loaded in a batch.
    pub skus: Option<Vec<sku::Model>>,
}

impl From<ProductBundle> for Product {
    fn from(b: ProductBundle) -> Self {
        Product {
            model: b.product,
            skus: Some(b.skus),
        }
    }
}

impl From<product::Model> for Product {
    fn from(model: product::Model) -> Self {
        Product { model, skus: None }
    }
}

#[Object]
impl Product {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.model.id)
    }
    /// Title shown in lists and on the detail page.
    async fn title(&self) -> &str {
        &self.model.title
    }
    /// One-line selling point.
    async fn subtitle(&self) -> Option<&str> {
        self.model.subtitle.as_deref()
    }
    /// Detail text.
    async fn description(&self) -> Option<&str> {
        self.model.description.as_deref()
    }
    /// Image URLs; the first is the cover.
    async fn images(&self) -> Vec<String> {
        serde_json::from_str(&self.model.images).unwrap_or_default()
    }
    /// The product's category.
    async fn category(&self, ctx: &Context<'_>) -> Result<Option<Category>> {
        let loader = ctx.data_unchecked::<DataLoader<CategoryLoader>>();
        Ok(loader.load_one(self.model.category_id).await?.map(Category))
    }
    /// Brand name.
    async fn brand(&self) -> Option<&str> {
        self.model.brand.as_deref()
    }
    /// ON_SHELF or OFF_SHELF.
    async fn status(&self) -> ProductStatus {
        ProductStatus::parse(&self.model.status)
    }
    /// The purchasable variants.
    async fn skus(&self, ctx: &Context<'_>) -> Result<Vec<Sku>> {
        let list = match &self.skus {
            Some(s) => s.clone(),
            None => {
                let loader = ctx.data_unchecked::<DataLoader<SkusByProductLoader>>();
                loader.load_one(self.model.id).await?.unwrap_or_default()
            }
        };
        Ok(list.into_iter().map(Sku).collect())
    }
    /// Units sold, all time.
    async fn sales_count(&self) -> i64 {
        self.model.sales_count
    }
    /// Lowest SKU price (fen).
    async fn min_price_fen(&self) -> Option<Money> {
        Some(Money(self.model.min_price_fen))
    }
    /// Highest SKU price (fen).
    async fn max_price_fen(&self) -> Option<Money> {
        Some(Money(self.model.max_price_fen))
    }
    /// Pin rank on the hot list (smaller first); null when not pinned.
    async fn hot_pin(&self) -> Option<i32> {
        self.model.hot_pin
    }
    /// The shipping template (运费模板) its lines are charged by; null =
    /// the store's flat fee.
    async fn shipping_template_id(&self) -> Option<ID> {
        self.model.shipping_template_id.map(to_id)
    }
    /// When the product was created.
    async fn created_at(&self) -> Timestamp {
        self.model.created_at.into()
    }
    /// When the product or its SKUs last changed.
    async fn updated_at(&self) -> Timestamp {
        self.model.updated_at.into()
    }
}

/// One purchasable variant of a product.
pub struct Sku(pub sku::Model);

#[Object]
impl Sku {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The variant's name/value pairs.
    async fn specs(&self) -> Vec<SpecValue> {
        specs_of(&self.0.specs)
    }
    /// Price (fen).
    async fn price_fen(&self) -> Money {
        Money(self.0.price_fen)
    }
    /// Crossed-out list price (fen), when set.
    async fn original_price_fen(&self) -> Option<Money> {
        self.0.original_price_fen.map(Money)
    }
    /// Price for members (fen), when set; otherwise members get their plan's discount.
    async fn member_price_fen(&self) -> Option<Money> {
        self.0.member_price_fen.map(Money)
    }
    /// Units in stock.
    async fn stock(&self) -> i32 {
        self.0.stock
    }
    /// Weight in grams (shipping templates charging by weight), when known.
    async fn weight_grams(&self) -> Option<i32> {
        self.0.weight_grams
    }
    /// The spec's own image, shown in the SKU picker; null = the product's cover.
    async fn image_url(&self) -> Option<&str> {
        self.0.image_url.as_deref()
    }
    /// Code or barcode (unique among the store's live SKUs), when given.
    async fn code(&self) -> Option<&str> {
        self.0.code.as_deref()
    }
    /// In stock and still sold.
    async fn available(&self) -> bool {
        self.0.stock > 0 && !self.0.archived
    }
    /// Who ships this SKU, at what cost: for ADMIN and the SUPPLIER it belongs to; null for everyone else.
    async fn supplier_link(&self, ctx: &Context<'_>) -> Result<Option<SupplierLink>> {
        let viewer = ctx.viewer();
        let may_look = viewer.is_admin() || viewer.supplier_id().is_ok();
        if !may_look {
            return Ok(None);
        }
        let loader = ctx.data_unchecked::<DataLoader<SupplierLinkLoader>>();
        let link = loader.load_one(self.0.id).await?;
        Ok(link
            .filter(|l| viewer.is_admin() || viewer.supplier_id().ok() == Some(l.supplier_id))
            .map(SupplierLink))
    }
}

/// A new category.
#[derive(InputObject)]
pub struct CategoryInput {
    /// Display name, 1-32 characters.
    pub name: String,
    /// Parent category; none = top level.
    pub parent_id: Option<ID>,
    /// Display order among siblings (default 0).
    pub sort: Option<i32>,
    /// Icon image URL.
    pub icon_url: Option<String>,
}

/// A SKU of a new product.
#[derive(InputObject)]
pub struct SkuInput {
    /// 1-5 name/value pairs, unique within the product.
    pub specs: Vec<SpecValueInput>,
    /// Price (fen), 0 to 100,000,000.
    pub price_fen: Money,
    /// Crossed-out list price (fen), not below the price.
    pub original_price_fen: Option<Money>,
    /// Member price (fen), not above the price.
    pub member_price_fen: Option<Money>,
    /// Units in stock, 0 to 10,000,000.
    pub stock: i32,
    /// Weight in grams, 0 to 1,000,000 (templates charging by weight count
    /// it; a SKU without one weighs nothing there).
    pub weight_grams: Option<i32>,
    /// The spec's own image: an http(s) URL.
    pub image_url: Option<String>,
    /// Code or barcode, up to 64 characters without spaces, unique among the
    /// store's live SKUs.
    pub code: Option<String>,
}

/// A SKU in `updateProduct`: with `id` it changes that SKU, without it adds one.
#[derive(InputObject)]
pub struct SkuUpdateInput {
    /// An existing live SKU of the product; omit for a new SKU.
    pub id: Option<ID>,
    /// 1-5 name/value pairs, unique within the product.
    pub specs: Vec<SpecValueInput>,
    /// Price (fen).
    pub price_fen: Money,
    /// Crossed-out list price (fen).
    pub original_price_fen: Option<Money>,
    /// Member price (fen).
    pub member_price_fen: Option<Money>,
    /// Units in stock. Omit it to keep an existing SKU's stock (orders keep
    /// taking it while the form is open; `setSkuStock` changes it on purpose).
    pub stock: Option<i32>,
    /// Weight in grams (omitted: none, as for the other optional fields), 0 to 1,000,000 (templates charging by weight count
    /// it; a SKU without one weighs nothing there).
    pub weight_grams: Option<i32>,
    /// The spec's own image: an http(s) URL.
    pub image_url: Option<String>,
    /// Code or barcode, up to 64 characters without spaces, unique among the
    /// store's live SKUs.
    pub code: Option<String>,
}

/// A new product with its SKUs (listed ON_SHELF).
#[derive(InputObject)]
pub struct ProductInput {
    /// 1-100 characters.
    pub title: String,
    /// Up to 200 characters.
    pub subtitle: Option<String>,
    /// Up to 20,000 characters.
    pub description: Option<String>,
    /// An existing category.
    pub category_id: ID,
    /// Up to 64 characters.
    pub brand: Option<String>,
    /// Up to 20 http(s) URLs; the first is the cover.
    pub images: Option<Vec<String>>,
    /// 1-100 SKUs.
    pub skus: Vec<SkuInput>,
    /// The shipping template its lines are charged by (not a retired one);
    /// none = the store's flat fee.
    pub shipping_template_id: Option<ID>,
}

/// Changes to a product: only what is given changes. `skus`, when given, is
/// the complete new list: SKUs left out are archived (past orders keep them).
#[derive(InputObject)]
pub struct ProductUpdateInput {
    /// 1-100 characters.
    pub title: Option<String>,
    /// Up to 200 characters; empty clears it.
    pub subtitle: Option<String>,
    /// Up to 20,000 characters; empty clears it.
    pub description: Option<String>,
    /// An existing category.
    pub category_id: Option<ID>,
    /// Up to 64 characters; empty clears it.
    pub brand: Option<String>,
    /// Up to 20 http(s) URLs.
    pub images: Option<Vec<String>>,
    /// The complete new list of SKUs.
    pub skus: Option<Vec<SkuUpdateInput>>,
    /// A shipping template (not a retired one); null takes it off (the
    /// store's flat fee), omitted leaves it.
    pub shipping_template_id: MaybeUndefined<ID>,
}
