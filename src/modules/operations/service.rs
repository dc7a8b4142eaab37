//! Customer figures, filters, tags and segments.
use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use entity::{
    customer, customer_stats, customer_tag, membership, order_line, segment, shop_order,
    store_scale,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseBackend, DatabaseTransaction, EntityTrait,
    ExprTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    sea_query::{
        Expr, Func, IntoIden, LikeExpr, OnConflict, Query, QueryStatementBuilder, SelectStatement,
    },
};
use serde::{Deserialize, Serialize};

use super::scoring::{self, Buyer, RfmCutoffs, Stage, Thresholds};
use crate::{
    error::{AppError, AppResult},
    modules::customer::service as customers,
    state::AppState,
};

pub fn thresholds(state: &AppState) -> Thresholds {
    state.settings.lifecycle
}

// ---------------------------------------------------------------- figures

/// What an order adds to its buyer's margin figures: (what the goods whose
/// cost is known sold for, their margin over that cost). The order's
/// promotion and coupon discounts are spread over its lines in proportion
/// to their totals, so a discount lowers the margin it was given on.
fn margin_of(discount_fen: i64, lines: &[order_line::Model]) -> (i64, i64) {
    let goods: i64 = lines.iter().map(|l| l.line_total_fen).sum();
    let after = Ord::max(goods - discount_fen, 0);
    let (costed, cost) = lines
        .iter()
        .filter_map(|l| {
            l.cost_fen
                .map(|c| (l.line_total_fen, c * i64::from(l.quantity)))
        })
        .fold((0, 0), |(a, b), (x, y)| (a + x, b + y));
    let costed = crate::money::prorate_half_up(costed, after, goods);
    (costed, costed - cost)
}

