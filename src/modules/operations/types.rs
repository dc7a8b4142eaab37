//! GraphQL shapes of customer operations.
use async_graphql::{Context, Enum, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use entity::{customer_stats, segment};

use super::{
    scoring::{self, Buyer, Stage},
    service::{self, Filter},
};
use crate::api::scalars::Timestamp;
use crate::{
    api::{ids::to_id, scalars::Money},
    state::AppState,
};

/// Where a customer is in its life with the store (thresholds are settings:
/// `LIFECYCLE_*_DAYS`).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LifecycleStage {
    /// Has not bought yet.
    New,
    /// Bought within `LIFECYCLE_ACTIVE_DAYS` (30).
    Active,
    /// Last bought within `LIFECYCLE_SILENT_DAYS` (90).
    Silent,
    /// Last bought within `LIFECYCLE_SLEEPING_DAYS` (180).
    Sleeping,
    /// Last bought longer ago.
    Churned,
}

impl From<Stage> for LifecycleStage {
    fn from(s: Stage) -> Self {
        match s {
            Stage::New => LifecycleStage::New,
            Stage::Active => LifecycleStage::Active,
            Stage::Silent => LifecycleStage::Silent,
            Stage::Sleeping => LifecycleStage::Sleeping,
            Stage::Churned => LifecycleStage::Churned,
        }
    }
}

impl From<LifecycleStage> for Stage {
    fn from(s: LifecycleStage) -> Self {
        match s {
            LifecycleStage::New => Stage::New,
            LifecycleStage::Active => Stage::Active,
            LifecycleStage::Silent => Stage::Silent,
            LifecycleStage::Sleeping => Stage::Sleeping,
            LifecycleStage::Churned => Stage::Churned,
        }
    }
}

/// A customer's purchases: goods orders paid and not refunded.
#[derive(SimpleObject)]
pub struct CustomerStats {
    pub orders_count: i32,
    /// What those orders cost the customer, balance included.
    pub total_spent_fen: Money,
    /// Total spent ÷ orders (half-up to the fen); 0 without orders.
    pub average_order_fen: Money,
    pub first_order_at: Option<Timestamp>,
    pub last_order_at: Option<Timestamp>,
    /// Whole days since the last order; null without orders.
    pub days_since_last_order: Option<i32>,
}

impl CustomerStats {
    pub fn of(s: Option<&customer_stats::Model>, now: DateTime<Utc>) -> Self {
        match service::bought(s) {
            Some(s) => CustomerStats {
                orders_count: s.orders_count,
                total_spent_fen: Money(s.spent_fen),
                average_order_fen: Money(crate::money::div_half_up(
                    s.spent_fen,
                    i64::from(s.orders_count),
                )),
                first_order_at: Some(s.first_paid_at.into()),
                last_order_at: Some(s.last_paid_at.into()),
                days_since_last_order: Some(
                    i32::try_from(scoring::days_since(s.last_paid_at, now)).unwrap_or(i32::MAX),
                ),
            },
            None => CustomerStats {
                orders_count: 0,
                total_spent_fen: Money(0),
                average_order_fen: Money(0),
                first_order_at: None,
                last_order_at: None,
                days_since_last_order: None,
            },
        }
    }
}

/// Recency, frequency and monetary value, each scored 1-5 by quintiles over
/// the store's buyers (5 = the best fifth); cutoffs are refreshed every
/// minute.
#[derive(SimpleObject)]
pub struct Rfm {
    /// Days since the last order.
    pub recency_days: i32,
    /// Orders.
    pub frequency: i32,
    /// Spent (fen).
    pub monetary_fen: Money,
    pub r_score: i32,
    pub f_score: i32,
    pub m_score: i32,
    /// The three scores as one code, e.g. "545".
    pub code: String,
}

impl Rfm {
    pub fn of(
        s: &customer_stats::Model,
        cutoffs: &scoring::RfmCutoffs,
        now: DateTime<Utc>,
    ) -> Self {
        let b = Buyer {
            days_since_last: scoring::days_since(s.last_paid_at, now),
            orders: i64::from(s.orders_count),
            spent_fen: s.spent_fen,
        };
        let (r, f, m) = cutoffs.scores(&b);
        Rfm {
            recency_days: i32::try_from(b.days_since_last).unwrap_or(i32::MAX),
            frequency: s.orders_count,
            monetary_fen: Money(s.spent_fen),
            r_score: r,
            f_score: f,
            m_score: m,
            code: format!("{r}{f}{m}"),
        }
    }
}

