//! What normalized client caches (Apollo, urql graphcache) and clients
//! that compare strings rely on: every object with an `id` has its own
//! stable one, times are spelled one way, errors name their SKU, and lists
//! say how long they are.
use serde_json::json;

use crate::{
    fixtures::{new_buyer, paid_order, place, placed, shop, text},
    helpers::{error_code, ok, spawn_app},
};

fn is_utc_z(v: &serde_json::Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[tokio::test]
async fn times_are_rfc3339_utc_with_z_and_any_offset_is_read() {
    let app = spawn_app().await;
    let s = shop(&app, 10).await;
    let login = app.login("demo:zulu", None, None).await;
    assert!(is_utc_z(&ok(&login)["wechatLogin"]["expiresAt"]), "{login}");
    let buyer = text(&login["data"]["wechatLogin"]["accessToken"]);
    crate::fixtures::save_address(&app, &buyer).await;
    let order = paid_order(&app, &buyer, s.items(&[(2, 1)]), "k").await;
    let v = app
        .gql_ok(
            Some(&buyer),
            "query($id: ID!) { order(id: $id) { createdAt paidAt payDeadline } }",
            json!({ "id": order["id"] }),
        )
        .await;
    for f in ["createdAt", "paidAt", "payDeadline"] {
        assert!(is_utc_z(&v["order"][f]), "{f}: {v}");
    }
    // Input in China's offset means the same instant: the order placed a
    // moment ago is inside a window that opened an hour before, in +08:00.
    let from = (chrono::Utc::now() - chrono::Duration::hours(1))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .to_rfc3339();
    assert!(from.ends_with("+08:00"), "{from}");
    let v = app
        .gql_ok(
            Some(&s.admin),
            "query($f: DateTime!) { orders(filter: { from: $f }) { totalCount nodes { id } } }",
            json!({ "f": from }),
        )
        .await;
    assert_eq!(v["orders"]["totalCount"], 1, "{v}");
    let v = app
        .gql(
            Some(&s.admin),
            "{ orders(filter: { from: \"yesterday\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
}

#[tokio::test]
async fn every_address_has_its_own_stable_id() {
    let app = spawn_app().await;
    let s = shop(&app, 10).await;
    let buyer = new_buyer(&app, "addr").await;
    let saved = app
        .gql_ok(Some(&buyer), "{ myAddresses { id } }", json!({}))
        .await;
    let saved_id = text(&saved["myAddresses"][0]["id"]);
    let a = paid_order(&app, &buyer, s.items(&[(0, 1)]), "a").await;
    let b = paid_order(&app, &buyer, s.items(&[(0, 1)]), "b").await;
    const ADDR: &str = "query($id: ID!) { order(id: $id) { shippingAddress { id city } fulfillments { shippingAddress { id } } } }";
    let mut ids = Vec::new();
    for o in [&a, &b] {
        let v = app
            .gql_ok(Some(&s.admin), ADDR, json!({ "id": o["id"] }))
            .await;
        let id = text(&v["order"]["shippingAddress"]["id"]);
        assert!(!id.is_empty(), "{v}");
        assert_eq!(v["order"]["shippingAddress"]["city"], "杭州市");
        assert_eq!(
            v["order"]["fulfillments"][0]["shippingAddress"]["id"], id,
            "the same snapshot has the same id wherever it is shown: {v}"
        );
        let again = app
            .gql_ok(Some(&buyer), ADDR, json!({ "id": o["id"] }))
            .await;
        assert_eq!(again["order"]["shippingAddress"]["id"], id, "stable");
        ids.push(id);
    }
    assert_ne!(ids[0], ids[1], "two orders, two snapshots");
    assert!(!ids.contains(&saved_id), "{ids:?} vs {saved_id}");
}

#[tokio::test]
async fn out_of_stock_names_the_sku_and_order_lists_count() {
    let app = spawn_app().await;
    let s = shop(&app, 5).await;
    let buyer = new_buyer(&app, "count").await;
    let v = place(&app, &buyer, s.items(&[(2, 1), (1, 6)]), "too-many").await;
    assert_eq!(error_code(&v), "OUT_OF_STOCK", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["skuId"], s.sku(1), "{v}");

    for k in ["1", "2", "3"] {
        placed(&app, &buyer, s.items(&[(2, 1)]), k).await;
    }
    paid_order(&app, &buyer, s.items(&[(0, 1)]), "4").await;
    let v = app
        .gql_ok(
            Some(&buyer),
            "{ all: myOrders(first: 1) { totalCount nodes { id } } unpaid: myOrders(status: PENDING_PAYMENT) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(v["all"]["totalCount"], 4, "all pages: {v}");
    assert_eq!(v["all"]["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(v["unpaid"]["totalCount"], 3, "{v}");
    let other = new_buyer(&app, "other").await;
    let v = app
        .gql_ok(Some(&other), "{ myOrders { totalCount } }", json!({}))
        .await;
    assert_eq!(v["myOrders"]["totalCount"], 0, "only one's own: {v}");
    let v = app
        .gql_ok(
            Some(&s.admin),
            "{ orders(filter: { status: PAID }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(v["orders"]["totalCount"], 1, "{v}");
}
