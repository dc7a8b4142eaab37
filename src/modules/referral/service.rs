//! Rules, promoters, accrual, reversal, settlement and withdrawals.
use chrono::{DateTime, Utc};
use entity::{commission, commission_rule, promoter, shop_order, withdrawal};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, SqlErr, TransactionTrait,
    sea_query::{Expr, Func, OnConflict, Query},
};

use super::commission::{self as calc, Base};
use super::payout;
use crate::api::pagination::TotalCount;
use crate::{
    error::{AppError, AppResult},
    modules::{
        customer::service as customers,
        wallet::ledger::{self, Kind as LedgerKind, Movement},
    },
    state::AppState,
};

pub const APPROVED: &str = "APPROVED";
pub const PENDING: &str = "PENDING";
pub const REJECTED: &str = "REJECTED";
pub const SETTLED: &str = "SETTLED";
pub const CANCELLED: &str = "CANCELLED";
pub const PAID: &str = "PAID";
const ACCRUAL: &str = "ACCRUAL";
const REVERSAL: &str = "REVERSAL";

/// The rule in force.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub level1_percent: i32,
    pub level2_percent: i32,
    pub settle_after_days: i32,
    pub base: Base,
    /// OPEN: every customer earns. APPLY: only approved promoters.
    pub open: bool,
}

impl Default for Rule {
    fn default() -> Self {
        Rule {
            level1_percent: 10,
            level2_percent: 5,
            settle_after_days: 7,
            base: Base::PaidAmount,
            open: false,
        }
    }
}

pub async fn rule(db: &impl ConnectionTrait) -> AppResult<Rule> {
    let newest = commission_rule::Entity::find()
        .order_by_desc(commission_rule::Column::Id)
        .one(db)
        .await?;
    Ok(newest
        .map(|r| Rule {
            level1_percent: r.level1_percent,
            level2_percent: r.level2_percent,
            settle_after_days: r.settle_after_days,
            base: Base::parse(&r.base),
            open: r.promoter_mode == "OPEN",
        })
        .unwrap_or_default())
}

