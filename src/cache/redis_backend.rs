//! Redis, shared by every instance. Each call is bounded by a short time-out
//! so that a slow Redis degrades to the database instead of stalling requests.
use std::time::Duration;

use async_trait::async_trait;
use redis::{AsyncCommands, aio::ConnectionManager, aio::ConnectionManagerConfig};

use super::{CacheBackend, CacheError};

pub struct RedisCache {
    conn: ConnectionManager,
    op_timeout: Duration,
}

impl RedisCache {
    /// Connects lazily: the server starts even when Redis is unreachable.
    pub fn new(url: &str, op_timeout: Duration) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(op_timeout))
            .set_response_timeout(Some(op_timeout))
            .set_number_of_retries(1);
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Self { conn, op_timeout })
    }

    async fn run<T>(
        &self,
        fut: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, CacheError> {
        match tokio::time::timeout(self.op_timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(CacheError(format!("redis: {e}"))),
            Err(_) => Err(CacheError(format!(
                "redis: no answer within {:?}",
                self.op_timeout
            ))),
        }
    }
}

#[async_trait]
impl CacheBackend for RedisCache {
    fn kind(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut c = self.conn.clone();
        self.run(async move { c.get::<_, Option<Vec<u8>>>(key).await })
            .await
    }

    async fn get_many(&self, keys: &[String]) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let mut c = self.conn.clone();
        // MGET with one key returns a scalar in some client versions: always ask for a list.
        self.run(async move {
            redis::cmd("MGET")
                .arg(keys)
                .query_async::<Vec<Option<Vec<u8>>>>(&mut c)
                .await
        })
        .await
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        let mut c = self.conn.clone();
        let ms = ttl.as_millis().max(1) as u64;
        self.run(async move { c.pset_ex::<_, _, ()>(key, value, ms).await })
            .await
    }

    async fn delete_and_bump(
        &self,
        keys: &[String],
        generation: &str,
        window: Duration,
    ) -> Result<i64, CacheError> {
        let mut c = self.conn.clone();
        let ms = window.as_millis().max(1) as u64;
        let mut call = BUMP.key(generation);
        call.key(keys).arg(ms);
        self.run(async move { call.invoke_async::<i64>(&mut c).await })
            .await
    }

    async fn incr(&self, key: &str, by: i64, window: Duration) -> Result<i64, CacheError> {
        let mut c = self.conn.clone();
        let mut pipe = redis::pipe();
        pipe.atomic();
        counter_step(&mut pipe, key, by, window);
        self.run(async move { pipe.query_async::<(i64,)>(&mut c).await.map(|(n,)| n) })
            .await
    }

    async fn set_if_absent(
        &self,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let mut c = self.conn.clone();
        let ms = ttl.as_millis().max(1) as u64;
        self.run(async move {
            redis::cmd("SET")
                .arg(key)
                .arg(value)
                .arg("PX")
                .arg(ms)
                .arg("NX")
                .query_async::<Option<String>>(&mut c)
                .await
                .map(|reply| reply.is_some())
        })
        .await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let mut c = self.conn.clone();
        self.run(async move { c.del::<_, ()>(key).await }).await
    }

    async fn ping(&self) -> Result<(), CacheError> {
        let mut c = self.conn.clone();
        self.run(async move { redis::cmd("PING").query_async::<String>(&mut c).await })
            .await
            .map(|_| ())
    }
}

/// Deletes KEYS[2..], counts the generation KEYS[1] up (its window starts
/// once, as `counter_step` does) and publishes the new value on the channel
/// of the same name. One script, so values are published in counting order.
static BUMP: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
        for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
        redis.call('SET', KEYS[1], 0, 'PX', ARGV[1], 'NX')
        local n = redis.call('INCR', KEYS[1])
        redis.call('PUBLISH', KEYS[1], n)
        return n
        ",
    )
});

/// Adds a windowed counter's increment to an atomic pipeline: SET NX PX
/// starts the window once, INCR counts (its reply is the pipeline's one value).
fn counter_step(pipe: &mut redis::Pipeline, key: &str, by: i64, window: Duration) {
    let ms = window.as_millis().max(1) as u64;
    pipe.cmd("SET")
        .arg(key)
        .arg(0)
        .arg("PX")
        .arg(ms)
        .arg("NX")
        .ignore()
        .incr(key, by);
}
