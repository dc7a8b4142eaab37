//! Windowed counters (rate limits) shared through Redis without a round
//! trip per hit.
//!
//! The count lives in Redis so that every instance behind a load balancer
//! sees one count per client. Asking Redis on every hit would put a network
//! round trip in front of every request, the response cache's answers
//! included, so each instance keeps per key the count Redis last returned
//! and the hits it has not reported yet, and reports them (one `INCRBY`):
//! - **waiting for the answer** while the count is within an allowance of
//!   the limit: the allowance is an eighth of what the limit left at the
//!   last report, so a limit of 5 reports every hit (exact, as a plain
//!   counter), and a client busy against 1,200 a minute waits for Redis a
//!   handful of times a minute, each time its unreported hits exceed that
//!   eighth;
//! - **in the background** (the hit goes on with the count it has) when the
//!   key is new here with room under its limit, or its last report is
//!   [`REPORT_EVERY`] old: that is how a window that ended in Redis is
//!   learned, and all a client that is already refused causes, so a flood
//!   of refused requests is not a flood of Redis commands either. A
//!   background report that gets no answer gives up its hits; unlike a
//!   failure on a request's path it does not make the instance leave Redis
//!   alone for a second (`Cache::hit`).
//!
//! Bound: one instance refuses exactly at the limit (it counts every hit
//! before it reports it). With N instances each may let through about an
//! eighth of the limit that the others have not heard of yet, so a client
//! spreading its requests over all of them gets at most about (N − 1)/8 of
//! the limit more per window.
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

/// The longest an instance goes without reporting a key it is counting.
pub const REPORT_EVERY: Duration = Duration::from_millis(250);

/// The share of the remaining limit an instance may count without reporting.
const ALLOWANCE_DIVISOR: i64 = 8;

/// This instance's view of the counters it is counting.
pub struct Counters {
    keys: moka::sync::Cache<String, Arc<Mutex<Local>>>,
}

#[derive(Default)]
struct Local {
    /// The count Redis returned to the newest report that came back.
    reported: i64,
    /// Hits counted here and not yet reported.
    pending: i64,
    /// Hits in reports that have not come back.
    in_flight: i64,
    last_report: Option<Instant>,
    /// Reports sent and the newest one applied, so a late answer to an
    /// older report does not overwrite a newer count (none applied yet:
    /// this instance does not know the key's count).
    sent: u64,
    applied: u64,
}

/// A report this hit must send before it knows its answer.
pub struct Report {
    local: Arc<Mutex<Local>>,
    pub hits: i64,
    seq: u64,
}

/// What counting one hit decided.
pub enum Hit {
    /// The estimated count with this hit; nothing to report.
    Counted(i64),
    /// Send this report and wait: [`Counters::reported`] gives the count.
    Report(Report),
    /// The estimated count with this hit; send this report without
    /// waiting for it ([`Counters::reported`] when it comes back).
    Background(i64, Report),
}

impl Counters {
    pub fn new(window: Duration) -> Self {
        Self {
            keys: moka::sync::Cache::builder()
                .max_capacity(100_000)
                // A key idle for a whole window has nothing left to count.
                .time_to_idle(window)
                .build(),
        }
    }

    /// Counts one hit of `key` against `limit`.
    pub fn hit(&self, key: &str, limit: i64) -> Hit {
        let local = self.keys.get_with_by_ref(key, Default::default);
        let mut l = local.lock().unwrap_or_else(|e| e.into_inner());
        l.pending += 1;
        let estimate = l.reported + l.in_flight + l.pending;
        let allowance = (limit - l.reported).max(0) / ALLOWANCE_DIVISOR;
        let under = estimate <= limit;
        let known = l.applied > 0;
        let wait = under && (allowance == 0 || (known && l.pending > allowance));
        let stale = l.last_report.is_none_or(|t| t.elapsed() >= REPORT_EVERY);
        let refresh = l.in_flight == 0 && (!known || stale);
        if !wait && !refresh {
            return Hit::Counted(estimate);
        }
        let hits = std::mem::take(&mut l.pending);
        l.in_flight += hits;
        l.last_report = Some(Instant::now());
        l.sent += 1;
        let report = Report {
            local: local.clone(),
            hits,
            seq: l.sent,
        };
        drop(l);
        if wait {
            Hit::Report(report)
        } else {
            Hit::Background(estimate, report)
        }
    }

    /// Applies what Redis answered to a report (`None`: it did not answer,
    /// and the hits are given up as the cache's failure lets requests
    /// through); the count for the hit that reported.
    pub fn reported(mut report: Report, count: Option<i64>) -> Option<i64> {
        let mut l = report.local.lock().unwrap_or_else(|e| e.into_inner());
        l.in_flight -= std::mem::take(&mut report.hits);
        let count = count?;
        if report.seq > l.applied {
            l.applied = report.seq;
            l.reported = count;
        }
        Some(count)
    }
}