/// Goods orders were paid: each counts in its buyer's figures (in the
/// payment's transaction). One statement for all of them: a buyer with
/// several orders among them is one row, added up, written in buyer order.
pub async fn record_purchases(
    txn: &DatabaseTransaction,
    paid: &[(&shop_order::Model, &[order_line::Model])],
    now: DateTime<Utc>,
) -> AppResult<()> {
    use customer_stats::Column as S;
    // Per buyer: orders, spent, costed, margin.
    let mut per_buyer: std::collections::BTreeMap<i64, (i32, i64, i64, i64)> =
        std::collections::BTreeMap::new();
    for (order, lines) in paid {
        let (costed, margin) = margin_of(
            order.promotion_discount_fen + order.coupon_discount_fen,
            lines,
        );
        let f = per_buyer.entry(order.customer_id).or_default();
        f.0 += 1;
        f.1 += order.total_fen;
        f.2 += costed;
        f.3 += margin;
    }
    if per_buyer.is_empty() {
        return Ok(());
    }
    let rows = per_buyer
        .into_iter()
        .map(
            |(customer_id, (n, spent, costed, margin))| customer_stats::ActiveModel {
                customer_id: Set(customer_id),
                orders_count: Set(n),
                spent_fen: Set(spent),
                costed_fen: Set(costed),
                margin_fen: Set(margin),
                first_paid_at: Set(now),
                last_paid_at: Set(now),
                updated_at: Set(now),
            },
        );
    customer_stats::Entity::insert_many(rows)
        .on_conflict(
            OnConflict::column(S::CustomerId)
                .value(
                    S::OrdersCount,
                    Expr::cust("customer_stats.orders_count + excluded.orders_count"),
                )
                .value(
                    S::SpentFen,
                    Expr::cust("customer_stats.spent_fen + excluded.spent_fen"),
                )
                .value(
                    S::CostedFen,
                    Expr::cust("customer_stats.costed_fen + excluded.costed_fen"),
                )
                .value(
                    S::MarginFen,
                    Expr::cust("customer_stats.margin_fen + excluded.margin_fen"),
                )
                // Every order refunded, a new one is a first purchase again.
                .value(
                    S::FirstPaidAt,
                    Expr::cust(
                        "CASE WHEN customer_stats.orders_count = 0 THEN excluded.first_paid_at ELSE customer_stats.first_paid_at END",
                    ),
                )
                .update_columns([S::LastPaidAt, S::UpdatedAt])
                .to_owned(),
        )
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// A counted goods order was refunded: it leaves its buyer's figures (in
/// the refund's transaction). The date of the last purchase stays.
pub async fn record_refund(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
    lines: &[order_line::Model],
) -> AppResult<()> {
    use customer_stats::Column as S;
    let (costed, margin) = margin_of(
        order.promotion_discount_fen + order.coupon_discount_fen,
        lines,
    );
    customer_stats::Entity::update_many()
        .col_expr(S::OrdersCount, Expr::col(S::OrdersCount).sub(1))
        .col_expr(S::SpentFen, Expr::col(S::SpentFen).sub(order.total_fen))
        .col_expr(S::CostedFen, Expr::col(S::CostedFen).sub(costed))
        .col_expr(S::MarginFen, Expr::col(S::MarginFen).sub(margin))
        .col_expr(S::UpdatedAt, Expr::value(Utc::now()))
        .filter(S::CustomerId.eq(order.customer_id))
        .filter(S::OrdersCount.gt(0))
        .exec(txn)
        .await?;
    Ok(())
}

/// Part of a counted goods order was refunded (an after-sale): its buyer's
/// spend goes down by `amount_fen`; what the goods sold for with a known
/// cost and their margin go down by the refunded goods' share
/// (`goods_refunded` before and after this refund, cumulative, so the
/// shares add up exactly to the order's once all is refunded); the order
/// stops counting once every unit is refunded (`closes_order`).
pub async fn record_partial_refund(
    txn: &DatabaseTransaction,
    order: &shop_order::Model,
    lines: &[order_line::Model],
    amount_fen: i64,
    (goods_before, goods_after): (i64, i64),
    closes_order: bool,
) -> AppResult<()> {
    use customer_stats::Column as S;
    let (costed, margin) = margin_of(
        order.promotion_discount_fen + order.coupon_discount_fen,
        lines,
    );
    let goods = order.total_fen - order.shipping_fen;
    let share = |whole: i64| {
        crate::money::prorate_half_up(whole, Ord::min(goods_after, goods), goods)
            - crate::money::prorate_half_up(whole, Ord::min(goods_before, goods), goods)
    };
    let mut q = customer_stats::Entity::update_many()
        .col_expr(S::SpentFen, Expr::col(S::SpentFen).sub(amount_fen))
        .col_expr(S::CostedFen, Expr::col(S::CostedFen).sub(share(costed)))
        .col_expr(S::MarginFen, Expr::col(S::MarginFen).sub(share(margin)))
        .col_expr(S::UpdatedAt, Expr::value(Utc::now()));
    if closes_order {
        q = q.col_expr(S::OrdersCount, Expr::col(S::OrdersCount).sub(1));
    }
    q.filter(S::CustomerId.eq(order.customer_id))
        .filter(S::OrdersCount.gt(0))
        .exec(txn)
        .await?;
    Ok(())
}

pub async fn stats_of(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<Vec<customer_stats::Model>> {
    Ok(customer_stats::Entity::find()
        .filter(customer_stats::Column::CustomerId.is_in(ids.iter().copied()))
        .all(db)
        .await?)
}

/// The stats row only while the customer has counted orders.
pub fn bought(s: Option<&customer_stats::Model>) -> Option<&customer_stats::Model> {
    s.filter(|s| s.orders_count > 0)
}

/// The store's buyers as RFM sees them, its average order, and how many
/// buyers fall in each R×F cell.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoreScale {
    pub cutoffs: RfmCutoffs,
    pub average_order_fen: i64,
    /// The 25 cells, R 5..1 then F 1..5 (absent in a row stored before
    /// the grid was: read as empty until the next computation).
    #[serde(default)]
    pub grid: Vec<GridCell>,
    /// When the jobs loop computed it; `None`: never (the scale of no buyers).
    #[serde(default)]
    pub computed_at: Option<DateTime<Utc>>,
}

/// Buyers whose R and F scores are these, and what they spent together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GridCell {
    pub r: i32,
    pub f: i32,
    pub customers: i64,
    pub spent_fen: i64,
}

impl StoreScale {
    fn of(buyers: &[Buyer]) -> Self {
        let orders: i64 = buyers.iter().map(|b| b.orders).sum();
        let spent: i64 = buyers.iter().map(|b| b.spent_fen).sum();
        let cutoffs = RfmCutoffs::of(buyers);
        let mut grid: Vec<GridCell> = (1..=5)
            .rev()
            .flat_map(|r| {
                (1..=5).map(move |f| GridCell {
                    r,
                    f,
                    customers: 0,
                    spent_fen: 0,
                })
            })
            .collect();
        for b in buyers {
            let (r, f, _) = cutoffs.scores(b);
            let cell = &mut grid[((5 - r) * 5 + (f - 1)) as usize];
            cell.customers += 1;
            cell.spent_fen += b.spent_fen;
        }
        StoreScale {
            cutoffs,
            average_order_fen: crate::money::div_half_up(spent, orders),
            grid,
            computed_at: None,
        }
    }
}

