//! Paying and refunding through the payment provider: WeChat Pay (or demo
//! pay). Every way money arrives ends in `service::confirm_payment`.
use chrono::Utc;
use entity::{payment, refund, shop_order};
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QuerySelect, TransactionTrait, sea_query::Expr,
};

use super::{
    service::{self, Confirmation},
    state::Status,
};
use crate::{
    error::{AppError, AppResult},
    state::AppState,
    wechat::pay::{JsapiParams, PayError, PrepayRequest, RefundRequest},
};

/// Asked for by the buyer; waiting for the store.
pub const REFUND_PENDING: &str = "PENDING";
/// Approved: its effects on the order are done; the money is on its way.
pub const REFUND_APPROVED: &str = "APPROVED";
/// The money is back.
pub const REFUND_DONE: &str = "REFUNDED";

fn pay_failed(e: PayError) -> AppError {
    tracing::warn!(error = %e, "WeChat Pay call failed");
    AppError::PaymentFailed(match e {
        PayError::Timeout | PayError::Unreachable => {
            "WeChat Pay is not answering; try again shortly".into()
        }
        _ => "WeChat Pay refused the payment; try again or contact the store".into(),
    })
}

/// Opens the WeChat Pay transaction of an unpaid order (once: a replay reuses
/// the stored prepay id) and returns the `wx.requestPayment` parameters.
/// `None` in demo mode (use `demoPay`) or when nothing is left to pay.
pub async fn start(state: &AppState, order: &shop_order::Model) -> AppResult<Option<JsapiParams>> {
    if order.status != Status::PendingPayment.as_str() {
        return Ok(None);
    }
    if order.payable_fen == 0 {
        // Fully covered (by the balance, or a free order): paid right away.
        service::confirm_payment(
            state,
            Confirmation {
                order_no: order.order_no.clone(),
                transaction_id: format!("internal-{}", order.order_no),
                amount_fen: 0,
                provider: "INTERNAL",
            },
        )
        .await?;
        return Ok(None);
    }
    let Some(pay) = &state.pay else {
        if state.settings.demo_mode() {
            return Ok(None);
        }
        return Err(AppError::PaymentFailed(
            "WeChat Pay is not configured on this store".into(),
        ));
    };
    let prepay_id = match &order.prepay_id {
        Some(p) => p.clone(),
        None => {
            let lines = service::lines_of(&state.db, &[order.id]).await?;
            let mut description: String = lines
                .first()
                .map(|l| l.title.clone())
                .unwrap_or_else(|| "订单".into());
            if lines.len() > 1 {
                description = format!("{description} 等{}件", lines.len());
            }
            let req = PrepayRequest {
                out_trade_no: order.order_no.clone(),
                description: description.chars().take(120).collect(),
                amount_fen: order.payable_fen,
                payer_openid: crate::modules::customer::service::get(state, order.customer_id)
                    .await?
                    .openid,
                time_expire: order.expires_at,
            };
            let id = pay
                .jsapi_prepay(&state.http, &req)
                .await
                .map_err(pay_failed)?;
            service::set_prepay_id(state, order.id, &id).await?;
            id
        }
    };
    Ok(Some(pay.jsapi_params(&prepay_id)))
}

/// The customer's own order, if it is still waiting for payment
/// (`CONFLICT` otherwise).
pub async fn unpaid_own(
    state: &AppState,
    customer_id: i64,
    order_id: i64,
) -> AppResult<shop_order::Model> {
    let order = service::own(state, customer_id, order_id).await?;
    if order.status != Status::PendingPayment.as_str() {
        return Err(AppError::Conflict(format!(
            "the order is {} and cannot be paid",
            order.status
        )));
    }
    Ok(order)
}

