//! The admin's queues: the refunds and withdrawals it must act on, found by
//! query and decided by the ids they return; an order's refunds for its
//! buyer and the admin; the after-sales window of completed orders.
use serde_json::{Value, json};

use crate::{
    fixtures::{
        APPROVE_REFUND, Customer, complete, create_category, create_product, invited, lib,
        new_buyer, paid_order, refund_requested, request_refund, save_address, set_stock, shop,
        text,
    },
    helpers::{TestApp, error_code, ok, spawn_app, spawn_app_with},
};

const REFUNDS: &str = "query($f: RefundFilter, $n: Int, $a: String) { refunds(filter: $f, first: $n, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { id status amountFen reason order { id status } } } }";
const REJECT_REFUND: &str =
    "mutation($id: ID!) { rejectRefund(refundId: $id, note: \"已发货\") { id status } }";
const ORDER_REFUNDS: &str = "query($id: ID!) { order(id: $id) { id refunds { id status } } }";
const WITHDRAWALS: &str = "query($f: WithdrawalFilter, $n: Int, $a: String) { withdrawals(filter: $f, first: $n, after: $a) { totalCount pageInfo { hasNextPage endCursor } nodes { id status amountFen customer { id } reviewedAt } } }";

/// The refund queue as ADMIN sees it through `filter`.
async fn refunds(
    app: &TestApp,
    admin: &str,
    filter: Value,
    first: Option<i64>,
    after: Option<&str>,
) -> Value {
    app.gql_ok(
        Some(admin),
        REFUNDS,
        json!({ "f": filter, "n": first, "a": after }),
    )
    .await["refunds"]
        .clone()
}

fn ids(conn: &Value) -> Vec<String> {
    conn["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{conn}"))
        .iter()
        .map(|n| text(&n["id"]))
        .collect()
}

