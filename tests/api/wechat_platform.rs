//! The WeChat platform against the stand-in for WeChat's API host
//! (`wechat_api_standin`) and WeChat Pay's (`wechatpay_standin`): the
//! access_token (fetched once, shared, refreshed after 42001) and the
//! shipping information uploaded for WeChat Pay payments.
use serde_json::{Value, json};

use crate::{
    fixtures::{PLACE_ORDER, SHIP, Shop, save_address, shop, text, top_up_plan},
    helpers::{TestApp, error_code, ok, spawn_app_with, spawn_second_with},
    wechat_api_standin::{APPID, WechatApiStandIn},
    wechatpay_standin::WechatPayStandIn,
};

/// The library's services these tests call directly (the jobs at chosen times).
mod lib {
    pub use siyu::modules::wechat_platform::service::{attempts_of, upload_due};
}

pub(crate) struct Platform {
    pub(crate) app: TestApp,
    pub(crate) api: WechatApiStandIn,
    pub(crate) pay: WechatPayStandIn,
    pub(crate) shop: Shop,
    pub(crate) buyer: String,
}

/// Env for an app that talks to both stand-ins.
fn env(
    api: &WechatApiStandIn,
    pay: &WechatPayStandIn,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let mut env = pay.env();
    env.extend(api.env());
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

pub(crate) async fn platform_with(extra: &[(&str, &str)]) -> Platform {
    let api = WechatApiStandIn::start().await;
    let pay = WechatPayStandIn::start().await;
    pay.mount_default().await;
    platform_on(api, pay, extra).await
}

/// An app on stand-ins prepared by the caller.
pub(crate) async fn platform_on(
    api: WechatApiStandIn,
    pay: WechatPayStandIn,
    extra: &[(&str, &str)],
) -> Platform {
    let env = env(&api, &pay, extra);
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = spawn_app_with(&refs).await;
    let shop = shop(&app, 10).await;
    let v = app.login("code-alice", None, None).await;
    let buyer = text(&ok(&v)["wechatLogin"]["accessToken"]);
    save_address(&app, &buyer).await;
    Platform {
        app,
        api,
        pay,
        shop,
        buyer,
    }
}

async fn platform() -> Platform {
    platform_with(&[("WECHAT_SHIPPING_UPLOAD", "true")]).await
}

const FULFILLMENT: &str = "query($id: ID!) { order(id: $id) { status fulfillments { id supplier { id } wechatShipping { status uploadedAt lastError } } } }";

impl Platform {
    /// Places an order of `items` and has WeChat Pay notify its payment in
    /// transaction `txid`; returns the order.
    pub(crate) async fn paid(&self, items: Value, key: &str, txid: &str) -> Value {
        let data = self
            .app
            .gql_ok(
                Some(&self.buyer),
                PLACE_ORDER,
                json!({ "i": { "items": items }, "k": key }),
            )
            .await;
        let order = data["placeOrder"]["order"].clone();
        self.notify_paid(&order, txid).await;
        order
    }

    pub(crate) async fn notify_paid(&self, order: &Value, txid: &str) {
        let total = order["payableFen"].as_i64().expect("payableFen");
        let tx = json!({
            "appid": APPID, "mchid": self.pay.mchid, "out_trade_no": text(&order["orderNo"]),
            "transaction_id": txid, "trade_type": "JSAPI", "trade_state": "SUCCESS",
            "trade_state_desc": "支付成功",
            "amount": { "total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY" },
            "payer": { "openid": "o-alice" }, "success_time": "2026-12-03T12:00:00+08:00"
        });
        let (headers, body) = self.pay.notification(&tx, chrono::Utc::now().timestamp());
        let mut req = self
            .app
            .client
            .post(format!("{}/webhooks/wechat-pay", self.app.address))
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        let status = req.send().await.expect("notification sent").status();
        assert_eq!(status.as_u16(), 200, "the payment notification was refused");
    }

    /// The order's fulfillments as ADMIN reads them (supplier 甲's first).
    pub(crate) async fn fulfillments(&self, order: &Value) -> Vec<Value> {
        let data = self
            .app
            .gql_ok(
                Some(&self.shop.admin),
                FULFILLMENT,
                json!({ "id": order["id"] }),
            )
            .await;
        let mut list = data["order"]["fulfillments"].as_array().unwrap().clone();
        let rank = |f: &Value| {
            self.shop
                .supplier_ids
                .iter()
                .position(|s| f["supplier"]["id"].as_str() == Some(s.as_str()))
                .unwrap_or(usize::MAX)
        };
        list.sort_by_key(rank);
        list
    }

    pub(crate) async fn ship(
        &self,
        token: &str,
        fulfillment: &Value,
        carrier: &str,
        tracking: &str,
    ) {
        let data = self
            .app
            .gql_ok(
                Some(token),
                SHIP,
                json!({ "id": fulfillment["id"], "c": carrier, "t": tracking }),
            )
            .await;
        assert_eq!(data["shipFulfillment"]["status"], "SHIPPED", "{data}");
    }

    /// ADMIN runs the background jobs (the upload among them) now.
    pub(crate) async fn run_jobs(&self) {
        let data = self
            .app
            .gql_ok(
                Some(&self.shop.admin),
                "mutation { runOrderJobs }",
                json!({}),
            )
            .await;
        assert_eq!(data["runOrderJobs"], true);
    }
}

#[tokio::test]
async fn two_suppliers_upload_one_split_delivery_all_delivered_with_the_second_parcel() {
    let p = platform().await;
    let order = p
        .paid(p.shop.items(&[(0, 1), (1, 2)]), "k1", "4200000001")
        .await;
    let parts = p.fulfillments(&order).await;
    assert_eq!(parts.len(), 2, "{parts:?}");
    // Nothing has shipped: nothing to upload; the only call to WeChat is
    // the start-up check of trade management (`is_trade_managed`).
    p.run_jobs().await;
    assert!(p.api.uploads().is_empty());
    assert_eq!(p.api.delivery_list_calls(), 0);
    assert_eq!(p.api.is_trade_managed_calls(), 1);
    assert_eq!(p.api.stable_token_calls(), 1);
    assert!(parts[0]["wechatShipping"].is_null(), "{parts:?}");

    // 甲 ships by SF Express: the receiver's phone goes masked.
    p.ship(&p.shop.supplier_tokens[0], &parts[0], "顺丰", "SF100")
        .await;
    p.run_jobs().await;
    let uploads = p.api.uploads();
    assert_eq!(uploads.len(), 1, "{:?}", p.api.refused_uploads());
    let first = &uploads[0];
    assert_eq!(first["order_key"]["transaction_id"], "4200000001");
    assert_eq!(first["order_key"]["order_number_type"], 2);
    assert_eq!(first["logistics_type"], 1);
    assert_eq!(first["delivery_mode"], 2);
    assert_eq!(first["is_all_delivered"], false);
    assert_eq!(first["payer"]["openid"], "o-alice");
    let parcel = &first["shipping_list"][0];
    assert_eq!(parcel["express_company"], "SF");
    assert_eq!(parcel["tracking_no"], "SF100");
    assert_eq!(parcel["contact"]["receiver_contact"], "138****8000");
    assert_eq!(parcel["item_desc"], "甲供商品*1");
    let parts = p.fulfillments(&order).await;
    assert_eq!(
        parts[0]["wechatShipping"]["status"], "UPLOADED",
        "{parts:?}"
    );
    assert!(parts[0]["wechatShipping"]["uploadedAt"].is_string());
    assert!(parts[0]["wechatShipping"]["lastError"].is_null());
    assert!(parts[1]["wechatShipping"].is_null());

    // 乙 ships by ZTO (named as its supplier types it): the last parcel.
    p.ship(&p.shop.supplier_tokens[1], &parts[1], "中通快递", "ZT200")
        .await;
    p.run_jobs().await;
    let uploads = p.api.uploads();
    assert_eq!(uploads.len(), 2, "{:?}", p.api.refused_uploads());
    let second = &uploads[1];
    assert_eq!(second["delivery_mode"], 2);
    assert_eq!(second["is_all_delivered"], true);
    assert_eq!(second["shipping_list"][0]["express_company"], "ZTO");
    assert!(second["shipping_list"][0]["contact"].is_null());
    assert_eq!(second["shipping_list"][0]["item_desc"], "乙供商品*2");

    // Done: further passes upload nothing; one token, one delivery list.
    p.run_jobs().await;
    assert_eq!(p.api.uploads().len(), 2);
    assert!(p.api.refused_uploads().is_empty());
    assert_eq!(p.api.tokens_issued(), 1);
    assert_eq!(p.api.stable_token_calls(), 1);
    assert_eq!(p.api.delivery_list_calls(), 1);

    // The state is ADMIN's: a supplier reading its fulfillment is refused.
    let v = p
        .app
        .gql(
            Some(&p.shop.supplier_tokens[0]),
            "{ supplierFulfillments(first: 5) { nodes { id wechatShipping { status } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    // The token never leaves the server.
    let dump = serde_json::to_string(&p.fulfillments(&order).await).unwrap();
    assert!(!dump.contains("ACCESS-TOKEN"));
}

#[tokio::test]
async fn a_failed_upload_is_retried_with_back_off_and_shown_meanwhile() {
    let p = platform().await;
    let order = p.paid(p.shop.items(&[(2, 1)]), "k1", "4200000002").await;
    let parts = p.fulfillments(&order).await;
    assert_eq!(parts.len(), 1);
    p.ship(&p.shop.admin, &parts[0], "圆通速递", "YT300").await;
    p.api.fail_next_uploads(1);
    let now = chrono::Utc::now();
    assert_eq!(lib::upload_due(&p.app.state, now).await.unwrap(), 0);
    let shown = &p.fulfillments(&order).await[0]["wechatShipping"];
    assert_eq!(shown["status"], "PENDING", "{shown}");
    assert!(
        shown["lastError"].as_str().unwrap().contains("errcode -1"),
        "{shown}"
    );
    // Not due again before its back-off.
    assert_eq!(lib::upload_due(&p.app.state, now).await.unwrap(), 0);
    let later = now + chrono::Duration::minutes(2);
    assert_eq!(lib::upload_due(&p.app.state, later).await.unwrap(), 1);
    let shown = &p.fulfillments(&order).await[0]["wechatShipping"];
    assert_eq!(shown["status"], "UPLOADED", "{shown}");
    assert!(shown["lastError"].is_null());
    // A single parcel is a unified delivery.
    let uploads = p.api.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0]["delivery_mode"], 1);
    assert_eq!(uploads[0]["shipping_list"][0]["express_company"], "YTO");
    // Each attempt recorded, with what was sent.
    let order_id: i64 = text(&order["id"]).parse().unwrap();
    let rows = lib::attempts_of(&p.app.state, order_id).await.unwrap();
    assert_eq!(rows.len(), 1);
    let attempts = &rows[0].1;
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].errcode, Some(-1));
    assert!(attempts[1].error.is_none());
    assert!(attempts[1].request.contains("YT300"));
    assert!(!attempts[1].request.contains("ACCESS-TOKEN"));
    // Counted per purpose in /metrics.
    let metrics = p.app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("siyu_wechat_api_errors_total")
                && l.contains("purpose=\"upload_shipping_info\"")
                && l.contains("kind=\"errcode\"")),
        "{metrics}"
    );
}

