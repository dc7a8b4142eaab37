//! WeChat Pay API v3, JSAPI (mini-program) payments: prepay, refunds and
//! payment notifications.
//!
//! Every request is signed with the merchant key (`WECHATPAY2-SHA256-RSA2048`)
//! and every answer we act on is verified with the WeChat Pay platform public
//! key, so a man in the middle can neither place orders in our name nor fake
//! a prepay, a refund or a payment. Keys never leave this module: `Debug` of
//! every type here hides them, and nothing logs them.
use aes_gcm::{
    Aes256Gcm,
    aead::{Aead, KeyInit, Payload},
};
use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use rand::{Rng, distr::Alphanumeric};
use rsa::{
    RsaPrivateKey, RsaPublicKey,
    pkcs1::{DecodeRsaPrivateKey, DecodeRsaPublicKey},
    pkcs1v15::{Signature, SigningKey, VerifyingKey},
    pkcs8::{DecodePrivateKey, DecodePublicKey},
    signature::{RandomizedSigner, SignatureEncoding, Verifier},
};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::json;
use sha2::Sha256;

/// The `Authorization` scheme of API v3 requests.
const AUTH_SCHEME: &str = "WECHATPAY2-SHA256-RSA2048";
/// How far a notification's timestamp may be from our clock (WeChat's advice).
const MAX_NOTIFICATION_SKEW_SECS: i64 = 300;
const USER_AGENT: &str = concat!("siyu/", env!("CARGO_PKG_VERSION"));

/// Merchant credentials and endpoints, as read from the environment.
#[derive(Clone)]
pub struct WechatPayConfig {
    /// The mini-program appid (`WECHAT_APPID`).
    pub appid: String,
    pub mchid: String,
    /// Serial number of the merchant API certificate.
    pub merchant_serial: String,
    /// Merchant RSA private key, PEM (PKCS#8 or PKCS#1).
    pub merchant_key_pem: String,
    /// The 32-byte API v3 key (AEAD key of notifications).
    pub apiv3_key: String,
    /// WeChat Pay platform public key, PEM (SPKI).
    pub platform_public_key_pem: String,
    /// Id of the platform public key, e.g. `PUB_KEY_ID_0114…`: the
    /// `Wechatpay-Serial` of every answer must equal it.
    pub platform_public_key_id: String,
    /// `https://api.mch.weixin.qq.com` in production; no trailing slash.
    pub api_base: String,
    /// Where WeChat Pay posts notifications.
    pub notify_url: String,
}

impl std::fmt::Debug for WechatPayConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPayConfig")
            .field("appid", &self.appid)
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("merchant_key_pem", &"***")
            .field("apiv3_key", &"***")
            .field("platform_public_key_id", &self.platform_public_key_id)
            .field("api_base", &self.api_base)
            .field("notify_url", &self.notify_url)
            .finish()
    }
}

/// A WeChat Pay API v3 client with its keys parsed once.
#[derive(Clone)]
pub struct WechatPay {
    appid: String,
    mchid: String,
    merchant_serial: String,
    platform_public_key_id: String,
    api_base: String,
    notify_url: String,
    merchant_key: SigningKey<Sha256>,
    platform_key: VerifyingKey<Sha256>,
    /// The same platform key, for encrypting sensitive fields (RSA-OAEP).
    platform_public: RsaPublicKey,
    aead: Aes256Gcm,
}

impl std::fmt::Debug for WechatPay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WechatPay")
            .field("appid", &self.appid)
            .field("mchid", &self.mchid)
            .field("merchant_serial", &self.merchant_serial)
            .field("platform_public_key_id", &self.platform_public_key_id)
            .field("api_base", &self.api_base)
            .finish_non_exhaustive()
    }
}

/// A JSAPI order to place.
#[derive(Clone, Debug)]
pub struct PrepayRequest {
    pub out_trade_no: String,
    pub description: String,
    pub amount_fen: i64,
    pub payer_openid: String,
    /// After this WeChat Pay refuses to take the payment.
    pub time_expire: DateTime<Utc>,
}

/// Arguments of `wx.requestPayment`; serializes with its camelCase names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsapiParams {
    pub app_id: String,
    pub time_stamp: String,
    pub nonce_str: String,
    pub package: String,
    pub sign_type: String,
    pub pay_sign: String,
}

/// A refund of (part of) a paid order.
#[derive(Clone, Debug)]
pub struct RefundRequest {
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub refund_fen: i64,
    pub total_fen: i64,
    pub reason: String,
}

/// What WeChat Pay said about a refund.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundResult {
    pub refund_id: String,
    /// As WeChat Pay says it: `SUCCESS`, `PROCESSING`, `CLOSED`, `ABNORMAL`.
    pub status: String,
}

/// The four `Wechatpay-*` headers of a notification.
#[derive(Clone, Debug, Default)]
pub struct NotificationHeaders {
    /// `Wechatpay-Timestamp`
    pub timestamp: String,
    /// `Wechatpay-Nonce`
    pub nonce: String,
    /// `Wechatpay-Signature`
    pub signature: String,
    /// `Wechatpay-Serial`
    pub serial: String,
}

impl NotificationHeaders {
    /// Reads the headers through `get` (a case-insensitive header lookup);
    /// `None` when one is missing.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Option<Self> {
        Some(Self {
            timestamp: get("Wechatpay-Timestamp")?,
            nonce: get("Wechatpay-Nonce")?,
            signature: get("Wechatpay-Signature")?,
            serial: get("Wechatpay-Serial")?,
        })
    }
}

/// A payment as a verified notification describes it.
///
/// The caller still checks `mchid`, `appid` and `total_fen` against its order:
/// the signature proves WeChat Pay sent it, not that it pays this order in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub appid: String,
    pub mchid: String,
    pub out_trade_no: String,
    pub transaction_id: String,
    /// `SUCCESS`, `REFUND`, `NOTPAY`, `CLOSED`, …
    pub trade_state: String,
    pub total_fen: i64,
    pub payer_openid: Option<String>,
    /// RFC 3339, as WeChat Pay writes it.
    pub success_time: Option<String>,
}

