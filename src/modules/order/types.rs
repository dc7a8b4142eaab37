//! GraphQL shapes of checkout and orders.
use async_graphql::{
    Context, Enum, ID, InputObject, Object, Result, SimpleObject, dataloader::DataLoader,
};
use entity::{address, fulfillment, order_line, refund, shop_order};

use super::{
    address::AddressData,
    fulfillment as ful,
    loader::{FulfillmentsByOrderLoader, LinesByOrderLoader, RefundsByOrderLoader},
    service,
    state::Status,
};
use crate::api::scalars::Timestamp;
use crate::modules::pricing::Breakdown;
use crate::{
    api::{ids::to_id, scalars::Money},
    auth::{Viewer, ViewerExt},
    error::AppError,
    modules::catalogue::loader::SkuLoader,
    modules::{
        catalogue::types::{Sku, SpecValue, specs_of},
        supplier::{loader::SupplierLoader, types::Supplier},
    },
    state::AppState,
};

/// Where an order is in its life.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderStatus {
    /// Placed; waiting for payment (cancelled automatically after the deadline).
    PendingPayment,
    /// Paid; being fulfilled.
    Paid,
    /// Every fulfillment has shipped.
    Shipped,
    /// Received (confirmed, or automatically some days after shipping).
    Completed,
    /// Cancelled before payment; its stock was given back.
    Cancelled,
    /// A refund was asked for.
    Refunding,
    /// Refunded.
    Refunded,
}

impl From<Status> for OrderStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::PendingPayment => OrderStatus::PendingPayment,
            Status::Paid => OrderStatus::Paid,
            Status::Shipped => OrderStatus::Shipped,
            Status::Completed => OrderStatus::Completed,
            Status::Cancelled => OrderStatus::Cancelled,
            Status::Refunding => OrderStatus::Refunding,
            Status::Refunded => OrderStatus::Refunded,
        }
    }
}

impl From<OrderStatus> for Status {
    fn from(s: OrderStatus) -> Self {
        match s {
            OrderStatus::PendingPayment => Status::PendingPayment,
            OrderStatus::Paid => Status::Paid,
            OrderStatus::Shipped => Status::Shipped,
            OrderStatus::Completed => Status::Completed,
            OrderStatus::Cancelled => Status::Cancelled,
            OrderStatus::Refunding => Status::Refunding,
            OrderStatus::Refunded => Status::Refunded,
        }
    }
}

/// A shipping address: one of the customer's, or an order's snapshot.
pub struct Address(pub AddressData, pub AddressOf);

/// Where an [`Address`] comes from; it decides the id.
pub enum AddressOf {
    Saved(Box<address::Model>),
    /// The snapshot taken when the order (this id) was placed.
    Order(i64),
}

#[Object]
impl Address {
    /// Opaque id, unique among addresses: a saved address keeps its own; an
    /// order's snapshot has one of its own, the same wherever it is shown
    /// (not an id `saveAddress` takes).
    async fn id(&self) -> ID {
        match &self.1 {
            AddressOf::Saved(a) => to_id(a.id),
            AddressOf::Order(id) => ID(format!("order-{id}")),
        }
    }
    /// Recipient.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Recipient's mobile number.
    async fn phone(&self) -> &str {
        &self.0.phone
    }
    /// Province (省).
    async fn province(&self) -> &str {
        &self.0.province
    }
    /// City (市).
    async fn city(&self) -> &str {
        &self.0.city
    }
    /// GB/T 2260 code of the province (320000), from the bundled table;
    /// null when the name is not a mainland province it knows.
    async fn province_code(&self) -> Option<String> {
        self.codes().0
    }
    /// GB/T 2260 code of the city (320100), when the table lists it under
    /// the province (municipalities have none).
    async fn city_code(&self) -> Option<String> {
        self.codes().1
    }
    /// District (区/县).
    async fn district(&self) -> &str {
        &self.0.district
    }
    /// Street and number.
    async fn detail(&self) -> &str {
        &self.0.detail
    }
    /// The customer's default address.
    async fn is_default(&self) -> bool {
        matches!(&self.1, AddressOf::Saved(a) if a.is_default)
    }
}

impl Address {
    /// A saved address's stored codes; an order's snapshot's from its names.
    fn codes(&self) -> (Option<String>, Option<String>) {
        match &self.1 {
            AddressOf::Saved(a) => (a.province_code.clone(), a.city_code.clone()),
            AddressOf::Order(_) => {
                crate::modules::shipping::service::codes_of(&self.0.province, &self.0.city)
            }
        }
    }
}

impl From<address::Model> for Address {
    fn from(m: address::Model) -> Self {
        Address(AddressData::from(&m), AddressOf::Saved(Box::new(m)))
    }
}

/// A new shipping address.
#[derive(InputObject)]
pub struct AddressInput {
    /// The address to change; omitted: a new address.
    pub id: Option<ID>,
    /// Recipient, 1-32 characters.
    pub name: String,
    /// Mainland China mobile number.
    pub phone: String,
    /// Province (省).
    pub province: String,
    /// City (市).
    pub city: String,
    /// District (区/县).
    pub district: String,
    /// Street and number, 1-200 characters.
    pub detail: String,
    /// Make it the default address (true), or stop it being the default
    /// (false: the newest other address takes over). The first address is
    /// always the default; omitted on a change: left as it is.
    pub is_default: Option<bool>,
}

