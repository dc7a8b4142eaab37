//! After-sales decided and refunded, through the API: a line refunded
//! before shipping of an order paid partly from the balance, against the
//! signed WeChat Pay stand-in (partial refund: `amount.refund` <
//! `amount.total`), with every downstream figure checked to the fen; a
//! return confirmed by the supplier that shipped it; the store's own
//! refunds after a supplier declines; lines refunded one by one adding up
//! to what was paid; bad input; a randomized run of partial refunds.
use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{path, query_param},
};

use crate::{
    fixtures::{new_buyer, paid_order, shop, stock_of, text},
    helpers::{TestApp, error_code, ok, spawn_app},
    wechat_pay::{PayShop, now, pay_shop},
};

const REQUEST: &str = "mutation($i: AfterSaleInput!, $k: String!) { requestAfterSale(input: $i, idempotencyKey: $k) { id status amountFen balanceFen wechatFen shippingFen } }";
pub const FIELDS: &str = "id status kind amountFen balanceFen wechatFen shippingFen byStore note restock refundedAt returnAddress returnDeadline returnCarrier returnTrackingNo receivedAt lines { quantity amountFen orderLine { id } }";
const ORDER: &str = "query($id: ID!) { order(id: $id) { status totalFen shippingFen paidFen balancePaidFen refundedFen lines { id quantity refundedQuantity lineTotalFen sku { id } } fulfillments { id status supplier { id } } afterSales { id status amountFen } } }";
const WALLET: &str = "{ me { wallet { balanceFen principalFen bonusFen transactions(first: 100) { nodes { kind amountFen } } } } }";

fn approve_q() -> String {
    format!(
        "mutation($id: ID!, $i: ApproveAfterSaleInput) {{ approveAfterSale(id: $id, input: $i) {{ {FIELDS} }} }}"
    )
}
fn reject_q() -> String {
    format!(
        "mutation($id: ID!, $r: String!) {{ rejectAfterSale(id: $id, reason: $r) {{ {FIELDS} }} }}"
    )
}
fn submit_q() -> String {
    format!(
        "mutation($id: ID!, $c: String!, $t: String!) {{ submitReturnShipment(id: $id, carrier: $c, trackingNo: $t) {{ {FIELDS} }} }}"
    )
}
fn confirm_q() -> String {
    format!(
        "mutation($id: ID!, $r: Boolean!) {{ confirmReturnReceived(id: $id, restock: $r) {{ {FIELDS} }} }}"
    )
}
fn refund_order_q() -> String {
    format!(
        "mutation($o: ID!, $i: AdminRefundInput!, $k: String!) {{ refundOrder(orderId: $o, input: $i, idempotencyKey: $k) {{ {FIELDS} }} }}"
    )
}

async fn ask(
    app: &TestApp,
    token: &str,
    order: &Value,
    kind: &str,
    lines: &[(&Value, i64)],
    key: &str,
) -> Value {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(l, q)| json!({ "orderLineId": l, "quantity": q }))
        .collect();
    let v = app
        .gql(
            Some(token),
            REQUEST,
            json!({ "i": { "orderId": order, "kind": kind, "lines": lines, "reason": "坏了" }, "k": key }),
        )
        .await;
    let a = ok(&v)["requestAfterSale"].clone();
    assert_eq!(a["status"], "REQUESTED", "{v}");
    a
}

async fn approve(app: &TestApp, admin: &str, id: &Value, input: Value) -> Value {
    let v = app
        .gql(Some(admin), &approve_q(), json!({ "id": id, "i": input }))
        .await;
    ok(&v)["approveAfterSale"].clone()
}

async fn order(app: &TestApp, token: &str, id: &Value) -> Value {
    app.gql_ok(Some(token), ORDER, json!({ "id": id })).await["order"].clone()
}