/// A notification whose signature held and whose resource decrypted.
#[derive(Clone, Debug)]
pub struct VerifiedNotification {
    pub id: String,
    /// `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`, `REFUND.ABNORMAL`, …
    pub event_type: String,
    /// The decrypted resource (a transaction, a refund, … by `event_type`).
    pub resource: serde_json::Value,
}

/// Why a call to WeChat Pay failed.
#[derive(Debug, thiserror::Error)]
pub enum PayError {
    #[error("WeChat Pay did not answer in time")]
    Timeout,
    #[error("WeChat Pay is unreachable")]
    Unreachable,
    #[error("WeChat Pay refused the request (HTTP {status}, {code}): {message}")]
    Rejected {
        status: u16,
        code: String,
        message: String,
    },
    /// The answer's signature did not verify: its content must not be used.
    #[error("WeChat Pay's answer failed signature verification")]
    BadSignature,
    #[error("unexpected answer from WeChat Pay: {0}")]
    Unexpected(String),
}

/// Why a notification was refused.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("notification signed with an unknown platform key")]
    WrongSerial,
    #[error("notification timestamp too far from now")]
    Stale,
    #[error("notification signature does not verify")]
    BadSignature,
    #[error("malformed notification: {0}")]
    Malformed(String),
    #[error("notification resource does not decrypt")]
    Decrypt,
}

/// Why a platform signature was refused.
enum SignatureFault {
    WrongSerial,
    BadSignature,
}

impl WechatPay {
    /// Parses the keys; fails on a bad PEM or an API v3 key that is not 32 bytes.
    pub fn new(config: WechatPayConfig) -> anyhow::Result<Self> {
        if config.appid.is_empty() || config.mchid.is_empty() {
            bail!("WeChat Pay needs an appid and a mchid");
        }
        if config.merchant_serial.is_empty() || config.platform_public_key_id.is_empty() {
            bail!("WeChat Pay needs the merchant serial and the platform public key id");
        }
        let merchant_key = parse_private_key(&config.merchant_key_pem)
            .context("the WeChat Pay merchant key is not an RSA private key in PEM")?;
        let platform_key = parse_public_key(&config.platform_public_key_pem)
            .context("the WeChat Pay platform public key is not an RSA public key in PEM")?;
        if config.apiv3_key.len() != 32 {
            bail!("the WeChat Pay API v3 key must be 32 bytes long");
        }
        let aead = Aes256Gcm::new_from_slice(config.apiv3_key.as_bytes())
            .map_err(|_| anyhow::anyhow!("the WeChat Pay API v3 key must be 32 bytes long"))?;
        Ok(Self {
            appid: config.appid,
            mchid: config.mchid,
            merchant_serial: config.merchant_serial,
            platform_public_key_id: config.platform_public_key_id,
            api_base: config.api_base.trim_end_matches('/').to_string(),
            notify_url: config.notify_url,
            merchant_key: SigningKey::<Sha256>::new(merchant_key),
            platform_public: platform_key.clone(),
            platform_key: VerifyingKey::<Sha256>::new(platform_key),
            aead,
        })
    }

    pub fn appid(&self) -> &str {
        &self.appid
    }

    pub fn mchid(&self) -> &str {
        &self.mchid
    }

    /// Places a JSAPI order: `POST /v3/pay/transactions/jsapi`; returns the prepay_id.
    pub async fn jsapi_prepay(
        &self,
        http: &reqwest::Client,
        req: &PrepayRequest,
    ) -> Result<String, PayError> {
        // WeChat Pay reads time_expire in China time; any offset is valid
        // RFC 3339, but +08:00 is what its documentation and tools show.
        let china = FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset");
        let body = json!({
            "appid": self.appid,
            "mchid": self.mchid,
            "description": req.description,
            "out_trade_no": req.out_trade_no,
            "time_expire": req
                .time_expire
                .with_timezone(&china)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            "notify_url": self.notify_url,
            "amount": { "total": req.amount_fen, "currency": "CNY" },
            "payer": { "openid": req.payer_openid },
        });
        #[derive(Deserialize)]
        struct PrepayResponse {
            prepay_id: String,
        }
        let answer: PrepayResponse = self.post(http, "/v3/pay/transactions/jsapi", &body).await?;
        if answer.prepay_id.is_empty() {
            return Err(PayError::Unexpected("empty prepay_id".into()));
        }
        Ok(answer.prepay_id)
    }

    /// The arguments of `wx.requestPayment` for a prepay_id, signed with the
    /// merchant key over `appId\ntimeStamp\nnonceStr\npackage\n`.
    pub fn jsapi_params(&self, prepay_id: &str) -> JsapiParams {
        let time_stamp = Utc::now().timestamp().to_string();
        let nonce_str = nonce();
        let package = format!("prepay_id={prepay_id}");
        let message = format!("{}\n{time_stamp}\n{nonce_str}\n{package}\n", self.appid);
        JsapiParams {
            app_id: self.appid.clone(),
            pay_sign: self.sign(message.as_bytes()),
            time_stamp,
            nonce_str,
            package,
            sign_type: "RSA".into(),
        }
    }

    /// Asks for a refund: `POST /v3/refund/domestic/refunds`.
    pub async fn refund(
        &self,
        http: &reqwest::Client,
        req: &RefundRequest,
    ) -> Result<RefundResult, PayError> {
        let body = json!({
            "out_trade_no": req.out_trade_no,
            "out_refund_no": req.out_refund_no,
            "reason": req.reason,
            "notify_url": self.notify_url,
            "amount": {
                "refund": req.refund_fen,
                "total": req.total_fen,
                "currency": "CNY",
            },
        });
        #[derive(Deserialize)]
        struct RefundResponse {
            refund_id: String,
            status: String,
        }
        let answer: RefundResponse = self
            .post(http, "/v3/refund/domestic/refunds", &body)
            .await?;
        Ok(RefundResult {
            refund_id: answer.refund_id,
            status: answer.status,
        })
    }

