//! `siyu-bench`: the benchmark's tools, kept out of the production binary
//! (`scripts/bench.sh` runs them).
//!
//! - `baseline ADDR FILE|DIR`: a bare server answering FILE's bytes (or
//!   DIR/NAME's at the path /NAME), the physical limit of the read path;
//! - `orders [BASE BUYERS FLASH_STOCK SPREAD_SKUS SPREAD_SECS]`: the order
//!   load against a running server;
//! - `seed-bulk N`: N generated products into an empty catalogue (the
//!   database and settings of `siyu`, from the environment);
//! - `seed-history N`: a year of N completed orders by earlier customers
//!   (PostgreSQL), so that the order load meets a store with history;
//! - `customers N REPS`: N generated customers into an empty PostgreSQL
//!   database, then every customer filter timed REPS times (same
//!   environment).
mod baseline;
mod customers;
mod history;
mod load;

use siyu::{
    app::{seed, startup::build_state},
    config::Settings,
};

/// mimalloc: executed answers allocate per field, where glibc malloc was a
/// fifth of the CPU (see Cargo.toml). The baseline server gets it too, so it
/// stays the upper bound.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str).unwrap_or("") {
        "baseline" => {
            let (Some(addr), Some(file)) = (args.get(1), args.get(2)) else {
                fail(2, "usage: siyu-bench baseline ADDR FILE|DIR");
            };
            if let Err(e) = baseline::serve(addr, file).await {
                fail(1, &format!("baseline server: {e:#}"));
            }
            return;
        }
        "orders" => {
            let base = args
                .get(1)
                .cloned()
                .unwrap_or_else(|| "http://127.0.0.1:18080".into());
            let num = |i: usize, d: u64| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
            if let Err(e) = load::order_load(
                &base,
                num(2, 64) as usize,
                num(3, 1000) as i64,
                num(4, 100) as usize,
                num(5, 10),
            )
            .await
            {
                fail(1, &format!("order benchmark: {e:#}"));
            }
            return;
        }
        "customers" => {
            let state = state_from_env().await;
            let num = |i: usize, d: i64| args.get(i).and_then(|v| v.parse().ok()).unwrap_or(d);
            if let Err(e) = customers::run(&state, num(1, 1_000_000), num(2, 50) as usize).await {
                fail(1, &format!("customers benchmark: {e:#}"));
            }
        }
        "seed-history" => {
            let state = state_from_env().await;
            let count = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(20_000);
            if let Err(e) = history::seed(&state, count).await {
                fail(1, &format!("seeding the order history failed: {e:#}"));
            }
        }
        "seed-bulk" => {
            let state = state_from_env().await;
            let count = args.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
            if let Err(e) = seed::seed_bulk(&state, count).await {
                fail(1, &format!("seeding failed: {e:?}"));
            }
        }
        other => fail(
            2,
            &format!(
                "unknown command {other:?}; commands: baseline ADDR FILE|DIR, orders [BASE BUYERS FLASH_STOCK SPREAD_SKUS SPREAD_SECS], seed-bulk N, seed-history N, customers N REPS"
            ),
        ),
    }
}

/// The state `siyu` would build from the environment (migrations applied).
async fn state_from_env() -> siyu::state::AppState {
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => fail(2, &format!("configuration error: {e:#}")),
    };
    match build_state(settings).await {
        Ok(s) => s,
        Err(e) => fail(1, &format!("start-up failed: {e:#}")),
    }
}

/// One line on stderr, then exit.
fn fail(code: i32, message: &str) -> ! {
    eprintln!("siyu-bench: {message}");
    std::process::exit(code);
}