/// How often the jobs loop recomputes the store's scale.
const SCALE_PERIOD: Duration = Duration::seconds(60);
/// The row of [`store_scale`].
const SCALE_ROW: i32 = 1;

/// The store's scale as the jobs loop last computed it (read through the
/// cache, which the job clears); a request never computes it: at a
/// million customers that reads every buyer. Before the first computation
/// it is the scale of no buyers (every score 1, no average order).
pub async fn store_scale(state: &AppState) -> AppResult<StoreScale> {
    state
        .cache
        .get_or_load(
            crate::cache::keys::OPERATIONS_SCALE,
            std::time::Duration::from_secs(60),
            || async {
                let row = store_scale::Entity::find_by_id(SCALE_ROW)
                    .one(&state.db)
                    .await?;
                match row.and_then(|r| r.scale) {
                    Some(json) => serde_json::from_str(&json).map_err(AppError::internal),
                    None => Ok(StoreScale::of(&[])),
                }
            },
        )
        .await
}

/// Job: recomputes the store's scale once per [`SCALE_PERIOD`]; of several
/// instances, the one whose conditional update claims the row does it.
/// Returns 1 when it computed.
pub async fn refresh_scale(state: &AppState, now: DateTime<Utc>) -> AppResult<u64> {
    use store_scale::Column as R;
    store_scale::Entity::insert(store_scale::ActiveModel {
        id: Set(SCALE_ROW),
        scale: Set(None),
        computed_at: Set(None),
        claimed_at: Set(DateTime::<Utc>::UNIX_EPOCH),
    })
    .on_conflict_do_nothing_on([R::Id])
    .exec_without_returning(&state.db)
    .await?;
    let claimed = store_scale::Entity::update_many()
        .col_expr(R::ClaimedAt, Expr::value(now))
        .filter(R::Id.eq(SCALE_ROW))
        .filter(R::ClaimedAt.lte(now - SCALE_PERIOD + Duration::seconds(5)))
        .exec(&state.db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(0);
    }
    let rows: Vec<(DateTime<Utc>, i32, i64)> = customer_stats::Entity::find()
        .select_only()
        .column(customer_stats::Column::LastPaidAt)
        .column(customer_stats::Column::OrdersCount)
        .column(customer_stats::Column::SpentFen)
        .filter(customer_stats::Column::OrdersCount.gt(0))
        .into_tuple()
        .all(&state.db)
        .await?;
    let buyers: Vec<Buyer> = rows
        .iter()
        .map(|(last, orders, spent)| Buyer {
            days_since_last: scoring::days_since(*last, now),
            orders: i64::from(*orders),
            spent_fen: *spent,
        })
        .collect();
    let scale = StoreScale {
        computed_at: Some(now),
        ..StoreScale::of(&buyers)
    };
    store_scale::Entity::update_many()
        .col_expr(
            R::Scale,
            Expr::value(serde_json::to_string(&scale).map_err(AppError::internal)?),
        )
        .col_expr(R::ComputedAt, Expr::value(now))
        .filter(R::Id.eq(SCALE_ROW))
        .exec(&state.db)
        .await?;
    state
        .cache
        .remove(crate::cache::keys::OPERATIONS_SCALE)
        .await;
    Ok(1)
}

/// (customers this one invited who bought, what they spent).
pub async fn invited_buyers(state: &AppState, customer_id: i64) -> AppResult<(i64, i64)> {
    use customer_stats::Column as S;
    let row: Option<(i64, Option<i64>)> = customer_stats::Entity::find()
        .select_only()
        .column_as(Expr::col(S::CustomerId).count(), "n")
        .column_as(crate::db::sum_bigint(S::SpentFen), "spent")
        .filter(S::OrdersCount.gt(0))
        .filter(S::CustomerId.in_subquery(customers::invited_by_query(customer_id)))
        .into_tuple()
        .one(&state.db)
        .await?;
    Ok(row.map(|(n, s)| (n, s.unwrap_or(0))).unwrap_or((0, 0)))
}

// ---------------------------------------------------------------- filters

