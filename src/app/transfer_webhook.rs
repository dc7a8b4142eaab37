//! `POST /webhooks/wechat-transfer`: WeChat Pay's merchant-transfer
//! notifications (`MCHTRANSFER.BILL.FINISHED`), verified and decrypted by
//! the same client code as payment notifications, applied to their
//! withdrawal by the referral domain. Anything forged, stale, for another
//! merchant or for a bill we never made changes nothing and gets an error
//! status; a genuine repeat gets success and changes nothing.
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};

use crate::{
    error::AppError,
    modules::referral::payout,
    state::AppState,
    wechat::pay::{TransferBill, transfer_of},
};

use super::webhooks::{notify_answer as answer, verified};

pub async fn wechat_transfer(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> HttpResponse {
    let (Some(pay), true) = (&state.pay, payout::transfers_on(&state)) else {
        return answer(StatusCode::NOT_FOUND, "transfers are not configured");
    };
    let notification = match verified(&req, &body, pay, "TRANSFER_NOTIFICATION_REFUSED") {
        Ok(n) => n,
        Err((status, message)) => return answer(status, message),
    };
    if !notification.event_type.starts_with("MCHTRANSFER.BILL.") {
        // Verified, but not about a transfer bill: nothing to do here.
        return answer(StatusCode::OK, "");
    }
    let notice = match transfer_of(notification) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "WeChat Pay transfer notification without a bill");
            return answer(StatusCode::BAD_REQUEST, "not a transfer bill");
        }
    };
    if notice.mchid != pay.mchid() {
        tracing::warn!(out_bill_no = %notice.out_bill_no, "transfer notification for another merchant");
        return answer(StatusCode::BAD_REQUEST, "mchid mismatch");
    }
    let bill = TransferBill {
        out_bill_no: notice.out_bill_no.clone(),
        transfer_bill_no: notice.transfer_bill_no,
        state: notice.state,
        package_info: None,
        fail_reason: notice.fail_reason,
    };
    match payout::notified(&state, &bill, notice.amount_fen).await {
        Ok(()) => answer(StatusCode::OK, ""),
        Err(AppError::Internal(e)) => {
            tracing::error!(
                error = format!("{e:#}"),
                "processing a WeChat Pay transfer notification"
            );
            answer(StatusCode::INTERNAL_SERVER_ERROR, "try again")
        }
        Err(e) => {
            tracing::warn!(out_bill_no = %notice.out_bill_no, error = %e, "transfer notification does not match a withdrawal");
            answer(StatusCode::BAD_REQUEST, "does not match a withdrawal")
        }
    }
}