/// A report dropped unanswered (the request that waited for it went away)
/// is given up, so its hits do not stay in flight for good.
impl Drop for Report {
    fn drop(&mut self) {
        if self.hits != 0 {
            let mut l = self.local.lock().unwrap_or_else(|e| e.into_inner());
            l.in_flight -= self.hits;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in for Redis: one shared count.
    struct Shared(Mutex<i64>);

    impl Shared {
        fn add(&self, n: i64) -> i64 {
            let mut c = self.0.lock().unwrap();
            *c += n;
            *c
        }
    }

    /// Counts `n` hits on `counters`; returns (hits let through, reports sent).
    fn run(counters: &Counters, shared: &Shared, limit: i64, n: usize) -> (usize, usize) {
        let (mut through, mut reports) = (0, 0);
        for _ in 0..n {
            let count = match counters.hit("k", limit) {
                Hit::Counted(c) => c,
                Hit::Report(r) => {
                    reports += 1;
                    let total = shared.add(r.hits);
                    Counters::reported(r, Some(total)).unwrap()
                }
                Hit::Background(c, r) => {
                    reports += 1;
                    let total = shared.add(r.hits);
                    Counters::reported(r, Some(total));
                    c
                }
            };
            if count <= limit {
                through += 1;
            }
        }
        (through, reports)
    }

    #[test]
    fn a_small_limit_reports_every_hit_and_is_exact() {
        let (c, shared) = (
            Counters::new(Duration::from_secs(60)),
            Shared(Mutex::new(0)),
        );
        // Every hit up to the limit is reported; the refused ones wait for
        // REPORT_EVERY.
        assert_eq!(run(&c, &shared, 5, 8), (5, 5));
        assert_eq!(*shared.0.lock().unwrap(), 5);
    }

    #[test]
    fn a_busy_key_reports_a_few_times_and_one_instance_stops_at_the_limit() {
        let (c, shared) = (
            Counters::new(Duration::from_secs(60)),
            Shared(Mutex::new(0)),
        );
        let (through, reports) = run(&c, &shared, 1200, 5000);
        assert_eq!(through, 1200);
        assert!(reports < 60, "{reports} reports for 5,000 hits");
    }

    #[test]
    fn instances_sharing_a_count_overshoot_at_most_their_allowance() {
        let shared = Shared(Mutex::new(0));
        let instances: Vec<Counters> = (0..4)
            .map(|_| Counters::new(Duration::from_secs(60)))
            .collect();
        let mut through = 0;
        for round in 0..2000 {
            through += run(&instances[round % 4], &shared, 1200, 1).0;
        }
        assert!(through >= 1200, "{through}");
        assert!(through <= 1200 + 3 * 1200 / 8, "{through}");
    }

    #[test]
    fn a_late_answer_does_not_overwrite_a_newer_count() {
        // A limit of 7 leaves no allowance: every hit waits for its report,
        // so two can be in flight at once.
        let c = Counters::new(Duration::from_secs(60));
        let Hit::Report(first) = c.hit("k", 7) else {
            panic!("a hit without allowance waits for its report");
        };
        let Hit::Report(second) = c.hit("k", 7) else {
            panic!("a hit without allowance waits for its report");
        };
        assert_eq!(Counters::reported(second, Some(5)), Some(5));
        assert_eq!(Counters::reported(first, Some(4)), Some(4));
        let Hit::Report(third) = c.hit("k", 7) else {
            panic!("a hit without allowance waits for its report");
        };
        assert_eq!(Counters::reported(third, Some(6)), Some(6));
        // A report whose request went away is given up, not left in flight.
        let Hit::Report(dropped) = c.hit("k", 7) else {
            panic!("a hit without allowance waits for its report");
        };
        drop(dropped);
        let Hit::Report(fourth) = c.hit("k", 7) else {
            panic!("a hit without allowance waits for its report");
        };
        assert_eq!(Counters::reported(fourth, Some(7)), Some(7));
        // Known, fresh, over the limit: counted here on the newest count.
        let Hit::Counted(8) = c.hit("k", 7) else {
            panic!("over the limit and fresh, nothing is reported");
        };
    }

    #[test]
    fn a_key_with_room_is_reported_in_the_background() {
        let c = Counters::new(Duration::from_secs(60));
        let Hit::Background(1, first) = c.hit("k", 1000) else {
            panic!("a new key with room reports in the background");
        };
        // While that report is out, hits are counted here.
        let Hit::Counted(2) = c.hit("k", 1000) else {
            panic!("one report in flight at a time");
        };
        assert_eq!(Counters::reported(first, Some(500)), Some(500));
        let Hit::Counted(n) = c.hit("k", 1000) else {
            panic!("a known, fresh key within its allowance counts locally");
        };
        assert_eq!(n, 502, "Redis's count and the hit not reported yet");
    }

    #[test]
    fn a_refused_client_reports_only_on_time() {
        let (c, shared) = (
            Counters::new(Duration::from_secs(60)),
            Shared(Mutex::new(0)),
        );
        run(&c, &shared, 10, 10);
        let (through, reports) = run(&c, &shared, 10, 1000);
        assert_eq!(through, 0);
        assert!(reports <= 1, "{reports}");
    }
}