    /// What WeChat Pay knows of a refund:
    /// `GET /v3/refund/domestic/refunds/{out_refund_no}`.
    pub async fn query_refund(
        &self,
        http: &reqwest::Client,
        out_refund_no: &str,
    ) -> Result<RefundResult, PayError> {
        check_path_part(out_refund_no)?;
        #[derive(Deserialize)]
        struct RefundResponse {
            refund_id: String,
            status: String,
        }
        let answer: RefundResponse = self
            .get(
                http,
                &format!("/v3/refund/domestic/refunds/{out_refund_no}"),
            )
            .await?;
        Ok(RefundResult {
            refund_id: answer.refund_id,
            status: answer.status,
        })
    }

    /// What WeChat Pay knows of a payment:
    /// `GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=…`.
    /// `trade_state` says whether it was paid (`SUCCESS`) or not (`NOTPAY`,
    /// `CLOSED`, `USERPAYING`, …).
    pub async fn query_order(
        &self,
        http: &reqwest::Client,
        out_trade_no: &str,
    ) -> Result<Transaction, PayError> {
        check_path_part(out_trade_no)?;
        let path = format!(
            "/v3/pay/transactions/out-trade-no/{out_trade_no}?mchid={}",
            self.mchid
        );
        let answer: serde_json::Value = self.get(http, &path).await?;
        transaction_of(VerifiedNotification {
            id: String::new(),
            event_type: "QUERY".into(),
            resource: answer,
        })
        .map_err(|e| PayError::Unexpected(e.to_string()))
    }

