//! The console's money pages through the API (issue 19): editing a coupon
//! template without changing the coupons already given, the used and
//! issued figures of templates, and retired plans listed for staff and put
//! back on sale; who may do each.
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

use crate::{
    fixtures::{
        CANCEL_ORDER, coupon_template, customer, demo_pay, id_of, membership_plan, new_buyer,
        place_input, shop, staff, text, top_up_plan,
    },
    helpers::{TestApp, error_code, ok, spawn_app},
};

const UPDATE: &str = "mutation($id: ID!, $i: CouponTemplateUpdateInput!) { updateCouponTemplate(id: $id, input: $i) { id name thresholdFen offFen totalQuantity remaining issuedCount perCustomerLimit validDays validFrom validTo claimable claimStartsAt claimEndsAt } }";
const TEMPLATES: &str = "{ couponTemplates { id name thresholdFen offFen issuedCount usedCount } }";
const CLAIM: &str = "mutation($t: ID!) { claimCoupon(templateId: $t) { id thresholdFen offFen validFrom expiresAt template { name } } }";
const MINE: &str = "{ myCoupons { id thresholdFen offFen expiresAt template { name } } }";
const ISSUE: &str =
    "mutation($t: ID!, $c: [ID!]) { issueCoupons(templateId: $t, customerIds: $c) }";
const PLANS: &str = "query($r: Boolean) { membershipPlans(includeRetired: $r) { id active } topUpPlans(includeRetired: $r) { id active } }";
const UPDATE_PLAN: &str = "mutation($id: ID!, $i: MembershipPlanUpdateInput!) { updateMembershipPlan(id: $id, input: $i) { id active } }";
const UPDATE_TOP_UP: &str = "mutation($id: ID!, $i: TopUpPlanUpdateInput!) { updateTopUpPlan(id: $id, input: $i) { id active } }";
const AUDIT: &str = "query($a: String) { auditLog(filter: { action: $a }, first: 50) { nodes { actor action target } } }";

async fn update(app: &TestApp, token: &str, id: &Value, input: Value) -> Value {
    app.gql(Some(token), UPDATE, json!({ "id": id, "i": input }))
        .await
}

