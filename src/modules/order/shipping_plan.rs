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
