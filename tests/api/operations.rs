//! Customer operations through the API, as a store operator relies on them:
//! each customer's figures (paid, not refunded goods orders), RFM, lifecycle
//! stage, lifetime and user value; customer lists by filter; tags; segments
//! and campaigns to them; the store's metrics; and that all of it is ADMIN-only.
use chrono::{DateTime, Duration, Utc};
use entity::customer_stats;
use sea_orm::{ActiveModelTrait, ActiveValue::Set, EntityTrait, IntoActiveModel};
use serde_json::{Value, json};

use crate::{
    fixtures::{
        buy_membership, cancel, coupon_template, id_of, membership_plan, paid_order, placed,
        refund_requested, refunded, save_address, shop,
    },
    helpers::{TestApp, error_code, spawn_app},
};

/// A signed-in customer.
struct Who {
    token: String,
    id: String,
    code: String,
    created_at: String,
}

/// First login of `demo:<name>` with an optional inviter code, scene and nickname.
async fn join(
    app: &TestApp,
    name: &str,
    referral: Option<&str>,
    scene: Option<&str>,
    nickname: Option<&str>,
) -> Who {
    let v = app
        .gql(
            None,
            "mutation($i: WechatLoginInput!) { wechatLogin(input: $i) { accessToken customer { id referralCode createdAt referrer { id } } } }",
            json!({ "i": { "code": format!("demo:{name}"), "referralCode": referral, "scene": scene, "nickname": nickname } }),
        )
        .await;
    let login = &v["data"]["wechatLogin"];
    let c = &login["customer"];
    assert_eq!(
        c["referrer"].is_null(),
        referral.is_none(),
        "referrer bound as asked: {v}"
    );
    Who {
        token: login["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {v}"))
            .to_string(),
        id: c["id"].as_str().unwrap().to_string(),
        code: c["referralCode"].as_str().unwrap().to_string(),
        created_at: c["createdAt"].as_str().unwrap().to_string(),
    }
}

/// Places and pays a goods order; returns (order id, totalFen).
async fn buy(app: &TestApp, token: &str, items: Value) -> (Value, i64) {
    let key = uuid::Uuid::new_v4().to_string();
    let order = paid_order(app, token, items, &key).await;
    (order["id"].clone(), order["totalFen"].as_i64().unwrap())
}

/// Test setup, not API: moves a buyer's purchases `days` into the past by
/// writing `customer_stats` directly (purchases through the API happen now,
/// and the lifecycle settings cannot make "now" look like "days ago").
pub(crate) async fn last_bought_days_ago(app: &TestApp, customer: &str, days: i64) {
    let id: i64 = customer.parse().unwrap();
    let row = customer_stats::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .unwrap()
        .expect("the buyer has figures");
    let at = Utc::now() - Duration::days(days);
    let mut row = row.into_active_model();
    row.first_paid_at = Set(at - Duration::days(1));
    row.last_paid_at = Set(at);
    row.update(&app.state.db).await.unwrap();
}

/// Figures that do not involve the store-wide RFM scale (cached for a minute).
const FIGURES: &str = "query($id: ID!) { customer(id: $id) { stats { ordersCount totalSpentFen averageOrderFen firstOrderAt lastOrderAt daysSinceLastOrder } lifecycleStage clvFen tags } }";
/// Everything, RFM and user value included.
const VALUES: &str = "query($id: ID!) { customer(id: $id) { stats { ordersCount totalSpentFen averageOrderFen firstOrderAt lastOrderAt daysSinceLastOrder } lifecycleStage clvFen userValue rfm { recencyDays frequency monetaryFen rScore fScore mScore code } tags } }";

async fn customer(app: &TestApp, admin: &str, query: &str, id: &str) -> Value {
    let v = app.gql(Some(admin), query, json!({ "id": id })).await;
    assert!(v["errors"].is_null(), "{v}");
    v["data"]["customer"].clone()
}