    /// The trade bill (all payments and refunds) of one day, `YYYY-MM-DD`:
    /// `GET /v3/bill/tradebill`, then the signed download of its gzip file,
    /// whose SHA-1 (of the unpacked CSV, as WeChat Pay computes it) must
    /// match the one announced. Returns the CSV text.
    pub async fn trade_bill(
        &self,
        http: &reqwest::Client,
        bill_date: &str,
    ) -> Result<String, PayError> {
        if chrono::NaiveDate::parse_from_str(bill_date, "%Y-%m-%d").is_err() {
            return Err(PayError::Unexpected("bad bill date".into()));
        }
        #[derive(Deserialize)]
        struct BillResponse {
            hash_type: String,
            hash_value: String,
            download_url: String,
        }
        let bill: BillResponse = self
            .get(
                http,
                &format!("/v3/bill/tradebill?bill_date={bill_date}&bill_type=ALL&tar_type=GZIP"),
            )
            .await?;
        if !bill.hash_type.eq_ignore_ascii_case("SHA1") {
            return Err(PayError::Unexpected(format!(
                "unknown bill hash type {}",
                bill.hash_type
            )));
        }
        // The download carries the merchant's signature: it goes to WeChat
        // Pay's own host only, never wherever an answer points.
        let url = reqwest::Url::parse(&bill.download_url)
            .map_err(|_| PayError::Unexpected("bad download_url".into()))?;
        let base = reqwest::Url::parse(&self.api_base)
            .map_err(|e| PayError::Unexpected(format!("bad WeChat Pay URL: {e}")))?;
        if url.origin() != base.origin() {
            return Err(PayError::Unexpected(
                "download_url is not on WeChat Pay's host".into(),
            ));
        }
        let path = "/v3/billdownload/file";
        let authorization = self.authorization("GET", &url, "");
        let response = http
            .get(url)
            .header("Authorization", authorization)
            .header("User-Agent", USER_AGENT)
            .send()
            .await
            .map_err(|e| send_error(path, &e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| send_error(path, &e))?;
        if !status.is_success() {
            return Err(PayError::Rejected {
                status: status.as_u16(),
                code: String::new(),
                message: String::from_utf8_lossy(&bytes).chars().take(200).collect(),
            });
        }
        // The download is not signed (WeChat Pay's design): the hash from
        // the signed answer above is what vouches for it.
        let mut csv = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&bytes[..]), &mut csv)
            .map_err(|_| PayError::Unexpected("the bill is not gzip".into()))?;
        let digest = sha1_smol::Sha1::from(&csv).digest().to_string();
        if !digest.eq_ignore_ascii_case(bill.hash_value.trim()) {
            tracing::warn!(bill_date, "trade bill hash mismatch");
            return Err(PayError::BadSignature);
        }
        String::from_utf8(csv).map_err(|_| PayError::Unexpected("the bill is not UTF-8".into()))
    }

    /// Verifies a payment notification (the raw POST body and its headers)
    /// and returns the decrypted transaction.
    pub fn verify_notification(
        &self,
        headers: &NotificationHeaders,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Transaction, NotifyError> {
        transaction_of(self.verify_notification_raw(headers, body, now)?)
    }

    /// Verifies any notification (payment or refund) and returns its decrypted
    /// resource as JSON, for a handler that dispatches on `event_type`.
    pub fn verify_notification_raw(
        &self,
        headers: &NotificationHeaders,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<VerifiedNotification, NotifyError> {
        // Serial first: it is cheap, and a notification signed by a key we do
        // not know must fail as such rather than as a bad signature.
        if headers.serial != self.platform_public_key_id {
            return Err(NotifyError::WrongSerial);
        }
        let timestamp: i64 =
            headers.timestamp.trim().parse().map_err(|_| {
                NotifyError::Malformed("Wechatpay-Timestamp is not a number".into())
            })?;
        // A captured notification replayed later must not count.
        if (now.timestamp() - timestamp).abs() > MAX_NOTIFICATION_SKEW_SECS {
            return Err(NotifyError::Stale);
        }
        self.verify_platform(
            &headers.timestamp,
            &headers.nonce,
            body,
            &headers.signature,
            &headers.serial,
        )
        .map_err(|fault| match fault {
            SignatureFault::WrongSerial => NotifyError::WrongSerial,
            SignatureFault::BadSignature => NotifyError::BadSignature,
        })?;

        #[derive(Deserialize)]
        struct Envelope {
            id: String,
            event_type: String,
            resource: Resource,
        }
        #[derive(Deserialize)]
        struct Resource {
            algorithm: String,
            ciphertext: String,
            #[serde(default)]
            associated_data: String,
            nonce: String,
        }
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|e| NotifyError::Malformed(format!("body: {e}")))?;
        let resource = envelope.resource;
        if resource.algorithm != "AEAD_AES_256_GCM" {
            return Err(NotifyError::Malformed(format!(
                "unknown algorithm {:?}",
                resource.algorithm
            )));
        }
        let nonce: [u8; 12] = resource
            .nonce
            .as_bytes()
            .try_into()
            .map_err(|_| NotifyError::Malformed("resource nonce is not 12 bytes".into()))?;
        let ciphertext = BASE64
            .decode(resource.ciphertext.as_bytes())
            .map_err(|_| NotifyError::Malformed("resource ciphertext is not base64".into()))?;
        let plaintext = self
            .aead
            .decrypt(
                &aes_gcm::Nonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: resource.associated_data.as_bytes(),
                },
            )
            .map_err(|_| NotifyError::Decrypt)?;
        let resource = serde_json::from_slice(&plaintext)
            .map_err(|e| NotifyError::Malformed(format!("resource plaintext: {e}")))?;
        Ok(VerifiedNotification {
            id: envelope.id,
            event_type: envelope.event_type,
            resource,
        })
    }

    /// Closes an unpaid transaction so that it can no longer be paid:
    /// `POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close`
    /// (answered 204 without a body). Closing a closed one succeeds again.
    pub async fn close_order(
        &self,
        http: &reqwest::Client,
        out_trade_no: &str,
    ) -> Result<(), PayError> {
        // Order numbers are digits, but the path must never carry anything else.
        if out_trade_no.is_empty() || !out_trade_no.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(PayError::Unexpected("bad out_trade_no".into()));
        }
        let path = format!("/v3/pay/transactions/out-trade-no/{out_trade_no}/close");
        self.exchange(http, "POST", &path, Some(&json!({ "mchid": self.mchid })))
            .await
            .map(drop)
    }

    /// Signs and POSTs `body` to `path`, verifies the answer and parses it.
    async fn post<T: DeserializeOwned>(
        &self,
        http: &reqwest::Client,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, PayError> {
        let bytes = self.exchange(http, "POST", path, Some(body)).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            tracing::warn!(path, error = %e, "WeChat Pay answer is not the expected JSON");
            PayError::Unexpected(format!("answer to {path} is not the expected JSON"))
        })
    }

    /// Signs and GETs `path` (query included), verifies the answer and parses it.
    async fn get<T: DeserializeOwned>(
        &self,
        http: &reqwest::Client,
        path: &str,
    ) -> Result<T, PayError> {
        let bytes = self.exchange(http, "GET", path, None).await?;
        serde_json::from_slice(&bytes).map_err(|e| {
            tracing::warn!(path, error = %e, "WeChat Pay answer is not the expected JSON");
            PayError::Unexpected(format!("answer to {path} is not the expected JSON"))
        })
    }

    /// Signs and sends `body` (none for a GET) to `path`; returns the
    /// answer's body once its signature verified (a 204 has no body, so
    /// nothing to verify).
    async fn exchange(
        &self,
        http: &reqwest::Client,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Vec<u8>, PayError> {
        self.exchange_with(http, method, path, body, false).await
    }

    /// [`Self::exchange`], naming the platform key in `Wechatpay-Serial`
    /// when `encrypted`: WeChat Pay needs it to decrypt sensitive fields.
    async fn exchange_with(
        &self,
        http: &reqwest::Client,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
        encrypted: bool,
    ) -> Result<Vec<u8>, PayError> {
        let url = reqwest::Url::parse(&format!("{}{path}", self.api_base))
            .map_err(|e| PayError::Unexpected(format!("bad WeChat Pay URL: {e}")))?;
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let authorization = self.authorization(method, &url, &body);
        let mut request = if method == "GET" {
            http.get(url)
        } else {
            http.post(url)
                .header("Content-Type", "application/json")
                .body(body)
        };
        if encrypted {
            request = request.header("Wechatpay-Serial", &self.platform_public_key_id);
        }
        let response = request
            .header("Authorization", authorization)
            .header("Accept", "application/json")
            .header("User-Agent", USER_AGENT)
            .send()
            .await
            .map_err(|e| send_error(path, &e))?;
        let status = response.status();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let signed = (
            header("Wechatpay-Timestamp"),
            header("Wechatpay-Nonce"),
            header("Wechatpay-Signature"),
            header("Wechatpay-Serial"),
        );
        let request_id = header("Request-ID").unwrap_or_default();
        let bytes = response.bytes().await.map_err(|e| send_error(path, &e))?;

        if !status.is_success() {
            #[derive(Deserialize)]
            struct ErrorBody {
                code: String,
                message: String,
            }
            let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(e) => (e.code, e.message),
                // A proxy's error page, say: keep a little of it.
                Err(_) => (
                    String::new(),
                    String::from_utf8_lossy(&bytes).chars().take(200).collect(),
                ),
            };
            tracing::info!(
                path,
                status = status.as_u16(),
                code,
                message,
                request_id,
                "WeChat Pay refused a request"
            );
            return Err(PayError::Rejected {
                status: status.as_u16(),
                code,
                message,
            });
        }

        if status == reqwest::StatusCode::NO_CONTENT && bytes.is_empty() {
            return Ok(Vec::new());
        }
        let (Some(timestamp), Some(nonce), Some(signature), Some(serial)) = signed else {
            tracing::warn!(
                path,
                request_id,
                "WeChat Pay answer without its signature headers"
            );
            return Err(PayError::BadSignature);
        };
        if self
            .verify_platform(&timestamp, &nonce, &bytes, &signature, &serial)
            .is_err()
        {
            tracing::warn!(
                path,
                request_id,
                serial,
                "WeChat Pay answer signature did not verify"
            );
            return Err(PayError::BadSignature);
        }
        Ok(bytes.to_vec())
    }

    /// The `Authorization` header of a request.
    fn authorization(&self, method: &str, url: &reqwest::Url, body: &str) -> String {
        let timestamp = Utc::now().timestamp();
        let nonce = nonce();
        // The signed path is the one sent, query included.
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let message = format!("{method}\n{path}\n{timestamp}\n{nonce}\n{body}\n");
        let signature = self.sign(message.as_bytes());
        format!(
            "{AUTH_SCHEME} mchid=\"{}\",nonce_str=\"{nonce}\",signature=\"{signature}\",timestamp=\"{timestamp}\",serial_no=\"{}\"",
            self.mchid, self.merchant_serial
        )
    }

    /// base64(RSA-SHA256, PKCS#1 v1.5) with the merchant key.
    fn sign(&self, message: &[u8]) -> String {
        // The randomized signer blinds the RSA operation against timing attacks;
        // PKCS#1 v1.5 signatures themselves stay deterministic.
        let signature: Signature = self
            .merchant_key
            .sign_with_rng(&mut rsa::rand_core::OsRng, message);
        BASE64.encode(signature.to_bytes())
    }

    /// Checks a platform signature over `timestamp\nnonce\nbody\n`.
    fn verify_platform(
        &self,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
        signature: &str,
        serial: &str,
    ) -> Result<(), SignatureFault> {
        if serial != self.platform_public_key_id {
            return Err(SignatureFault::WrongSerial);
        }
        let signature = BASE64
            .decode(signature.trim().as_bytes())
            .ok()
            .and_then(|bytes| Signature::try_from(bytes.as_slice()).ok())
            .ok_or(SignatureFault::BadSignature)?;
        let mut message = Vec::with_capacity(timestamp.len() + nonce.len() + body.len() + 3);
        message.extend_from_slice(timestamp.as_bytes());
        message.push(b'\n');
        message.extend_from_slice(nonce.as_bytes());
        message.push(b'\n');
        message.extend_from_slice(body);
        message.push(b'\n');
        self.platform_key
            .verify(&message, &signature)
            .map_err(|_| SignatureFault::BadSignature)
    }
}

