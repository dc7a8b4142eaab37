//! `seed-history N`: a year of N completed orders, bought by N / 5 earlier
//! customers from the seeded catalogue, so that the order load meets the
//! tables of a store that has been selling, not empty ones.
//!
//! Why it matters: a statement planned while its table is nearly empty
//! keeps that plan for its connection (sqlx prepares every statement once per
//! connection, and PostgreSQL settles on a generic plan after five runs;
//! the foreign-key checks keep theirs too) until an ANALYZE of the table
//! invalidates it. On empty order tables those plans are sequential scans,
//! which then read the whole table per order as it grows: in one run,
//! 7,640 sequential scans (foreign-key checks, a read of an order by id)
//! read 94 million rows of `shop_order`. A live store has order history (and
//! autovacuum analyzes a new store's tables within a minute or two of its
//! first orders); the benchmark measures that steady state, with the history
//! in place and analyzed before the server starts.
use anyhow::{Context, bail};
use sea_orm::{ConnectionTrait, DatabaseBackend};
use siyu::state::AppState;

/// Set-based fill: `{n}` orders, one line each, paid, shipped and completed,
/// spread over the last year; each bought by a history customer and of a SKU
/// chosen by a hash of the order's number (deterministic). Lines copy the
/// SKU's price and specs; each order has its payment and its fulfillment
/// (self-operated); the buyers' figures are their orders'.
const FILL: &str = r#"
INSERT INTO customer (openid, nickname, referral_code, created_at, last_login_at)
SELECT 'history:' || i, '老客 ' || i, 'H' || i, now() - interval '400 days', now() - interval '7 days'
FROM generate_series(1, {customers}) i;
CREATE TEMP TABLE history_pick AS
SELECT g.i,
  (SELECT id FROM customer WHERE openid = 'history:' || (1 + (hashint4(g.i)::bigint & 2147483647) % {customers})) AS customer_id,
  s.id AS sku_id, s.product_id, s.price_fen, s.specs, p.title,
  now() - make_interval(days => 8 + g.i % 365, secs => g.i % 86400) AS at
FROM generate_series(1, {n}) g(i)
JOIN (SELECT id, product_id, price_fen, specs, row_number() OVER (ORDER BY id) - 1 AS k FROM sku) s
  ON s.k = (hashint4(g.i * 7 + 1)::bigint & 2147483647) % (SELECT count(*) FROM sku)
JOIN product p ON p.id = s.product_id;
INSERT INTO shop_order (customer_id, kind, status, items_fen, member_discount_fen, promotion_discount_fen,
  coupon_discount_fen, shipping_fen, total_fen, balance_fen, payable_fen, paid_fen, idempotency_key,
  request_hash, expires_at, paid_at, shipped_at, completed_at, created_at, updated_at)
SELECT customer_id, 'GOODS', 'COMPLETED', price_fen, 0, 0, 0, 0, price_fen, 0, price_fen, price_fen,
  'history:' || i, 'history', at + interval '30 minutes', at + interval '1 minute', at + interval '1 day',
  at + interval '8 days', at, at + interval '8 days'
FROM history_pick ORDER BY at;
INSERT INTO payment (order_id, provider, transaction_id, amount_fen, outcome, created_at)
SELECT id, 'WECHAT', 'history:' || id, paid_fen, 'APPLIED', paid_at
FROM shop_order WHERE idempotency_key LIKE 'history:%';
INSERT INTO fulfillment (order_id, supplier_id, status, cost_fen, created_at, shipped_at)
SELECT id, NULL, 'DELIVERED', 0, paid_at, shipped_at
FROM shop_order WHERE idempotency_key LIKE 'history:%';
INSERT INTO order_line (order_id, sku_id, product_id, title, specs, list_price_fen, unit_price_fen,
  quantity, line_total_fen, fulfillment_id)
SELECT o.id, h.sku_id, h.product_id, h.title, h.specs, h.price_fen, h.price_fen, 1, h.price_fen, f.id
FROM history_pick h
JOIN shop_order o ON o.customer_id = h.customer_id AND o.idempotency_key = 'history:' || h.i
JOIN fulfillment f ON f.order_id = o.id;
INSERT INTO customer_stats (customer_id, orders_count, spent_fen, costed_fen, margin_fen, first_paid_at, last_paid_at, updated_at)
SELECT customer_id, count(*), sum(paid_fen), 0, 0, min(paid_at), max(paid_at), now()
FROM shop_order WHERE idempotency_key LIKE 'history:%' GROUP BY customer_id;
DROP TABLE history_pick;
"#;

pub async fn seed(state: &AppState, n: i64) -> anyhow::Result<()> {
    if state.db.get_database_backend() != DatabaseBackend::Postgres {
        bail!("the order history is generated for PostgreSQL");
    }
    if n <= 0 {
        return Ok(());
    }
    let customers = (n / 5).max(1);
    state
        .db
        .execute_unprepared(
            &FILL
                .replace("{customers}", &customers.to_string())
                .replace("{n}", &n.to_string()),
        )
        .await
        .context("generating the order history")?;
    Ok(())
}
