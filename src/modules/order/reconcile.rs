//! Daily reconciliation against WeChat Pay's trade bill: every payment and
//! refund the bill lists is matched to our records, and what does not match
//! is kept for the admin (`reconciliation(date)`). A payment the bill shows
//! for an order still waiting is confirmed (its notification was lost); one
//! for an order that can no longer take it is refunded, both through the
//! one payment path (`confirm_payment`), so nothing here moves money by
//! itself.
//!
//! Once per day and store: the day's `reconciliation` row is the claim.
//! Several instances race to insert it; the unique date lets one win. A
//! run that failed (or an instance that died mid-run) is claimed again
//! later; the admin may re-run a day at any time, which replaces its list.
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Timelike, Utc};
use entity::{payment, reconciliation, reconciliation_difference, refund};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, SqlErr, sea_query::Expr,
};

use super::payment::{Confirmation, PaymentOutcome, confirm_payment};
use super::query::find_by_no;
use crate::{
    error::{AppError, AppResult},
    state::AppState,
    wechat::pay::PayError,
};

pub const RUNNING: &str = "RUNNING";
pub const DONE: &str = "DONE";
pub const FAILED: &str = "FAILED";

/// WeChat Pay publishes a day's bill from 10:00 the next day (China time).
const BILL_READY_HOUR: u32 = 10;
/// A run still RUNNING after this long died with its instance: claim again.
const STALE_RUN_MINS: i64 = 30;
/// A FAILED run is tried again by the jobs loop after this long.
const RETRY_FAILED_MINS: i64 = 60;

fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// One bill row, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillEntry {
    pub transaction_id: String,
    pub out_trade_no: String,
    /// `SUCCESS` (a payment) or `REFUND`.
    pub trade_state: String,
    /// The order's amount (fen).
    pub total_fen: i64,
    pub out_refund_no: String,
    pub refund_fen: i64,
    /// `SUCCESS`, `PROCESSING`, … (refund rows).
    pub refund_status: String,
}

/// "12.34" (yuan, as bills write amounts) → 1234 fen.
fn fen(yuan: &str) -> Option<i64> {
    let yuan = yuan.trim();
    let (whole, frac) = yuan.split_once('.').unwrap_or((yuan, ""));
    if frac.len() > 2 || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    Some(whole * 100 + frac)
}

/// Reads a trade bill (`bill_type=ALL`): a header row, data rows whose
/// fields each start with a backtick, then a summary. Columns are found by
/// their names, so added columns do not break it.
pub fn parse_bill(csv: &str) -> Result<Vec<BillEntry>, String> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .ok_or("empty bill")?
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(str::trim)
        .collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let need = |name: &str| col(name).ok_or_else(|| format!("the bill has no column {name}"));
    let (txid, trade_no, state) = (need("微信订单号")?, need("商户订单号")?, need("交易状态")?);
    // 订单金额 is what the buyer was asked for (our payable); older bills
    // only have 应结订单金额.
    let total = col("订单金额").map_or_else(|| need("应结订单金额"), Ok)?;
    let refund_no = need("商户退款单号")?;
    let refund = col("申请退款金额").map_or_else(|| need("退款金额"), Ok)?;
    let refund_status = need("退款状态")?;
    let mut entries = Vec::new();
    for line in lines {
        if line.starts_with("总交易单数") {
            break;
        }
        let fields: Vec<&str> = line
            .split(',')
            .map(|f| f.trim().trim_start_matches('`'))
            .collect();
        let field = |i: usize| fields.get(i).copied().unwrap_or_default().to_string();
        let amount = |i: usize| fen(&field(i)).ok_or_else(|| format!("bad amount in {line:?}"));
        entries.push(BillEntry {
            transaction_id: field(txid),
            out_trade_no: field(trade_no),
            trade_state: field(state),
            total_fen: amount(total)?,
            out_refund_no: field(refund_no),
            refund_fen: amount(refund)?,
            refund_status: field(refund_status),
        });
    }
    Ok(entries)
}

/// A difference to keep.
struct Difference {
    kind: &'static str,
    out_trade_no: Option<String>,
    out_refund_no: Option<String>,
    amount_fen: i64,
    detail: String,
}

/// Background job: reconciles yesterday (China time) once its bill is out.
/// Returns the number of differences found (0 when there was nothing to do).
pub async fn reconcile_due(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    if state.pay.is_none() {
        return Ok(0);
    }
    let local = now.with_timezone(&china());
    if local.hour() < BILL_READY_HOUR {
        return Ok(0);
    }
    let date = (local.date_naive() - Duration::days(1))
        .format("%Y-%m-%d")
        .to_string();
    let Some(run) = claim(state, &date, now, false).await? else {
        return Ok(0);
    };
    let run = reconcile_claimed(state, run).await?;
    Ok(differences_of(state, run.id).await?.len())
}

