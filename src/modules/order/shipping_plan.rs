//! Shipping templates on an order (preview, single and batch placing
//! alike): the templates of its lines' products, and the plan that charges
//! them for the order's address, or `UNDELIVERABLE` for a line the address
//! is outside of. Placing calls this before anything is written.
use super::{address::AddressData, place::PricedLine};
use crate::{
    error::AppResult,
    modules::{
        pricing::PricingInput,
        shipping::service::{self as shipping, LineToShip, Templates},
    },
};
use sea_orm::ConnectionTrait;

/// The templates of these lines' products (one query; none when no
/// product has one).
pub(super) async fn templates_for<'a>(
    db: &impl ConnectionTrait,
    products: impl IntoIterator<Item = &'a entity::product::Model>,
) -> AppResult<Templates> {
    let ids: Vec<i64> = products
        .into_iter()
        .filter_map(|p| p.shipping_template_id)
        .collect();
    shipping::templates_by_ids(db, &ids).await
}

/// Sets `input`'s shipping plan for `lines` going to `address` (`None`: a
/// preview with no address yet, charged by the default rules).
pub(super) fn apply(
    input: &mut PricingInput,
    templates: &Templates,
    lines: &[PricedLine],
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
            template_id: l.product.shipping_template_id,
            unit_grams: i64::from(l.sku.weight_grams.unwrap_or(0)),
        })
        .collect();
    input.shipping_plan = shipping::plan(
        templates,
        &to_ship,
        address.map(|a| shipping::Address {
            province: &a.province,
            city: &a.city,
        }),
    )?;
    Ok(())
}

/// [`templates_for`] then [`apply`], for one order.
pub(super) async fn plan_for(
    db: &impl ConnectionTrait,
    input: &mut PricingInput,
    lines: &[PricedLine],
    address: Option<&AddressData>,
) -> AppResult<()> {
    let templates = templates_for(db, lines.iter().map(|l| &l.product)).await?;
    apply(input, &templates, lines, address)
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

/// The products among `products` whose shipping template does not deliver
/// to the customer's default address (the cart flags their lines). Reads
/// nothing when no product has a template; none without a default address.
pub async fn undeliverable_to_default<'a>(
    db: &impl ConnectionTrait,
    customer_id: i64,
    products: impl IntoIterator<Item = &'a entity::product::Model>,
) -> AppResult<std::collections::HashSet<i64>> {
    let with_template: Vec<&entity::product::Model> = products
        .into_iter()
        .filter(|p| p.shipping_template_id.is_some())
        .collect();
    let mut out = std::collections::HashSet::new();
    if with_template.is_empty() {
        return Ok(out);
    }
    let Some(home) = preview_address(db, customer_id, None).await? else {
        return Ok(out);
    };
    let templates = templates_for(db, with_template.iter().copied()).await?;
    let dest = shipping::destination(&home.province, &home.city);
    for p in with_template {
        let Some(t) = p.shipping_template_id.and_then(|id| templates.get(&id)) else {
            continue;
        };
        if !dest.as_ref().is_some_and(|d| t.delivers_to(d)) {
            out.insert(p.id);
        }
    }
    Ok(out)
}
