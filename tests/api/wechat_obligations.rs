//! The WeChat platform's follow-up obligations against the stand-ins:
//! subscription messages sent (one consent each, 43101 drops it), parcel
//! tracking, one tracking-number correction per payment, and WeChat's
//! reminder to ship.
use serde_json::json;

use crate::{
    fixtures::SHIP,
    helpers::{error_code, ok},
    wechat_platform::{Platform, platform_with},
};

const TPL_SHIP: &str = "TPL-SHIPPED-0001";
const TPL_REFUND: &str = "TPL-REFUND-0001";

async fn platform() -> Platform {
    platform_with(&[
        ("WECHAT_SHIPPING_UPLOAD", "true"),
        (
            "WECHAT_SUBSCRIBE_TEMPLATES",
            // Every event configured, so that each kind's search runs.
            "ORDER_SHIPPED=TPL-SHIPPED-0001,REFUND_RESULT=TPL-REFUND-0001,\
             COMMISSION_SETTLED=TPL-COMMISSION-0001,WITHDRAWAL_PAID=TPL-WITHDRAWAL-0001",
        ),
    ])
    .await
}

impl Platform {
    /// The buyer records consents for `templates` in siyu (as the
    /// mini-program does after `wx.requestSubscribeMessage`).
    async fn consent(&self, templates: &[&str]) {
        let data = self
            .app
            .gql_ok(
                Some(&self.buyer),
                "mutation($t: [String!]!) { recordSubscriptionConsents(templateIds: $t) }",
                json!({ "t": templates }),
            )
            .await;
        assert_eq!(
            data["recordSubscriptionConsents"],
            templates.len(),
            "{data}"
        );
    }

    async fn buyer_id(&self) -> i64 {
        let data = self
            .app
            .gql_ok(Some(&self.buyer), "{ me { id } }", json!({}))
            .await;
        data["me"]["id"].as_str().unwrap().parse().unwrap()
    }

    async fn consents(&self) -> Vec<(String, i32)> {
        siyu::modules::wechat_platform::service::consents_of(&self.app.state, self.buyer_id().await)
            .await
            .unwrap()
    }

    /// A paid one-parcel order, shipped by its supplier.
    async fn shipped(&self, key: &str, txid: &str, tracking: &str) -> serde_json::Value {
        let order = self.paid(self.shop.items(&[(0, 1)]), key, txid).await;
        let parts = self.fulfillments(&order).await;
        assert_eq!(parts.len(), 1, "{parts:?}");
        self.ship(
            &self.shop.supplier_tokens[0],
            &parts[0],
            "中通快递",
            tracking,
        )
        .await;
        order
    }
}

#[tokio::test]
async fn a_shipped_order_sends_one_subscription_message_and_only_with_a_consent() {
    let p = platform().await;
    p.api.grant_consent("o-alice", TPL_SHIP, 5);

    // No consent recorded in siyu: the parcel ships, nothing is sent.
    p.shipped("k1", "4200000101", "ZT101").await;
    p.run_jobs().await;
    assert!(p.api.sends().is_empty(), "{:?}", p.api.sends());
    assert!(p.api.refused_sends().is_empty());

    // One consent: the next shipment sends one message, spending it; the
    // parcel shipped before the consent is not news and sends nothing.
    p.consent(&[TPL_SHIP]).await;
    assert_eq!(p.consents().await, vec![(TPL_SHIP.to_string(), 1)]);
    // Consents of the other events: they have no event here and stay unspent.
    p.consent(&[
        "TPL-REFUND-0001",
        "TPL-COMMISSION-0001",
        "TPL-WITHDRAWAL-0001",
    ])
    .await;
    let order = p.shipped("k2", "4200000102", "ZT102").await;
    p.run_jobs().await;
    p.run_jobs().await;
    let sends = p.api.sends();
    assert_eq!(sends.len(), 1, "{sends:?} {:?}", p.api.refused_sends());
    let sent = &sends[0];
    assert_eq!(sent["touser"], "o-alice");
    assert_eq!(sent["template_id"], TPL_SHIP);
    assert_eq!(
        sent["page"],
        format!("pages/order/detail?id={}", order["id"].as_str().unwrap())
    );
    assert_eq!(sent["miniprogram_state"], "formal");
    assert_eq!(sent["data"]["character_string1"]["value"], order["orderNo"]);
    assert_eq!(sent["data"]["character_string3"]["value"], "ZT102");
    assert_eq!(sent["data"]["thing2"]["value"], "中通快递");
    let others = |ship: i32| {
        vec![
            ("TPL-COMMISSION-0001".to_string(), 1),
            ("TPL-REFUND-0001".to_string(), 1),
            (TPL_SHIP.to_string(), ship),
            ("TPL-WITHDRAWAL-0001".to_string(), 1),
        ]
    };
    assert_eq!(p.consents().await, others(0));

    // The consent is spent: a third shipment sends nothing.
    p.shipped("k3", "4200000103", "ZT103").await;
    p.run_jobs().await;
    assert_eq!(p.api.sends().len(), 1);
    assert_eq!(p.consents().await, others(0));
}

