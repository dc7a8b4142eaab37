//! Checkout and order operations.
use async_graphql::{Context, ID, Object, Result, connection::Connection};
use entity::{product, sku};

use super::{
    address::{self, AddressData},
    after_sale, cart, fulfillment, service,
    types::{
        Address, AddressInput, AdminRefundInput, AfterSale, AfterSaleFilter, AfterSaleInput,
        ApproveAfterSaleInput, Cart, CartItem, Fulfillment, FulfillmentStatus, Order, OrderFilter,
        OrderStatus, Reconciliation, Refund, RefundFilter,
    },
};
use crate::{
    api::{
        ids::{lookup_id, parse_id},
        pagination::{TotalCount, decode_cursor, id_connection, id_connection_with, page_size},
    },
    auth::{Viewer, ViewerExt},
    error::AppResult,
    modules::catalogue::service as catalogue,
    state::AppState,
};

pub type OrderConnection = Connection<String, Order, TotalCount>;

pub type RefundConnection = Connection<String, Refund, TotalCount>;
pub type AfterSaleConnection = Connection<String, AfterSale, TotalCount>;

async fn after_sale_page(
    state: &AppState,
    filter: after_sale::Filter,
    first: Option<i32>,
    after: Option<String>,
) -> Result<AfterSaleConnection> {
    let first = page_size(first)?;
    let after: Option<i64> = decode_cursor(after.as_deref())?;
    let (rows, more) = after_sale::list(state, &filter, first, after).await?;
    Ok(id_connection_with(
        rows.into_iter().map(|r| (r.id, AfterSale(r))).collect(),
        more,
        after.is_some(),
        after_sale::total(&filter),
    ))
}

pub type FulfillmentConnection = Connection<String, Fulfillment>;

async fn load_cart(state: &AppState, customer_id: i64) -> AppResult<Cart> {
    let items = cart::items(state, customer_id).await?;
    let sku_ids: Vec<i64> = items.iter().map(|i| i.sku_id).collect();
    let found: std::collections::HashMap<i64, (sku::Model, product::Model)> =
        catalogue::skus_with_products(&state.db, &sku_ids)
            .await?
            .into_iter()
            .map(|(s, p)| (s.id, (s, p)))
            .collect();
    let undeliverable = super::shipping_plan::undeliverable_to_default(
        &state.db,
        customer_id,
        found.values().map(|(s, p)| (s, p)),
    )
    .await?;
    Ok(Cart {
        items: items
            .into_iter()
            .filter_map(|i| {
                let (sku, product) = found.get(&i.sku_id)?.clone();
                Some(CartItem {
                    deliverable: !undeliverable.contains(&sku.id),
                    sku,
                    product,
                    quantity: i.quantity,
                })
            })
            .collect(),
    })
}

#[derive(Default)]
pub struct OrderQuery;

#[Object]
impl OrderQuery {
    /// The signed-in customer's cart (CUSTOMER).
    async fn cart(&self, ctx: &Context<'_>) -> Result<Cart> {
        let me = ctx.viewer().customer_id()?;
        Ok(load_cart(ctx.data_unchecked::<AppState>(), me).await?)
    }

