//! What a real shop owes WeChat's platform, beside payments: the shipping
//! information of every WeChat Pay payment (发货信息录入; until it is uploaded
//! and the buyer confirms receipt, WeChat holds the money), share codes
//! that carry the referral, and subscription-message consents.
//!
//! Owns `wechat_shipping`, `wechat_shipping_attempt`, `share_code` and
//! `subscription_consent`. Reads the order
//! domain's `payment`, `fulfillment`, `shop_order` and `order_line` in SQL:
//! the jobs pass finds what shipped (or, for memberships and top-ups, what
//! was paid) without a row here and adds one, so the order domain's ship
//! and payment paths stay as they are and nothing shipped is missed even if
//! an instance dies between a commit and an upload.
//!
//! Invariants: one row per parcel (`F<fulfillment>`) or virtual-goods order
//! (`O<order>`), added once by whichever instance sees it first; one
//! instance attempts a row at a time (a claim with a time limit); every
//! attempt is recorded with the request sent; `UPLOADED` is final.
//! Must not: change an order or a fulfillment, or call WeChat while
//! `WECHAT_SHIPPING_UPLOAD` is off.
pub mod messages;
pub mod resolver;
pub mod service;
pub mod share;
pub mod shipping;
pub mod subscription;
pub mod tracking;
pub mod trade;
pub mod types;

use chrono::{DateTime, Utc};
use sea_orm::{
    Condition, ConnectionTrait, EntityTrait, QueryFilter,
    sea_query::{Alias, Expr, ExprTrait},
};

/// Claims row `id` of a queue table of this module (`wechat_shipping`,
/// `subscription_message`: `id`, `status`, `attempts`, `locked_until`) for
/// a minute, so that one instance attempts it: only while it is still
/// `PENDING` at `attempts` and nobody holds it. True when this caller got it.
async fn claim_for_a_minute<E: EntityTrait>(
    db: &impl ConnectionTrait,
    id: i64,
    attempts: i32,
    now: DateTime<Utc>,
) -> crate::error::AppResult<bool> {
    let col = |name: &str| Expr::col(Alias::new(name));
    let until = Ord::max(now, Utc::now()) + chrono::Duration::seconds(60);
    let claimed = E::update_many()
        .col_expr(Alias::new("locked_until"), Expr::value(until))
        .filter(col("id").eq(id))
        .filter(col("status").eq("PENDING"))
        .filter(col("attempts").eq(attempts))
        .filter(
            Condition::any()
                .add(col("locked_until").is_null())
                .add(col("locked_until").lt(now)),
        )
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}