/// One line to buy.
#[derive(InputObject)]
pub struct OrderItemInput {
    /// The SKU.
    pub sku_id: ID,
    /// 1 to 99.
    pub quantity: i32,
}

/// What to buy and how to pay.
#[derive(InputObject)]
pub struct OrderInput {
    /// 1-50 lines, one per SKU.
    pub items: Vec<OrderItemInput>,
    /// Shipping address; default: the customer's default address.
    pub address_id: Option<ID>,
    /// A coupon of the customer's to apply.
    pub coupon_id: Option<ID>,
    /// Pay what the stored balance covers from it.
    pub use_balance: Option<bool>,
    /// A note for the store, up to 200 characters.
    pub remark: Option<String>,
}

/// The price breakdown (fen), in pricing order: member price, promotion,
/// coupon, shipping, balance. `placeOrder` charges exactly this.
#[derive(SimpleObject)]
pub struct OrderPreview {
    /// Goods at list prices.
    pub items_fen: Money,
    /// Saved by member prices.
    pub member_discount_fen: Money,
    /// Saved by a full-reduction promotion.
    pub promotion_discount_fen: Money,
    /// Saved by the coupon.
    pub coupon_discount_fen: Money,
    /// Shipping.
    pub shipping_fen: Money,
    /// Goods after discounts plus shipping.
    pub total_fen: Money,
    /// Paid from the stored balance.
    pub balance_fen: Money,
    /// Left to pay by WeChat Pay.
    pub payable_fen: Money,
}

impl From<Breakdown> for OrderPreview {
    fn from(b: Breakdown) -> Self {
        OrderPreview {
            items_fen: Money(b.items_fen),
            member_discount_fen: Money(b.member_discount_fen),
            promotion_discount_fen: Money(b.promotion_discount_fen),
            coupon_discount_fen: Money(b.coupon_discount_fen),
            shipping_fen: Money(b.shipping_fen),
            total_fen: Money(b.total_fen),
            balance_fen: Money(b.balance_fen),
            payable_fen: Money(b.payable_fen),
        }
    }
}

/// Parameters for `wx.requestPayment`.
#[derive(SimpleObject)]
pub struct WechatPayParams {
    /// The mini-program's appid.
    pub app_id: String,
    /// Unix seconds, as a string.
    pub time_stamp: String,
    /// Random string.
    pub nonce_str: String,
    /// `prepay_id=…`.
    pub package: String,
    /// `RSA`.
    pub sign_type: String,
    /// Signature by the merchant key.
    pub pay_sign: String,
}

/// The placed order, and how to pay what is left.
#[derive(SimpleObject)]
pub struct PlaceOrderPayload {
    /// The order.
    pub order: Order,
    /// For `wx.requestPayment` when WeChat pays part; null when nothing is left to pay or in demo mode.
    pub wechat_pay_params: Option<WechatPayParams>,
}

/// A line of an order, as it was bought.
pub struct OrderLine(pub order_line::Model);

#[Object]
impl OrderLine {
    /// Opaque id (named by after-sale requests).
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The SKU as it is now (null if it no longer exists).
    async fn sku(&self, ctx: &Context<'_>) -> Result<Option<Sku>> {
        let loader = ctx.data_unchecked::<DataLoader<SkuLoader>>();
        Ok(loader.load_one(self.0.sku_id).await?.map(Sku))
    }
    /// Product title at purchase.
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// SKU specs at purchase.
    async fn specs(&self) -> Vec<SpecValue> {
        specs_of(&self.0.specs)
    }
    /// Price charged per unit (fen), member price applied.
    async fn unit_price_fen(&self) -> Money {
        Money(self.0.unit_price_fen)
    }
    /// The SKU's list price at purchase (fen).
    async fn list_price_fen(&self) -> Money {
        Money(self.0.list_price_fen)
    }
    /// Units.
    async fn quantity(&self) -> i32 {
        self.0.quantity
    }
    /// Unit price × quantity (fen).
    async fn line_total_fen(&self) -> Money {
        Money(self.0.line_total_fen)
    }
    /// Units refunded: those of REFUNDED after-sales, or every unit once
    /// the whole order was refunded.
    async fn refunded_quantity(&self, ctx: &Context<'_>) -> Result<i32> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(super::after_sale::refunded_quantity(state, &self.0).await?)
    }
}

/// An order.
pub struct Order(pub shop_order::Model);

impl Order {
    /// Money and customer fields: the owner and ADMIN only (a supplier reaches
    /// orders through its fulfillments and sees only its own part).
    fn guard(&self, ctx: &Context<'_>) -> Result<()> {
        match ctx.viewer() {
            Viewer::Admin(_) => Ok(()),
            Viewer::Customer(c) if c == self.0.customer_id => Ok(()),
            _ => Err(AppError::Forbidden("only the buyer and the store see this".into()).into()),
        }
    }

    /// An amount of the order, behind [`Order::guard`].
    fn amount(&self, ctx: &Context<'_>, fen: i64) -> Result<Money> {
        self.guard(ctx)?;
        Ok(Money(fen))
    }
}