/// Which customers: every part given must hold.
#[derive(InputObject, Default)]
pub struct CustomerFilter {
    /// Has any of these tags.
    pub tags: Option<Vec<String>>,
    pub lifecycle_stage: Option<LifecycleStage>,
    /// At least this many orders (paid, not refunded).
    pub min_orders: Option<i32>,
    pub max_orders: Option<i32>,
    pub min_spent_fen: Option<Money>,
    pub max_spent_fen: Option<Money>,
    /// Entry scene of the first login, exactly.
    pub scene: Option<String>,
    /// Has an active membership (true) or not (false).
    pub member: Option<bool>,
    /// In the nickname.
    pub keyword: Option<String>,
    /// First signed in at or after.
    pub joined_from: Option<Timestamp>,
    /// First signed in before.
    pub joined_to: Option<Timestamp>,
    /// Buyers whose recency score (`Customer.rfm.rScore`) is this, 1-5,
    /// against the cutoffs the jobs loop last computed.
    pub r_score: Option<i32>,
    /// Buyers whose frequency score (`rfm.fScore`) is this, 1-5.
    pub f_score: Option<i32>,
    /// Buyers whose monetary score (`rfm.mScore`) is this, 1-5.
    pub m_score: Option<i32>,
}

impl From<CustomerFilter> for Filter {
    fn from(f: CustomerFilter) -> Self {
        Filter {
            tags: f.tags.unwrap_or_default(),
            stage: f.lifecycle_stage.map(Into::into),
            min_orders: f.min_orders,
            max_orders: f.max_orders,
            min_spent_fen: f.min_spent_fen.map(|m| m.0),
            max_spent_fen: f.max_spent_fen.map(|m| m.0),
            scene: f.scene,
            member: f.member,
            keyword: f.keyword,
            joined_from: f.joined_from.map(Into::into),
            joined_to: f.joined_to.map(Into::into),
            r_score: f.r_score,
            f_score: f.f_score,
            m_score: f.m_score,
        }
    }
}

/// A saved customer filter, for targeted campaigns (`issueCoupons`).
pub struct Segment(pub segment::Model);

#[Object]
impl Segment {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// How many customers it holds now (it is re-evaluated every time).
    async fn customer_count(&self, ctx: &Context<'_>) -> Result<i32> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(service::segment_size(state, &self.0).await? as i32)
    }
    /// Its filter, as JSON.
    async fn filter(&self) -> &str {
        &self.0.filter
    }
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
}

/// What `updateSegment` changes: the parts given.
#[derive(InputObject, Default)]
pub struct SegmentUpdateInput {
    /// 1-40 characters.
    pub name: Option<String>,
    /// Replaces the whole filter.
    pub filter: Option<CustomerFilter>,
}

/// How many buyers have each recency × frequency score (RFM 九宫格, here
/// 5 × 5), as the jobs loop last computed it together with the cutoffs
/// (every minute; a request never counts a million buyers).
pub struct RfmGrid(pub service::StoreScale);

#[Object]
impl RfmGrid {
    /// 25 cells: R 5 down to 1, and within each F 1 up to 5.
    async fn cells(&self) -> Vec<RfmCell> {
        self.0.grid.iter().map(|c| RfmCell(*c)).collect()
    }
    /// Buyers in all cells.
    async fn buyers(&self) -> i32 {
        i32::try_from(self.0.grid.iter().map(|c| c.customers).sum::<i64>()).unwrap_or(i32::MAX)
    }
    /// When the jobs loop counted them; null before its first computation
    /// (then every cell is 0, as every score is 1 until then).
    async fn computed_at(&self) -> Option<Timestamp> {
        self.0.computed_at.map(Into::into)
    }
}

/// Buyers with one recency and frequency score.
pub struct RfmCell(service::GridCell);

#[Object]
impl RfmCell {
    async fn r_score(&self) -> i32 {
        self.0.r
    }
    async fn f_score(&self) -> i32 {
        self.0.f
    }
    /// How many buyers (`customers(filter: { rScore, fScore })` lists
    /// them, with today's recency: a day boundary since `computedAt` may
    /// move a few).
    async fn customers(&self) -> i32 {
        i32::try_from(self.0.customers).unwrap_or(i32::MAX)
    }
    /// What they spent together.
    async fn monetary_fen(&self) -> Money {
        Money(self.0.spent_fen)
    }
    /// What each spent on average (half-up); 0 for an empty cell.
    async fn average_monetary_fen(&self) -> Money {
        Money(crate::money::div_half_up(
            self.0.spent_fen,
            self.0.customers,
        ))
    }
}

/// A tag and how many customers carry it.
#[derive(SimpleObject)]
pub struct TagCount {
    pub tag: String,
    pub customers: i32,
}

/// New customers from one entry scene.
#[derive(SimpleObject)]
pub struct SceneCount {
    /// The scene of their first login; null: none recorded.
    pub scene: Option<String>,
    pub customers: i32,
}

/// Customers at one lifecycle stage.
#[derive(SimpleObject)]
pub struct LifecycleCount {
    pub stage: LifecycleStage,
    pub customers: i32,
}