fn hour_from_now(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[tokio::test]
async fn the_admin_finds_pending_refunds_and_decides_them_by_id() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let admin = &shop.admin;
    let one = new_buyer(&app, "one").await;
    let two = new_buyer(&app, "two").await;
    let o1 = paid_order(&app, &one, shop.items(&[(2, 1)]), "o1").await["id"].clone();
    let o2 = paid_order(&app, &two, shop.items(&[(2, 1)]), "o2").await["id"].clone();
    let o3 = paid_order(&app, &one, shop.items(&[(2, 1)]), "o3").await["id"].clone();
    let r1 = text(&refund_requested(&app, &one, &o1).await["id"]);
    let r2 = text(&refund_requested(&app, &two, &o2).await["id"]);
    let r3 = text(&refund_requested(&app, &one, &o3).await["id"]);
    let data = app
        .gql_ok(Some(admin), REJECT_REFUND, json!({ "id": r2 }))
        .await;
    assert_eq!(data["rejectRefund"]["status"], "REJECTED", "{data}");

    // All of them, newest first; the pending ones are what waits.
    let all = refunds(&app, admin, json!(null), None, None).await;
    assert_eq!(ids(&all), vec![r3.clone(), r2.clone(), r1.clone()], "{all}");
    assert_eq!(all["totalCount"], 3, "{all}");
    let pending = refunds(&app, admin, json!({ "status": "PENDING" }), None, None).await;
    assert_eq!(ids(&pending), vec![r3.clone(), r1.clone()], "{pending}");
    assert_eq!(pending["totalCount"], 2);
    assert_eq!(pending["nodes"][1]["order"]["status"], "REFUNDING");
    assert_eq!(pending["nodes"][1]["reason"], "不想要了");

    // The admin approves the oldest pending one by the id the queue gave.
    let id = text(&pending["nodes"][1]["id"]);
    let data = app
        .gql_ok(Some(admin), APPROVE_REFUND, json!({ "id": id }))
        .await;
    assert_eq!(data["approveRefund"]["status"], "REFUNDED", "{data}");
    let pending = refunds(&app, admin, json!({ "status": "PENDING" }), None, None).await;
    assert_eq!(ids(&pending), vec![r3.clone()], "{pending}");
    let done = refunds(&app, admin, json!({ "status": "REFUNDED" }), None, None).await;
    assert_eq!(ids(&done), vec![r1.clone()], "{done}");
    let rejected = refunds(&app, admin, json!({ "status": "REJECTED" }), None, None).await;
    assert_eq!(ids(&rejected), vec![r2.clone()], "{rejected}");

    // By order, and by when they were asked for.
    let of_o2 = refunds(&app, admin, json!({ "orderId": o2 }), None, None).await;
    assert_eq!(ids(&of_o2), vec![r2.clone()], "{of_o2}");
    assert_eq!(of_o2["totalCount"], 1);
    let later = refunds(&app, admin, json!({ "from": hour_from_now(1) }), None, None).await;
    assert!(ids(&later).is_empty(), "{later}");
    assert_eq!(later["totalCount"], 0);
    let window = json!({ "from": hour_from_now(-1), "to": hour_from_now(1), "status": "PENDING" });
    let now = refunds(&app, admin, window, None, None).await;
    assert_eq!(ids(&now), vec![r3.clone()], "{now}");
    let before = refunds(&app, admin, json!({ "to": hour_from_now(-1) }), None, None).await;
    assert!(ids(&before).is_empty(), "{before}");

    // Pages of two: keyset cursors, the count over all pages.
    let page = refunds(&app, admin, json!(null), Some(2), None).await;
    assert_eq!(ids(&page), vec![r3.clone(), r2.clone()]);
    assert_eq!(page["pageInfo"]["hasNextPage"], true, "{page}");
    assert_eq!(page["totalCount"], 3);
    let cursor = text(&page["pageInfo"]["endCursor"]);
    let rest = refunds(&app, admin, json!(null), Some(2), Some(&cursor)).await;
    assert_eq!(ids(&rest), vec![r1.clone()], "{rest}");
    assert_eq!(rest["pageInfo"]["hasNextPage"], false, "{rest}");

    // Bad input gets its code.
    let v = app
        .gql(Some(admin), REFUNDS, json!({ "f": { "orderId": "x!" } }))
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    let v = app.gql(Some(admin), REFUNDS, json!({ "n": 0 })).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    let v = app.gql(Some(admin), REFUNDS, json!({ "a": "nope" })).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");

    // The queue is the store's alone.
    for token in [&one, &shop.supplier_tokens[0]] {
        let v = app.gql(Some(token), REFUNDS, json!({})).await;
        assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    }
    let v = app.gql(None, REFUNDS, json!({})).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
}

#[tokio::test]
async fn an_orders_refunds_are_its_buyers_and_the_admins() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let admin = &shop.admin;
    let buyer = new_buyer(&app, "buyer").await;
    let other = new_buyer(&app, "other").await;
    let order = paid_order(&app, &buyer, shop.items(&[(0, 1)]), "o").await;
    let id = order["id"].clone();
    // None yet.
    let data = app
        .gql_ok(Some(&buyer), ORDER_REFUNDS, json!({ "id": id }))
        .await;
    assert_eq!(data["order"]["refunds"], json!([]), "{data}");
    // Asked, rejected, asked again: both, oldest first, for buyer and admin.
    let first = text(&refund_requested(&app, &buyer, &id).await["id"]);
    let data = app
        .gql_ok(Some(admin), REJECT_REFUND, json!({ "id": first }))
        .await;
    assert_eq!(data["rejectRefund"]["status"], "REJECTED", "{data}");
    let second = text(&refund_requested(&app, &buyer, &id).await["id"]);
    let expected =
        json!([{ "id": first, "status": "REJECTED" }, { "id": second, "status": "PENDING" }]);
    for token in [&buyer, admin] {
        let data = app
            .gql_ok(Some(token), ORDER_REFUNDS, json!({ "id": id }))
            .await;
        assert_eq!(data["order"]["refunds"], expected, "{data}");
    }
    // Another customer does not reach the order at all.
    let data = app
        .gql_ok(Some(&other), ORDER_REFUNDS, json!({ "id": id }))
        .await;
    assert!(data["order"].is_null(), "{data}");
    // A supplier reaches it through its fulfillment, but not its refunds.
    let v = app
        .gql(
            Some(&shop.supplier_tokens[0]),
            "{ supplierFulfillments { nodes { order { id refunds { id } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
}

