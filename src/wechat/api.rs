//! WeChat's mini-program server API (`api.weixin.qq.com`): the access_token
//! every call carries, and the calls themselves.
//!
//! Invariants:
//! - The access_token comes from the stable-token endpoint
//!   (`POST /cgi-bin/stable_token`, without `force_refresh`), which hands
//!   every caller the same token while it is valid, so instances that miss
//!   the cache at once cannot invalidate each other's token.
//! - It is kept in the shared cache with its expiry and fetched again
//!   [`REFRESH_MARGIN`] before it expires, by one instance at a time (a lock
//!   in the shared cache); the others keep using the cached one meanwhile.
//! - A call answered 40001/42001/40014 (token invalid, expired, malformed)
//!   drops the cached token if it is still the one refused, fetches again
//!   and is retried once.
//! - The token is never logged, returned or put into an error: reqwest's
//!   error text holds the URL (and the token in its query), so errors are
//!   reduced to their kind before anything shows them.
//! - Every call has the client's time-out; failures are counted per
//!   purpose in `/metrics` (`siyu_wechat_api_errors_total`).
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{cache::Cache, cache::keys, config::WechatSettings};

/// A token is fetched again when it has less than this left.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// How long an instance may hold the fetch lock (longer than one call).
const LOCK_TTL: Duration = Duration::from_secs(15);

/// How long an instance without a usable token waits for the one fetching it.
const WAIT_FOR_FETCH: Duration = Duration::from_secs(3);

/// errcodes that mean "this access_token is no good".
const TOKEN_REFUSED: [i64; 3] = [40001, 42001, 40014];

/// What went wrong with a call; never holds the token.
#[derive(Debug, thiserror::Error)]
pub enum WechatApiError {
    /// No answer, a time-out, an HTTP error or an answer that is not JSON:
    /// worth trying again later.
    #[error("WeChat API {purpose}: {detail}")]
    Transient {
        purpose: &'static str,
        detail: String,
    },
    /// WeChat answered with an errcode.
    #[error("WeChat API {purpose} refused: errcode {errcode} ({errmsg})")]
    Refused {
        purpose: &'static str,
        errcode: i64,
        errmsg: String,
    },
}

impl WechatApiError {
    /// The errcode WeChat answered, if it answered one.
    pub fn errcode(&self) -> Option<i64> {
        match self {
            WechatApiError::Refused { errcode, .. } => Some(*errcode),
            WechatApiError::Transient { .. } => None,
        }
    }

    /// Worth trying again later: no answer, or WeChat busy (-1) or rate
    /// limiting (45009, 45011).
    pub fn is_transient(&self) -> bool {
        match self {
            WechatApiError::Transient { .. } => true,
            WechatApiError::Refused { errcode, .. } => matches!(errcode, -1 | 45009 | 45011),
        }
    }
}

/// The token as the cache keeps it.
#[derive(Serialize, Deserialize)]
struct CachedToken {
    token: String,
    /// Unix milliseconds.
    expires_at_ms: i64,
}

/// The mini-program's server API client.
pub struct WechatApi {
    http: reqwest::Client,
    settings: WechatSettings,
    cache: Cache,
}

/// What came back: JSON, or bytes of another type (an image).
pub enum Answer {
    Json(Value),
    Bytes { content_type: String, body: Vec<u8> },
}

impl WechatApi {
    pub fn new(http: reqwest::Client, settings: WechatSettings, cache: Cache) -> Self {
        Self {
            http,
            settings,
            cache,
        }
    }

    pub fn appid(&self) -> &str {
        &self.settings.appid
    }

    /// POSTs `body` to `path` with the access_token; the JSON answer when its
    /// errcode is 0 (or absent).
    pub async fn post_json(
        &self,
        purpose: &'static str,
        path: &str,
        body: &Value,
    ) -> Result<Value, WechatApiError> {
        match self.post(purpose, path, body).await? {
            Answer::Json(v) => Ok(v),
            Answer::Bytes { .. } => {
                crate::metrics::count_wechat_error(purpose, "answer");
                Err(WechatApiError::Transient {
                    purpose,
                    detail: "answered something that is not JSON".into(),
                })
            }
        }
    }