/// The ids `customers(filter)` returns (one page of up to 100).
async fn listed(app: &TestApp, admin: &str, filter: Value) -> Vec<String> {
    let v = app
        .gql(
            Some(admin),
            "query($f: CustomerFilter) { customers(filter: $f, first: 100) { nodes { id } pageInfo { hasNextPage } } }",
            json!({ "f": filter }),
        )
        .await;
    assert!(v["errors"].is_null(), "{filter}: {v}");
    assert_eq!(v["data"]["customers"]["pageInfo"]["hasNextPage"], false);
    v["data"]["customers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect()
}

/// The ids as `customers` lists them: newest (highest id) first.
fn newest_first(who: &[&Who]) -> Vec<String> {
    let mut ids: Vec<i64> = who.iter().map(|w| w.id.parse().unwrap()).collect();
    ids.sort_unstable_by(|a, b| b.cmp(a));
    ids.into_iter().map(|i| i.to_string()).collect()
}

/// Runs the jobs (the RFM cutoffs and the store's average order among
/// them: requests only read what the jobs loop last computed).
async fn run_jobs(app: &TestApp, admin: &str) {
    let v = app
        .gql(Some(admin), "mutation { runOrderJobs }", json!({}))
        .await;
    assert_eq!(v["data"]["runOrderJobs"], true, "{v}");
}

fn field(v: &Value) -> &Value {
    &v["errors"][0]["extensions"]["field"]
}

#[tokio::test]
async fn figures_count_paid_goods_orders_until_refunded() {
    let app = spawn_app().await;
    let shop = shop(&app, 50).await;
    let admin = shop.admin.as_str();

    let ann = join(&app, "ann", None, None, None).await;
    save_address(&app, &ann.token).await;
    // 3000 + 800 shipping; 2 × 2500 + 800 shipping.
    let (_, t1) = buy(&app, &ann.token, shop.items(&[(0, 1)])).await;
    let (o2, t2) = buy(&app, &ann.token, shop.items(&[(1, 2)])).await;
    assert_eq!((t1, t2), (3800, 5800));
    // An order left unpaid and a cancelled one do not count.
    let unpaid = placed(&app, &ann.token, shop.items(&[(2, 1)]), "unpaid").await;
    assert_eq!(unpaid["status"], "PENDING_PAYMENT", "{unpaid}");
    let cancelled = placed(&app, &ann.token, shop.items(&[(2, 1)]), "cancelled").await;
    cancel(&app, &ann.token, &cancelled["id"]).await;

    let c = customer(&app, admin, FIGURES, &ann.id).await;
    let s = &c["stats"];
    assert_eq!(s["ordersCount"], 2, "{c}");
    assert_eq!(s["totalSpentFen"], t1 + t2);
    assert_eq!(s["averageOrderFen"], 4800);
    assert_eq!(s["daysSinceLastOrder"], 0);
    let first: DateTime<Utc> = s["firstOrderAt"].as_str().unwrap().parse().unwrap();
    let last: DateTime<Utc> = s["lastOrderAt"].as_str().unwrap().parse().unwrap();
    assert!(first < last, "{c}");
    assert!(Utc::now() - last < Duration::minutes(1));
    assert_eq!(c["clvFen"], t1 + t2);
    assert_eq!(c["lifecycleStage"], "ACTIVE");
    assert_eq!(c["tags"], json!([]));

    // Asked for, not yet approved: the order still counts.
    let r = refund_requested(&app, &ann.token, &o2).await["id"].clone();
    let c = customer(&app, admin, FIGURES, &ann.id).await;
    assert_eq!(c["stats"]["ordersCount"], 2, "{c}");
    // Approved: the refunded order leaves the figures.
    let v = crate::fixtures::approve_refund(&app, admin, &r).await;
    assert_eq!(v["data"]["approveRefund"]["status"], "REFUNDED", "{v}");
    let c = customer(&app, admin, FIGURES, &ann.id).await;
    let s = &c["stats"];
    assert_eq!(s["ordersCount"], 1, "{c}");
    assert_eq!(s["totalSpentFen"], t1);
    assert_eq!(s["averageOrderFen"], t1);
    assert_eq!(c["clvFen"], t1);
    assert_eq!(c["lifecycleStage"], "ACTIVE");

    // A customer who never bought.
    let nobody = join(&app, "nobody", None, None, None).await;
    let c = customer(&app, admin, VALUES, &nobody.id).await;
    assert_eq!(
        c["stats"],
        json!({ "ordersCount": 0, "totalSpentFen": 0, "averageOrderFen": 0, "firstOrderAt": null, "lastOrderAt": null, "daysSinceLastOrder": null }),
        "{c}"
    );
    assert_eq!(c["lifecycleStage"], "NEW");
    assert_eq!(c["rfm"], Value::Null);
    assert_eq!(c["userValue"], 0.0);
    assert_eq!(c["clvFen"], 0);

    // User value = 1 order × margin rate × 1 (she invited nobody). Her
    // goods cost 1000 on 3000: rate 2/3; the refunded order's margin left
    // with it.
    let ann_v = customer(&app, admin, VALUES, &ann.id).await;
    assert_eq!(ann_v["userValue"], 0.67, "{ann_v}");
    assert_eq!(ann_v["rfm"]["frequency"], 1);
    assert_eq!(ann_v["rfm"]["monetaryFen"], t1);
}

#[tokio::test]
async fn a_customer_whose_invitees_bought_has_a_higher_user_value() {
    let app = spawn_app().await;
    let shop = shop(&app, 50).await;
    let admin = shop.admin.as_str();
    let sku = shop.products[2].1[0].clone();
    // Ivy invites Ida (who buys) and Ned (who does not); Otto invites
    // nobody. Ivy, Ida and Otto buy the same self-operated goods (no cost
    // known: margin rate 1), 1000 + 800 shipping each.
    let ivy = join(&app, "ivy", None, None, None).await;
    let ida = join(&app, "ida", Some(&ivy.code), None, None).await;
    join(&app, "ned", Some(&ivy.code), None, None).await;
    let otto = join(&app, "otto", None, None, None).await;
    for who in [&ivy, &ida, &otto] {
        save_address(&app, &who.token).await;
        let (_, total) = buy(&app, &who.token, json!([{ "skuId": sku, "quantity": 1 }])).await;
        assert_eq!(total, 1800);
    }
    // The store's average order is 1800. Ivy: 1 order × rate 1 × (1 + 1
    // invitee who bought + 1800 / 1800 brought in) = 3.
    run_jobs(&app, admin).await;
    let ivy_v = customer(&app, admin, VALUES, &ivy.id).await;
    let otto_v = customer(&app, admin, VALUES, &otto.id).await;
    let ida_v = customer(&app, admin, VALUES, &ida.id).await;
    for k in ["ordersCount", "totalSpentFen"] {
        assert_eq!(ivy_v["stats"][k], otto_v["stats"][k], "identical buyers");
    }
    assert_eq!(ivy_v["userValue"], 3.0, "{ivy_v}");
    assert_eq!(otto_v["userValue"], 1.0, "{otto_v}");
    assert_eq!(
        ida_v["userValue"], 1.0,
        "being invited adds nothing: {ida_v}"
    );
}

#[tokio::test]
async fn rfm_scores_by_quintiles_and_filters_select_exactly_the_customers_asked_for() {
    let app = spawn_app().await;
    let shop = shop(&app, 50).await;
    let admin = shop.admin.as_str();

    let b1 = join(&app, "b1", None, Some("qr-poster"), Some("Alice Wang")).await;
    let b2 = join(&app, "b2", None, Some("qr-poster"), Some("alina")).await;
    let b3 = join(&app, "b3", None, None, Some("Bob")).await;
    let b4 = join(&app, "b4", None, None, Some("Carl")).await;
    let b5 = join(&app, "b5", None, Some("ad-moments"), Some("Dora")).await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let n1 = join(&app, "n1", None, Some("qr-poster"), Some("新人小明")).await;
    let n2 = join(&app, "n2", None, None, Some("Member Mo")).await;
    let everyone = [&b1, &b2, &b3, &b4, &b5, &n1, &n2];

    // b1..b4 buy 5, 4, 3, 2 orders of 1000 + 800 shipping; b5 one big
    // order (4 × 3000, free shipping from 9900).
    for (who, n) in [(&b1, 5), (&b2, 4), (&b3, 3), (&b4, 2)] {
        save_address(&app, &who.token).await;
        for _ in 0..n {
            buy(&app, &who.token, shop.items(&[(2, 1)])).await;
        }
    }
    save_address(&app, &b5.token).await;
    let (_, big) = buy(&app, &b5.token, shop.items(&[(0, 4)])).await;
    assert_eq!(big, 12000);
    // n2 buys a membership: a member, but not a goods buyer.
    let plan = membership_plan(&app, admin, 9900, 365, 95, false).await;
    buy_membership(&app, &n2.token, &plan, "m").await;
    // b3 last bought 40 days ago (SILENT), b4 100 days ago (SLEEPING).
    last_bought_days_ago(&app, &b3.id, 40).await;
    last_bought_days_ago(&app, &b4.id, 100).await;

    // Until the jobs loop computes the cutoffs, no request does: the scale
    // of no buyers scores everyone 1.
    let v = customer(&app, admin, VALUES, &b1.id).await;
    assert_eq!(v["rfm"]["code"], "111", "{v}");
    run_jobs(&app, admin).await;
    // RFM over the five buyers. Frequency 1..5 and spend 3600..12000 are
    // five distinct values each: one buyer per score. Recency: three bought
    // today (5), b3 40 days ago (2), b4 100 days ago (1).
    let v = app
        .gql(
            Some(admin),
            "{ customers(first: 100) { nodes { id lifecycleStage rfm { recencyDays frequency monetaryFen rScore fScore mScore code } } } }",
            json!({}),
        )
        .await;
    let nodes = v["data"]["customers"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"));
    let of = |who: &Who| {
        nodes
            .iter()
            .find(|n| n["id"] == who.id)
            .unwrap_or_else(|| panic!("{} listed: {v}", who.id))
            .clone()
    };
    for (who, days, orders, spent, code, stage) in [
        (&b1, 0, 5, 9000, "554", "ACTIVE"),
        (&b2, 0, 4, 7200, "543", "ACTIVE"),
        (&b3, 40, 3, 5400, "232", "SILENT"),
        (&b4, 100, 2, 3600, "121", "SLEEPING"),
        (&b5, 0, 1, 12000, "515", "ACTIVE"),
    ] {
        let n = of(who);
        let digit = |i: usize| i64::from(code.as_bytes()[i] - b'0');
        assert_eq!(
            n["rfm"],
            json!({ "recencyDays": days, "frequency": orders, "monetaryFen": spent, "rScore": digit(0), "fScore": digit(1), "mScore": digit(2), "code": code }),
            "{n}"
        );
        assert_eq!(n["lifecycleStage"], stage, "{n}");
    }
    for who in [&n1, &n2] {
        let n = of(who);
        assert_eq!(n["rfm"], Value::Null, "{n}");
        assert_eq!(
            n["lifecycleStage"], "NEW",
            "membership is not a goods order: {n}"
        );
    }

    // Filters: each returns exactly these customers, newest first.
    let cases = [
        (json!(null), newest_first(&everyone)),
        (json!({}), newest_first(&everyone)),
        (
            json!({ "lifecycleStage": "NEW" }),
            newest_first(&[&n1, &n2]),
        ),
        (
            json!({ "lifecycleStage": "ACTIVE" }),
            newest_first(&[&b1, &b2, &b5]),
        ),
        (json!({ "lifecycleStage": "SILENT" }), newest_first(&[&b3])),
        (
            json!({ "lifecycleStage": "SLEEPING" }),
            newest_first(&[&b4]),
        ),
        (json!({ "lifecycleStage": "CHURNED" }), vec![]),
        (json!({ "minOrders": 3 }), newest_first(&[&b1, &b2, &b3])),
        (json!({ "maxOrders": 1 }), newest_first(&[&b5, &n1, &n2])),
        (
            json!({ "minOrders": 2, "maxOrders": 4 }),
            newest_first(&[&b2, &b3, &b4]),
        ),
        (json!({ "minOrders": 0 }), newest_first(&everyone)),
        (
            json!({ "minSpentFen": 7200 }),
            newest_first(&[&b1, &b2, &b5]),
        ),
        (
            json!({ "maxSpentFen": 5400 }),
            newest_first(&[&b3, &b4, &n1, &n2]),
        ),
        (
            json!({ "scene": "qr-poster" }),
            newest_first(&[&b1, &b2, &n1]),
        ),
        (json!({ "scene": "qr" }), vec![]),
        (
            json!({ "scene": "qr-poster", "lifecycleStage": "ACTIVE" }),
            newest_first(&[&b1, &b2]),
        ),
        (json!({ "member": true }), newest_first(&[&n2])),
        (
            json!({ "member": false }),
            newest_first(&[&b1, &b2, &b3, &b4, &b5, &n1]),
        ),
        (json!({ "keyword": "ALI" }), newest_first(&[&b1, &b2])),
        (json!({ "keyword": "小明" }), newest_first(&[&n1])),
        (json!({ "keyword": "%" }), vec![]),
        (json!({ "keyword": "  " }), newest_first(&everyone)),
        (
            json!({ "joinedFrom": n1.created_at }),
            newest_first(&[&n1, &n2]),
        ),
        (
            json!({ "joinedTo": n1.created_at }),
            newest_first(&[&b1, &b2, &b3, &b4, &b5]),
        ),
        (
            json!({ "joinedFrom": b2.created_at, "joinedTo": b4.created_at }),
            newest_first(&[&b2, &b3]),
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            listed(&app, admin, filter.clone()).await,
            expected,
            "{filter}"
        );
    }

    // Pages of three, then of two within a filter: no row skipped or repeated.
    let page = "query($f: CustomerFilter, $n: Int, $a: String) { customers(filter: $f, first: $n, after: $a) { nodes { id } pageInfo { hasNextPage hasPreviousPage endCursor } } }";
    for (filter, size, expected) in [
        (json!(null), 3, newest_first(&everyone)),
        (
            json!({ "lifecycleStage": "ACTIVE" }),
            2,
            newest_first(&[&b1, &b2, &b5]),
        ),
    ] {
        let (mut seen, mut after, mut pages) = (Vec::new(), Value::Null, 0);
        loop {
            let v = app
                .gql(
                    Some(admin),
                    page,
                    json!({ "f": filter, "n": size, "a": after }),
                )
                .await;
            let c = &v["data"]["customers"];
            let ids: Vec<String> = c["nodes"]
                .as_array()
                .unwrap_or_else(|| panic!("{v}"))
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_string())
                .collect();
            assert!(ids.len() <= size, "{v}");
            assert_eq!(c["pageInfo"]["hasPreviousPage"], pages > 0, "{v}");
            seen.extend(ids);
            pages += 1;
            if c["pageInfo"]["hasNextPage"] == false {
                break;
            }
            after = c["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(seen, expected, "{filter}");
        assert_eq!(pages, expected.len().div_ceil(size), "{filter}");
    }

    // Bad arguments name the field.
    let list = "query($f: CustomerFilter, $n: Int, $a: String) { customers(filter: $f, first: $n, after: $a) { nodes { id } } }";
    for (vars, name) in [
        (json!({ "n": 0 }), "first"),
        (json!({ "n": 101 }), "first"),
        (json!({ "a": "not-a-cursor!" }), "after"),
        (json!({ "f": { "minOrders": -1 } }), "filter.minOrders"),
        (json!({ "f": { "maxOrders": -1 } }), "filter.maxOrders"),
        (json!({ "f": { "minSpentFen": -1 } }), "filter.minSpentFen"),
        (
            json!({ "f": { "keyword": "字".repeat(51) } }),
            "filter.keyword",
        ),
        (json!({ "f": { "tags": ["字".repeat(21)] } }), "filter.tags"),
        (json!({ "f": { "tags": [""] } }), "filter.tags"),
    ] {
        let v = app.gql(Some(admin), list, vars.clone()).await;
        assert_eq!(error_code(&v), "BAD_USER_INPUT", "{vars}: {v}");
        assert_eq!(field(&v), name, "{vars}: {v}");
    }
}

const TAG: &str =
    "mutation($c: [ID!]!, $t: [String!]!) { tagCustomers(customerIds: $c, tags: $t) }";
const UNTAG: &str =
    "mutation($c: [ID!]!, $t: [String!]!) { untagCustomers(customerIds: $c, tags: $t) }";
const SEGMENT: &str = "mutation($n: String!, $f: CustomerFilter!) { createSegment(name: $n, filter: $f) { id name customerCount filter createdAt } }";
const SEGMENTS: &str = "{ segments { id name customerCount } }";
const ISSUE: &str = "mutation($t: ID!, $s: ID) { issueCoupons(templateId: $t, segmentId: $s) }";

async fn tags_of(app: &TestApp, admin: &str, who: &Who) -> Value {
    let v = app
        .gql(
            Some(admin),
            "query($id: ID!) { customer(id: $id) { tags } }",
            json!({ "id": who.id }),
        )
        .await;
    assert!(v["errors"].is_null(), "{v}");
    v["data"]["customer"]["tags"].clone()
}

async fn customer_tags(app: &TestApp, admin: &str) -> Value {
    let v = app
        .gql(Some(admin), "{ customerTags { tag customers } }", json!({}))
        .await;
    assert!(v["errors"].is_null(), "{v}");
    v["data"]["customerTags"].clone()
}

/// A coupon the store issues (not claimable), ten of them.
async fn issued_coupon(app: &TestApp, admin: &str) -> String {
    let t = coupon_template(
        app,
        admin,
        json!({ "name": "回归礼", "thresholdFen": 0, "offFen": 1000, "validDays": 14, "totalQuantity": 10, "claimable": false }),
    )
    .await;
    id_of(&t)
}

async fn coupons_of(app: &TestApp, who: &Who) -> Vec<Value> {
    let v = app
        .gql(
            Some(&who.token),
            "{ myCoupons { id source template { id } } }",
            json!({}),
        )
        .await;
    v["data"]["myCoupons"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .clone()
}

#[tokio::test]
async fn tags_and_segments_pick_customers_for_a_campaign() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let admin = admin.as_str();
    let c1 = join(&app, "c1", None, None, None).await;
    let c2 = join(&app, "c2", None, None, None).await;
    let c3 = join(&app, "c3", None, None, None).await;
    let c4 = join(&app, "c4", None, None, None).await;
    assert_eq!(customer_tags(&app, admin).await, json!([]));

    // The count is of customers (a repeated id counts once); tags come back sorted.
    let v = app
        .gql(
            Some(admin),
            TAG,
            json!({ "c": [c1.id, c2.id, c1.id], "t": ["vip", "回头客", "new-year"] }),
        )
        .await;
    assert_eq!(v["data"]["tagCustomers"], 2, "{v}");
    let sorted = json!(["new-year", "vip", "回头客"]);
    assert_eq!(tags_of(&app, admin, &c1).await, sorted);
    assert_eq!(tags_of(&app, admin, &c2).await, sorted);
    assert_eq!(tags_of(&app, admin, &c3).await, json!([]));
    // Tagging again changes nothing; surrounding spaces are not part of a tag.
    let v = app
        .gql(
            Some(admin),
            TAG,
            json!({ "c": [c1.id], "t": [" vip ", "vip"] }),
        )
        .await;
    assert_eq!(v["data"]["tagCustomers"], 1, "{v}");
    assert_eq!(tags_of(&app, admin, &c1).await, sorted);
    let v = app
        .gql(Some(admin), TAG, json!({ "c": [c3.id], "t": ["vip"] }))
        .await;
    assert_eq!(v["data"]["tagCustomers"], 1, "{v}");
    assert_eq!(
        customer_tags(&app, admin).await,
        json!([
            { "tag": "new-year", "customers": 2 },
            { "tag": "vip", "customers": 3 },
            { "tag": "回头客", "customers": 2 },
        ])
    );
    // Any of the tags.
    assert_eq!(
        listed(&app, admin, json!({ "tags": ["回头客", "nope"] })).await,
        newest_first(&[&c1, &c2])
    );
    assert_eq!(
        listed(&app, admin, json!({ "tags": ["vip", "回头客"] })).await,
        newest_first(&[&c1, &c2, &c3])
    );
    assert_eq!(
        listed(&app, admin, json!({ "tags": ["nope"] })).await,
        Vec::<String>::new()
    );

    // Untagging returns how many tags came off.
    let v = app
        .gql(
            Some(admin),
            UNTAG,
            json!({ "c": [c1.id, c2.id, c4.id], "t": ["vip"] }),
        )
        .await;
    assert_eq!(v["data"]["untagCustomers"], 2, "{v}");
    assert_eq!(
        tags_of(&app, admin, &c1).await,
        json!(["new-year", "回头客"])
    );
    assert_eq!(tags_of(&app, admin, &c3).await, json!(["vip"]));
    let v = app
        .gql(Some(admin), UNTAG, json!({ "c": [c1.id], "t": ["vip"] }))
        .await;
    assert_eq!(v["data"]["untagCustomers"], 0, "{v}");
    assert_eq!(
        customer_tags(&app, admin).await,
        json!([
            { "tag": "new-year", "customers": 2 },
            { "tag": "vip", "customers": 1 },
            { "tag": "回头客", "customers": 2 },
        ])
    );

    // Bad input names the field and tags nobody (all or none).
    let twenty = "字".repeat(20);
    let v = app
        .gql(Some(admin), TAG, json!({ "c": [c4.id], "t": [twenty] }))
        .await;
    assert_eq!(v["data"]["tagCustomers"], 1, "20 characters are fine: {v}");
    let v = app
        .gql(Some(admin), UNTAG, json!({ "c": [c4.id], "t": [twenty] }))
        .await;
    assert_eq!(v["data"]["untagCustomers"], 1, "{v}");
    for (mutation, vars, name) in [
        (TAG, json!({ "c": [c4.id], "t": [] }), "tags"),
        (TAG, json!({ "c": [c4.id], "t": ["字".repeat(21)] }), "tags"),
        (TAG, json!({ "c": [c4.id], "t": ["  "] }), "tags"),
        (
            TAG,
            json!({ "c": [c4.id], "t": (0..11).map(|i| format!("t{i}")).collect::<Vec<_>>() }),
            "tags",
        ),
        (
            TAG,
            json!({ "c": [c4.id, "999999"], "t": ["x"] }),
            "customerIds",
        ),
        (TAG, json!({ "c": [], "t": ["x"] }), "customerIds"),
        (TAG, json!({ "c": ["abc"], "t": ["x"] }), "customerIds[0]"),
        (
            TAG,
            json!({ "c": [c4.id, "-1"], "t": ["x"] }),
            "customerIds[1]",
        ),
        (UNTAG, json!({ "c": [c4.id], "t": [] }), "tags"),
        (
            UNTAG,
            json!({ "c": [c4.id], "t": ["字".repeat(21)] }),
            "tags",
        ),
        (UNTAG, json!({ "c": ["abc"], "t": ["x"] }), "customerIds[0]"),
    ] {
        let v = app.gql(Some(admin), mutation, vars.clone()).await;
        assert_eq!(error_code(&v), "BAD_USER_INPUT", "{vars}: {v}");
        assert_eq!(field(&v), name, "{vars}: {v}");
    }
    assert_eq!(tags_of(&app, admin, &c4).await, json!([]), "all or none");

    // A segment is its filter, evaluated whenever it is used.
    let v = app
        .gql(
            Some(admin),
            SEGMENT,
            json!({ "n": "回头客回访", "f": { "tags": ["回头客"] } }),
        )
        .await;
    let returning = v["data"]["createSegment"].clone();
    assert_eq!(returning["name"], "回头客回访", "{v}");
    assert_eq!(returning["customerCount"], 2);
    assert!(returning["filter"].as_str().unwrap().contains("回头客"));
    let v = app
        .gql(
            Some(admin),
            SEGMENT,
            json!({ "n": "新客", "f": { "lifecycleStage": "NEW", "maxOrders": 0 } }),
        )
        .await;
    let fresh = v["data"]["createSegment"].clone();
    assert_eq!(fresh["customerCount"], 4, "{v}");
    let v = app.gql(Some(admin), SEGMENTS, json!({})).await;
    assert_eq!(
        v["data"]["segments"],
        json!([
            { "id": fresh["id"], "name": "新客", "customerCount": 4 },
            { "id": returning["id"], "name": "回头客回访", "customerCount": 2 },
        ]),
        "newest first: {v}"
    );
    // One more customer tagged: the segment grows.
    app.gql_ok(Some(admin), TAG, json!({ "c": [c4.id], "t": ["回头客"] }))
        .await;
    let v = app.gql(Some(admin), SEGMENTS, json!({})).await;
    assert_eq!(v["data"]["segments"][1]["customerCount"], 3, "{v}");

    // A campaign to the segment: one coupon each, to its members only.
    let template = issued_coupon(&app, admin).await;
    let v = app
        .gql(
            Some(admin),
            ISSUE,
            json!({ "t": template, "s": returning["id"] }),
        )
        .await;
    assert_eq!(v["data"]["issueCoupons"], 3, "{v}");
    for who in [&c1, &c2, &c4] {
        let mine = coupons_of(&app, who).await;
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0]["source"], "ISSUE");
        assert_eq!(mine[0]["template"]["id"], template.as_str());
    }
    assert!(coupons_of(&app, &c3).await.is_empty());
    // Untagged again: the segment shrinks.
    app.gql_ok(Some(admin), UNTAG, json!({ "c": [c1.id], "t": ["回头客"] }))
        .await;
    let v = app.gql(Some(admin), SEGMENTS, json!({})).await;
    assert_eq!(v["data"]["segments"][1]["customerCount"], 2, "{v}");

    // A campaign with a key, repeated after the segment changed, is still
    // the same campaign: nothing more is issued, and no CONFLICT.
    let keyed = "mutation($t: ID!, $s: ID) { issueCoupons(templateId: $t, segmentId: $s, idempotencyKey: \"again\") }";
    let v = app
        .gql(
            Some(admin),
            keyed,
            json!({ "t": template, "s": returning["id"] }),
        )
        .await;
    assert_eq!(v["data"]["issueCoupons"], 2, "{v}");
    app.gql_ok(Some(admin), TAG, json!({ "c": [c3.id], "t": ["回头客"] }))
        .await;
    let v = app
        .gql(
            Some(admin),
            keyed,
            json!({ "t": template, "s": returning["id"] }),
        )
        .await;
    assert_eq!(v["data"]["issueCoupons"], 2, "the first call's answer: {v}");
    assert!(
        coupons_of(&app, &c3).await.is_empty(),
        "nothing more issued"
    );
    let v = app
        .gql(Some(admin), ISSUE, json!({ "t": template, "s": "999999" }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let v = app
        .gql(Some(admin), ISSUE, json!({ "t": template, "s": "abc" }))
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(field(&v), "segmentId");
    for (vars, name) in [
        (json!({ "n": " ", "f": {} }), "name"),
        (json!({ "n": "字".repeat(41), "f": {} }), "name"),
        (
            json!({ "n": "s", "f": { "tags": ["字".repeat(21)] } }),
            "filter.tags",
        ),
        (
            json!({ "n": "s", "f": { "minOrders": -1 } }),
            "filter.minOrders",
        ),
    ] {
        let v = app.gql(Some(admin), SEGMENT, vars.clone()).await;
        assert_eq!(error_code(&v), "BAD_USER_INPUT", "{vars}: {v}");
        assert_eq!(field(&v), name, "{vars}: {v}");
    }
    let v = app.gql(Some(admin), SEGMENTS, json!({})).await;
    assert_eq!(v["data"]["segments"].as_array().unwrap().len(), 2, "{v}");
}

const METRICS: &str = "query($f: DateTime!, $t: DateTime!) { storeMetrics(from: $f, to: $t) {
    gmvFen paidOrders buyers averageOrderValueFen spendPerCustomerFen repurchaseRate
    secondPurchaseRate thirdPurchaseRate fifthPurchaseRate refundedFen newCustomers
    newCustomersByScene { scene customers } memberCount membershipRevenueFen
    lifecycle { stage customers } } }";

/// `storeMetrics` from `from` to `to`; the whole response.
async fn metrics(app: &TestApp, admin: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> Value {
    app.gql(
        Some(admin),
        METRICS,
        json!({ "f": from.to_rfc3339(), "t": to.to_rfc3339() }),
    )
    .await
}

/// `storeMetrics` of a window without a sale: who joined in it, and the
/// figures that are states (members, lifecycle) as of now.
fn no_sales(new_customers: i64, by_scene: Value, members: i64, lifecycle: &Value) -> Value {
    json!({
        "gmvFen": 0,
        "paidOrders": 0,
        "buyers": 0,
        "averageOrderValueFen": 0,
        "spendPerCustomerFen": 0,
        "repurchaseRate": 0.0,
        "secondPurchaseRate": 0.0,
        "thirdPurchaseRate": 0.0,
        "fifthPurchaseRate": 0.0,
        "refundedFen": 0,
        "newCustomers": new_customers,
        "newCustomersByScene": by_scene,
        "memberCount": members,
        "membershipRevenueFen": 0,
        "lifecycle": lifecycle,
    })
}

#[tokio::test]
async fn store_metrics_add_up_the_period() {
    let app = spawn_app().await;
    let shop = shop(&app, 50).await;
    let admin = shop.admin.as_str();
    let from = Utc::now() - Duration::seconds(1);

    // A buys three orders and gets the third refunded; B buys one; M buys
    // a membership; M2 buys one and gets it refunded; N only signs in; P
    // leaves an order unpaid.
    let a = join(&app, "a", None, Some("qr"), None).await;
    let b = join(&app, "b", None, Some("qr"), None).await;
    let m = join(&app, "m", None, Some("qr"), None).await;
    let m2 = join(&app, "m2", None, Some("ad"), None).await;
    join(&app, "n", None, None, None).await;
    let p = join(&app, "p", None, None, None).await;
    for who in [&a, &b, &p] {
        save_address(&app, &who.token).await;
    }
    let (_, a1) = buy(&app, &a.token, shop.items(&[(0, 1)])).await;
    let (_, a2) = buy(&app, &a.token, shop.items(&[(1, 1)])).await;
    let (a3_id, a3) = buy(&app, &a.token, shop.items(&[(2, 2)])).await;
    refunded(&app, &a.token, admin, &a3_id).await;
    let (_, b1) = buy(&app, &b.token, shop.items(&[(0, 2)])).await;
    assert_eq!((a1, a2, a3, b1), (3800, 3300, 2800, 6800));
    let unpaid = placed(&app, &p.token, shop.items(&[(0, 1)]), "p").await;
    assert_eq!(unpaid["status"], "PENDING_PAYMENT", "{unpaid}");
    let plan = membership_plan(&app, admin, 9900, 365, 95, false).await;
    buy_membership(&app, &m.token, &plan, "m").await;
    let m2_order = buy_membership(&app, &m2.token, &plan, "m").await;
    refunded(&app, &m2.token, admin, &m2_order).await;
    // B last bought 100 days ago (test setup on `customer_stats`; sales
    // figures come from the orders and do not move).
    last_bought_days_ago(&app, &b.id, 100).await;
    let to = Utc::now() + Duration::minutes(1);

    let v = metrics(&app, admin, from, to).await;
    let gmv = a1 + a2 + a3 + b1;
    let lifecycle = json!([
        { "stage": "NEW", "customers": 4 },
        { "stage": "ACTIVE", "customers": 1 },
        { "stage": "SILENT", "customers": 0 },
        { "stage": "SLEEPING", "customers": 1 },
        { "stage": "CHURNED", "customers": 0 },
    ]);
    assert_eq!(
        v["data"]["storeMetrics"],
        json!({
            // Goods orders paid in the period, the refunded one included.
            "gmvFen": gmv,
            "paidOrders": 4,
            "buyers": 2,
            "averageOrderValueFen": gmv / 4,
            "spendPerCustomerFen": gmv / 2,
            // A paid for three orders in the period, B for one.
            "repurchaseRate": 0.5,
            // A has two orders not refunded, B one.
            "secondPurchaseRate": 0.5,
            "thirdPurchaseRate": 0.0,
            "fifthPurchaseRate": 0.0,
            // Goods refunds only: the refunded membership is neither GMV
            // nor membership revenue.
            "refundedFen": a3,
            "newCustomers": 6,
            "newCustomersByScene": [
                { "scene": "qr", "customers": 3 },
                { "scene": null, "customers": 2 },
                { "scene": "ad", "customers": 1 },
            ],
            "memberCount": 1,
            "membershipRevenueFen": 9900,
            "lifecycle": lifecycle,
        }),
        "{v}"
    );

    // A window in the past: no sales, no new customers; the figures that
    // are states (members, lifecycle) are as of now.
    let v = metrics(
        &app,
        admin,
        from - Duration::days(60),
        from - Duration::days(30),
    )
    .await;
    assert_eq!(
        v["data"]["storeMetrics"],
        no_sales(0, json!([]), 1, &lifecycle),
        "{v}"
    );
}

#[tokio::test]
async fn store_metrics_count_new_customers_and_refuse_bad_windows() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let admin = admin.as_str();
    let from = Utc::now() - Duration::seconds(1);
    for (name, scene) in [("a", Some("qr")), ("b", Some("qr")), ("c", None)] {
        join(&app, name, None, scene, None).await;
    }
    // A second login is not a new customer, and its scene is not recorded.
    join(&app, "c", None, Some("ad"), None).await;
    let to = Utc::now() + Duration::minutes(1);
    let lifecycle = json!([
        { "stage": "NEW", "customers": 3 },
        { "stage": "ACTIVE", "customers": 0 },
        { "stage": "SILENT", "customers": 0 },
        { "stage": "SLEEPING", "customers": 0 },
        { "stage": "CHURNED", "customers": 0 },
    ]);
    for (f, t, new, by_scene) in [
        (
            from,
            to,
            3,
            json!([{ "scene": "qr", "customers": 2 }, { "scene": null, "customers": 1 }]),
        ),
        (
            from - Duration::days(60),
            from - Duration::days(30),
            0,
            json!([]),
        ),
        (to, to + Duration::days(1), 0, json!([])),
    ] {
        let v = metrics(&app, admin, f, t).await;
        assert_eq!(
            v["data"]["storeMetrics"],
            no_sales(new, by_scene, 0, &lifecycle),
            "{v}"
        );
    }
    for (f, t, name) in [
        (from, from, "to"),
        (from, from - Duration::seconds(1), "to"),
        (from - Duration::days(4000), from, "from"),
    ] {
        let v = metrics(&app, admin, f, t).await;
        assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
        assert_eq!(field(&v), name, "{v}");
    }
}

#[tokio::test]
async fn customer_operations_are_for_admins_only() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let admin = admin.as_str();
    let c1 = join(&app, "c1", None, Some("qr"), None).await;
    let c2 = join(&app, "c2", Some(&c1.code), None, None).await;
    let template = issued_coupon(&app, admin).await;
    let v = app
        .gql(Some(admin), SEGMENT, json!({ "n": "everyone", "f": {} }))
        .await;
    let segment = v["data"]["createSegment"]["id"].clone();
    assert!(segment.is_string(), "{v}");
    let now = Utc::now();
    let operations: Vec<(&str, &str, Value)> = vec![
        (
            "customers",
            "query($f: CustomerFilter) { customers(filter: $f) { nodes { id } } }",
            json!({ "f": { "minOrders": 0 } }),
        ),
        (
            "customer",
            "query($id: ID!) { customer(id: $id) { id stats { ordersCount } tags } }",
            json!({ "id": c1.id }),
        ),
        ("segments", "{ segments { id customerCount } }", json!({})),
        (
            "customerTags",
            "{ customerTags { tag customers } }",
            json!({}),
        ),
        (
            "storeMetrics",
            "query($f: DateTime!, $t: DateTime!) { storeMetrics(from: $f, to: $t) { gmvFen newCustomers } }",
            json!({ "f": (now - Duration::days(1)).to_rfc3339(), "t": (now + Duration::days(1)).to_rfc3339() }),
        ),
        ("tagCustomers", TAG, json!({ "c": [c1.id], "t": ["vip"] })),
        (
            "untagCustomers",
            UNTAG,
            json!({ "c": [c1.id], "t": ["vip"] }),
        ),
        ("createSegment", SEGMENT, json!({ "n": "s", "f": {} })),
        (
            "issueCoupons",
            ISSUE,
            json!({ "t": template, "s": segment }),
        ),
    ];
    for (name, query, vars) in &operations {
        for (token, code) in [
            (Some(c1.token.as_str()), "FORBIDDEN"),
            (None, "UNAUTHENTICATED"),
            (Some("not-a-token"), "UNAUTHENTICATED"),
        ] {
            let v = app.gql(token, query, vars.clone()).await;
            assert_eq!(error_code(&v), code, "{name} as {token:?}: {v}");
            assert!(v["data"].is_null() || v["data"][name].is_null(), "{v}");
        }
    }
    // Nothing happened.
    assert_eq!(customer_tags(&app, admin).await, json!([]));
    let v = app.gql(Some(admin), SEGMENTS, json!({})).await;
    assert_eq!(v["data"]["segments"].as_array().unwrap().len(), 1, "{v}");
    assert!(coupons_of(&app, &c1).await.is_empty());

    // ADMIN may.
    for (name, query, vars) in &operations {
        let v = app.gql(Some(admin), query, vars.clone()).await;
        assert!(v["errors"].is_null(), "{name} as ADMIN: {v}");
        assert!(!v["data"][name].is_null(), "{name} as ADMIN: {v}");
    }
    assert_eq!(coupons_of(&app, &c1).await.len(), 1);
    assert_eq!(coupons_of(&app, &c2).await.len(), 1);

    // A customer's own figures, tags and scores are the store's, not its own.
    for field in [
        "tags",
        "stats { ordersCount }",
        "rfm { code }",
        "lifecycleStage",
        "clvFen",
        "userValue",
        "referrer { tags }",
        "referrer { stats { totalSpentFen } }",
    ] {
        let v = app
            .gql(
                Some(&c2.token),
                &format!("{{ me {{ id {field} }} }}"),
                json!({}),
            )
            .await;
        assert_eq!(error_code(&v), "FORBIDDEN", "me {{ {field} }}: {v}");
    }
    let v = app
        .gql(Some(&c2.token), "{ me { id referrer { id } } }", json!({}))
        .await;
    assert!(v["errors"].is_null(), "{v}");
    assert_eq!(v["data"]["me"]["id"], c2.id.as_str());
    assert_eq!(v["data"]["me"]["referrer"]["id"], c1.id.as_str());
}
