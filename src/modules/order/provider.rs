//! Paying and refunding through the payment provider: WeChat Pay (or demo
//! pay). Every way money arrives ends in `service::confirm_payment`.
use chrono::{DateTime, Duration, Utc};
use entity::{payment, refund, shop_order};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr};

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
/// Approved: its effects on the order are done; the WeChat part is to be
/// sent (again, after a failed attempt, at `next_attempt_at`).
pub const REFUND_APPROVED: &str = "APPROVED";
/// WeChat Pay took the WeChat part and has not said it is back yet: its
/// notification settles it, or a query at `next_attempt_at`.
pub const REFUND_PROCESSING: &str = "PROCESSING";
/// The money is back.
pub const REFUND_DONE: &str = "REFUNDED";
/// WeChat Pay could not return it (`ABNORMAL`, `CLOSED`) or refused it for
/// good: `failure_reason` says why; the admin retries or settles it.
pub const REFUND_FAILED: &str = "FAILED";

/// Failed sends before a refund is given up as `FAILED` (about a day and a
/// half of back-off: 1, 2, 4, … minutes, at most 6 hours apart).
const MAX_ATTEMPTS: i32 = 12;
/// The longest wait between two sends.
const MAX_BACKOFF_MINS: i64 = 360;
/// Refunds handled per job pass, oldest due first.
const RETRY_PAGE: u64 = 100;

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
    let order = service::own(state, customer_id, order_id).await?;
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
    match service::confirm(state, confirmation).await? {
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

/// The wait after the `attempts`-th failed send: 1 minute, doubling, at
/// most [`MAX_BACKOFF_MINS`].
pub fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) - 1;
    Duration::minutes((1i64 << exp).min(MAX_BACKOFF_MINS))
}

/// Whether a refused or failed refund call may succeed later. Outages,
/// WeChat Pay's own errors, rate limits and a merchant account short of
/// funds (money keeps arriving) are retried; any other refusal (a bad
/// parameter, an amount above what is refundable, a closed payer account,
/// our own signature refused) fails the same way every time, so the refund
/// is `FAILED` at once for the admin to look at.
fn retryable(e: &PayError) -> bool {
    match e {
        PayError::Timeout
        | PayError::Unreachable
        | PayError::BadSignature
        | PayError::Unexpected(_) => true,
        PayError::Rejected { status, code, .. } => {
            *status >= 500
                || *status == 429
                || matches!(
                    code.as_str(),
                    "SYSTEM_ERROR" | "FREQUENCY_LIMITED" | "NOT_ENOUGH"
                )
        }
    }
}

/// WeChat Pay's word on a refund (its answer to the refund call, a query, a
/// notification, the trade bill) applied to the row, once: each move is a
/// conditional update from the statuses it may come from, so a repeated or
/// late word changes nothing. True when the row moved.
pub async fn apply_wechat_status(
    state: &AppState,
    refund_id: i64,
    wechat_status: &str,
    wechat_refund_id: Option<&str>,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let mut q = refund::Entity::update_many()
        .col_expr(refund::Column::UpdatedAt, Expr::value(now))
        .filter(refund::Column::Id.eq(refund_id));
    if let Some(id) = wechat_refund_id {
        q = q.col_expr(refund::Column::WechatRefundId, Expr::value(id));
    }
    let q = match wechat_status {
        "SUCCESS" => q
            .col_expr(refund::Column::Status, Expr::value(REFUND_DONE))
            .col_expr(refund::Column::NextAttemptAt, Expr::value(None::<DateTime<Utc>>))
            .col_expr(refund::Column::FailureReason, Expr::value(None::<String>))
            // Even a FAILED one: WeChat Pay's success is the final word
            // (an ABNORMAL refund the merchant re-routed, say).
            .filter(refund::Column::Status.is_in([
                REFUND_APPROVED,
                REFUND_PROCESSING,
                REFUND_FAILED,
            ])),
        "ABNORMAL" | "CLOSED" => q
            .col_expr(refund::Column::Status, Expr::value(REFUND_FAILED))
            .col_expr(refund::Column::NextAttemptAt, Expr::value(None::<DateTime<Utc>>))
            .col_expr(
                refund::Column::FailureReason,
                Expr::value(if wechat_status == "ABNORMAL" {
                    "ABNORMAL: WeChat Pay could not pay the buyer back (closed card or account); retry to the balance of the buyer's WeChat, or settle it another way"
                } else {
                    "CLOSED: WeChat Pay closed the refund without paying it"
                }),
            )
            .filter(refund::Column::Status.is_in([REFUND_APPROVED, REFUND_PROCESSING])),
        // PROCESSING (or a status we do not know): wait for the
        // notification; ask again later if none comes.
        _ => q
            .col_expr(refund::Column::Status, Expr::value(REFUND_PROCESSING))
            .col_expr(
                refund::Column::NextAttemptAt,
                Expr::value(now + query_after(state)),
            )
            .filter(refund::Column::Status.is_in([REFUND_APPROVED, REFUND_PROCESSING])),
    };
    let moved = q.exec(&state.db).await?.rows_affected == 1;
    if moved {
        super::after_sale::follow_refund(&state.db, refund_id).await?;
    }
    Ok(moved)
}