#[Object]
impl Order {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Human-readable number (date + sequence), also the WeChat Pay out_trade_no.
    async fn order_no(&self) -> &str {
        &self.0.order_no
    }
    /// WeChat's reminders to ship this order (`trade_manage_remind_shipping`:
    /// the buyer is waiting and WeChat has no shipping information), ADMIN
    /// only (`FORBIDDEN` otherwise); null when none came.
    async fn wechat_shipping_reminder(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::modules::wechat_platform::types::WechatShippingReminder>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(
            crate::modules::wechat_platform::service::reminder_of(state, self.0.id)
                .await?
                .map(crate::modules::wechat_platform::types::WechatShippingReminder),
        )
    }
    /// Where the order is in its life.
    async fn status(&self) -> Result<OrderStatus> {
        Ok(Status::parse(&self.0.status)?.into())
    }
    /// Lines as bought. A SUPPLIER sees only the lines it ships.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<OrderLine>> {
        let viewer = ctx.viewer();
        let loader = ctx.data_unchecked::<DataLoader<LinesByOrderLoader>>();
        let lines = loader.load_one(self.0.id).await?.unwrap_or_default();
        Ok(lines
            .into_iter()
            .filter(|l| match viewer {
                Viewer::Supplier(s) => l.supplier_id == Some(s),
                _ => true,
            })
            .map(OrderLine)
            .collect())
    }
    /// Goods at list prices (fen).
    async fn items_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        self.amount(ctx, self.0.items_fen)
    }
    /// Saved by member prices (fen).
    async fn member_discount_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        self.amount(ctx, self.0.member_discount_fen)
    }
    /// Saved by a promotion (fen).
    async fn promotion_discount_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        self.amount(ctx, self.0.promotion_discount_fen)
    }
    /// Saved by the coupon (fen).
    async fn coupon_discount_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        self.amount(ctx, self.0.coupon_discount_fen)
    }
    /// Shipping (fen).
    async fn shipping_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        self.amount(ctx, self.0.shipping_fen)
    }
    /// Goods after discounts plus shipping (fen).
    async fn total_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        self.amount(ctx, self.0.total_fen)
    }
    /// What WeChat Pay collects (fen): total minus the balance part.
    async fn payable_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        self.amount(ctx, self.0.payable_fen)
    }
    /// WeChat Pay amount received (fen).
    async fn paid_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        self.amount(ctx, self.0.paid_fen)
    }
    /// Paid from the stored balance (fen).
    async fn balance_paid_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        self.amount(ctx, self.0.balance_fen)
    }
    /// Shipping address at purchase (the buyer and ADMIN; a SUPPLIER reads
    /// it on its fulfillment, for a while).
    async fn shipping_address(&self, ctx: &Context<'_>) -> Result<Option<Address>> {
        self.guard(ctx)?;
        Ok(self
            .0
            .address
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
            .map(|a| Address(a, AddressOf::Order(self.0.id))))
    }
    /// The buyer's note.
    async fn remark(&self) -> Option<&str> {
        self.0.remark.as_deref()
    }
    /// When it was placed.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
    /// Unpaid orders are cancelled at this time.
    async fn pay_deadline(&self) -> Timestamp {
        self.0.expires_at.into()
    }
    /// When it was paid.
    async fn paid_at(&self) -> Option<Timestamp> {
        self.0.paid_at.map(Into::into)
    }
    /// When its last fulfillment shipped.
    async fn shipped_at(&self) -> Option<Timestamp> {
        self.0.shipped_at.map(Into::into)
    }
    /// When it completed.
    async fn completed_at(&self) -> Option<Timestamp> {
        self.0.completed_at.map(Into::into)
    }
    /// One per supplier (and one for self-operated lines); empty until paid.
    /// A SUPPLIER sees only its own.
    async fn fulfillments(&self, ctx: &Context<'_>) -> Result<Vec<Fulfillment>> {
        let viewer = ctx.viewer();
        let loader = ctx.data_unchecked::<DataLoader<FulfillmentsByOrderLoader>>();
        Ok(loader
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter(|f| match viewer {
                Viewer::Supplier(s) => f.supplier_id == Some(s),
                _ => true,
            })
            .map(Fulfillment)
            .collect())
    }
    /// Its after-sales, oldest first (the buyer and ADMIN).
    async fn after_sales(&self, ctx: &Context<'_>) -> Result<Vec<AfterSale>> {
        self.guard(ctx)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(super::after_sale::of_order(state, self.0.id)
            .await?
            .into_iter()
            .map(AfterSale)
            .collect())
    }
    /// What has gone back to the buyer so far (fen), whole-order refunds
    /// and after-sales alike, counted from approval (the WeChat part may
    /// still be on its way): the buyer and ADMIN.
    async fn refunded_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        self.guard(ctx)?;
        let loader = ctx.data_unchecked::<DataLoader<RefundsByOrderLoader>>();
        let refunds = loader.load_one(self.0.id).await?.unwrap_or_default();
        Ok(Money(
            refunds
                .iter()
                .filter(|r| r.status != super::provider::REFUND_PENDING && r.status != "REJECTED")
                .map(|r| r.amount_fen)
                .sum(),
        ))
    }
    /// What paid it, oldest first: the stored balance's part and WeChat
    /// Pay's, with WeChat's transaction id to find it on the merchant
    /// platform (the buyer and ADMIN). A WeChat payment that arrived after
    /// the order could take it shows `refundDue`: it went straight back.
    async fn payments(&self, ctx: &Context<'_>) -> Result<Vec<OrderPayment>> {
        self.guard(ctx)?;
        let state = ctx.data_unchecked::<AppState>();
        let paid = super::query::payments_of(&state.db, self.0.id).await?;
        let balance = crate::modules::wallet::service::payments_for_order(state, self.0.id).await?;
        let mut out: Vec<(chrono::DateTime<chrono::Utc>, OrderPayment)> = balance
            .into_iter()
            .map(|t| {
                (
                    t.created_at,
                    OrderPayment {
                        method: PaymentMethod::Balance,
                        // The ledger debits the balance: its amount is negative.
                        amount_fen: Money(t.amount_fen.abs()),
                        transaction_id: None,
                        refund_due: false,
                        paid_at: t.created_at.into(),
                    },
                )
            })
            .chain(paid.into_iter().map(|p| {
                (
                    p.created_at,
                    OrderPayment {
                        method: if p.provider == "DEMO" {
                            PaymentMethod::Demo
                        } else {
                            PaymentMethod::Wechat
                        },
                        amount_fen: Money(p.amount_fen),
                        transaction_id: Some(p.transaction_id),
                        refund_due: p.outcome != "APPLIED",
                        paid_at: p.created_at.into(),
                    },
                )
            }))
            .collect();
        out.sort_by_key(|(at, _)| *at);
        Ok(out.into_iter().map(|(_, p)| p).collect())
    }
    /// Its refunds, oldest first: asked for, approved or rejected (the
    /// buyer and ADMIN).
    async fn refunds(&self, ctx: &Context<'_>) -> Result<Vec<Refund>> {
        self.guard(ctx)?;
        let loader = ctx.data_unchecked::<DataLoader<RefundsByOrderLoader>>();
        Ok(loader
            .load_one(self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Refund)
            .collect())
    }
}