/// The wallet's balance, and whether its ledger sums to it.
async fn wallet(app: &TestApp, token: &str) -> Value {
    let w = app.gql_ok(Some(token), WALLET, json!({})).await["me"]["wallet"].clone();
    let sum: i64 = w["transactions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["amountFen"].as_i64().unwrap())
        .sum();
    assert_eq!(
        sum,
        w["balanceFen"].as_i64().unwrap(),
        "ledger sums to the balance: {w}"
    );
    w
}

/// Signs in `code` (a WeChat login code the WeChat stand-in answers with
/// `openid`), invited by `by`; returns (token, customer id, referral code).
async fn wechat_customer(
    s: &PayShop,
    code: &str,
    openid: &str,
    by: Option<&str>,
) -> (String, String, String) {
    Mock::given(path("/sns/jscode2session"))
        .and(query_param("js_code", code))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_string(format!(r#"{{"openid":"{openid}","session_key":"k"}}"#)),
        )
        .mount(&s.wechat)
        .await;
    let v = s.app.login(code, by, None).await;
    let login = &ok(&v)["wechatLogin"];
    (
        text(&login["accessToken"]),
        text(&login["customer"]["id"]),
        text(&login["customer"]["referralCode"]),
    )
}

/// WeChat Pay says `order_no` was paid `total` by `openid`.
async fn notify_paid(s: &PayShop, order_no: &str, total: i64, txid: &str, openid: &str) {
    let tx = json!({
        "appid": "wx-test-app", "mchid": s.pay.mchid, "out_trade_no": order_no, "transaction_id": txid,
        "trade_type": "JSAPI", "trade_state": "SUCCESS", "trade_state_desc": "支付成功",
        "amount": { "total": total, "payer_total": total, "currency": "CNY", "payer_currency": "CNY" },
        "payer": { "openid": openid }, "success_time": "2026-11-22T12:00:00+08:00"
    });
    assert_eq!(s.notify(s.pay.notification(&tx, now())).await, 200);
}

#[tokio::test]
async fn a_line_refunded_before_shipping_then_a_return_then_the_rest_to_the_fen() {
    let s = pay_shop().await;
    let app = &s.app;
    let shop = shop(app, 10).await;
    let admin = &shop.admin;
    // A promoter at 10% (paid amount), and a buyer it invited.
    let v = app.gql(Some(admin), "mutation { setCommissionRule(input: {level1Percent: 10, level2Percent: 5, settleAfterDays: 7, base: PAID_AMOUNT, promoterMode: APPLY}) { level1Percent } }", json!({})).await;
    ok(&v);
    let (pro, pro_id, code) = wechat_customer(&s, "code-pro", "o-pro", None).await;
    ok(&app
        .gql(
            Some(&pro),
            "mutation { applyPromoter { status } }",
            json!({}),
        )
        .await);
    ok(&app
        .gql(
            Some(admin),
            "mutation($c: ID!) { reviewPromoter(customerId: $c, approve: true) { status } }",
            json!({ "c": pro_id }),
        )
        .await);
    let (buyer, _, _) = wechat_customer(&s, "code-carol", "o-carol", Some(&code)).await;
    crate::fixtures::save_address(app, &buyer).await;

    // A top-up of 3000 with 1000 bonus, paid through WeChat Pay.
    let plan = crate::fixtures::top_up_plan(app, admin, 3000, 1000).await;
    let top = crate::fixtures::top_up_order(app, &buyer, &plan, "t1").await;
    let no = text(
        &app.gql_ok(
            Some(&buyer),
            "query($id: ID!) { order(id: $id) { orderNo } }",
            json!({ "id": top["id"] }),
        )
        .await["order"]["orderNo"],
    );
    notify_paid(&s, &no, 3000, "4200000901", "o-carol").await;
    let w = wallet(app, &buyer).await;
    assert_eq!(
        (w["principalFen"].as_i64(), w["bonusFen"].as_i64()),
        (Some(3000), Some(1000)),
        "{w}"
    );

    // 2 × 甲 at 3000 and 1 × 乙 at 2500: 8500 of goods, 800 shipping, 9300;
    // the whole balance (3000 principal, 1000 bonus) and 5300 by WeChat.
    let v = app
        .gql(
            Some(&buyer),
            crate::fixtures::PLACE_ORDER,
            json!({ "i": { "items": shop.items(&[(0, 2), (1, 1)]), "useBalance": true }, "k": "o1" }),
        )
        .await;
    let placed = ok(&v)["placeOrder"]["order"].clone();
    let id = placed["id"].clone();
    assert_eq!(placed["payableFen"], 5300, "{placed}");
    let no = text(
        &app.gql_ok(
            Some(&buyer),
            "query($id: ID!) { order(id: $id) { orderNo } }",
            json!({ "id": id }),
        )
        .await["order"]["orderNo"],
    );
    notify_paid(&s, &no, 5300, "4200000902", "o-carol").await;
    let o = order(app, &buyer, &id).await;
    assert_eq!(o["status"], "PAID", "{o}");
    assert_eq!(
        (o["totalFen"].as_i64(), o["shippingFen"].as_i64()),
        (Some(9300), Some(800))
    );
    let (l_jia, l_yi) = (o["lines"][0]["id"].clone(), o["lines"][1]["id"].clone());
    let commission = |c: &Value| c["data"]["myCommissions"]["nodes"][0].clone();
    let c = commission(
        &app.gql(
            Some(&pro),
            "{ myCommissions { nodes { amountFen status } } }",
            json!({}),
        )
        .await,
    );
    // 10% of the goods paid (the balance earns too).
    assert_eq!(
        (c["amountFen"].as_i64(), c["status"].as_str()),
        (Some(850), Some("PENDING")),
        "{c}"
    );

    // 乙's line, refund only, before anything shipped: 2500 of goods (no
    // discount), no shipping (甲's lines remain). Balance part: 2500 ×
    // 4000 / 9300 = 1075.27 → 1075; WeChat 1425. Principal: 1075 × 3000 /
    // 4000 = 806.25 → 806; bonus 269.
    let a = ask(app, &buyer, &id, "REFUND_ONLY", &[(&l_yi, 1)], "a1").await;
    assert_eq!(
        (
            a["amountFen"].as_i64(),
            a["balanceFen"].as_i64(),
            a["wechatFen"].as_i64()
        ),
        (Some(2500), Some(1075), Some(1425)),
        "{a}"
    );
    let a = approve(app, admin, &a["id"], json!(null)).await;
    assert_eq!(a["status"], "REFUNDED", "the stand-in answers SUCCESS: {a}");
    assert!(!a["refundedAt"].is_null() && a["restock"] == false, "{a}");
    let partial: Vec<_> = s
        .pay
        .refunds()
        .into_iter()
        .filter(|(_, r)| r.out_trade_no == no)
        .collect();
    assert_eq!(partial.len(), 1, "{partial:?}");
    assert_eq!(
        (partial[0].1.refund_fen, partial[0].1.total_fen),
        (1425, 5300),
        "a partial refund of the WeChat payment"
    );
    let w = wallet(app, &buyer).await;
    assert_eq!(
        (w["principalFen"].as_i64(), w["bonusFen"].as_i64()),
        (Some(806), Some(269)),
        "{w}"
    );
    // Stock back for 乙 only; 乙's part called off; 甲 still ships.
    assert_eq!(stock_of(app, &shop.products[1].0).await, vec![10]);
    assert_eq!(stock_of(app, &shop.products[0].0).await, vec![8]);
    let o = order(app, admin, &id).await;
    assert_eq!(o["status"], "PAID", "{o}");
    assert_eq!(o["refundedFen"], 2500, "{o}");
    assert_eq!(o["lines"][1]["refundedQuantity"], 1, "{o}");
    assert_eq!(o["lines"][0]["refundedQuantity"], 0, "{o}");
    let f_of = |o: &Value, sid: &str| {
        o["fulfillments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["supplier"]["id"] == sid)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        f_of(&o, &shop.supplier_ids[1])["status"],
        "CANCELLED",
        "{o}"
    );
    let jia = f_of(&o, &shop.supplier_ids[0]);
    assert_eq!(jia["status"], "PENDING", "{o}");
    // The commission loses 乙's share: 850 × 2500 / 8500 = 250.
    let c = commission(
        &app.gql(
            Some(&pro),
            "{ myCommissions { nodes { amountFen status } } }",
            json!({}),
        )
        .await,
    );
    assert_eq!(c["amountFen"], 600, "{c}");
    // 甲 ships; the order is SHIPPED (its other part was called off).
    crate::fixtures::shipped(app, &shop.supplier_tokens[0], &jia["id"]).await;
    assert_eq!(order(app, admin, &id).await["status"], "SHIPPED");

    // One unit of 甲 comes back: 3000. To 甲's own return address.
    ok(&app
        .gql(
            Some(admin),
            "mutation($s: ID!, $a: String) { setSupplierReturnAddress(supplierId: $s, returnAddress: $a) { returnAddress } }",
            json!({ "s": shop.supplier_ids[0], "a": "甲 退货仓 杭州" }),
        )
        .await);
    let r = ask(app, &buyer, &id, "RETURN_AND_REFUND", &[(&l_jia, 1)], "a2").await;
    assert_eq!(r["amountFen"], 3000, "{r}");
    // The buyer cannot send it back before approval.
    let v = app
        .gql(
            Some(&buyer),
            &submit_q(),
            json!({ "id": r["id"], "c": "顺丰", "t": "SF1" }),
        )
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");
    let r = approve(app, admin, &r["id"], json!(null)).await;
    assert_eq!(
        (r["status"].as_str(), r["returnAddress"].as_str()),
        (Some("APPROVED"), Some("甲 退货仓 杭州")),
        "{r}"
    );
    assert!(!r["returnDeadline"].is_null(), "{r}");
    let v = app
        .gql(
            Some(&buyer),
            &submit_q(),
            json!({ "id": r["id"], "c": "顺丰", "t": "SF1" }),
        )
        .await;
    assert_eq!(ok(&v)["submitReturnShipment"]["status"], "RETURNING", "{v}");
    // 乙 did not ship it: it does not see it; 甲 confirms, with restock.
    let v = app
        .gql(
            Some(&shop.supplier_tokens[1]),
            &confirm_q(),
            json!({ "id": r["id"], "r": true }),
        )
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let seen = app
        .gql_ok(
            Some(&shop.supplier_tokens[0]),
            "{ afterSales(first: 10) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        seen["afterSales"]["totalCount"], 1,
        "甲 sees only its return: {seen}"
    );
    let v = app
        .gql(
            Some(&shop.supplier_tokens[0]),
            &confirm_q(),
            json!({ "id": r["id"], "r": true }),
        )
        .await;
    let r = ok(&v)["confirmReturnReceived"].clone();
    assert_eq!(r["status"], "REFUNDED", "{r}");
    // Cumulative: (2500 + 3000) × 4000 / 9300 = 2365.59 → 2366, so 1291 of
    // balance; WeChat 1709. Principal 2366 × 3 / 4 = 1774.5 → 1775: 969.
    assert_eq!(
        (r["balanceFen"].as_i64(), r["wechatFen"].as_i64()),
        (Some(1291), Some(1709)),
        "{r}"
    );
    let w = wallet(app, &buyer).await;
    assert_eq!(
        (w["principalFen"].as_i64(), w["bonusFen"].as_i64()),
        (Some(806 + 969), Some(269 + 322)),
        "{w}"
    );
    assert_eq!(
        stock_of(app, &shop.products[0].0).await,
        vec![9],
        "restocked"
    );

    // The store refunds the last unit of its own accord: every line is
    // refunded and the order is REFUNDED; shipping stays (it shipped).
    let v = app
        .gql(
            Some(admin),
            &refund_order_q(),
            json!({ "o": id, "i": { "lines": [{ "orderLineId": l_jia, "quantity": 1 }], "reason": "补偿", "restock": false }, "k": "r1" }),
        )
        .await;
    let last = ok(&v)["refundOrder"].clone();
    assert_eq!(
        (last["status"].as_str(), last["byStore"].as_bool()),
        (Some("REFUNDED"), Some(true)),
        "{last}"
    );
    // 8500 × 4000 / 9300 = 3655.91 → 3656: 1290 of balance; WeChat 1710.
    assert_eq!(
        (
            last["amountFen"].as_i64(),
            last["balanceFen"].as_i64(),
            last["wechatFen"].as_i64()
        ),
        (Some(3000), Some(1290), Some(1710)),
        "{last}"
    );
    let o = order(app, admin, &id).await;
    assert_eq!(
        (o["status"].as_str(), o["refundedFen"].as_i64()),
        (Some("REFUNDED"), Some(8500)),
        "{o}"
    );
    let sent: i64 = s
        .pay
        .refunds()
        .into_iter()
        .filter(|(_, r)| r.out_trade_no == no)
        .map(|(_, r)| r.refund_fen)
        .sum();
    assert_eq!(sent, 1425 + 1709 + 1710);
    let w = wallet(app, &buyer).await;
    // Principal 3656 × 3 / 4 = 2742: 967 more; bonus 323 more.
    assert_eq!(
        (w["principalFen"].as_i64(), w["bonusFen"].as_i64()),
        (Some(2742), Some(914)),
        "{w}"
    );
    let c = commission(
        &app.gql(
            Some(&pro),
            "{ myCommissions { nodes { amountFen status } } }",
            json!({}),
        )
        .await,
    );
    assert_eq!(c["status"], "CANCELLED", "every unit refunded: {c}");
    // The same key and input: the same after-sale, nothing refunded twice.
    let v = app
        .gql(
            Some(admin),
            &refund_order_q(),
            json!({ "o": id, "i": { "lines": [{ "orderLineId": l_jia, "quantity": 1 }], "reason": "补偿", "restock": false }, "k": "r1" }),
        )
        .await;
    assert_eq!(ok(&v)["refundOrder"]["id"], last["id"]);
    assert_eq!(
        s.pay
            .refunds()
            .into_iter()
            .filter(|(_, r)| r.out_trade_no == no)
            .count(),
        3
    );
}

#[tokio::test]
async fn lines_refunded_one_by_one_add_up_to_what_was_paid_shipping_included() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "buyer").await;
    // 3000 + 2500 + 1000 = 6500 of goods and 800 shipping.
    let o = paid_order(&app, &buyer, shop.items(&[(0, 1), (1, 1), (2, 1)]), "o1").await;
    let id = o["id"].clone();
    let o = order(&app, &buyer, &id).await;
    assert_eq!(o["totalFen"], 7300, "{o}");
    let mut total = 0;
    for (i, line) in o["lines"].as_array().unwrap().iter().enumerate() {
        let a = ask(
            &app,
            &buyer,
            &id,
            "REFUND_ONLY",
            &[(&line["id"], 1)],
            &format!("a{i}"),
        )
        .await;
        let a = approve(&app, &shop.admin, &a["id"], json!(null)).await;
        assert_eq!(a["status"], "REFUNDED", "{a}");
        total += a["amountFen"].as_i64().unwrap();
        if i == 2 {
            assert_eq!(
                a["shippingFen"], 800,
                "the last one before shipping takes the shipping: {a}"
            );
        }
    }
    assert_eq!(total, 7300);
    let o = order(&app, &buyer, &id).await;
    assert_eq!(
        (o["status"].as_str(), o["refundedFen"].as_i64()),
        (Some("REFUNDED"), Some(7300)),
        "{o}"
    );
    for f in o["fulfillments"].as_array().unwrap() {
        assert_eq!(f["status"], "CANCELLED", "{o}");
    }
    for p in &shop.products {
        assert_eq!(stock_of(&app, &p.0).await, vec![10]);
    }
    // A whole-order refund is no longer possible; nor another after-sale.
    let v = app
        .gql(
            Some(&buyer),
            crate::fixtures::REQUEST_REFUND,
            json!({ "id": id, "r": "x" }),
        )
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");
}

#[tokio::test]
async fn a_declined_fulfillment_is_refunded_by_the_store_and_bad_input_changes_nothing() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let admin = &shop.admin;
    let buyer = new_buyer(&app, "buyer").await;
    let other = new_buyer(&app, "other").await;
    let o = paid_order(&app, &buyer, shop.items(&[(0, 2), (1, 1)]), "o1").await;
    let id = o["id"].clone();
    let o = order(&app, admin, &id).await;
    let (l_jia, l_yi) = (o["lines"][0]["id"].clone(), o["lines"][1]["id"].clone());
    let yi = o["fulfillments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["supplier"]["id"] == shop.supplier_ids[1])
        .unwrap()["id"]
        .clone();

    // 乙 cannot ship: its part waits in the store's queue.
    let decline = "mutation($id: ID!, $r: String!) { declineFulfillment(id: $id, reason: $r) { id status declinedAt declineReason } }";
    let v = app
        .gql(
            Some(&shop.supplier_tokens[0]),
            decline,
            json!({ "id": yi, "r": "缺货" }),
        )
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "not 甲's: {v}");
    let v = app
        .gql(
            Some(&shop.supplier_tokens[1]),
            decline,
            json!({ "id": yi, "r": "缺货" }),
        )
        .await;
    assert_eq!(ok(&v)["declineFulfillment"]["declineReason"], "缺货", "{v}");
    let queue = app.gql_ok(Some(admin), "{ supplierFulfillments(declined: true, first: 10) { edges { node { id declineReason } } } }", json!({})).await;
    assert_eq!(
        queue["supplierFulfillments"]["edges"][0]["node"]["id"], yi,
        "{queue}"
    );

    // Bad input, each with its code, nothing written.
    let refund_q = refund_order_q();
    let bad = |i: Value| {
        app.gql(
            Some(admin),
            &refund_q,
            json!({ "o": id, "i": i, "k": "bad" }),
        )
    };
    let v = bad(json!({ "lines": [{ "orderLineId": l_yi, "quantity": 2 }], "reason": "x", "restock": false })).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("lines[0].quantity"),
        "{v}"
    );
    let v = bad(json!({ "lines": [{ "orderLineId": l_yi, "quantity": 1 }], "amountFen": 999999, "reason": "x", "restock": false })).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "above what was paid: {v}");
    let v = bad(json!({ "amountFen": 999999, "reason": "x", "restock": false })).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "above what is left: {v}");
    let v = app
        .gql(
            Some(&buyer),
            &refund_order_q(),
            json!({ "o": id, "i": { "amountFen": 1, "reason": "x", "restock": false }, "k": "c" }),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    assert_eq!(
        order(&app, admin, &id).await["afterSales"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // The store refunds 乙's line: its part is called off, stock back.
    let v = app
        .gql(Some(admin), &refund_order_q(), json!({ "o": id, "i": { "lines": [{ "orderLineId": l_yi, "quantity": 1 }], "reason": "供应商缺货", "restock": false }, "k": "r1" }))
        .await;
    let r = ok(&v)["refundOrder"].clone();
    assert_eq!(
        (r["status"].as_str(), r["amountFen"].as_i64()),
        (Some("REFUNDED"), Some(2500)),
        "{r}"
    );
    assert_eq!(stock_of(&app, &shop.products[1].0).await, vec![10]);
    let o = order(&app, admin, &id).await;
    assert_eq!(
        o["fulfillments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == yi)
            .unwrap()["status"],
        "CANCELLED"
    );

    // The buyer's after-sale on 甲: another customer cannot touch it; a
    // decision is taken once; more units than are left are refused.
    let a = ask(&app, &buyer, &id, "REFUND_ONLY", &[(&l_jia, 1)], "a1").await;
    let lines = |q: i64| json!({ "i": { "orderId": id, "kind": "REFUND_ONLY", "lines": [{ "orderLineId": l_jia, "quantity": q }], "reason": "x" }, "k": "a2" });
    let v = app.gql(Some(&buyer), REQUEST, lines(2)).await;
    assert_eq!(
        error_code(&v),
        "BAD_USER_INPUT",
        "one unit is held by a live after-sale: {v}"
    );
    let v = app.gql(Some(&other), REQUEST, lines(1)).await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let v = app
        .gql(
            Some(&other),
            "mutation($id: ID!) { cancelAfterSale(id: $id) { id } }",
            json!({ "id": a["id"] }),
        )
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let v = app
        .gql(Some(&buyer), &approve_q(), json!({ "id": a["id"] }))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let v = app
        .gql(
            Some(admin),
            &approve_q(),
            json!({ "id": a["id"], "i": { "amountFen": a["amountFen"].as_i64().unwrap() + 1 } }),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    let v = app
        .gql(Some(admin), &reject_q(), json!({ "id": a["id"], "r": "" }))
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    let v = app
        .gql(
            Some(admin),
            &reject_q(),
            json!({ "id": a["id"], "r": "已发货，请走退货" }),
        )
        .await;
    let rejected = ok(&v)["rejectAfterSale"].clone();
    assert_eq!(
        (rejected["status"].as_str(), rejected["note"].as_str()),
        (Some("REJECTED"), Some("已发货，请走退货")),
        "{rejected}"
    );
    let v = app
        .gql(Some(admin), &approve_q(), json!({ "id": a["id"] }))
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "decided already: {v}");
    let v = app
        .gql(
            Some(admin),
            &reject_q(),
            json!({ "id": a["id"], "r": "again" }),
        )
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");

    // A goodwill amount with an override downward on a later request.
    let a = ask(&app, &buyer, &id, "REFUND_ONLY", &[(&l_jia, 1)], "a3").await;
    let a = approve(&app, admin, &a["id"], json!({ "amountFen": 1000 })).await;
    assert_eq!(
        (a["status"].as_str(), a["amountFen"].as_i64()),
        (Some("REFUNDED"), Some(1000)),
        "{a}"
    );
    let o = order(&app, admin, &id).await;
    assert_eq!(
        (o["status"].as_str(), o["refundedFen"].as_i64()),
        (Some("PAID"), Some(3500)),
        "{o}"
    );
}

#[tokio::test]
async fn an_approved_return_not_sent_in_time_is_closed() {
    let app = crate::helpers::spawn_app_with(&[
        ("RETURN_SHIP_DAYS", "0"),
        ("STORE_RETURN_ADDRESS", "店铺退货仓"),
    ])
    .await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "buyer").await;
    let o = paid_order(&app, &buyer, shop.items(&[(2, 1)]), "o1").await;
    let id = o["id"].clone();
    let o = order(&app, &shop.admin, &id).await;
    crate::fixtures::shipped(&app, &shop.admin, &o["fulfillments"][0]["id"]).await;
    let a = ask(
        &app,
        &buyer,
        &id,
        "RETURN_AND_REFUND",
        &[(&o["lines"][0]["id"], 1)],
        "a1",
    )
    .await;
    let a = approve(&app, &shop.admin, &a["id"], json!(null)).await;
    assert_eq!(
        (a["status"].as_str(), a["returnAddress"].as_str()),
        (Some("APPROVED"), Some("店铺退货仓")),
        "self-operated: the store's address: {a}"
    );
    ok(&app
        .gql(Some(&shop.admin), "mutation { runOrderJobs }", json!({}))
        .await);
    let after = order(&app, &buyer, &id).await;
    assert_eq!(after["afterSales"][0]["status"], "CANCELLED", "{after}");
    // Its unit may be asked for again.
    ask(
        &app,
        &buyer,
        &id,
        "RETURN_AND_REFUND",
        &[(&o["lines"][0]["id"], 1)],
        "a2",
    )
    .await;
}

/// A small deterministic generator: the run is the same every time.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

fn half_up_percent(fen: i64, percent: i64) -> i64 {
    (fen * percent + 50) / 100
}

fn reversal(commission: i64, refunded: i64, paid: i64) -> i64 {
    if paid <= 0 || refunded >= paid {
        return commission;
    }
    ((commission * refunded * 2 + paid) / (paid * 2)).min(commission)
}

#[tokio::test]
async fn randomized_partial_refunds_never_exceed_what_was_paid() {
    let app = spawn_app().await;
    let shop = shop(&app, 100).await;
    let admin = &shop.admin;
    ok(&app.gql(Some(admin), "mutation { setCommissionRule(input: {level1Percent: 10, level2Percent: 5, settleAfterDays: 7, base: PAID_AMOUNT, promoterMode: APPLY}) { level1Percent } }", json!({})).await);
    let pro = crate::fixtures::customer(&app, "pro").await;
    ok(&app
        .gql(
            Some(&pro.token),
            "mutation { applyPromoter { status } }",
            json!({}),
        )
        .await);
    ok(&app
        .gql(
            Some(admin),
            "mutation($c: ID!) { reviewPromoter(customerId: $c, approve: true) { status } }",
            json!({ "c": pro.id }),
        )
        .await);
    let buyer = crate::fixtures::invited(&app, "buyer", Some(&pro.code)).await;
    let token = buyer.token.clone();
    crate::fixtures::save_address(&app, &token).await;
    let plan = crate::fixtures::top_up_plan(&app, admin, 20000, 5000).await;
    let top = crate::fixtures::top_up_order(&app, &token, &plan, "t").await;
    crate::fixtures::demo_pay_plan(&app, &token, &top["id"]).await;

    let mut rng = Lcg(20261203);
    let mut refunds = 0;
    let mut orders = Vec::new();
    for i in 0..6 {
        let mut items = Vec::new();
        for p in 0..3 {
            if p == 0 || rng.below(2) == 1 {
                items.push((p, 1 + rng.below(3) as i64));
            }
        }
        let v = app
            .gql(
                Some(&token),
                crate::fixtures::PLACE_ORDER,
                json!({ "i": { "items": shop.items(&items), "useBalance": rng.below(2) == 1 }, "k": format!("o{i}") }),
            )
            .await;
        let id = ok(&v)["placeOrder"]["order"]["id"].clone();
        if ok(&v)["placeOrder"]["order"]["payableFen"]
            .as_i64()
            .unwrap()
            > 0
        {
            crate::fixtures::demo_pay(&app, &token, &id).await;
        }
        orders.push(id);
    }
    for step in 0..30 {
        let id = &orders[rng.below(orders.len() as u64) as usize];
        let o = order(&app, admin, id).await;
        let open: Vec<&Value> = o["lines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["refundedQuantity"].as_i64() < l["quantity"].as_i64())
            .collect();
        let key = format!("s{step}");
        match rng.below(4) {
            _ if o["status"] == "REFUNDED" || open.is_empty() => continue,
            0 => {
                // A pending part ships.
                if let Some(f) = o["fulfillments"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["status"] == "PENDING")
                {
                    crate::fixtures::shipped(&app, admin, &f["id"]).await;
                }
            }
            1 => {
                // A goodwill amount of at most 500.
                let left = o["totalFen"].as_i64().unwrap() - o["refundedFen"].as_i64().unwrap();
                if left > 0 {
                    let amount = 1 + rng.below(left.min(500) as u64) as i64;
                    let v = app.gql(Some(admin), &refund_order_q(), json!({ "o": id, "i": { "amountFen": amount, "reason": "补偿", "restock": false }, "k": key })).await;
                    ok(&v);
                    refunds += 1;
                }
            }
            k => {
                let l = open[rng.below(open.len() as u64) as usize];
                let q = 1 + rng.below(
                    (l["quantity"].as_i64().unwrap() - l["refundedQuantity"].as_i64().unwrap())
                        as u64,
                ) as i64;
                if k == 2 {
                    let a = ask(&app, &token, id, "REFUND_ONLY", &[(&l["id"], q)], &key).await;
                    let paid = a["amountFen"].as_i64().unwrap();
                    let input = if rng.below(3) == 0 {
                        json!({ "amountFen": paid / 2 })
                    } else {
                        json!(null)
                    };
                    let a = approve(&app, admin, &a["id"], input).await;
                    assert_eq!(a["status"], "REFUNDED", "{a}");
                    refunds += 1;
                } else {
                    let v = app.gql(Some(admin), &refund_order_q(), json!({ "o": id, "i": { "lines": [{ "orderLineId": l["id"], "quantity": q }], "reason": "缺货", "restock": true }, "k": key })).await;
                    ok(&v);
                    refunds += 1;
                }
            }
        }
        // After every step: never more back than paid, per line and per
        // order; the wallet's ledger sums to its balance; each order's
        // commission is exactly its share of what remains paid.
        wallet(&app, &token).await;
        let mut expected_commission = 0;
        for id in &orders {
            let o = app
                .gql_ok(Some(admin), &format!("query($id: ID!) {{ order(id: $id) {{ status totalFen shippingFen refundedFen lines {{ id quantity refundedQuantity lineTotalFen }} afterSales {{ {FIELDS} }} }} }}"), json!({ "id": id }))
                .await["order"]
                .clone();
            let total = o["totalFen"].as_i64().unwrap();
            let goods = total - o["shippingFen"].as_i64().unwrap();
            let refunded = o["refundedFen"].as_i64().unwrap();
            assert!(refunded <= total, "{o}");
            let sales: Vec<&Value> = o["afterSales"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["status"] == "REFUNDED")
                .collect();
            assert_eq!(
                sales
                    .iter()
                    .map(|a| a["amountFen"].as_i64().unwrap())
                    .sum::<i64>(),
                refunded,
                "{o}"
            );
            for l in o["lines"].as_array().unwrap() {
                assert!(
                    l["refundedQuantity"].as_i64() <= l["quantity"].as_i64(),
                    "{o}"
                );
                let taken: i64 = sales
                    .iter()
                    .flat_map(|a| a["lines"].as_array().unwrap().iter())
                    .filter(|x| x["orderLine"]["id"] == l["id"])
                    .map(|x| x["amountFen"].as_i64().unwrap())
                    .sum();
                assert!(taken <= l["lineTotalFen"].as_i64().unwrap(), "{o}");
            }
            let goods_refunded: i64 = sales
                .iter()
                .map(|a| a["amountFen"].as_i64().unwrap() - a["shippingFen"].as_i64().unwrap())
                .sum();
            let original = half_up_percent(goods, 10);
            expected_commission += original - reversal(original, goods_refunded, goods);
        }
        let c = app
            .gql_ok(
                Some(&pro.token),
                "{ myCommissions { nodes { amountFen status } } }",
                json!({}),
            )
            .await;
        let sum: i64 = c["myCommissions"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["status"] != "CANCELLED")
            .map(|c| c["amountFen"].as_i64().unwrap())
            .sum();
        assert_eq!(sum, expected_commission, "step {step}: {c}");
    }
    assert!(
        refunds >= 10,
        "the run refunded too little to mean much: {refunds}"
    );
}
