//! After-sales (售后) per line through the API: amounts to the fen with a
//! coupon spread over the lines, quantity limits, idempotency, cancelling,
//! the window and the states that take none, and who sees which.
use serde_json::{Value, json};

use crate::{
    fixtures::{COUPON_TEMPLATE, complete, demo_pay, new_buyer, paid_order, placed, shop},
    helpers::{TestApp, error_code, ok, spawn_app, spawn_app_with},
};

const REQUEST: &str = "mutation($i: AfterSaleInput!, $k: String!) { requestAfterSale(input: $i, idempotencyKey: $k) { id kind status amountFen balanceFen wechatFen reason images refundedAt returnAddress order { id } lines { orderLine { id } quantity amountFen } } }";
const CANCEL: &str = "mutation($id: ID!) { cancelAfterSale(id: $id) { id status } }";
const LINES: &str = "query($id: ID!) { order(id: $id) { status totalFen shippingFen couponDiscountFen lines { id quantity lineTotalFen refundedQuantity } afterSales { id status } } }";
const ALL: &str = "query($f: AfterSaleFilter) { afterSales(filter: $f, first: 10) { totalCount edges { node { id amountFen lines { quantity } } } } }";
const MINE: &str = "{ myAfterSales(first: 10) { totalCount edges { node { id status } } } }";

async fn request(
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
    app.gql(
        Some(token),
        REQUEST,
        json!({ "i": { "orderId": order, "kind": kind, "lines": lines, "reason": "坏了", "images": ["https://img.example.com/1.jpg"] }, "k": key }),
    )
    .await
}

async fn requested(
    app: &TestApp,
    token: &str,
    order: &Value,
    lines: &[(&Value, i64)],
    key: &str,
) -> Value {
    let v = request(app, token, order, "REFUND_ONLY", lines, key).await;
    let a = ok(&v)["requestAfterSale"].clone();
    assert_eq!(a["status"], "REQUESTED", "{v}");
    a
}

async fn lines_of(app: &TestApp, token: &str, order: &Value) -> Value {
    app.gql_ok(Some(token), LINES, json!({ "id": order })).await["order"].clone()
}