    /// The customer's addresses, default first (CUSTOMER).
    async fn my_addresses(&self, ctx: &Context<'_>) -> Result<Vec<Address>> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(address::my_addresses(state, me)
            .await?
            .into_iter()
            .map(Address::from)
            .collect())
    }

    /// The customer's order history, newest first (CUSTOMER).
    async fn my_orders(
        &self,
        ctx: &Context<'_>,
        status: Option<OrderStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrderConnection> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let filter = service::OrderFilter {
            customer_id: Some(me),
            status: status.map(Into::into),
            ..Default::default()
        };
        let (rows, more) = service::list(state, &filter, first, after).await?;
        Ok(id_connection_with(
            rows.into_iter().map(|r| (r.id, Order(r))).collect(),
            more,
            after.is_some(),
            service::total(&filter),
        ))
    }

    /// One order: its buyer's or, for ADMIN, any. Null for anyone else.
    async fn order(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Order>> {
        let viewer = ctx.viewer();
        if !matches!(viewer, Viewer::Admin(_) | Viewer::Customer(_)) {
            viewer.customer_id()?;
        }
        let state = ctx.data_unchecked::<AppState>();
        let Some(id) = lookup_id(&id) else {
            return Ok(None);
        };
        let found = service::find(state, id).await?;
        Ok(found
            .filter(|o| viewer.is_admin() || viewer.customer_id().ok() == Some(o.customer_id))
            .map(Order))
    }

    /// Every order, newest first, filtered (ADMIN).
    async fn orders(
        &self,
        ctx: &Context<'_>,
        filter: Option<OrderFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<OrderConnection> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let filter = service::OrderFilter::try_from(filter.unwrap_or_default())?;
        let (rows, more) = service::list(state, &filter, first, after).await?;
        Ok(id_connection_with(
            rows.into_iter().map(|r| (r.id, Order(r))).collect(),
            more,
            after.is_some(),
            service::total(&filter),
        ))
    }

    /// Refunds, newest first, filtered (ADMIN): the queue `approveRefund`
    /// and `rejectRefund` work from (`status: PENDING` for those waiting).
    async fn refunds(
        &self,
        ctx: &Context<'_>,
        filter: Option<RefundFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<RefundConnection> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let f = filter.unwrap_or_default();
        let filter = service::RefundFilter {
            statuses: f.status.map(|s| s.stored()).unwrap_or_default(),
            order_id: f
                .order_id
                .as_ref()
                .map(|o| parse_id(o, "filter.orderId"))
                .transpose()?,
            from: f.from.map(Into::into),
            to: f.to.map(Into::into),
        };
        let (rows, more) = service::refunds(state, &filter, first, after).await?;
        Ok(id_connection_with(
            rows.into_iter().map(|r| (r.id, Refund(r))).collect(),
            more,
            after.is_some(),
            service::total_refunds(&filter),
        ))
    }

    /// The signed-in customer's after-sales, newest first (CUSTOMER).
    async fn my_after_sales(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<AfterSaleConnection> {
        let me = ctx.viewer().customer_id()?;
        let filter = after_sale::Filter {
            customer_id: Some(me),
            ..Default::default()
        };
        after_sale_page(ctx.data_unchecked::<AppState>(), filter, first, after).await
    }

    /// After-sales, newest first, filtered: ADMIN all; a SUPPLIER those
    /// with a line it ships.
    async fn after_sales(
        &self,
        ctx: &Context<'_>,
        filter: Option<AfterSaleFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<AfterSaleConnection> {
        let supplier = match ctx.viewer() {
            Viewer::Admin(_) => None,
            v => Some(v.supplier_id()?),
        };
        let f = filter.unwrap_or_default();
        let filter = after_sale::Filter {
            supplier_id: supplier,
            status: f.status.map(|s| s.as_str()),
            order_id: f
                .order_id
                .as_ref()
                .map(|o| parse_id(o, "filter.orderId"))
                .transpose()?,
            from: f.from.map(Into::into),
            to: f.to.map(Into::into),
            ..Default::default()
        };
        after_sale_page(ctx.data_unchecked::<AppState>(), filter, first, after).await
    }

    /// Fulfillments to ship, newest first: a SUPPLIER's own, or (ADMIN) all.
    async fn supplier_fulfillments(
        &self,
        ctx: &Context<'_>,
        status: Option<FulfillmentStatus>,
        #[graphql(desc = "Only those their supplier declined (true) or not (false).")]
        declined: Option<bool>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<FulfillmentConnection> {
        let supplier = match ctx.viewer() {
            Viewer::Admin(_) => None,
            v => Some(v.supplier_id()?),
        };
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let status = status.map(FulfillmentStatus::as_str);
        let (rows, more) =
            fulfillment::list(state, supplier, status, declined, first, after).await?;
        Ok(id_connection(
            rows.into_iter().map(|r| (r.id, Fulfillment(r))).collect(),
            more,
            after.is_some(),
        ))
    }
}

#[derive(Default)]
pub struct OrderMutation;

#[Object]
impl OrderMutation {
    /// Adds units of a SKU to the cart (CUSTOMER); a line holds at most 99.
    async fn add_to_cart(&self, ctx: &Context<'_>, sku_id: ID, quantity: i32) -> Result<Cart> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        cart::add(state, me, parse_id(&sku_id, "skuId")?, quantity).await?;
        Ok(load_cart(state, me).await?)
    }

    /// Sets a cart line's quantity, 1 to 99 (CUSTOMER).
    async fn update_cart_item(&self, ctx: &Context<'_>, sku_id: ID, quantity: i32) -> Result<Cart> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        cart::update(state, me, parse_id(&sku_id, "skuId")?, quantity).await?;
        Ok(load_cart(state, me).await?)
    }

    /// Removes SKUs from the cart (CUSTOMER).
    async fn remove_from_cart(&self, ctx: &Context<'_>, sku_ids: Vec<ID>) -> Result<Cart> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let ids = sku_ids
            .iter()
            .enumerate()
            .map(|(i, s)| parse_id(s, &format!("skuIds[{i}]")))
            .collect::<AppResult<Vec<_>>>()?;
        cart::remove(state, me, &ids).await?;
        Ok(load_cart(state, me).await?)
    }

    /// Saves a new shipping address, or with `input.id` changes one of the
    /// caller's own (CUSTOMER).
    async fn save_address(&self, ctx: &Context<'_>, input: AddressInput) -> Result<Address> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let data = AddressData {
            name: input.name,
            phone: input.phone,
            province: input.province,
            city: input.city,
            district: input.district,
            detail: input.detail,
        };
        let id = input
            .id
            .as_ref()
            .map(|id| parse_id(id, "input.id"))
            .transpose()?;
        Ok(address::save_address(state, me, id, data, input.is_default)
            .await?
            .into())
    }

    /// Deletes one of the caller's addresses; when it was the default, the
    /// newest remaining one becomes the default (CUSTOMER). Placed orders
    /// keep the address they ship to.
    async fn delete_address(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        address::delete_address(state, me, parse_id(&id, "id")?).await?;
        Ok(true)
    }

    /// Cancels an unpaid order and gives its stock back (CUSTOMER, own orders).
    async fn cancel_order(&self, ctx: &Context<'_>, id: ID) -> Result<Order> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Order(
            service::cancel_own(state, me, parse_id(&id, "id")?).await?,
        ))
    }

    /// Confirms a shipped order was received (CUSTOMER, own orders).
    async fn confirm_receipt(&self, ctx: &Context<'_>, id: ID) -> Result<Order> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Order(
            service::confirm_receipt(state, me, parse_id(&id, "id")?).await?,
        ))
    }

    /// Asks for an after-sale on some units of some lines of a paid,
    /// shipped or (within the window) completed goods order (CUSTOMER, own
    /// orders). The same key with the same request returns the same one.
    async fn request_after_sale(
        &self,
        ctx: &Context<'_>,
        input: AfterSaleInput,
        idempotency_key: String,
    ) -> Result<AfterSale> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let (reason, description, images) = after_sale::check_text(
            &input.reason,
            input.description.as_deref(),
            input.images.as_deref().unwrap_or_default(),
        )?;
        let lines = input
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Ok((
                    parse_id(&l.order_line_id, &format!("lines[{i}].orderLineId"))?,
                    l.quantity,
                ))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let req = after_sale::Request {
            order_id: parse_id(&input.order_id, "orderId")?,
            kind: input.kind.as_str(),
            lines,
            reason,
            description,
            images,
        };
        Ok(AfterSale(
            after_sale::request(state, me, req, &idempotency_key).await?,
        ))
    }

    /// Withdraws an after-sale before it is decided (CUSTOMER, own).
    async fn cancel_after_sale(&self, ctx: &Context<'_>, id: ID) -> Result<AfterSale> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(AfterSale(
            after_sale::cancel(state, me, parse_id(&id, "id")?).await?,
        ))
    }

    /// Asks for a full refund of a paid or shipped order (CUSTOMER, own orders).
    async fn request_refund(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        reason: String,
    ) -> Result<Refund> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Refund(
            service::request_refund(state, me, parse_id(&order_id, "orderId")?, &reason).await?,
        ))
    }

    /// Approves a refund: the money goes back (ADMIN: CUSTOMER_SERVICE).
    async fn approve_refund(&self, ctx: &Context<'_>, refund_id: ID) -> Result<Refund> {
        ctx.viewer().staff_id(crate::auth::staff::SERVICE)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Refund(
            service::approve_refund(state, parse_id(&refund_id, "refundId")?).await?,
        ))
    }

    /// Refuses a refund; the order goes back to where it was (ADMIN: CUSTOMER_SERVICE).
    async fn reject_refund(
        &self,
        ctx: &Context<'_>,
        refund_id: ID,
        note: Option<String>,
    ) -> Result<Refund> {
        ctx.viewer().staff_id(crate::auth::staff::SERVICE)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Refund(
            service::reject_refund(state, parse_id(&refund_id, "refundId")?, note).await?,
        ))
    }

    /// The calling SUPPLIER says it has received these fulfillments of its
    /// own (from `supplierFulfillments` or its webhook): from then on its
    /// stock sync's counts are taken to have their units gone already.
    /// Returns how many were newly acknowledged; ids it does not own are
    /// `NOT_FOUND`, and acknowledging again changes nothing.
    async fn acknowledge_fulfillments(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<i32> {
        let me = ctx.viewer().supplier_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let ids = ids
            .iter()
            .enumerate()
            .map(|(i, s)| parse_id(s, &format!("ids[{i}]")))
            .collect::<AppResult<Vec<_>>>()?;
        let n = fulfillment::acknowledge(state, me, &ids).await?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    /// Approves a requested after-sale (ADMIN: CUSTOMER_SERVICE): a refund only is refunded
    /// at once; a return waits for the buyer's parcel. `input.amountFen`
    /// may lower what goes back, never raise it.
    async fn approve_after_sale(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: Option<ApproveAfterSaleInput>,
    ) -> Result<AfterSale> {
        ctx.viewer().staff_id(crate::auth::staff::SERVICE)?;
        let state = ctx.data_unchecked::<AppState>();
        let input = input.unwrap_or_default();
        let approval = after_sale::decide::Approval {
            amount_fen: input.amount_fen.map(|m| m.0),
            return_address: input.return_address,
        };
        Ok(AfterSale(
            after_sale::decide::approve(state, parse_id(&id, "id")?, approval).await?,
        ))
    }

    /// Refuses a requested after-sale, saying why (ADMIN: CUSTOMER_SERVICE).
    async fn reject_after_sale(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<AfterSale> {
        ctx.viewer().staff_id(crate::auth::staff::SERVICE)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(AfterSale(
            after_sale::decide::reject(state, parse_id(&id, "id")?, &reason).await?,
        ))
    }

    /// Says how the goods of an approved return were sent back (CUSTOMER,
    /// own after-sales).
    async fn submit_return_shipment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        carrier: String,
        tracking_no: String,
    ) -> Result<AfterSale> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(AfterSale(
            after_sale::decide::submit_return(
                state,
                me,
                parse_id(&id, "id")?,
                &carrier,
                &tracking_no,
            )
            .await?,
        ))
    }

    /// The returned goods arrived (ADMIN, or the SUPPLIER that shipped those
    /// lines); `restock` puts the units back in stock; the refund goes.
    async fn confirm_return_received(
        &self,
        ctx: &Context<'_>,
        id: ID,
        restock: bool,
    ) -> Result<AfterSale> {
        let viewer = ctx.viewer();
        if !matches!(viewer, Viewer::Supplier(_)) {
            viewer.staff_id(crate::auth::staff::SERVICE)?;
        }
        let state = ctx.data_unchecked::<AppState>();
        Ok(AfterSale(
            after_sale::decide::confirm_received(state, viewer, parse_id(&id, "id")?, restock)
                .await?,
        ))
    }

    /// Refunds lines or an amount of a paid goods order at once, without a
    /// buyer's request (ADMIN: CUSTOMER_SERVICE): a supplier cannot ship, a goodwill refund.
    /// The same key and input return the same after-sale.
    async fn refund_order(
        &self,
        ctx: &Context<'_>,
        order_id: ID,
        input: AdminRefundInput,
        idempotency_key: String,
    ) -> Result<AfterSale> {
        ctx.viewer().staff_id(crate::auth::staff::SERVICE)?;
        let state = ctx.data_unchecked::<AppState>();
        let lines = input
            .lines
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, l)| {
                Ok((
                    parse_id(&l.order_line_id, &format!("input.lines[{i}].orderLineId"))?,
                    l.quantity,
                ))
            })
            .collect::<AppResult<Vec<_>>>()?;
        let refund = after_sale::decide::AdminRefund {
            lines,
            amount_fen: input.amount_fen.map(|m| m.0),
            reason: input.reason,
            restock: input.restock,
        };
        Ok(AfterSale(
            after_sale::decide::refund_order(
                state,
                parse_id(&order_id, "orderId")?,
                refund,
                &idempotency_key,
            )
            .await?,
        ))
    }

    /// The calling SUPPLIER cannot ship this fulfillment of its own (out of
    /// stock at its end, say): it goes to the store's queue
    /// (`supplierFulfillments(declined: true)`), which refunds it
    /// (`refundOrder`) or ships it another way. Only a PENDING one.
    async fn decline_fulfillment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> Result<Fulfillment> {
        let me = ctx.viewer().supplier_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Fulfillment(
            fulfillment::decline(state, me, parse_id(&id, "id")?, &reason).await?,
        ))
    }

    /// Sends a FAILED refund again (ADMIN: CUSTOMER_SERVICE, FINANCE): under the same `out_refund_no`
    /// when WeChat Pay never took it, a new one when WeChat Pay closed it.
    async fn retry_refund(&self, ctx: &Context<'_>, refund_id: ID) -> Result<Refund> {
        ctx.viewer()
            .staff_id(crate::auth::staff::REFUND_FOLLOW_UP)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Refund(
            service::retry_failed(state, parse_id(&refund_id, "refundId")?).await?,
        ))
    }

    /// Records a FAILED refund as paid back another way (ADMIN: CUSTOMER_SERVICE, FINANCE): REFUNDED,
    /// the note kept with its reason; nothing is sent.
    async fn settle_refund(
        &self,
        ctx: &Context<'_>,
        refund_id: ID,
        note: String,
    ) -> Result<Refund> {
        ctx.viewer()
            .staff_id(crate::auth::staff::REFUND_FOLLOW_UP)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Refund(
            service::settle_failed(state, parse_id(&refund_id, "refundId")?, &note).await?,
        ))
    }

    /// Ships a fulfillment: a SUPPLIER its own, ADMIN (OPERATIONS) any. The order becomes
    /// SHIPPED when all its fulfillments have shipped.
    async fn ship_fulfillment(
        &self,
        ctx: &Context<'_>,
        id: ID,
        carrier: String,
        tracking_no: String,
    ) -> Result<Fulfillment> {
        let viewer = ctx.viewer();
        if viewer.is_admin() {
            viewer.staff_id(crate::auth::staff::OPERATIONS)?;
        } else {
            viewer.supplier_id()?;
        }
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&id, "id")?;
        Ok(Fulfillment(
            fulfillment::ship(state, viewer, id, &carrier, &tracking_no).await?,
        ))
    }
}