#[tokio::test]
async fn an_expired_token_is_fetched_again_once_and_the_call_repeated() {
    let p = platform().await;
    let first = p.paid(p.shop.items(&[(2, 1)]), "k1", "4200000003").await;
    let parts = p.fulfillments(&first).await;
    p.ship(&p.shop.admin, &parts[0], "京东物流", "JD1").await;
    p.run_jobs().await;
    assert_eq!(p.api.uploads().len(), 1);
    assert_eq!(p.api.tokens_issued(), 1);

    // WeChat expires the token while siyu's cache still holds it: the
    // upload is answered 42001, the token fetched again, the upload repeated.
    p.api.expire_tokens();
    let second = p.paid(p.shop.items(&[(2, 1)]), "k2", "4200000004").await;
    let parts = p.fulfillments(&second).await;
    p.ship(&p.shop.admin, &parts[0], "JD", "JD2").await;
    p.run_jobs().await;
    assert_eq!(p.api.uploads().len(), 2, "{:?}", p.api.refused_uploads());
    assert_eq!(p.api.tokens_issued(), 2);
    assert_eq!(p.api.stable_token_calls(), 2);
    let shown = &p.fulfillments(&second).await[0]["wechatShipping"];
    assert_eq!(shown["status"], "UPLOADED", "{shown}");
}