/// A new version of the rule; orders paid from now on use it.
pub async fn set_rule(state: &AppState, admin_id: i64, r: Rule) -> AppResult<Rule> {
    calc::check_rule(r.level1_percent, r.level2_percent, r.settle_after_days)?;
    commission_rule::ActiveModel {
        level1_percent: Set(r.level1_percent),
        level2_percent: Set(r.level2_percent),
        settle_after_days: Set(r.settle_after_days),
        base: Set(r.base.as_str().into()),
        promoter_mode: Set(if r.open { "OPEN" } else { "APPLY" }.into()),
        admin_id: Set(Some(admin_id)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    rule(&state.db).await
}

async fn upsert_promoter(
    db: &impl ConnectionTrait,
    customer_id: i64,
    status: &str,
) -> AppResult<()> {
    promoter::Entity::insert(promoter::ActiveModel {
        customer_id: Set(customer_id),
        status: Set(status.into()),
        withdrawable_fen: Set(0),
        owed_fen: Set(0),
        applied_at: Set(Utc::now()),
        reviewed_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(promoter::Column::CustomerId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub async fn promoter_of(
    db: &impl ConnectionTrait,
    customer_id: i64,
) -> AppResult<Option<promoter::Model>> {
    Ok(promoter::Entity::find_by_id(customer_id).one(db).await?)
}

/// Applies to become a promoter: approved at once in OPEN mode, else PENDING
/// for an admin (a rejected customer may apply again).
pub async fn apply(state: &AppState, customer_id: i64) -> AppResult<promoter::Model> {
    let r = rule(&state.db).await?;
    let status = if r.open { APPROVED } else { PENDING };
    upsert_promoter(&state.db, customer_id, status).await?;
    promoter::Entity::update_many()
        .col_expr(promoter::Column::Status, Expr::value(status))
        .col_expr(promoter::Column::AppliedAt, Expr::value(Utc::now()))
        .filter(promoter::Column::CustomerId.eq(customer_id))
        .filter(promoter::Column::Status.eq(REJECTED))
        .exec(&state.db)
        .await?;
    promoter_of(&state.db, customer_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("promoter vanished")))
}

pub async fn review(
    state: &AppState,
    customer_id: i64,
    approve: bool,
) -> AppResult<promoter::Model> {
    let res = promoter::Entity::update_many()
        .col_expr(
            promoter::Column::Status,
            Expr::value(if approve { APPROVED } else { REJECTED }),
        )
        .col_expr(promoter::Column::ReviewedAt, Expr::value(Utc::now()))
        .filter(promoter::Column::CustomerId.eq(customer_id))
        .exec(&state.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound(format!(
            "customer {customer_id} has not applied to be a promoter"
        )));
    }
    promoter_of(&state.db, customer_id)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("promoter vanished")))
}

/// Whether a customer earns commissions under the rule.
async fn earns(db: &impl ConnectionTrait, customer_id: i64, r: &Rule) -> AppResult<bool> {
    if r.open {
        upsert_promoter(db, customer_id, APPROVED).await?;
    }
    Ok(promoter_of(db, customer_id)
        .await?
        .is_some_and(|p| p.status == APPROVED))
}

/// Who may earn on a buyer's orders: its inviter and the inviter's inviter,
/// with the rule in force. `None` for a buyer nobody invited (most orders:
/// nothing else is read for them).
pub struct Earners {
    rule: Rule,
    level1: i64,
    level2: Option<i64>,
}

/// Reads a buyer's [`Earners`] in the payment's transaction.
pub async fn earners(
    state: &AppState,
    txn: &DatabaseTransaction,
    buyer_id: i64,
) -> AppResult<Option<Earners>> {
    let Some(level1) = customers::referrer_of(state, txn, buyer_id).await? else {
        return Ok(None);
    };
    let rule = rule(txn).await?;
    let level2 = customers::referrer_of(state, txn, level1).await?;
    Ok(Some(Earners {
        rule,
        level1,
        level2,
    }))
}

/// Accrues the order's commissions in the payment's transaction: level 1 for
/// the buyer's inviter, level 2 for the inviter's inviter, each if an
/// approved promoter; never a third level. Once per order and level.
/// `goods_cost_fen` is what the order's goods cost the store (for a rule
/// that pays on the margin). Without `balance_earns`, only the WeChat-paid
/// money earns: the goods amount, at most what WeChat paid (that money goes
/// to the goods first, then shipping).
pub async fn accrue(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
    earners: Earners,
    goods_cost_fen: i64,
    balance_earns: bool,
) -> AppResult<()> {
    let Earners {
        rule: r,
        level1: l1,
        level2: l2,
    } = earners;
    let cost = goods_cost_fen;
    let goods_fen = order.total_fen - order.shipping_fen;
    let earning_fen = if balance_earns {
        goods_fen
    } else {
        goods_fen.min(order.payable_fen)
    };
    let base = calc::base_of(r.base, earning_fen, cost);
    for (level, who, percent) in [(1, Some(l1), r.level1_percent), (2, l2, r.level2_percent)] {
        let Some(who) = who.filter(|w| *w != order.customer_id) else {
            continue;
        };
        let amount = calc::amount(base, percent);
        if amount <= 0 || !earns(txn, who, &r).await? {
            continue;
        }
        insert_once(
            txn,
            commission::ActiveModel {
                order_id: Set(order.id),
                beneficiary_id: Set(who),
                buyer_id: Set(order.customer_id),
                level: Set(level),
                kind: Set(ACCRUAL.into()),
                base_fen: Set(base),
                percent: Set(percent),
                amount_fen: Set(amount),
                status: Set(PENDING.into()),
                settle_after_days: Set(r.settle_after_days),
                created_at: Set(Utc::now()),
                settled_at: Set(None),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}

/// Inserts a commission row unless its (order, level, kind) is already
/// there; returns how many rows went in (0 or 1).
async fn insert_once(txn: &DatabaseTransaction, row: commission::ActiveModel) -> AppResult<u64> {
    Ok(commission::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                commission::Column::OrderId,
                commission::Column::Level,
                commission::Column::Kind,
                commission::Column::AfterSaleId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(txn)
        .await?)
}

async fn lock_promoter(txn: &DatabaseTransaction, id: i64) -> AppResult<promoter::Model> {
    upsert_promoter(txn, id, APPROVED).await?;
    let mut q = promoter::Entity::find_by_id(id);
    if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(txn)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("promoter vanished")))
}

/// Adds to a promoter's balance: what it owes is paid first.
pub(super) async fn credit_promoter(
    txn: &DatabaseTransaction,
    id: i64,
    amount: i64,
) -> AppResult<()> {
    let p = lock_promoter(txn, id).await?;
    let to_debt = std::cmp::min(amount, p.owed_fen);
    promoter::Entity::update_many()
        .col_expr(promoter::Column::OwedFen, Expr::value(p.owed_fen - to_debt))
        .col_expr(
            promoter::Column::WithdrawableFen,
            Expr::value(p.withdrawable_fen + amount - to_debt),
        )
        .filter(promoter::Column::CustomerId.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Takes back from a promoter: from the withdrawable balance, the rest owed.
async fn debit_promoter(txn: &DatabaseTransaction, id: i64, amount: i64) -> AppResult<()> {
    let p = lock_promoter(txn, id).await?;
    let from_balance = std::cmp::min(amount, p.withdrawable_fen);
    promoter::Entity::update_many()
        .col_expr(
            promoter::Column::WithdrawableFen,
            Expr::value(p.withdrawable_fen - from_balance),
        )
        .col_expr(
            promoter::Column::OwedFen,
            Expr::value(p.owed_fen + amount - from_balance),
        )
        .filter(promoter::Column::CustomerId.eq(id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Part or all of an order's goods were refunded: `goods_refunded_fen` of
/// its `goods_fen` are now refunded in all, by the after-sale
/// `after_sale_id` and those before it (0: the whole order at once). Each
/// commission is brought down to its share of what remains paid: the part
/// of it reversed so far is its half-up share of the goods refunded so far
/// (so the parts add up exactly to the whole commission once every unit is
/// refunded). A pending one is reduced (or cancelled when nothing remains);
/// a settled one gets a negative `REVERSAL` row for this refund, taken from
/// the withdrawable balance or, where that is short, shown as owed.
pub async fn reverse_share(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
    after_sale_id: i64,
    goods_refunded_fen: i64,
    goods_fen: i64,
) -> AppResult<()> {
    let rows = commission::Entity::find()
        .filter(commission::Column::OrderId.eq(order.id))
        .all(txn)
        .await?;
    for c in rows.iter().filter(|c| c.kind == ACCRUAL) {
        let original = calc::amount(c.base_fen, c.percent);
        // Reversed so far: what pending reductions took, plus the
        // reversal rows of this level.
        let reduced = if c.status == CANCELLED {
            original
        } else {
            original - c.amount_fen
        };
        let reversed: i64 = reduced
            - rows
                .iter()
                .filter(|r| r.kind == REVERSAL && r.level == c.level)
                .map(|r| r.amount_fen)
                .sum::<i64>();
        let due = calc::reversal(original, goods_refunded_fen, goods_fen);
        let back = Ord::min(due - reversed, original - reversed);
        if back <= 0 {
            continue;
        }
        let mut status = c.status.clone();
        if status == PENDING {
            let left = c.amount_fen - back;
            let mut q = commission::Entity::update_many();
            q = if left <= 0 {
                q.col_expr(commission::Column::Status, Expr::value(CANCELLED))
            } else {
                q.col_expr(commission::Column::AmountFen, Expr::value(left))
            };
            let res = q
                .filter(commission::Column::Id.eq(c.id))
                .filter(commission::Column::Status.eq(PENDING))
                .filter(commission::Column::AmountFen.eq(c.amount_fen))
                .exec(txn)
                .await?;
            if res.rows_affected == 1 {
                continue;
            }
            // The settlement job won the row meanwhile: take it back as settled.
            status = commission::Entity::find_by_id(c.id)
                .one(txn)
                .await?
                .map(|x| x.status)
                .unwrap_or_default();
        }
        if status == SETTLED {
            let inserted = insert_once(
                txn,
                commission::ActiveModel {
                    order_id: Set(c.order_id),
                    beneficiary_id: Set(c.beneficiary_id),
                    buyer_id: Set(c.buyer_id),
                    level: Set(c.level),
                    kind: Set(REVERSAL.into()),
                    base_fen: Set(c.base_fen),
                    percent: Set(c.percent),
                    amount_fen: Set(-back),
                    status: Set(SETTLED.into()),
                    settle_after_days: Set(0),
                    created_at: Set(Utc::now()),
                    settled_at: Set(Some(Utc::now())),
                    after_sale_id: Set(after_sale_id),
                    ..Default::default()
                },
            )
            .await?;
            if inserted == 1 {
                debit_promoter(txn, c.beneficiary_id, back).await?;
            }
        }
    }
    Ok(())
}

/// Settles every pending commission whose order COMPLETED at least its
/// `settleAfterDays` ago, oldest completion first, at most 1,000 a run. What
/// is due is picked in SQL (one condition per `settleAfterDays` value in use,
/// a handful: the rule's versions), so due commissions never wait behind
/// ones that are not due yet. Each is claimed with a conditional update, so
/// two runs at once (or two instances) settle each commission once.
pub async fn settle_due(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let waits: Vec<i32> = commission::Entity::find()
        .select_only()
        .column(commission::Column::SettleAfterDays)
        .distinct()
        .filter(commission::Column::Status.eq(PENDING))
        .filter(commission::Column::Kind.eq(ACCRUAL))
        .into_tuple()
        .all(&state.db)
        .await?;
    if waits.is_empty() {
        return Ok(0);
    }
    let mut due = Condition::any();
    for days in waits {
        due = due.add(
            Condition::all()
                .add(commission::Column::SettleAfterDays.eq(days))
                .add(
                    shop_order::Column::CompletedAt
                        .lte(now - chrono::Duration::days(i64::from(days))),
                ),
        );
    }
    let to_order = commission::Entity::belongs_to(shop_order::Entity)
        .from(commission::Column::OrderId)
        .to(shop_order::Column::Id)
        .into();
    let candidates = commission::Entity::find()
        .join(sea_orm::JoinType::InnerJoin, to_order)
        .filter(commission::Column::Status.eq(PENDING))
        .filter(commission::Column::Kind.eq(ACCRUAL))
        .filter(shop_order::Column::Status.eq("COMPLETED"))
        .filter(due)
        .order_by_asc(shop_order::Column::CompletedAt)
        .order_by_asc(commission::Column::Id)
        .limit(1000)
        .all(&state.db)
        .await?;
    let mut settled = 0;
    for c in candidates {
        let txn = state.db.begin().await?;
        let claimed = commission::Entity::update_many()
            .col_expr(commission::Column::Status, Expr::value(SETTLED))
            .col_expr(commission::Column::SettledAt, Expr::value(now))
            .filter(commission::Column::Id.eq(c.id))
            .filter(commission::Column::Status.eq(PENDING))
            // Still completed now: a refund begun since must win.
            .filter(
                commission::Column::OrderId.in_subquery(
                    Query::select()
                        .column(shop_order::Column::Id)
                        .from(shop_order::Entity)
                        .and_where(shop_order::Column::Status.eq("COMPLETED"))
                        .to_owned(),
                ),
            )
            .exec(&txn)
            .await?;
        if claimed.rows_affected == 1 {
            credit_promoter(&txn, c.beneficiary_id, c.amount_fen).await?;
            txn.commit().await?;
            settled += 1;
        }
    }
    Ok(settled)
}

/// Withdraws `amount_fen` of the withdrawable balance: held now (a
/// conditional update, so concurrent requests can never take more than
/// there is), paid by the store on approval, or into the stored-value
/// wallet at once with `to_wallet`. The same key again returns the same withdrawal.
pub async fn request_withdrawal(
    state: &AppState,
    customer_id: i64,
    amount_fen: i64,
    key: &str,
    to_wallet: bool,
    real_name: Option<String>,
) -> AppResult<withdrawal::Model> {
    let real_name = real_name.map(|n| n.trim().to_string());
    if real_name
        .as_ref()
        .is_some_and(|n| n.is_empty() || n.chars().count() > 50)
    {
        return Err(AppError::bad_input("realName", "must be 1-50 characters"));
    }
    if key.trim().is_empty() || key.len() > 64 {
        return Err(AppError::bad_input(
            "idempotencyKey",
            "must be 1-64 characters",
        ));
    }
    let min = state.settings.min_withdrawal_fen;
    if amount_fen < min || amount_fen > 100_000_000 {
        return Err(AppError::bad_input(
            "amountFen",
            format!("must be at least {min} fen"),
        ));
    }
    let find = || {
        withdrawal::Entity::find()
            .filter(withdrawal::Column::PromoterId.eq(customer_id))
            .filter(withdrawal::Column::IdempotencyKey.eq(key))
            .one(&state.db)
    };
    let replay = |w: withdrawal::Model| {
        if w.amount_fen == amount_fen && w.to_wallet == to_wallet {
            Ok(w)
        } else {
            Err(AppError::Conflict(
                "this idempotencyKey was used for another withdrawal".into(),
            ))
        }
    };
    if let Some(w) = find().await? {
        return replay(w);
    }
    match promoter_of(&state.db, customer_id).await? {
        Some(p) if p.status == APPROVED => {}
        _ => {
            return Err(AppError::Forbidden(
                "only approved promoters can withdraw".into(),
            ));
        }
    }
    if payout::transfers_on(state) && !to_wallet {
        payout::check_payable(state, customer_id, amount_fen, real_name.as_deref()).await?;
    }
    use sea_orm::ExprTrait;
    let txn = state.db.begin().await?;
    let held = promoter::Entity::update_many()
        .col_expr(
            promoter::Column::WithdrawableFen,
            Expr::col(promoter::Column::WithdrawableFen).sub(amount_fen),
        )
        .filter(promoter::Column::CustomerId.eq(customer_id))
        .filter(promoter::Column::WithdrawableFen.gte(amount_fen))
        .exec(&txn)
        .await?;
    if held.rows_affected != 1 {
        return Err(AppError::InsufficientBalance(
            "that is more than the withdrawable balance".into(),
        ));
    }
    let now = Utc::now();
    let inserted = withdrawal::ActiveModel {
        promoter_id: Set(customer_id),
        amount_fen: Set(amount_fen),
        status: Set(if to_wallet { PAID } else { payout::REQUESTED }.into()),
        to_wallet: Set(to_wallet),
        real_name: Set(real_name),
        note: Set(None),
        idempotency_key: Set(key.to_string()),
        admin_id: Set(None),
        created_at: Set(now),
        reviewed_at: Set(to_wallet.then_some(now)),
        auto_approved: Set(false),
        attempts: Set(0),
        ..Default::default()
    }
    .insert(&txn)
    .await;
    let w = match inserted {
        Ok(w) => w,
        Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            drop(txn);
            return replay(
                find()
                    .await?
                    .ok_or_else(|| AppError::internal(anyhow::anyhow!("withdrawal race")))?,
            );
        }
        Err(e) => return Err(e.into()),
    };
    payout::hold(&txn, &w).await?;
    if to_wallet {
        let m = Movement {
            reason: Some(format!("commission withdrawal {}", w.id)),
            ..Movement::new(LedgerKind::Commission, amount_fen, 0)
        };
        ledger::apply(&txn, customer_id, m).await?;
    }
    let approved = payout::auto_approve(state, &txn, &w, now).await?;
    txn.commit().await?;
    if approved {
        // Created now when WeChat Pay answers; otherwise the jobs pass
        // retries, and a refusal leaves it for an admin: the withdrawal
        // itself stands either way.
        return match payout::send(state, w.id).await {
            Ok(w) => Ok(w),
            Err(e) => {
                tracing::warn!(withdrawal = w.id, error = %e, "automatic transfer refused");
                Ok(withdrawal::Entity::find_by_id(w.id)
                    .one(&state.db)
                    .await?
                    .unwrap_or(w))
            }
        };
    }
    Ok(w)
}

/// ADMIN approves or rejects a requested withdrawal; a rejected amount goes
/// back to the withdrawable balance. With transfers configured an approval
/// creates the WeChat Pay transfer bill (`WAITING_CONFIRMATION` for the
/// promoter to confirm); without, it records the store's own payment
/// (`PAID`, the payout reference in `note`).
pub async fn review_withdrawal(
    state: &AppState,
    admin_id: i64,
    id: i64,
    approve: bool,
    note: Option<String>,
) -> AppResult<withdrawal::Model> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if note.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(AppError::bad_input(
            "note",
            "must be at most 200 characters",
        ));
    }
    let w = withdrawal::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("withdrawal {id} not found")))?;
    if approve && payout::transfers_on(state) && !w.to_wallet {
        return payout::approve(state, admin_id, &w, note)
            .await?
            .ok_or_else(|| AppError::Conflict(format!("the withdrawal is already {}", w.status)));
    }
    let txn = state.db.begin().await?;
    let moved = withdrawal::Entity::update_many()
        .col_expr(
            withdrawal::Column::Status,
            Expr::value(if approve { PAID } else { REJECTED }),
        )
        .col_expr(withdrawal::Column::Note, Expr::value(note))
        .col_expr(withdrawal::Column::AdminId, Expr::value(admin_id))
        .col_expr(withdrawal::Column::ReviewedAt, Expr::value(Utc::now()))
        .filter(withdrawal::Column::Id.eq(id))
        .filter(withdrawal::Column::Status.eq(payout::REQUESTED))
        .exec(&txn)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::Conflict(format!(
            "the withdrawal is already {}",
            w.status
        )));
    }
    if !approve {
        payout::release(&txn, &w, "rejected by the store").await?;
    }
    txn.commit().await?;
    Ok(withdrawal::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .unwrap_or(w))
}

#[derive(FromQueryResult)]
struct Sum {
    total: Option<i64>,
}

async fn sum_commissions(state: &AppState, customer_id: i64, cond: Condition) -> AppResult<i64> {
    let row = commission::Entity::find()
        .select_only()
        .column_as(
            Expr::expr(Func::cast_as(
                Func::sum(Expr::col(commission::Column::AmountFen)),
                "BIGINT",
            )),
            "total",
        )
        .filter(commission::Column::BeneficiaryId.eq(customer_id))
        .filter(cond)
        .into_model::<Sum>()
        .one(&state.db)
        .await?;
    Ok(row.and_then(|r| r.total).unwrap_or(0))
}

/// A promoter's figures (fen).
pub struct Figures {
    pub pending: i64,
    pub settled: i64,
    pub withdrawn: i64,
    pub level1: u64,
    pub level2: u64,
}

pub async fn figures(state: &AppState, customer_id: i64) -> AppResult<Figures> {
    let pending = sum_commissions(
        state,
        customer_id,
        Condition::all().add(commission::Column::Status.eq(PENDING)),
    )
    .await?;
    let settled = sum_commissions(
        state,
        customer_id,
        Condition::all().add(commission::Column::Status.eq(SETTLED)),
    )
    .await?;
    let row = withdrawal::Entity::find()
        .select_only()
        .column_as(
            Expr::expr(Func::cast_as(
                Func::sum(Expr::col(withdrawal::Column::AmountFen)),
                "BIGINT",
            )),
            "total",
        )
        .filter(withdrawal::Column::PromoterId.eq(customer_id))
        .filter(withdrawal::Column::Status.eq(PAID))
        .into_model::<Sum>()
        .one(&state.db)
        .await?;
    let (level1, level2) = customers::team_size(&state.db, customer_id).await?;
    Ok(Figures {
        pending,
        settled,
        withdrawn: row.and_then(|r| r.total).unwrap_or(0),
        level1,
        level2,
    })
}

/// The customer's commissions, newest first.
pub async fn commissions(
    state: &AppState,
    customer_id: i64,
    status: Option<&str>,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<commission::Model>, bool)> {
    let mut q =
        commission::Entity::find().filter(commission::Column::BeneficiaryId.eq(customer_id));
    if let Some(s) = status {
        q = q.filter(commission::Column::Status.eq(s));
    }
    Ok(crate::db::page_desc(&state.db, q, commission::Column::Id, first, after_id).await?)
}

/// Filters of the admin's withdrawal queue.
#[derive(Default, Clone, Debug)]
pub struct WithdrawalFilter {
    pub status: Option<&'static str>,
    /// The promoter (a customer id).
    pub customer_id: Option<i64>,
    /// Requested at or after.
    pub from: Option<DateTime<Utc>>,
    /// Requested before.
    pub to: Option<DateTime<Utc>>,
}

fn withdrawal_condition(filter: &WithdrawalFilter) -> Condition {
    let mut cond = Condition::all();
    if let Some(s) = filter.status {
        cond = cond.add(withdrawal::Column::Status.eq(s));
    }
    if let Some(c) = filter.customer_id {
        cond = cond.add(withdrawal::Column::PromoterId.eq(c));
    }
    if let Some(from) = filter.from {
        cond = cond.add(withdrawal::Column::CreatedAt.gte(from));
    }
    if let Some(to) = filter.to {
        cond = cond.add(withdrawal::Column::CreatedAt.lt(to));
    }
    cond
}

/// ADMIN: every promoter's withdrawals, newest first (keyset on id): the
/// queue `reviewWithdrawal` works from.
pub async fn withdrawal_queue(
    state: &AppState,
    filter: &WithdrawalFilter,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<withdrawal::Model>, bool)> {
    let q = withdrawal::Entity::find().filter(withdrawal_condition(filter));
    Ok(crate::db::page_desc(&state.db, q, withdrawal::Column::Id, first, after_id).await?)
}

/// How many withdrawals match `filter` (all pages), counted when asked.
pub fn total_withdrawals(filter: &WithdrawalFilter) -> TotalCount {
    TotalCount::of(withdrawal::Entity::find().filter(withdrawal_condition(filter)))
}

/// ADMIN: promoters, newest applications first.
pub async fn promoters(
    state: &AppState,
    status: Option<&str>,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<promoter::Model>, bool)> {
    let mut q = promoter::Entity::find();
    if let Some(s) = status {
        q = q.filter(promoter::Column::Status.eq(s));
    }
    Ok(crate::db::page_desc(&state.db, q, promoter::Column::CustomerId, first, after_id).await?)
}

/// (commissions pending now, commissions settled during `[from, to)`), fen.
pub async fn commission_totals(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<(i64, i64)> {
    use commission::Column as C;
    let sum = |cond: Condition| async move {
        let v: Option<Option<i64>> = commission::Entity::find()
            .select_only()
            .column_as(crate::db::sum_bigint(C::AmountFen), "s")
            .filter(cond)
            .into_tuple()
            .one(db)
            .await?;
        Ok::<i64, AppError>(v.flatten().unwrap_or(0))
    };
    let pending = sum(Condition::all().add(C::Status.eq(PENDING))).await?;
    let settled = sum(Condition::all()
        .add(C::Status.eq(SETTLED))
        .add(C::SettledAt.gte(from))
        .add(C::SettledAt.lt(to)))
    .await?;
    Ok((pending, settled))
}
