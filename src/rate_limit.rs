//! Per-client rate limits: one fixed one-minute window per key, counted in
//! the shared cache ([`Cache::hit`]), so that every instance behind a load
//! balancer sees the same count (Redis, reported in batches so that a hit
//! costs no round trip: see `cache::counter` for the bound), or this
//! instance alone counts (the in-process cache). The login limit and the
//! `/graphql` limit both use it.
//!
//! A cache that does not answer lets requests through: a dead Redis must
//! not lock every shopper out.
use std::time::Duration;

use crate::{
    cache::Cache,
    error::{AppError, AppResult},
};

/// The window every limit counts in; a refused client may retry after it.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Counts one hit under `key`; `RATE_LIMITED` with `message` once more than
/// `per_min` hits fell in the current window. `per_min == 0` turns the limit off.
pub async fn check(cache: &Cache, key: &str, per_min: u32, message: &str) -> AppResult<()> {
    if per_min == 0 {
        return Ok(());
    }
    match cache.hit(key, WINDOW, i64::from(per_min)).await {
        Some(n) if n > i64::from(per_min) => Err(AppError::RateLimited(message.to_string())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::cache::MemoryCache;

    #[tokio::test]
    async fn counts_per_key_and_zero_is_off() {
        let cache = Cache::new(Arc::new(MemoryCache::default()), "t");
        for _ in 0..2 {
            check(&cache, "a", 2, "slow down").await.unwrap();
        }
        let err = check(&cache, "a", 2, "slow down").await.unwrap_err();
        assert_eq!(err.code(), "RATE_LIMITED");
        check(&cache, "b", 2, "slow down").await.unwrap();
        for _ in 0..5 {
            check(&cache, "a", 0, "slow down").await.unwrap();
        }
    }
}