#[tokio::test]
async fn a_top_up_paid_through_wechat_is_uploaded_as_virtual_goods() {
    let p = platform().await;
    let plan = top_up_plan(&p.app, &p.shop.admin, 10000, 500).await;
    let data = p
        .app
        .gql_ok(
            Some(&p.buyer),
            "mutation($p: ID!, $k: String!) { topUp(planId: $p, idempotencyKey: $k) { order { id orderNo payableFen } } }",
            json!({ "p": plan, "k": "t1" }),
        )
        .await;
    let order = data["topUp"]["order"].clone();
    p.notify_paid(&order, "4200000005").await;
    p.run_jobs().await;
    let uploads = p.api.uploads();
    assert_eq!(uploads.len(), 1, "{:?}", p.api.refused_uploads());
    let u = &uploads[0];
    assert_eq!(u["logistics_type"], 3);
    assert_eq!(u["delivery_mode"], 1);
    assert_eq!(u["order_key"]["transaction_id"], "4200000005");
    assert_eq!(u["shipping_list"][0]["item_desc"], "储值 top-up");
    assert!(u["shipping_list"][0]["tracking_no"].is_null());
    p.run_jobs().await;
    assert_eq!(p.api.uploads().len(), 1);
}

#[tokio::test]
async fn a_carrier_wechat_does_not_know_waits_with_its_reason() {
    let p = platform().await;
    let order = p.paid(p.shop.items(&[(2, 1)]), "k1", "4200000006").await;
    let parts = p.fulfillments(&order).await;
    p.ship(&p.shop.admin, &parts[0], "某某物流", "X1").await;
    p.run_jobs().await;
    assert!(p.api.uploads().is_empty());
    let shown = &p.fulfillments(&order).await[0]["wechatShipping"];
    assert_eq!(shown["status"], "PENDING", "{shown}");
    assert!(
        shown["lastError"].as_str().unwrap().contains("某某物流"),
        "{shown}"
    );

    // ADMIN maps the name to one of WeChat's ids and uploads again at once.
    const MAP: &str =
        "mutation($c: String!, $d: String!) { mapWechatCarrier(carrier: $c, deliveryId: $d) }";
    const REUPLOAD: &str = "mutation($id: ID!) { reuploadWechatShipping(fulfillmentId: $id) { status uploadedAt lastError attempts } }";
    let v = p
        .app
        .gql(
            Some(&p.shop.supplier_tokens[0]),
            MAP,
            json!({ "c": "某某物流", "d": "ZTO" }),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let v = p
        .app
        .gql(
            Some(&p.shop.admin),
            MAP,
            json!({ "c": "某某物流", "d": "NOPE" }),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "deliveryId");
    p.app
        .gql_ok(
            Some(&p.shop.admin),
            MAP,
            json!({ "c": "某某物流", "d": "zto" }),
        )
        .await;
    let v = p
        .app
        .gql(Some(&p.buyer), REUPLOAD, json!({ "id": parts[0]["id"] }))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let data = p
        .app
        .gql_ok(
            Some(&p.shop.admin),
            REUPLOAD,
            json!({ "id": parts[0]["id"] }),
        )
        .await;
    let shown = &data["reuploadWechatShipping"];
    assert_eq!(shown["status"], "UPLOADED", "{shown}");
    assert_eq!(shown["attempts"], 2);
    let uploads = p.api.uploads();
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0]["shipping_list"][0]["express_company"], "ZTO");
    // Once WeChat has it, a re-upload is refused (corrections are not built).
    let v = p
        .app
        .gql(
            Some(&p.shop.admin),
            REUPLOAD,
            json!({ "id": parts[0]["id"] }),
        )
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");
    assert_eq!(p.api.uploads().len(), 1);
}

