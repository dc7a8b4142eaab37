//! Fulfillments: the part of a paid order one supplier (or the store) ships.
//! A SUPPLIER sees and ships only its own; ADMIN sees and ships all.
use chrono::Utc;

use entity::{fulfillment, order_line, payment, shop_order};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait, sea_query::Expr,
};

use crate::{
    auth::Viewer,
    error::{AppError, AppResult},
    state::AppState,
};

pub const PENDING: &str = "PENDING";
pub const SHIPPED: &str = "SHIPPED";
pub const DELIVERED: &str = "DELIVERED";
/// Its order was refunded before it shipped: nothing to ship any more.
pub const CANCELLED: &str = "CANCELLED";

/// The fulfillment if the viewer may see it: ADMIN any, SUPPLIER its own.
pub async fn visible(state: &AppState, viewer: Viewer, id: i64) -> AppResult<fulfillment::Model> {
    let not_found = || AppError::NotFound(format!("fulfillment {id} not found"));
    let f = fulfillment::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(not_found)?;
    match viewer {
        Viewer::Admin(_) => Ok(f),
        Viewer::Supplier(s) if f.supplier_id == Some(s) => Ok(f),
        Viewer::Supplier(_) => Err(not_found()),
        _ => viewer.staff_id(crate::auth::staff::ANY).map(|_| f),
    }
}

pub async fn ship(
    state: &AppState,
    viewer: Viewer,
    id: i64,
    carrier: &str,
    tracking_no: &str,
) -> AppResult<fulfillment::Model> {
    let carrier = carrier.trim();
    let tracking_no = tracking_no.trim();
    if carrier.is_empty() || carrier.chars().count() > 32 {
        return Err(AppError::bad_input("carrier", "must be 1-32 characters"));
    }
    if tracking_no.is_empty() || tracking_no.len() > 64 {
        return Err(AppError::bad_input("trackingNo", "must be 1-64 characters"));
    }
    let f = visible(state, viewer, id).await?;
    if f.status == SHIPPED
        && (f.carrier.as_deref() != Some(carrier) || f.tracking_no.as_deref() != Some(tracking_no))
    {
        return correct(state, viewer, &f, carrier, tracking_no).await;
    }
    if f.status != PENDING {
        return Err(AppError::Conflict(format!(
            "the fulfillment is already {}",
            f.status
        )));
    }
    let txn = state.db.begin().await?;
    // The order row first (the lock order of every order change): a part
    // ships only while its order is PAID, so nothing ships once a refund is
    // asked for, and two suppliers shipping the last two parts at once take
    // turns, the second seeing the first's part shipped and moving the order
    // to SHIPPED.
    if !super::service::hold_paid(&txn, f.order_id).await? {
        return Err(AppError::Conflict(
            "the order is no longer waiting to ship (a refund was asked for, or it was refunded); do not ship it".into(),
        ));
    }
    let now = Utc::now();
    let moved = fulfillment::Entity::update_many()
        .col_expr(fulfillment::Column::Status, Expr::value(SHIPPED))
        .col_expr(fulfillment::Column::Carrier, Expr::value(carrier))
        .col_expr(fulfillment::Column::TrackingNo, Expr::value(tracking_no))
        .col_expr(fulfillment::Column::ShippedAt, Expr::value(now))
        .filter(fulfillment::Column::Id.eq(id))
        .filter(fulfillment::Column::Status.eq(PENDING))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the fulfillment was shipped meanwhile".into(),
        ));
    }
    super::payable::accrue(&txn, &f, now).await?;
    super::service::ship_if_complete(&txn, f.order_id).await?;
    txn.commit().await?;
    visible(state, viewer, id).await
}

