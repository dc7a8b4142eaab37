//! The store's figures over a period, read from every domain that keeps a
//! part of them.
use chrono::{DateTime, Duration, Utc};

use crate::{
    error::{AppError, AppResult},
    modules::{
        customer::service as customers,
        membership::service as membership,
        operations::{scoring::Stage, service::lifecycle_counts},
        order::service as orders,
        referral::service as referral,
        wallet::service as wallet,
    },
    state::AppState,
};

/// The store's figures over `[from, to)` (and, where they are a state,
/// now).
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    pub sales: orders::Sales,
    pub new_customers_by_scene: Vec<(Option<String>, i64)>,
    pub members: i64,
    pub outstanding_balance_fen: i64,
    pub commissions_pending_fen: i64,
    pub commissions_settled_fen: i64,
    pub lifecycle: Vec<(Stage, i64)>,
}

pub async fn metrics(
    state: &AppState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<Metrics> {
    if to <= from {
        return Err(AppError::bad_input("to", "must be after from"));
    }
    if to - from > Duration::days(3700) {
        return Err(AppError::bad_input("from", "at most ten years at a time"));
    }
    let now = Utc::now();
    let sales = orders::sales(&state.db, from, to).await?;
    let (pending, settled) = referral::commission_totals(&state.db, from, to).await?;
    Ok(Metrics {
        sales,
        new_customers_by_scene: customers::new_by_scene(&state.db, from, to).await?,
        members: membership::active_count(&state.db, now).await?,
        outstanding_balance_fen: wallet::outstanding(state).await?,
        commissions_pending_fen: pending,
        commissions_settled_fen: settled,
        lifecycle: lifecycle_counts(state, now).await?,
    })
}
