//! Membership and stored value through the API (and, for the randomized
//! ledger check, through the services directly).
use serde_json::{Value, json};

use crate::{
    fixtures::{
        APPROVE_REFUND, CANCEL_ORDER, create_category, create_product, create_product_from,
        customer, demo_pay_plan, lib, membership_plan, refund_requested, request_refund,
        save_address, set_stock, top_up_order, top_up_plan,
    },
    helpers::{TestApp, error_code, spawn_app},
};

struct Store {
    admin: String,
    buyer: String,
    buyer_id: String,
    /// (plain SKU at 5000, SKU at 5000 with member price 4000)
    skus: (String, String),
}

async fn store(app: &TestApp) -> Store {
    let admin = app.admin_token().await;
    let cat = create_category(app, &admin, "c", None).await;
    let plain = create_product(app, &admin, &cat, "普通", &[5000]).await;
    let member = create_product_from(
        app,
        &admin,
        json!({ "title": "会员价", "categoryId": cat, "skus": [{ "specs": [{ "name": "规格", "value": "1" }], "priceFen": 5000, "memberPriceFen": 4000, "stock": 1000 }] }),
    )
    .await;
    let member_sku = member["skus"][0]["id"].as_str().unwrap().to_string();
    let plain_sku = plain["skus"][0]["id"].as_str().unwrap().to_string();
    set_stock(app, &admin, &plain_sku, 1000).await;
    let buyer = customer(app, "buyer").await;
    save_address(app, &buyer.token).await;
    Store {
        admin,
        buyer: buyer.token,
        buyer_id: buyer.id,
        skus: (plain_sku, member_sku),
    }
}

async fn wallet(app: &TestApp, token: &str) -> Value {
    let data = app
        .gql_ok(Some(token), "{ me { wallet { balanceFen principalFen bonusFen transactions(first: 100) { nodes { kind amountFen balanceAfterFen } } } } }", json!({}))
        .await;
    data["me"]["wallet"].clone()
}

/// Tops up `pay` (+`bonus`) and pays it.
async fn top_up(app: &TestApp, s: &Store, pay: i64, bonus: i64) {
    let plan = top_up_plan(app, &s.admin, pay, bonus).await;
    let order = top_up_order(app, &s.buyer, &plan, &format!("t-{plan}")).await;
    demo_pay_plan(app, &s.buyer, &order["id"]).await;
}