/// How a payment was made.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PaymentMethod {
    /// WeChat Pay.
    Wechat,
    /// The customer's stored balance (储值).
    Balance,
    /// The demo store's simulated payment (never in production).
    Demo,
}

/// One payment towards an order.
#[derive(SimpleObject)]
pub struct OrderPayment {
    pub method: PaymentMethod,
    /// What it paid (fen).
    pub amount_fen: Money,
    /// WeChat Pay's transaction id (微信支付单号); null for the balance.
    pub transaction_id: Option<String>,
    /// Arrived after the order could take it (cancelled meanwhile), so it
    /// was refunded in full rather than applied.
    pub refund_due: bool,
    pub paid_at: Timestamp,
}

impl Fulfillment {
    /// The fulfillment, for ADMIN and its own SUPPLIER only.
    fn private(&self, ctx: &Context<'_>) -> Option<&entity::fulfillment::Model> {
        match ctx.viewer() {
            Viewer::Admin(_) => Some(&self.0),
            Viewer::Supplier(s) if self.0.supplier_id == Some(s) => Some(&self.0),
            _ => None,
        }
    }
}

/// Where a fulfillment is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FulfillmentStatus {
    /// Waiting to be shipped.
    Pending,
    /// Handed to a carrier.
    Shipped,
    /// Delivered.
    Delivered,
    /// Called off: the order was refunded before this part shipped.
    Cancelled,
}

impl FulfillmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FulfillmentStatus::Pending => ful::PENDING,
            FulfillmentStatus::Shipped => ful::SHIPPED,
            FulfillmentStatus::Delivered => ful::DELIVERED,
            FulfillmentStatus::Cancelled => ful::CANCELLED,
        }
    }
}

/// The part of a paid order that one supplier (or the store) ships.
pub struct Fulfillment(pub fulfillment::Model);

impl Fulfillment {
    /// Whether its supplier may still read the recipient: while the part is
    /// to ship, and for `SUPPLIER_ADDRESS_DAYS` after it shipped.
    fn address_open(&self, state: &AppState, now: chrono::DateTime<chrono::Utc>) -> bool {
        match self.0.status.as_str() {
            ful::PENDING => true,
            ful::CANCELLED => false,
            _ => self.0.shipped_at.is_none_or(|at| {
                now < at + chrono::Duration::days(i64::from(state.settings.supplier_address_days))
            }),
        }
    }
}