/// ADMIN: reconciles `date` (`YYYY-MM-DD`) now, replacing an earlier run's
/// list. `CONFLICT` while another run of that day is under way.
pub async fn reconcile_on_demand(state: &AppState, date: &str) -> AppResult<reconciliation::Model> {
    if state.pay.is_none() {
        return Err(AppError::Conflict(
            "WeChat Pay is not configured on this store".into(),
        ));
    }
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| AppError::bad_input("date", "must be YYYY-MM-DD"))?;
    let now = Utc::now();
    if day > now.with_timezone(&china()).date_naive() {
        return Err(AppError::bad_input("date", "must not be in the future"));
    }
    let run = claim(state, date, now, true)
        .await?
        .ok_or_else(|| AppError::Conflict(format!("{date} is being reconciled already")))?;
    reconcile_claimed(state, run).await
}

/// The run of `date`, if there was one.
pub async fn run_of(state: &AppState, date: &str) -> AppResult<Option<reconciliation::Model>> {
    Ok(reconciliation::Entity::find()
        .filter(reconciliation::Column::BillDate.eq(date))
        .one(&state.db)
        .await?)
}

pub async fn differences_of(
    state: &AppState,
    run_id: i64,
) -> AppResult<Vec<reconciliation_difference::Model>> {
    Ok(reconciliation_difference::Entity::find()
        .filter(reconciliation_difference::Column::ReconciliationId.eq(run_id))
        .order_by_asc(reconciliation_difference::Column::Id)
        .all(&state.db)
        .await?)
}

/// Takes the day's claim: inserts its row, or takes over a run that
/// failed a while ago or died (`force`: any run not under way). `None`
/// when another instance has it, or (without `force`) it is done.
async fn claim(
    state: &AppState,
    date: &str,
    now: DateTime<Utc>,
    force: bool,
) -> AppResult<Option<reconciliation::Model>> {
    let inserted = reconciliation::Entity::insert(reconciliation::ActiveModel {
        bill_date: Set(date.to_string()),
        status: Set(RUNNING.into()),
        matched: Set(0),
        error: Set(None),
        claimed_at: Set(now),
        finished_at: Set(None),
        ..Default::default()
    })
    .exec(&state.db)
    .await;
    match inserted {
        Ok(_) => return run_of(state, date).await,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
        Err(e) => return Err(e.into()),
    }
    use reconciliation::Column as C;
    let stale = sea_orm::Condition::all()
        .add(C::Status.eq(RUNNING))
        .add(C::ClaimedAt.lte(now - Duration::minutes(STALE_RUN_MINS)));
    let retake = if force {
        sea_orm::Condition::any()
            .add(C::Status.is_in([DONE, FAILED]))
            .add(stale)
    } else {
        sea_orm::Condition::any()
            .add(
                sea_orm::Condition::all()
                    .add(C::Status.eq(FAILED))
                    .add(C::ClaimedAt.lte(now - Duration::minutes(RETRY_FAILED_MINS))),
            )
            .add(stale)
    };
    let taken = reconciliation::Entity::update_many()
        .col_expr(C::Status, Expr::value(RUNNING))
        .col_expr(C::ClaimedAt, Expr::value(now))
        .col_expr(C::Error, Expr::value(None::<String>))
        .filter(C::BillDate.eq(date))
        .filter(retake)
        .exec(&state.db)
        .await?;
    if taken.rows_affected != 1 {
        return Ok(None);
    }
    run_of(state, date).await
}