/// A promoter `b` (invited by nobody) with 359 fen settled from an order of
/// `c`, whom it invited; returns (app, admin, b, c).
async fn promoter_with_commission() -> (TestApp, String, Customer, Customer) {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let data = app
        .gql_ok(Some(&admin), "mutation { setCommissionRule(input: {level1Percent: 10, level2Percent: 5, settleAfterDays: 7, base: PAID_AMOUNT, promoterMode: APPLY}) { level1Percent } }", json!({}))
        .await;
    assert_eq!(data["setCommissionRule"]["level1Percent"], 10, "{data}");
    let cat = create_category(&app, &admin, "c", None).await;
    let p = create_product(&app, &admin, &cat, "分销商品", &[3590]).await;
    let sku = text(&p["skus"][0]["id"]);
    set_stock(&app, &admin, &sku, 100).await;
    let b = invited(&app, "b", None).await;
    let c = invited(&app, "c", Some(&b.code)).await;
    save_address(&app, &c.token).await;
    let data = app
        .gql_ok(
            Some(&b.token),
            "mutation { applyPromoter { status } }",
            json!({}),
        )
        .await;
    assert_eq!(data["applyPromoter"]["status"], "PENDING", "{data}");
    let data = app
        .gql_ok(
            Some(&admin),
            "mutation($c: ID!) { reviewPromoter(customerId: $c, approve: true) { status } }",
            json!({ "c": b.id }),
        )
        .await;
    assert_eq!(data["reviewPromoter"]["status"], "APPROVED", "{data}");
    let items = json!([{ "skuId": sku, "quantity": 1 }]);
    let order = paid_order(&app, &c.token, items, "o").await["id"].clone();
    complete(&app, &admin, &c.token, &order).await;
    let settled = lib::settle_due(&app.state, chrono::Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    assert_eq!(settled, 1);
    (app, admin, b, c)
}

#[tokio::test]
async fn the_admin_finds_held_withdrawals_and_pays_them_by_id() {
    let (app, admin, b, c) = promoter_with_commission().await;
    let ask = "mutation($n: Money!, $k: String!) { requestWithdrawal(amountFen: $n, idempotencyKey: $k) { id status } }";
    let mut asked = Vec::new();
    for (n, k) in [(100, "w1"), (200, "w2")] {
        let data = app
            .gql_ok(Some(&b.token), ask, json!({ "n": n, "k": k }))
            .await;
        assert_eq!(data["requestWithdrawal"]["status"], "REQUESTED", "{data}");
        asked.push(text(&data["requestWithdrawal"]["id"]));
    }
    let queue = |filter: Value| {
        let app = &app;
        let admin = &admin;
        async move {
            app.gql_ok(Some(admin), WITHDRAWALS, json!({ "f": filter }))
                .await["withdrawals"]
                .clone()
        }
    };
    let pending = queue(json!({ "status": "REQUESTED" })).await;
    assert_eq!(
        ids(&pending),
        vec![asked[1].clone(), asked[0].clone()],
        "{pending}"
    );
    assert_eq!(pending["totalCount"], 2);
    assert_eq!(pending["nodes"][0]["customer"]["id"], b.id, "{pending}");
    assert_eq!(pending["nodes"][0]["amountFen"], 200);
    assert!(pending["nodes"][0]["reviewedAt"].is_null());
    // By promoter and by date.
    assert_eq!(queue(json!({ "customerId": b.id })).await["totalCount"], 2);
    assert_eq!(queue(json!({ "customerId": c.id })).await["totalCount"], 0);
    assert_eq!(
        queue(json!({ "from": hour_from_now(1) })).await["totalCount"],
        0
    );
    let window = json!({ "from": hour_from_now(-1), "to": hour_from_now(1) });
    assert_eq!(queue(window).await["totalCount"], 2);
    // Pages.
    let page = app
        .gql_ok(Some(&admin), WITHDRAWALS, json!({ "n": 1 }))
        .await["withdrawals"]
        .clone();
    assert_eq!(ids(&page), vec![asked[1].clone()]);
    assert_eq!(page["pageInfo"]["hasNextPage"], true, "{page}");
    let rest = app
        .gql_ok(
            Some(&admin),
            WITHDRAWALS,
            json!({ "n": 1, "a": page["pageInfo"]["endCursor"] }),
        )
        .await["withdrawals"]
        .clone();
    assert_eq!(ids(&rest), vec![asked[0].clone()]);
    assert_eq!(rest["pageInfo"]["hasNextPage"], false, "{rest}");

    // The admin pays the oldest by the id the queue gave, rejects the other.
    let review = "mutation($id: ID!, $a: Boolean!) { reviewWithdrawal(id: $id, approve: $a, note: \"bank ref 1\") { status } }";
    let oldest = text(&pending["nodes"][1]["id"]);
    let data = app
        .gql_ok(Some(&admin), review, json!({ "id": oldest, "a": true }))
        .await;
    assert_eq!(data["reviewWithdrawal"]["status"], "PAID", "{data}");
    let data = app
        .gql_ok(Some(&admin), review, json!({ "id": asked[1], "a": false }))
        .await;
    assert_eq!(data["reviewWithdrawal"]["status"], "REJECTED", "{data}");
    assert_eq!(
        queue(json!({ "status": "REQUESTED" })).await["totalCount"],
        0
    );
    let paid = queue(json!({ "status": "PAID" })).await;
    assert_eq!(ids(&paid), vec![asked[0].clone()], "{paid}");
    assert!(paid["nodes"][0]["reviewedAt"].is_string(), "{paid}");
    assert_eq!(
        ids(&queue(json!({ "status": "REJECTED" })).await),
        vec![asked[1].clone()]
    );

    // The store's alone.
    let v = app.gql(Some(&b.token), WITHDRAWALS, json!({})).await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let v = app.gql(None, WITHDRAWALS, json!({})).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
    let v = app
        .gql(
            Some(&admin),
            WITHDRAWALS,
            json!({ "f": { "customerId": "?" } }),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
}

#[tokio::test]
async fn a_completed_order_is_refunded_to_the_customer_only_within_the_window() {
    // No window at all: a completed order cannot be refunded at the
    // customer's request; a paid one still can.
    let app = spawn_app_with(&[("AFTER_SALES_DAYS", "0")]).await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "buyer").await;
    let done = paid_order(&app, &buyer, shop.items(&[(2, 1)]), "done").await["id"].clone();
    complete(&app, &shop.admin, &buyer, &done).await;
    let v = request_refund(&app, &buyer, &done, "坏了").await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");
    let data = app
        .gql_ok(Some(&buyer), ORDER_REFUNDS, json!({ "id": done }))
        .await;
    assert_eq!(data["order"]["refunds"], json!([]), "{data}");
    let paid = paid_order(&app, &buyer, shop.items(&[(2, 1)]), "paid").await["id"].clone();
    refund_requested(&app, &buyer, &paid).await;

    // The default window (15 days): just completed, it can.
    let app = spawn_app().await;
    let shop = crate::fixtures::shop(&app, 10).await;
    let buyer = new_buyer(&app, "buyer").await;
    let done = paid_order(&app, &buyer, shop.items(&[(2, 1)]), "done").await["id"].clone();
    complete(&app, &shop.admin, &buyer, &done).await;
    let v = request_refund(&app, &buyer, &done, "坏了").await;
    assert_eq!(ok(&v)["requestRefund"]["status"], "PENDING", "{v}");
    assert_eq!(
        ok(&v)["requestRefund"]["order"]["status"],
        "REFUNDING",
        "{v}"
    );
}
