//! Coupons and full-reduction promotions through the API: templates,
//! claiming (limits under concurrency), pricing in preview and order,
//! one order per coupon, giving back on cancellation, targeted campaigns,
//! top-up gifts, and who may do what.
use serde_json::{Value, json};

use crate::{
    fixtures::{
        CANCEL_ORDER, COUPON_TEMPLATE as TEMPLATE, coupon_template as template, customer,
        demo_pay_plan, new_buyer, place, place_input, shop, stock_of, top_up_order,
    },
    helpers::{TestApp, error_code, ok, spawn_app},
};

const CLAIM: &str = "mutation($t: ID!) { claimCoupon(templateId: $t) { id status thresholdFen offFen source expiresAt } }";
const MINE: &str = "query($s: CouponStatus) { myCoupons(status: $s) { id status source order { id } template { id } } }";
const PREVIEW: &str = "query($i: OrderInput!) { previewOrder(input: $i) { itemsFen promotionDiscountFen couponDiscountFen shippingFen payableFen } }";

/// 满100减20, valid 7 days from claiming.
fn hundred_minus_twenty() -> Value {
    json!({ "name": "满100减20", "thresholdFen": 10000, "offFen": 2000, "validDays": 7 })
}

async fn claim(app: &TestApp, token: &str, template: &Value) -> Value {
    app.gql(Some(token), CLAIM, json!({ "t": template["id"] }))
        .await
}

async fn mine(app: &TestApp, token: &str, status: Option<&str>) -> Vec<Value> {
    let v = app.gql(Some(token), MINE, json!({ "s": status })).await;
    v["data"]["myCoupons"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .clone()
}

#[tokio::test]
async fn a_coupon_is_claimed_priced_used_once_and_given_back_on_cancel() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let t = template(&app, &shop.admin, hundred_minus_twenty()).await;
    assert_eq!(t["perCustomerLimit"], 1);
    assert_eq!(t["claimable"], true);
    let v = app
        .gql(None, "{ availableCoupons { id name } }", json!({}))
        .await;
    assert_eq!(v["data"]["availableCoupons"][0]["id"], t["id"], "{v}");

    let buyer = new_buyer(&app, "b").await;
    let v = claim(&app, &buyer, &t).await;
    let coupon = v["data"]["claimCoupon"].clone();
    assert_eq!(coupon["status"], "UNUSED", "{v}");
    assert_eq!(coupon["source"], "CLAIM");
    assert_eq!(
        error_code(&claim(&app, &buyer, &t).await),
        "CONFLICT",
        "one per customer"
    );

    // Goods of 3000 × 4 = 12000 reach the threshold: 2000 off, 10000 left ships free.
    let items = shop.items(&[(0, 4)]);
    let v = app
        .gql(
            Some(&buyer),
            PREVIEW,
            json!({ "i": { "items": items, "couponId": coupon["id"] } }),
        )
        .await;
    let preview = v["data"]["previewOrder"].clone();
    assert_eq!(preview["couponDiscountFen"], 2000, "{v}");
    assert_eq!(preview["payableFen"], 10000);
    // Below the threshold the chosen coupon is refused, not dropped.
    let v = app
        .gql(
            Some(&buyer),
            PREVIEW,
            json!({ "i": { "items": [{ "skuId": shop.products[0].1[0], "quantity": 3 }], "couponId": coupon["id"] } }),
        )
        .await;
    assert_eq!(error_code(&v), "COUPON_INVALID", "{v}");

    let place_with = |key: &'static str| {
        let input = json!({ "items": items, "couponId": coupon["id"] });
        place_input(&app, &buyer, input, key)
    };
    let v = place_with("k1").await;
    let order = v["data"]["placeOrder"]["order"].clone();
    assert_eq!(order["couponDiscountFen"], 2000, "{v}");
    assert_eq!(
        order["payableFen"], preview["payableFen"],
        "preview = order"
    );
    let used = mine(&app, &buyer, Some("USED")).await;
    assert_eq!(used.len(), 1);
    assert_eq!(used[0]["order"]["id"], order["id"]);
    assert_eq!(mine(&app, &buyer, Some("UNUSED")).await.len(), 0);
    // The replay is the same order; a second order cannot use the coupon.
    let v = place_with("k1").await;
    assert_eq!(v["data"]["placeOrder"]["order"]["id"], order["id"], "{v}");
    let v = place_with("k2").await;
    assert_eq!(error_code(&v), "COUPON_INVALID", "{v}");
    assert_eq!(
        stock_of(&app, &shop.products[0].0).await,
        vec![6],
        "the refused order took nothing"
    );
    // Someone else cannot use it.
    let other = new_buyer(&app, "mallory").await;
    let v = app
        .gql(
            Some(&other),
            PREVIEW,
            json!({ "i": { "items": items, "couponId": coupon["id"] } }),
        )
        .await;
    assert_eq!(error_code(&v), "COUPON_INVALID");

    // Cancelled unpaid, the order gives the coupon back.
    let v = app
        .gql(Some(&buyer), CANCEL_ORDER, json!({ "id": order["id"] }))
        .await;
    assert_eq!(v["data"]["cancelOrder"]["status"], "CANCELLED", "{v}");
    let unused = mine(&app, &buyer, Some("UNUSED")).await;
    assert_eq!(unused.len(), 1);
    assert!(unused[0]["order"].is_null());
    let v = place_with("k3").await;
    assert_eq!(
        v["data"]["placeOrder"]["order"]["couponDiscountFen"], 2000,
        "{v}"
    );
}