fn ledger_sums(w: &Value) -> bool {
    let sum: i64 = w["transactions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["amountFen"].as_i64().unwrap())
        .sum();
    sum == w["balanceFen"].as_i64().unwrap()
}

async fn place_with(
    app: &TestApp,
    token: &str,
    sku: &str,
    qty: i64,
    use_balance: bool,
    key: &str,
) -> Value {
    crate::fixtures::place_input(
        app,
        token,
        json!({ "items": [{ "skuId": sku, "quantity": qty }], "useBalance": use_balance }),
        key,
    )
    .await
}

#[tokio::test]
async fn members_pay_member_prices_and_ship_free() {
    let app = spawn_app().await;
    let s = store(&app).await;
    let items = json!([{ "skuId": s.skus.0, "quantity": 1 }, { "skuId": s.skus.1, "quantity": 1 }]);
    let preview = "query($i: OrderInput!) { previewOrder(input: $i) { itemsFen memberDiscountFen shippingFen totalFen } }";
    let v = app
        .gql(Some(&s.buyer), preview, json!({ "i": { "items": items } }))
        .await;
    assert_eq!(
        v["data"]["previewOrder"],
        json!({ "itemsFen": 10000, "memberDiscountFen": 0, "shippingFen": 0, "totalFen": 10000 }),
        "{v}"
    );
    let one = json!([{ "skuId": s.skus.0, "quantity": 1 }]);
    let v = app
        .gql(Some(&s.buyer), preview, json!({ "i": { "items": one } }))
        .await;
    assert_eq!(v["data"]["previewOrder"]["shippingFen"], 800);

    let plan = membership_plan(&app, &s.admin, 9900, 365, 88, true).await;
    let v = app.gql(Some(&s.buyer), "mutation($p: ID!) { buyMembership(planId: $p, idempotencyKey: \"m1\") { order { id totalFen shippingFen } } }", json!({ "p": plan })).await;
    assert_eq!(v["data"]["buyMembership"]["order"]["totalFen"], 9900, "{v}");
    assert_eq!(v["data"]["buyMembership"]["order"]["shippingFen"], 0);
    let v2 = app
        .gql(
            Some(&s.buyer),
            "{ me { membership { active } } }",
            json!({}),
        )
        .await;
    assert!(
        v2["data"]["me"]["membership"].is_null(),
        "not before payment: {v2}"
    );
    demo_pay_plan(&app, &s.buyer, &v["data"]["buyMembership"]["order"]["id"]).await;
    let v = app
        .gql(
            Some(&s.buyer),
            "{ me { membership { active expiresAt plan { discountPercent freeShipping } } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["data"]["me"]["membership"]["active"], true, "{v}");

    // 5000 × 88% = 4400 and the SKU's member price 4000: 1600 off; ships free.
    let v = app
        .gql(Some(&s.buyer), preview, json!({ "i": { "items": items } }))
        .await;
    assert_eq!(
        v["data"]["previewOrder"],
        json!({ "itemsFen": 10000, "memberDiscountFen": 1600, "shippingFen": 0, "totalFen": 8400 }),
        "{v}"
    );
    let v = app
        .gql(Some(&s.buyer), preview, json!({ "i": { "items": one } }))
        .await;
    assert_eq!(
        v["data"]["previewOrder"]["shippingFen"], 0,
        "the plan ships free"
    );
    let v = place_with(&app, &s.buyer, &s.skus.1, 2, false, "p1").await;
    let o = &v["data"]["placeOrder"]["order"];
    assert_eq!(
        (o["memberDiscountFen"].as_i64(), o["totalFen"].as_i64()),
        (Some(2000), Some(8000)),
        "{v}"
    );
    assert_eq!(o["lines"][0]["unitPriceFen"], 4000);
}

#[tokio::test]
async fn buying_again_extends_from_expiry_and_a_refund_takes_it_back() {
    let app = spawn_app().await;
    let s = store(&app).await;
    let plan = membership_plan(&app, &s.admin, 1000, 30, 95, false).await;
    let mut expiries = Vec::new();
    let mut orders = Vec::new();
    for k in ["a", "b"] {
        orders.push(crate::fixtures::buy_membership(&app, &s.buyer, &plan, k).await);
        let data = app
            .gql_ok(
                Some(&s.buyer),
                "{ me { membership { expiresAt startedAt } } }",
                json!({}),
            )
            .await;
        expiries.push(
            chrono::DateTime::parse_from_rfc3339(
                data["me"]["membership"]["expiresAt"].as_str().unwrap(),
            )
            .unwrap(),
        );
    }
    assert_eq!(
        (expiries[1] - expiries[0]).num_days(),
        30,
        "extended from the expiry, not from now"
    );
    let r = refund_requested(&app, &s.buyer, &orders[1]).await["id"].clone();
    let v = app
        .gql(Some(&s.admin), APPROVE_REFUND, json!({ "id": r }))
        .await;
    assert_eq!(v["data"]["approveRefund"]["status"], "REFUNDED", "{v}");
    let v = app
        .gql(
            Some(&s.buyer),
            "{ me { membership { expiresAt active } } }",
            json!({}),
        )
        .await;
    let after = chrono::DateTime::parse_from_rfc3339(
        v["data"]["me"]["membership"]["expiresAt"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(
        after, expiries[0],
        "the refunded purchase's days are taken back"
    );
    assert_eq!(v["data"]["me"]["membership"]["active"], true);
}

#[tokio::test]
async fn a_top_up_credits_principal_and_bonus_only_once_paid() {
    let app = spawn_app().await;
    let s = store(&app).await;
    let plan = top_up_plan(&app, &s.admin, 10000, 2000).await;
    let order = top_up_order(&app, &s.buyer, &plan, "t").await;
    assert_eq!(order["payableFen"], 10000, "{order}");
    assert_eq!(
        wallet(&app, &s.buyer).await["balanceFen"],
        0,
        "nothing before payment"
    );
    demo_pay_plan(&app, &s.buyer, &order["id"]).await;
    let w = wallet(&app, &s.buyer).await;
    assert_eq!(
        (
            w["balanceFen"].as_i64(),
            w["principalFen"].as_i64(),
            w["bonusFen"].as_i64()
        ),
        (Some(12000), Some(10000), Some(2000)),
        "{w}"
    );
    let kinds: Vec<&str> = w["transactions"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, vec!["BONUS", "TOP_UP"], "newest first, two rows");
    assert!(ledger_sums(&w));
    let v = app
        .gql(Some(&s.admin), "{ outstandingBalanceFen }", json!({}))
        .await;
    assert_eq!(v["data"]["outstandingBalanceFen"], 12000);
    // The money is in the wallet and may be spent: no refund of a top-up.
    let v = request_refund(&app, &s.buyer, &order["id"], "x").await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");
}

#[tokio::test]
async fn balance_only_and_mixed_payments() {
    let app = spawn_app().await;
    let s = store(&app).await;
    top_up(&app, &s, 10000, 2000).await;
    // 5000 + 800 shipping = 5800, all from the balance: paid at once.
    let v = place_with(&app, &s.buyer, &s.skus.0, 1, true, "full").await;
    let o = &v["data"]["placeOrder"];
    assert_eq!(o["order"]["status"], "PAID", "{v}");
    assert_eq!(o["order"]["balancePaidFen"], 5800);
    assert_eq!(o["order"]["payableFen"], 0);
    assert!(o["wechatPayParams"].is_null());
    assert_eq!(o["order"]["fulfillments"].as_array().unwrap().len(), 1);
    let w = wallet(&app, &s.buyer).await;
    assert_eq!(w["balanceFen"], 6200);
    // Drawn in proportion: 5800 × 10000/12000 = 4833.3 → 4833 principal, 967 bonus.
    assert_eq!(
        (w["principalFen"].as_i64(), w["bonusFen"].as_i64()),
        (Some(5167), Some(1033)),
        "{w}"
    );

    // 2 × 5000 = 10000 (free shipping): 6200 from the balance, 3800 by WeChat.
    let v = place_with(&app, &s.buyer, &s.skus.0, 2, true, "mixed").await;
    let o = &v["data"]["placeOrder"]["order"];
    assert_eq!(
        (
            o["status"].as_str(),
            o["balancePaidFen"].as_i64(),
            o["payableFen"].as_i64()
        ),
        (Some("PENDING_PAYMENT"), Some(6200), Some(3800)),
        "{v}"
    );
    assert_eq!(
        wallet(&app, &s.buyer).await["balanceFen"],
        0,
        "held while the order waits"
    );
    let v = app
        .gql(Some(&s.buyer), CANCEL_ORDER, json!({ "id": o["id"] }))
        .await;
    assert_eq!(v["data"]["cancelOrder"]["status"], "CANCELLED", "{v}");
    let w = wallet(&app, &s.buyer).await;
    assert_eq!(
        (w["principalFen"].as_i64(), w["bonusFen"].as_i64()),
        (Some(5167), Some(1033)),
        "returned exactly as drawn: {w}"
    );
    assert!(ledger_sums(&w));

    // A refund of the balance-paid order returns its draw too.
    let paid = app
        .gql_ok(
            Some(&s.buyer),
            "{ myOrders(status: PAID) { nodes { id } } }",
            json!({}),
        )
        .await;
    let id = paid["myOrders"]["nodes"][0]["id"].clone();
    let v = request_refund(&app, &s.buyer, &id, "不要了").await;
    assert_eq!(v["data"]["requestRefund"]["amountFen"], 5800, "{v}");
    let v =
        crate::fixtures::approve_refund(&app, &s.admin, &v["data"]["requestRefund"]["id"]).await;
    assert_eq!(v["data"]["approveRefund"]["status"], "REFUNDED", "{v}");
    let w = wallet(&app, &s.buyer).await;
    assert_eq!(
        (w["principalFen"].as_i64(), w["bonusFen"].as_i64()),
        (Some(10000), Some(2000)),
        "{w}"
    );
    assert!(ledger_sums(&w));
}

/// An order's payments, as its page shows them: the balance's part and
/// WeChat's (here the demo's) with its transaction id, for the buyer and the
/// store, not for another customer.
#[tokio::test]
async fn an_order_lists_what_paid_it() {
    let app = spawn_app().await;
    let s = store(&app).await;
    top_up(&app, &s, 3000, 0).await;
    // 5000 + 800 shipping = 5800: 3000 from the balance, 2800 to pay.
    let v = place_with(&app, &s.buyer, &s.skus.0, 1, true, "mixed").await;
    let o = &v["data"]["placeOrder"]["order"];
    assert_eq!(
        (o["balancePaidFen"].as_i64(), o["payableFen"].as_i64()),
        (Some(3000), Some(2800)),
        "{v}"
    );
    let id = o["id"].clone();
    const PAYMENTS: &str = "query($id: ID!) { order(id: $id) { payments { method amountFen transactionId refundDue paidAt } } }";
    let before = app
        .gql_ok(Some(&s.buyer), PAYMENTS, json!({ "id": id }))
        .await;
    assert_eq!(
        before["order"]["payments"],
        json!([{ "method": "BALANCE", "amountFen": 3000, "transactionId": null, "refundDue": false, "paidAt": before["order"]["payments"][0]["paidAt"] }]),
        "the balance's part is taken at placing: {before}"
    );
    crate::fixtures::demo_pay(&app, &s.buyer, &id).await;
    for token in [&s.buyer, &s.admin] {
        let v = app.gql_ok(Some(token), PAYMENTS, json!({ "id": id })).await;
        let payments = v["order"]["payments"].as_array().unwrap();
        let shape: Vec<(&str, i64, bool)> = payments
            .iter()
            .map(|p| {
                (
                    p["method"].as_str().unwrap(),
                    p["amountFen"].as_i64().unwrap(),
                    p["transactionId"].is_string(),
                )
            })
            .collect();
        assert_eq!(
            shape,
            vec![("BALANCE", 3000, false), ("DEMO", 2800, true)],
            "{v}"
        );
        assert!(payments.iter().all(|p| p["refundDue"] == false), "{v}");
    }
    let stranger = customer(&app, "stranger").await;
    let v = app
        .gql(Some(&stranger.token), PAYMENTS, json!({ "id": id }))
        .await;
    // Another customer's order is as if it did not exist.
    assert_eq!(v, json!({ "data": { "order": null } }));
}

#[tokio::test]
async fn twenty_concurrent_balance_payments_never_overdraw() {
    let app = spawn_app().await;
    let s = store(&app).await;
    top_up(&app, &s, 20000, 0).await;
    // Each order is 5800 from the balance: exactly three fit in 20000.
    let keys: Vec<String> = (0..20).map(|i| format!("c{i}")).collect();
    let results = futures_util::future::join_all(
        keys.iter()
            .map(|k| place_with(&app, &s.buyer, &s.skus.0, 1, true, k)),
    )
    .await;
    let full = results
        .iter()
        .filter(|v| v["data"]["placeOrder"]["order"]["payableFen"] == 0)
        .count();
    let w = wallet(&app, &s.buyer).await;
    assert!(w["balanceFen"].as_i64().unwrap() >= 0);
    assert_eq!(full, 3, "{results:?}");
    assert!(ledger_sums(&w), "{w}");
    // The rest were placed with what was left (or nothing) and WeChat for the remainder.
    for v in &results {
        assert!(
            v["errors"].is_null() || error_code(v) == "INSUFFICIENT_BALANCE",
            "{v}"
        );
    }
}

#[tokio::test]
async fn adjustments_are_idempotent_audited_and_admin_only() {
    let app = spawn_app().await;
    let s = store(&app).await;
    let adjust = "mutation($c: ID!, $a: Money!, $r: String!, $k: String!) { adjustWallet(customerId: $c, amountFen: $a, reason: $r, idempotencyKey: $k) { balanceFen principalFen } }";
    let v = app
        .gql(
            Some(&s.buyer),
            adjust,
            json!({ "c": s.buyer_id, "a": 100, "r": "x", "k": "k" }),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");
    for _ in 0..3 {
        let v = app
            .gql(
                Some(&s.admin),
                adjust,
                json!({ "c": s.buyer_id, "a": 500, "r": "补偿", "k": "k1" }),
            )
            .await;
        assert_eq!(v["data"]["adjustWallet"]["balanceFen"], 500, "{v}");
    }
    let v = app
        .gql(
            Some(&s.admin),
            adjust,
            json!({ "c": s.buyer_id, "a": 600, "r": "补偿", "k": "k1" }),
        )
        .await;
    assert_eq!(error_code(&v), "CONFLICT");
    let v = app
        .gql(
            Some(&s.admin),
            adjust,
            json!({ "c": s.buyer_id, "a": -501, "r": "扣回", "k": "k2" }),
        )
        .await;
    assert_eq!(error_code(&v), "INSUFFICIENT_BALANCE");
    let v = app
        .gql(
            Some(&s.admin),
            adjust,
            json!({ "c": s.buyer_id, "a": -200, "r": "扣回", "k": "k3" }),
        )
        .await;
    assert_eq!(v["data"]["adjustWallet"]["balanceFen"], 300);
    for (a, r, field) in [
        (0, "x", "amountFen"),
        (1, "", "reason"),
        (1_000_000_000, "x", "amountFen"),
    ] {
        let v = app
            .gql(
                Some(&s.admin),
                adjust,
                json!({ "c": s.buyer_id, "a": a, "r": r, "k": "z" }),
            )
            .await;
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
    }
    let v = app
        .gql(
            Some(&s.admin),
            adjust,
            json!({ "c": "99999", "a": 1, "r": "x", "k": "z" }),
        )
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND");
    let w = wallet(&app, &s.buyer).await;
    assert!(ledger_sums(&w));
    assert_eq!(
        w["transactions"]["nodes"].as_array().unwrap().len(),
        2,
        "the replays wrote nothing"
    );
    // The store sees any customer's wallet and ledger; customers do not see each other's.
    let view = "query($c: ID!) { customer(id: $c) { wallet { balanceFen transactions { nodes { kind amountFen } } } } }";
    let v = app
        .gql(Some(&s.admin), view, json!({ "c": s.buyer_id }))
        .await;
    assert_eq!(v["data"]["customer"]["wallet"]["balanceFen"], 300, "{v}");
    assert_eq!(
        v["data"]["customer"]["wallet"]["transactions"]["nodes"][0]["kind"],
        "ADJUSTMENT"
    );
    assert_eq!(
        error_code(
            &app.gql(Some(&s.buyer), view, json!({ "c": s.buyer_id }))
                .await
        ),
        "FORBIDDEN"
    );
}

#[tokio::test]
async fn bad_plan_input_gets_its_code() {
    let app = spawn_app().await;
    let s = store(&app).await;
    let buy =
        "mutation($p: ID!) { buyMembership(planId: $p, idempotencyKey: \"k\") { order { id } } }";
    assert_eq!(
        error_code(&app.gql(Some(&s.buyer), buy, json!({ "p": "999" })).await),
        "NOT_FOUND"
    );
    let plan = membership_plan(&app, &s.admin, 100, 30, 90, false).await;
    app.gql_ok(
        Some(&s.admin),
        "mutation($id: ID!) { updateMembershipPlan(id: $id, input: {active: false}) { active } }",
        json!({ "id": plan }),
    )
    .await;
    let v = app.gql(Some(&s.buyer), buy, json!({ "p": plan })).await;
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "planId",
        "inactive plan: {v}"
    );
    let v = app.gql(None, "{ membershipPlans { id } }", json!({})).await;
    assert!(v["data"]["membershipPlans"].as_array().unwrap().is_empty());
    let create = "mutation($i: MembershipPlanInput!) { createMembershipPlan(input: $i) { id } }";
    for (input, field) in [
        (
            json!({ "name": "x", "priceFen": -1, "durationDays": 30, "discountPercent": 90, "freeShipping": false }),
            "priceFen",
        ),
        (
            json!({ "name": "x", "priceFen": 100, "durationDays": 0, "discountPercent": 90, "freeShipping": false }),
            "durationDays",
        ),
        (
            json!({ "name": "x", "priceFen": 100, "durationDays": 30, "discountPercent": 101, "freeShipping": false }),
            "discountPercent",
        ),
        (
            json!({ "name": "", "priceFen": 100, "durationDays": 30, "discountPercent": 90, "freeShipping": false }),
            "name",
        ),
    ] {
        let v = app.gql(Some(&s.admin), create, json!({ "i": input })).await;
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
    }
    assert_eq!(error_code(&app.gql(Some(&s.buyer), create, json!({ "i": { "name": "x", "priceFen": 1, "durationDays": 1, "discountPercent": 1, "freeShipping": false } })).await), "FORBIDDEN");
    let v = app
        .gql(
            Some(&s.admin),
            "mutation { createTopUpPlan(input: {name: \"x\", payFen: 0, bonusFen: 0}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "payFen");
    let v = app
        .gql(
            Some(&s.admin),
            "mutation { createTopUpPlan(input: {name: \"x\", payFen: 100, bonusFen: -5}) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "bonusFen");
    // A top-up cannot be paid from the balance.
    let plan = top_up_plan(&app, &s.admin, 1000, 0).await;
    let id: i64 = s.buyer_id.parse().unwrap();
    let err = lib::place_plan_order(
        &app.state,
        id,
        lib::PlanKind::TopUp,
        plan.parse().unwrap(),
        true,
        "x",
    )
    .await
    .err()
    .unwrap();
    assert_eq!(err.code(), "BAD_USER_INPUT");
}

/// What one random operation came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Outcome {
    /// A top-up paid: its amount and bonus credited.
    ToppedUp,
    /// A goods order paid, from the balance as far as it went.
    Paid,
    /// A goods order its buyer cancelled: the draw came back.
    Cancelled,
    /// A goods order paid and refunded: the draw came back.
    Refunded,
    /// An order the expiry job (another task's operation) cancelled before
    /// it was paid: a draw came back, a late payment is refunded to WeChat.
    Expired,
    Credited,
    Debited,
    /// A debit of more than the balance.
    Refused,
    ExpiryRun,
}

/// The randomized test's operations, each on one customer's wallet, through
/// the services (thousands of them over HTTP would be slow).
struct Fuzz {
    state: lib::AppState,
    customers: Vec<i64>,
    /// (plan id, what paying it credits)
    plans: Vec<(i64, i64)>,
    sku: i64,
}

impl Fuzz {
    /// One random operation. Asserts the outcome of each call it makes and
    /// returns the customer, what the operation did to its balance, and what
    /// it came to. `key` (seed-batch-task-operation) names it in failures.
    async fn step(&self, rng: &mut rand::rngs::StdRng, key: &str) -> (i64, i64, Outcome) {
        use rand::Rng;
        let c = self.customers[rng.random_range(0..self.customers.len())];
        let (delta, outcome) = match rng.random_range(0..6) {
            0 => {
                let (plan, credit) = self.plans[rng.random_range(0..self.plans.len())];
                self.top_up(key, c, plan, credit).await
            }
            1 | 2 => {
                let quantity = rng.random_range(1..3);
                let then = rng.random_range(0..3);
                self.order(key, c, quantity, then).await
            }
            3 => {
                let amount = rng.random_range(1..3000);
                lib::adjust(&self.state, 1, c, amount, "随机补偿", key)
                    .await
                    .unwrap_or_else(|e| panic!("{key}: crediting {amount}: {e:?}"));
                (amount, Outcome::Credited)
            }
            4 => {
                let amount = rng.random_range(1..3000);
                match lib::adjust(&self.state, 1, c, -amount, "随机扣回", key).await {
                    Ok(_) => (-amount, Outcome::Debited),
                    Err(e) if e.code() == "INSUFFICIENT_BALANCE" => (0, Outcome::Refused),
                    Err(e) => panic!("{key}: debiting {amount}: {e:?}"),
                }
            }
            _ => {
                let later = chrono::Utc::now() + chrono::Duration::hours(1);
                lib::expire_unpaid(&self.state, later)
                    .await
                    .unwrap_or_else(|e| panic!("{key}: expiring: {e:?}"));
                (0, Outcome::ExpiryRun)
            }
        };
        (c, delta, outcome)
    }

    async fn top_up(&self, key: &str, c: i64, plan: i64, credit: i64) -> (i64, Outcome) {
        let placed = lib::place_plan_order(&self.state, c, lib::PlanKind::TopUp, plan, false, key)
            .await
            .unwrap_or_else(|e| panic!("{key}: placing a top-up: {e:?}"));
        assert!(placed.created, "{key}: a new key is a new order");
        match self.demo_pay(key, c, placed.order.id).await {
            Outcome::Paid => (credit, Outcome::ToppedUp),
            other => (0, other),
        }
    }

    /// A goods order of `quantity` paid from the balance as far as it goes,
    /// then cancelled (`then` 0), paid (1) or paid and refunded (2).
    async fn order(&self, key: &str, c: i64, quantity: i32, then: u8) -> (i64, Outcome) {
        let req = lib::OrderRequest {
            items: vec![lib::ItemRequest {
                sku_id: self.sku,
                quantity,
            }],
            address_id: None,
            coupon_id: None,
            use_balance: true,
            remark: None,
        };
        let placed = lib::place(&self.state, c, &req, key)
            .await
            .unwrap_or_else(|e| panic!("{key}: placing: {e:?}"));
        assert!(placed.created, "{key}: a new key is a new order");
        let o = placed.order;
        let drawn = o.balance_principal_fen + o.balance_bonus_fen;
        assert_eq!(
            (drawn, o.balance_fen + o.payable_fen),
            (o.balance_fen, o.total_fen),
            "{key}: the draw is the balance part, the rest is payable: {o:?}"
        );
        let outcome = match then {
            0 => match lib::cancel_own(&self.state, c, o.id).await {
                Ok(now) => {
                    assert_eq!(now.status, "CANCELLED", "{key}");
                    Outcome::Cancelled
                }
                Err(e) => {
                    assert_eq!(e.code(), "CONFLICT", "{key}: cancelling: {e:?}");
                    assert_eq!(self.status(o.id).await, "CANCELLED", "{key}: {e:?}");
                    Outcome::Expired
                }
            },
            1 => {
                let params = lib::start_payment(&self.state, &o)
                    .await
                    .unwrap_or_else(|e| panic!("{key}: starting the payment: {e:?}"));
                assert!(params.is_none(), "{key}: demo mode opens no WeChat Pay");
                if o.payable_fen > 0 {
                    self.demo_pay(key, c, o.id).await
                } else {
                    // All from the balance: `start` paid it there and then,
                    // unless the expiry job had cancelled it.
                    match self.status(o.id).await.as_str() {
                        "PAID" => Outcome::Paid,
                        "CANCELLED" => Outcome::Expired,
                        other => panic!("{key}: started, and {other}"),
                    }
                }
            }
            _ => match self.demo_pay(key, c, o.id).await {
                Outcome::Paid => {
                    let r = lib::request_refund(&self.state, c, o.id, "随机")
                        .await
                        .unwrap_or_else(|e| panic!("{key}: asking for a refund: {e:?}"));
                    let r = lib::approve_refund(&self.state, r.id)
                        .await
                        .unwrap_or_else(|e| panic!("{key}: approving the refund: {e:?}"));
                    assert_eq!(r.status, "REFUNDED", "{key}: {r:?}");
                    Outcome::Refunded
                }
                other => other,
            },
        };
        let delta = if outcome == Outcome::Paid { -drawn } else { 0 };
        (delta, outcome)
    }

    /// `demoPay`: `Paid`, or `Expired` when the expiry job got there first.
    async fn demo_pay(&self, key: &str, c: i64, id: i64) -> Outcome {
        let status = match lib::demo_pay(&self.state, c, id).await {
            Ok(o) => o.status,
            Err(e) => {
                assert_eq!(e.code(), "CONFLICT", "{key}: paying: {e:?}");
                self.status(id).await
            }
        };
        match status.as_str() {
            // Goods are PAID; a top-up is COMPLETED as it is paid.
            "PAID" | "COMPLETED" => Outcome::Paid,
            "CANCELLED" => Outcome::Expired,
            other => panic!("{key}: paid, and {other}"),
        }
    }

    async fn status(&self, id: i64) -> String {
        lib::find_order(&self.state, id)
            .await
            .unwrap()
            .expect("the order exists")
            .status
    }
}

/// Thousands of random top-ups, payments, cancellations, refunds and
/// adjustments from concurrent tasks, with the expiry job among them. Each
/// operation's outcome is asserted as it happens; after every batch each
/// wallet is what those outcomes add up to, equals its ledger sum and is
/// never negative. `WALLET_FUZZ_SEED` replays a run.
#[tokio::test]
async fn randomized_wallet_operations_keep_the_ledger_exact() {
    use std::collections::HashMap;

    use rand::{Rng, SeedableRng, rngs::StdRng};

    let seed: u64 = std::env::var("WALLET_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| rand::rng().random());
    let app = spawn_app().await;
    let s = store(&app).await;
    let mut plans = Vec::new();
    for (pay, bonus) in [(1000, 200), (5000, 0), (300, 30)] {
        let plan = top_up_plan(&app, &s.admin, pay, bonus).await;
        plans.push((plan.parse().unwrap(), pay + bonus));
    }
    set_stock(&app, &s.admin, &s.skus.0, 10_000_000).await;
    let mut customers = Vec::new();
    for i in 0..4 {
        let c = customer(&app, &format!("fuzz{i}")).await;
        save_address(&app, &c.token).await;
        customers.push(c.id.parse::<i64>().unwrap());
    }
    let fuzz = Fuzz {
        state: app.state.clone(),
        customers: customers.clone(),
        plans,
        sku: s.skus.0.parse().unwrap(),
    };

    let mut expected: HashMap<i64, i64> = customers.iter().map(|c| (*c, 0)).collect();
    let mut seen: HashMap<Outcome, usize> = HashMap::new();
    let batches = 12;
    let tasks = 6;
    let ops_per_task = 25;
    for batch in 0..batches {
        let runs = (0..tasks).map(|t| {
            let fuzz = &fuzz;
            async move {
                let mut rng = StdRng::seed_from_u64(seed ^ ((batch * 100 + t) as u64));
                let mut done = Vec::new();
                for n in 0..ops_per_task {
                    done.push(
                        fuzz.step(&mut rng, &format!("{seed}-{batch}-{t}-{n}"))
                            .await,
                    );
                }
                done
            }
        });
        for (c, delta, outcome) in futures_util::future::join_all(runs)
            .await
            .into_iter()
            .flatten()
        {
            *expected.get_mut(&c).unwrap() += delta;
            *seen.entry(outcome).or_default() += 1;
        }
        for c in &customers {
            let w = lib::wallet_of(&app.state, *c).await.unwrap();
            let sum = lib::ledger_sum(&app.state, *c).await.unwrap();
            assert!(
                w.principal_fen >= 0 && w.bonus_fen >= 0,
                "seed {seed}, batch {batch}: negative wallet {w:?}"
            );
            assert_eq!(
                w.principal_fen + w.bonus_fen,
                sum,
                "seed {seed}, batch {batch}: wallet {w:?} vs ledger sum {sum}"
            );
            assert_eq!(
                sum, expected[c],
                "seed {seed}, batch {batch}: customer {c}'s ledger vs what its operations did ({seen:?})"
            );
        }
    }
    // Each kind of operation really ran, and not only its refusals.
    for outcome in [
        Outcome::ToppedUp,
        Outcome::Paid,
        Outcome::Cancelled,
        Outcome::Refunded,
        Outcome::Credited,
        Outcome::Debited,
        Outcome::ExpiryRun,
    ] {
        assert!(
            seen.contains_key(&outcome),
            "seed {seed}: no operation came to {outcome:?}: {seen:?}"
        );
    }
}