fn query_after(state: &AppState) -> Duration {
    Duration::minutes(i64::from(state.settings.refund_query_after_mins.max(1)))
}

/// Records a failed send: retried after a back-off, or `FAILED` when it
/// cannot succeed or has been tried [`MAX_ATTEMPTS`] times.
async fn record_failure(
    state: &AppState,
    r: &refund::Model,
    e: &PayError,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let attempts = r.attempts + 1;
    let error: String = e.to_string().chars().take(300).collect();
    let give_up = !retryable(e) || attempts >= MAX_ATTEMPTS;
    let mut q = refund::Entity::update_many()
        .col_expr(refund::Column::Attempts, Expr::value(attempts))
        .col_expr(refund::Column::LastError, Expr::value(error.clone()))
        .col_expr(refund::Column::UpdatedAt, Expr::value(now));
    q = if give_up {
        let why = if retryable(e) {
            format!("gave up after {attempts} attempts: {error}")
        } else {
            format!("refused by WeChat Pay: {error}")
        };
        tracing::warn!(refund_id = r.id, reason = %why, "refund FAILED");
        q.col_expr(refund::Column::Status, Expr::value(REFUND_FAILED))
            .col_expr(refund::Column::FailureReason, Expr::value(why))
            .col_expr(
                refund::Column::NextAttemptAt,
                Expr::value(None::<DateTime<Utc>>),
            )
    } else {
        q.col_expr(
            refund::Column::NextAttemptAt,
            Expr::value(now + backoff(attempts)),
        )
    };
    q.filter(refund::Column::Id.eq(r.id))
        .filter(refund::Column::Status.eq(REFUND_APPROVED))
        .exec(&state.db)
        .await?;
    if give_up {
        super::after_sale::follow_refund(&state.db, r.id).await?;
    }
    Ok(())
}

/// Sends an approved refund's money back. The WeChat part goes through
/// WeChat Pay's refund API, which is idempotent on `out_refund_no`, so a
/// failed attempt is simply sent again later (see [`retry_refunds`]); what
/// WeChat Pay answers decides the status: `SUCCESS` is `REFUNDED`,
/// `PROCESSING` waits for its notification (or a query), `ABNORMAL` and
/// `CLOSED` are `FAILED`. The balance part was already returned when the
/// refund was approved; a refund without a WeChat part is `REFUNDED` here.
pub async fn send_refund(state: &AppState, refund_id: i64, provider: &str) -> AppResult<()> {
    send_refund_at(state, refund_id, provider, Utc::now()).await
}

async fn send_refund_at(
    state: &AppState,
    refund_id: i64,
    provider: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let r = refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound("refund not found".into()))?;
    if r.status != REFUND_APPROVED {
        return Ok(());
    }
    if provider != "WECHAT" || r.wechat_fen == 0 {
        apply_wechat_status(state, r.id, "SUCCESS", None, now).await?;
        return Ok(());
    }
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
    match pay.refund(&state.http, &req).await {
        Ok(result) => {
            apply_wechat_status(state, r.id, &result.status, Some(&result.refund_id), now).await?;
            Ok(())
        }
        Err(e) => {
            record_failure(state, &r, &e, now).await?;
            Err(pay_failed(e))
        }
    }
}