#[tokio::test]
async fn a_refusal_43101_drops_the_consent_and_a_busy_wechat_is_tried_again() {
    let p = platform().await;
    // siyu counts two consents; WeChat holds none (the user switched
    // notices off): the send is refused and both are dropped.
    p.consent(&[TPL_SHIP]).await;
    p.consent(&[TPL_SHIP]).await;
    assert_eq!(p.consents().await, vec![(TPL_SHIP.to_string(), 2)]);
    p.shipped("k1", "4200000201", "ZT201").await;
    p.run_jobs().await;
    let refused = p.api.refused_sends();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].0, 43101);
    assert!(p.api.sends().is_empty());
    assert_eq!(p.consents().await, vec![(TPL_SHIP.to_string(), 0)]);
    let id = p.buyer_id().await;
    let messages = siyu::modules::wechat_platform::service::messages_of(&p.app.state, id)
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].0.status, "REFUSED");
    assert_eq!(messages[0].1.len(), 1);
    assert_eq!(messages[0].1[0].errcode, Some(43101));
    // Nothing is tried again.
    p.run_jobs().await;
    assert_eq!(p.api.refused_sends().len(), 1);

    // A new consent on both sides; WeChat is busy once: the message waits
    // for its next attempt (a minute later), then goes.
    p.api.grant_consent("o-alice", TPL_SHIP, 1);
    p.consent(&[TPL_SHIP]).await;
    p.api.fail_next_sends(1);
    p.shipped("k2", "4200000202", "ZT202").await;
    p.run_jobs().await;
    assert!(p.api.sends().is_empty());
    let later = chrono::Utc::now() + chrono::Duration::minutes(2);
    let sent =
        siyu::modules::wechat_platform::service::send_subscription_messages(&p.app.state, later)
            .await
            .unwrap();
    assert_eq!(sent, 1);
    assert_eq!(p.api.sends().len(), 1);
    let messages = siyu::modules::wechat_platform::service::messages_of(&p.app.state, id)
        .await
        .unwrap();
    assert_eq!(messages[1].0.status, "SENT");
    assert_eq!(messages[1].1.len(), 2, "both attempts recorded");
    assert_eq!(messages[1].1[0].errcode, Some(-1));
    assert_eq!(p.consents().await, vec![(TPL_SHIP.to_string(), 0)]);
}