#[Object]
impl Fulfillment {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The order (a SUPPLIER sees only its own lines of it, and no amounts).
    async fn order(&self, ctx: &Context<'_>) -> Result<Order> {
        let state = ctx.data_unchecked::<AppState>();
        let o = service::find(state, self.0.order_id)
            .await?
            .ok_or_else(|| AppError::NotFound("order not found".into()))?;
        Ok(Order(o))
    }
    /// Where it is: PENDING until shipped; CANCELLED when its order was
    /// refunded before it shipped.
    async fn status(&self) -> FulfillmentStatus {
        match self.0.status.as_str() {
            ful::SHIPPED => FulfillmentStatus::Shipped,
            ful::DELIVERED => FulfillmentStatus::Delivered,
            ful::CANCELLED => FulfillmentStatus::Cancelled,
            _ => FulfillmentStatus::Pending,
        }
    }
    /// Who ships it; null for self-operated lines.
    async fn supplier(&self, ctx: &Context<'_>) -> Result<Option<Supplier>> {
        let Some(id) = self.0.supplier_id else {
            return Ok(None);
        };
        let loader = ctx.data_unchecked::<DataLoader<SupplierLoader>>();
        Ok(loader.load_one(id).await?.map(Supplier))
    }
    /// The lines to ship.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<OrderLine>> {
        let loader = ctx.data_unchecked::<DataLoader<LinesByOrderLoader>>();
        let lines = loader.load_one(self.0.order_id).await?.unwrap_or_default();
        Ok(lines
            .into_iter()
            .filter(|l| l.fulfillment_id == Some(self.0.id))
            .map(OrderLine)
            .collect())
    }
    /// Where to ship. A SUPPLIER reads the recipient while its part is to
    /// ship and for `SUPPLIER_ADDRESS_DAYS` after it shipped; after that (or
    /// once cancelled) the name and phone are masked and the street withheld.
    async fn shipping_address(&self, ctx: &Context<'_>) -> Result<Address> {
        let state = ctx.data_unchecked::<AppState>();
        let o = service::find(state, self.0.order_id)
            .await?
            .ok_or_else(|| AppError::NotFound("order not found".into()))?;
        let data: AddressData = o
            .address
            .as_deref()
            .and_then(|a| serde_json::from_str(a).ok())
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("order {} has no address", o.id)))?;
        let data = match ctx.viewer() {
            Viewer::Supplier(_) if !self.address_open(state, chrono::Utc::now()) => data.masked(),
            _ => data,
        };
        Ok(Address(data, AddressOf::Order(o.id)))
    }
    /// Carrier, once shipped.
    async fn carrier(&self) -> Option<&str> {
        self.0.carrier.as_deref()
    }
    /// Tracking number, once shipped.
    async fn tracking_no(&self) -> Option<&str> {
        self.0.tracking_no.as_deref()
    }
    /// What the store owes the supplier for it (fen): ADMIN and the owning SUPPLIER only.
    async fn cost_fen(&self, ctx: &Context<'_>) -> Option<Money> {
        match ctx.viewer() {
            Viewer::Admin(_) => Some(Money(self.0.cost_fen)),
            Viewer::Supplier(s) if self.0.supplier_id == Some(s) => Some(Money(self.0.cost_fen)),
            _ => None,
        }
    }
    /// When it shipped.
    async fn shipped_at(&self) -> Option<Timestamp> {
        self.0.shipped_at.map(Into::into)
    }
    /// When its supplier said it cannot ship it (`declineFulfillment`):
    /// ADMIN and the owning SUPPLIER only.
    async fn declined_at(&self, ctx: &Context<'_>) -> Option<Timestamp> {
        self.private(ctx)
            .and_then(|f| f.declined_at)
            .map(Into::into)
    }
    /// Why its supplier cannot ship it: ADMIN and the owning SUPPLIER only.
    async fn decline_reason(&self, ctx: &Context<'_>) -> Option<String> {
        self.private(ctx).and_then(|f| f.decline_reason.clone())
    }
    /// The shipping information uploaded to WeChat for it (ADMIN only;
    /// `FORBIDDEN` otherwise): null when there is nothing to upload (not
    /// shipped, not paid through WeChat Pay, or uploads are off).
    async fn wechat_shipping(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Option<crate::modules::wechat_platform::types::WechatShippingUpload>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(
            crate::modules::wechat_platform::service::shipping_of_fulfillment(state, self.0.id)
                .await?
                .map(crate::modules::wechat_platform::types::WechatShippingUpload),
        )
    }
    /// The parcel's trace from WeChat's logistics query, oldest step first
    /// (cached a few minutes): empty when WeChat has nothing on it, it was
    /// not paid through WeChat Pay, or in demo mode; never an error.
    async fn tracking(
        &self,
        ctx: &Context<'_>,
    ) -> Result<Vec<crate::modules::wechat_platform::types::TrackingEvent>> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(
            crate::modules::wechat_platform::service::tracking(state, &self.0)
                .await?
                .into_iter()
                .map(crate::modules::wechat_platform::types::TrackingEvent)
                .collect(),
        )
    }
    /// When its supplier acknowledged receiving it (`acknowledgeFulfillments`):
    /// ADMIN and the owning SUPPLIER only. Until then the supplier's stock
    /// sync does not count its units as available.
    async fn acknowledged_at(&self, ctx: &Context<'_>) -> Option<Timestamp> {
        match ctx.viewer() {
            Viewer::Admin(_) => self.0.acknowledged_at.map(Into::into),
            Viewer::Supplier(s) if self.0.supplier_id == Some(s) => {
                self.0.acknowledged_at.map(Into::into)
            }
            _ => None,
        }
    }
}

/// Where a refund is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefundStatus {
    /// Asked for; waiting for the store.
    Pending,
    /// Approved; the money is on its way back (sent, with back-off, until
    /// WeChat Pay takes it, then until WeChat Pay says it is back).
    Processing,
    /// Money returned.
    Refunded,
    /// Refused by the store.
    Rejected,
    /// WeChat Pay could not return the money (`failureReason` says why):
    /// ADMIN retries it (`retryRefund`) or settles it another way (`settleRefund`).
    Failed,
}

impl RefundStatus {
    /// The stored statuses this status stands for (the refund queue's filter).
    pub fn stored(self) -> Vec<&'static str> {
        match self {
            RefundStatus::Pending => vec![super::provider::REFUND_PENDING],
            RefundStatus::Processing => vec![
                super::provider::REFUND_APPROVED,
                super::provider::REFUND_PROCESSING,
            ],
            RefundStatus::Refunded => vec![super::provider::REFUND_DONE],
            RefundStatus::Rejected => vec!["REJECTED"],
            RefundStatus::Failed => vec![super::provider::REFUND_FAILED],
        }
    }
}

/// A refund of an order.
pub struct Refund(pub refund::Model);

