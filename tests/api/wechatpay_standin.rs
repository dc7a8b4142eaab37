//! A local stand-in for WeChat Pay's API v3 servers.
//!
//! It checks requests the way WeChat Pay does (a `WECHATPAY2-SHA256-RSA2048`
//! signature by the merchant key, the right mchid and serial), signs its
//! answers with a platform key, and builds payment notifications as WeChat
//! Pay would POST them, so the application's real client and verifier run
//! end to end without the network.
// Not every test uses every field and helper.
#![allow(dead_code)]
use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, LazyLock, Mutex},
};

use aes_gcm::{
    Aes256Gcm,
    aead::{Aead, KeyInit, Payload},
};
use base64::{Engine, engine::general_purpose::STANDARD as BASE64};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use rsa::{
    RsaPrivateKey,
    pkcs1v15::{Signature, SigningKey, VerifyingKey},
    pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding},
    signature::{SignatureEncoding, Signer, Verifier},
};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::{
    Mock, MockServer, Request, Respond, ResponseTemplate,
    matchers::{method, path, path_regex},
};

/// Requests whose Authorization timestamp is further off than this are refused.
const MAX_SKEW_SECS: i64 = 300;

struct Keys {
    merchant: RsaPrivateKey,
    platform: RsaPrivateKey,
    /// Signs forged notifications.
    forger: RsaPrivateKey,
}

/// Generated once per test binary: 2048-bit key generation is slow.
static KEYS: LazyLock<Keys> = LazyLock::new(|| {
    let generate = || RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
    Keys {
        merchant: generate(),
        platform: generate(),
        forger: generate(),
    }
});

/// A refund as the stand-in keeps it.
#[derive(Clone, Debug)]
pub struct StandInRefund {
    pub refund_id: String,
    pub out_trade_no: String,
    pub refund_fen: i64,
    pub total_fen: i64,
    /// `SUCCESS`, `PROCESSING`, `ABNORMAL`, `CLOSED`.
    pub status: String,
}

/// A row of a trade bill.
#[derive(Clone, Debug)]
pub enum BillRow {
    /// A payment (`交易状态` SUCCESS).
    Payment {
        out_trade_no: String,
        transaction_id: String,
        total_fen: i64,
    },
    /// A refund (`交易状态` REFUND).
    Refund {
        out_trade_no: String,
        transaction_id: String,
        total_fen: i64,
        out_refund_no: String,
        refund_id: String,
        refund_fen: i64,
    },
}

/// What the stand-in remembers between calls.
#[derive(Default)]
struct Ledger {
    /// By out_refund_no.
    refunds: HashMap<String, StandInRefund>,
    /// What the refund API answers to a new refund (`SUCCESS` unless set).
    next_refund_status: Option<String>,
    /// out_trade_no → (trade_state, transaction_id, total).
    trades: HashMap<String, (String, String, i64)>,
    /// bill_date → rows.
    bills: HashMap<String, Vec<BillRow>>,
    /// Announce a wrong hash for the bills (a corrupted download).
    bad_bill_hash: bool,
    /// Transfer bills by out_bill_no.
    transfers: HashMap<String, StandInTransfer>,
    /// Transfer scenes the merchant was granted (`1005` unless set).
    granted_scenes: Option<Vec<String>>,
    /// Transfer creations whose answer is lost (a 500 after the bill was
    /// made) while this is > 0.
    transfer_outages: u32,
}

/// A merchant-transfer bill as the stand-in keeps it.
#[derive(Clone, Debug)]
pub struct StandInTransfer {
    pub transfer_bill_no: String,
    pub openid: String,
    pub amount_fen: i64,
    pub scene_id: String,
    pub remark: String,
    /// The payee's name as decrypted from `user_name`.
    pub user_name: Option<String>,
    /// `WAIT_USER_CONFIRM`, `SUCCESS`, `FAIL`, `CANCELLED`, …
    pub state: String,
    pub fail_reason: Option<String>,
    pub package_info: String,
    /// How many creation calls named this bill.
    pub creations: u32,
}

/// WeChat Pay's servers, on a local port.
pub struct WechatPayStandIn {
    ledger: Arc<Mutex<Ledger>>,
    pub server: MockServer,
    /// Temporary directory holding the two PEM files; removed on drop.
    pub dir: PathBuf,
    pub merchant_key_file: String,
    pub platform_public_key_file: String,
    pub mchid: String,
    pub merchant_serial: String,
    pub apiv3_key: String,
    pub platform_public_key_id: String,
    /// Checks the merchant's request signatures.
    merchant_public: VerifyingKey<Sha256>,
    /// Signs answers and genuine notifications.
    platform: SigningKey<Sha256>,
    /// Signs forged notifications.
    forger: SigningKey<Sha256>,
}