/// Which customers a list or a segment holds; every part given must hold.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Filter {
    /// Has any of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    pub stage: Option<Stage>,
    pub min_orders: Option<i32>,
    pub max_orders: Option<i32>,
    pub min_spent_fen: Option<i64>,
    pub max_spent_fen: Option<i64>,
    /// Entry scene of the first login, exactly.
    pub scene: Option<String>,
    /// Has an active membership (true) or not (false).
    pub member: Option<bool>,
    /// In the nickname.
    pub keyword: Option<String>,
    pub joined_from: Option<DateTime<Utc>>,
    pub joined_to: Option<DateTime<Utc>>,
    /// Buyers with this recency score (1-5), against the stored cutoffs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r_score: Option<i32>,
    /// Buyers with this frequency score (1-5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub f_score: Option<i32>,
    /// Buyers with this monetary score (1-5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub m_score: Option<i32>,
}

fn check_tag(tag: &str, field: &str) -> AppResult<String> {
    crate::validate::text(tag, field, 20)
}

impl Filter {
    /// Checks and normalises the filter (names fields under `field`).
    pub fn checked(mut self, field: &str) -> AppResult<Self> {
        if self.tags.len() > 20 {
            return Err(AppError::bad_input(
                format!("{field}.tags"),
                "at most 20 tags",
            ));
        }
        self.tags = self
            .tags
            .iter()
            .map(|t| check_tag(t, &format!("{field}.tags")))
            .collect::<AppResult<_>>()?;
        for (v, name) in [
            (self.min_orders, "minOrders"),
            (self.max_orders, "maxOrders"),
        ] {
            if v.is_some_and(|v| v < 0) {
                return Err(AppError::bad_input(
                    format!("{field}.{name}"),
                    "may not be negative",
                ));
            }
        }
        for (v, name) in [
            (self.min_spent_fen, "minSpentFen"),
            (self.max_spent_fen, "maxSpentFen"),
        ] {
            if v.is_some_and(|v| v < 0) {
                return Err(AppError::bad_input(
                    format!("{field}.{name}"),
                    "may not be negative",
                ));
            }
        }
        for (v, name) in [
            (self.r_score, "rScore"),
            (self.f_score, "fScore"),
            (self.m_score, "mScore"),
        ] {
            if v.is_some_and(|v| !(1..=5).contains(&v)) {
                return Err(AppError::bad_input(
                    format!("{field}.{name}"),
                    "must be between 1 and 5",
                ));
            }
        }
        if self
            .keyword
            .as_ref()
            .is_some_and(|k| k.chars().count() > 50)
        {
            return Err(AppError::bad_input(
                format!("{field}.keyword"),
                "must be at most 50 characters",
            ));
        }
        self.keyword = self
            .keyword
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty());
        Ok(self)
    }

    /// The filter as a condition on `customer`. Every part on another
    /// table is a correlated `EXISTS` / `NOT EXISTS` on that table's key
    /// (an anti-join, not `NOT IN` over every buyer): a page newest first
    /// walks the customers backwards and probes each, so it stops after
    /// its 20 rows, and a selective part can drive the plan from its own
    /// index instead.
    ///
    /// RFM scores are ranges of the figures they score (`cutoffs`, the
    /// stored ones, so the same as `Customer.rfm` shows): recency on
    /// `last_paid_at`, frequency on `orders_count`, monetary on
    /// `spent_fen`, each indexed; no row is scored.
    fn condition(
        &self,
        now: DateTime<Utc>,
        t: Thresholds,
        keywords: KeywordSearch,
        cutoffs: &RfmCutoffs,
    ) -> Condition {
        use customer::Column as C;
        use customer_stats::Column as S;
        let of_customer = |table: sea_orm::sea_query::DynIden, col: sea_orm::sea_query::DynIden| {
            Expr::col((table, col)).equals((customer::Entity, C::Id))
        };
        let stats = |cond: Condition| -> SelectStatement {
            Query::select()
                .expr(Expr::val(1))
                .from(customer_stats::Entity)
                .cond_where(cond.add(of_customer(
                    customer_stats::Entity.into_iden(),
                    S::CustomerId.into_iden(),
                )))
                .to_owned()
        };
        let mut c = Condition::all();
        if !self.tags.is_empty() {
            c = c.add(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(customer_tag::Entity)
                    .and_where(of_customer(
                        customer_tag::Entity.into_iden(),
                        customer_tag::Column::CustomerId.into_iden(),
                    ))
                    .and_where(customer_tag::Column::Tag.is_in(self.tags.clone()))
                    .to_owned(),
            ));
        }
        // What a buyer's row must hold (one EXISTS for all of it), and
        // what no row may hold: customers without a row have 0 orders and
        // spent 0.
        let mut bought = Condition::all();
        let mut any_bought = false;
        let mut none = Vec::new();
        if let Some(stage) = self.stage {
            // Days since the last purchase ≤ d ⟺ bought after now − (d + 1) days.
            let after = |d: i64| now - Duration::days(d + 1);
            let (from, to) = match stage {
                Stage::New => (None, None),
                Stage::Active => (Some(after(t.active_days)), None),
                Stage::Silent => (Some(after(t.silent_days)), Some(after(t.active_days))),
                Stage::Sleeping => (Some(after(t.sleeping_days)), Some(after(t.silent_days))),
                Stage::Churned => (None, Some(after(t.sleeping_days))),
            };
            if stage == Stage::New {
                none.push(Condition::all().add(S::OrdersCount.gt(0)));
            } else {
                any_bought = true;
                bought = bought.add(S::OrdersCount.gt(0));
                if let Some(from) = from {
                    bought = bought.add(S::LastPaidAt.gt(from));
                }
                if let Some(to) = to {
                    bought = bought.add(S::LastPaidAt.lte(to));
                }
            }
        }
        if let Some(min) = self.min_orders.filter(|m| *m > 0) {
            any_bought = true;
            bought = bought.add(S::OrdersCount.gte(min));
        }
        if let Some(max) = self.max_orders {
            none.push(Condition::all().add(S::OrdersCount.gt(max)));
        }
        if let Some(min) = self.min_spent_fen.filter(|m| *m > 0) {
            any_bought = true;
            bought = bought.add(S::SpentFen.gte(min));
        }
        if let Some(max) = self.max_spent_fen {
            none.push(Condition::all().add(S::SpentFen.gt(max)));
        }
        if self.r_score.is_some() || self.f_score.is_some() || self.m_score.is_some() {
            // RFM scores only buyers (`Customer.rfm` is null before a purchase).
            any_bought = true;
            bought = bought.add(S::OrdersCount.gt(0));
        }
        if let Some(r) = self.r_score {
            // Recency is scored on −days: −days ≥ c ⟺ days ≤ −c ⟺ bought
            // after now − (−c + 1) days (as the lifecycle stages are).
            let after = |c: i64| {
                now - Duration::days(Ord::min(c.saturating_neg().saturating_add(1), 1_000_000))
            };
            match scoring::score_range(r, &cutoffs.recency) {
                None => bought = bought.add(Expr::val(1).eq(0)),
                Some((at_least, below)) => {
                    if let Some(c) = at_least {
                        bought = bought.add(S::LastPaidAt.gt(after(c)));
                    }
                    if let Some(c) = below {
                        bought = bought.add(S::LastPaidAt.lte(after(c)));
                    }
                }
            }
        }
        for (score, cut, col) in [
            (self.f_score, &cutoffs.frequency, S::OrdersCount),
            (self.m_score, &cutoffs.monetary, S::SpentFen),
        ] {
            let Some(score) = score else { continue };
            match scoring::score_range(score, cut) {
                None => bought = bought.add(Expr::val(1).eq(0)),
                Some((at_least, below)) => {
                    if let Some(c) = at_least {
                        bought = bought.add(col.gte(c));
                    }
                    if let Some(c) = below {
                        bought = bought.add(col.lt(c));
                    }
                }
            }
        }
        if any_bought {
            c = c.add(Expr::exists(stats(bought)));
        }
        for cond in none {
            c = c.add(Expr::not_exists(stats(cond)));
        }
        if let Some(scene) = &self.scene {
            c = c.add(C::Scene.eq(scene.clone()));
        }
        if let Some(member) = self.member {
            let members = Query::select()
                .expr(Expr::val(1))
                .from(membership::Entity)
                .and_where(of_customer(
                    membership::Entity.into_iden(),
                    membership::Column::CustomerId.into_iden(),
                ))
                .and_where(membership::Column::ExpiresAt.gt(now))
                .to_owned();
            c = c.add(if member {
                Expr::exists(members)
            } else {
                Expr::not_exists(members)
            });
        }
        if let Some(kw) = &self.keyword {
            let pattern = match keywords {
                KeywordSearch::Contains => crate::validate::contains_pattern(kw),
                KeywordSearch::Prefix => crate::validate::prefix_pattern(kw),
            };
            c = c.add(
                Expr::expr(Func::lower(Expr::col(C::Nickname)))
                    .like(LikeExpr::new(pattern).escape('\\')),
            );
        }
        if let Some(from) = self.joined_from {
            c = c.add(C::CreatedAt.gte(from));
        }
        if let Some(to) = self.joined_to {
            c = c.add(C::CreatedAt.lt(to));
            // Customers are numbered as they join, but the planner cannot
            // know it: for a range that ended long ago it would walk back
            // from the newest customer. The range's greatest id (over the
            // join-date index; `+ 0` keeps it from becoming that same walk)
            // is where the page starts. Exact whatever the numbering.
            let j = sea_orm::sea_query::Alias::new("joined");
            let mut range = Query::select()
                .expr(Expr::cust("MAX(joined.id + 0)"))
                .from_as(customer::Entity, j.clone())
                .and_where(Expr::col((j.clone(), C::CreatedAt)).lt(to))
                .to_owned();
            if let Some(from) = self.joined_from {
                range.and_where(Expr::col((j, C::CreatedAt)).gte(from));
            }
            c = c.add(Expr::col(C::Id).lte(Expr::SubQuery(
                None,
                Box::new(range.into_sub_query_statement()),
            )));
        }
        c
    }
}