#[tokio::test]
async fn uploads_are_off_unless_turned_on() {
    let p = platform_with(&[]).await;
    let order = p.paid(p.shop.items(&[(2, 1)]), "k1", "4200000007").await;
    let parts = p.fulfillments(&order).await;
    p.ship(&p.shop.admin, &parts[0], "顺丰", "SF1").await;
    p.run_jobs().await;
    assert!(p.api.uploads().is_empty());
    assert_eq!(p.api.stable_token_calls(), 0);
    assert!(p.fulfillments(&order).await[0]["wechatShipping"].is_null());
}

/// Two instances sharing Redis ask for a token at once: one fetches it,
/// the other gets the same one from the shared cache.
#[tokio::test]
#[ignore = "needs PostgreSQL and Redis (TEST_DATABASE_URL, TEST_REDIS_URL)"]
async fn two_instances_sharing_redis_fetch_the_token_once() {
    let p = platform().await;
    let env = env(&p.api, &p.pay, &[("WECHAT_SHIPPING_UPLOAD", "true")]);
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let second = spawn_second_with(&p.app, &refs).await;
    let a = p.app.state.wechat_api.clone().expect("WeChat configured");
    let b = second.state.wechat_api.clone().expect("WeChat configured");
    let (ta, tb) = tokio::join!(a.token(), b.token());
    let (ta, tb) = (ta.expect("a token"), tb.expect("a token"));
    assert_eq!(ta, tb);
    assert_eq!(p.api.stable_token_calls(), 1);
    assert_eq!(p.api.tokens_issued(), 1);

    // After a 42001 on one instance, the other uses the new token too.
    p.api.expire_tokens();
    let order = p.paid(p.shop.items(&[(2, 1)]), "k1", "4200000008").await;
    let parts = p.fulfillments(&order).await;
    p.ship(&p.shop.admin, &parts[0], "顺丰", "SF8").await;
    assert_eq!(
        lib::upload_due(&second.state, chrono::Utc::now())
            .await
            .unwrap(),
        1
    );
    assert_eq!(p.api.tokens_issued(), 2);
    let again = a.token().await.expect("a token");
    assert_ne!(again, ta);
    assert_eq!(p.api.tokens_issued(), 2);
}

