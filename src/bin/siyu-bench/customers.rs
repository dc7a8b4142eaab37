//! `customers N REPS`: customer operations at a store's size. Fills an
//! empty PostgreSQL database with N customers in a few set-based statements
//! (two thirds buyers, a tenth tagged, one in 25 with a membership, half of
//! those lapsed), then times every `customers(filter)` page (20 rows, the
//! default) in process, REPS times each, and the RFM cutoffs refresh.
//! In-process timing measures the statements the service runs, without
//! HTTP or JSON: what the indexes and the query shape decide.
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseBackend, PaginatorTrait};
use siyu::{
    modules::operations::{scoring::Stage, service},
    state::AppState,
};

/// Set-based fill: `{n}` customers. Each attribute is a hash of the id
/// (PostgreSQL's `hashint8`, salted per attribute): deterministic, and
/// independent of the others, as in a real store.
const FILL: &str = r#"
INSERT INTO customer (id, openid, unionid, nickname, avatar_url, referral_code, referrer_id, scene, created_at, last_login_at)
SELECT i, 'bench:' || i, NULL,
  CASE WHEN (hashint8(i * 16 + 1)::bigint & 2147483647) % 5 = 0 THEN NULL
       ELSE (ARRAY['Alice','Bob','Carl','Dora','Eve','Wang Fang','Li Na','Zhang Wei','小明','小红','阿强','美美'])[1 + (hashint8(i * 16 + 2)::bigint & 2147483647) % 12] || ' ' || substr(md5(i::text), 1, 6) END,
  NULL, 'B' || i, NULL,
  (ARRAY['1001','1047','1089','qr-poster',NULL])[1 + (hashint8(i * 16 + 3)::bigint & 2147483647) % 5],
  now() - make_interval(secs => ({n} - i) * (730.0 * 86400 / {n})),
  now() - make_interval(secs => ({n} - i) * (730.0 * 86400 / {n}))
FROM generate_series(1, {n}) i;
SELECT setval(pg_get_serial_sequence('customer', 'id'), {n});
INSERT INTO customer_stats (customer_id, orders_count, spent_fen, costed_fen, margin_fen, first_paid_at, last_paid_at, updated_at)
SELECT i, o, o * (2000 + (hashint8(i * 16 + 7)::bigint & 2147483647) % 30000), 0, 0,
  now() - make_interval(days => ((hashint8(i * 16 + 8)::bigint & 2147483647) % 400)::int + o * 10), now() - make_interval(days => ((hashint8(i * 16 + 8)::bigint & 2147483647) % 400)::int, secs => i % 86400), now()
FROM (SELECT i, CASE WHEN (hashint8(i * 16 + 5)::bigint & 2147483647) % 10 < 4 THEN 1 ELSE 2 + ((hashint8(i * 16 + 6)::bigint & 2147483647) % 15)::int END AS o
      FROM generate_series(1, {n}) i WHERE (hashint8(i * 16 + 4)::bigint & 2147483647) % 3 <> 0) b;
INSERT INTO customer_tag (customer_id, tag, created_at)
SELECT i, (ARRAY['vip','wholesale','blogger','staff'])[1 + (hashint8(i * 16 + 10)::bigint & 2147483647) % 4], now()
FROM generate_series(1, {n}) i WHERE (hashint8(i * 16 + 9)::bigint & 2147483647) % 10 = 0;
INSERT INTO membership_plan (name, price_fen, duration_days, discount_percent, free_shipping, active, created_at)
VALUES ('bench', 9900, 365, 95, false, true, now());
INSERT INTO membership (customer_id, plan_id, started_at, expires_at, updated_at)
SELECT i, (SELECT max(id) FROM membership_plan), now() - interval '200 days',
  now() + CASE WHEN (hashint8(i * 16 + 12)::bigint & 2147483647) % 2 = 0 THEN interval '100 days' ELSE interval '-30 days' END, now()
FROM generate_series(1, {n}) i WHERE (hashint8(i * 16 + 11)::bigint & 2147483647) % 25 = 0;
ANALYZE customer; ANALYZE customer_stats; ANALYZE customer_tag; ANALYZE membership;
"#;

