//! An order (`order` is an SQL keyword, hence `shop_order`). Amounts in fen:
//! total = items - member - promotion - coupon discounts + shipping;
//! payable (WeChat part) = total - balance part.
use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "shop_order")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Human-readable number: date + id.
    #[sea_orm(unique)]
    pub order_no: String,
    pub customer_id: i64,
    /// `GOODS`, `MEMBERSHIP` or `TOP_UP`.
    pub kind: String,
    /// See `order::state`.
    pub status: String,
    pub items_fen: i64,
    pub member_discount_fen: i64,
    pub promotion_discount_fen: i64,
    pub coupon_discount_fen: i64,
    pub shipping_fen: i64,
    pub total_fen: i64,
    /// Part paid from the stored balance.
    pub balance_fen: i64,
    /// Part to pay by WeChat Pay.
    pub payable_fen: i64,
    /// WeChat Pay amount confirmed.
    pub paid_fen: i64,
    /// Shipping address snapshot (JSON).
    #[sea_orm(column_type = "Text", nullable)]
    pub address: Option<String>,
    pub remark: Option<String>,
    pub idempotency_key: String,
    pub request_hash: String,
    pub prepay_id: Option<String>,
    /// Unpaid orders are cancelled after this.
    pub expires_at: DateTimeUtc,
    pub paid_at: Option<DateTimeUtc>,
    pub shipped_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub cancelled_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The membership or top-up plan bought (MEMBERSHIP and TOP_UP orders).
    pub plan_id: Option<i64>,
    /// How the balance part was drawn: principal and bonus (refunds return them as drawn).
    pub balance_principal_fen: i64,
    pub balance_bonus_fen: i64,
    /// What a plan order buys, as it was sold when placed (JSON): payment
    /// credits and grants from this, not from the plan as it is later.
    #[sea_orm(column_type = "Text", nullable)]
    pub plan_terms: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