/// Runs a claimed reconciliation and records how it ended.
async fn reconcile_claimed(
    state: &AppState,
    run: reconciliation::Model,
) -> AppResult<reconciliation::Model> {
    let outcome = compare(state, &run.bill_date).await;
    use reconciliation::Column as C;
    // A re-run replaces the earlier list.
    reconciliation_difference::Entity::delete_many()
        .filter(reconciliation_difference::Column::ReconciliationId.eq(run.id))
        .exec(&state.db)
        .await?;
    // Only while the claim is still ours (as read back, at the database's
    // precision): an instance that took a stale run over owns it now.
    let update = reconciliation::Entity::update_many()
        .col_expr(C::FinishedAt, Expr::value(Utc::now()))
        .filter(C::Id.eq(run.id))
        .filter(C::Status.eq(RUNNING))
        .filter(C::ClaimedAt.eq(run.claimed_at));
    match outcome {
        Ok((matched, differences)) => {
            if !differences.is_empty() {
                let rows =
                    differences
                        .into_iter()
                        .map(|d| reconciliation_difference::ActiveModel {
                            reconciliation_id: Set(run.id),
                            kind: Set(d.kind.into()),
                            out_trade_no: Set(d.out_trade_no),
                            out_refund_no: Set(d.out_refund_no),
                            amount_fen: Set(d.amount_fen),
                            detail: Set(d.detail.chars().take(300).collect()),
                            created_at: Set(Utc::now()),
                            ..Default::default()
                        });
                reconciliation_difference::Entity::insert_many(rows)
                    .exec_without_returning(&state.db)
                    .await?;
            }
            update
                .col_expr(C::Status, Expr::value(DONE))
                .col_expr(C::Matched, Expr::value(matched))
                .exec(&state.db)
                .await?;
        }
        Err(e) => {
            tracing::error!(bill_date = %run.bill_date, error = ?e, "reconciliation failed; retried later");
            update
                .col_expr(C::Status, Expr::value(FAILED))
                .col_expr(C::Error, Expr::value(e.to_string()))
                .exec(&state.db)
                .await?;
        }
    }
    Ok(run_of(state, &run.bill_date).await?.unwrap_or(run))
}

/// Downloads and reads the bill of `date`, then matches it both ways.
async fn compare(state: &AppState, date: &str) -> AppResult<(i32, Vec<Difference>)> {
    let pay = state
        .pay
        .as_ref()
        .ok_or_else(|| AppError::Conflict("WeChat Pay is not configured".into()))?;
    let entries = match pay.trade_bill(&state.http, date).await {
        Ok(csv) => parse_bill(&csv).map_err(|e| AppError::internal(anyhow::anyhow!(e)))?,
        // WeChat Pay's answer for a day without any trade.
        Err(PayError::Rejected { code, .. }) if code == "NO_STATEMENT_EXIST" => Vec::new(),
        Err(e) => {
            return Err(AppError::PaymentFailed(format!(
                "the trade bill of {date} could not be read: {e}"
            )));
        }
    };
    let mut matched = 0;
    let mut differences = Vec::new();
    let mut seen_payments = HashSet::new();
    for entry in &entries {
        let found = if entry.trade_state == "REFUND" {
            refund_entry(state, entry).await?
        } else {
            seen_payments.insert(entry.transaction_id.clone());
            payment_entry(state, entry).await?
        };
        match found {
            None => matched += 1,
            Some(d) => differences.push(d),
        }
    }
    differences.extend(missing_in_bill(state, date, &seen_payments).await?);
    Ok((matched, differences))
}

/// A payment row: `None` when it matches a payment of ours (confirming it
/// first if its notification was lost).
async fn payment_entry(state: &AppState, e: &BillEntry) -> AppResult<Option<Difference>> {
    let diff = |kind, detail: String| {
        Some(Difference {
            kind,
            out_trade_no: Some(e.out_trade_no.clone()),
            out_refund_no: None,
            amount_fen: e.total_fen,
            detail,
        })
    };
    if e.trade_state != "SUCCESS" {
        // Bills of type ALL list payments and refunds; anything else is odd.
        return Ok(diff(
            "UNKNOWN_PAYMENT",
            format!("bill row in state {}", e.trade_state),
        ));
    }
    let recorded = payment::Entity::find()
        .filter(payment::Column::TransactionId.eq(&e.transaction_id))
        .one(&state.db)
        .await?;
    if let Some(p) = recorded {
        if p.amount_fen != e.total_fen {
            return Ok(diff(
                "AMOUNT_MISMATCH",
                format!(
                    "transaction {}: we recorded {} fen, the bill says {}",
                    e.transaction_id, p.amount_fen, e.total_fen
                ),
            ));
        }
        return Ok(None);
    }
    let Some(order) = find_by_no(&state.db, &e.out_trade_no).await? else {
        return Ok(diff(
            "UNKNOWN_PAYMENT",
            format!(
                "transaction {} pays no order of this store",
                e.transaction_id
            ),
        ));
    };
    if order.payable_fen != e.total_fen {
        return Ok(diff(
            "AMOUNT_MISMATCH",
            format!(
                "transaction {}: the order asks {} fen, the bill says {}",
                e.transaction_id, order.payable_fen, e.total_fen
            ),
        ));
    }
    // Its notification never came: the same path a notification takes.
    let outcome = confirm_payment(
        state,
        Confirmation {
            order_no: e.out_trade_no.clone(),
            transaction_id: e.transaction_id.clone(),
            amount_fen: e.total_fen,
            provider: "WECHAT",
        },
    )
    .await?;
    Ok(match outcome {
        PaymentOutcome::Applied => diff(
            "CONFIRMED_LATE",
            format!(
                "transaction {} had not been notified: the order is paid now",
                e.transaction_id
            ),
        ),
        PaymentOutcome::Refunded => diff(
            "REFUNDED_ORPHAN",
            format!(
                "transaction {} pays an order that is {}: refunded",
                e.transaction_id, order.status
            ),
        ),
        PaymentOutcome::Duplicate => None,
    })
}

