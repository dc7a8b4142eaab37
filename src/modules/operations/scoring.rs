//! Pure scoring: lifecycle stages, RFM quintiles, user value.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a customer is in its life with the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Stage {
    /// Has not bought yet.
    New,
    Active,
    Silent,
    Sleeping,
    Churned,
}

/// The stage boundaries are settings (`LIFECYCLE_*_DAYS`), so config owns their type.
pub use crate::config::LifecycleThresholds as Thresholds;

/// Whole days from `then` to `now` (a purchase today is 0 days ago).
pub fn days_since(then: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    (now - then).num_days().max(0)
}

pub fn stage(last_paid_at: Option<DateTime<Utc>>, now: DateTime<Utc>, t: Thresholds) -> Stage {
    let Some(last) = last_paid_at else {
        return Stage::New;
    };
    match days_since(last, now) {
        d if d <= t.active_days => Stage::Active,
        d if d <= t.silent_days => Stage::Silent,
        d if d <= t.sleeping_days => Stage::Sleeping,
        _ => Stage::Churned,
    }
}

/// The values at the 20th, 40th, 60th and 80th percentile of `values`
/// (sorted here), splitting the store's buyers into five groups of equal
/// size as far as ties allow.
pub fn quintile_cutoffs(mut values: Vec<i64>) -> [i64; 4] {
    values.sort_unstable();
    let n = values.len();
    if n == 0 {
        return [i64::MAX; 4];
    }
    [1, 2, 3, 4].map(|k| values[(n * k / 5).min(n - 1)])
}

/// 1-5: how many cutoffs the value reaches, plus one. Higher is better, so
/// recency is scored on the negated number of days.
pub fn score(value: i64, cutoffs: &[i64; 4]) -> i32 {
    1 + cutoffs.iter().filter(|c| value >= **c).count() as i32
}

/// The values that score `s` (1-5) against `cutoffs`, as a range:
/// `Some((at_least, below))`, either end open (`None`), or `None` when no
/// value scores `s` (ties merged it into a higher score, or no buyers yet
/// put every cutoff out of reach). The exact inverse of [`score`], so a
/// filter on a score is a range predicate on the stored figure.
pub fn score_range(s: i32, cutoffs: &[i64; 4]) -> Option<(Option<i64>, Option<i64>)> {
    if !(1..=5).contains(&s) {
        return None;
    }
    let i = s as usize;
    // Reaches the (s-1) lowest cutoffs, and not the s-th.
    let at_least = (i >= 2).then(|| cutoffs[i - 2]);
    let below = (i <= 4).then(|| cutoffs[i - 1]);
    if at_least == Some(i64::MAX) {
        return None;
    }
    let below = below.filter(|b| *b != i64::MAX);
    if let (Some(a), Some(b)) = (at_least, below)
        && a >= b
    {
        return None;
    }
    Some((at_least, below))
}

/// The cutoffs of the three RFM dimensions over the store's buyers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RfmCutoffs {
    /// Of minus the days since the last purchase.
    pub recency: [i64; 4],
    pub frequency: [i64; 4],
    pub monetary: [i64; 4],
}

/// One buyer's figures for RFM.
#[derive(Clone, Copy, Debug)]
pub struct Buyer {
    pub days_since_last: i64,
    pub orders: i64,
    pub spent_fen: i64,
}

impl RfmCutoffs {
    pub fn of(buyers: &[Buyer]) -> Self {
        RfmCutoffs {
            recency: quintile_cutoffs(buyers.iter().map(|b| -b.days_since_last).collect()),
            frequency: quintile_cutoffs(buyers.iter().map(|b| b.orders).collect()),
            monetary: quintile_cutoffs(buyers.iter().map(|b| b.spent_fen).collect()),
        }
    }

    /// (R, F, M), each 1-5.
    pub fn scores(&self, b: &Buyer) -> (i32, i32, i32) {
        (
            score(-b.days_since_last, &self.recency),
            score(b.orders, &self.frequency),
            score(b.spent_fen, &self.monetary),
        )
    }
}

