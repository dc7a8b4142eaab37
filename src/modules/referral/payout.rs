//! Paying withdrawals through WeChat Pay's merchant transfer (商家转账).
//!
//! The life of a transferred withdrawal: `APPROVED` (by an admin, or
//! automatically within the threshold and the daily caps) → the transfer
//! bill is created (`out_bill_no` fixed at approval, so every retry names
//! the same bill and WeChat Pay never opens a second one) →
//! `WAITING_CONFIRMATION` with the bill's `package_info` for the promoter's
//! `wx.requestMerchantTransfer` → `PAID` (SUCCESS), or `FAILED`/`CANCELLED`
//! with the amount back on the promoter's withdrawable balance. WeChat
//! Pay's word arrives by notification, by the answer to a creation, query
//! or cancel, in any order and any number of times: each move is one
//! conditional update from the statuses it may come from, and the money
//! goes back in the same transaction as the move that wins, with a RELEASE
//! row that may exist once per withdrawal.
use chrono::{DateTime, Duration, Utc};
use entity::{withdrawal, withdrawal_day, withdrawal_entry};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, DatabaseTransaction, EntityTrait, ExprTrait, QueryFilter, QueryOrder, QuerySelect,
    TransactionTrait,
    sea_query::{Expr, Func, OnConflict},
};

use super::service;
use crate::{
    error::{AppError, AppResult},
    modules::customer::service as customers,
    state::AppState,
    wechat::pay::{PayError, REAL_NAME_FROM_FEN, TransferBill, TransferRequest},
};

/// Asked for; waiting for the store (stored `PENDING` before transfers).
pub const REQUESTED: &str = "REQUESTED";
/// Approved; the transfer bill is to be created (again, after a failed
/// attempt, at `next_check_at`).
pub const APPROVED: &str = "APPROVED";
/// The bill exists; the promoter confirms it in the mini-program.
pub const WAITING: &str = "WAITING_CONFIRMATION";
pub const PAID: &str = "PAID";
pub const REJECTED: &str = "REJECTED";
/// WeChat Pay failed the transfer (or closed it unconfirmed); money back.
pub const FAILED: &str = "FAILED";
/// Cancelled before the promoter confirmed it; money back.
pub const CANCELLED: &str = "CANCELLED";

const HOLD: &str = "HOLD";
const RELEASE: &str = "RELEASE";
/// Bills looked at per jobs pass, the longest-waiting first.
const PAGE: u64 = 100;
/// The longest wait between two failed creations.
const MAX_BACKOFF_MINS: i64 = 60;

/// The bill number of a withdrawal: letters and digits, unique because the
/// id is.
pub fn out_bill_no(withdrawal_id: i64) -> String {
    format!("SYWD{withdrawal_id:012}")
}

/// Whether withdrawals are paid through WeChat Pay here.
pub fn transfers_on(state: &AppState) -> bool {
    state.settings.transfer.is_some() && state.pay.is_some()
}

/// Demo logins have no WeChat identity to pay.
fn payable_openid(openid: &str) -> bool {
    !openid.is_empty() && !openid.starts_with("demo:")
}

/// What a transfer to `promoter_id` of `amount_fen` needs, checked before
/// anything changes: a WeChat openid, and the real name from
/// [`REAL_NAME_FROM_FEN`].
pub async fn check_payable(
    state: &AppState,
    promoter_id: i64,
    amount_fen: i64,
    real_name: Option<&str>,
) -> AppResult<()> {
    let customer = customers::get(state, promoter_id).await?;
    if !payable_openid(&customer.openid) {
        return Err(AppError::Conflict(
            "this customer has no WeChat openid to transfer to; withdraw to the wallet instead"
                .into(),
        ));
    }
    if amount_fen >= REAL_NAME_FROM_FEN && real_name.is_none() {
        return Err(AppError::bad_input(
            "realName",
            format!(
                "WeChat Pay needs the payee's real name from {} yuan",
                REAL_NAME_FROM_FEN / 100
            ),
        ));
    }
    Ok(())
}

/// The China calendar day of `now` (caps reset at midnight in China).
fn china_day(now: DateTime<Utc>) -> String {
    (now + Duration::hours(8)).format("%Y-%m-%d").to_string()
}

