//! The in-process cache of the embedded mode (moka), with a TTL per entry.
use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use moka::{Expiry, future::Cache as Moka, ops::compute::Op};

use super::{CacheBackend, CacheError};

#[derive(Clone)]
struct Entry {
    bytes: Arc<Vec<u8>>,
    ttl: Duration,
}

struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, value: &Entry, _now: Instant) -> Option<Duration> {
        Some(value.ttl)
    }
    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        _now: Instant,
        current: Option<Duration>,
    ) -> Option<Duration> {
        // A counter keeps its window's end; a plain `set` starts a new TTL.
        if value.ttl.is_zero() {
            current
        } else {
            Some(value.ttl)
        }
    }
}

/// In-process cache: for one instance only (embedded mode).
pub struct MemoryCache {
    inner: Moka<String, Entry>,
    /// Pinned entries (revocations), apart from `inner`: a bounded moka
    /// cache may evict an entry early or refuse to admit a new one when it
    /// is full (of rate-limit counters from many addresses, say), and a
    /// revocation that vanishes would bring a signed-out token back. These
    /// are few (one per sign-out within an access token's lifetime) and
    /// leave at their TTL.
    pinned: Moka<String, Entry>,
}

impl MemoryCache {
    pub fn new(max_entries: u64) -> Self {
        Self {
            inner: Moka::builder()
                .max_capacity(max_entries)
                .expire_after(PerEntryTtl)
                .build(),
            pinned: Moka::builder().expire_after(PerEntryTtl).build(),
        }
    }

    async fn lookup(&self, key: &str) -> Option<Vec<u8>> {
        let found = match self.inner.get(key).await {
            Some(e) => Some(e),
            None => self.pinned.get(key).await,
        };
        found.map(|e| e.bytes.as_ref().clone())
    }
}

impl Default for MemoryCache {
    fn default() -> Self {
        Self::new(100_000)
    }
}

#[async_trait]
impl CacheBackend for MemoryCache {
    fn kind(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.lookup(key).await)
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            out.push(self.lookup(k).await);
        }
        Ok(out)
    }

    async fn set_pinned(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        self.pinned
            .insert(
                key.to_string(),
                Entry {
                    bytes: Arc::new(value),
                    ttl,
                },
            )
            .await;
        Ok(())
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        self.inner
            .insert(
                key.to_string(),
                Entry {
                    bytes: Arc::new(value),
                    ttl,
                },
            )
            .await;
        Ok(())
    }

    async fn delete_and_bump(
        &self,
        keys: &[String],
        generation: &str,
        window: Duration,
    ) -> Result<i64, CacheError> {
        for k in keys {
            self.inner.invalidate(k).await;
        }
        self.incr(generation, 1, window).await
    }

    async fn incr(&self, key: &str, by: i64, window: Duration) -> Result<i64, CacheError> {
        let entry = self
            .inner
            .entry(key.to_string())
            .and_compute_with(|current| {
                let (next, ttl) = match current {
                    Some(e) => {
                        let n = std::str::from_utf8(&e.value().bytes)
                            .ok()
                            .and_then(|s| s.parse::<i64>().ok())
                            .unwrap_or(0);
                        // ttl zero: keep the window's original end (see PerEntryTtl).
                        (n + by, Duration::ZERO)
                    }
                    None => (by, window),
                };
                std::future::ready(Op::Put(Entry {
                    bytes: Arc::new(next.to_string().into_bytes()),
                    ttl,
                }))
            })
            .await;
        let value = entry
            .into_entry()
            .map(|e| e.into_value())
            .ok_or_else(|| CacheError("counter vanished".into()))?;
        Ok(std::str::from_utf8(&value.bytes)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1))
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        // Kept with the pinned entries: a lock evicted early would let two
        // holders in.
        let entry = self
            .pinned
            .entry(key.to_string())
            .or_insert_with(std::future::ready(Entry {
                bytes: Arc::new(value),
                ttl,
            }))
            .await;
        Ok(entry.is_fresh())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.inner.invalidate(key).await;
        self.pinned.invalidate(key).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_expire_and_counters_count() {
        let c = MemoryCache::default();
        c.set("a", b"1".to_vec(), Duration::from_millis(50))
            .await
            .unwrap();
        assert_eq!(c.get("a").await.unwrap(), Some(b"1".to_vec()));
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(c.get("a").await.unwrap(), None);

        for expected in 1..=3 {
            assert_eq!(
                c.incr("n", 1, Duration::from_millis(100)).await.unwrap(),
                expected
            );
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert_eq!(c.incr("n", 1, Duration::from_millis(100)).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_lock_is_taken_once_until_released_or_expired() {
        let c = MemoryCache::default();
        let ttl = Duration::from_millis(100);
        assert!(c.set_if_absent("l", b"1".to_vec(), ttl).await.unwrap());
        assert!(!c.set_if_absent("l", b"1".to_vec(), ttl).await.unwrap());
        c.delete("l").await.unwrap();
        assert!(c.set_if_absent("l", b"1".to_vec(), ttl).await.unwrap());
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(c.set_if_absent("l", b"1".to_vec(), ttl).await.unwrap());
    }

    #[tokio::test]
    async fn pinned_entries_survive_a_full_cache_until_their_ttl() {
        let c = MemoryCache::new(10);
        c.set_pinned("revoked", b"1".to_vec(), Duration::from_millis(300))
            .await
            .unwrap();
        for i in 0..1000 {
            c.set(&format!("k{i}"), b"x".to_vec(), Duration::from_secs(60))
                .await
                .unwrap();
        }
        c.inner.run_pending_tasks().await;
        let got = c
            .get_many(&["revoked".to_string(), "missing".to_string()])
            .await
            .unwrap();
        assert_eq!(got, vec![Some(b"1".to_vec()), None]);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(c.get("revoked").await.unwrap(), None);
    }
}