#[tokio::test]
async fn nothing_is_sent_in_demo_mode() {
    // Without WeChat credentials the consent is recorded but never spent.
    let app = crate::helpers::spawn_app_with(&[(
        "WECHAT_SUBSCRIBE_TEMPLATES",
        "ORDER_SHIPPED=TPL-SHIPPED-0001",
    )])
    .await;
    let v = app.login("demo:alice", None, None).await;
    let token = ok(&v)["wechatLogin"]["accessToken"]
        .as_str()
        .unwrap()
        .to_string();
    let data = app
        .gql_ok(
            Some(&token),
            "mutation { recordSubscriptionConsents(templateIds: [\"TPL-SHIPPED-0001\"]) }",
            json!({}),
        )
        .await;
    assert_eq!(data["recordSubscriptionConsents"], 1);
    let sent = siyu::modules::wechat_platform::service::send_subscription_messages(
        &app.state,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    assert_eq!(sent, 0);
}

const TRACKING: &str = "query($id: ID!) { order(id: $id) { fulfillments { id trackingNo tracking { time description actionType } } } }";

impl Platform {
    /// The buyer's view of the order's only parcel.
    async fn parcel(&self, order: &serde_json::Value) -> serde_json::Value {
        let data = self
            .app
            .gql_ok(Some(&self.buyer), TRACKING, json!({ "id": order["id"] }))
            .await;
        data["order"]["fulfillments"][0].clone()
    }
}

#[tokio::test]
async fn tracking_is_answered_from_wechat_cached_and_empty_when_it_has_nothing() {
    let p = platform().await;
    // The carrier has nothing on the first parcel yet: empty, not an error.
    let quiet = p.shipped("k1", "4200000301", "ZT301").await;
    let parcel = p.parcel(&quiet).await;
    assert_eq!(parcel["trackingNo"], "ZT301");
    assert_eq!(parcel["tracking"], json!([]), "{parcel}");
    assert_eq!(p.api.trace_calls(), 2, "trace_waybill then query_trace");

    // The second has a trace: oldest step first.
    p.api.set_trace(
        "ZT302",
        &[
            (1764748800, 200001, "到达杭州转运中心"),
            (1764745200, 100001, "快件已揽收"),
        ],
    );
    let moving = p.shipped("k2", "4200000302", "ZT302").await;
    let parcel = p.parcel(&moving).await;
    let steps = parcel["tracking"].as_array().unwrap();
    assert_eq!(steps.len(), 2, "{parcel}");
    assert_eq!(steps[0]["description"], "快件已揽收");
    assert_eq!(steps[0]["actionType"], 100001);
    assert_eq!(steps[1]["description"], "到达杭州转运中心");
    assert!(
        steps[0]["time"]
            .as_str()
            .unwrap()
            .starts_with("2025-12-03T")
    );
    let calls = p.api.trace_calls();

    // Asked again within minutes: from the cache, WeChat not asked.
    p.api.set_trace("ZT302", &[(1764752400, 300003, "已签收")]);
    let again = p.parcel(&moving).await;
    assert_eq!(again["tracking"], parcel["tracking"]);
    assert_eq!(p.api.trace_calls(), calls);
}

#[tokio::test]
async fn one_tracking_number_correction_per_payment_and_a_second_is_refused() {
    let p = platform().await;
    let order = p.shipped("k1", "4200000401", "ZT401").await;
    p.run_jobs().await;
    assert_eq!(p.api.uploads().len(), 1, "{:?}", p.api.refused_uploads());
    let parts = p.fulfillments(&order).await;
    let supplier = &p.shop.supplier_tokens[0];

    // The supplier typed the number wrong: corrected once, and WeChat gets
    // the corrected upload once.
    let data = p
        .app
        .gql_ok(
            Some(supplier),
            SHIP,
            json!({ "id": parts[0]["id"], "c": "中通快递", "t": "ZT402" }),
        )
        .await;
    assert_eq!(data["shipFulfillment"]["trackingNo"], "ZT402");
    assert_eq!(data["shipFulfillment"]["status"], "SHIPPED");
    p.run_jobs().await;
    p.run_jobs().await;
    let uploads = p.api.uploads();
    assert_eq!(uploads.len(), 2, "{:?}", p.api.refused_uploads());
    assert_eq!(uploads[1]["shipping_list"][0]["tracking_no"], "ZT402");
    assert_eq!(
        uploads[1]["order_key"]["transaction_id"],
        uploads[0]["order_key"]["transaction_id"]
    );
    let parts = p.fulfillments(&order).await;
    assert_eq!(
        parts[0]["wechatShipping"]["status"], "UPLOADED",
        "{parts:?}"
    );

    // A second change is refused clearly, and nothing changes.
    let v = p
        .app
        .gql(
            Some(supplier),
            SHIP,
            json!({ "id": parts[0]["id"], "c": "中通快递", "t": "ZT403" }),
        )
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");
    let message = v["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("one correction"), "{message}");
    let parcel = p.parcel(&order).await;
    assert_eq!(parcel["trackingNo"], "ZT402");
    p.run_jobs().await;
    assert_eq!(p.api.uploads().len(), 2);
    assert!(p.api.refused_uploads().is_empty());
}

fn remind(txid: &str) -> serde_json::Value {
    json!({
        "ToUserName": "gh_store", "FromUserName": "o-alice", "CreateTime": 1764763200,
        "MsgType": "event", "Event": "trade_manage_remind_shipping",
        "transaction_id": txid, "merchant_id": "1900000001", "sub_merchant_id": "",
        "merchant_trade_no": "", "pay_time": 1764700000,
        "msg": "您有一笔订单未发货，请尽快发货"
    })
}

#[tokio::test]
async fn a_remind_shipping_push_flags_the_order_to_admin() {
    use crate::{
        wechat_api_standin::APPID,
        wechat_platform::{AES_KEY, TOKEN},
    };
    let p = platform_with(&[
        ("WECHAT_MESSAGE_TOKEN", TOKEN),
        ("WECHAT_MESSAGE_AES_KEY", AES_KEY),
    ])
    .await;
    let order = p.paid(p.shop.items(&[(0, 1)]), "k1", "4200000501").await;
    let q = "query($id: ID!) { order(id: $id) { wechatShippingReminder { reminders firstAt lastAt } } }";
    let data = p
        .app
        .gql_ok(Some(&p.shop.admin), q, json!({ "id": order["id"] }))
        .await;
    assert!(data["order"]["wechatShippingReminder"].is_null(), "{data}");

    for _ in 0..2 {
        let (status, body) = p.push(TOKEN, AES_KEY, APPID, &remind("4200000501")).await;
        assert_eq!((status, body.as_str()), (200, "success"));
    }
    let data = p
        .app
        .gql_ok(Some(&p.shop.admin), q, json!({ "id": order["id"] }))
        .await;
    let flag = &data["order"]["wechatShippingReminder"];
    assert_eq!(flag["reminders"], 2, "{data}");
    assert!(flag["firstAt"].is_string() && flag["lastAt"].is_string());
    // The buyer does not see the store's reminders.
    let v = p
        .app
        .gql(Some(&p.buyer), q, json!({ "id": order["id"] }))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    // A push for a transaction siyu does not know changes nothing.
    let (status, _) = p.push(TOKEN, AES_KEY, APPID, &remind("4209999999")).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn uploads_are_skipped_when_the_mini_program_is_not_under_trade_management() {
    let api = crate::wechat_api_standin::WechatApiStandIn::start().await;
    api.set_trade_managed(false);
    let pay = crate::wechatpay_standin::WechatPayStandIn::start().await;
    pay.mount_default().await;
    let p =
        crate::wechat_platform::platform_on(api, pay, &[("WECHAT_SHIPPING_UPLOAD", "true")]).await;
    let order = p.shipped("k1", "4200000601", "ZT601").await;
    p.run_jobs().await;
    assert!(p.api.is_trade_managed_calls() >= 1);
    assert!(p.api.uploads().is_empty(), "{:?}", p.api.uploads());
    assert!(p.api.refused_uploads().is_empty());
    let parts = p.fulfillments(&order).await;
    assert!(parts[0]["wechatShipping"].is_null(), "{parts:?}");
}

#[tokio::test]
async fn a_refund_paid_sends_its_result_with_a_consent() {
    let p = platform().await;
    p.api.grant_consent("o-alice", TPL_REFUND, 1);
    p.consent(&[TPL_REFUND]).await;
    let order = p.paid(p.shop.items(&[(0, 1)]), "k1", "4200000701").await;
    let refund = crate::fixtures::refund_requested(&p.app, &p.buyer, &order["id"]).await;
    let v = crate::fixtures::approve_refund(&p.app, &p.shop.admin, &refund["id"]).await;
    assert_eq!(ok(&v)["approveRefund"]["status"], "REFUNDED", "{v}");
    p.run_jobs().await;
    let sends = p.api.sends();
    assert_eq!(sends.len(), 1, "{sends:?} {:?}", p.api.refused_sends());
    let sent = &sends[0];
    assert_eq!(sent["template_id"], TPL_REFUND);
    assert_eq!(sent["data"]["phrase3"]["value"], "退款成功");
    assert_eq!(sent["data"]["character_string1"]["value"], order["orderNo"]);
    let total = order["payableFen"].as_i64().unwrap();
    assert_eq!(
        sent["data"]["amount2"]["value"],
        format!("{}.{:02}", total / 100, total % 100)
    );
    // Once: the next pass finds the event messaged already.
    p.run_jobs().await;
    assert_eq!(p.api.sends().len(), 1);
}