/// Asks WeChat Pay about a refund it took without a final word since
/// `REFUND_QUERY_AFTER_MINS` (its notification lost, say) and applies the
/// answer. One it does not know (never received) is sent again.
async fn query_refund(state: &AppState, r: &refund::Model, now: DateTime<Utc>) -> AppResult<bool> {
    let pay = state
        .pay
        .as_ref()
        .ok_or_else(|| AppError::PaymentFailed("WeChat Pay is not configured".into()))?;
    match pay.query_refund(&state.http, &r.out_refund_no).await {
        Ok(result) => {
            let final_word = result.status != "PROCESSING";
            apply_wechat_status(state, r.id, &result.status, Some(&result.refund_id), now).await?;
            Ok(final_word)
        }
        Err(PayError::Rejected { status: 404, .. }) => {
            refund::Entity::update_many()
                .col_expr(refund::Column::Status, Expr::value(REFUND_APPROVED))
                .col_expr(refund::Column::NextAttemptAt, Expr::value(now))
                .col_expr(refund::Column::UpdatedAt, Expr::value(now))
                .filter(refund::Column::Id.eq(r.id))
                .filter(refund::Column::Status.eq(REFUND_PROCESSING))
                .exec(&state.db)
                .await?;
            Ok(false)
        }
        Err(e) => {
            let error: String = e.to_string().chars().take(300).collect();
            refund::Entity::update_many()
                .col_expr(refund::Column::LastError, Expr::value(error))
                .col_expr(
                    refund::Column::NextAttemptAt,
                    Expr::value(now + backoff(r.attempts + 1)),
                )
                .col_expr(refund::Column::Attempts, Expr::value(r.attempts + 1))
                .filter(refund::Column::Id.eq(r.id))
                .filter(refund::Column::Status.eq(REFUND_PROCESSING))
                .exec(&state.db)
                .await?;
            Err(pay_failed(e))
        }
    }
}

/// Background job: every approved refund whose money has not gone back yet
/// and whose back-off has passed is sent again, and every refund WeChat
/// Pay has been processing without news is queried; oldest due first, a
/// page at a time. A failure is recorded on its own refund (attempts, last
/// error, next attempt) and never stops the pass for the others. Returns
/// how many were sent or settled.
pub async fn retry_refunds(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let due = refund::Entity::find()
        .filter(refund::Column::Status.is_in([REFUND_APPROVED, REFUND_PROCESSING]))
        .filter(refund::Column::NextAttemptAt.lte(now))
        .order_by_asc(refund::Column::NextAttemptAt)
        .order_by_asc(refund::Column::Id)
        .limit(RETRY_PAGE)
        .all(&state.db)
        .await?;
    let mut done = 0;
    for r in due {
        let outcome = if r.status == REFUND_PROCESSING {
            query_refund(state, &r, now).await
        } else {
            match provider_of(state, r.order_id).await {
                Ok(provider) => send_refund_at(state, r.id, provider, now)
                    .await
                    .map(|()| true),
                Err(e) => Err(e),
            }
        };
        match outcome {
            Ok(true) => done += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(refund_id = r.id, error = ?e, "refund not settled yet; retried after its back-off")
            }
        }
    }
    Ok(done)
}

/// ADMIN sends a `FAILED` refund again. A refund WeChat Pay never took (it
/// refused the call) goes again under the same `out_refund_no`; one WeChat
/// Pay closed or could not pay (`CLOSED`, `ABNORMAL`) is finished on its
/// side, so it goes under a new `out_refund_no` (WeChat Pay never refunds
/// more than was paid, so a second one cannot pay twice).
pub async fn retry_failed(state: &AppState, refund_id: i64) -> AppResult<refund::Model> {
    let r = refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("refund {refund_id} not found")))?;
    if r.status != REFUND_FAILED {
        return Err(AppError::Conflict(format!(
            "the refund is {}; only a FAILED refund can be retried",
            r.status
        )));
    }
    let now = Utc::now();
    let mut q = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value(REFUND_APPROVED))
        .col_expr(refund::Column::Attempts, Expr::value(0))
        .col_expr(refund::Column::FailureReason, Expr::value(None::<String>))
        .col_expr(refund::Column::LastError, Expr::value(None::<String>))
        // The inline send below goes first; the jobs pass after a minute.
        .col_expr(refund::Column::NextAttemptAt, Expr::value(now + backoff(1)))
        .col_expr(refund::Column::UpdatedAt, Expr::value(now));
    if r.wechat_refund_id.is_some() {
        // `R{order_no}-{id}`, then a fresh suffix per retry.
        let base = r
            .out_refund_no
            .splitn(3, '-')
            .take(2)
            .collect::<Vec<_>>()
            .join("-");
        q = q
            .col_expr(
                refund::Column::OutRefundNo,
                Expr::value(format!("{base}-{}", now.timestamp())),
            )
            .col_expr(refund::Column::WechatRefundId, Expr::value(None::<String>));
    }
    let claimed = q
        .filter(refund::Column::Id.eq(r.id))
        .filter(refund::Column::Status.eq(REFUND_FAILED))
        .exec(&state.db)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(AppError::Conflict(
            "the refund changed meanwhile; look at it again".into(),
        ));
    }
    super::after_sale::follow_refund(&state.db, r.id).await?;
    let provider = provider_of(state, r.order_id).await?;
    if let Err(e) = send_refund(state, r.id, provider).await {
        tracing::warn!(refund_id, error = ?e, "refund retried; sending failed and will be retried");
    }
    Ok(refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .unwrap_or(r))
}