#[Object]
impl Refund {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// The refunded order.
    async fn order(&self, ctx: &Context<'_>) -> Result<Order> {
        let state = ctx.data_unchecked::<AppState>();
        let o = service::find(state, self.0.order_id)
            .await?
            .ok_or_else(|| AppError::NotFound("order not found".into()))?;
        Ok(Order(o))
    }
    /// Where it is.
    async fn status(&self) -> RefundStatus {
        match self.0.status.as_str() {
            super::provider::REFUND_APPROVED | super::provider::REFUND_PROCESSING => {
                RefundStatus::Processing
            }
            super::provider::REFUND_DONE => RefundStatus::Refunded,
            super::provider::REFUND_FAILED => RefundStatus::Failed,
            "REJECTED" => RefundStatus::Rejected,
            _ => RefundStatus::Pending,
        }
    }
    /// Why it FAILED (ADMIN only; null for anyone else). Cleared by
    /// `retryRefund`; kept as history by `settleRefund`.
    async fn failure_reason(&self, ctx: &Context<'_>) -> Option<String> {
        ctx.viewer().staff_id(crate::auth::staff::ANY).ok()?;
        self.0.failure_reason.clone()
    }
    /// Amount returned (fen): the WeChat part plus the balance part.
    async fn amount_fen(&self) -> Money {
        Money(self.0.amount_fen)
    }
    /// The after-sale whose money it is; none for a whole-order refund.
    async fn after_sale(&self, ctx: &Context<'_>) -> Result<Option<AfterSale>> {
        let Some(id) = self.0.after_sale_id else {
            return Ok(None);
        };
        let state = ctx.data_unchecked::<AppState>();
        Ok(super::after_sale::find(state, id).await?.map(AfterSale))
    }
    /// Why.
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    /// When it was asked for.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
}

/// ADMIN filters of `orders`.
#[derive(InputObject, Default)]
pub struct OrderFilter {
    /// Only this status.
    pub status: Option<OrderStatus>,
    /// Only this customer's.
    pub customer_id: Option<ID>,
    /// Only orders with a fulfillment by this supplier.
    pub supplier_id: Option<ID>,
    /// Placed at or after.
    pub from: Option<Timestamp>,
    /// Placed before.
    pub to: Option<Timestamp>,
}

impl TryFrom<OrderFilter> for service::OrderFilter {
    type Error = AppError;
    /// The filter as the service reads it; a malformed id is named.
    fn try_from(f: OrderFilter) -> Result<Self, AppError> {
        use crate::api::ids::parse_id;
        Ok(service::OrderFilter {
            customer_id: f
                .customer_id
                .as_ref()
                .map(|c| parse_id(c, "filter.customerId"))
                .transpose()?,
            supplier_id: f
                .supplier_id
                .as_ref()
                .map(|s| parse_id(s, "filter.supplierId"))
                .transpose()?,
            status: f.status.map(Into::into),
            from: f.from.map(Into::into),
            to: f.to.map(Into::into),
        })
    }
}

/// ADMIN filters of `refunds`.
#[derive(InputObject, Default)]
pub struct RefundFilter {
    /// Only this status (PENDING: the ones waiting for a decision).
    pub status: Option<RefundStatus>,
    /// Asked for at or after.
    pub from: Option<Timestamp>,
    /// Asked for before.
    pub to: Option<Timestamp>,
    /// Only this order's.
    pub order_id: Option<ID>,
}

/// A SKU and quantity in the cart.
pub struct CartItem {
    pub sku: entity::sku::Model,
    pub product: entity::product::Model,
    pub quantity: i32,
    /// Its shipping template delivers to the default address (or there is
    /// no template or no default address).
    pub deliverable: bool,
}

#[Object]
impl CartItem {
    /// The SKU as it is now.
    async fn sku(&self) -> Sku {
        Sku(self.sku.clone())
    }
    /// Its product.
    async fn product(&self) -> crate::modules::catalogue::types::Product {
        self.product.clone().into()
    }
    /// 1 to 99.
    async fn quantity(&self) -> i32 {
        self.quantity
    }
    /// Can be bought now: on shelf, not archived, and enough in stock.
    async fn available(&self) -> bool {
        self.product.status == crate::modules::catalogue::service::ON_SHELF
            && !self.sku.archived
            && self.sku.stock >= self.quantity
    }
    /// False when the product's shipping template does not deliver to the
    /// customer's default address: ordering it there is `UNDELIVERABLE`.
    /// True without a template or a default address.
    async fn deliverable(&self) -> bool {
        self.deliverable
    }
}

/// The customer's cart. It has no id: there is one per customer, reached
/// through `cart` (a normalized client cache keeps it under that field).
#[derive(SimpleObject)]
pub struct Cart {
    /// Most recently changed first.
    pub items: Vec<CartItem>,
}

/// How a day's reconciliation against WeChat Pay's trade bill went.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReconciliationStatus {
    /// Under way (on one instance).
    Running,
    /// Done: `differences` is the full list.
    Done,
    /// The bill could not be read (`error`); the jobs loop tries again.
    Failed,
}

/// One day's reconciliation against WeChat Pay's trade bill (ADMIN).
pub struct Reconciliation(pub entity::reconciliation::Model);

