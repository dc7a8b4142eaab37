//! Shipping templates on an order (preview, single and batch placing
//! alike): the template of each line (its product's, else its supplier's
//! default), and the plan that charges them for the order's address, or
//! `UNDELIVERABLE` for a line the address is outside of. Placing calls
//! this before anything is written.
use std::collections::{HashMap, HashSet};

use sea_orm::ConnectionTrait;

use super::{
    address::AddressData,
    place::{Links, PricedLine},
};
use crate::{
    error::AppResult,
    modules::{
        pricing::PricingInput,
        shipping::service::{self as shipping, LineToShip, Templates},
    },
};

/// What pricing needs to know about the templates of some lines.
pub(super) struct Facts {
    templates: Templates,
    /// Default template by supplier id.
    by_supplier: HashMap<i64, i64>,
}

impl Facts {
    /// The template a line is charged by: its product's, else its
    /// supplier's default, else none (the flat rule).
    fn template_of(
        &self,
        product: &entity::product::Model,
        sku_id: i64,
        links: &Links,
    ) -> Option<i64> {
        product.shipping_template_id.or_else(|| {
            links
                .get(&sku_id)
                .and_then(|l| self.by_supplier.get(&l.supplier_id).copied())
        })
    }
}

/// Reads the templates these lines can be charged by (two queries at
/// most; none when no product has a template and no line a supplier).
pub(super) async fn facts_for<'a>(
    db: &impl ConnectionTrait,
    products: impl IntoIterator<Item = &'a entity::product::Model>,
    links: &Links,
) -> AppResult<Facts> {
    let suppliers: Vec<i64> = links
        .values()
        .map(|l| l.supplier_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let by_supplier = shipping::supplier_defaults(db, &suppliers).await?;
    let ids: Vec<i64> = products
        .into_iter()
        .filter_map(|p| p.shipping_template_id)
        .chain(by_supplier.values().copied())
        .collect();
    Ok(Facts {
        templates: shipping::templates_by_ids(db, &ids).await?,
        by_supplier,
    })
}

/// Sets `input`'s shipping plan for `lines` going to `address` (`None`: a
/// preview with no address yet, charged by the default rules).
pub(super) fn apply(
    input: &mut PricingInput,
    facts: &Facts,
    lines: &[PricedLine],
    links: &Links,
    address: Option<&AddressData>,
) -> AppResult<()> {
    let labels: Vec<String> = lines
        .iter()
        .map(|l| {
            format!(
                "{} ({})",
                l.product.title,
                super::place::spec_text(&l.sku.specs)
            )
        })
        .collect();
    let to_ship: Vec<LineToShip<'_>> = lines
        .iter()
        .zip(&labels)
        .map(|(l, label)| LineToShip {
            sku_id: l.sku.id,
            label,
            template_id: facts.template_of(&l.product, l.sku.id, links),
            unit_grams: i64::from(l.sku.weight_grams.unwrap_or(0)),
        })
        .collect();
    input.shipping_plan = shipping::plan(
        &facts.templates,
        &to_ship,
        address.map(|a| shipping::Address {
            province: &a.province,
            city: &a.city,
        }),
    )?;
    Ok(())
}

/// [`facts_for`] then [`apply`], for one order; `links` when already read.
pub(super) async fn plan_for(
    db: &impl ConnectionTrait,
    input: &mut PricingInput,
    lines: &[PricedLine],
    links: Option<&Links>,
    address: Option<&AddressData>,
) -> AppResult<()> {
    let read;
    let links = match links {
        Some(l) => l,
        None => {
            let ids: Vec<i64> = lines.iter().map(|l| l.sku.id).collect();
            read = super::place::links_of(db, &ids).await?;
            &read
        }
    };
    let facts = facts_for(db, lines.iter().map(|l| &l.product), links).await?;
    apply(input, &facts, lines, links, address)
}

/// Where a preview ships to: the address asked for (`NOT_FOUND` when not
/// the caller's), else the default one, else none yet.
pub(super) async fn preview_address(
    db: &impl ConnectionTrait,
    customer_id: i64,
    address_id: Option<i64>,
) -> AppResult<Option<AddressData>> {
    let mine = super::address::addresses_of(db, &[customer_id]).await?;
    match address_id {
        Some(_) => super::address::pick(&mine, customer_id, address_id).map(|a| Some(a.into())),
        None => Ok(mine.first().map(AddressData::from)),
    }
}

/// The SKUs among `lines` (SKU with product) whose shipping template does
/// not deliver to the customer's default address (the cart flags them).
/// None without a default address.
pub async fn undeliverable_to_default<'a>(
    db: &impl ConnectionTrait,
    customer_id: i64,
    lines: impl IntoIterator<Item = (&'a entity::sku::Model, &'a entity::product::Model)>,
) -> AppResult<HashSet<i64>> {
    let lines: Vec<_> = lines.into_iter().collect();
    let mut out = HashSet::new();
    if lines.is_empty() {
        return Ok(out);
    }
    let Some(home) = preview_address(db, customer_id, None).await? else {
        return Ok(out);
    };
    let ids: Vec<i64> = lines.iter().map(|(s, _)| s.id).collect();
    let links = super::place::links_of(db, &ids).await?;
    let facts = facts_for(db, lines.iter().map(|(_, p)| *p), &links).await?;
    let dest = shipping::destination(&home.province, &home.city);
    for (sku, product) in lines {
        let Some(t) = facts
            .template_of(product, sku.id, &links)
            .and_then(|id| facts.templates.get(&id))
        else {
            continue;
        };
        if !dest.as_ref().is_some_and(|d| t.delivers_to(d)) {
            out.insert(sku.id);
        }
    }
    Ok(out)
}