/// The template `id` as `couponTemplates` lists it.
async fn listed(app: &TestApp, admin: &str, id: &Value) -> Value {
    let data = app.gql_ok(Some(admin), TEMPLATES, json!({})).await;
    data["couponTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == *id)
        .unwrap_or_else(|| panic!("template {id} not listed: {data}"))
        .clone()
}

/// How many templates customers can claim now.
async fn available(app: &TestApp) -> usize {
    let v = app
        .gql(None, "{ availableCoupons { id } }", json!({}))
        .await;
    ok(&v)["availableCoupons"].as_array().unwrap().len()
}

fn at(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a date: {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn a_template_is_edited_and_coupons_given_keep_their_terms() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let ops = staff(&app, &admin, "ops", "OPERATIONS").await.token;
    let t = coupon_template(
        &app,
        &admin,
        json!({ "name": "满100减20", "thresholdFen": 10000, "offFen": 2000, "validDays": 7, "totalQuantity": 3 }),
    )
    .await;
    let id = t["id"].clone();

    // Before any coupon is given, everything may change.
    let v = update(
        &app,
        &ops,
        &id,
        json!({ "name": "满200减30", "thresholdFen": 20000, "offFen": 3000 }),
    )
    .await;
    let u = &ok(&v)["updateCouponTemplate"];
    assert_eq!(
        (
            &u["name"],
            &u["thresholdFen"],
            &u["offFen"],
            &u["validDays"]
        ),
        (&json!("满200减30"), &json!(20000), &json!(3000), &json!(7)),
        "{v}"
    );

    let buyer = customer(&app, "b").await;
    let v = app.gql(Some(&buyer.token), CLAIM, json!({ "t": id })).await;
    let claimed = ok(&v)["claimCoupon"].clone();
    assert_eq!(
        (&claimed["thresholdFen"], &claimed["offFen"]),
        (&json!(20000), &json!(3000)),
        "{v}"
    );
    assert!(at(&claimed["expiresAt"]) <= Utc::now() + Duration::days(7));

    // Once one is given, the terms are fixed: CONFLICT, nothing changed.
    for input in [json!({ "offFen": 2500 }), json!({ "thresholdFen": 19900 })] {
        let v = update(&app, &ops, &id, input).await;
        assert_eq!(error_code(&v), "CONFLICT", "{v}");
    }
    let l = listed(&app, &admin, &id).await;
    assert_eq!(
        (&l["thresholdFen"], &l["offFen"]),
        (&json!(20000), &json!(3000))
    );

    // The same terms sent again are no change; the rest may change.
    let v = update(
        &app,
        &ops,
        &id,
        json!({ "name": "满200减30 加量", "thresholdFen": 20000, "offFen": 3000,
                "validDays": 30, "totalQuantity": 5, "perCustomerLimit": 2 }),
    )
    .await;
    let u = &ok(&v)["updateCouponTemplate"];
    assert_eq!(
        (
            &u["name"],
            &u["validDays"],
            &u["totalQuantity"],
            &u["remaining"],
            &u["issuedCount"],
            &u["perCustomerLimit"],
        ),
        (
            &json!("满200减30 加量"),
            &json!(30),
            &json!(5),
            &json!(4),
            &json!(1),
            &json!(2)
        ),
        "{v}"
    );
    // The coupon held keeps its own validity; the new name shows on it.
    let data = app.gql_ok(Some(&buyer.token), MINE, json!({})).await;
    let held = &data["myCoupons"][0];
    assert_eq!(held["id"], claimed["id"], "{data}");
    assert_eq!(held["expiresAt"], claimed["expiresAt"], "{data}");
    assert_eq!(held["template"]["name"], "满200减30 加量", "{data}");
    // A coupon given now gets the new validity.
    let v = app.gql(Some(&buyer.token), CLAIM, json!({ "t": id })).await;
    assert!(
        at(&ok(&v)["claimCoupon"]["expiresAt"]) > Utc::now() + Duration::days(29),
        "{v}"
    );

    // The total never goes below what was given (2); null lifts it.
    let v = update(&app, &ops, &id, json!({ "totalQuantity": 1 })).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "input.totalQuantity");
    let v = update(&app, &ops, &id, json!({ "totalQuantity": 2 })).await;
    assert_eq!(ok(&v)["updateCouponTemplate"]["remaining"], 0, "{v}");
    let v = update(&app, &ops, &id, json!({ "totalQuantity": null })).await;
    let u = &ok(&v)["updateCouponTemplate"];
    assert!(
        u["totalQuantity"].is_null() && u["remaining"].is_null(),
        "{v}"
    );

    // Validity switches whole to a window; half a window is refused.
    let from = Utc::now() - Duration::days(1);
    let to = Utc::now() + Duration::days(10);
    let v = update(&app, &ops, &id, json!({ "validTo": to.to_rfc3339() })).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    let v = update(
        &app,
        &ops,
        &id,
        json!({ "validFrom": from.to_rfc3339(), "validTo": to.to_rfc3339() }),
    )
    .await;
    let u = &ok(&v)["updateCouponTemplate"];
    assert!(u["validDays"].is_null(), "{v}");
    assert_eq!(at(&u["validTo"]).timestamp(), to.timestamp(), "{v}");

    // A claim window closed takes it off the customers' list; null reopens.
    assert_eq!(available(&app).await, 1);
    let ended = (Utc::now() - Duration::hours(1)).to_rfc3339();
    let v = update(
        &app,
        &ops,
        &id,
        json!({ "claimStartsAt": (Utc::now() - Duration::days(2)).to_rfc3339(), "claimEndsAt": ended }),
    )
    .await;
    ok(&v);
    assert_eq!(available(&app).await, 0);
    let v = update(&app, &ops, &id, json!({ "claimEndsAt": null })).await;
    assert!(
        ok(&v)["updateCouponTemplate"]["claimEndsAt"].is_null(),
        "{v}"
    );
    assert_eq!(available(&app).await, 1);

    let v = update(&app, &ops, &json!("nope"), json!({ "name": "x" })).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");

    // Audited like the other coupon mutations, under the template's id.
    let data = app
        .gql_ok(Some(&admin), AUDIT, json!({ "a": "updateCouponTemplate" }))
        .await;
    let entries = data["auditLog"]["nodes"].as_array().unwrap();
    assert_eq!(entries.len(), 7, "one per edit that succeeded: {data}");
    assert!(
        entries
            .iter()
            .all(|e| e["target"] == id && e["actor"] == "ops"),
        "{data}"
    );
}

#[tokio::test]
async fn used_and_issued_counts_follow_orders_in_one_list() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let admin = shop.admin.clone();
    let small = coupon_template(
        &app,
        &admin,
        json!({ "name": "满50减5", "thresholdFen": 5000, "offFen": 500, "validDays": 7 }),
    )
    .await;
    let other = coupon_template(
        &app,
        &admin,
        json!({ "name": "无门槛1元", "thresholdFen": 0, "offFen": 100, "validDays": 7, "claimable": false }),
    )
    .await;
    let a = new_buyer(&app, "a").await;
    let b = new_buyer(&app, "b").await;
    let mut coupons = Vec::new();
    for token in [&a, &b] {
        let v = app
            .gql(Some(token), CLAIM, json!({ "t": small["id"] }))
            .await;
        coupons.push(ok(&v)["claimCoupon"]["id"].clone());
    }
    let c = customer(&app, "c").await;
    let v = app
        .gql(
            Some(&admin),
            ISSUE,
            json!({ "t": other["id"], "c": [c.id] }),
        )
        .await;
    assert_eq!(ok(&v)["issueCoupons"], 1, "{v}");

    let counts = |l: &Value| (l["issuedCount"].clone(), l["usedCount"].clone());
    assert_eq!(
        counts(&listed(&app, &admin, &small["id"]).await),
        (json!(2), json!(0))
    );

    // An unpaid order uses it; cancelling gives it back; a paid one keeps it.
    let items = shop.items(&[(0, 2)]);
    let with = |coupon: &Value| json!({ "items": items.clone(), "couponId": coupon });
    let v = place_input(&app, &a, with(&coupons[0]), "a1").await;
    let order_a = ok(&v)["placeOrder"]["order"]["id"].clone();
    assert_eq!(
        counts(&listed(&app, &admin, &small["id"]).await),
        (json!(2), json!(1))
    );
    let v = app
        .gql(Some(&a), CANCEL_ORDER, json!({ "id": order_a }))
        .await;
    assert_eq!(ok(&v)["cancelOrder"]["status"], "CANCELLED", "{v}");
    assert_eq!(
        counts(&listed(&app, &admin, &small["id"]).await),
        (json!(2), json!(0))
    );
    let v = place_input(&app, &b, with(&coupons[1]), "b1").await;
    let order_b = ok(&v)["placeOrder"]["order"]["id"].clone();
    demo_pay(&app, &b, &order_b).await;

    // Each template its own figures, from the one list.
    let small_l = listed(&app, &admin, &small["id"]).await;
    let other_l = listed(&app, &admin, &other["id"]).await;
    assert_eq!(counts(&small_l), (json!(2), json!(1)));
    assert_eq!(counts(&other_l), (json!(1), json!(0)));

    // Customers see what is left, not how much was used.
    let v = app
        .gql(Some(&a), "{ availableCoupons { id usedCount } }", json!({}))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let v = app
        .gql(None, "{ availableCoupons { id issuedCount } }", json!({}))
        .await;
    assert_eq!(ok(&v)["availableCoupons"][0]["issuedCount"], 2, "{v}");
}