    /// POSTs `body` to `path` with the access_token; JSON answers with an
    /// errcode other than 0 are errors, other content (an image) is returned.
    pub async fn post(
        &self,
        purpose: &'static str,
        path: &str,
        body: &Value,
    ) -> Result<Answer, WechatApiError> {
        let token = self.token().await?;
        match self.post_once(purpose, path, body, &token).await {
            Err(e) if e.errcode().is_some_and(|c| TOKEN_REFUSED.contains(&c)) => {
                tracing::info!(
                    purpose,
                    errcode = e.errcode(),
                    "WeChat refused the access_token; fetching it again"
                );
                self.forget(&token).await;
                let token = self.token().await?;
                self.post_once(purpose, path, body, &token).await
            }
            other => other,
        }
    }

    async fn post_once(
        &self,
        purpose: &'static str,
        path: &str,
        body: &Value,
        token: &str,
    ) -> Result<Answer, WechatApiError> {
        crate::metrics::count_wechat_call(purpose);
        let url = format!("{}{path}", self.settings.api_base);
        let response = self
            .http
            .post(&url)
            .query(&[("access_token", token)])
            .json(body)
            .send()
            .await
            .map_err(|e| transport_error(purpose, &e))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error(purpose, &e))?;
        if !status.is_success() {
            crate::metrics::count_wechat_error(purpose, "http");
            return Err(WechatApiError::Transient {
                purpose,
                detail: format!("HTTP {status}"),
            });
        }
        // WeChat answers JSON as text/plain, and images as image/*.
        if content_type.starts_with("image/") {
            return Ok(Answer::Bytes {
                content_type,
                body: bytes.to_vec(),
            });
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| {
            crate::metrics::count_wechat_error(purpose, "answer");
            WechatApiError::Transient {
                purpose,
                detail: "answered something that is not JSON".into(),
            }
        })?;
        refused(purpose, &v)?;
        Ok(Answer::Json(v))
    }

    /// A valid access_token: the cached one, or a new one from the
    /// stable-token endpoint (see the module doc).
    pub async fn token(&self) -> Result<String, WechatApiError> {
        let key = keys::wechat_access_token(&self.settings.appid);
        let now_ms = Utc::now().timestamp_millis();
        let cached = self.cached(&key).await;
        if let Some(c) = &cached
            && c.expires_at_ms - now_ms > REFRESH_MARGIN.as_millis() as i64
        {
            return Ok(c.token.clone());
        }
        let lock = keys::wechat_access_token_lock(&self.settings.appid);
        match self.cache.try_lock(&lock, LOCK_TTL).await {
            Some(true) => {
                let result = self.fetch_and_store(&key).await;
                self.cache.remove(&lock).await;
                result
            }
            // The cache cannot lock: fetch unlocked (stable_token gives
            // every caller the same token, so this is safe, only wasteful).
            None => self.fetch_and_store(&key).await,
            Some(false) => {
                // Another instance is fetching. A token that has not yet
                // expired still works meanwhile.
                if let Some(c) = cached.filter(|c| c.expires_at_ms > now_ms) {
                    return Ok(c.token);
                }
                let deadline = tokio::time::Instant::now() + WAIT_FOR_FETCH;
                while tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    if let Some(c) = self.cached(&key).await
                        && c.expires_at_ms > Utc::now().timestamp_millis()
                    {
                        return Ok(c.token);
                    }
                }
                crate::metrics::count_wechat_error("stable_token", "lock");
                Err(WechatApiError::Transient {
                    purpose: "stable_token",
                    detail: "another instance is fetching the access_token; try again".into(),
                })
            }
        }
    }

    async fn cached(&self, key: &str) -> Option<CachedToken> {
        self.cache
            .get_bytes(key)
            .await
            .and_then(|b| serde_json::from_slice(&b).ok())
    }

    /// Drops the cached token if it is still `refused` (another instance
    /// may have replaced it already).
    async fn forget(&self, refused: &str) {
        let key = keys::wechat_access_token(&self.settings.appid);
        if self.cached(&key).await.is_some_and(|c| c.token == refused) {
            self.cache.remove(&key).await;
        }
    }

    async fn fetch_and_store(&self, key: &str) -> Result<String, WechatApiError> {
        // Another instance may have stored a fresh one while we waited for the lock.
        if let Some(c) = self.cached(key).await
            && c.expires_at_ms - Utc::now().timestamp_millis() > REFRESH_MARGIN.as_millis() as i64
        {
            return Ok(c.token);
        }
        let purpose = "stable_token";
        crate::metrics::count_wechat_call(purpose);
        let url = format!("{}/cgi-bin/stable_token", self.settings.api_base);
        let response = self
            .http
            .post(&url)
            .json(&json!({
                "grant_type": "client_credential",
                "appid": self.settings.appid,
                "secret": self.settings.secret.expose(),
                "force_refresh": false,
            }))
            .send()
            .await
            .map_err(|e| transport_error(purpose, &e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error(purpose, &e))?;
        if !status.is_success() {
            crate::metrics::count_wechat_error(purpose, "http");
            return Err(WechatApiError::Transient {
                purpose,
                detail: format!("HTTP {status}"),
            });
        }
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| {
            crate::metrics::count_wechat_error(purpose, "answer");
            WechatApiError::Transient {
                purpose,
                detail: "answered something that is not JSON".into(),
            }
        })?;
        refused(purpose, &v)?;
        let (Some(token), Some(expires_in)) = (
            v["access_token"].as_str().filter(|t| !t.is_empty()),
            v["expires_in"].as_i64().filter(|s| *s > 0),
        ) else {
            crate::metrics::count_wechat_error(purpose, "answer");
            return Err(WechatApiError::Transient {
                purpose,
                detail: "answered no access_token".into(),
            });
        };
        let expires_at_ms = Utc::now().timestamp_millis() + expires_in * 1000;
        let stored = serde_json::to_vec(&CachedToken {
            token: token.to_string(),
            expires_at_ms,
        })
        .unwrap_or_default();
        self.cache
            .set_bytes(key, stored, Duration::from_secs(expires_in as u64))
            .await;
        tracing::info!(expires_in, "fetched a WeChat access_token");
        Ok(token.to_string())
    }
}

