//! A supplier's stock report (`syncSupplierStock`): the supplier's links,
//! the units its count does not yet reflect (unpaid orders, and paid ones
//! whose fulfillment it has not acknowledged), and the catalogue's stock,
//! composed in one transaction.
use async_graphql::{Context, ID, Object, Result};
use sea_orm::TransactionTrait;

use crate::{
    api::ids::parse_id,
    auth::ViewerExt,
    error::AppResult,
    modules::{
        catalogue::stock,
        order::service as orders,
        supplier::{
            service::{self as supplier, StockUpdate},
            types::{StockSyncResult, SupplierStockInput},
        },
    },
    state::AppState,
};

/// Applies a supplier's stock (and cost) by its own SKU codes. Unknown codes
/// are reported, not fatal; the known ones are applied in one transaction.
///
/// The supplier counts what it can still ship; the store's unpaid orders
/// hold units it does not know of (taken from stock when placed, given back
/// if they are cancelled), and so do paid orders whose fulfillment it has
/// not acknowledged yet (`acknowledgeFulfillments`: until then it may not
/// have received them, and its count still has their units). The stock
/// set is the supplier's count less both, never below zero. Once it
/// acknowledges a fulfillment, its count is taken to have those units
/// gone. The SKU rows are locked first, so an order placed or cancelled
/// meanwhile is counted exactly once: one that committed is in the count
/// of held units, one still waiting for the lock takes from (or gives back
/// to) the stock set here.
///
/// `seen` fulfillments (the supplier's own) are acknowledged in the same
/// transaction, before the count is applied: the count then reflects them,
/// whatever arrives meanwhile.
pub async fn sync_stock(
    state: &AppState,
    supplier_id: i64,
    items: &[StockUpdate],
    seen: &[i64],
) -> AppResult<(usize, Vec<String>)> {
    let codes = supplier::check_stock_updates(items)?;
    let txn = state.db.begin().await?;
    if !seen.is_empty() {
        // Fulfillment rows before SKU rows, the order a refund takes them in.
        orders::acknowledge_fulfillments_in(&txn, supplier_id, seen).await?;
    }
    let links = supplier::links_by_codes(&txn, supplier_id, &codes).await?;
    let sku_ids: Vec<i64> = links.values().map(|l| l.sku_id).collect();
    stock::lock(&txn, &sku_ids).await?;
    let held = orders::units_unknown_to_supplier(&txn, &sku_ids, supplier_id).await?;
    let mut unknown = Vec::new();
    let mut stocks = Vec::new();
    for (it, code) in items.iter().zip(&codes) {
        let Some(link) = links.get(code) else {
            unknown.push(code.clone());
            continue;
        };
        let held = held.get(&link.sku_id).copied().unwrap_or(0);
        let units = (i64::from(it.stock) - held).max(0);
        stocks.push((link.sku_id, i32::try_from(units).unwrap_or(i32::MAX)));
        if let Some(cost) = it.cost_fen {
            supplier::set_cost(&txn, link.sku_id, cost).await?;
        }
    }
    stock::set_in(&txn, &stocks).await?;
    txn.commit().await?;
    stock::invalidate_skus(state, &sku_ids).await?;
    Ok((stocks.len(), unknown))
}

/// What a supplier's integration does.
#[derive(Default)]
pub struct SupplierMutation;

#[Object]
impl SupplierMutation {
    /// Sets stock (and optionally cost) of the calling SUPPLIER's SKUs by its
    /// own codes; `seenFulfillmentIds` acknowledges, in the same step, the
    /// fulfillments (its own) its counts already reflect.
    async fn sync_supplier_stock(
        &self,
        ctx: &Context<'_>,
        items: Vec<SupplierStockInput>,
        seen_fulfillment_ids: Option<Vec<ID>>,
    ) -> Result<StockSyncResult> {
        let me = ctx.viewer().supplier_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let seen = seen_fulfillment_ids
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, s)| parse_id(s, &format!("seenFulfillmentIds[{i}]")))
            .collect::<AppResult<Vec<_>>>()?;
        let updates: Vec<StockUpdate> = items
            .into_iter()
            .map(|i| StockUpdate {
                supplier_sku_code: i.supplier_sku_code,
                stock: i.stock,
                cost_fen: i.cost_fen.map(|c| c.0),
            })
            .collect();
        let (updated, unknown_codes) = sync_stock(state, me, &updates, &seen).await?;
        Ok(StockSyncResult {
            updated: updated as i32,
            unknown_codes,
        })
    }
}