/// Appends a withdrawal's HOLD row (its amount left the balance).
pub(super) async fn hold(txn: &DatabaseTransaction, w: &withdrawal::Model) -> AppResult<()> {
    withdrawal_entry::Entity::insert(withdrawal_entry::ActiveModel {
        promoter_id: Set(w.promoter_id),
        withdrawal_id: Set(w.id),
        kind: Set(HOLD.into()),
        amount_fen: Set(-w.amount_fen),
        reason: Set(None),
        created_at: Set(w.created_at),
        ..Default::default()
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Gives a withdrawal's amount back to the promoter, once: the RELEASE row
/// is unique per withdrawal, and only the one that goes in credits.
pub(super) async fn release(
    txn: &DatabaseTransaction,
    w: &withdrawal::Model,
    reason: &str,
) -> AppResult<()> {
    let inserted = withdrawal_entry::Entity::insert(withdrawal_entry::ActiveModel {
        promoter_id: Set(w.promoter_id),
        withdrawal_id: Set(w.id),
        kind: Set(RELEASE.into()),
        amount_fen: Set(w.amount_fen),
        reason: Set(Some(reason.chars().take(200).collect())),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([
            withdrawal_entry::Column::WithdrawalId,
            withdrawal_entry::Column::Kind,
        ])
        .do_nothing()
        .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    if inserted == 1 {
        service::credit_promoter(txn, w.promoter_id, w.amount_fen).await?;
    }
    Ok(())
}

/// Approves a just-requested withdrawal without an admin when transfers
/// are on, its amount is within `WITHDRAWAL_AUTO_APPROVE_FEN` and the day's
/// automatic approvals of the promoter and of the store stay within their
/// caps. Each cap is one conditional update of the day's counter (inside a
/// savepoint, so a cap that refuses leaves the other counter untouched),
/// which is what holds under concurrent requests. True when approved.
pub(super) async fn auto_approve(
    state: &AppState,
    txn: &DatabaseTransaction,
    w: &withdrawal::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let s = &state.settings;
    if !transfers_on(state) || w.to_wallet || w.amount_fen > s.withdrawal_auto_approve_fen {
        return Ok(false);
    }
    let day = china_day(now);
    let counters = txn.begin().await?;
    for (scope, cap) in [
        (
            format!("P{}", w.promoter_id),
            s.withdrawal_auto_daily_cap_fen,
        ),
        ("STORE".to_string(), s.withdrawal_auto_store_daily_cap_fen),
    ] {
        withdrawal_day::Entity::insert(withdrawal_day::ActiveModel {
            day: Set(day.clone()),
            scope: Set(scope.clone()),
            total_fen: Set(0),
        })
        .on_conflict(
            OnConflict::columns([withdrawal_day::Column::Day, withdrawal_day::Column::Scope])
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&counters)
        .await?;
        let counted = withdrawal_day::Entity::update_many()
            .col_expr(
                withdrawal_day::Column::TotalFen,
                Expr::col(withdrawal_day::Column::TotalFen).add(w.amount_fen),
            )
            .filter(withdrawal_day::Column::Day.eq(day.as_str()))
            .filter(withdrawal_day::Column::Scope.eq(scope.as_str()))
            .filter(
                Expr::col(withdrawal_day::Column::TotalFen)
                    .add(w.amount_fen)
                    .lte(cap),
            )
            .exec(&counters)
            .await?;
        if counted.rows_affected != 1 {
            // Dropping the savepoint undoes the counters; the withdrawal
            // waits for an admin.
            return Ok(false);
        }
    }
    counters.commit().await?;
    withdrawal::Entity::update_many()
        .col_expr(withdrawal::Column::Status, Expr::value(APPROVED))
        .col_expr(withdrawal::Column::AutoApproved, Expr::value(true))
        .col_expr(withdrawal::Column::ApprovedAt, Expr::value(now))
        .col_expr(
            withdrawal::Column::OutBillNo,
            Expr::value(out_bill_no(w.id)),
        )
        .col_expr(withdrawal::Column::NextCheckAt, Expr::value(now))
        .filter(withdrawal::Column::Id.eq(w.id))
        .exec(txn)
        .await?;
    Ok(true)
}

/// An admin's approval with transfers on: `REQUESTED` → `APPROVED` with its
/// bill number, then the bill is created at once. `None` when it was not
/// `REQUESTED` (the caller reports what it is).
pub(super) async fn approve(
    state: &AppState,
    admin_id: i64,
    w: &withdrawal::Model,
    note: Option<String>,
) -> AppResult<Option<withdrawal::Model>> {
    check_payable(state, w.promoter_id, w.amount_fen, w.real_name.as_deref()).await?;
    let now = Utc::now();
    let moved = withdrawal::Entity::update_many()
        .col_expr(withdrawal::Column::Status, Expr::value(APPROVED))
        .col_expr(withdrawal::Column::Note, Expr::value(note))
        .col_expr(withdrawal::Column::AdminId, Expr::value(admin_id))
        .col_expr(withdrawal::Column::ReviewedAt, Expr::value(now))
        .col_expr(withdrawal::Column::ApprovedAt, Expr::value(now))
        .col_expr(
            withdrawal::Column::OutBillNo,
            Expr::value(out_bill_no(w.id)),
        )
        .col_expr(
            withdrawal::Column::FailureReason,
            Expr::value(None::<String>),
        )
        .col_expr(withdrawal::Column::NextCheckAt, Expr::value(now))
        .filter(withdrawal::Column::Id.eq(w.id))
        .filter(withdrawal::Column::Status.eq(REQUESTED))
        .exec(&state.db)
        .await?;
    if moved.rows_affected != 1 {
        return Ok(None);
    }
    send(state, w.id).await.map(Some)
}

/// Whether a refused call may succeed later: outages, WeChat Pay's own
/// errors, rate limits and a merchant balance short of funds. Anything
/// else (a bad parameter, a scene not granted, a frozen payee) fails the
/// same way every time.
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

fn backoff(attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) - 1;
    Duration::minutes(std::cmp::min(1i64 << exp, MAX_BACKOFF_MINS))
}

async fn reload(state: &AppState, id: i64) -> AppResult<withdrawal::Model> {
    withdrawal::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("withdrawal {id} not found")))
}

/// Creates the bill of an `APPROVED` withdrawal (the same `out_bill_no`
/// every time) and applies WeChat Pay's answer. A failure that may pass
/// leaves it `APPROVED` for the jobs pass (with back-off); a definitive
/// refusal, once a query shows no bill exists, puts it back to `REQUESTED`
/// with the reason and is returned as `PAYMENT_FAILED`: nothing was paid
/// or held differently.
pub async fn send(state: &AppState, id: i64) -> AppResult<withdrawal::Model> {
    let w = reload(state, id).await?;
    let (Some(pay), Some(settings)) = (&state.pay, &state.settings.transfer) else {
        return Ok(w);
    };
    let Some(no) = w.out_bill_no.clone().filter(|_| w.status == APPROVED) else {
        return Ok(w);
    };
    let customer = customers::get(state, w.promoter_id).await?;
    let req = TransferRequest {
        out_bill_no: no.clone(),
        openid: customer.openid,
        amount_fen: w.amount_fen,
        remark: settings.remark.clone(),
        scene_id: settings.scene_id.clone(),
        report_infos: settings.report_infos.clone(),
        user_name: if w.amount_fen >= REAL_NAME_FROM_FEN {
            w.real_name.clone()
        } else {
            None
        },
        notify_url: settings.notify_url.clone(),
    };
    let refusal = match pay.create_transfer(&state.http, &req).await {
        Ok(bill) => {
            apply(state, &no, &bill, Utc::now()).await?;
            return reload(state, id).await;
        }
        Err(e) if retryable(&e) => {
            failed_attempt(state, &w, &e).await?;
            return reload(state, id).await;
        }
        Err(e) => e,
    };
    // WeChat Pay asks not to give up on a bill number before a query shows
    // the bill was never made.
    match pay.query_transfer(&state.http, &no).await {
        Ok(bill) => {
            apply(state, &no, &bill, Utc::now()).await?;
            reload(state, id).await
        }
        Err(PayError::Rejected { status: 404, .. }) => {
            let message = refusal.to_string();
            tracing::warn!(withdrawal = id, error = %message, "WeChat Pay refused a transfer");
            withdrawal::Entity::update_many()
                .col_expr(withdrawal::Column::Status, Expr::value(REQUESTED))
                .col_expr(
                    withdrawal::Column::FailureReason,
                    Expr::value(message.chars().take(200).collect::<String>()),
                )
                .col_expr(
                    withdrawal::Column::NextCheckAt,
                    Expr::value(None::<DateTime<Utc>>),
                )
                .filter(withdrawal::Column::Id.eq(id))
                .filter(withdrawal::Column::Status.eq(APPROVED))
                .exec(&state.db)
                .await?;
            Err(AppError::PaymentFailed(format!(
                "WeChat Pay refused the transfer: {message}"
            )))
        }
        Err(e) => {
            failed_attempt(state, &w, &e).await?;
            reload(state, id).await
        }
    }
}

async fn failed_attempt(state: &AppState, w: &withdrawal::Model, e: &PayError) -> AppResult<()> {
    let attempts = w.attempts + 1;
    withdrawal::Entity::update_many()
        .col_expr(withdrawal::Column::Attempts, Expr::value(attempts))
        .col_expr(
            withdrawal::Column::LastError,
            Expr::value(e.to_string().chars().take(200).collect::<String>()),
        )
        .col_expr(
            withdrawal::Column::NextCheckAt,
            Expr::value(Utc::now() + backoff(attempts)),
        )
        .filter(withdrawal::Column::Id.eq(w.id))
        .filter(withdrawal::Column::Status.eq(APPROVED))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// WeChat Pay's word on a bill applied to its withdrawal, once: `SUCCESS`
/// pays it, `FAIL`/`CANCELLED` give the money back, any other state means
/// the promoter still has to confirm. Moves only from `APPROVED` or
/// `WAITING_CONFIRMATION`, so a repeated or late word changes nothing.
/// True when the withdrawal moved.
pub async fn apply(
    state: &AppState,
    out_bill_no: &str,
    bill: &TransferBill,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let open = [APPROVED, WAITING];
    let base = || {
        let mut q = withdrawal::Entity::update_many()
            .col_expr(withdrawal::Column::TransferState, Expr::value(&bill.state))
            .filter(withdrawal::Column::OutBillNo.eq(out_bill_no))
            .filter(withdrawal::Column::Status.is_in(open));
        if !bill.transfer_bill_no.is_empty() {
            q = q.col_expr(
                withdrawal::Column::TransferBillNo,
                Expr::value(&bill.transfer_bill_no),
            );
        }
        q
    };
    match bill.state.as_str() {
        "SUCCESS" => {
            let moved = base()
                .col_expr(withdrawal::Column::Status, Expr::value(PAID))
                .col_expr(withdrawal::Column::FinishedAt, Expr::value(now))
                .col_expr(
                    withdrawal::Column::NextCheckAt,
                    Expr::value(None::<DateTime<Utc>>),
                )
                .exec(&state.db)
                .await?;
            Ok(moved.rows_affected == 1)
        }
        "FAIL" | "CANCELLED" => {
            let (status, reason) = if bill.state == "FAIL" {
                (
                    FAILED,
                    match &bill.fail_reason {
                        Some(r) => format!("WeChat Pay failed the transfer: {r}"),
                        None => "WeChat Pay failed the transfer".to_string(),
                    },
                )
            } else {
                (
                    CANCELLED,
                    "the transfer was cancelled before it was confirmed".to_string(),
                )
            };
            let txn = state.db.begin().await?;
            let moved = base()
                .col_expr(withdrawal::Column::Status, Expr::value(status))
                .col_expr(withdrawal::Column::FailureReason, Expr::value(&reason))
                .col_expr(withdrawal::Column::FinishedAt, Expr::value(now))
                .col_expr(
                    withdrawal::Column::NextCheckAt,
                    Expr::value(None::<DateTime<Utc>>),
                )
                .exec(&txn)
                .await?;
            if moved.rows_affected != 1 {
                return Ok(false);
            }
            let w = withdrawal::Entity::find()
                .filter(withdrawal::Column::OutBillNo.eq(out_bill_no))
                .one(&txn)
                .await?
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("withdrawal vanished")))?;
            release(&txn, &w, &reason).await?;
            txn.commit().await?;
            Ok(true)
        }
        _ => {
            let after = state
                .settings
                .transfer
                .as_ref()
                .map_or(10, |t| t.query_after_mins);
            let mut q = base()
                .col_expr(withdrawal::Column::Status, Expr::value(WAITING))
                .col_expr(
                    withdrawal::Column::NextCheckAt,
                    Expr::value(now + Duration::minutes(i64::from(after))),
                )
                // The confirmation window runs from the bill's creation.
                .col_expr(
                    withdrawal::Column::TransferCreatedAt,
                    Func::coalesce([
                        Expr::col(withdrawal::Column::TransferCreatedAt),
                        Expr::value(now),
                    ])
                    .into(),
                );
            if let Some(package) = &bill.package_info {
                q = q.col_expr(withdrawal::Column::TransferPackage, Expr::value(package));
            }
            let moved = q.exec(&state.db).await?;
            Ok(moved.rows_affected == 1)
        }
    }
}

/// A verified transfer notification: the bill must be ours and of the
/// withdrawal's amount (else `NOT_FOUND`/`CONFLICT`, nothing changes); a
/// repeat changes nothing.
pub async fn notified(state: &AppState, bill: &TransferBill, amount_fen: i64) -> AppResult<()> {
    let w = withdrawal::Entity::find()
        .filter(withdrawal::Column::OutBillNo.eq(bill.out_bill_no.as_str()))
        .one(&state.db)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!("no withdrawal has bill {}", bill.out_bill_no))
        })?;
    if w.amount_fen != amount_fen {
        return Err(AppError::Conflict(format!(
            "bill {} is for {amount_fen} fen, the withdrawal for {}",
            bill.out_bill_no, w.amount_fen
        )));
    }
    apply(state, &bill.out_bill_no, bill, Utc::now()).await?;
    Ok(())
}