#[tokio::test]
async fn retired_plans_are_listed_for_staff_and_put_back_on_sale() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let ops = staff(&app, &admin, "ops", "OPERATIONS").await.token;
    let cs = staff(&app, &admin, "service", "CUSTOMER_SERVICE")
        .await
        .token;
    let plan = membership_plan(&app, &admin, 9900, 365, 95, false).await;
    let top_up = top_up_plan(&app, &admin, 10000, 2000).await;
    let buyer = customer(&app, "buyer").await;

    let ids = |v: &Value, list: &str| -> Vec<(String, bool)> {
        v[list]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"))
            .iter()
            .map(|p| (text(&p["id"]), p["active"].as_bool().unwrap()))
            .collect()
    };
    for (q, id) in [(UPDATE_PLAN, &plan), (UPDATE_TOP_UP, &top_up)] {
        let v = app
            .gql(Some(&ops), q, json!({ "id": id, "i": { "active": false } }))
            .await;
        ok(&v);
    }

    // Customers see plans on sale only, and may not ask for retired ones.
    let v = app
        .gql_ok(Some(&buyer.token), PLANS, json!({ "r": false }))
        .await;
    assert!(
        ids(&v, "membershipPlans").is_empty() && ids(&v, "topUpPlans").is_empty(),
        "{v}"
    );
    let v = app
        .gql(Some(&buyer.token), PLANS, json!({ "r": true }))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let v = app.gql(None, PLANS, json!({ "r": true })).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
    let v = app
        .gql(
            Some(&buyer.token),
            "mutation($p: ID!) { buyMembership(planId: $p, idempotencyKey: \"k1\") { order { id } } }",
            json!({ "p": plan }),
        )
        .await;
    assert_eq!(
        error_code(&v),
        "BAD_USER_INPUT",
        "a retired plan is not sold: {v}"
    );

    // Staff see them, retired; any staff role may look.
    for token in [&admin, &ops, &cs] {
        let v = app.gql_ok(Some(token), PLANS, json!({ "r": true })).await;
        assert_eq!(
            ids(&v, "membershipPlans"),
            vec![(plan.clone(), false)],
            "{v}"
        );
        assert_eq!(ids(&v, "topUpPlans"), vec![(top_up.clone(), false)], "{v}");
    }

    // Back on sale: operations or the owner, never customer service or a customer.
    for token in [&cs, &buyer.token] {
        for (q, id) in [(UPDATE_PLAN, &plan), (UPDATE_TOP_UP, &top_up)] {
            let v = app
                .gql(Some(token), q, json!({ "id": id, "i": { "active": true } }))
                .await;
            assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
        }
    }
    let v = app
        .gql(
            Some(&ops),
            UPDATE_PLAN,
            json!({ "id": plan, "i": { "active": true } }),
        )
        .await;
    assert_eq!(ok(&v)["updateMembershipPlan"]["active"], true, "{v}");
    let v = app
        .gql(
            Some(&admin),
            UPDATE_TOP_UP,
            json!({ "id": top_up, "i": { "active": true } }),
        )
        .await;
    assert_eq!(ok(&v)["updateTopUpPlan"]["active"], true, "{v}");
    let v = app.gql_ok(Some(&buyer.token), PLANS, json!({})).await;
    assert_eq!(
        ids(&v, "membershipPlans"),
        vec![(plan.clone(), true)],
        "{v}"
    );
    assert_eq!(ids(&v, "topUpPlans"), vec![(top_up.clone(), true)], "{v}");
    let v = app
        .gql(
            Some(&buyer.token),
            "mutation($p: ID!) { buyMembership(planId: $p, idempotencyKey: \"k2\") { order { status } } }",
            json!({ "p": plan }),
        )
        .await;
    assert_eq!(
        ok(&v)["buyMembership"]["order"]["status"],
        "PENDING_PAYMENT",
        "{v}"
    );

    // Audited with the plan as target.
    let data = app
        .gql_ok(Some(&admin), AUDIT, json!({ "a": "updateMembershipPlan" }))
        .await;
    let entries = data["auditLog"]["nodes"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "retired and back on sale: {data}");
    assert!(
        entries.iter().all(|e| e["target"] == plan.as_str()),
        "{data}"
    );
}