async fn count(app: &TestApp, token: &str, filter: Value) -> i64 {
    app.gql_ok(Some(token), ALL, json!({ "f": filter })).await["afterSales"]["totalCount"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn per_line_amounts_limits_idempotency_cancel_and_visibility() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "buyer").await;
    let t = app
        .gql_ok(
            Some(&shop.admin),
            COUPON_TEMPLATE,
            json!({ "i": { "name": "满100减20", "thresholdFen": 10000, "offFen": 2000, "validDays": 7 } }),
        )
        .await["createCouponTemplate"]
        .clone();
    let coupon = app
        .gql_ok(
            Some(&buyer),
            "mutation($t: ID!) { claimCoupon(templateId: $t) { id } }",
            json!({ "t": t["id"] }),
        )
        .await["claimCoupon"]["id"]
        .clone();
    // 3 × 3000 from 甲 and 1 × 2500 from 乙: 11500 of goods, 2000 off.
    let v = app
        .gql(
            Some(&buyer),
            crate::fixtures::PLACE_ORDER,
            json!({ "i": { "items": shop.items(&[(0, 3), (1, 1)]), "couponId": coupon }, "k": "o1" }),
        )
        .await;
    let order = ok(&v)["placeOrder"]["order"]["id"].clone();
    demo_pay(&app, &buyer, &order).await;
    let o = lines_of(&app, &buyer, &order).await;
    assert_eq!(o["couponDiscountFen"], 2000, "{o}");
    assert_eq!(
        o["totalFen"].as_i64().unwrap() - o["shippingFen"].as_i64().unwrap(),
        9500,
        "{o}"
    );
    let shipping = o["shippingFen"].as_i64().unwrap();
    let (l0, l1) = (o["lines"][0]["id"].clone(), o["lines"][1]["id"].clone());
    assert_eq!(o["lines"][0]["lineTotalFen"], 9000, "{o}");

    // Line 甲 paid 9500 × 9000 / 11500 = 7434.78 → 7435; one unit of three:
    // 2478.33 → 2478. Paid wholly by WeChat: all of it goes back there.
    let a = requested(&app, &buyer, &order, &[(&l0, 1)], "a1").await;
    assert_eq!(a["amountFen"], 2478, "{a}");
    assert_eq!(a["wechatFen"], 2478, "{a}");
    assert_eq!(a["balanceFen"], 0, "{a}");
    assert_eq!(a["lines"][0]["amountFen"], 2478, "{a}");
    assert_eq!(a["lines"][0]["orderLine"]["id"], l0, "{a}");
    assert_eq!(a["images"][0], "https://img.example.com/1.jpg");
    assert!(
        a["refundedAt"].is_null() && a["returnAddress"].is_null(),
        "{a}"
    );

    // The same key and request: the same after-sale; another request: CONFLICT.
    let again = requested(&app, &buyer, &order, &[(&l0, 1)], "a1").await;
    assert_eq!(again["id"], a["id"]);
    let v = request(&app, &buyer, &order, "REFUND_ONLY", &[(&l0, 2)], "a1").await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");

    // Two units left: three is too many; nothing has shipped, so no return.
    let v = request(&app, &buyer, &order, "REFUND_ONLY", &[(&l0, 3)], "a2").await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "lines[0].quantity",
        "{v}"
    );
    let v = request(&app, &buyer, &order, "RETURN_AND_REFUND", &[(&l0, 1)], "a2").await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");

    // The rest of the line takes the line's remainder: 7435 − 2478 = 4957.
    let b = requested(&app, &buyer, &order, &[(&l0, 2)], "a3").await;
    assert_eq!(b["amountFen"], 4957, "{b}");
    let v = request(&app, &buyer, &order, "REFUND_ONLY", &[(&l0, 1)], "a4").await;
    assert_eq!(
        error_code(&v),
        "BAD_USER_INPUT",
        "nothing left of the line: {v}"
    );

    // Cancelled, its units may be asked for again, once.
    let v = app
        .gql(Some(&buyer), CANCEL, json!({ "id": b["id"] }))
        .await;
    assert_eq!(ok(&v)["cancelAfterSale"]["status"], "CANCELLED", "{v}");
    let v = app
        .gql(Some(&buyer), CANCEL, json!({ "id": b["id"] }))
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");
    let c = requested(&app, &buyer, &order, &[(&l0, 2)], "a5").await;
    assert_eq!(c["amountFen"], 4957, "{c}");

    // Bad images are refused, naming the field.
    let v = app
        .gql(
            Some(&buyer),
            REQUEST,
            json!({ "i": { "orderId": order, "kind": "REFUND_ONLY", "lines": [{ "orderLineId": l1, "quantity": 1 }], "reason": "坏了", "images": ["http://x.example.com/a.jpg"] }, "k": "a6" }),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "images[0]", "{v}");

    // Another customer: the order and the after-sale are not found.
    let other = new_buyer(&app, "other").await;
    let v = request(&app, &other, &order, "REFUND_ONLY", &[(&l1, 1)], "x1").await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let v = app
        .gql(Some(&other), CANCEL, json!({ "id": a["id"] }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let v = app.gql(Some(&other), MINE, json!({})).await;
    assert_eq!(ok(&v)["myAfterSales"]["totalCount"], 0, "{v}");

    // The buyer's lists; nothing refunded yet.
    let v = app.gql(Some(&buyer), MINE, json!({})).await;
    assert_eq!(ok(&v)["myAfterSales"]["totalCount"], 3, "{v}");
    let o = lines_of(&app, &buyer, &order).await;
    assert_eq!(o["afterSales"].as_array().unwrap().len(), 3, "{o}");
    assert_eq!(o["lines"][0]["refundedQuantity"], 0, "{o}");

    // Suppliers see the after-sales on the lines they ship; ADMIN all.
    assert_eq!(count(&app, &shop.supplier_tokens[0], json!(null)).await, 3);
    assert_eq!(count(&app, &shop.supplier_tokens[1], json!(null)).await, 0);
    let d = requested(&app, &buyer, &order, &[(&l1, 1)], "a7").await;
    // The last goods of the order: 9500 − 7435 = 2065; with it every unit
    // is asked for before anything shipped, so shipping goes back too.
    assert_eq!(d["lines"][0]["amountFen"], 2065, "{d}");
    assert_eq!(d["amountFen"].as_i64().unwrap(), 2065 + shipping, "{d}");
    assert_eq!(count(&app, &shop.supplier_tokens[1], json!(null)).await, 1);
    assert_eq!(count(&app, &shop.supplier_tokens[0], json!(null)).await, 3);
    assert_eq!(count(&app, &shop.admin, json!(null)).await, 4);
    assert_eq!(
        count(&app, &shop.admin, json!({ "status": "CANCELLED" })).await,
        1
    );
    assert_eq!(
        count(&app, &shop.admin, json!({ "orderId": order })).await,
        4
    );
    let v = app.gql(Some(&buyer), ALL, json!({})).await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
}

#[tokio::test]
async fn unpaid_orders_and_closed_windows_take_none() {
    let app = spawn_app_with(&[("AFTER_SALES_DAYS", "0")]).await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "buyer").await;

    let unpaid = placed(&app, &buyer, shop.items(&[(2, 1)]), "u").await;
    let o = lines_of(&app, &buyer, &unpaid["id"]).await;
    assert_eq!(o["status"], "PENDING_PAYMENT", "{o}");
    let v = request(
        &app,
        &buyer,
        &unpaid["id"],
        "REFUND_ONLY",
        &[(&o["lines"][0]["id"], 1)],
        "k1",
    )
    .await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");

    let done = paid_order(&app, &buyer, shop.items(&[(2, 2)]), "c").await;
    complete(&app, &shop.admin, &buyer, &done["id"]).await;
    let o = lines_of(&app, &buyer, &done["id"]).await;
    assert_eq!(o["status"], "COMPLETED", "{o}");
    let line = &o["lines"][0]["id"];
    let v = request(
        &app,
        &buyer,
        &done["id"],
        "RETURN_AND_REFUND",
        &[(line, 1)],
        "k2",
    )
    .await;
    assert_eq!(error_code(&v), "CONFLICT", "the window is 0 days: {v}");
    let v = app.gql(Some(&buyer), MINE, json!({})).await;
    assert_eq!(ok(&v)["myAfterSales"]["totalCount"], 0, "{v}");
}

