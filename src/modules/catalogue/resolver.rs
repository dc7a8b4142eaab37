//! Catalogue queries (public) and mutations (ADMIN).
use async_graphql::{
    Context, ID, MaybeUndefined, Object, Result,
    connection::{Connection, Edge},
};

use super::{
    service::{self, CategoryDraft, Position, ProductDraft, ProductFilter, SkuDraft, Spec},
    types::{
        Category, CategoryInput, Product, ProductInput, ProductSort, ProductStatus,
        ProductUpdateInput, Sku, SpecValueInput,
    },
};
use crate::{
    api::{
        ids::{lookup_id, parse_id},
        pagination::{decode_cursor, encode_cursor, page_size},
    },
    auth::ViewerExt,
    error::AppResult,
    state::AppState,
};

/// Extra fields of a product list.
pub struct ProductListInfo {
    filter: ProductFilter,
}

#[Object]
impl ProductListInfo {
    /// How many products match the filters (all pages).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(service::count_products(ctx.data_unchecked::<AppState>(), &self.filter).await?)
    }
}

pub type ProductConnection = Connection<String, Product, ProductListInfo>;

#[derive(Default)]
pub struct CatalogueQuery;

#[Object]
impl CatalogueQuery {
    /// Every category, in display order (build the tree with `parentId` or `children`).
    async fn categories(&self, ctx: &Context<'_>) -> Result<Vec<Category>> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::categories(state)
            .await?
            .into_iter()
            .map(Category)
            .collect())
    }

    /// Products, a page at a time. Shoppers see products on shelf; ADMIN sees all.
    /// `categoryId` includes its sub-categories; `keyword` matches title,
    /// subtitle and brand. Default order: NEWEST.
    async fn products(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        category_id: Option<ID>,
        keyword: Option<String>,
        sort: Option<ProductSort>,
    ) -> Result<ProductConnection> {
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let sort: service::Sort = sort.unwrap_or(ProductSort::Newest).into();
        let after: Option<Position> = decode_cursor(after.as_deref())?;
        let filter = ProductFilter {
            category_id: category_id
                .as_ref()
                .map(|c| parse_id(c, "categoryId"))
                .transpose()?,
            keyword,
            include_off_shelf: ctx.viewer().is_admin(),
        };
        // The page's SKUs in one statement with it, when the document asks
        // for them (through fragments and aliases too), instead of a
        // DataLoader batch that a busy machine may split in two.
        let look = ctx.look_ahead();
        let with_skus = look.field("nodes").field("skus").exists()
            || look.field("edges").field("node").field("skus").exists();
        let page =
            service::list_products_with_skus(state, &filter, sort, first, after.clone(), with_skus)
                .await?;
        let mut conn = Connection::with_additional_fields(
            after.is_some(),
            page.more,
            ProductListInfo { filter },
        );
        conn.edges.extend(page.rows.iter().map(|(model, skus)| {
            Edge::new(
                encode_cursor(&Position::of(sort, model)),
                Product {
                    model: model.clone(),
                    skus: skus.clone(),
                },
            )
        }));
        Ok(conn)
    }

    /// One product; null when unknown, or off shelf for anyone but ADMIN.
    async fn product(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Product>> {
        let state = ctx.data_unchecked::<AppState>();
        let Some(id) = lookup_id(&id) else {
            return Ok(None);
        };
        let bundle = if ctx.viewer().is_admin() {
            service::load_bundle_fresh(&state.db, id).await?
        } else {
            service::product_for_shopper(state, id).await?
        };
        Ok(bundle.map(Product::from))
    }

    /// The home page's hot list (1-50, default 10), served from the cache:
    /// products pinned by an admin first, then best sellers of the recent
    /// window (`HOT_WINDOW_DAYS`), then newest. On shelf only.
    async fn hot_products(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] limit: i32,
    ) -> Result<Vec<Product>> {
        let state = ctx.data_unchecked::<AppState>();
        let limit = u64::try_from(limit).unwrap_or(0);
        Ok(service::hot_products(state, limit)
            .await?
            .into_iter()
            .map(Product::from)
            .collect())
    }
}

fn specs(input: Vec<SpecValueInput>) -> Vec<Spec> {
    input
        .into_iter()
        .map(|s| Spec {
            name: s.name,
            value: s.value,
        })
        .collect()
}

fn category_draft(input: CategoryInput) -> AppResult<CategoryDraft> {
    Ok(CategoryDraft {
        name: input.name,
        parent_id: input
            .parent_id
            .as_ref()
            .map(|p| parse_id(p, "parentId"))
            .transpose()?,
        sort: input.sort.unwrap_or(0),
        icon_url: input.icon_url,
    })
}