#[tokio::test]
async fn only_operations_and_the_owner_edit_coupon_templates() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let ops = staff(&app, &admin, "ops", "OPERATIONS").await.token;
    let cs = staff(&app, &admin, "service", "CUSTOMER_SERVICE")
        .await
        .token;
    let buyer = customer(&app, "buyer").await;
    let t = coupon_template(
        &app,
        &admin,
        json!({ "name": "满100减20", "thresholdFen": 10000, "offFen": 2000, "validDays": 7 }),
    )
    .await;
    for (token, code) in [
        (cs.as_str(), "FORBIDDEN"),
        (buyer.token.as_str(), "FORBIDDEN"),
    ] {
        let v = update(&app, token, &t["id"], json!({ "name": "不行" })).await;
        assert_eq!(error_code(&v), code, "{v}");
    }
    let v = app
        .gql(
            None,
            UPDATE,
            json!({ "id": t["id"], "i": { "name": "不行" } }),
        )
        .await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
    assert_eq!(listed(&app, &admin, &t["id"]).await["name"], "满100减20");
    // Customer service may read the figures (couponTemplates is for any staff).
    let v = app.gql_ok(Some(&cs), TEMPLATES, json!({})).await;
    assert_eq!(v["couponTemplates"][0]["usedCount"], 0, "{v}");

    for (token, name) in [(&ops, "运营改"), (&admin, "店主改")] {
        let v = update(&app, token, &t["id"], json!({ "name": name })).await;
        assert_eq!(ok(&v)["updateCouponTemplate"]["name"], name, "{v}");
    }
    assert_eq!(id_of(&listed(&app, &admin, &t["id"]).await), text(&t["id"]));
}