/// How `keyword` matches nicknames: anywhere (SQLite; PostgreSQL with the
/// pg_trgm index), or at the start when PostgreSQL could not create
/// pg_trgm (the migration then made a prefix index instead).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeywordSearch {
    Contains,
    Prefix,
}

impl KeywordSearch {
    /// What the database's indexes support (once, at start-up, after
    /// the migrations).
    pub async fn detect(db: &impl ConnectionTrait) -> AppResult<Self> {
        if db.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(KeywordSearch::Contains);
        }
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT EXISTS (SELECT 1 FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'idx_customer_nickname_trgm') AS trgm",
            ))
            .await?;
        let trgm: bool = match row {
            Some(r) => r.try_get("", "trgm")?,
            None => false,
        };
        if !trgm {
            tracing::warn!("pg_trgm is not installed: customer keywords match nickname prefixes");
        }
        Ok(if trgm {
            KeywordSearch::Contains
        } else {
            KeywordSearch::Prefix
        })
    }
}

async fn condition_of(state: &AppState, filter: &Filter) -> AppResult<Condition> {
    // The stored scale only when a score is asked for (a cache read).
    let cutoffs =
        if filter.r_score.is_some() || filter.f_score.is_some() || filter.m_score.is_some() {
            store_scale(state).await?.cutoffs
        } else {
            RfmCutoffs::of(&[])
        };
    Ok(filter.condition(
        Utc::now(),
        thresholds(state),
        *state.part::<KeywordSearch>(),
        &cutoffs,
    ))
}