mod transfer;
pub use transfer::{
    REAL_NAME_FROM_FEN, TransferBill, TransferNotice, TransferRequest, transfer_of,
};

/// 32 random alphanumeric characters.
fn nonce() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

fn send_error(path: &str, e: &reqwest::Error) -> PayError {
    if e.is_timeout() {
        tracing::warn!(path, "WeChat Pay call timed out");
        PayError::Timeout
    } else if e.is_connect() || e.is_request() || e.is_body() {
        tracing::warn!(path, "WeChat Pay unreachable");
        PayError::Unreachable
    } else {
        tracing::warn!(path, error = %e, "WeChat Pay call failed");
        PayError::Unexpected(format!("calling {path}: {e}"))
    }
}

fn parse_private_key(pem: &str) -> anyhow::Result<RsaPrivateKey> {
    let pem = pem.trim();
    // Merchant keys come as PKCS#8 from the merchant tool; older ones as PKCS#1.
    let key = if pem.contains("BEGIN RSA PRIVATE KEY") {
        RsaPrivateKey::from_pkcs1_pem(pem)?
    } else {
        RsaPrivateKey::from_pkcs8_pem(pem)?
    };
    Ok(key)
}

fn parse_public_key(pem: &str) -> anyhow::Result<RsaPublicKey> {
    let pem = pem.trim();
    let key = if pem.contains("BEGIN RSA PUBLIC KEY") {
        RsaPublicKey::from_pkcs1_pem(pem)?
    } else {
        RsaPublicKey::from_public_key_pem(pem)?
    };
    Ok(key)
}

/// Order and refund numbers go into URL paths: letters, digits, `-` and `_`
/// only, so a path can never carry anything else.
fn check_path_part(value: &str) -> Result<(), PayError> {
    if value.is_empty()
        || !value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(PayError::Unexpected(
            "bad out_trade_no or out_refund_no".into(),
        ));
    }
    Ok(())
}

/// A refund as a verified `REFUND.*` notification describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefundNotice {
    pub mchid: String,
    pub out_trade_no: String,
    pub out_refund_no: String,
    pub refund_id: String,
    /// `SUCCESS`, `CLOSED`, `ABNORMAL`.
    pub refund_status: String,
    pub refund_fen: i64,
}

/// The refund a verified `REFUND.*` notification carries.
pub fn refund_of(notification: VerifiedNotification) -> Result<RefundNotice, NotifyError> {
    #[derive(Deserialize)]
    struct Wire {
        mchid: String,
        out_trade_no: String,
        out_refund_no: String,
        refund_id: String,
        refund_status: String,
        amount: WireAmount,
    }
    #[derive(Deserialize)]
    struct WireAmount {
        refund: i64,
    }
    let wire: Wire = serde_json::from_value(notification.resource).map_err(|e| {
        NotifyError::Malformed(format!(
            "{} resource is not a refund: {e}",
            notification.event_type
        ))
    })?;
    Ok(RefundNotice {
        mchid: wire.mchid,
        out_trade_no: wire.out_trade_no,
        out_refund_no: wire.out_refund_no,
        refund_id: wire.refund_id,
        refund_status: wire.refund_status,
        refund_fen: wire.amount.refund,
    })
}

/// The transaction a verified payment notification carries
/// (`TRANSACTION.*` events; refund events have another shape).
pub fn transaction_of(notification: VerifiedNotification) -> Result<Transaction, NotifyError> {
    #[derive(Deserialize)]
    struct Wire {
        appid: String,
        mchid: String,
        out_trade_no: String,
        // Absent in states other than paid; notifications come for payments.
        #[serde(default)]
        transaction_id: String,
        trade_state: String,
        // An order query of an unpaid order may come without it.
        #[serde(default)]
        amount: WireAmount,
        payer: Option<WirePayer>,
        success_time: Option<String>,
    }
    #[derive(Default, Deserialize)]
    struct WireAmount {
        #[serde(default)]
        total: i64,
    }
    #[derive(Deserialize)]
    struct WirePayer {
        openid: Option<String>,
    }
    let wire: Wire = serde_json::from_value(notification.resource).map_err(|e| {
        NotifyError::Malformed(format!(
            "{} resource is not a transaction: {e}",
            notification.event_type
        ))
    })?;
    Ok(Transaction {
        appid: wire.appid,
        mchid: wire.mchid,
        out_trade_no: wire.out_trade_no,
        transaction_id: wire.transaction_id,
        trade_state: wire.trade_state,
        total_fen: wire.amount.total,
        payer_openid: wire.payer.and_then(|p| p.openid),
        success_time: wire.success_time,
    })
}

