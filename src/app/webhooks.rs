//! Webhooks in from WeChat: the HTTP side of WeChat Pay's notifications.
//! Verification and decryption belong to the client (`wechat::pay`), what a
//! payment does to its order to the order domain; this only joins them and
//! answers in the shape WeChat Pay expects.
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use chrono::Utc;
use serde_json::json;

use crate::{
    error::AppError,
    modules::order::service::{self, Confirmation, PaymentOutcome},
    state::AppState,
    wechat::pay::{
        NotificationHeaders, NotifyError, VerifiedNotification, WechatPay, refund_of,
        transaction_of,
    },
};

/// A verified `REFUND.*` notification settles its refund once (a repeat
/// gets success and changes nothing).
async fn refund_notification(
    state: &AppState,
    mchid: &str,
    notification: VerifiedNotification,
) -> HttpResponse {
    let notice = match refund_of(notification) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "WeChat Pay refund notification without a refund");
            return notify_answer(StatusCode::BAD_REQUEST, "not a refund");
        }
    };
    if notice.mchid != mchid {
        tracing::warn!(out_refund_no = %notice.out_refund_no, "WeChat Pay refund notification for another merchant");
        return notify_answer(StatusCode::BAD_REQUEST, "mchid mismatch");
    }
    match service::refund_notified(
        state,
        &notice.out_refund_no,
        notice.refund_fen,
        &notice.refund_status,
        &notice.refund_id,
    )
    .await
    {
        Ok(()) => notify_answer(StatusCode::OK, ""),
        Err(AppError::Internal(e)) => {
            tracing::error!(
                error = format!("{e:#}"),
                "processing a WeChat Pay refund notification"
            );
            notify_answer(StatusCode::INTERNAL_SERVER_ERROR, "try again")
        }
        Err(e) => {
            tracing::warn!(out_refund_no = %notice.out_refund_no, error = %e, "WeChat Pay refund notification does not match a refund");
            notify_answer(StatusCode::BAD_REQUEST, "does not match a refund")
        }
    }
}

pub(super) fn notify_answer(status: StatusCode, message: &str) -> HttpResponse {
    if status.is_success() {
        HttpResponse::Ok().json(json!({ "code": "SUCCESS", "message": "OK" }))
    } else {
        HttpResponse::build(status).json(json!({ "code": "FAIL", "message": message }))
    }
}

/// A WeChat Pay notification (payments, refunds, transfers) checked and
/// decrypted by the client, or the status and message to answer: 400 when its headers or
/// body are malformed, 401 when it fails verification (counted under
/// `refused` in the error metrics).
pub(super) fn verified(
    req: &HttpRequest,
    body: &[u8],
    pay: &WechatPay,
    refused: &'static str,
) -> Result<VerifiedNotification, (StatusCode, &'static str)> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let Some(headers) = NotificationHeaders::from_lookup(header) else {
        return Err((StatusCode::BAD_REQUEST, "missing Wechatpay-* headers"));
    };
    pay.verify_notification_raw(&headers, body, Utc::now())
        .map_err(|e| match e {
            NotifyError::Malformed(e) => {
                tracing::warn!(error = %e, refused, "malformed WeChat Pay notification");
                (StatusCode::BAD_REQUEST, "malformed notification")
            }
            e => {
                tracing::warn!(error = %e, refused, "WeChat Pay notification refused");
                crate::metrics::count_error(refused);
                (StatusCode::UNAUTHORIZED, "verification failed")
            }
        })
}

/// `POST /webhooks/wechat-pay`: a verified, decrypted, matching notification
/// pays the order once. Anything forged, stale or mismatched changes nothing
/// and gets an error status; a genuine repeat gets success.
pub async fn wechat_pay(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let Some(pay) = &state.pay else {
        return notify_answer(StatusCode::NOT_FOUND, "WeChat Pay is not configured");
    };
    let notification = match verified(&req, &body, pay, "PAYMENT_NOTIFICATION_REFUSED") {
        Ok(n) => n,
        Err((status, message)) => return notify_answer(status, message),
    };
    if notification.event_type.starts_with("REFUND.") {
        return refund_notification(&state, pay.mchid(), notification).await;
    }
    let tx = match transaction_of(notification) {
        Ok(tx) => tx,
        Err(e) => {
            tracing::warn!(error = %e, "WeChat Pay notification without a transaction");
            return notify_answer(StatusCode::BAD_REQUEST, "not a transaction");
        }
    };
    if tx.appid != pay.appid() || tx.mchid != pay.mchid() {
        tracing::warn!(out_trade_no = %tx.out_trade_no, "WeChat Pay notification for another merchant or app");
        return notify_answer(StatusCode::BAD_REQUEST, "appid or mchid mismatch");
    }
    if tx.trade_state != "SUCCESS" {
        // Only successful payments change anything; acknowledge the rest.
        return notify_answer(StatusCode::OK, "");
    }
    let confirmed = service::confirm_payment(
        &state,
        Confirmation {
            order_no: tx.out_trade_no.clone(),
            transaction_id: tx.transaction_id.clone(),
            amount_fen: tx.total_fen,
            provider: "WECHAT",
        },
    )
    .await;
    match confirmed {
        Ok(PaymentOutcome::Applied | PaymentOutcome::Duplicate | PaymentOutcome::Refunded) => {
            notify_answer(StatusCode::OK, "")
        }
        Err(AppError::Internal(e)) => {
            tracing::error!(
                error = format!("{e:#}"),
                "processing a WeChat Pay notification"
            );
            notify_answer(StatusCode::INTERNAL_SERVER_ERROR, "try again")
        }
        Err(e) => {
            tracing::warn!(out_trade_no = %tx.out_trade_no, error = %e, "WeChat Pay notification does not match an order");
            notify_answer(StatusCode::BAD_REQUEST, "does not match an order")
        }
    }
}