/// The query of `customers(filter)` over all pages (for its `totalCount`).
pub async fn customers_query(
    state: &AppState,
    filter: &Filter,
) -> AppResult<sea_orm::Select<customer::Entity>> {
    Ok(customer::Entity::find().filter(condition_of(state, filter).await?))
}

/// Customers matching the filter, newest first, a page after `after_id`.
pub async fn customers(
    state: &AppState,
    filter: &Filter,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<customer::Model>, bool)> {
    let q = customers_query(state, filter).await?;
    Ok(crate::db::page_desc(&state.db, q, customer::Column::Id, first, after_id).await?)
}

async fn count(state: &AppState, filter: &Filter) -> AppResult<u64> {
    Ok(customer::Entity::find()
        .filter(condition_of(state, filter).await?)
        .count(&state.db)
        .await?)
}

// ---------------------------------------------------------------- segments

pub async fn create_segment(
    state: &AppState,
    admin_id: i64,
    name: &str,
    filter: Filter,
) -> AppResult<segment::Model> {
    let name = crate::validate::text(name, "name", 40)?;
    let filter = filter.checked("filter")?;
    Ok(segment::ActiveModel {
        name: Set(name),
        filter: Set(serde_json::to_string(&filter).map_err(AppError::internal)?),
        admin_id: Set(admin_id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?)
}

/// Renames a segment or replaces its filter (what is given); `NOT_FOUND`
/// for an unknown id. Campaigns already run keep the name they had.
pub async fn update_segment(
    state: &AppState,
    id: i64,
    name: Option<&str>,
    filter: Option<Filter>,
) -> AppResult<segment::Model> {
    let s = segment::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("segment {id} not found")))?;
    let mut row: segment::ActiveModel = s.into();
    if let Some(name) = name {
        row.name = Set(crate::validate::text(name, "input.name", 40)?);
    }
    if let Some(filter) = filter {
        let filter = filter.checked("input.filter")?;
        row.filter = Set(serde_json::to_string(&filter).map_err(AppError::internal)?);
    }
    Ok(row.update(&state.db).await?)
}