// WeChat's message push.

pub(crate) const TOKEN: &str = "push-token";
pub(crate) const AES_KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const OTHER_KEY: &str = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";

fn sha1_sorted(parts: &[&str]) -> String {
    let mut sorted = parts.to_vec();
    sorted.sort_unstable();
    sha1_smol::Sha1::from(sorted.concat()).digest().to_string()
}

/// Encrypts `message` as WeChat's security mode does (AES-256-CBC, IV the
/// key's first 16 bytes, 16 random bytes + length + message + app id,
/// PKCS#7 to 32 bytes).
fn seal(encoding_aes_key: &str, appid: &str, message: &str) -> String {
    use aes::cipher::{BlockEncryptMut, KeyIvInit, block_padding::NoPadding};
    use base64::{Engine, engine::general_purpose::STANDARD};
    let key = siyu::wechat::message::aes_key(encoding_aes_key).expect("an EncodingAESKey");
    let mut plain = uuid::Uuid::new_v4().as_bytes().to_vec();
    plain.extend_from_slice(&(message.len() as u32).to_be_bytes());
    plain.extend_from_slice(message.as_bytes());
    plain.extend_from_slice(appid.as_bytes());
    let pad = 32 - plain.len() % 32;
    plain.extend(std::iter::repeat_n(pad as u8, pad));
    let len = plain.len();
    let out = cbc::Encryptor::<aes::Aes256>::new_from_slices(&key, &key[..16])
        .unwrap()
        .encrypt_padded_mut::<NoPadding>(&mut plain, len)
        .unwrap()
        .to_vec();
    STANDARD.encode(out)
}