#[Object]
impl Reconciliation {
    /// The bill's day, `YYYY-MM-DD` (China time, as WeChat Pay cuts bills).
    async fn date(&self) -> &str {
        &self.0.bill_date
    }
    async fn status(&self) -> ReconciliationStatus {
        match self.0.status.as_str() {
            super::reconcile::DONE => ReconciliationStatus::Done,
            super::reconcile::FAILED => ReconciliationStatus::Failed,
            _ => ReconciliationStatus::Running,
        }
    }
    /// Bill rows that matched a record.
    async fn matched(&self) -> i32 {
        self.0.matched
    }
    /// Why it failed.
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn finished_at(&self) -> Option<Timestamp> {
        self.0.finished_at.map(Into::into)
    }
    /// What did not match, oldest first.
    async fn differences(&self, ctx: &Context<'_>) -> Result<Vec<ReconciliationDifference>> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(super::reconcile::differences_of(state, self.0.id)
            .await?
            .into_iter()
            .map(ReconciliationDifference)
            .collect())
    }
}

/// What kind of difference reconciliation found.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DifferenceKind {
    /// The bill has a payment for no order of this store.
    UnknownPayment,
    /// The bill has a refund this store never asked for.
    UnknownRefund,
    /// The bill's amount is not ours.
    AmountMismatch,
    /// We recorded a WeChat payment that day that the bill does not list.
    MissingInBill,
    /// Paid for an order still waiting whose notification was lost: the
    /// order is paid now (for the record).
    ConfirmedLate,
    /// Paid for an order that could no longer take it (cancelled, paid
    /// twice): refunded in full through the normal refund path.
    RefundedOrphan,
}

/// A bill row (or one of our payments) that did not match.
pub struct ReconciliationDifference(pub entity::reconciliation_difference::Model);

#[Object]
impl ReconciliationDifference {
    async fn kind(&self) -> DifferenceKind {
        match self.0.kind.as_str() {
            "UNKNOWN_REFUND" => DifferenceKind::UnknownRefund,
            "AMOUNT_MISMATCH" => DifferenceKind::AmountMismatch,
            "MISSING_IN_BILL" => DifferenceKind::MissingInBill,
            "CONFIRMED_LATE" => DifferenceKind::ConfirmedLate,
            "REFUNDED_ORPHAN" => DifferenceKind::RefundedOrphan,
            _ => DifferenceKind::UnknownPayment,
        }
    }
    async fn out_trade_no(&self) -> Option<&str> {
        self.0.out_trade_no.as_deref()
    }
    async fn out_refund_no(&self) -> Option<&str> {
        self.0.out_refund_no.as_deref()
    }
    /// The bill's amount (ours for `MISSING_IN_BILL`).
    async fn amount_fen(&self) -> Money {
        Money(self.0.amount_fen)
    }
    async fn detail(&self) -> &str {
        &self.0.detail
    }
}

// ---------------------------------------------------------------- after-sales

/// What an after-sale asks for.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterSaleKind {
    /// The money back, nothing sent back (not shipped, or nothing to return).
    RefundOnly,
    /// The goods go back to whoever shipped them, then the money.
    ReturnAndRefund,
}

impl AfterSaleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AfterSaleKind::RefundOnly => super::after_sale::REFUND_ONLY,
            AfterSaleKind::ReturnAndRefund => super::after_sale::RETURN_AND_REFUND,
        }
    }
}

/// Where an after-sale is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterSaleStatus {
    Requested,
    Approved,
    Returning,
    Received,
    Refunding,
    Refunded,
    Rejected,
    Cancelled,
    Failed,
}

impl AfterSaleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AfterSaleStatus::Requested => "REQUESTED",
            AfterSaleStatus::Approved => "APPROVED",
            AfterSaleStatus::Returning => "RETURNING",
            AfterSaleStatus::Received => "RECEIVED",
            AfterSaleStatus::Refunding => "REFUNDING",
            AfterSaleStatus::Refunded => "REFUNDED",
            AfterSaleStatus::Rejected => "REJECTED",
            AfterSaleStatus::Cancelled => "CANCELLED",
            AfterSaleStatus::Failed => "FAILED",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "APPROVED" => AfterSaleStatus::Approved,
            "RETURNING" => AfterSaleStatus::Returning,
            "RECEIVED" => AfterSaleStatus::Received,
            "REFUNDING" => AfterSaleStatus::Refunding,
            "REFUNDED" => AfterSaleStatus::Refunded,
            "REJECTED" => AfterSaleStatus::Rejected,
            "CANCELLED" => AfterSaleStatus::Cancelled,
            "FAILED" => AfterSaleStatus::Failed,
            _ => AfterSaleStatus::Requested,
        }
    }
}

/// Units of one line to refund.
#[derive(InputObject)]
pub struct AfterSaleLineInput {
    pub order_line_id: ID,
    pub quantity: i32,
}

/// An after-sale request.
#[derive(InputObject)]
pub struct AfterSaleInput {
    pub order_id: ID,
    pub kind: AfterSaleKind,
    pub lines: Vec<AfterSaleLineInput>,
    /// 1-200 characters.
    pub reason: String,
    /// At most 500 characters.
    pub description: Option<String>,
    /// At most 9 https URLs.
    pub images: Option<Vec<String>>,
}

/// Filters of `afterSales`.
#[derive(InputObject, Default)]
pub struct AfterSaleFilter {
    pub status: Option<AfterSaleStatus>,
    pub order_id: Option<ID>,
    /// Asked for at or after.
    pub from: Option<Timestamp>,
    /// Asked for before.
    pub to: Option<Timestamp>,
}

/// An after-sale (售后) request on some units of some lines of an order.
pub struct AfterSale(pub entity::after_sale::Model);