/// A shipped parcel's carrier or tracking number typed wrong, corrected
/// while its order is still on its way (PAID or SHIPPED). An order paid
/// through WeChat Pay takes one correction: WeChat accepts one changed
/// upload of a payment's shipping information (the `wechat_platform` jobs
/// pass uploads it); a second is `CONFLICT` and changes nothing.
async fn correct(
    state: &AppState,
    viewer: Viewer,
    f: &fulfillment::Model,
    carrier: &str,
    tracking_no: &str,
) -> AppResult<fulfillment::Model> {
    let txn = state.db.begin().await?;
    // The order row first, as every order change: two corrections of one
    // order's parcels take turns.
    let held = shop_order::Entity::update_many()
        .col_expr(shop_order::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(shop_order::Column::Id.eq(f.order_id))
        .filter(shop_order::Column::Status.is_in([
            super::state::Status::Paid.as_str(),
            super::state::Status::Shipped.as_str(),
        ]))
        .exec(&txn)
        .await?;
    if held.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the order is no longer on its way (completed, refunded or cancelled): its shipping details cannot change".into(),
        ));
    }
    let wechat_paid = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(f.order_id))
        .filter(payment::Column::Provider.eq("WECHAT"))
        .filter(payment::Column::Outcome.eq("APPLIED"))
        .one(&txn)
        .await?
        .is_some();
    if wechat_paid
        && let Some(used) = fulfillment::Entity::find()
            .filter(fulfillment::Column::OrderId.eq(f.order_id))
            .filter(fulfillment::Column::CorrectedAt.is_not_null())
            .one(&txn)
            .await?
    {
        return Err(AppError::Conflict(format!(
            "WeChat takes one correction of a payment's shipping information, and this order's was used (fulfillment {}); the carrier and tracking number stay as they are",
            used.id
        )));
    }
    let moved = fulfillment::Entity::update_many()
        .col_expr(fulfillment::Column::Carrier, Expr::value(carrier))
        .col_expr(fulfillment::Column::TrackingNo, Expr::value(tracking_no))
        .col_expr(fulfillment::Column::CorrectedAt, Expr::value(Utc::now()))
        .filter(fulfillment::Column::Id.eq(f.id))
        .filter(fulfillment::Column::Status.eq(SHIPPED))
        .filter(fulfillment::Column::TrackingNo.eq(f.tracking_no.clone()))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the fulfillment changed meanwhile; read it again".into(),
        ));
    }
    txn.commit().await?;
    visible(state, viewer, f.id).await
}

/// The supplier cannot ship this pending fulfillment of its own: it is
/// marked declined, with the reason, for the store to act on. Declining
/// again keeps the first time and takes the new reason.
pub async fn decline(
    state: &AppState,
    supplier_id: i64,
    id: i64,
    reason: &str,
) -> AppResult<fulfillment::Model> {
    let reason = crate::validate::text(reason, "reason", 200)?;
    let f = visible(state, Viewer::Supplier(supplier_id), id).await?;
    if f.status != PENDING {
        return Err(AppError::Conflict(format!(
            "the fulfillment is {}; only a PENDING one can be declined",
            f.status
        )));
    }
    fulfillment::Entity::update_many()
        .col_expr(
            fulfillment::Column::DeclinedAt,
            Expr::value(f.declined_at.unwrap_or_else(Utc::now)),
        )
        .col_expr(fulfillment::Column::DeclineReason, Expr::value(reason))
        .filter(fulfillment::Column::Id.eq(id))
        .filter(fulfillment::Column::Status.eq(PENDING))
        .exec(&state.db)
        .await?;
    visible(state, Viewer::Supplier(supplier_id), id).await
}

/// Most fulfillments one `acknowledgeFulfillments` call takes.
pub const MAX_ACKNOWLEDGE: usize = 100;

/// The supplier acknowledges receiving these fulfillments of its own; the
/// first acknowledgement's time stays. Returns how many were new. Any id
/// that is not the supplier's is `NOT_FOUND` and nothing is acknowledged.
pub async fn acknowledge(state: &AppState, supplier_id: i64, ids: &[i64]) -> AppResult<u64> {
    acknowledge_in(&state.db, supplier_id, ids).await
}