/// Deletes a segment; `NOT_FOUND` for an unknown id. Its campaigns stay
/// in the record with the name it had.
pub async fn delete_segment(state: &AppState, id: i64) -> AppResult<()> {
    let res = segment::Entity::delete_by_id(id).exec(&state.db).await?;
    if res.rows_affected == 0 {
        return Err(AppError::NotFound(format!("segment {id} not found")));
    }
    Ok(())
}

pub fn filter_of(s: &segment::Model) -> AppResult<Filter> {
    serde_json::from_str(&s.filter).map_err(AppError::internal)
}

pub async fn segments(state: &AppState) -> AppResult<Vec<segment::Model>> {
    Ok(segment::Entity::find()
        .order_by_desc(segment::Column::Id)
        .all(&state.db)
        .await?)
}

/// How many customers a segment holds now.
pub async fn segment_size(state: &AppState, s: &segment::Model) -> AppResult<u64> {
    count(state, &filter_of(s)?).await
}

/// Everyone a segment holds now, for a campaign of at most `max`
/// customers (more is `BAD_USER_INPUT`), read on `db` (the campaign's
/// transaction), with the segment's name (for the campaign's record).
pub async fn segment_members(
    state: &AppState,
    db: &impl ConnectionTrait,
    segment_id: i64,
    max: usize,
) -> AppResult<(String, Vec<i64>)> {
    let s = segment::Entity::find_by_id(segment_id)
        .one(db)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("segment {segment_id} not found")))?;
    let ids: Vec<i64> = customer::Entity::find()
        .select_only()
        .column(customer::Column::Id)
        .filter(condition_of(state, &filter_of(&s)?).await?)
        .order_by_asc(customer::Column::Id)
        .limit(max as u64 + 1)
        .into_tuple()
        .all(db)
        .await?;
    if ids.len() > max {
        return Err(AppError::bad_input(
            "segmentId",
            format!("the segment holds more than {max} customers; narrow it"),
        ));
    }
    Ok((s.name, ids))
}

// ---------------------------------------------------------------- tags

fn check_tagging(ids: &[i64], tags: &[String]) -> AppResult<Vec<String>> {
    if ids.is_empty() || ids.len() > 1000 {
        return Err(AppError::bad_input(
            "customerIds",
            "give 1 to 1000 customers",
        ));
    }
    if tags.is_empty() || tags.len() > 10 {
        return Err(AppError::bad_input("tags", "give 1 to 10 tags"));
    }
    let mut tags: Vec<String> = tags
        .iter()
        .map(|t| check_tag(t, "tags"))
        .collect::<AppResult<_>>()?;
    tags.sort();
    tags.dedup();
    Ok(tags)
}

/// Puts the tags on the customers (those they have already stay); returns
/// how many customers were tagged. Unknown customers are `BAD_USER_INPUT`.
pub async fn tag(state: &AppState, ids: &[i64], tags: &[String]) -> AppResult<i32> {
    let tags = check_tagging(ids, tags)?;
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    customers::require_existing(&state.db, &ids, "customerIds").await?;
    let now = Utc::now();
    let rows: Vec<customer_tag::ActiveModel> = ids
        .iter()
        .flat_map(|&c| {
            tags.iter().map(move |t| customer_tag::ActiveModel {
                customer_id: Set(c),
                tag: Set(t.clone()),
                created_at: Set(now),
            })
        })
        .collect();
    for chunk in rows.chunks(1000) {
        customer_tag::Entity::insert_many(chunk.to_vec())
            .on_conflict_do_nothing_on([
                customer_tag::Column::CustomerId,
                customer_tag::Column::Tag,
            ])
            .exec_without_returning(&state.db)
            .await?;
    }
    Ok(ids.len() as i32)
}

/// Takes the tags off the customers; returns how many tags came off.
pub async fn untag(state: &AppState, ids: &[i64], tags: &[String]) -> AppResult<i32> {
    let tags = check_tagging(ids, tags)?;
    let res = customer_tag::Entity::delete_many()
        .filter(customer_tag::Column::CustomerId.is_in(ids.iter().copied()))
        .filter(customer_tag::Column::Tag.is_in(tags))
        .exec(&state.db)
        .await?;
    Ok(res.rows_affected as i32)
}