/// A JSON answer's errcode as an error (0 or absent is success).
fn refused(purpose: &'static str, v: &Value) -> Result<(), WechatApiError> {
    match v["errcode"].as_i64().filter(|c| *c != 0) {
        None => Ok(()),
        Some(errcode) => {
            crate::metrics::count_wechat_error(purpose, "errcode");
            let errmsg: String = v["errmsg"]
                .as_str()
                .unwrap_or_default()
                .chars()
                .take(200)
                .collect();
            tracing::warn!(purpose, errcode, errmsg = %errmsg, "WeChat API refused a call");
            Err(WechatApiError::Refused {
                purpose,
                errcode,
                errmsg,
            })
        }
    }
}

/// A transport failure, reduced to its kind: the error's own text holds
/// the URL and with it the access_token or the app secret.
fn transport_error(purpose: &'static str, e: &reqwest::Error) -> WechatApiError {
    let kind = if e.is_timeout() {
        "timeout"
    } else {
        "unreachable"
    };
    crate::metrics::count_wechat_error(purpose, kind);
    tracing::warn!(purpose, kind, "WeChat API call failed");
    WechatApiError::Transient {
        purpose,
        detail: if kind == "timeout" {
            "timed out".into()
        } else {
            "unreachable".into()
        },
    }
}