#[cfg(test)]
mod tests {
    use std::{sync::LazyLock, time::Duration};

    use rsa::{
        pkcs1::EncodeRsaPrivateKey,
        pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding},
        signature::Signer,
    };
    use wiremock::{
        Mock, MockServer, ResponseTemplate,
        matchers::{method, path},
    };

    use super::*;

    /// Generated once: 2048-bit key generation takes a while.
    static MERCHANT: LazyLock<RsaPrivateKey> = LazyLock::new(|| {
        RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("merchant key")
    });
    static PLATFORM: LazyLock<RsaPrivateKey> = LazyLock::new(|| {
        RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("platform key")
    });
    const APIV3_KEY: &str = "0123456789abcdef0123456789ABCDEF";
    const PUB_KEY_ID: &str = "PUB_KEY_ID_0114232134912410000000000000";

    fn config(api_base: &str) -> WechatPayConfig {
        WechatPayConfig {
            appid: "wx-test-app".into(),
            mchid: "1900000109".into(),
            merchant_serial: "5157F09EFDC096DE15EBE81A47057A7232F1B8E1".into(),
            merchant_key_pem: MERCHANT.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            apiv3_key: APIV3_KEY.into(),
            platform_public_key_pem: PLATFORM
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
            platform_public_key_id: PUB_KEY_ID.into(),
            api_base: api_base.into(),
            notify_url: "https://shop.example.com/wechatpay/notify".into(),
        }
    }

    fn pay() -> WechatPay {
        WechatPay::new(config("https://api.mch.weixin.qq.com")).unwrap()
    }

    fn platform_sign(message: &[u8]) -> String {
        let key = SigningKey::<Sha256>::new(PLATFORM.clone());
        BASE64.encode(key.sign(message).to_bytes())
    }

    fn merchant_verifies(message: &[u8], signature_b64: &str) -> bool {
        let key = VerifyingKey::<Sha256>::new(MERCHANT.to_public_key());
        let bytes = BASE64.decode(signature_b64).unwrap();
        key.verify(message, &Signature::try_from(bytes.as_slice()).unwrap())
            .is_ok()
    }

    fn transaction_json() -> serde_json::Value {
        json!({
            "appid": "wx-test-app",
            "mchid": "1900000109",
            "out_trade_no": "SY20240101000001",
            "transaction_id": "4200000000202401010000000001",
            "trade_type": "JSAPI",
            "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "bank_type": "OTHERS",
            "attach": "",
            "success_time": "2024-01-01T12:00:05+08:00",
            "payer": { "openid": "o-payer" },
            "amount": { "total": 1999, "payer_total": 1999, "currency": "CNY", "payer_currency": "CNY" }
        })
    }

    /// A notification as WeChat Pay would send it, encrypted with `apiv3_key`.
    fn notification(
        plaintext: &[u8],
        apiv3_key: &str,
        timestamp: i64,
    ) -> (NotificationHeaders, String) {
        let nonce = "fdasflkja484";
        let aad = "transaction";
        let cipher = Aes256Gcm::new_from_slice(apiv3_key.as_bytes()).unwrap();
        let ciphertext = cipher
            .encrypt(
                &aes_gcm::Nonce::from(<[u8; 12]>::try_from(nonce.as_bytes()).unwrap()),
                Payload {
                    msg: plaintext,
                    aad: aad.as_bytes(),
                },
            )
            .unwrap();
        let body = json!({
            "id": "EV-2018022511223320873",
            "create_time": "2024-01-01T12:00:06+08:00",
            "resource_type": "encrypt-resource",
            "event_type": "TRANSACTION.SUCCESS",
            "summary": "支付成功",
            "resource": {
                "original_type": "transaction",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": BASE64.encode(ciphertext),
                "associated_data": aad,
                "nonce": nonce,
            }
        })
        .to_string();
        signed(body, timestamp)
    }

    fn signed(body: String, timestamp: i64) -> (NotificationHeaders, String) {
        let nonce = "5K8264ILTKCH16CQ2502SI8ZNMTM67VS";
        let signature = platform_sign(format!("{timestamp}\n{nonce}\n{body}\n").as_bytes());
        (
            NotificationHeaders {
                timestamp: timestamp.to_string(),
                nonce: nonce.into(),
                signature,
                serial: PUB_KEY_ID.into(),
            },
            body,
        )
    }

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_704_081_606, 0).unwrap()
    }

    #[test]
    fn new_refuses_a_short_apiv3_key_and_a_bad_pem_and_accepts_pkcs1() {
        let mut short = config("https://x");
        short.apiv3_key = "too-short".into();
        assert!(WechatPay::new(short).is_err());
        let mut bad = config("https://x");
        bad.merchant_key_pem =
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".into();
        assert!(WechatPay::new(bad).is_err());
        let mut pkcs1 = config("https://x/");
        pkcs1.merchant_key_pem = MERCHANT.to_pkcs1_pem(LineEnding::LF).unwrap().to_string();
        let pay = WechatPay::new(pkcs1).unwrap();
        assert_eq!(pay.api_base, "https://x");
        // Debug never shows key material.
        let debug = format!("{pay:?} {:?}", config("https://x"));
        assert!(
            !debug.contains("PRIVATE KEY") && !debug.contains(APIV3_KEY),
            "{debug}"
        );
    }

    #[test]
    fn signatures_round_trip_and_the_authorization_header_is_well_formed() {
        let pay = pay();
        let signature = pay.sign(b"hello\n");
        assert!(merchant_verifies(b"hello\n", &signature));
        assert!(!merchant_verifies(b"hello!\n", &signature));

        let url = reqwest::Url::parse("https://api.mch.weixin.qq.com/v3/x?a=1&b=2").unwrap();
        let header = pay.authorization("GET", &url, "");
        let rest = header.strip_prefix("WECHATPAY2-SHA256-RSA2048 ").unwrap();
        let field = |name: &str| {
            rest.split(',')
                .find_map(|kv| kv.strip_prefix(&format!("{name}=\"")))
                .and_then(|v| v.strip_suffix('"'))
                .unwrap()
                .to_string()
        };
        assert_eq!(field("mchid"), "1900000109");
        assert_eq!(
            field("serial_no"),
            "5157F09EFDC096DE15EBE81A47057A7232F1B8E1"
        );
        assert_eq!(field("nonce_str").len(), 32);
        let message = format!(
            "GET\n/v3/x?a=1&b=2\n{}\n{}\n\n",
            field("timestamp"),
            field("nonce_str")
        );
        assert!(merchant_verifies(message.as_bytes(), &field("signature")));
    }

    #[test]
    fn jsapi_params_are_signed_for_request_payment() {
        let params = pay().jsapi_params("wx201410272009395522657a690389285100");
        assert_eq!(
            params.package,
            "prepay_id=wx201410272009395522657a690389285100"
        );
        assert_eq!(params.sign_type, "RSA");
        assert_eq!(params.nonce_str.len(), 32);
        let message = format!(
            "wx-test-app\n{}\n{}\n{}\n",
            params.time_stamp, params.nonce_str, params.package
        );
        assert!(merchant_verifies(message.as_bytes(), &params.pay_sign));
        let json = serde_json::to_value(&params).unwrap();
        assert_eq!(json["paySign"], params.pay_sign);
        assert_eq!(json["timeStamp"], params.time_stamp);
    }

    #[test]
    fn a_genuine_notification_decrypts_to_its_transaction() {
        let (headers, body) = notification(
            transaction_json().to_string().as_bytes(),
            APIV3_KEY,
            now().timestamp() - 10,
        );
        let tx = pay()
            .verify_notification(&headers, body.as_bytes(), now())
            .unwrap();
        assert_eq!(
            tx,
            Transaction {
                appid: "wx-test-app".into(),
                mchid: "1900000109".into(),
                out_trade_no: "SY20240101000001".into(),
                transaction_id: "4200000000202401010000000001".into(),
                trade_state: "SUCCESS".into(),
                total_fen: 1999,
                payer_openid: Some("o-payer".into()),
                success_time: Some("2024-01-01T12:00:05+08:00".into()),
            }
        );
    }

    #[test]
    fn a_notification_from_another_key_serial_is_refused() {
        let (mut headers, body) = notification(b"{}", APIV3_KEY, now().timestamp());
        headers.serial = "PUB_KEY_ID_SOMEONE_ELSE".into();
        assert!(matches!(
            pay().verify_notification(&headers, body.as_bytes(), now()),
            Err(NotifyError::WrongSerial)
        ));
    }

    #[test]
    fn a_stale_or_future_notification_is_refused() {
        let pay = pay();
        for skew in [-301, 301] {
            let (headers, body) = notification(
                transaction_json().to_string().as_bytes(),
                APIV3_KEY,
                now().timestamp() + skew,
            );
            assert!(matches!(
                pay.verify_notification(&headers, body.as_bytes(), now()),
                Err(NotifyError::Stale)
            ));
        }
        let (headers, body) = notification(
            transaction_json().to_string().as_bytes(),
            APIV3_KEY,
            now().timestamp() - 300,
        );
        assert!(
            pay.verify_notification(&headers, body.as_bytes(), now())
                .is_ok()
        );
    }

    #[test]
    fn a_tampered_or_forged_notification_is_refused() {
        let pay = pay();
        let (headers, body) = notification(
            transaction_json().to_string().as_bytes(),
            APIV3_KEY,
            now().timestamp(),
        );
        let tampered = body.replace("TRANSACTION.SUCCESS", "TRANSACTION.SUCCEss");
        assert!(matches!(
            pay.verify_notification(&headers, tampered.as_bytes(), now()),
            Err(NotifyError::BadSignature)
        ));
        let mut garbage = headers.clone();
        garbage.signature = "not base64!".into();
        assert!(matches!(
            pay.verify_notification(&garbage, body.as_bytes(), now()),
            Err(NotifyError::BadSignature)
        ));
        // Signed by the merchant key instead of the platform's.
        let mut forged = headers.clone();
        let message = format!("{}\n{}\n{body}\n", headers.timestamp, headers.nonce);
        forged.signature = pay.sign(message.as_bytes());
        assert!(matches!(
            pay.verify_notification(&forged, body.as_bytes(), now()),
            Err(NotifyError::BadSignature)
        ));
    }

    #[test]
    fn a_notification_that_does_not_decrypt_is_refused() {
        let pay = pay();
        // Encrypted with another API v3 key, then properly signed.
        let (headers, body) = notification(
            transaction_json().to_string().as_bytes(),
            "ffffffffffffffffffffffffffffffff",
            now().timestamp(),
        );
        assert!(matches!(
            pay.verify_notification(&headers, body.as_bytes(), now()),
            Err(NotifyError::Decrypt)
        ));
        // A flipped ciphertext bit, re-signed.
        let (_, body) = notification(
            transaction_json().to_string().as_bytes(),
            APIV3_KEY,
            now().timestamp(),
        );
        let mut envelope: serde_json::Value = serde_json::from_str(&body).unwrap();
        let mut ciphertext = BASE64
            .decode(envelope["resource"]["ciphertext"].as_str().unwrap())
            .unwrap();
        ciphertext[0] ^= 1;
        envelope["resource"]["ciphertext"] = BASE64.encode(ciphertext).into();
        let (headers, body) = signed(envelope.to_string(), now().timestamp());
        assert!(matches!(
            pay.verify_notification(&headers, body.as_bytes(), now()),
            Err(NotifyError::Decrypt)
        ));
        // A nonce of the wrong length is malformed, not a panic.
        envelope["resource"]["nonce"] = "short".into();
        let (headers, body) = signed(envelope.to_string(), now().timestamp());
        assert!(matches!(
            pay.verify_notification(&headers, body.as_bytes(), now()),
            Err(NotifyError::Malformed(_))
        ));
    }

    /// A 200 signed by the platform key, as WeChat Pay answers.
    fn signed_response(body: &str) -> ResponseTemplate {
        let timestamp = Utc::now().timestamp().to_string();
        let nonce = "593BEC0C930BF1AFEB40B4A08C8FB242";
        ResponseTemplate::new(200)
            .insert_header("Wechatpay-Timestamp", timestamp.as_str())
            .insert_header("Wechatpay-Nonce", nonce)
            .insert_header("Wechatpay-Serial", PUB_KEY_ID)
            .insert_header(
                "Wechatpay-Signature",
                platform_sign(format!("{timestamp}\n{nonce}\n{body}\n").as_bytes()).as_str(),
            )
            .set_body_raw(body.to_string(), "application/json")
    }

    fn client() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .timeout(Duration::from_millis(500))
            .build()
            .unwrap()
    }

    fn prepay_request() -> PrepayRequest {
        PrepayRequest {
            out_trade_no: "SY1".into(),
            description: "Tea".into(),
            amount_fen: 1999,
            payer_openid: "o-payer".into(),
            time_expire: DateTime::from_timestamp(1_704_081_600, 0).unwrap(),
        }
    }

    #[tokio::test]
    async fn prepay_sends_a_signed_order_and_verifies_the_answer() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v3/pay/transactions/jsapi"))
            .respond_with(signed_response(r#"{"prepay_id":"wx_prepay_1"}"#))
            .mount(&server)
            .await;
        let pay = WechatPay::new(config(&server.uri())).unwrap();
        let prepay_id = pay
            .jsapi_prepay(&client(), &prepay_request())
            .await
            .unwrap();
        assert_eq!(prepay_id, "wx_prepay_1");

        let requests = server.received_requests().await.unwrap();
        let body: serde_json::Value = requests[0].body_json().unwrap();
        assert_eq!(body["time_expire"], "2024-01-01T12:00:00+08:00");
        assert_eq!(body["amount"], json!({ "total": 1999, "currency": "CNY" }));
        assert_eq!(body["payer"]["openid"], "o-payer");
        assert_eq!(body["appid"], "wx-test-app");
        assert_eq!(
            body["notify_url"],
            "https://shop.example.com/wechatpay/notify"
        );
        let auth = requests[0].headers["authorization"].to_str().unwrap();
        assert!(auth.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900000109\""));
    }

    #[tokio::test]
    async fn an_answer_with_a_bad_signature_is_not_used() {
        let server = MockServer::start().await;
        let genuine = signed_response(r#"{"prepay_id":"wx_prepay_1"}"#);
        // Same headers, another body: the signature no longer covers it.
        Mock::given(method("POST"))
            .respond_with(genuine.set_body_raw(r#"{"prepay_id":"wx_evil"}"#, "application/json"))
            .mount(&server)
            .await;
        let pay = WechatPay::new(config(&server.uri())).unwrap();
        assert!(matches!(
            pay.jsapi_prepay(&client(), &prepay_request()).await,
            Err(PayError::BadSignature)
        ));

        let unsigned = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"refund_id":"1","status":"SUCCESS"}"#,
                "application/json",
            ))
            .mount(&unsigned)
            .await;
        let pay = WechatPay::new(config(&unsigned.uri())).unwrap();
        let refund = RefundRequest {
            out_trade_no: "SY1".into(),
            out_refund_no: "RF1".into(),
            refund_fen: 100,
            total_fen: 1999,
            reason: "damaged".into(),
        };
        assert!(matches!(
            pay.refund(&client(), &refund).await,
            Err(PayError::BadSignature)
        ));
    }

    #[tokio::test]
    async fn refusals_timeouts_and_refunds_map_as_documented() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/v3/pay/transactions/jsapi"))
            .respond_with(ResponseTemplate::new(400).set_body_raw(
                r#"{"code":"PARAM_ERROR","message":"openid mismatch"}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v3/refund/domestic/refunds"))
            .respond_with(signed_response(
                r#"{"refund_id":"50000000382019052709732678859","status":"PROCESSING"}"#,
            ))
            .mount(&server)
            .await;
        let pay = WechatPay::new(config(&server.uri())).unwrap();
        match pay.jsapi_prepay(&client(), &prepay_request()).await {
            Err(PayError::Rejected {
                status,
                code,
                message,
            }) => {
                assert_eq!(
                    (status, code.as_str(), message.as_str()),
                    (400, "PARAM_ERROR", "openid mismatch")
                );
            }
            other => panic!("{other:?}"),
        }
        let refund = RefundRequest {
            out_trade_no: "SY1".into(),
            out_refund_no: "RF1".into(),
            refund_fen: 100,
            total_fen: 1999,
            reason: "damaged".into(),
        };
        let result = pay.refund(&client(), &refund).await.unwrap();
        assert_eq!(result.status, "PROCESSING");
        let body: serde_json::Value = server.received_requests().await.unwrap()[1]
            .body_json()
            .unwrap();
        assert_eq!(
            body["amount"],
            json!({ "refund": 100, "total": 1999, "currency": "CNY" })
        );

        let slow = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(signed_response(r#"{"prepay_id":"x"}"#).set_delay(Duration::from_secs(2)))
            .mount(&slow)
            .await;
        let pay = WechatPay::new(config(&slow.uri())).unwrap();
        assert!(matches!(
            pay.jsapi_prepay(&client(), &prepay_request()).await,
            Err(PayError::Timeout)
        ));

        // Nothing listens on port 1.
        let pay = WechatPay::new(config("http://127.0.0.1:1")).unwrap();
        assert!(matches!(
            pay.jsapi_prepay(&client(), &prepay_request()).await,
            Err(PayError::Unreachable)
        ));
    }
}
