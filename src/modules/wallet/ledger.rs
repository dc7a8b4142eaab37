//! The one function that moves money in a wallet, and the draw rule.
use chrono::Utc;
use entity::{wallet, wallet_transaction};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, OnConflict},
};

use crate::error::{AppError, AppResult};

/// Why a wallet moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Money paid in by a top-up (principal).
    TopUp,
    /// The top-up's bonus.
    Bonus,
    /// Spent on an order.
    Payment,
    /// Given back (order cancelled or refunded).
    Refund,
    /// Changed by an admin, with a reason.
    Adjustment,
    /// Commission withdrawn into the wallet (credited as principal).
    Commission,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::TopUp => "TOP_UP",
            Kind::Bonus => "BONUS",
            Kind::Payment => "PAYMENT",
            Kind::Refund => "REFUND",
            Kind::Adjustment => "ADJUSTMENT",
            Kind::Commission => "COMMISSION",
        }
    }
}

/// One movement: signed deltas of principal and bonus, and what it belongs to.
#[derive(Clone, Debug)]
pub struct Movement {
    pub kind: Kind,
    pub principal_delta: i64,
    pub bonus_delta: i64,
    pub order_id: Option<i64>,
    pub admin_id: Option<i64>,
    pub reason: Option<String>,
    pub idempotency_key: Option<String>,
}

impl Movement {
    pub fn new(kind: Kind, principal_delta: i64, bonus_delta: i64) -> Self {
        Movement {
            kind,
            principal_delta,
            bonus_delta,
            order_id: None,
            admin_id: None,
            reason: None,
            idempotency_key: None,
        }
    }

    pub fn for_order(mut self, order_id: i64) -> Self {
        self.order_id = Some(order_id);
        self
    }
}

/// How `amount` is drawn from a wallet holding `principal` and `bonus`: in
/// proportion to the two (half-up on the principal side). Spending draws on
/// both alike, so what is left, and what a refund of unused principal would
/// return, stays fair to the customer and to the store. Needs
/// `amount <= principal + bonus`.
pub fn split_draw(amount: i64, principal: i64, bonus: i64) -> (i64, i64) {
    let total = principal + bonus;
    if amount <= 0 || total <= 0 {
        return (0, 0);
    }
    let amount = amount.min(total);
    let p = ((i128::from(amount) * i128::from(principal) * 2 + i128::from(total))
        / (i128::from(total) * 2)) as i64;
    let p = p.clamp(amount - bonus, principal.min(amount));
    (p, amount - p)
}

/// Makes sure the customer has a wallet row (zero balances).
pub async fn ensure_wallet(db: &impl ConnectionTrait, customer_id: i64) -> AppResult<()> {
    wallet::Entity::insert(wallet::ActiveModel {
        customer_id: Set(customer_id),
        principal_fen: Set(0),
        bonus_fen: Set(0),
        updated_at: Set(Utc::now()),
    })
    .on_conflict(
        OnConflict::column(wallet::Column::CustomerId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// The wallet, locked for the rest of the transaction on PostgreSQL
/// (SQLite serializes writers anyway).
pub async fn lock(db: &impl ConnectionTrait, customer_id: i64) -> AppResult<wallet::Model> {
    ensure_wallet(db, customer_id).await?;
    let mut q = wallet::Entity::find_by_id(customer_id);
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("wallet vanished")))
}

/// Applies a movement in the caller's transaction: one conditional update
/// that never takes a balance below zero (`INSUFFICIENT_BALANCE` otherwise)
/// and one ledger row with the balances after it.
pub async fn apply(
    db: &impl ConnectionTrait,
    customer_id: i64,
    m: Movement,
) -> AppResult<wallet_transaction::Model> {
    if m.principal_delta == 0 && m.bonus_delta == 0 {
        return Err(AppError::bad_input("amountFen", "must not be zero"));
    }
    use sea_orm::ExprTrait;
    ensure_wallet(db, customer_id).await?;
    let now = Utc::now();
    let moved = wallet::Entity::update_many()
        .col_expr(
            wallet::Column::PrincipalFen,
            Expr::col(wallet::Column::PrincipalFen).add(m.principal_delta),
        )
        .col_expr(
            wallet::Column::BonusFen,
            Expr::col(wallet::Column::BonusFen).add(m.bonus_delta),
        )
        .col_expr(wallet::Column::UpdatedAt, Expr::value(now))
        .filter(wallet::Column::CustomerId.eq(customer_id))
        .filter(
            Expr::col(wallet::Column::PrincipalFen)
                .add(m.principal_delta)
                .gte(0),
        )
        .filter(
            Expr::col(wallet::Column::BonusFen)
                .add(m.bonus_delta)
                .gte(0),
        )
        .exec(db)
        .await?;
    if moved.rows_affected != 1 {
        return Err(AppError::InsufficientBalance(
            "the stored balance is too small for this".into(),
        ));
    }
    // Our update holds the row until commit: this read is the state after it.
    let w = wallet::Entity::find_by_id(customer_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("wallet vanished")))?;
    Ok(wallet_transaction::ActiveModel {
        customer_id: Set(customer_id),
        kind: Set(m.kind.as_str().to_string()),
        amount_fen: Set(m.principal_delta + m.bonus_delta),
        principal_delta_fen: Set(m.principal_delta),
        bonus_delta_fen: Set(m.bonus_delta),
        balance_after_fen: Set(w.principal_fen + w.bonus_fen),
        principal_after_fen: Set(w.principal_fen),
        bonus_after_fen: Set(w.bonus_fen),
        order_id: Set(m.order_id),
        admin_id: Set(m.admin_id),
        reason: Set(m.reason),
        idempotency_key: Set(m.idempotency_key),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(db)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::split_draw;

    #[test]
    fn draws_in_proportion() {
        // 100 principal + 20 bonus: a 60 payment draws 50 + 10.
        assert_eq!(split_draw(60, 10_000, 2_000), (50, 10));
        assert_eq!(split_draw(12_000, 10_000, 2_000), (10_000, 2_000));
        assert_eq!(split_draw(1, 1, 1), (1, 0), "half-up to the principal side");
        assert_eq!(split_draw(5, 0, 10), (0, 5));
        assert_eq!(split_draw(5, 10, 0), (5, 0));
        assert_eq!(split_draw(0, 10, 10), (0, 0));
    }

    #[test]
    fn never_draws_more_than_there_is() {
        let mut seed: u64 = 7;
        let mut next = |m: i64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) as i64) % m
        };
        for _ in 0..100_000 {
            let (p, b) = (next(100_000), next(100_000));
            let amount = next(p + b + 1);
            let (dp, db) = split_draw(amount, p, b);
            assert_eq!(dp + db, amount, "{amount} from {p}+{b}");
            assert!(
                (0..=p).contains(&dp) && (0..=b).contains(&db),
                "{amount} from {p}+{b} gave {dp}+{db}"
            );
        }
    }
}