impl WechatPayStandIn {
    /// A fresh server and key files; the keys are shared by the whole test binary.
    pub async fn start() -> Self {
        let keys = tokio::task::spawn_blocking(|| &*KEYS)
            .await
            .expect("key generation");
        let server = MockServer::start().await;
        let dir =
            std::env::temp_dir().join(format!("siyu-wechatpay-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).expect("create the stand-in's directory");
        let merchant_key_file = dir.join("merchant_key.pem");
        let platform_public_key_file = dir.join("platform_public_key.pem");
        std::fs::write(
            &merchant_key_file,
            keys.merchant
                .to_pkcs8_pem(LineEnding::LF)
                .expect("merchant key PEM")
                .as_bytes(),
        )
        .expect("write the merchant key");
        std::fs::write(
            &platform_public_key_file,
            keys.platform
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .expect("platform public key PEM"),
        )
        .expect("write the platform public key");
        Self {
            ledger: Arc::default(),
            server,
            dir,
            merchant_key_file: merchant_key_file.display().to_string(),
            platform_public_key_file: platform_public_key_file.display().to_string(),
            mchid: "1900000109".into(),
            merchant_serial: uuid::Uuid::new_v4().simple().to_string().to_uppercase(),
            // 32 ASCII characters, as an API v3 key is.
            apiv3_key: uuid::Uuid::new_v4().simple().to_string(),
            platform_public_key_id: "PUB_KEY_ID_0119000001092024112200000000001".into(),
            merchant_public: VerifyingKey::new(keys.merchant.to_public_key()),
            platform: SigningKey::new(keys.platform.clone()),
            forger: SigningKey::new(keys.forger.clone()),
        }
    }

    /// Environment variables for `spawn_app_with`. The app also needs
    /// `WECHAT_APPID` and `WECHAT_SECRET` (the appid goes into every order).
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("WECHATPAY_MCHID", self.mchid.clone()),
            ("WECHATPAY_MERCHANT_SERIAL", self.merchant_serial.clone()),
            (
                "WECHATPAY_MERCHANT_KEY_FILE",
                self.merchant_key_file.clone(),
            ),
            ("WECHATPAY_APIV3_KEY", self.apiv3_key.clone()),
            (
                "WECHATPAY_PUBLIC_KEY_FILE",
                self.platform_public_key_file.clone(),
            ),
            (
                "WECHATPAY_PUBLIC_KEY_ID",
                self.platform_public_key_id.clone(),
            ),
            ("WECHATPAY_API_BASE", self.server.uri()),
            (
                "WECHATPAY_NOTIFY_URL",
                "https://shop.example.com/webhooks/wechat-pay".into(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Answers `POST /v3/pay/transactions/jsapi`,
    /// `POST /v3/refund/domestic/refunds` and
    /// `POST /v3/pay/transactions/out-trade-no/{no}/close` as WeChat Pay
    /// does: 401 SIGN_ERROR unless the request is signed by the merchant key
    /// with the right mchid and serial, 400 PARAM_ERROR on a body it would
    /// refuse, otherwise 200 (204 without a body for a close); every body
    /// signed with the platform key.
    pub async fn mount_default(&self) {
        let responder = |endpoint| PayResponder {
            endpoint,
            ledger: self.ledger.clone(),
            base: self.server.uri(),
            appid: "wx-test-app".to_string(),
            mchid: self.mchid.clone(),
            merchant_serial: self.merchant_serial.clone(),
            merchant_public: self.merchant_public.clone(),
            platform: self.platform.clone(),
            platform_public_key_id: self.platform_public_key_id.clone(),
            platform_private: KEYS.platform.clone(),
        };
        for (route, endpoint) in [
            ("/v3/pay/transactions/jsapi", Endpoint::Prepay),
            ("/v3/refund/domestic/refunds", Endpoint::Refund),
        ] {
            Mock::given(method("POST"))
                .and(path(route))
                .respond_with(responder(endpoint))
                .mount(&self.server)
                .await;
        }
        Mock::given(method("POST"))
            .and(path_regex(
                r"^/v3/pay/transactions/out-trade-no/[0-9A-Za-z]+/close$",
            ))
            .respond_with(responder(Endpoint::Close))
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path("/v3/fund-app/mch-transfer/transfer-bills"))
            .respond_with(responder(Endpoint::TransferCreate))
            .mount(&self.server)
            .await;
        Mock::given(method("POST"))
            .and(path_regex(
                r"^/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/[0-9A-Za-z]+/cancel$",
            ))
            .respond_with(responder(Endpoint::TransferCancel))
            .mount(&self.server)
            .await;
        Mock::given(method("GET"))
            .and(path_regex(
                r"^/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/[0-9A-Za-z]+$",
            ))
            .respond_with(responder(Endpoint::TransferQuery))
            .mount(&self.server)
            .await;
        for (route, endpoint) in [
            (
                r"^/v3/refund/domestic/refunds/[0-9A-Za-z_-]+$",
                Endpoint::RefundQuery,
            ),
            (
                r"^/v3/pay/transactions/out-trade-no/[0-9A-Za-z]+$",
                Endpoint::OrderQuery,
            ),
            (r"^/v3/bill/tradebill$", Endpoint::TradeBill),
            (r"^/v3/billdownload/file$", Endpoint::BillDownload),
        ] {
            Mock::given(method("GET"))
                .and(path_regex(route))
                .respond_with(responder(endpoint))
                .mount(&self.server)
                .await;
        }
    }

    /// New refunds are answered with this status (`PROCESSING`, as the real
    /// service mostly does, `ABNORMAL`, …) instead of `SUCCESS`.
    pub fn answer_refunds_with(&self, status: &str) {
        self.ledger.lock().unwrap().next_refund_status = Some(status.to_string());
    }

    /// A refund the stand-in took, by out_refund_no.
    pub fn refund(&self, out_refund_no: &str) -> Option<StandInRefund> {
        self.ledger
            .lock()
            .unwrap()
            .refunds
            .get(out_refund_no)
            .cloned()
    }

    /// Every refund the stand-in took.
    pub fn refunds(&self) -> Vec<(String, StandInRefund)> {
        self.ledger
            .lock()
            .unwrap()
            .refunds
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// WeChat Pay settles a refund (what a later query answers).
    pub fn set_refund_status(&self, out_refund_no: &str, status: &str) {
        if let Some(r) = self.ledger.lock().unwrap().refunds.get_mut(out_refund_no) {
            r.status = status.to_string();
        }
    }

    /// The buyer paid `out_trade_no` (what an order query answers), whether
    /// or not a notification is sent.
    pub fn set_paid(&self, out_trade_no: &str, transaction_id: &str, total_fen: i64) {
        self.ledger.lock().unwrap().trades.insert(
            out_trade_no.to_string(),
            ("SUCCESS".into(), transaction_id.to_string(), total_fen),
        );
    }

    /// The trade_state an order query answers (`NOTPAY` for orders never set).
    pub fn trade_state(&self, out_trade_no: &str) -> String {
        self.ledger
            .lock()
            .unwrap()
            .trades
            .get(out_trade_no)
            .map_or_else(|| "NOTPAY".to_string(), |t| t.0.clone())
    }

    /// The trade bill of `bill_date` (`YYYY-MM-DD`).
    pub fn set_bill(&self, bill_date: &str, rows: Vec<BillRow>) {
        self.ledger
            .lock()
            .unwrap()
            .bills
            .insert(bill_date.to_string(), rows);
    }

    /// A transfer bill the stand-in holds, by out_bill_no.
    pub fn transfer(&self, out_bill_no: &str) -> Option<StandInTransfer> {
        self.ledger
            .lock()
            .unwrap()
            .transfers
            .get(out_bill_no)
            .cloned()
    }

    /// Every transfer bill the stand-in holds.
    pub fn transfers(&self) -> Vec<(String, StandInTransfer)> {
        self.ledger
            .lock()
            .unwrap()
            .transfers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// The promoter confirms (`SUCCESS`), or WeChat Pay fails (`FAIL`, with
    /// a reason) or closes the bill: what later queries answer.
    pub fn set_transfer_state(&self, out_bill_no: &str, state: &str, fail_reason: Option<&str>) {
        if let Some(t) = self.ledger.lock().unwrap().transfers.get_mut(out_bill_no) {
            t.state = state.to_string();
            t.fail_reason = fail_reason.map(str::to_string);
        }
    }

    /// The transfer scenes this merchant was granted (default `1005`).
    pub fn grant_scenes(&self, scenes: &[&str]) {
        self.ledger.lock().unwrap().granted_scenes =
            Some(scenes.iter().map(|s| s.to_string()).collect());
    }

    /// The next `n` transfer creations make their bill but answer 500
    /// SYSTEM_ERROR, as when the answer is lost on the way.
    pub fn lose_next_transfer_answers(&self, n: u32) {
        self.ledger.lock().unwrap().transfer_outages = n;
    }

    /// A `MCHTRANSFER.BILL.FINISHED` notification of a bill the stand-in
    /// holds, in its current state, as WeChat Pay POSTs it.
    pub fn transfer_notification(
        &self,
        out_bill_no: &str,
        timestamp: i64,
    ) -> (Vec<(String, String)>, String) {
        let t = self
            .transfer(out_bill_no)
            .expect("a transfer the stand-in holds");
        let mut resource = json!({
            "mchid": self.mchid,
            "out_bill_no": out_bill_no,
            "transfer_bill_no": t.transfer_bill_no,
            "state": t.state,
            "transfer_amount": t.amount_fen,
            "openid": t.openid,
            "create_time": china_time(timestamp - 60),
            "update_time": china_time(timestamp),
        });
        if let Some(reason) = &t.fail_reason {
            resource["fail_reason"] = json!(reason);
        }
        self.build_event(
            "MCHTRANSFER.BILL.FINISHED",
            "mch_payment",
            &resource,
            timestamp,
            &self.platform,
        )
    }

    /// The same notification signed with another key: a forgery.
    pub fn forged_transfer_notification(
        &self,
        out_bill_no: &str,
        timestamp: i64,
    ) -> (Vec<(String, String)>, String) {
        let (_, body) = self.transfer_notification(out_bill_no, timestamp);
        let headers = signed_headers(&self.forger, &self.platform_public_key_id, timestamp, &body)
            .into_iter()
            .chain([("Content-Type".to_string(), "application/json".to_string())])
            .collect();
        (headers, body)
    }

    /// A genuine notification about a bill the stand-in never made.
    pub fn unknown_transfer_notification(&self, timestamp: i64) -> (Vec<(String, String)>, String) {
        let resource = json!({
            "mchid": self.mchid,
            "out_bill_no": "SYWD999999999999",
            "transfer_bill_no": "1330000000000000000000000000000000",
            "state": "SUCCESS",
            "transfer_amount": 100,
            "openid": "o-nobody",
            "create_time": china_time(timestamp - 60),
            "update_time": china_time(timestamp),
        });
        self.build_event(
            "MCHTRANSFER.BILL.FINISHED",
            "mch_payment",
            &resource,
            timestamp,
            &self.platform,
        )
    }

    /// Announce bills with a hash that does not match their content.
    pub fn corrupt_bills(&self, corrupt: bool) {
        self.ledger.lock().unwrap().bad_bill_hash = corrupt;
    }

    /// A `REFUND.*` notification for a refund the stand-in took, in the
    /// status given (`SUCCESS`, `ABNORMAL`, `CLOSED`), as WeChat Pay POSTs it.
    pub fn refund_notification(
        &self,
        out_refund_no: &str,
        status: &str,
        timestamp: i64,
    ) -> (Vec<(String, String)>, String) {
        let r = self
            .refund(out_refund_no)
            .expect("a refund the stand-in took");
        let resource = json!({
            "mchid": self.mchid,
            "out_trade_no": r.out_trade_no,
            "transaction_id": "4200000000000000000000000000",
            "out_refund_no": out_refund_no,
            "refund_id": r.refund_id,
            "refund_status": status,
            "success_time": china_time(timestamp),
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": r.total_fen,
                "refund": r.refund_fen,
                "payer_total": r.total_fen,
                "payer_refund": r.refund_fen,
            },
        });
        self.build_event(
            &format!("REFUND.{status}"),
            "refund",
            &resource,
            timestamp,
            &self.platform,
        )
    }

    /// Every request received so far: (method, path, JSON body or `Null`).
    pub async fn requests(&self) -> Vec<(String, String, Value)> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                (
                    r.method.to_string(),
                    r.url.path().to_string(),
                    serde_json::from_slice(&r.body).unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    /// A `TRANSACTION.SUCCESS` notification as WeChat Pay would POST it:
    /// `transaction` encrypted with the API v3 key, the body signed with the
    /// platform key at `timestamp` (unix seconds). Returns (headers, body).
    pub fn notification(
        &self,
        transaction: &Value,
        timestamp: i64,
    ) -> (Vec<(String, String)>, String) {
        self.build_notification(transaction, timestamp, &self.platform)
    }

    /// The same, but signed with another key: a forgery (still encrypted with
    /// the right API v3 key, so only the signature gives it away).
    pub fn forged_notification(
        &self,
        transaction: &Value,
        timestamp: i64,
    ) -> (Vec<(String, String)>, String) {
        self.build_notification(transaction, timestamp, &self.forger)
    }

    fn build_notification(
        &self,
        transaction: &Value,
        timestamp: i64,
        signer: &SigningKey<Sha256>,
    ) -> (Vec<(String, String)>, String) {
        self.build_event(
            "TRANSACTION.SUCCESS",
            "transaction",
            transaction,
            timestamp,
            signer,
        )
    }

    fn build_event(
        &self,
        event_type: &str,
        original_type: &str,
        transaction: &Value,
        timestamp: i64,
        signer: &SigningKey<Sha256>,
    ) -> (Vec<(String, String)>, String) {
        let resource_nonce = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        let associated_data = original_type;
        let cipher = Aes256Gcm::new_from_slice(self.apiv3_key.as_bytes()).expect("32-byte key");
        let nonce: [u8; 12] = resource_nonce.as_bytes().try_into().expect("12 bytes");
        let ciphertext = cipher
            .encrypt(
                &aes_gcm::Nonce::from(nonce),
                Payload {
                    msg: transaction.to_string().as_bytes(),
                    aad: associated_data.as_bytes(),
                },
            )
            .expect("encrypt");
        let body = json!({
            "id": format!("EV-{}", uuid::Uuid::new_v4().simple()),
            "create_time": china_time(timestamp),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": match original_type {
                "refund" => "退款成功",
                "mch_payment" => "商家转账单据终态通知",
                _ => "支付成功",
            },
            "resource": {
                "original_type": original_type,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": BASE64.encode(ciphertext),
                "associated_data": associated_data,
                "nonce": resource_nonce,
            }
        })
        .to_string();
        let headers = signed_headers(signer, &self.platform_public_key_id, timestamp, &body)
            .into_iter()
            .chain([("Content-Type".to_string(), "application/json".to_string())])
            .collect();
        (headers, body)
    }
}

impl Drop for WechatPayStandIn {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[derive(Clone, Copy)]
enum Endpoint {
    Prepay,
    Refund,
    Close,
    RefundQuery,
    OrderQuery,
    TradeBill,
    BillDownload,
    TransferCreate,
    TransferQuery,
    TransferCancel,
}

/// Checks a request's signature and answers, signed, as WeChat Pay would.
struct PayResponder {
    endpoint: Endpoint,
    ledger: Arc<Mutex<Ledger>>,
    /// The stand-in's own address, for download URLs.
    base: String,
    appid: String,
    mchid: String,
    merchant_serial: String,
    merchant_public: VerifyingKey<Sha256>,
    platform: SigningKey<Sha256>,
    platform_public_key_id: String,
    /// Decrypts sensitive fields (`user_name`), as WeChat Pay does.
    platform_private: RsaPrivateKey,
}

impl Respond for PayResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        if let Err(why) = self.check_signature(request) {
            return self.answer(401, json!({ "code": "SIGN_ERROR", "message": why }));
        }
        if request.method.as_str() == "GET" {
            return self.respond_get(request);
        }
        if let Endpoint::TransferCancel = self.endpoint {
            return self.cancel_transfer(request);
        }
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return param_error(self, "body is not JSON");
        };
        match self.endpoint {
            Endpoint::Close => {
                if body["mchid"] != self.mchid.as_str() {
                    return param_error(self, "mchid is missing or not the merchant's");
                }
                let no = request
                    .url
                    .path()
                    .trim_start_matches("/v3/pay/transactions/out-trade-no/")
                    .trim_end_matches("/close")
                    .to_string();
                let mut ledger = self.ledger.lock().unwrap();
                let trade = ledger
                    .trades
                    .entry(no)
                    .or_insert_with(|| ("NOTPAY".into(), String::new(), 0));
                if trade.0 == "SUCCESS" {
                    return self
                        .answer(400, json!({ "code": "ORDERPAID", "message": "订单已支付" }));
                }
                trade.0 = "CLOSED".into();
                ResponseTemplate::new(204)
            }
            Endpoint::RefundQuery
            | Endpoint::OrderQuery
            | Endpoint::TradeBill
            | Endpoint::BillDownload
            | Endpoint::TransferQuery => param_error(self, "GET only"),
            Endpoint::TransferCancel => param_error(self, "handled above"),
            Endpoint::TransferCreate => self.create_transfer(request, &body),
            Endpoint::Prepay => {
                let ok = body["mchid"] == self.mchid.as_str()
                    && body["appid"].as_str().is_some_and(|s| !s.is_empty())
                    && body["out_trade_no"].as_str().is_some_and(|s| !s.is_empty())
                    && body["description"].is_string()
                    && body["notify_url"].is_string()
                    && body["time_expire"]
                        .as_str()
                        .is_some_and(|t| DateTime::parse_from_rfc3339(t).is_ok())
                    && body["amount"]["total"].as_i64().is_some_and(|t| t > 0)
                    && body["amount"]["currency"] == "CNY"
                    && body["payer"]["openid"]
                        .as_str()
                        .is_some_and(|s| !s.is_empty());
                if !ok {
                    return param_error(self, "prepay body is missing or has a bad field");
                }
                self.answer(
                    200,
                    json!({ "prepay_id": format!("wx_prepay_{}", uuid::Uuid::new_v4().simple()) }),
                )
            }
            Endpoint::Refund => {
                let refund = body["amount"]["refund"].as_i64().unwrap_or(0);
                let total = body["amount"]["total"].as_i64().unwrap_or(0);
                let ok = body["out_trade_no"].as_str().is_some_and(|s| !s.is_empty())
                    && body["out_refund_no"]
                        .as_str()
                        .is_some_and(|s| !s.is_empty())
                    && refund > 0
                    && refund <= total
                    && body["amount"]["currency"] == "CNY";
                if !ok {
                    return param_error(self, "refund body is missing or has a bad field");
                }
                let now = china_time(Utc::now().timestamp());
                let no = body["out_refund_no"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                // Idempotent on out_refund_no, as WeChat Pay is.
                let r = {
                    let mut ledger = self.ledger.lock().unwrap();
                    let status = ledger
                        .next_refund_status
                        .clone()
                        .unwrap_or_else(|| "SUCCESS".into());
                    ledger
                        .refunds
                        .entry(no)
                        .or_insert_with(|| StandInRefund {
                            refund_id: format!(
                                "5000000{}",
                                uuid::Uuid::new_v4().as_u128() % 10u128.pow(22)
                            ),
                            out_trade_no: body["out_trade_no"]
                                .as_str()
                                .unwrap_or_default()
                                .to_string(),
                            refund_fen: refund,
                            total_fen: total,
                            status,
                        })
                        .clone()
                };
                self.answer(
                    200,
                    json!({
                        "refund_id": r.refund_id,
                        "out_refund_no": body["out_refund_no"],
                        "transaction_id": "4200000000000000000000000000",
                        "out_trade_no": body["out_trade_no"],
                        "channel": "ORIGINAL",
                        "user_received_account": "支付用户零钱",
                        "success_time": now,
                        "create_time": now,
                        "status": r.status,
                        "funds_account": "AVAILABLE",
                        "amount": {
                            "total": total,
                            "refund": refund,
                            "payer_total": total,
                            "payer_refund": refund,
                            "settlement_refund": refund,
                            "settlement_total": total,
                            "discount_refund": 0,
                            "currency": "CNY",
                            "refund_fee": 0,
                        },
                    }),
                )
            }
        }
    }
}

impl PayResponder {
    /// The GET endpoints: refund and order queries, the trade bill and its
    /// download (a gzip file, not signed: the bill's hash vouches for it).
    fn respond_get(&self, request: &Request) -> ResponseTemplate {
        let path = request.url.path().to_string();
        let query: HashMap<String, String> = request.url.query_pairs().into_owned().collect();
        let ledger = self.ledger.lock().unwrap();
        match self.endpoint {
            Endpoint::RefundQuery => {
                let no = path.trim_start_matches("/v3/refund/domestic/refunds/");
                match ledger.refunds.get(no) {
                    Some(r) => self.answer(
                        200,
                        json!({
                            "refund_id": r.refund_id, "out_refund_no": no,
                            "transaction_id": "4200000000000000000000000000",
                            "out_trade_no": r.out_trade_no, "channel": "ORIGINAL",
                            "user_received_account": "支付用户零钱",
                            "create_time": china_time(Utc::now().timestamp()),
                            "status": r.status, "funds_account": "AVAILABLE",
                            "amount": { "total": r.total_fen, "refund": r.refund_fen, "payer_total": r.total_fen, "payer_refund": r.refund_fen, "currency": "CNY" },
                        }),
                    ),
                    None => self.answer(
                        404,
                        json!({ "code": "RESOURCE_NOT_EXISTS", "message": "退款单不存在" }),
                    ),
                }
            }
            Endpoint::OrderQuery => {
                if query.get("mchid") != Some(&self.mchid) {
                    return param_error(self, "mchid is missing or not the merchant's");
                }
                let no = path.trim_start_matches("/v3/pay/transactions/out-trade-no/");
                let (state, txid, total) = ledger
                    .trades
                    .get(no)
                    .cloned()
                    .unwrap_or_else(|| ("NOTPAY".into(), String::new(), 0));
                let mut answer = json!({
                    "appid": self.appid, "mchid": self.mchid, "out_trade_no": no,
                    "trade_state": state, "trade_state_desc": "",
                    "amount": { "payer_currency": "CNY" },
                });
                if state == "SUCCESS" {
                    answer["transaction_id"] = json!(txid);
                    answer["trade_type"] = json!("JSAPI");
                    answer["success_time"] = json!(china_time(Utc::now().timestamp()));
                    answer["payer"] = json!({ "openid": "o-alice" });
                    answer["amount"] = json!({ "total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY" });
                }
                self.answer(200, answer)
            }
            Endpoint::TradeBill => {
                let date = query.get("bill_date").cloned().unwrap_or_default();
                if query.get("bill_type").map(String::as_str) != Some("ALL")
                    || query.get("tar_type").map(String::as_str) != Some("GZIP")
                {
                    return param_error(self, "bill_type=ALL&tar_type=GZIP expected");
                }
                let Some(rows) = ledger.bills.get(&date) else {
                    return self.answer(
                        400,
                        json!({ "code": "NO_STATEMENT_EXIST", "message": "账单不存在" }),
                    );
                };
                let csv = bill_csv(&self.appid, &self.mchid, rows);
                let mut hash = sha1_smol::Sha1::from(csv.as_bytes()).digest().to_string();
                if ledger.bad_bill_hash {
                    hash = "0".repeat(40);
                }
                self.answer(
                    200,
                    json!({
                        "hash_type": "SHA1",
                        "hash_value": hash,
                        "download_url": format!("{}/v3/billdownload/file?token={date}", self.base),
                    }),
                )
            }
            Endpoint::BillDownload => {
                let date = query.get("token").cloned().unwrap_or_default();
                let Some(rows) = ledger.bills.get(&date) else {
                    return param_error(self, "unknown token");
                };
                let csv = bill_csv(&self.appid, &self.mchid, rows);
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                std::io::Write::write_all(&mut gz, csv.as_bytes()).expect("gzip");
                ResponseTemplate::new(200)
                    .set_body_raw(gz.finish().expect("gzip"), "application/octet-stream")
            }
            Endpoint::TransferQuery => {
                let no = path
                    .trim_start_matches("/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/");
                match ledger.transfers.get(no) {
                    Some(t) => self.answer(200, self.bill_json(no, t)),
                    None => {
                        self.answer(404, json!({ "code": "NOT_FOUND", "message": "记录不存在" }))
                    }
                }
            }
            _ => param_error(self, "not a GET endpoint"),
        }
    }

    fn bill_json(&self, out_bill_no: &str, t: &StandInTransfer) -> Value {
        let mut bill = json!({
            "mch_id": self.mchid,
            "out_bill_no": out_bill_no,
            "transfer_bill_no": t.transfer_bill_no,
            "appid": self.appid,
            "state": t.state,
            "transfer_amount": t.amount_fen,
            "transfer_remark": t.remark,
            "openid": t.openid,
            "create_time": china_time(Utc::now().timestamp()),
            "update_time": china_time(Utc::now().timestamp()),
        });
        if let Some(reason) = &t.fail_reason {
            bill["fail_reason"] = json!(reason);
        }
        bill
    }

    /// `POST /v3/fund-app/mch-transfer/transfer-bills`, with the checks
    /// WeChat Pay makes: every required field and its length, a granted
    /// scene with its report infos (1005: 岗位类型 and 报酬说明), an https
    /// notify_url, `user_name` from 2,000 yuan, RSA-OAEP encrypted with the
    /// platform key named in `Wechatpay-Serial`; idempotent on out_bill_no
    /// (the same bill again; other parameters under it are refused).
    fn create_transfer(&self, request: &Request, body: &Value) -> ResponseTemplate {
        let text = |k: &str| body[k].as_str().unwrap_or_default().to_string();
        let (no, openid, scene, remark) = (
            text("out_bill_no"),
            text("openid"),
            text("transfer_scene_id"),
            text("transfer_remark"),
        );
        let amount = body["transfer_amount"].as_i64().unwrap_or(0);
        let no_ok = (5..=32).contains(&no.len()) && no.chars().all(|c| c.is_ascii_alphanumeric());
        let infos: Vec<(String, String)> = body["transfer_scene_report_infos"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|i| {
                        (
                            i["info_type"].as_str().unwrap_or_default().to_string(),
                            i["info_content"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let ok = body["appid"] == self.appid.as_str()
            && no_ok
            && !openid.is_empty()
            && amount > 0
            && (1..=32).contains(&remark.chars().count())
            && body["notify_url"]
                .as_str()
                .is_some_and(|u| u.starts_with("https://") && !u.contains('?'))
            && !infos.is_empty()
            && infos.iter().all(|(t, c)| !t.is_empty() && !c.is_empty());
        if !ok {
            return param_error(self, "transfer bill body is missing or has a bad field");
        }
        let mut ledger = self.ledger.lock().unwrap();
        let granted = ledger
            .granted_scenes
            .clone()
            .unwrap_or_else(|| vec!["1005".to_string()]);
        if !granted.contains(&scene) {
            return self.answer(
                403,
                json!({ "code": "NO_AUTH", "message": "商户未获取该转账场景的权限" }),
            );
        }
        if scene == "1005"
            && !(infos.iter().any(|(t, _)| t == "岗位类型")
                && infos.iter().any(|(t, _)| t == "报酬说明"))
        {
            return param_error(self, "scene 1005 reports 岗位类型 and 报酬说明");
        }
        let user_name = match body["user_name"].as_str() {
            None if amount >= 200_000 => {
                return param_error(self, "user_name is required from 2000 yuan");
            }
            None => None,
            Some(cipher) => {
                let serial = request
                    .headers
                    .get("wechatpay-serial")
                    .and_then(|v| v.to_str().ok());
                if serial != Some(self.platform_public_key_id.as_str()) {
                    return param_error(
                        self,
                        "Wechatpay-Serial must name the key user_name is encrypted with",
                    );
                }
                let plain = BASE64
                    .decode(cipher)
                    .ok()
                    .and_then(|c| {
                        self.platform_private
                            .decrypt(rsa::Oaep::new::<sha1::Sha1>(), &c)
                            .ok()
                    })
                    .and_then(|p| String::from_utf8(p).ok());
                match plain {
                    Some(name) => Some(name),
                    None => return param_error(self, "user_name does not decrypt (RSA-OAEP)"),
                }
            }
        };
        let lose_answer = ledger.transfer_outages > 0;
        if lose_answer {
            ledger.transfer_outages -= 1;
        }
        let t = ledger
            .transfers
            .entry(no.clone())
            .or_insert_with(|| StandInTransfer {
                transfer_bill_no: format!(
                    "1330000{}",
                    uuid::Uuid::new_v4().as_u128() % 10u128.pow(30)
                ),
                openid: openid.clone(),
                amount_fen: amount,
                scene_id: scene.clone(),
                remark: remark.clone(),
                user_name: user_name.clone(),
                state: "WAIT_USER_CONFIRM".into(),
                fail_reason: None,
                package_info: BASE64.encode(uuid::Uuid::new_v4().as_bytes()),
                creations: 0,
            });
        if t.openid != openid || t.amount_fen != amount {
            return self.answer(
                400,
                json!({ "code": "INVALID_REQUEST", "message": "商户单号重复，参数与原单据不一致" }),
            );
        }
        t.creations += 1;
        let t = t.clone();
        if lose_answer {
            // The bill is made, but the answer never reaches the merchant.
            return self.answer(
                500,
                json!({ "code": "SYSTEM_ERROR", "message": "系统繁忙，请稍后重试" }),
            );
        }
        let mut answer = json!({
            "out_bill_no": no,
            "transfer_bill_no": t.transfer_bill_no,
            "create_time": china_time(Utc::now().timestamp()),
            "state": t.state,
        });
        if t.state == "WAIT_USER_CONFIRM" {
            answer["package_info"] = json!(t.package_info);
        }
        if let Some(reason) = &t.fail_reason {
            answer["fail_reason"] = json!(reason);
        }
        self.answer(200, answer)
    }

    /// `POST …/out-bill-no/{no}/cancel`: a bill not yet final is cancelled
    /// (the stand-in finishes at once: CANCELLED); a final one is refused.
    fn cancel_transfer(&self, request: &Request) -> ResponseTemplate {
        let no = request
            .url
            .path()
            .trim_start_matches("/v3/fund-app/mch-transfer/transfer-bills/out-bill-no/")
            .trim_end_matches("/cancel")
            .to_string();
        let mut ledger = self.ledger.lock().unwrap();
        let Some(t) = ledger.transfers.get_mut(&no) else {
            return self.answer(404, json!({ "code": "NOT_FOUND", "message": "记录不存在" }));
        };
        if matches!(t.state.as_str(), "SUCCESS" | "FAIL" | "CANCELLED") {
            return self.answer(
                400,
                json!({ "code": "INVALID_REQUEST", "message": "单据已是终态，不可撤销" }),
            );
        }
        t.state = "CANCELLED".into();
        self.answer(
            200,
            json!({
                "out_bill_no": no,
                "transfer_bill_no": t.transfer_bill_no,
                "state": "CANCELLED",
                "update_time": china_time(Utc::now().timestamp()),
            }),
        )
    }
}

/// A trade bill (`bill_type=ALL`) as WeChat Pay writes it: a header row,
/// one row per payment or refund with a backtick before every field,
/// amounts in yuan, then the summary's header and row.
fn bill_csv(appid: &str, mchid: &str, rows: &[BillRow]) -> String {
    let yuan = |fen: i64| format!("{}.{:02}", fen / 100, fen % 100);
    let mut out = String::from(
        "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注\r\n",
    );
    let (mut total, mut refunded) = (0, 0);
    for row in rows {
        let fields: Vec<String> = match row {
            BillRow::Payment {
                out_trade_no,
                transaction_id,
                total_fen,
            } => {
                total += total_fen;
                vec![
                    "2026-12-01 12:00:00".into(),
                    appid.into(),
                    mchid.into(),
                    "0".into(),
                    "".into(),
                    transaction_id.clone(),
                    out_trade_no.clone(),
                    "o-alice".into(),
                    "JSAPI".into(),
                    "SUCCESS".into(),
                    "OTHERS".into(),
                    "CNY".into(),
                    yuan(*total_fen),
                    "0.00".into(),
                    "0".into(),
                    "0".into(),
                    "0.00".into(),
                    "0.00".into(),
                    "".into(),
                    "".into(),
                    "商品".into(),
                    "".into(),
                    "0.00000".into(),
                    "0.60%".into(),
                    yuan(*total_fen),
                    "0.00".into(),
                    "".into(),
                ]
            }
            BillRow::Refund {
                out_trade_no,
                transaction_id,
                total_fen,
                out_refund_no,
                refund_id,
                refund_fen,
            } => {
                refunded += refund_fen;
                vec![
                    "2026-12-01 13:00:00".into(),
                    appid.into(),
                    mchid.into(),
                    "0".into(),
                    "".into(),
                    transaction_id.clone(),
                    out_trade_no.clone(),
                    "o-alice".into(),
                    "JSAPI".into(),
                    "REFUND".into(),
                    "OTHERS".into(),
                    "CNY".into(),
                    "0.00".into(),
                    "0.00".into(),
                    refund_id.clone(),
                    out_refund_no.clone(),
                    yuan(*refund_fen),
                    "0.00".into(),
                    "ORIGINAL".into(),
                    "SUCCESS".into(),
                    "商品".into(),
                    "".into(),
                    "0.00000".into(),
                    "0.60%".into(),
                    yuan(*total_fen),
                    yuan(*refund_fen),
                    "".into(),
                ]
            }
        };
        let line: Vec<String> = fields.into_iter().map(|f| format!("`{f}")).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out.push_str("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n");
    out.push_str(&format!(
        "`{},`{},`{},`0.00,`0.00000,`{},`{}\r\n",
        rows.len(),
        yuan(total),
        yuan(refunded),
        yuan(total),
        yuan(refunded)
    ));
    out
}

fn param_error(responder: &PayResponder, message: &str) -> ResponseTemplate {
    responder.answer(400, json!({ "code": "PARAM_ERROR", "message": message }))
}

impl PayResponder {
    /// What WeChat Pay checks in `Authorization`.
    fn check_signature(&self, request: &Request) -> Result<(), String> {
        let header = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .ok_or("no Authorization header")?;
        let params = header
            .strip_prefix("WECHATPAY2-SHA256-RSA2048 ")
            .ok_or("Authorization is not WECHATPAY2-SHA256-RSA2048")?;
        let fields: HashMap<&str, &str> = params
            .split(',')
            .filter_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                Some((k, v.strip_prefix('"')?.strip_suffix('"')?))
            })
            .collect();
        let field = |name: &str| {
            fields
                .get(name)
                .copied()
                .ok_or_else(|| format!("Authorization lacks {name}"))
        };
        if field("mchid")? != self.mchid {
            return Err("mchid does not match".into());
        }
        if field("serial_no")? != self.merchant_serial {
            return Err("serial_no is not the merchant certificate's".into());
        }
        let timestamp = field("timestamp")?;
        let seconds: i64 = timestamp.parse().map_err(|_| "timestamp is not a number")?;
        if (Utc::now().timestamp() - seconds).abs() > MAX_SKEW_SECS {
            return Err("timestamp expired".into());
        }
        let nonce = field("nonce_str")?;
        let path = match request.url.query() {
            Some(q) => format!("{}?{q}", request.url.path()),
            None => request.url.path().to_string(),
        };
        let mut message =
            format!("{}\n{path}\n{timestamp}\n{nonce}\n", request.method).into_bytes();
        message.extend_from_slice(&request.body);
        message.push(b'\n');
        let signature = BASE64
            .decode(field("signature")?)
            .ok()
            .and_then(|b| Signature::try_from(b.as_slice()).ok())
            .ok_or("signature is not base64 RSA")?;
        self.merchant_public
            .verify(&message, &signature)
            .map_err(|_| "signature verification failed".to_string())
    }

    /// A JSON answer signed with the platform key, as WeChat Pay signs them all.
    fn answer(&self, status: u16, body: Value) -> ResponseTemplate {
        let body = body.to_string();
        let mut template = ResponseTemplate::new(status)
            .insert_header("Request-ID", uuid::Uuid::new_v4().to_string().as_str());
        for (name, value) in signed_headers(
            &self.platform,
            &self.platform_public_key_id,
            Utc::now().timestamp(),
            &body,
        ) {
            template = template.insert_header(name.as_str(), value.as_str());
        }
        template.set_body_raw(body, "application/json")
    }
}

/// `Wechatpay-*` headers signing `timestamp\nnonce\nbody\n`.
fn signed_headers(
    signer: &SigningKey<Sha256>,
    serial: &str,
    timestamp: i64,
    body: &str,
) -> Vec<(String, String)> {
    let nonce = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    let signature: Signature = signer.sign(format!("{timestamp}\n{nonce}\n{body}\n").as_bytes());
    vec![
        ("Wechatpay-Timestamp".into(), timestamp.to_string()),
        ("Wechatpay-Nonce".into(), nonce),
        (
            "Wechatpay-Signature".into(),
            BASE64.encode(signature.to_bytes()),
        ),
        ("Wechatpay-Serial".into(), serial.to_string()),
        (
            "Wechatpay-Signature-Type".into(),
            "WECHATPAY2-SHA256-RSA2048".into(),
        ),
    ]
}

/// RFC 3339 in China time, as WeChat Pay writes times.
fn china_time(timestamp: i64) -> String {
    let china = FixedOffset::east_opt(8 * 3600).expect("+08:00");
    DateTime::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .with_timezone(&china)
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}