impl Platform {
    /// POSTs a push sealed with `key` for `appid` and signed with `token`;
    /// returns the status and body.
    pub(crate) async fn push(
        &self,
        token: &str,
        key: &str,
        appid: &str,
        message: &Value,
    ) -> (u16, String) {
        let (ts, nonce) = (chrono::Utc::now().timestamp().to_string(), "n0nce");
        let encrypted = seal(key, appid, &message.to_string());
        let msg_signature = sha1_sorted(&[token, &ts, nonce, &encrypted]);
        let signature = sha1_sorted(&[token, &ts, nonce]);
        let res = self
            .app
            .client
            .post(format!("{}/webhooks/wechat-message", self.app.address))
            .query(&[
                ("signature", signature.as_str()),
                ("timestamp", ts.as_str()),
                ("nonce", nonce),
                ("openid", "o-alice"),
                ("encrypt_type", "aes"),
                ("msg_signature", msg_signature.as_str()),
            ])
            .body(json!({ "ToUserName": "gh_store", "Encrypt": encrypted }).to_string())
            .send()
            .await
            .expect("push sent");
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn status(&self, order: &Value) -> Value {
        self.app
            .gql_ok(
                Some(&self.buyer),
                "query($id: ID!) { order(id: $id) { status } }",
                json!({ "id": order["id"] }),
            )
            .await["order"]["status"]
            .clone()
    }
}

fn settlement(txid: &str) -> Value {
    json!({
        "ToUserName": "gh_store", "FromUserName": "o-alice", "CreateTime": 1764763200,
        "MsgType": "event", "Event": "trade_manage_order_settlement",
        "transaction_id": txid, "merchant_id": "1900000001", "sub_merchant_id": "",
        "merchant_trade_no": "", "pay_time": 1764700000, "shipped_time": 1764710000,
        "estimated_settlement_time": 1765000000, "confirm_receive_method": 1,
        "confirm_receive_time": 1764763100, "settlement_time": 1764763200
    })
}

#[tokio::test]
async fn a_signed_encrypted_settlement_push_completes_the_order_and_forged_ones_do_not() {
    let p = platform_with(&[
        ("WECHAT_MESSAGE_TOKEN", TOKEN),
        ("WECHAT_MESSAGE_AES_KEY", AES_KEY),
    ])
    .await;
    let order = p.paid(p.shop.items(&[(2, 1)]), "k1", "4200000009").await;
    let parts = p.fulfillments(&order).await;
    p.ship(&p.shop.admin, &parts[0], "顺丰", "SF9").await;
    assert_eq!(p.status(&order).await, "SHIPPED");
    let push = settlement("4200000009");

    // Forged: another token, another key, another app, or not encrypted.
    let (status, _) = p.push("not-the-token", AES_KEY, APPID, &push).await;
    assert_eq!(status, 401);
    let (status, _) = p.push(TOKEN, OTHER_KEY, APPID, &push).await;
    assert_eq!(status, 400);
    let (status, _) = p.push(TOKEN, AES_KEY, "wx-other-app", &push).await;
    assert_eq!(status, 400);
    let ts = chrono::Utc::now().timestamp().to_string();
    let plain = p
        .app
        .client
        .post(format!("{}/webhooks/wechat-message", p.app.address))
        .query(&[
            ("signature", sha1_sorted(&[TOKEN, &ts, "n"]).as_str()),
            ("timestamp", ts.as_str()),
            ("nonce", "n"),
        ])
        .body(push.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        plain.status().as_u16(),
        401,
        "security mode takes only encrypted pushes"
    );
    assert_eq!(p.status(&order).await, "SHIPPED");

    // Genuine: the buyer confirmed receipt in WeChat.
    let (status, body) = p.push(TOKEN, AES_KEY, APPID, &push).await;
    assert_eq!((status, body.as_str()), (200, "success"));
    assert_eq!(p.status(&order).await, "COMPLETED");
    // WeChat repeats pushes it is not sure arrived: the same answer, no change.
    let (status, body) = p.push(TOKEN, AES_KEY, APPID, &push).await;
    assert_eq!((status, body.as_str()), (200, "success"));
    assert_eq!(p.status(&order).await, "COMPLETED");

    let metrics = p.app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with("siyu_wechat_messages_total")
            && l.contains("event=\"refused\"")),
        "{metrics}"
    );
}

#[tokio::test]
async fn the_url_verification_echoes_only_a_signed_echostr() {
    let p = platform_with(&[
        ("WECHAT_MESSAGE_TOKEN", TOKEN),
        ("WECHAT_MESSAGE_AES_KEY", AES_KEY),
    ])
    .await;
    let verify = |signature: String| {
        p.app
            .client
            .get(format!("{}/webhooks/wechat-message", p.app.address))
            .query(&[
                ("signature", signature.as_str()),
                ("timestamp", "1764763200"),
                ("nonce", "abc"),
                ("echostr", "echo-123"),
            ])
            .send()
    };
    let ok = verify(sha1_sorted(&[TOKEN, "1764763200", "abc"]))
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    assert_eq!(ok.text().await.unwrap(), "echo-123");
    let forged = verify(sha1_sorted(&["other", "1764763200", "abc"]))
        .await
        .unwrap();
    assert_eq!(forged.status().as_u16(), 401);

    // Without a token configured there is no endpoint.
    let plain = platform_with(&[]).await;
    let res = plain
        .app
        .client
        .post(format!("{}/webhooks/wechat-message", plain.app.address))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
}