fn cases() -> Vec<(&'static str, service::Filter)> {
    use service::Filter as F;
    let now = Utc::now();
    let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let kw = |k: &str| Some(k.to_string());
    vec![
        ("(none)", F::default()),
        (
            "tags: [vip]",
            F {
                tags: tags(&["vip"]),
                ..F::default()
            },
        ),
        (
            "lifecycleStage: NEW",
            F {
                stage: Some(Stage::New),
                ..F::default()
            },
        ),
        (
            "lifecycleStage: ACTIVE",
            F {
                stage: Some(Stage::Active),
                ..F::default()
            },
        ),
        (
            "lifecycleStage: SILENT",
            F {
                stage: Some(Stage::Silent),
                ..F::default()
            },
        ),
        (
            "lifecycleStage: SLEEPING",
            F {
                stage: Some(Stage::Sleeping),
                ..F::default()
            },
        ),
        (
            "lifecycleStage: CHURNED",
            F {
                stage: Some(Stage::Churned),
                ..F::default()
            },
        ),
        (
            "minOrders: 2",
            F {
                min_orders: Some(2),
                ..F::default()
            },
        ),
        (
            "maxOrders: 1",
            F {
                max_orders: Some(1),
                ..F::default()
            },
        ),
        (
            "maxOrders: 0",
            F {
                max_orders: Some(0),
                ..F::default()
            },
        ),
        (
            "minOrders: 10, maxOrders: 12",
            F {
                min_orders: Some(10),
                max_orders: Some(12),
                ..F::default()
            },
        ),
        (
            "minSpentFen: 400000",
            F {
                min_spent_fen: Some(400_000),
                ..F::default()
            },
        ),
        (
            "maxSpentFen: 3000",
            F {
                max_spent_fen: Some(3000),
                ..F::default()
            },
        ),
        (
            "scene: 1047",
            F {
                scene: kw("1047"),
                ..F::default()
            },
        ),
        (
            "member: true",
            F {
                member: Some(true),
                ..F::default()
            },
        ),
        (
            "member: false",
            F {
                member: Some(false),
                ..F::default()
            },
        ),
        (
            "keyword: wang (common)",
            F {
                keyword: kw("wang"),
                ..F::default()
            },
        ),
        (
            "keyword: 小明 (common, 2 chars)",
            F {
                keyword: kw("小明"),
                ..F::default()
            },
        ),
        (
            "keyword: 3fa9 (rare)",
            F {
                keyword: kw("3fa9"),
                ..F::default()
            },
        ),
        (
            "keyword: zzzz (none)",
            F {
                keyword: kw("zzzz"),
                ..F::default()
            },
        ),
        (
            "joined last 30 days",
            F {
                joined_from: Some(now - chrono::Duration::days(30)),
                ..F::default()
            },
        ),
        (
            "joined a year ago, 1 week",
            F {
                joined_from: Some(now - chrono::Duration::days(372)),
                joined_to: Some(now - chrono::Duration::days(365)),
                ..F::default()
            },
        ),
        (
            "NEW + scene: 1047",
            F {
                stage: Some(Stage::New),
                scene: kw("1047"),
                ..F::default()
            },
        ),
        (
            "ACTIVE + maxOrders: 1 + tags: [vip]",
            F {
                stage: Some(Stage::Active),
                max_orders: Some(1),
                tags: tags(&["vip"]),
                ..F::default()
            },
        ),
        (
            "CHURNED + minSpentFen + member: false",
            F {
                stage: Some(Stage::Churned),
                min_spent_fen: Some(300_000),
                member: Some(false),
                ..F::default()
            },
        ),
        (
            "keyword: wang + SILENT + member: true",
            F {
                keyword: kw("wang"),
                stage: Some(Stage::Silent),
                member: Some(true),
                ..F::default()
            },
        ),
        (
            "tags: [vip, blogger] + minOrders: 5 + joined 90 days",
            F {
                tags: tags(&["vip", "blogger"]),
                min_orders: Some(5),
                joined_from: Some(now - chrono::Duration::days(90)),
                ..F::default()
            },
        ),
        (
            "keyword: 3fa9 + NEW",
            F {
                keyword: kw("3fa9"),
                stage: Some(Stage::New),
                ..F::default()
            },
        ),
        (
            "rScore: 5",
            F {
                r_score: Some(5),
                ..F::default()
            },
        ),
        (
            "rScore: 1",
            F {
                r_score: Some(1),
                ..F::default()
            },
        ),
        (
            "fScore: 5",
            F {
                f_score: Some(5),
                ..F::default()
            },
        ),
        (
            "rScore: 3 + fScore: 3",
            F {
                r_score: Some(3),
                f_score: Some(3),
                ..F::default()
            },
        ),
        (
            "rScore: 1 + fScore: 5 + tags: [vip]",
            F {
                r_score: Some(1),
                f_score: Some(5),
                tags: tags(&["vip"]),
                ..F::default()
            },
        ),
    ]
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1000.0
}