/// ADMIN records a `FAILED` refund as settled another way (paid back by
/// bank transfer, or through WeChat Pay's merchant platform): `REFUNDED`,
/// with the note kept in its reason. Nothing is sent.
pub async fn settle_failed(
    state: &AppState,
    refund_id: i64,
    note: &str,
) -> AppResult<refund::Model> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 200 {
        return Err(AppError::bad_input("note", "must be 1-200 characters"));
    }
    let r = refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("refund {refund_id} not found")))?;
    let now = Utc::now();
    let settled = refund::Entity::update_many()
        .col_expr(refund::Column::Status, Expr::value(REFUND_DONE))
        .col_expr(
            refund::Column::Reason,
            Expr::value(format!("{} | settled outside: {note}", r.reason)),
        )
        .col_expr(refund::Column::UpdatedAt, Expr::value(now))
        .filter(refund::Column::Id.eq(r.id))
        .filter(refund::Column::Status.eq(REFUND_FAILED))
        .exec(&state.db)
        .await?;
    if settled.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "the refund is {}; only a FAILED refund can be settled",
            r.status
        )));
    }
    super::after_sale::follow_refund(&state.db, r.id).await?;
    Ok(refund::Entity::find_by_id(refund_id)
        .one(&state.db)
        .await?
        .unwrap_or(r))
}

/// A verified `REFUND.*` notification: WeChat Pay's final word on one of our
/// refunds (`SUCCESS`, `ABNORMAL`, `CLOSED`), applied once; a repeat
/// changes nothing. `NOT_FOUND` for a refund we never asked for,
/// `CONFLICT` when its amount is not ours.
pub async fn refund_notified(
    state: &AppState,
    out_refund_no: &str,
    refund_fen: i64,
    refund_status: &str,
    wechat_refund_id: &str,
) -> AppResult<()> {
    let r = refund::Entity::find()
        .filter(refund::Column::OutRefundNo.eq(out_refund_no))
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no refund {out_refund_no}")))?;
    if r.wechat_fen != refund_fen {
        tracing::warn!(
            out_refund_no,
            expected = r.wechat_fen,
            notified = refund_fen,
            "refund notification amount mismatch"
        );
        return Err(AppError::Conflict(
            "the refunded amount does not match the refund".into(),
        ));
    }
    let moved = apply_wechat_status(
        state,
        r.id,
        refund_status,
        Some(wechat_refund_id),
        Utc::now(),
    )
    .await?;
    tracing::info!(
        out_refund_no,
        refund_status,
        moved,
        "WeChat Pay refund notification"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_up_to_six_hours() {
        let mins: Vec<i64> = (1..=12).map(|a| backoff(a).num_minutes()).collect();
        assert_eq!(mins, [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360, 360]);
    }

    #[test]
    fn only_refusals_that_may_pass_later_are_retried() {
        let rejected = |status, code: &str| PayError::Rejected {
            status,
            code: code.into(),
            message: String::new(),
        };
        assert!(retryable(&PayError::Timeout));
        assert!(retryable(&rejected(503, "SYSTEM_ERROR")));
        assert!(retryable(&rejected(429, "FREQUENCY_LIMITED")));
        assert!(retryable(&rejected(403, "NOT_ENOUGH")));
        assert!(!retryable(&rejected(400, "PARAM_ERROR")));
        assert!(!retryable(&rejected(403, "USER_ACCOUNT_ABNORMAL")));
        assert!(!retryable(&rejected(401, "SIGN_ERROR")));
    }
}