fn product_draft(input: ProductUpdateInput) -> AppResult<ProductDraft> {
    let skus = match input.skus {
        Some(list) => Some(
            list.into_iter()
                .enumerate()
                .map(|(i, s)| {
                    Ok(SkuDraft {
                        id: s
                            .id
                            .as_ref()
                            .map(|id| parse_id(id, &format!("skus[{i}].id")))
                            .transpose()?,
                        specs: specs(s.specs),
                        price_fen: s.price_fen.0,
                        original_price_fen: s.original_price_fen.map(|m| m.0),
                        member_price_fen: s.member_price_fen.map(|m| m.0),
                        stock: s.stock,
                        weight_grams: s.weight_grams,
                        image_url: s.image_url,
                        code: s.code,
                    })
                })
                .collect::<AppResult<Vec<_>>>()?,
        ),
        None => None,
    };
    Ok(ProductDraft {
        title: input.title,
        subtitle: input.subtitle,
        description: input.description,
        category_id: input
            .category_id
            .as_ref()
            .map(|c| parse_id(c, "categoryId"))
            .transpose()?,
        brand: input.brand,
        images: input.images,
        skus,
        shipping_template_id: match input.shipping_template_id {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(t) => Some(Some(parse_id(&t, "shippingTemplateId")?)),
        },
    })
}

/// Catalogue changes: ADMIN only.
#[derive(Default)]
pub struct CatalogueAdminMutation;

#[Object]
impl CatalogueAdminMutation {
    /// Adds a category (ADMIN: OPERATIONS).
    async fn create_category(&self, ctx: &Context<'_>, input: CategoryInput) -> Result<Category> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let draft = category_draft(input)?;
        Ok(Category(service::create_category(state, draft).await?))
    }

    /// Changes a category (ADMIN: OPERATIONS): every field is set as given,
    /// as `createCategory` takes them (no `parentId`: top level; no `sort`: 0).
    /// A parent may not be the category itself or one below it.
    async fn update_category(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: CategoryInput,
    ) -> Result<Category> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        let draft = category_draft(input)?;
        Ok(Category(service::update_category(state, id, draft).await?))
    }

    /// Removes a category (ADMIN: OPERATIONS); CONFLICT while a product (on
    /// shelf or not) or a sub-category is in it.
    async fn delete_category(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        service::delete_category(state, id).await?;
        Ok(true)
    }

    /// Adds a product with its SKUs, on shelf (ADMIN: OPERATIONS).
    async fn create_product(&self, ctx: &Context<'_>, input: ProductInput) -> Result<Product> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let draft = ProductDraft {
            title: Some(input.title),
            subtitle: input.subtitle,
            description: input.description,
            category_id: Some(parse_id(&input.category_id, "categoryId")?),
            brand: input.brand,
            images: input.images,
            skus: Some(
                input
                    .skus
                    .into_iter()
                    .map(|s| SkuDraft {
                        id: None,
                        specs: specs(s.specs),
                        price_fen: s.price_fen.0,
                        original_price_fen: s.original_price_fen.map(|m| m.0),
                        member_price_fen: s.member_price_fen.map(|m| m.0),
                        stock: Some(s.stock),
                        weight_grams: s.weight_grams,
                        image_url: s.image_url,
                        code: s.code,
                    })
                    .collect(),
            ),
            shipping_template_id: Some(
                input
                    .shipping_template_id
                    .as_ref()
                    .map(|t| parse_id(t, "shippingTemplateId"))
                    .transpose()?,
            ),
        };
        Ok(service::create_product(state, draft).await?.into())
    }

    /// Changes a product and, with `skus`, its SKUs (ADMIN: OPERATIONS).
    async fn update_product(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ProductUpdateInput,
    ) -> Result<Product> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(service::update_product(state, id, product_draft(input)?)
            .await?
            .into())
    }

    /// Puts a product on or off shelf (ADMIN: OPERATIONS).
    async fn set_product_status(
        &self,
        ctx: &Context<'_>,
        id: ID,
        status: ProductStatus,
    ) -> Result<Product> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(
            service::set_product_status(state, id, status == ProductStatus::OnShelf)
                .await?
                .into(),
        )
    }

    /// Sets a SKU's stock (ADMIN: OPERATIONS), 0 to 10,000,000.
    async fn set_sku_stock(&self, ctx: &Context<'_>, sku_id: ID, stock: i32) -> Result<Sku> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let sku_id = parse_id(&sku_id, "skuId")?;
        Ok(Sku(super::stock::set(state, sku_id, stock).await?))
    }

    /// Pins a product at the top of the hot list (ADMIN: OPERATIONS); smaller `rank` first.
    async fn pin_hot_product(
        &self,
        ctx: &Context<'_>,
        product_id: ID,
        #[graphql(default = 0)] rank: i32,
    ) -> Result<Product> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&product_id, "productId")?;
        Ok(service::pin_hot(state, id, Some(rank)).await?.into())
    }

    /// Removes a product's hot-list pin (ADMIN: OPERATIONS).
    async fn unpin_hot_product(&self, ctx: &Context<'_>, product_id: ID) -> Result<Product> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&product_id, "productId")?;
        Ok(service::pin_hot(state, id, None).await?.into())
    }
}