/// Reconciliation against WeChat Pay's trade bill (ADMIN).
#[derive(Default)]
pub struct ReconciliationQuery;

#[Object]
impl ReconciliationQuery {
    /// The reconciliation of a day (`YYYY-MM-DD`, China time) and what did
    /// not match; null when that day was never reconciled (ADMIN: FINANCE).
    async fn reconciliation(
        &self,
        ctx: &Context<'_>,
        date: String,
    ) -> Result<Option<Reconciliation>> {
        ctx.viewer().staff_id(crate::auth::staff::FINANCE)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(super::reconcile::run_of(state, date.trim())
            .await?
            .map(Reconciliation))
    }
}

#[derive(Default)]
pub struct ReconciliationMutation;

#[Object]
impl ReconciliationMutation {
    /// Reconciles a day (`YYYY-MM-DD`) against WeChat Pay's trade bill now,
    /// replacing an earlier run's list (ADMIN: FINANCE). The jobs loop does it for
    /// yesterday once a day by itself.
    async fn run_reconciliation(&self, ctx: &Context<'_>, date: String) -> Result<Reconciliation> {
        ctx.viewer().staff_id(crate::auth::staff::FINANCE)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Reconciliation(
            super::reconcile::reconcile_on_demand(state, date.trim()).await?,
        ))
    }
}