pub async fn tags_of(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<HashMap<i64, Vec<String>>> {
    let rows = customer_tag::Entity::find()
        .filter(customer_tag::Column::CustomerId.is_in(ids.iter().copied()))
        .order_by_asc(customer_tag::Column::Tag)
        .all(db)
        .await?;
    let mut by: HashMap<i64, Vec<String>> = HashMap::new();
    for r in rows {
        by.entry(r.customer_id).or_default().push(r.tag);
    }
    Ok(by)
}

/// Every tag in use, with how many customers carry it.
pub async fn all_tags(state: &AppState) -> AppResult<Vec<(String, i64)>> {
    Ok(customer_tag::Entity::find()
        .select_only()
        .column(customer_tag::Column::Tag)
        .column_as(Expr::col(customer_tag::Column::CustomerId).count(), "n")
        .group_by(customer_tag::Column::Tag)
        .order_by_asc(customer_tag::Column::Tag)
        .into_tuple()
        .all(&state.db)
        .await?)
}

// ---------------------------------------------------------------- lifecycle

/// How many customers are at each stage now, counted in the database (one
/// statement, whatever the number of buyers). The stage rule is
/// [`scoring::stage`]'s: days since the last purchase ≤ d ⟺ bought after
/// now − (d + 1) days, the same bounds the `lifecycleStage` filter uses.
pub async fn lifecycle_counts(
    state: &AppState,
    now: DateTime<Utc>,
) -> AppResult<Vec<(Stage, i64)>> {
    let t = thresholds(state);
    let after = |d: i64| now - Duration::days(d + 1);
    let backend = state.db.get_database_backend();
    let p: [String; 5] = std::array::from_fn(|i| match backend {
        DatabaseBackend::Postgres => format!("${}", i + 1),
        _ => "?".to_string(),
    });
    // Each CASE is one branch of the rule's if-chain, so the stages stay
    // disjoint even for thresholds out of order.
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM customer) AS everyone, \
           COUNT(*) AS buyers, \
           COUNT(CASE WHEN last_paid_at > {a} THEN 1 END) AS active, \
           COUNT(CASE WHEN last_paid_at <= {a2} AND last_paid_at > {s} THEN 1 END) AS silent, \
           COUNT(CASE WHEN last_paid_at <= {s2} AND last_paid_at > {z} THEN 1 END) AS sleeping \
         FROM customer_stats WHERE orders_count > 0",
        a = p[0],
        a2 = p[1],
        s = p[2],
        s2 = p[3],
        z = p[4],
    );
    let stmt = Statement::from_sql_and_values(
        backend,
        sql,
        [
            after(t.active_days).into(),
            after(t.active_days).into(),
            after(t.silent_days).into(),
            after(t.silent_days).into(),
            after(t.sleeping_days).into(),
        ],
    );
    let row = state
        .db
        .query_one_raw(stmt)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("an aggregate returned no row")))?;
    let get = |c: &str| row.try_get::<i64>("", c);
    let (everyone, buyers) = (get("everyone")?, get("buyers")?);
    let (active, silent, sleeping) = (get("active")?, get("silent")?, get("sleeping")?);
    Ok(vec![
        (Stage::New, everyone - buyers),
        (Stage::Active, active),
        (Stage::Silent, silent),
        (Stage::Sleeping, sleeping),
        (Stage::Churned, buyers - active - silent - sleeping),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(total: i64, cost: Option<i64>, quantity: i32) -> order_line::Model {
        order_line::Model {
            id: 0,
            order_id: 0,
            sku_id: 0,
            product_id: 0,
            title: String::new(),
            specs: "[]".into(),
            list_price_fen: total,
            unit_price_fen: total,
            quantity,
            line_total_fen: total,
            cost_fen: cost,
            supplier_sku_code: None,
            supplier_id: None,
            fulfillment_id: None,
        }
    }

    #[test]
    fn discounts_lower_the_margin_they_were_given_on() {
        // 100 of goods costing 80, a 30 coupon: sold for 70, margin -10.
        assert_eq!(
            margin_of(3000, &[line(10_000, Some(8_000), 1)]),
            (7_000, -1_000)
        );
        assert_eq!(
            margin_of(0, &[line(10_000, Some(4_000), 2)]),
            (10_000, 2_000)
        );
        // Half the goods have a known cost: they carry half the discount.
        assert_eq!(
            margin_of(1000, &[line(5_000, Some(3_000), 1), line(5_000, None, 1)]),
            (4_500, 1_500)
        );
        assert_eq!(margin_of(0, &[line(5_000, None, 1)]), (0, 0));
    }
}