#[Object]
impl AfterSale {
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn order(&self, ctx: &Context<'_>) -> Result<Order> {
        let state = ctx.data_unchecked::<AppState>();
        let o = service::find(state, self.0.order_id)
            .await?
            .ok_or_else(|| AppError::NotFound("order not found".into()))?;
        Ok(Order(o))
    }
    async fn kind(&self) -> AfterSaleKind {
        if self.0.kind == super::after_sale::RETURN_AND_REFUND {
            AfterSaleKind::ReturnAndRefund
        } else {
            AfterSaleKind::RefundOnly
        }
    }
    async fn status(&self) -> AfterSaleStatus {
        AfterSaleStatus::parse(&self.0.status)
    }
    /// Its lines; a SUPPLIER sees only the lines it ships.
    async fn lines(&self, ctx: &Context<'_>) -> Result<Vec<AfterSaleLineView>> {
        let state = ctx.data_unchecked::<AppState>();
        let lines = super::after_sale::lines(state, self.0.id).await?;
        let loader = ctx.data_unchecked::<DataLoader<LinesByOrderLoader>>();
        let order_lines = loader.load_one(self.0.order_id).await?.unwrap_or_default();
        let supplier = match ctx.viewer() {
            Viewer::Supplier(s) => Some(s),
            _ => None,
        };
        Ok(lines
            .into_iter()
            .filter_map(|l| {
                let ol = order_lines
                    .iter()
                    .find(|o| o.id == l.order_line_id)?
                    .clone();
                if supplier.is_some() && ol.supplier_id != supplier {
                    return None;
                }
                Some(AfterSaleLineView {
                    order_line: OrderLine(ol),
                    quantity: l.quantity,
                    amount_fen: Money(l.amount_fen),
                })
            })
            .collect())
    }
    /// What goes back (fen): the lines, plus shipping when every unit is
    /// refunded before anything shipped.
    async fn amount_fen(&self) -> Money {
        Money(self.0.amount_fen)
    }
    /// The part back to the wallet (fen).
    async fn balance_fen(&self) -> Money {
        Money(self.0.balance_fen)
    }
    /// The part back through WeChat Pay (fen).
    async fn wechat_fen(&self) -> Money {
        Money(self.0.wechat_fen)
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn images(&self) -> Vec<String> {
        serde_json::from_str(&self.0.images).unwrap_or_default()
    }
    /// Where to send the goods back (after approval of a return).
    async fn return_address(&self) -> Option<&str> {
        self.0.return_address.as_deref()
    }
    async fn return_carrier(&self) -> Option<&str> {
        self.0.return_carrier.as_deref()
    }
    async fn return_tracking_no(&self) -> Option<&str> {
        self.0.return_tracking_no.as_deref()
    }
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
    async fn refunded_at(&self) -> Option<Timestamp> {
        self.0.refunded_at.map(Into::into)
    }
    /// The part of `amountFen` that is the order's shipping (fen).
    async fn shipping_fen(&self) -> Money {
        Money(self.0.shipping_fen)
    }
    /// Made by the store (`refundOrder`), not asked for by the buyer.
    async fn by_store(&self) -> bool {
        self.0.by_admin
    }
    /// Why it was rejected or closed.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When the store approved, rejected or made it.
    async fn decided_at(&self) -> Option<Timestamp> {
        self.0.decided_at.map(Into::into)
    }
    /// An approved return not sent back by then is closed.
    async fn return_deadline(&self) -> Option<Timestamp> {
        self.0.return_deadline.map(Into::into)
    }
    async fn return_shipped_at(&self) -> Option<Timestamp> {
        self.0.return_shipped_at.map(Into::into)
    }
    async fn received_at(&self) -> Option<Timestamp> {
        self.0.received_at.map(Into::into)
    }
    /// Whether the units went back to stock (once refunded).
    async fn restock(&self) -> Option<bool> {
        self.0.restock
    }
    /// The refund that carries its money (once approved): its WeChat part's
    /// progress, failures and retries (ADMIN).
    async fn refund(&self, ctx: &Context<'_>) -> Result<Option<Refund>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(super::after_sale::refund_of(state, self.0.id)
            .await?
            .map(Refund))
    }
}

/// The store's approval of an after-sale.
#[derive(InputObject, Default)]
pub struct ApproveAfterSaleInput {
    /// Less than was paid for the units (a damaged return); never more.
    pub amount_fen: Option<Money>,
    /// Where a return goes; by default the return address of the supplier
    /// that shipped the lines, or `STORE_RETURN_ADDRESS`. At most 300
    /// characters.
    pub return_address: Option<String>,
}

/// The store's own refund of an order (`refundOrder`).
#[derive(InputObject)]
pub struct AdminRefundInput {
    /// Units to refund; none (with `amountFen`): an amount only.
    pub lines: Option<Vec<AfterSaleLineInput>>,
    /// With lines: less than they paid; without: the amount, at most what
    /// is left of the order.
    pub amount_fen: Option<Money>,
    /// 1-200 characters, shown to the buyer.
    pub reason: String,
    /// Whether shipped units go back to stock (unshipped ones always do).
    pub restock: bool,
}

/// Units of a line in an after-sale.
#[derive(SimpleObject)]
#[graphql(name = "AfterSaleLine")]
pub struct AfterSaleLineView {
    /// The order line.
    pub order_line: OrderLine,
    pub quantity: i32,
    /// What these units refund (fen).
    pub amount_fen: Money,
}