/// A refund row: `None` when it matches a refund of ours (settling it
/// first if WeChat Pay's word on it was lost).
async fn refund_entry(state: &AppState, e: &BillEntry) -> AppResult<Option<Difference>> {
    let diff = |kind, detail: String| {
        Some(Difference {
            kind,
            out_trade_no: Some(e.out_trade_no.clone()),
            out_refund_no: Some(e.out_refund_no.clone()),
            amount_fen: e.refund_fen,
            detail,
        })
    };
    let Some(r) = refund::Entity::find()
        .filter(refund::Column::OutRefundNo.eq(&e.out_refund_no))
        .one(&state.db)
        .await?
    else {
        return Ok(diff(
            "UNKNOWN_REFUND",
            "a refund this store never asked for".into(),
        ));
    };
    if r.wechat_fen != e.refund_fen {
        return Ok(diff(
            "AMOUNT_MISMATCH",
            format!(
                "refund: we asked {} fen, the bill says {}",
                r.wechat_fen, e.refund_fen
            ),
        ));
    }
    if e.refund_status == "SUCCESS" && r.status != super::provider::REFUND_DONE {
        super::provider::apply_wechat_status(state, r.id, "SUCCESS", None, Utc::now()).await?;
    }
    Ok(None)
}

/// Our WeChat payments recorded that day that the bill does not list.
async fn missing_in_bill(
    state: &AppState,
    date: &str,
    seen: &HashSet<String>,
) -> AppResult<Vec<Difference>> {
    let day = NaiveDate::parse_from_str(date, "%Y-%m-%d")
        .map_err(|_| AppError::bad_input("date", "must be YYYY-MM-DD"))?;
    let start = day
        .and_hms_opt(0, 0, 0)
        .and_then(|t| t.and_local_timezone(china()).single())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| AppError::bad_input("date", "not a day"))?;
    let ours = payment::Entity::find()
        .filter(payment::Column::Provider.eq("WECHAT"))
        .filter(payment::Column::CreatedAt.gte(start))
        .filter(payment::Column::CreatedAt.lt(start + Duration::days(1)))
        .all(&state.db)
        .await?;
    let orders: HashMap<i64, String> =
        super::query::order_numbers(state, &ours.iter().map(|p| p.order_id).collect::<Vec<_>>())
            .await?;
    Ok(ours
        .into_iter()
        .filter(|p| !seen.contains(&p.transaction_id))
        .map(|p| Difference {
            kind: "MISSING_IN_BILL",
            out_trade_no: orders.get(&p.order_id).cloned(),
            out_refund_no: None,
            amount_fen: p.amount_fen,
            detail: format!(
                "transaction {} is recorded but not in the bill",
                p.transaction_id
            ),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_yuan_read_as_fen() {
        assert_eq!(fen("12.34"), Some(1234));
        assert_eq!(fen("0.5"), Some(50));
        assert_eq!(fen("7"), Some(700));
        assert_eq!(fen("1.234"), None);
        assert_eq!(fen("x.10"), None);
    }

    #[test]
    fn a_bill_is_read_by_column_name_up_to_its_summary() {
        let csv = "\u{feff}交易时间,微信订单号,商户订单号,交易状态,应结订单金额,商户退款单号,退款金额,退款状态,订单金额,申请退款金额\r\n\
            `2026-12-01 12:00:00,`42001,`SY1,`SUCCESS,`19.99,`0,`0.00,`,`19.99,`0.00\r\n\
            `2026-12-01 13:00:00,`42001,`SY1,`REFUND,`0.00,`RSY1-1,`19.99,`SUCCESS,`19.99,`19.99\r\n\
            总交易单数,应结订单总金额,退款总金额\r\n`2,`19.99,`19.99\r\n";
        let rows = parse_bill(csv).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].out_trade_no, "SY1");
        assert_eq!(rows[0].total_fen, 1999);
        assert_eq!(rows[1].trade_state, "REFUND");
        assert_eq!(rows[1].out_refund_no, "RSY1-1");
        assert_eq!(rows[1].refund_fen, 1999);
        assert!(parse_bill("a,b\r\n").is_err(), "columns missing");
    }
}