pub async fn run(state: &AppState, n: i64, reps: usize) -> anyhow::Result<()> {
    if state.db.get_database_backend() != DatabaseBackend::Postgres {
        bail!("the customers benchmark needs PostgreSQL");
    }
    let t = Instant::now();
    state
        .db
        .execute_unprepared(&FILL.replace("{n}", &n.to_string()))
        .await
        .context("filling customers")?;
    eprintln!(
        "{n} customers generated in {:.1}s",
        t.elapsed().as_secs_f64()
    );

    let scale = time_scale(state).await?;
    println!(
        "\n{:<52} {:>9} {:>9} {:>6} {:>11} {:>11} {:>8}",
        "customers(filter, first: 20)",
        "p50 ms",
        "p99 ms",
        "rows",
        "count p50",
        "count max",
        "count"
    );
    for (name, filter) in cases() {
        let filter = filter.checked("filter")?;
        let mut times = Vec::with_capacity(reps);
        let mut rows = 0;
        for i in 0..reps + 2 {
            let t = Instant::now();
            let (page, _) = service::customers(state, &filter, 20, None).await?;
            // Two warm-up runs: plans cached, pages in memory.
            if i >= 2 {
                times.push(t.elapsed());
            }
            rows = page.len();
        }
        times.sort();
        // `totalCount` (only when a client selects it): the same COUNT over
        // the filter's query, fewer times (it reads every match).
        let mut counts = Vec::new();
        let mut total = 0;
        for i in 0..(reps / 5).max(3) + 1 {
            let t = Instant::now();
            total = service::customers_query(state, &filter)
                .await?
                .count(&state.db)
                .await?;
            if i >= 1 {
                counts.push(t.elapsed());
            }
        }
        counts.sort();
        println!(
            "{:<52} {:>9.2} {:>9.2} {:>6} {:>11.2} {:>11.2} {:>8}",
            name,
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            rows,
            percentile(&counts, 0.5),
            percentile(&counts, 1.0),
            total
        );
    }
    println!("{scale}");
    Ok(())
}

/// What reading the RFM cutoffs costs a request, and what computing them
/// costs (the jobs loop's pass when it has one).
async fn time_scale(state: &AppState) -> anyhow::Result<String> {
    let mut out = String::new();
    if let Some(refresh) = refresh_time(state).await? {
        out.push_str(&format!(
            "RFM cutoffs refresh (jobs loop): {refresh:.0} ms\n"
        ));
    }
    let mut times = Vec::new();
    for _ in 0..5 {
        state
            .cache
            .remove(siyu::cache::keys::OPERATIONS_SCALE)
            .await;
        let t = Instant::now();
        service::store_scale(state).await?;
        times.push(t.elapsed());
    }
    times.sort();
    out.push_str(&format!(
        "RFM cutoffs read by a request, cache cold: p50 {:.2} ms, max {:.2} ms",
        percentile(&times, 0.5),
        percentile(&times, 1.0)
    ));
    Ok(out)
}

async fn refresh_time(state: &AppState) -> anyhow::Result<Option<f64>> {
    let t = Instant::now();
    let computed = service::refresh_scale(state, Utc::now()).await?;
    Ok((computed == 1).then(|| t.elapsed().as_secs_f64() * 1000.0))
}