/// The jobs pass: creates the bills still to be created, asks WeChat Pay
/// about bills it has not reported on for `TRANSFER_QUERY_AFTER_MINS`, and
/// cancels those the promoter has not confirmed within
/// `TRANSFER_CONFIRM_EXPIRE_MINS` (the money comes back when WeChat Pay
/// says `CANCELLED`). Safe to run from several instances: every call is
/// idempotent on `out_bill_no` and every move conditional. Returns how many
/// withdrawals moved.
pub async fn run_due(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let (Some(pay), Some(settings)) = (&state.pay, &state.settings.transfer) else {
        return Ok(0);
    };
    let due = withdrawal::Entity::find()
        .filter(withdrawal::Column::Status.is_in([APPROVED, WAITING]))
        .filter(withdrawal::Column::NextCheckAt.lte(now))
        .order_by_asc(withdrawal::Column::NextCheckAt)
        .limit(PAGE)
        .all(&state.db)
        .await?;
    let mut moved = 0;
    for w in due {
        let Some(no) = w.out_bill_no.clone() else {
            continue;
        };
        if w.status == APPROVED {
            match send(state, w.id).await {
                Ok(after) if after.status != APPROVED => moved += 1,
                Ok(_) => {}
                Err(e) => tracing::warn!(withdrawal = w.id, error = %e, "transfer not created"),
            }
            continue;
        }
        let bill = match pay.query_transfer(&state.http, &no).await {
            Ok(bill) => bill,
            Err(e) => {
                tracing::warn!(withdrawal = w.id, error = %e, "transfer query failed");
                continue;
            }
        };
        let finished = matches!(bill.state.as_str(), "SUCCESS" | "FAIL" | "CANCELLED");
        if apply(state, &no, &bill, now).await? && finished {
            moved += 1;
        }
        let expired = w
            .transfer_created_at
            .unwrap_or(w.approved_at.unwrap_or(now))
            + Duration::minutes(i64::from(settings.confirm_expire_mins))
            <= now;
        let unconfirmed = matches!(bill.state.as_str(), "ACCEPTED" | "WAIT_USER_CONFIRM");
        if expired && unconfirmed {
            match pay.cancel_transfer(&state.http, &no).await {
                Ok(answer) => {
                    if apply(state, &no, &answer, now).await? && answer.state == "CANCELLED" {
                        moved += 1;
                    }
                }
                // Confirmed or closed meanwhile: the next query says which.
                Err(e) => tracing::info!(withdrawal = w.id, error = %e, "transfer cancel refused"),
            }
        }
    }
    Ok(moved)
}