/// `demoPay`: completes the payment through the same path as a verified
/// notification. Demo mode only.
pub async fn demo_pay(
    state: &AppState,
    customer_id: i64,
    order_id: i64,
) -> AppResult<shop_order::Model> {
    if !state.settings.demo_mode() {
        return Err(AppError::Forbidden(
            "demoPay is only available in demo mode".into(),
        ));
    }
    let txn = state.db.begin().await?;
    let order = service::own_in(&txn, customer_id, order_id).await?;
    if order.status != Status::PendingPayment.as_str() {
        return Err(AppError::Conflict(format!(
            "the order is {} and cannot be paid",
            order.status
        )));
    }
    let confirmation = Confirmation {
        order_no: order.order_no.clone(),
        transaction_id: format!("demo-{}", order.order_no),
        amount_fen: order.payable_fen,
        provider: "DEMO",
    };
    match service::confirm_payment_in(state, txn, order, confirmation).await? {
        (_, Some(paid)) => Ok(paid),
        // Paid or closed meanwhile: show what it is now.
        (_, None) => service::own(state, customer_id, order_id).await,
    }
}

/// Who took the money of an order: `WECHAT`, `DEMO`, `INTERNAL` or `NONE`.
/// Every payment counts, the ones that arrived too late included: those
/// are exactly the ones refunded in full, and a refund sent again by the
/// jobs loop must still go back through WeChat Pay.
pub async fn provider_of(state: &AppState, order_id: i64) -> AppResult<&'static str> {
    let providers: Vec<String> = payment::Entity::find()
        .select_only()
        .column(payment::Column::Provider)
        .filter(payment::Column::OrderId.eq(order_id))
        .into_tuple()
        .all(&state.db)
        .await?;
    let has = |p: &str| providers.iter().any(|x| x == p);
    Ok(if has("WECHAT") {
        "WECHAT"
    } else if has("DEMO") {
        "DEMO"
    } else if providers.is_empty() {
        "NONE"
    } else {
        "INTERNAL"
    })
}

/// Sends an approved refund's money back. The WeChat part goes through
/// WeChat Pay's refund API, which is idempotent on `out_refund_no`, so a
/// failed attempt is simply retried (by the caller or the jobs loop); a
/// refund WeChat accepted (SUCCESS or PROCESSING) counts as done. The
/// balance part was already returned when the refund was approved.
pub async fn send_refund(state: &AppState, refund_id: i64, provider: &str) -> AppResult<()> {
    let r = refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("refund not found".into()))?;
    if r.status != REFUND_APPROVED {
        return Ok(());
    }
    let mut wechat_refund_id = None;
    if provider == "WECHAT" && r.wechat_fen > 0 {
        let order = service::find(state, r.order_id)
            .await?
            .ok_or_else(|| AppError::NotFound("order not found".into()))?;
        let pay = state
            .pay
            .as_ref()
            .ok_or_else(|| AppError::PaymentFailed("WeChat Pay is not configured".into()))?;
        let req = RefundRequest {
            out_trade_no: order.order_no.clone(),
            out_refund_no: r.out_refund_no.clone(),
            refund_fen: r.wechat_fen,
            total_fen: r.wechat_fen.max(order.payable_fen),
            reason: r.reason.chars().take(80).collect(),
        };
        let result = pay.refund(&state.http, &req).await.map_err(pay_failed)?;
        wechat_refund_id = Some(result.refund_id);
    }
    refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value(REFUND_DONE))
        .col_expr(
            refund::Column::WechatRefundId,
            Expr::value(wechat_refund_id),
        )
        .col_expr(refund::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(refund::Column::Id.eq(refund_id))
        .filter(refund::Column::Status.eq(REFUND_APPROVED))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// Background job: sends again every approved refund whose money has not
/// gone back yet (WeChat was down, say) and that has waited a minute.
pub async fn retry_refunds(state: &AppState, now: chrono::DateTime<Utc>) -> AppResult<usize> {
    let due = refund::Entity::find()
        .filter(refund::Column::Status.eq(REFUND_APPROVED))
        .filter(refund::Column::UpdatedAt.lte(now - chrono::Duration::minutes(1)))
        .limit(100)
        .all(&state.db)
        .await?;
    let mut sent = 0;
    for r in due {
        let provider = provider_of(state, r.order_id).await?;
        match send_refund(state, r.id, provider).await {
            Ok(()) => sent += 1,
            Err(e) => {
                tracing::warn!(refund_id = r.id, error = ?e, "refund still not sent; next tick retries")
            }
        }
    }
    Ok(sent)
}