#[tokio::test]
async fn a_coupon_goes_to_one_order_however_many_try_at_once() {
    let app = spawn_app().await;
    let shop = shop(&app, 100).await;
    let t = template(&app, &shop.admin, hundred_minus_twenty()).await;
    let buyer = new_buyer(&app, "b").await;
    let coupon = ok(&claim(&app, &buyer, &t).await)["claimCoupon"]["id"].clone();
    let keys: Vec<String> = (0..10).map(|i| format!("k{i}")).collect();
    let calls = keys.iter().map(|k| {
        let input = json!({ "items": shop.items(&[(0, 4)]), "couponId": coupon });
        place_input(&app, &buyer, input, k)
    });
    let results = futures_util::future::join_all(calls).await;
    let placed = results.iter().filter(|v| v["errors"].is_null()).count();
    let refused = results
        .iter()
        .filter(|v| !v["errors"].is_null() && error_code(v) == "COUPON_INVALID")
        .count();
    assert_eq!((placed, refused), (1, 9), "{results:?}");
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![96]);
}

#[tokio::test]
async fn claims_never_exceed_the_total_or_the_per_customer_limit() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = template(
        &app,
        &admin,
        json!({ "name": "限量", "thresholdFen": 0, "offFen": 500, "validDays": 3, "totalQuantity": 5, "perCustomerLimit": 2 }),
    )
    .await;
    let mut buyers = Vec::new();
    for i in 0..8 {
        buyers.push(app.customer_token(&format!("c{i}")).await);
    }
    // Eight customers, two claims each, at once: 5 in all, at most 2 each.
    let calls = buyers
        .iter()
        .flat_map(|b| [b, b])
        .map(|b| claim(&app, b, &t));
    let results = futures_util::future::join_all(calls).await;
    let ok = results.iter().filter(|v| v["errors"].is_null()).count();
    assert_eq!(ok, 5, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|v| !v["errors"].is_null())
            .all(|v| error_code(v) == "CONFLICT")
    );
    let v = app
        .gql(Some(&admin), "{ couponTemplates { remaining } }", json!({}))
        .await;
    assert_eq!(v["data"]["couponTemplates"][0]["remaining"], 0);
    let v = app
        .gql(None, "{ availableCoupons { id } }", json!({}))
        .await;
    assert_eq!(v["data"]["availableCoupons"], json!([]), "sold out");

    let t = template(
        &app,
        &admin,
        json!({ "name": "每人两张", "thresholdFen": 0, "offFen": 100, "validDays": 3, "perCustomerLimit": 2 }),
    )
    .await;
    let calls = (0..8).map(|_| claim(&app, &buyers[0], &t));
    let ok = futures_util::future::join_all(calls)
        .await
        .iter()
        .filter(|v| v["errors"].is_null())
        .count();
    assert_eq!(ok, 2);
}