/// [`acknowledge`] on `db` (the stock sync's transaction, so that the count
/// it brings and the fulfillments it says that count reflects go together).
pub async fn acknowledge_in(
    db: &impl ConnectionTrait,
    supplier_id: i64,
    ids: &[i64],
) -> AppResult<u64> {
    if ids.is_empty() || ids.len() > MAX_ACKNOWLEDGE {
        return Err(AppError::bad_input(
            "ids",
            format!("must hold 1 to {MAX_ACKNOWLEDGE} ids"),
        ));
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let own: Vec<i64> = fulfillment::Entity::find()
        .select_only()
        .column(fulfillment::Column::Id)
        .filter(fulfillment::Column::Id.is_in(ids.iter().copied()))
        .filter(fulfillment::Column::SupplierId.eq(supplier_id))
        .into_tuple()
        .all(db)
        .await?;
    if let Some(missing) = ids.iter().find(|i| !own.contains(i)) {
        return Err(AppError::NotFound(format!(
            "fulfillment {missing} not found"
        )));
    }
    let done = fulfillment::Entity::update_many()
        .col_expr(fulfillment::Column::AcknowledgedAt, Expr::value(Utc::now()))
        .filter(fulfillment::Column::Id.is_in(ids))
        .filter(fulfillment::Column::SupplierId.eq(supplier_id))
        .filter(fulfillment::Column::AcknowledgedAt.is_null())
        .exec(db)
        .await?;
    Ok(done.rows_affected)
}

/// Fulfillments newest first: a supplier's own, or (ADMIN) all.
pub async fn list(
    state: &AppState,
    supplier_id: Option<i64>,
    status: Option<&str>,
    declined: Option<bool>,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<fulfillment::Model>, bool)> {
    let mut cond = Condition::all();
    match declined {
        Some(true) => cond = cond.add(fulfillment::Column::DeclinedAt.is_not_null()),
        Some(false) => cond = cond.add(fulfillment::Column::DeclinedAt.is_null()),
        None => {}
    }
    if let Some(s) = supplier_id {
        cond = cond.add(fulfillment::Column::SupplierId.eq(s));
    }
    if let Some(st) = status {
        cond = cond.add(fulfillment::Column::Status.eq(st));
    }
    let q = fulfillment::Entity::find().filter(cond);
    Ok(crate::db::page_desc(&state.db, q, fulfillment::Column::Id, first, after_id).await?)
}

pub async fn of_orders(
    db: &impl ConnectionTrait,
    order_ids: &[i64],
) -> AppResult<Vec<fulfillment::Model>> {
    Ok(fulfillment::Entity::find()
        .filter(fulfillment::Column::OrderId.is_in(order_ids.iter().copied()))
        .order_by_asc(fulfillment::Column::Id)
        .all(db)
        .await?)
}

/// Suppliers hear of what was just queued for them now, not at the jobs
/// loop's next tick.
pub(super) fn kick_webhooks(state: &AppState) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::modules::supplier::webhook::deliver_due(&state, Utc::now()).await {
            tracing::warn!(error = ?e, "delivering supplier webhooks");
        }
    });
}

/// What a supplier's webhook receives for a new fulfillment: its lines by the
/// supplier's own SKU codes, and where to ship. Nothing about other suppliers.
pub(super) fn fulfillment_event(
    order: &shop_order::Model,
    f: &fulfillment::Model,
    lines: &[&order_line::Model],
) -> serde_json::Value {
    let address: serde_json::Value = order
        .address
        .as_deref()
        .and_then(|a| serde_json::from_str(a).ok())
        .unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "event": "fulfillment.created",
        "fulfillment": {
            "id": f.id.to_string(),
            "orderNo": order.order_no,
            "createdAt": f.created_at.to_rfc3339(),
            "costFen": f.cost_fen,
            "lines": lines.iter().map(|l| serde_json::json!({
                // The code the line was bought under (fixed at placing).
                "supplierSkuCode": l.supplier_sku_code,
                "title": l.title,
                "specs": serde_json::from_str::<serde_json::Value>(&l.specs).unwrap_or_default(),
                "quantity": l.quantity,
            })).collect::<Vec<_>>(),
            "shippingAddress": address,
            "remark": order.remark,
        }
    })
}
