//! The cache: Redis when `REDIS_URL` is set, an in-process cache otherwise,
//! behind one trait ([`CacheBackend`]).
//!
//! Invariants:
//! - The cache never fails a request. A backend error or time-out is logged,
//!   counted in `/metrics` (`siyu_cache_errors_total`), and the caller falls
//!   back to the database; after a failure the backend is skipped for a short
//!   while so that a dead Redis costs one time-out, not one per request.
//! - Every key goes through [`keys`], which adds the deployment prefix and a
//!   schema version, so a deploy that changes a cached shape never reads old bytes.
//! - No in-process layer sits in front of Redis but the catalogue
//!   generation ([`generation`]), followed through Redis pub/sub with a
//!   bounded staleness, what is kept per generation
//!   ([`Cache::catalogue_memo`]), and rate-limit counts reported in batches
//!   ([`counter`], with a bounded overshoot): several instances share one
//!   Redis, and an edit through one instance is seen by all on the next
//!   read (within those bounds).
mod counter;
mod memory;
mod redis_backend;

pub mod generation;
pub mod keys;

use std::{
    any::Any,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use async_trait::async_trait;
use serde::{Serialize, de::DeserializeOwned};

use crate::error::{AppError, AppResult};

pub use memory::MemoryCache;
pub use redis_backend::RedisCache;

/// A failed cache operation (already logged by the caller of the backend).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CacheError(pub String);

/// What a cache store must do. Keys arrive fully built (prefix included).
#[async_trait]
pub trait CacheBackend: Send + Sync + 'static {
    /// `redis` or `memory`, for logs, metrics and `/readyz`.
    fn kind(&self) -> &'static str;
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    /// Several keys in one round trip, in order.
    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError>;
    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError>;
    /// Stores a value that must live its whole TTL (a revocation): a store
    /// that evicts under memory pressure keeps it out of reach of eviction.
    /// Redis keeps every key alike (see README: it must not evict them).
    async fn set_pinned(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        self.set(key, value, ttl).await
    }
    /// Deletes `keys` and adds one to the counter `generation` (as [`incr`]
    /// does), in one round trip where the store allows, and returns the new
    /// value; a store shared by instances also publishes it on a channel
    /// named `generation` (see [`generation`](crate::cache::generation)).
    /// Every invalidation does this.
    ///
    /// [`incr`]: CacheBackend::incr
    async fn delete_and_bump(
        &self,
        keys: &[String],
        generation: &str,
        window: Duration,
    ) -> Result<i64, CacheError>;
    /// Adds `by` to a counter that starts at zero and disappears `window`
    /// after its first increment (a fixed window, for rate limits); returns
    /// the new count.
    async fn incr(&self, key: &str, by: i64, window: Duration) -> Result<i64, CacheError>;
    async fn ping(&self) -> Result<(), CacheError>;
    /// Stores `value` only when `key` holds nothing (a lock between
    /// instances); true when this call stored it.
    async fn set_if_absent(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, CacheError>;
    /// Removes one key.
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
}

/// The application's handle on the cache: swallows failures (see module doc).
#[derive(Clone)]
pub struct Cache {
    backend: Arc<dyn CacheBackend>,
    prefix: Arc<str>,
    /// Milliseconds since `epoch` until which the backend is skipped after a failure.
    skip_until_ms: Arc<AtomicU64>,
    epoch: Instant,
    /// Loads in flight in this instance, by logical key (single-flight).
    flights: moka::future::Cache<String, Arc<Vec<u8>>>,
    /// The catalogue generation followed in process (Redis only; see
    /// [`generation`]).
    local_generation: Option<Arc<generation::LocalGeneration>>,
    /// Values derived from the catalogue, by generation and logical key,
    /// each with its approximate size in bytes.
    memo: moka::future::Cache<String, (Arc<dyn Any + Send + Sync>, u32)>,
    /// Windowed counters reported to a shared backend in batches (Redis
    /// only; see [`counter`]).
    counters: Option<Arc<counter::Counters>>,
}

/// The generation counter restarts after this; response-cache entries live
/// far shorter, so a restarted counter never meets an entry of its old life.
const GENERATION_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// A value kept per catalogue generation is dropped after this even if the
/// generation has not moved (bounds memory, not freshness).
const MEMO_TTL: Duration = Duration::from_secs(60);

/// What is kept per catalogue generation weighs at most this much in all
/// (pages of products are tens of kilobytes each; a count a few dozen bytes).
const MEMO_MAX_BYTES: u64 = 8 << 20;

/// The size a memoised value is taken to have when its caller does not say.
const MEMO_SMALL_VALUE: usize = 256;

/// How long a failed backend is left alone before it is tried again.
const BACKOFF_AFTER_FAILURE: Duration = Duration::from_secs(1);

impl Cache {
    pub fn new(backend: Arc<dyn CacheBackend>, prefix: &str) -> Self {
        Self {
            backend,
            prefix: Arc::from(prefix),
            skip_until_ms: Arc::new(AtomicU64::new(0)),
            epoch: Instant::now(),
            flights: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(5))
                .build(),
            local_generation: None,
            memo: moka::future::Cache::builder()
                .max_capacity(MEMO_MAX_BYTES)
                .weigher(|k: &String, v: &(Arc<dyn Any + Send + Sync>, u32)| {
                    u32::try_from(k.len())
                        .unwrap_or(u32::MAX)
                        .saturating_add(v.1)
                })
                .time_to_live(MEMO_TTL)
                .build(),
            counters: None,
        }
    }

    /// Counts rate-limit hits in process and reports them to the backend in
    /// batches ([`counter`]); for a backend shared by instances, where each
    /// report is a network round trip.
    pub fn batch_counters(mut self, window: Duration) -> Self {
        self.counters = Some(Arc::new(counter::Counters::new(window)));
        self
    }

    /// Follows the catalogue generation through Redis pub/sub (`client`
    /// reaches the Redis of the backend), so reading it costs no round trip.
    /// Needs a Tokio runtime; the feed stops when every clone of this cache
    /// is gone.
    pub fn follow_generation(mut self, client: redis::Client) -> Self {
        let local = Arc::new(generation::LocalGeneration::default());
        generation::spawn_feed(
            client,
            self.key(keys::CATALOGUE_GENERATION),
            self.backend.clone(),
            Arc::downgrade(&local),
        );
        self.local_generation = Some(local);
        self
    }

    pub fn kind(&self) -> &'static str {
        self.backend.kind()
    }

    /// The full key for a logical key (see [`keys`]).
    pub fn key(&self, logical: &str) -> String {
        keys::full(&self.prefix, logical)
    }

    fn skipping(&self) -> bool {
        (self.epoch.elapsed().as_millis() as u64) < self.skip_until_ms.load(Ordering::Relaxed)
    }

    fn failed(&self, op: &'static str, err: CacheError) {
        tracing::warn!(backend = self.kind(), op, error = %err, "cache unavailable; using the database");
        crate::metrics::count_cache_error(self.kind(), op);
        let until = self.epoch.elapsed() + BACKOFF_AFTER_FAILURE;
        self.skip_until_ms
            .store(until.as_millis() as u64, Ordering::Relaxed);
    }

    /// Raw bytes under a logical key; `None` on a miss or a cache failure.
    pub async fn get_bytes(&self, logical: &str) -> Option<Vec<u8>> {
        if self.skipping() {
            return None;
        }
        match self.backend.get(&self.key(logical)).await {
            Ok(v) => v,
            Err(e) => {
                self.failed("get", e);
                None
            }
        }
    }

    /// Several logical keys at once; misses and failures are `None`.
    pub async fn get_many_bytes(&self, logical: &[String]) -> Vec<Option<Vec<u8>>> {
        if self.skipping() || logical.is_empty() {
            return vec![None; logical.len()];
        }
        let full: Vec<String> = logical.iter().map(|k| self.key(k)).collect();
        match self.backend.get_many(&full).await {
            Ok(v) if v.len() == logical.len() => v,
            Ok(_) => vec![None; logical.len()],
            Err(e) => {
                self.failed("get_many", e);
                vec![None; logical.len()]
            }
        }
    }

    /// Cache-aside read: the cached value, or `load()` stored for `ttl`.
    /// Concurrent misses of one key in this instance run `load` once and
    /// share its result (single-flight); errors are not cached.
    pub async fn get_or_load<T, Fut>(
        &self,
        logical: &str,
        ttl: Duration,
        load: impl FnOnce() -> Fut,
    ) -> AppResult<T>
    where
        T: Serialize + DeserializeOwned,
        Fut: Future<Output = AppResult<T>>,
    {
        if let Some(hit) = self
            .get_bytes(logical)
            .await
            .and_then(|b| serde_json::from_slice(&b).ok())
        {
            return Ok(hit);
        }
        let bytes = self
            .single_flight(logical, || async {
                // A caller whose read missed just before another flight stored
                // the value finds it here instead of loading again.
                if let Some(bytes) = self.get_bytes(logical).await {
                    return Ok(bytes);
                }
                let value = load().await?;
                let bytes = serde_json::to_vec(&value).map_err(AppError::internal)?;
                self.set_bytes(logical, bytes.clone(), ttl).await;
                Ok(bytes)
            })
            .await?;
        serde_json::from_slice(&bytes).map_err(AppError::internal)
    }

    /// Runs `load` once among concurrent callers with the same `flight` key
    /// in this instance, and shares its result; stores nothing.
    pub async fn single_flight<Fut>(
        &self,
        flight: &str,
        load: impl FnOnce() -> Fut,
    ) -> AppResult<Arc<Vec<u8>>>
    where
        Fut: Future<Output = AppResult<Vec<u8>>>,
    {
        let key = flight.to_string();
        let result = self
            .flights
            .try_get_with(key.clone(), async { load().await.map(Arc::new) })
            .await;
        // The flight is over: the next miss must load again, not reuse this.
        self.flights.invalidate(&key).await;
        result.map_err(AppError::from)
    }

    pub async fn set_bytes(&self, logical: &str, value: Vec<u8>, ttl: Duration) {
        if self.skipping() {
            return;
        }
        if let Err(e) = self.backend.set(&self.key(logical), value, ttl).await {
            self.failed("set", e);
        }
    }

    /// Stores a value that must live its whole TTL and be seen by every
    /// instance (revoked sessions). Unlike every other write it is tried
    /// even while the backend is being skipped after a failure, and a
    /// failure is returned, not swallowed: the caller must not report
    /// success for something that did not happen.
    pub async fn pin(
        &self,
        logical: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        match self
            .backend
            .set_pinned(&self.key(logical), value, ttl)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => {
                let shown = CacheError(e.0.clone());
                self.failed("set", e);
                Err(shown)
            }
        }
    }

    /// Removes keys after a commit. A failure here is logged; the entries then
    /// live at most their TTL, which is why every entry has a short one.
    pub async fn invalidate(&self, logical: &[String]) {
        let full: Vec<String> = logical.iter().map(|k| self.key(k)).collect();
        if full.is_empty() {
            return;
        }
        for k in logical {
            self.flights.invalidate(k).await;
        }
        // Whole responses cached by any instance are tied to the generation.
        match self
            .backend
            .delete_and_bump(
                &full,
                &self.key(keys::CATALOGUE_GENERATION),
                GENERATION_LIFETIME,
            )
            .await
        {
            // This instance sees its own edit at once, not when the
            // message comes back.
            Ok(n) => {
                if let Some(local) = &self.local_generation {
                    local.counted(n);
                }
            }
            Err(e) => {
                // The other instances may not learn of this edit: this one
                // at least stops trusting what it holds.
                if let Some(local) = &self.local_generation {
                    local.lost();
                }
                self.failed("delete", e);
            }
        }
    }

    /// The catalogue generation (bumped by every invalidation); `None` when
    /// the cache cannot say, and then nothing may be served from a response cache.
    ///
    /// With Redis, the value followed in process while it is confirmed (no
    /// round trip; see [`generation`]), else read from Redis.
    pub async fn catalogue_generation(&self) -> Option<i64> {
        let Some(local) = &self.local_generation else {
            return self.read_generation().await;
        };
        if let Some(n) = local.current() {
            return Some(n);
        }
        if self.skipping() {
            return None;
        }
        // Unconfirmed: one read in flight at a time, shared by the requests
        // that arrive meanwhile. Each request reading on its own sent a
        // saturated machine's whole load to Redis at once, and timed it out.
        // A flight is joined only by requests that came after the last value
        // this instance counted (its own edits among them): an edit through
        // this instance is never hidden from its next request, and one
        // through another is missed by at most one round trip, far inside
        // the bound of a confirmed value.
        let flight = format!("catalogue-generation@{}", local.counted_so_far());
        let read = self
            .single_flight(&flight, || async {
                self.read_generation()
                    .await
                    .map(|n| n.to_string().into_bytes())
                    .ok_or_else(|| AppError::internal(anyhow::anyhow!("no generation")))
            })
            .await;
        read.ok().map(|bytes| generation::parse(Some(&bytes)))
    }

    /// The generation counter as the backend holds it.
    async fn read_generation(&self) -> Option<i64> {
        if self.skipping() {
            return None;
        }
        match self
            .backend
            .get(&self.key(keys::CATALOGUE_GENERATION))
            .await
        {
            Ok(bytes) => Some(generation::parse(bytes.as_deref())),
            Err(e) => {
                self.failed("get", e);
                None
            }
        }
    }

    /// A value derived from the catalogue (a count, the category tree),
    /// kept in this process until the catalogue generation moves: `load`
    /// runs once per generation and key among concurrent callers. The
    /// generation is read before loading, so a value loaded during an edit
    /// is filed under the older one and not reused after it. When the
    /// generation cannot be known, `load` runs every time.
    pub async fn catalogue_memo<T, Fut>(
        &self,
        logical: &str,
        load: impl FnOnce() -> Fut,
    ) -> AppResult<T>
    where
        T: Clone + Send + Sync + 'static,
        Fut: Future<Output = AppResult<T>>,
    {
        self.catalogue_memo_sized(logical, |_| MEMO_SMALL_VALUE, load)
            .await
    }

    /// [`Cache::catalogue_memo`] for a value whose size (`size`, in bytes,
    /// roughly) counts against the memo's bound, like a page of products.
    pub async fn catalogue_memo_sized<T, Fut>(
        &self,
        logical: &str,
        size: impl FnOnce(&T) -> usize,
        load: impl FnOnce() -> Fut,
    ) -> AppResult<T>
    where
        T: Clone + Send + Sync + 'static,
        Fut: Future<Output = AppResult<T>>,
    {
        let Some(generation) = self.catalogue_generation().await else {
            return load().await;
        };
        let (held, _) = self
            .memo
            .try_get_with(format!("{generation}:{logical}"), async {
                load().await.map(|v| {
                    let weight = u32::try_from(size(&v)).unwrap_or(u32::MAX);
                    (Arc::new(v) as Arc<dyn Any + Send + Sync>, weight)
                })
            })
            .await
            .map_err(AppError::from)?;
        held.downcast_ref::<T>().cloned().ok_or_else(|| {
            AppError::internal(anyhow::anyhow!("{logical} is memoised with two types"))
        })
    }

    /// Counts one hit in a fixed window and returns the count (an estimate
    /// within [`counter`]'s bound when counters are batched; `limit` sets
    /// how often they report); `None` when the cache is unavailable
    /// (callers fail open: a dead cache must not lock everybody out).
    pub async fn hit(&self, logical: &str, window: Duration, limit: i64) -> Option<i64> {
        if self.skipping() {
            return None;
        }
        let Some(counters) = &self.counters else {
            return self.incr(logical, 1, window).await;
        };
        match counters.hit(logical, limit) {
            counter::Hit::Counted(n) => Some(n),
            counter::Hit::Report(report) => {
                let count = self.incr(logical, report.hits, window).await;
                counter::Counters::reported(report, count)
            }
            counter::Hit::Background(n, report) => {
                let (backend, key) = (self.backend.clone(), self.key(logical));
                tokio::spawn(async move {
                    // Nobody waits for this report: a slow or failed answer
                    // costs its hits (given up), and is no reason to stop
                    // using the cache for a second for every request, as a
                    // failure on a request's path does. Under saturation
                    // Redis can miss the 100 ms bound while it works.
                    let count = match backend.incr(&key, report.hits, window).await {
                        Ok(n) => Some(n),
                        Err(e) => {
                            tracing::debug!(error = %e, "a background rate-limit report got no answer");
                            crate::metrics::count_cache_error(backend.kind(), "incr");
                            None
                        }
                    };
                    counter::Counters::reported(report, count);
                });
                Some(n)
            }
        }
    }

    async fn incr(&self, logical: &str, by: i64, window: Duration) -> Option<i64> {
        match self.backend.incr(&self.key(logical), by, window).await {
            Ok(n) => Some(n),
            Err(e) => {
                self.failed("incr", e);
                None
            }
        }
    }

    /// Takes a lock shared by every instance for at most `ttl`: `Some(true)`
    /// when this call holds it, `Some(false)` when another does, `None` when
    /// the cache cannot say (callers then go ahead unlocked: a dead cache
    /// must not stop the work the lock only spreads).
    pub async fn try_lock(&self, logical: &str, ttl: Duration) -> Option<bool> {
        if self.skipping() {
            return None;
        }
        match self
            .backend
            .set_if_absent(&self.key(logical), b"1".to_vec(), ttl)
            .await
        {
            Ok(taken) => Some(taken),
            Err(e) => {
                self.failed("lock", e);
                None
            }
        }
    }

    /// Removes one key (a lock let go, a value known to be stale); a
    /// failure is logged and the key lives out its TTL.
    pub async fn remove(&self, logical: &str) {
        if let Err(e) = self.backend.delete(&self.key(logical)).await {
            self.failed("delete", e);
        }
    }

    /// For `/readyz`: reachable or not, without the back-off.
    pub async fn ping(&self) -> Result<(), CacheError> {
        self.backend.ping().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// The memory store, with reads that take a while and are counted.
    struct SlowReads {
        inner: MemoryCache,
        gets: AtomicUsize,
    }

    #[async_trait]
    impl CacheBackend for SlowReads {
        fn kind(&self) -> &'static str {
            "redis"
        }
        async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
            self.gets.fetch_add(1, Ordering::SeqCst);
            // The value as it was when asked, answered later (a round trip).
            let value = self.inner.get(key).await;
            tokio::time::sleep(Duration::from_millis(50)).await;
            value
        }
        async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
            self.inner.get_many(keys).await
        }
        async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
            self.inner.set(key, value, ttl).await
        }
        async fn delete_and_bump(
            &self,
            keys: &[String],
            generation: &str,
            window: Duration,
        ) -> Result<i64, CacheError> {
            self.inner.delete_and_bump(keys, generation, window).await
        }
        async fn incr(&self, key: &str, by: i64, window: Duration) -> Result<i64, CacheError> {
            self.inner.incr(key, by, window).await
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
            self.inner.set_if_absent(key, value, ttl).await
        }
        async fn delete(&self, key: &str) -> Result<(), CacheError> {
            self.inner.delete(key).await
        }
    }

    /// A cache whose followed generation is not confirmed (its subscription
    /// is down), so every request has to ask the store.
    fn unconfirmed() -> (Cache, Arc<SlowReads>) {
        let backend = Arc::new(SlowReads {
            inner: MemoryCache::new(1000),
            gets: AtomicUsize::new(0),
        });
        let mut cache = Cache::new(backend.clone(), "t:");
        cache.local_generation = Some(Arc::new(generation::LocalGeneration::default()));
        (cache, backend)
    }

    #[tokio::test]
    async fn requests_waiting_for_an_unconfirmed_generation_share_one_read() {
        let (cache, backend) = unconfirmed();
        let answers =
            futures_util::future::join_all((0..50).map(|_| cache.catalogue_generation())).await;
        assert!(answers.iter().all(|a| *a == Some(0)), "{answers:?}");
        assert_eq!(backend.gets.load(Ordering::SeqCst), 1);
        // The flight is over: the next request reads again.
        assert_eq!(cache.catalogue_generation().await, Some(0));
        assert_eq!(backend.gets.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_request_after_an_own_edit_does_not_join_a_read_from_before_it() {
        let (cache, backend) = unconfirmed();
        let cache = Arc::new(cache);
        let before = tokio::spawn({
            let cache = cache.clone();
            async move { cache.catalogue_generation().await }
        });
        // The first read is in flight when the edit lands.
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(backend.gets.load(Ordering::SeqCst), 1);
        cache.invalidate(&["product:1".to_string()]).await;
        assert_eq!(cache.catalogue_generation().await, Some(1));
        assert_eq!(backend.gets.load(Ordering::SeqCst), 2);
        assert_eq!(before.await.unwrap(), Some(0));
    }
}
