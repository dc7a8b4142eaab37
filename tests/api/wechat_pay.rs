//! WeChat Pay v3 end to end against the signed stand-in: prepay with a
//! merchant signature, notifications (genuine, repeated, forged, stale,
//! mismatched), payment after cancellation, refunds.
use serde_json::{Value, json};
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{path, query_param},
};

use crate::{
    fixtures::{
        DEMO_PAY, approve_refund, cancel, create_category, create_product, lib, order_of, place,
        refund_requested, save_address, text,
    },
    helpers::{TestApp, error_code, ok, spawn_app_with},
    wechatpay_standin::WechatPayStandIn,
};

const APPID: &str = "wx-test-app";

pub(crate) struct PayShop {
    pub(crate) app: TestApp,
    pub(crate) pay: WechatPayStandIn,
    pub(crate) wechat: MockServer,
    pub(crate) admin: String,
    pub(crate) buyer: String,
    pub(crate) sku: String,
}

pub(crate) async fn pay_shop() -> PayShop {
    pay_shop_with(&[]).await
}

/// [`pay_shop`] with more settings.
pub(crate) async fn pay_shop_with(extra: &[(&str, &str)]) -> PayShop {
    let wechat = MockServer::start().await;
    Mock::given(path("/sns/jscode2session"))
        .and(query_param("js_code", "code-alice"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(r#"{"openid":"o-alice","session_key":"k"}"#),
        )
        .mount(&wechat)
        .await;
    let pay = WechatPayStandIn::start().await;
    pay.mount_default().await;
    let mut env: Vec<(String, String)> = pay.env();
    env.extend([
        ("WECHAT_APPID".to_string(), APPID.to_string()),
        ("WECHAT_SECRET".to_string(), "secret".to_string()),
        ("WECHAT_API_BASE".to_string(), wechat.uri()),
    ]);
    let mut refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    refs.extend_from_slice(extra);
    let app = spawn_app_with(&refs).await;
    let admin = app.admin_token().await;
    let cat = create_category(&app, &admin, "c", None).await;
    let p = create_product(&app, &admin, &cat, "车厘子", &[12900]).await;
    let sku = p["skus"][0]["id"].as_str().unwrap().to_string();
    let v = app.login("code-alice", None, None).await;
    let buyer = text(&ok(&v)["wechatLogin"]["accessToken"]);
    save_address(&app, &buyer).await;
    PayShop {
        app,
        pay,
        wechat,
        admin,
        buyer,
        sku,
    }
}

/// An order placed and waiting for WeChat Pay.
pub(crate) struct Unpaid {
    pub(crate) id: Value,
    pub(crate) no: String,
    pub(crate) total: i64,
    /// `placeOrder`'s answer.
    pub(crate) placed: Value,
}

impl PayShop {
    pub(crate) async fn unpaid(&self) -> Unpaid {
        let placed = self.place("k1").await;
        Unpaid {
            id: placed["order"]["id"].clone(),
            no: text(&placed["order"]["orderNo"]),
            total: placed["order"]["payableFen"].as_i64().unwrap(),
            placed,
        }
    }

    /// WeChat Pay notifies that `order` was paid in transaction `txid`;
    /// returns the HTTP status the store answers with.
    pub(crate) async fn notify_paid(&self, order: &Unpaid, txid: &str) -> u16 {
        let tx = self.transaction(&order.no, order.total, txid);
        self.notify(self.pay.notification(&tx, now())).await
    }

    pub(crate) async fn place(&self, key: &str) -> Value {
        let v = place(
            &self.app,
            &self.buyer,
            json!([{ "skuId": self.sku, "quantity": 1 }]),
            key,
        )
        .await;
        assert!(v["errors"].is_null(), "{v}");
        v["data"]["placeOrder"].clone()
    }

    pub(crate) fn transaction(&self, order_no: &str, total: i64, txid: &str) -> Value {
        json!({
            "appid": APPID, "mchid": self.pay.mchid, "out_trade_no": order_no, "transaction_id": txid,
            "trade_type": "JSAPI", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
            "amount": { "total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY" },
            "payer": { "openid": "o-alice" }, "success_time": "2026-11-22T12:00:00+08:00"
        })
    }

    pub(crate) async fn notify(&self, (headers, body): (Vec<(String, String)>, String)) -> u16 {
        let mut req = self
            .app
            .client
            .post(format!("{}/webhooks/wechat-pay", self.app.address))
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send().await.unwrap().status().as_u16()
    }

    pub(crate) async fn status(&self, id: &Value) -> Value {
        order_of(&self.app, &self.buyer, id).await
    }

    /// The buyer cancels its unpaid order.
    pub(crate) async fn cancel(&self, id: &Value) {
        cancel(&self.app, &self.buyer, id).await;
    }

    /// The buyer asks for a refund of its paid order; returns the refund id.
    pub(crate) async fn refund_requested(&self, id: &Value) -> Value {
        refund_requested(&self.app, &self.buyer, id).await["id"].clone()
    }

    /// ADMIN approves a refund; returns the whole response.
    pub(crate) async fn approve(&self, refund: &Value) -> Value {
        approve_refund(&self.app, &self.admin, refund).await
    }

    /// WeChat Pay's refund API is down for one call.
    pub(crate) async fn refuse_next_refund(&self) {
        Mock::given(path("/v3/refund/domestic/refunds"))
            .respond_with(
                ResponseTemplate::new(503)
                    .set_body_json(json!({ "code": "SYSTEM_ERROR", "message": "busy" })),
            )
            .with_priority(1)
            .up_to_n_times(1)
            .mount(&self.pay.server)
            .await;
    }

    pub(crate) async fn calls(&self, path: &str) -> Vec<Value> {
        self.pay
            .requests()
            .await
            .into_iter()
            .filter(|(_, p, _)| p == path)
            .map(|(_, _, body)| body)
            .collect()
    }
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn placing_opens_one_signed_prepay_and_returns_request_payment_params() {
    let s = pay_shop().await;
    let placed = s.place("k1").await;
    let params = &placed["wechatPayParams"];
    assert_eq!(params["appId"], APPID);
    assert_eq!(params["signType"], "RSA");
    assert!(
        params["package"]
            .as_str()
            .unwrap()
            .starts_with("prepay_id=wx_prepay_"),
        "{params}"
    );
    assert!(!params["paySign"].as_str().unwrap().is_empty());
    let order = &placed["order"];
    let prepays = s.calls("/v3/pay/transactions/jsapi").await;
    assert_eq!(prepays.len(), 1);
    let body = &prepays[0];
    assert_eq!(body["out_trade_no"], order["orderNo"]);
    assert_eq!(body["amount"]["total"], order["payableFen"]);
    assert_eq!(body["payer"]["openid"], "o-alice");
    assert_eq!(body["appid"], APPID);
    assert_eq!(body["mchid"], s.pay.mchid.as_str());

    // A replay returns the same order and opens no second prepay.
    let again = s.place("k1").await;
    assert_eq!(again["order"]["id"], order["id"]);
    assert_eq!(again["wechatPayParams"]["package"], params["package"]);
    assert_eq!(s.calls("/v3/pay/transactions/jsapi").await.len(), 1);
    // demoPay is not for a store with real payments.
    let v = s
        .app
        .gql(Some(&s.buyer), DEMO_PAY, json!({ "id": order["id"] }))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");
}

#[tokio::test]
async fn a_genuine_notification_pays_once() {
    let s = pay_shop().await;
    let o = s.unpaid().await;
    let (id, no, total) = (&o.id, o.no.as_str(), o.total);
    let tx = s.transaction(no, total, "4200000001");
    assert_eq!(s.notify(s.pay.notification(&tx, now())).await, 200);
    let o = s.status(id).await;
    assert_eq!(o["status"], "PAID");
    assert_eq!(o["paidFen"], total);
    assert_eq!(o["fulfillments"].as_array().unwrap().len(), 1);
    // WeChat repeats notifications: success again, nothing changes.
    assert_eq!(s.notify(s.pay.notification(&tx, now())).await, 200);
    let again = s.status(id).await;
    assert_eq!(again["fulfillments"].as_array().unwrap().len(), 1);
    assert_eq!(again["paidFen"], total);
    let v = s
        .app
        .gql(
            None,
            "query($id: ID!) { product(id: $id) { salesCount } }",
            json!({ "id": "1" }),
        )
        .await;
    assert_eq!(v["data"]["product"]["salesCount"], 1);
}

/// Notifications arriving together are confirmed together, each on its
/// own: a repeat in the crowd pays nothing twice, a second transaction for
/// an order is refunded, a wrong amount changes nothing and fails alone.
#[tokio::test]
async fn notifications_arriving_together_are_each_confirmed_on_their_own() {
    let s = pay_shop_with(&[("ORDER_BATCH_WINDOW_MS", "400")]).await;
    let mut orders = Vec::new();
    for key in ["t1", "t2", "t3"] {
        let placed = s.place(key).await;
        orders.push(Unpaid {
            id: placed["order"]["id"].clone(),
            no: text(&placed["order"]["orderNo"]),
            total: placed["order"]["payableFen"].as_i64().unwrap(),
            placed,
        });
    }
    let tx = |o: &Unpaid, total: i64, txid: &str| {
        s.pay
            .notification(&s.transaction(&o.no, total, txid), now())
    };
    let answers = futures_util::future::join_all([
        s.notify(tx(&orders[0], orders[0].total, "4200000101")),
        s.notify(tx(&orders[0], orders[0].total, "4200000101")),
        s.notify(tx(&orders[1], orders[1].total, "4200000102")),
        s.notify(tx(&orders[1], orders[1].total, "4200000103")),
        s.notify(tx(&orders[2], orders[2].total - 1, "4200000104")),
    ])
    .await;
    assert_eq!(answers, vec![200, 200, 200, 200, 400]);
    for o in &orders[..2] {
        let now = s.status(&o.id).await;
        assert_eq!(now["status"], "PAID", "{now}");
        assert_eq!(now["paidFen"], o.total);
        assert_eq!(now["fulfillments"].as_array().unwrap().len(), 1, "{now}");
    }
    assert_eq!(s.status(&orders[2].id).await["status"], "PENDING_PAYMENT");
    // The second transaction for the second order goes back; nothing else.
    let refunds = s.calls("/v3/refund/domestic/refunds").await;
    assert_eq!(refunds.len(), 1, "{refunds:?}");
    assert_eq!(refunds[0]["out_trade_no"], orders[1].no);
    let v = s
        .app
        .gql_ok(
            None,
            "query($id: ID!) { product(id: $id) { salesCount } hotProducts(limit: 1) { id salesCount } }",
            json!({ "id": "1" }),
        )
        .await;
    assert_eq!(v["product"]["salesCount"], 2, "{v}");
    assert_eq!(v["hotProducts"][0]["id"], "1", "{v}");
    assert_eq!(v["hotProducts"][0]["salesCount"], 2, "{v}");
    // The third order can still be paid, with the right amount.
    assert_eq!(
        s.notify(tx(&orders[2], orders[2].total, "4200000104"))
            .await,
        200
    );
    assert_eq!(s.status(&orders[2].id).await["status"], "PAID");
}

#[tokio::test]
async fn forged_stale_and_mismatched_notifications_change_nothing() {
    let s = pay_shop().await;
    let o = s.unpaid().await;
    let (id, no, total) = (&o.id, o.no.as_str(), o.total);
    let tx = s.transaction(no, total, "4200000002");
    assert_eq!(s.notify(s.pay.forged_notification(&tx, now())).await, 401);
    assert_eq!(
        s.notify(s.pay.notification(&tx, now() - 600)).await,
        401,
        "stale"
    );
    let cheap = s.transaction(no, total - 1, "4200000003");
    assert_eq!(
        s.notify(s.pay.notification(&cheap, now())).await,
        400,
        "wrong amount"
    );
    let mut other_merchant = tx.clone();
    other_merchant["mchid"] = json!("1900000000");
    assert_eq!(
        s.notify(s.pay.notification(&other_merchant, now())).await,
        400,
        "wrong mchid"
    );
    let mut other_app = tx.clone();
    other_app["appid"] = json!("wx-other");
    assert_eq!(
        s.notify(s.pay.notification(&other_app, now())).await,
        400,
        "wrong appid"
    );
    let unknown = s.transaction("20260101999999", total, "4200000004");
    assert_eq!(
        s.notify(s.pay.notification(&unknown, now())).await,
        400,
        "unknown order"
    );
    let (headers, body) = s.pay.notification(&tx, now());
    assert_eq!(
        s.notify((headers.clone(), body.replace('"', "'"))).await,
        401,
        "tampered body"
    );
    let no_headers: Vec<(String, String)> = headers
        .into_iter()
        .filter(|(k, _)| !k.starts_with("Wechatpay-Signature"))
        .collect();
    assert_eq!(s.notify((no_headers, body)).await, 400);
    assert_eq!(s.status(id).await["status"], "PENDING_PAYMENT");
    // After all that, the genuine one still works.
    assert_eq!(s.notify(s.pay.notification(&tx, now())).await, 200);
    assert_eq!(s.status(id).await["status"], "PAID");
}

#[tokio::test]
async fn a_payment_after_cancellation_is_recorded_and_refunded() {
    let s = pay_shop().await;
    let o = s.unpaid().await;
    let (id, no, total) = (&o.id, o.no.as_str(), o.total);
    s.cancel(id).await;
    let tx = s.transaction(no, total, "4200000005");
    assert_eq!(s.notify(s.pay.notification(&tx, now())).await, 200);
    assert_eq!(s.status(id).await["status"], "CANCELLED");
    let refunds = s.calls("/v3/refund/domestic/refunds").await;
    assert_eq!(refunds.len(), 1, "the money goes back");
    assert_eq!(refunds[0]["out_trade_no"], no);
    assert_eq!(refunds[0]["amount"]["refund"], total);
    // A repeat of that notification refunds nothing more.
    assert_eq!(s.notify(s.pay.notification(&tx, now())).await, 200);
    assert_eq!(s.calls("/v3/refund/domestic/refunds").await.len(), 1);
}

#[tokio::test]
async fn an_approved_refund_goes_back_through_wechat_pay() {
    let s = pay_shop().await;
    let o = s.unpaid().await;
    let (id, total) = (&o.id, o.total);
    assert_eq!(s.notify_paid(&o, "4200000006").await, 200);
    let refund = s.refund_requested(id).await;
    let v = s.approve(&refund).await;
    assert_eq!(v["data"]["approveRefund"]["status"], "REFUNDED", "{v}");
    let refunds = s.calls("/v3/refund/domestic/refunds").await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(refunds[0]["amount"]["refund"], total);
    assert_eq!(refunds[0]["amount"]["total"], total);
    assert_eq!(s.status(id).await["status"], "REFUNDED");
}

#[tokio::test]
async fn a_refund_wechat_refuses_at_first_is_retried_until_it_goes_through() {
    let s = pay_shop().await;
    let o = s.unpaid().await;
    let id = &o.id;
    assert_eq!(s.notify_paid(&o, "4200000007").await, 200);
    s.refuse_next_refund().await;
    let refund = s.refund_requested(id).await;
    let v = s.approve(&refund).await;
    assert_eq!(
        v["data"]["approveRefund"]["status"], "PROCESSING",
        "approved, money not yet back: {v}"
    );
    assert_eq!(
        s.status(id).await["status"],
        "REFUNDED",
        "the order side is done at once"
    );
    let v = s.approve(&refund).await;
    assert_eq!(error_code(&v), "CONFLICT", "approved once");
    let retry = lib::retry_refunds;
    assert_eq!(
        retry(&s.app.state, chrono::Utc::now()).await.unwrap(),
        0,
        "not before a minute has passed"
    );
    assert_eq!(
        retry(
            &s.app.state,
            chrono::Utc::now() + chrono::Duration::minutes(2)
        )
        .await
        .unwrap(),
        1
    );
    let refunds = s.calls("/v3/refund/domestic/refunds").await;
    assert_eq!(refunds.len(), 2, "the refused call and the retry");
    assert_eq!(
        refunds[0]["out_refund_no"], refunds[1]["out_refund_no"],
        "the same refund: WeChat Pay deduplicates it"
    );
    assert_eq!(
        retry(
            &s.app.state,
            chrono::Utc::now() + chrono::Duration::minutes(4)
        )
        .await
        .unwrap(),
        0,
        "sent once"
    );
}

#[tokio::test]
async fn a_late_payment_refund_wechat_refuses_at_first_still_goes_back_through_wechat_pay() {
    let s = pay_shop().await;
    let o = s.unpaid().await;
    let (id, no, total) = (&o.id, o.no.as_str(), o.total);
    s.cancel(id).await;
    s.refuse_next_refund().await;
    let tx = s.transaction(no, total, "4200000008");
    assert_eq!(s.notify(s.pay.notification(&tx, now())).await, 200);
    assert_eq!(s.calls("/v3/refund/domestic/refunds").await.len(), 1);
    let retry = lib::retry_refunds;
    let later = chrono::Utc::now() + chrono::Duration::minutes(2);
    assert_eq!(retry(&s.app.state, later).await.unwrap(), 1);
    let refunds = s.calls("/v3/refund/domestic/refunds").await;
    assert_eq!(
        refunds.len(),
        2,
        "the retry calls WeChat Pay again, it does not just mark the refund done"
    );
    assert_eq!(refunds[1]["out_trade_no"], no);
    assert_eq!(refunds[1]["amount"]["refund"], total);
    assert_eq!(refunds[0]["out_refund_no"], refunds[1]["out_refund_no"]);
}

#[tokio::test]
async fn cancelling_closes_the_wechat_pay_transaction() {
    let s = pay_shop().await;
    let o = s.unpaid().await;
    let (id, no) = (&o.id, o.no.as_str());
    s.cancel(id).await;
    let closes = s
        .calls(&format!("/v3/pay/transactions/out-trade-no/{no}/close"))
        .await;
    assert_eq!(closes.len(), 1, "the open payment sheet can no longer pay");
    assert_eq!(closes[0]["mchid"], s.pay.mchid.as_str());
}

#[tokio::test]
async fn an_unpaid_order_can_be_paid_again_from_the_order_list() {
    let s = pay_shop().await;
    let o = s.unpaid().await;
    let (id, no, total) = (&o.id, o.no.as_str(), o.total);
    let pay = "mutation($id: ID!) { payOrder(id: $id) { order { id status } wechatPayParams { package paySign } } }";
    let v = s.app.gql(Some(&s.buyer), pay, json!({ "id": id })).await;
    let again = &v["data"]["payOrder"];
    assert_eq!(again["order"]["id"], *id, "{v}");
    assert_eq!(
        again["wechatPayParams"]["package"], o.placed["wechatPayParams"]["package"],
        "the same WeChat Pay transaction"
    );
    assert_eq!(s.calls("/v3/pay/transactions/jsapi").await.len(), 1);

    Mock::given(path("/sns/jscode2session"))
        .and(query_param("js_code", "code-mallory"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(r#"{"openid":"o-mallory","session_key":"k"}"#),
        )
        .mount(&s.wechat)
        .await;
    let v = s.app.login("code-mallory", None, None).await;
    let other = text(&ok(&v)["wechatLogin"]["accessToken"]);
    let v = s.app.gql(Some(&other), pay, json!({ "id": id })).await;
    assert_eq!(error_code(&v), "NOT_FOUND", "another customer's order: {v}");
    let v = s.app.gql(Some(&s.admin), pay, json!({ "id": id })).await;
    assert_eq!(error_code(&v), "FORBIDDEN");
    let v = s.app.gql(Some(&s.buyer), pay, json!({ "id": "x" })).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT");

    let tx = s.transaction(no, total, "4200000009");
    assert_eq!(s.notify(s.pay.notification(&tx, now())).await, 200);
    let v = s.app.gql(Some(&s.buyer), pay, json!({ "id": id })).await;
    assert_eq!(error_code(&v), "CONFLICT", "a paid order is not paid twice");
}