#[tokio::test]
async fn the_best_promotion_applies_in_preview_and_order() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let create = "mutation($i: PromotionInput!) { createPromotion(input: $i) { id name active } }";
    let ends = (chrono::Utc::now() + chrono::Duration::days(7)).to_rfc3339();
    let mut ids = Vec::new();
    for (name, threshold, off) in [("满50减5", 5000, 500), ("满90减15", 9000, 1500)] {
        let v = app
            .gql(
                Some(&shop.admin),
                create,
                json!({ "i": { "name": name, "thresholdFen": threshold, "offFen": off, "endsAt": ends } }),
            )
            .await;
        assert_eq!(v["data"]["createPromotion"]["active"], true, "{v}");
        ids.push(v["data"]["createPromotion"]["id"].clone());
    }
    let v = app.gql(None, "{ promotions { name } }", json!({})).await;
    assert_eq!(v["data"]["promotions"].as_array().unwrap().len(), 2, "{v}");
    let buyer = new_buyer(&app, "b").await;
    let preview = |q: i64| {
        let (app, buyer, sku) = (&app, &buyer, shop.products[0].1[0].clone());
        async move {
            let v = app
                .gql(
                    Some(buyer),
                    PREVIEW,
                    json!({ "i": { "items": [{ "skuId": sku, "quantity": q }] } }),
                )
                .await;
            v["data"]["previewOrder"]["promotionDiscountFen"].clone()
        }
    };
    assert_eq!(preview(1).await, 0, "3000 reaches neither");
    assert_eq!(preview(2).await, 500, "6000: the first tier");
    assert_eq!(preview(3).await, 1500, "9000: the better tier, not both");
    // Placed through the batch writer, the order has the same breakdown.
    let v = place(&app, &buyer, shop.items(&[(0, 3)]), "k").await;
    let order = &v["data"]["placeOrder"]["order"];
    assert_eq!(order["totalFen"], 9000 - 1500 + 800, "{v}");
    // Ended by an admin, it no longer applies; only ADMIN sees it listed.
    let v = app
        .gql(
            Some(&shop.admin),
            "mutation($id: ID!) { setPromotionActive(id: $id, active: false) { active } }",
            json!({ "id": ids[1] }),
        )
        .await;
    assert_eq!(v["data"]["setPromotionActive"]["active"], false, "{v}");
    assert_eq!(preview(3).await, 500);
    let all = "{ promotions(all: true) { name active } }";
    assert_eq!(
        error_code(&app.gql(Some(&buyer), all, json!({})).await),
        "FORBIDDEN"
    );
    let v = app.gql(Some(&shop.admin), all, json!({})).await;
    assert_eq!(v["data"]["promotions"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn targeted_campaigns_issue_once_per_key_within_the_total() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = template(
        &app,
        &admin,
        json!({ "name": "回归礼", "thresholdFen": 0, "offFen": 1000, "validDays": 14, "totalQuantity": 4, "claimable": false }),
    )
    .await;
    let mut customers = Vec::new();
    let mut tokens = Vec::new();
    for name in ["a", "b", "c"] {
        let c = customer(&app, name).await;
        tokens.push(c.token);
        customers.push(c.id);
    }
    let issue = "mutation($t: ID!, $c: [ID!], $s: ID, $k: String) { issueCoupons(templateId: $t, customerIds: $c, segmentId: $s, idempotencyKey: $k) }";
    let v = app
        .gql(
            Some(&admin),
            issue,
            json!({ "t": t["id"], "c": customers, "k": "camp-1" }),
        )
        .await;
    assert_eq!(v["data"]["issueCoupons"], 3, "{v}");
    let v = app
        .gql(
            Some(&admin),
            issue,
            json!({ "t": t["id"], "c": customers, "k": "camp-1" }),
        )
        .await;
    assert_eq!(v["data"]["issueCoupons"], 3, "a repeat answers the same");
    for token in &tokens {
        let mine = mine(&app, token, None).await;
        assert_eq!(mine.len(), 1, "one each, not two");
        assert_eq!(mine[0]["source"], "ISSUE");
    }
    let v = app
        .gql(
            Some(&admin),
            issue,
            json!({ "t": t["id"], "c": [customers[0]], "k": "camp-1" }),
        )
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "same key, other campaign");
    let v = app
        .gql(Some(&admin), issue, json!({ "t": t["id"], "c": customers }))
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "only 1 left of 4: {v}");
    let v = app
        .gql(
            Some(&admin),
            issue,
            json!({ "t": t["id"], "c": ["999999"] }),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT");
    assert_eq!(v["errors"][0]["extensions"]["field"], "customerIds");
    let v = app
        .gql(Some(&admin), issue, json!({ "t": t["id"], "c": [] }))
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT");
    let v = app
        .gql(Some(&admin), issue, json!({ "t": "404", "c": customers }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND");
    let v = app
        .gql(
            Some(&tokens[0]),
            issue,
            json!({ "t": t["id"], "c": customers }),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");
    // Issued-only templates are not for claiming.
    assert_eq!(error_code(&claim(&app, &tokens[0], &t).await), "CONFLICT");
    let v = app
        .gql(None, "{ availableCoupons { id } }", json!({}))
        .await;
    assert_eq!(v["data"]["availableCoupons"], json!([]));
    // A claimable template's limit counts claims: a coupon issued by the
    // store does not use it up.
    let claimable = template(
        &app,
        &admin,
        json!({ "name": "可领也可发", "thresholdFen": 0, "offFen": 100, "validDays": 3 }),
    )
    .await;
    let v = app
        .gql(
            Some(&admin),
            issue,
            json!({ "t": claimable["id"], "c": [customers[0]] }),
        )
        .await;
    assert_eq!(v["data"]["issueCoupons"], 1, "{v}");
    let v = claim(&app, &tokens[0], &claimable).await;
    assert!(v["errors"].is_null(), "{v}");
    assert_eq!(
        error_code(&claim(&app, &tokens[0], &claimable).await),
        "CONFLICT"
    );
}

#[tokio::test]
async fn a_top_up_gives_its_gift_coupons() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let t = template(
        &app,
        &admin,
        json!({ "name": "充值礼", "thresholdFen": 5000, "offFen": 500, "validDays": 30, "claimable": false }),
    )
    .await;
    let v = app
        .gql(
            Some(&admin),
            "mutation($i: TopUpPlanInput!) { createTopUpPlan(input: $i) { id giftCouponTemplates { id name } } }",
            json!({ "i": { "name": "充100送20", "payFen": 10000, "bonusFen": 2000, "giftCouponTemplateIds": [t["id"]] } }),
        )
        .await;
    let plan = v["data"]["createTopUpPlan"].clone();
    assert_eq!(plan["giftCouponTemplates"][0]["name"], "充值礼", "{v}");
    let v = app
        .gql(
            Some(&admin),
            "mutation($i: TopUpPlanInput!) { createTopUpPlan(input: $i) { id } }",
            json!({ "i": { "name": "x", "payFen": 100, "bonusFen": 0, "giftCouponTemplateIds": ["424242"] } }),
        )
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "giftCouponTemplateIds",
        "{v}"
    );

    let buyer = app.customer_token("b").await;
    let order = top_up_order(&app, &buyer, &plan["id"], "t1").await["id"].clone();
    assert!(
        mine(&app, &buyer, None).await.is_empty(),
        "not before payment"
    );
    demo_pay_plan(&app, &buyer, &order).await;
    let coupons = mine(&app, &buyer, None).await;
    assert_eq!(coupons.len(), 1);
    assert_eq!(coupons[0]["source"], "GIFT");
    assert_eq!(coupons[0]["template"]["id"], t["id"]);
}

#[tokio::test]
async fn coupon_and_promotion_input_is_checked_and_admin_only() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let buyer = app.customer_token("b").await;
    for (input, field) in [
        (
            json!({ "name": "", "thresholdFen": 0, "offFen": 1, "validDays": 1 }),
            "input.name",
        ),
        (
            json!({ "name": "x", "thresholdFen": 1000, "offFen": 1001, "validDays": 1 }),
            "input.offFen",
        ),
        (
            json!({ "name": "x", "thresholdFen": 0, "offFen": 0, "validDays": 1 }),
            "input.offFen",
        ),
        (
            json!({ "name": "x", "thresholdFen": -1, "offFen": 1, "validDays": 1 }),
            "input.thresholdFen",
        ),
        (
            json!({ "name": "x", "thresholdFen": 0, "offFen": 1 }),
            "input.validDays",
        ),
        (
            json!({ "name": "x", "thresholdFen": 0, "offFen": 1, "validDays": 0 }),
            "input.validDays",
        ),
        (
            json!({ "name": "x", "thresholdFen": 0, "offFen": 1, "validFrom": "2027-01-02T00:00:00Z", "validTo": "2027-01-01T00:00:00Z" }),
            "input.validTo",
        ),
        (
            json!({ "name": "x", "thresholdFen": 0, "offFen": 1, "validDays": 1, "totalQuantity": 0 }),
            "input.totalQuantity",
        ),
        (
            json!({ "name": "x", "thresholdFen": 0, "offFen": 1, "validDays": 1, "perCustomerLimit": 0 }),
            "input.perCustomerLimit",
        ),
    ] {
        let v = app.gql(Some(&admin), TEMPLATE, json!({ "i": input })).await;
        assert_eq!(error_code(&v), "BAD_USER_INPUT", "{input}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{input}: {v}");
    }
    let good = hundred_minus_twenty();
    assert_eq!(
        error_code(&app.gql(Some(&buyer), TEMPLATE, json!({ "i": good })).await),
        "FORBIDDEN"
    );
    assert_eq!(
        error_code(&app.gql(None, TEMPLATE, json!({ "i": good })).await),
        "UNAUTHENTICATED"
    );
    let v = app
        .gql(Some(&admin), "{ couponTemplates { id } }", json!({}))
        .await;
    assert_eq!(
        v["data"]["couponTemplates"],
        json!([]),
        "nothing was written"
    );
    let t = template(&app, &admin, good).await;
    assert_eq!(
        error_code(&claim(&app, &admin, &t).await),
        "FORBIDDEN",
        "admins do not claim"
    );
    let v = app.gql(None, CLAIM, json!({ "t": t["id"] })).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED");
    let v = app.gql(Some(&buyer), CLAIM, json!({ "t": "x" })).await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "templateId");
    let v = app.gql(Some(&buyer), CLAIM, json!({ "t": "404" })).await;
    assert_eq!(error_code(&v), "NOT_FOUND");
    // A retired template gives no more; coupons given stay.
    ok(&claim(&app, &buyer, &t).await);
    let v = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { setCouponTemplateActive(id: $id, active: false) { active } }",
            json!({ "id": t["id"] }),
        )
        .await;
    assert_eq!(v["data"]["setCouponTemplateActive"]["active"], false, "{v}");
    let other = app.customer_token("c").await;
    assert_eq!(error_code(&claim(&app, &other, &t).await), "CONFLICT");
    assert_eq!(mine(&app, &buyer, Some("UNUSED")).await.len(), 1);

    let create = "mutation($i: PromotionInput!) { createPromotion(input: $i) { id } }";
    let ends = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let past = (chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339();
    for (input, field) in [
        (
            json!({ "name": "x", "thresholdFen": 1000, "offFen": 2000, "endsAt": ends }),
            "input.offFen",
        ),
        (
            json!({ "name": "x", "thresholdFen": 0, "offFen": 1, "endsAt": ends }),
            "input.thresholdFen",
        ),
        (
            json!({ "name": "x", "thresholdFen": 1000, "offFen": 100, "endsAt": past }),
            "input.endsAt",
        ),
    ] {
        let v = app.gql(Some(&admin), create, json!({ "i": input })).await;
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{input}: {v}");
    }
    let good = json!({ "name": "满10减1", "thresholdFen": 1000, "offFen": 100, "endsAt": ends });
    assert_eq!(
        error_code(&app.gql(Some(&buyer), create, json!({ "i": good })).await),
        "FORBIDDEN"
    );
}