/// User value = purchase frequency × gross margin rate × recommendation
/// index, where the frequency is the number of orders, the margin rate that
/// of the goods whose cost is known (1 when none is: self-operated goods
/// carry no cost), and the recommendation index 1 + the customers it
/// invited who bought + what they spent in units of the store's average
/// order. Rounded to two decimals; 0 for a customer who never bought.
pub fn user_value(
    orders: i64,
    costed_fen: i64,
    margin_fen: i64,
    invited_buyers: i64,
    invited_spent_fen: i64,
    average_order_fen: i64,
) -> f64 {
    if orders <= 0 {
        return 0.0;
    }
    let margin_rate = if costed_fen > 0 {
        (margin_fen as f64 / costed_fen as f64).max(0.0)
    } else {
        1.0
    };
    let brought = if average_order_fen > 0 {
        invited_spent_fen as f64 / average_order_fen as f64
    } else {
        0.0
    };
    let index = 1.0 + invited_buyers as f64 + brought;
    (orders as f64 * margin_rate * index * 100.0).round() / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_follow_the_days_since_the_last_purchase() {
        let now = Utc::now();
        let t = Thresholds::default();
        let ago = |d| Some(now - chrono::Duration::days(d));
        assert_eq!(stage(None, now, t), Stage::New);
        assert_eq!(stage(ago(0), now, t), Stage::Active);
        assert_eq!(stage(ago(30), now, t), Stage::Active);
        assert_eq!(stage(ago(31), now, t), Stage::Silent);
        assert_eq!(stage(ago(90), now, t), Stage::Silent);
        assert_eq!(stage(ago(91), now, t), Stage::Sleeping);
        assert_eq!(stage(ago(180), now, t), Stage::Sleeping);
        assert_eq!(stage(ago(181), now, t), Stage::Churned);
    }

    #[test]
    fn score_ranges_hold_exactly_the_values_of_their_score() {
        let sets: [[i64; 4]; 5] = [
            [3, 5, 7, 9],
            [1, 1, 1, 5],
            [i64::MAX; 4],
            [-100, -40, 0, 0],
            [2, 2, 2, 2],
        ];
        for cut in sets {
            for s in 1..=5 {
                let range = score_range(s, &cut);
                for v in -200..200 {
                    let inside = range.is_some_and(|(lo, hi)| {
                        lo.is_none_or(|lo| v >= lo) && hi.is_none_or(|hi| v < hi)
                    });
                    assert_eq!(inside, score(v, &cut) == s, "{cut:?} score {s} value {v}");
                }
            }
        }
        assert_eq!(score_range(0, &[3, 5, 7, 9]), None);
        assert_eq!(score_range(6, &[3, 5, 7, 9]), None);
    }

    #[test]
    fn quintiles_split_ten_buyers_two_by_two() {
        let cut = quintile_cutoffs((1..=10).collect());
        assert_eq!(cut, [3, 5, 7, 9]);
        let scores: Vec<i32> = (1..=10).map(|v| score(v, &cut)).collect();
        assert_eq!(scores, vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
    }

    #[test]
    fn ties_share_a_score_and_one_buyer_is_top() {
        let cut = quintile_cutoffs(vec![1, 1, 1, 1, 5]);
        assert_eq!(score(1, &cut), 4, "four of five at the bottom value");
        assert_eq!(score(5, &cut), 5);
        let one = quintile_cutoffs(vec![7]);
        assert_eq!(score(7, &one), 5);
        assert_eq!(quintile_cutoffs(vec![]), [i64::MAX; 4]);
    }

    #[test]
    fn recent_frequent_big_spenders_score_555() {
        let buyers: Vec<Buyer> = (0..10)
            .map(|i| Buyer {
                days_since_last: 100 - i * 10,
                orders: 1 + i,
                spent_fen: 1000 * (1 + i),
            })
            .collect();
        let c = RfmCutoffs::of(&buyers);
        assert_eq!(c.scores(&buyers[9]), (5, 5, 5));
        assert_eq!(c.scores(&buyers[0]), (1, 1, 1));
    }

    #[test]
    fn user_value_multiplies_frequency_margin_and_recommendation() {
        assert_eq!(user_value(0, 0, 0, 5, 5000, 100), 0.0);
        assert_eq!(user_value(3, 0, 0, 0, 0, 100), 3.0, "unknown cost: rate 1");
        assert_eq!(user_value(3, 10_000, 2_500, 0, 0, 100), 0.75);
        // Two invitees who bought, spending two average orders: index 1 + 2 + 2.
        assert_eq!(user_value(2, 10_000, 5_000, 2, 20_000, 10_000), 5.0);
    }
}
