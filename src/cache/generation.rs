//! The catalogue generation kept in this process, followed through Redis
//! pub/sub, so that a cached answer costs no round trip to learn whether
//! it is still current.
//!
//! Every catalogue invalidation runs one script in Redis that deletes the
//! keys, counts the generation up and publishes the new value on a channel
//! named like the counter's key: values are published in the order they
//! were counted. Each instance subscribes ([`spawn_feed`]) and keeps the
//! newest value in an atomic ([`LocalGeneration`]); its own bumps are taken
//! at once from the script's answer.
//!
//! Staleness bound: the value is used only while it is *confirmed*: a
//! message arrived, or the subscription answered a PING and the counter was
//! read again, within the last [`STALE_AFTER`] (1,000 ms). Both happen every
//! [`REFRESH_EVERY`] (250 ms) on a live subscription. An edit through
//! another instance is therefore seen as soon as Redis delivers its message
//! (well under a millisecond on one machine or a LAN), and never later than
//! 1 s even if the subscription dies without a word (a half-open TCP
//! connection): after that the value is no longer confirmed and requests
//! read the counter from Redis again (one read in flight at a time, shared
//! by the requests that arrive while it is; see `Cache::catalogue_generation`),
//! until a new subscription is up and has read the counter once. A dropped
//! subscription, or a PING or read answered with an error, stop the use of
//! the value at once; one that is only slow (a busy machine) leaves it in
//! use until its confirmation runs out, and after 1 s without an answer the
//! feed subscribes again.
use std::{
    sync::{
        Arc, Mutex, Weak,
        atomic::{AtomicI64, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::StreamExt;

use super::CacheBackend;

/// How often the subscription is pinged and the counter read again.
pub const REFRESH_EVERY: Duration = Duration::from_millis(250);
/// A value not confirmed for this long is not used.
pub const STALE_AFTER: Duration = Duration::from_millis(1000);
/// The pause before subscribing again after the subscription failed.
const RESUBSCRIBE_AFTER: Duration = Duration::from_millis(500);
/// Bound on each step of the feed (connect, subscribe, ping, read).
const STEP_TIMEOUT: Duration = Duration::from_millis(200);

/// The newest catalogue generation this instance knows, and until when it
/// may be trusted.
pub struct LocalGeneration {
    value: AtomicI64,
    /// Milliseconds since `epoch` until which `value` may be used.
    fresh_until_ms: AtomicU64,
    epoch: Instant,
    /// Serialises changes of `value` and counts those that came from Redis
    /// counting (messages, own bumps), so a read of the counter that raced
    /// one of them does not put an older value back.
    counted: Mutex<u64>,
}

impl Default for LocalGeneration {
    fn default() -> Self {
        Self {
            value: AtomicI64::new(0),
            fresh_until_ms: AtomicU64::new(0),
            epoch: Instant::now(),
            counted: Mutex::new(0),
        }
    }
}

impl LocalGeneration {
    fn now_ms(&self) -> u64 {
        self.epoch.elapsed().as_millis() as u64
    }

    /// The generation, when confirmed recently enough to be used.
    pub fn current(&self) -> Option<i64> {
        (self.now_ms() < self.fresh_until_ms.load(Ordering::Acquire))
            .then(|| self.value.load(Ordering::Acquire))
    }

    /// A value Redis counted (a message, or this instance's own bump).
    /// Messages arrive in counting order, but an own bump's answer may
    /// overtake an older message: only a newer value replaces the one held.
    pub fn counted(&self, n: i64) {
        let mut counted = self.counted.lock().unwrap_or_else(|e| e.into_inner());
        if n > self.value.load(Ordering::Acquire) {
            self.value.store(n, Ordering::Release);
            *counted += 1;
        }
    }

    fn confirm(&self) {
        let until = self.now_ms() + STALE_AFTER.as_millis() as u64;
        self.fresh_until_ms.store(until, Ordering::Release);
    }

    /// Stops the use of the value until it is confirmed again.
    pub fn lost(&self) {
        self.fresh_until_ms.store(0, Ordering::Release);
    }

    /// How many values Redis counted have been taken so far (changes with
    /// every edit seen, own or not).
    pub(crate) fn counted_so_far(&self) -> u64 {
        *self.counted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counter as read from Redis, asked after `before` counted values.
    /// It replaces the value even when smaller (the counter restarts when
    /// its key expires), unless a counted value arrived meanwhile.
    fn read(&self, before: u64, value: i64) {
        let counted = self.counted.lock().unwrap_or_else(|e| e.into_inner());
        if *counted == before {
            self.value.store(value, Ordering::Release);
        }
        drop(counted);
        self.confirm();
    }
}

/// Follows the generation published on `channel` (the counter's full key)
/// until every handle on `local` is gone, subscribing again after a failure.
pub fn spawn_feed(
    client: redis::Client,
    channel: String,
    backend: Arc<dyn CacheBackend>,
    local: Weak<LocalGeneration>,
) {
    tokio::spawn(async move {
        loop {
            let outcome = follow(&client, &channel, backend.as_ref(), &local).await;
            let Some(held) = local.upgrade() else {
                return;
            };
            held.lost();
            if let Err(e) = outcome {
                tracing::debug!(error = %e, "catalogue generation subscription lost; requests read Redis until it is back");
            }
            drop(held);
            tokio::time::sleep(RESUBSCRIBE_AFTER).await;
        }
    });
}

/// One step of the feed: `Ok(None)` when Redis did not answer in time.
async fn step<T, E: std::fmt::Display>(
    what: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<Option<T>, String> {
    match tokio::time::timeout(STEP_TIMEOUT, fut).await {
        Ok(Ok(v)) => Ok(Some(v)),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Ok(None),
    }
}

/// A step that must answer for the subscription to go on.
async fn required<T, E: std::fmt::Display>(
    what: &str,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, String> {
    step(what, fut)
        .await?
        .ok_or_else(|| format!("{what}: no answer within {STEP_TIMEOUT:?}"))
}

/// Ticks in a row without an answer after which the subscription is given
/// up and made again (the value went unconfirmed for [`STALE_AFTER`]).
const SILENT_TICKS: u32 = (STALE_AFTER.as_millis() / REFRESH_EVERY.as_millis()) as u32;

/// One subscription's life: returns when it fails, or `Ok` when the cache
/// it serves is gone.
async fn follow(
    client: &redis::Client,
    channel: &str,
    backend: &dyn CacheBackend,
    local: &Weak<LocalGeneration>,
) -> Result<(), String> {
    let pubsub = required("connect", client.get_async_pubsub()).await?;
    let (mut sink, mut stream) = pubsub.split();
    required("subscribe", sink.subscribe(channel)).await?;
    let mut silent = 0;
    // The first tick is immediate: the counter is read once the
    // subscription is up, so no bump falls between the two.
    let mut tick = tokio::time::interval(REFRESH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            msg = stream.next() => {
                let msg = msg.ok_or("the subscription closed")?;
                let Some(local) = local.upgrade() else { return Ok(()) };
                match msg.get_payload::<i64>() {
                    Ok(n) => {
                        local.counted(n);
                        local.confirm();
                    }
                    Err(e) => return Err(format!("message: {e}")),
                }
            }
            _ = tick.tick() => {
                let Some(local) = local.upgrade() else { return Ok(()) };
                // A slow answer is not a lost subscription: on a machine
                // this busy Redis may take longer than a step's bound, and
                // dropping the value at once sent every request to Redis
                // for the next half second. The value stays in use until
                // its confirmation runs out, as the bound says; only a
                // whole STALE_AFTER of silence makes the feed start over.
                let answered = match step("ping", sink.ping::<redis::Value>()).await? {
                    Some(_) => {
                        let before = local.counted_so_far();
                        step("read", backend.get(channel))
                            .await?
                            .map(|value| local.read(before, parse(value.as_deref())))
                    }
                    None => None,
                };
                if answered.is_some() {
                    silent = 0;
                } else {
                    silent += 1;
                    if silent >= SILENT_TICKS {
                        return Err(format!("no answer for {STALE_AFTER:?}"));
                    }
                }
            }
        }
    }
}

/// The counter's bytes as a number; a missing key is generation 0.
pub fn parse(bytes: Option<&[u8]>) -> i64 {
    bytes
        .and_then(|b| std::str::from_utf8(b).ok())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn used_only_while_confirmed() {
        let g = LocalGeneration::default();
        assert_eq!(g.current(), None, "nothing confirmed yet");
        g.read(0, 7);
        assert_eq!(g.current(), Some(7));
        g.lost();
        assert_eq!(g.current(), None);
    }

    #[test]
    fn an_older_value_never_replaces_a_newer_one() {
        let g = LocalGeneration::default();
        g.read(0, 5);
        g.counted(7);
        // An own bump's answer overtook the message of an earlier bump.
        g.counted(6);
        assert_eq!(g.current(), Some(7));
        // A read that started before the counted value arrived is dropped …
        g.read(0, 5);
        assert_eq!(g.current(), Some(7));
        // … one that started after replaces it, even with a smaller value
        // (the counter restarted).
        let before = g.counted_so_far();
        g.read(before, 1);
        assert_eq!(g.current(), Some(1));
    }
}