#[tokio::test]
async fn a_shipped_line_may_be_returned_and_a_whole_order_includes_shipping() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "buyer").await;
    // 1000 of goods: below free shipping, so shipping is charged.
    let order = paid_order(&app, &buyer, shop.items(&[(2, 1)]), "s").await;
    let o = lines_of(&app, &buyer, &order["id"]).await;
    let shipping = o["shippingFen"].as_i64().unwrap();
    assert!(shipping > 0, "{o}");
    let line = o["lines"][0]["id"].clone();
    // Every unit before anything shipped: shipping goes back too.
    let a = requested(&app, &buyer, &order["id"], &[(&line, 1)], "w").await;
    assert_eq!(a["amountFen"].as_i64().unwrap(), 1000 + shipping, "{a}");
    assert_eq!(a["kind"], "REFUND_ONLY");
    let v = app
        .gql(Some(&buyer), CANCEL, json!({ "id": a["id"] }))
        .await;
    assert_eq!(ok(&v)["cancelAfterSale"]["status"], "CANCELLED", "{v}");

    // Once shipped: a return is possible, and shipping stays.
    let f = crate::fixtures::order_of(&app, &buyer, &order["id"]).await["fulfillments"][0]["id"]
        .clone();
    crate::fixtures::shipped(&app, &shop.admin, &f).await;
    let v = request(
        &app,
        &buyer,
        &order["id"],
        "RETURN_AND_REFUND",
        &[(&line, 1)],
        "r",
    )
    .await;
    let r = &ok(&v)["requestAfterSale"];
    assert_eq!(r["kind"], "RETURN_AND_REFUND", "{v}");
    assert_eq!(r["amountFen"], 1000, "{v}");
    assert_eq!(r["status"], "REQUESTED", "{v}");
}

#[tokio::test]
async fn concurrent_requests_for_the_same_units_accept_one() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "buyer").await;
    let order = paid_order(&app, &buyer, shop.items(&[(0, 2), (1, 1)]), "p").await;
    let o = lines_of(&app, &buyer, &order["id"]).await;
    let line = o["lines"][0]["id"].clone();
    let keys: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    let units = [(&line, 2)];
    let calls = keys
        .iter()
        .map(|k| request(&app, &buyer, &order["id"], "REFUND_ONLY", &units, k));
    let answers = futures_util::future::join_all(calls).await;
    let accepted = answers
        .iter()
        .filter(|v| v["errors"].is_null() && v["data"]["requestAfterSale"]["id"].is_string())
        .count();
    assert_eq!(accepted, 1, "{answers:?}");
    for v in answers.iter().filter(|v| !v["errors"].is_null()) {
        assert!(
            matches!(error_code(v), "BAD_USER_INPUT" | "CONFLICT"),
            "{v}"
        );
    }
    let o = lines_of(&app, &buyer, &order["id"]).await;
    assert_eq!(o["afterSales"].as_array().unwrap().len(), 1, "{o}");
}
