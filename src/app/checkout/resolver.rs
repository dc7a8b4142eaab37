//! Checkout: the mutations that place and pay orders of every kind.
use async_graphql::{Context, ID, Object, Result};

use crate::{
    api::ids::parse_id,
    auth::ViewerExt,
    error::AppResult,
    modules::order::{
        provider,
        service::{self, ItemRequest, OrderRequest, PlanKind},
        state::Status,
        types::{Order, OrderInput, OrderPreview, PlaceOrderPayload, WechatPayParams},
    },
    state::AppState,
};

fn order_request(input: OrderInput) -> AppResult<OrderRequest> {
    Ok(OrderRequest {
        items: input
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| {
                Ok(ItemRequest {
                    sku_id: parse_id(&it.sku_id, &format!("items[{i}].skuId"))?,
                    quantity: it.quantity,
                })
            })
            .collect::<AppResult<_>>()?,
        address_id: input
            .address_id
            .as_ref()
            .map(|a| parse_id(a, "addressId"))
            .transpose()?,
        coupon_id: input
            .coupon_id
            .as_ref()
            .map(|c| parse_id(c, "couponId"))
            .transpose()?,
        use_balance: input.use_balance.unwrap_or(false),
        remark: input.remark,
    })
}

/// Opens the payment of a placed order (once; a replay reuses it) and
/// returns it with the `wx.requestPayment` parameters.
pub async fn pay_placed(
    state: &AppState,
    customer_id: i64,
    order: entity::shop_order::Model,
) -> AppResult<PlaceOrderPayload> {
    let params = provider::start(state, &order).await?;
    // Starting the payment changed the order only if it paid it at once or opened a prepay.
    let changed = order.status == Status::PendingPayment.as_str()
        && (order.payable_fen == 0 || order.prepay_id.is_none() && params.is_some());
    let order = if changed {
        service::find(state, order.id).await?.unwrap_or(order)
    } else {
        order
    };
    debug_assert_eq!(order.customer_id, customer_id);
    Ok(PlaceOrderPayload {
        order: Order(order),
        wechat_pay_params: params.map(|p| WechatPayParams {
            app_id: p.app_id,
            time_stamp: p.time_stamp,
            nonce_str: p.nonce_str,
            package: p.package,
            sign_type: p.sign_type,
            pay_sign: p.pay_sign,
        }),
    })
}

#[derive(Default)]
pub struct CheckoutQuery;

#[Object]
impl CheckoutQuery {
    /// The price `placeOrder` would charge for this input (CUSTOMER).
    async fn preview_order(&self, ctx: &Context<'_>, input: OrderInput) -> Result<OrderPreview> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::preview(state, me, &order_request(input)?)
            .await?
            .into())
    }
}

#[derive(Default)]
pub struct CheckoutMutation;

#[Object]
impl CheckoutMutation {
    /// Places an order and takes its stock (CUSTOMER). The same
    /// `idempotencyKey` returns the same order and opens no second payment;
    /// with a different input it is a CONFLICT.
    async fn place_order(
        &self,
        ctx: &Context<'_>,
        input: OrderInput,
        idempotency_key: String,
    ) -> Result<PlaceOrderPayload> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let req = order_request(input)?;
        let placed = service::place(state, me, &req, &idempotency_key).await?;
        Ok(pay_placed(state, me, placed.order).await?)
    }

    /// Opens the payment of an unpaid order again, for "pay now" from the
    /// order list after the payment sheet was closed (CUSTOMER, own orders):
    /// the same WeChat Pay transaction, fresh `wx.requestPayment` parameters.
    /// CONFLICT once the order is no longer waiting for payment.
    async fn pay_order(&self, ctx: &Context<'_>, id: ID) -> Result<PlaceOrderPayload> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let order = provider::unpaid_own(state, me, parse_id(&id, "id")?).await?;
        Ok(pay_placed(state, me, order).await?)
    }

    /// Pays an order without money (demo mode only), through the same path
    /// as a verified WeChat Pay notification (CUSTOMER, own orders).
    async fn demo_pay(&self, ctx: &Context<'_>, order_id: ID) -> Result<Order> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Order(
            provider::demo_pay(state, me, parse_id(&order_id, "orderId")?).await?,
        ))
    }

    /// Buys (or extends) a membership: an order of kind MEMBERSHIP, paid by
    /// WeChat Pay, demo pay, or the balance (`useBalance`) (CUSTOMER).
    async fn buy_membership(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        use_balance: Option<bool>,
        idempotency_key: String,
    ) -> Result<PlaceOrderPayload> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let plan = parse_id(&plan_id, "planId")?;
        let placed = service::place_plan_order(
            state,
            me,
            PlanKind::Membership,
            plan,
            use_balance.unwrap_or(false),
            &idempotency_key,
        )
        .await?;
        Ok(pay_placed(state, me, placed.order).await?)
    }

    /// Tops up the stored balance: an order of kind TOP_UP, paid by WeChat
    /// Pay (never by the balance); principal and bonus are credited once paid (CUSTOMER).
    async fn top_up(
        &self,
        ctx: &Context<'_>,
        plan_id: ID,
        idempotency_key: String,
    ) -> Result<PlaceOrderPayload> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let plan = parse_id(&plan_id, "planId")?;
        let placed =
            service::place_plan_order(state, me, PlanKind::TopUp, plan, false, &idempotency_key)
                .await?;
        Ok(pay_placed(state, me, placed.order).await?)
    }
}
