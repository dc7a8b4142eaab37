//! CSV downloads of the operators' lists (issue 19, item 5): the orders,
//! withdrawals, customers and fulfillments of a filter, the API's own filter as JSON,
//! row for row what the list query answers; ADMIN only; a bad filter is
//! named.
use serde_json::{Value, json};

use crate::{
    fixtures::{new_buyer, paid_order, placed, shipped, shop, text},
    helpers::{TestApp, csv_rows, spawn_app},
};

/// `<file>?filter=<JSON>`, encoded.
fn with_filter(file: &str, filter: &Value) -> String {
    let url = reqwest::Url::parse_with_params("http://x/", &[("filter", filter.to_string())])
        .expect("a URL");
    format!("{file}?{}", url.query().unwrap_or_default())
}

async fn status(app: &TestApp, token: Option<&str>, path: &str) -> (u16, String) {
    let mut req = app.client.get(format!("{}/exports/{path}", app.address));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request sent");
    let code = res.status().as_u16();
    (code, res.text().await.unwrap_or_default())
}

#[tokio::test]
async fn orders_and_customers_of_a_filter_download_as_the_api_lists_them() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let admin = shop.admin.clone();
    let ann = new_buyer(&app, "exp-ann").await;
    let bob = new_buyer(&app, "exp-bob").await;
    paid_order(&app, &ann, shop.items(&[(0, 1)]), "e1").await;
    paid_order(&app, &ann, shop.items(&[(1, 2)]), "e2").await;
    paid_order(&app, &bob, shop.items(&[(2, 1)]), "e3").await;
    placed(&app, &bob, shop.items(&[(0, 1)]), "e4").await;

    let list = "query($f: OrderFilter) { orders(filter: $f, first: 100) { totalCount nodes { id orderNo status totalFen paidFen balancePaidFen } } }";
    for filter in [
        json!({}),
        json!({ "status": "PAID" }),
        json!({ "status": "PENDING_PAYMENT" }),
    ] {
        let api = app.gql_ok(Some(&admin), list, json!({ "f": filter })).await["orders"].clone();
        let nodes = api["nodes"].as_array().unwrap();
        let rows = csv_rows(&app, Some(&admin), &with_filter("orders.csv", &filter)).await;
        assert_eq!(rows.len(), nodes.len(), "{filter}: {rows:?}");
        assert!(!rows.is_empty(), "{filter}: the shop has such orders");
        for (r, o) in rows.iter().zip(nodes) {
            assert_eq!(r["order_id"], text(&o["id"]), "{r:?}");
            assert_eq!(r["order_no"], text(&o["orderNo"]), "{r:?}");
            assert_eq!(r["status"], text(&o["status"]), "{r:?}");
            assert_eq!(
                r["balance_paid_fen"],
                o["balancePaidFen"].as_i64().unwrap().to_string()
            );
            assert_eq!(r["total_fen"], o["totalFen"].as_i64().unwrap().to_string());
            assert_eq!(r["paid_fen"], o["paidFen"].as_i64().unwrap().to_string());
        }
    }

    let list =
        "query($f: CustomerFilter) { customers(filter: $f, first: 100) { nodes { id nickname } } }";
    let filter = json!({ "minOrders": 2 });
    let api = app.gql_ok(Some(&admin), list, json!({ "f": filter })).await["customers"].clone();
    let rows = csv_rows(&app, Some(&admin), &with_filter("customers.csv", &filter)).await;
    assert_eq!(rows.len(), 1, "only ann bought twice: {rows:?}");
    assert_eq!(rows[0]["customer_id"], text(&api["nodes"][0]["id"]));
    assert_eq!(rows[0]["orders"], "2", "{rows:?}");
    let all = csv_rows(&app, Some(&admin), "customers.csv").await;
    assert!(all.len() >= 2, "{all:?}");
    let bob_row = all
        .iter()
        .find(|r| r["nickname"] == "exp-bob")
        .expect("bob");
    assert_eq!(bob_row["orders"], "1", "{bob_row:?}");

    // No withdrawal yet: the header alone.
    let (code, body) = status(&app, Some(&admin), "withdrawals.csv").await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body.lines().count(), 1, "{body}");
    assert!(
        body.starts_with("withdrawal_id,promoter_id,amount_fen"),
        "{body}"
    );
}

#[tokio::test]
async fn only_admin_downloads_and_a_bad_filter_is_named() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "exp-nosy").await;
    for file in [
        "orders.csv",
        "withdrawals.csv",
        "customers.csv",
        "fulfillments.csv",
    ] {
        assert_eq!(status(&app, None, file).await.0, 401, "{file}");
        assert_eq!(status(&app, Some(&buyer), file).await.0, 403, "{file}");
        assert_eq!(
            status(&app, Some(&shop.supplier_tokens[0]), file).await.0,
            403,
            "{file}"
        );
    }
    for (path, says) in [
        (
            with_filter("orders.csv", &json!({ "status": "LOST" })),
            "filter",
        ),
        (
            with_filter("orders.csv", &json!({ "customerId": "abc" })),
            "customerId",
        ),
        ("orders.csv?filter=%7Bnot-json".to_string(), "filter"),
        (
            with_filter("withdrawals.csv", &json!({ "status": "SOON" })),
            "filter",
        ),
        (
            with_filter("customers.csv", &json!({ "minOrders": -1 })),
            "minOrders",
        ),
        (
            with_filter("fulfillments.csv", &json!({ "status": "LOST" })),
            "filter",
        ),
        (
            with_filter("fulfillments.csv", &json!({ "declined": "yes" })),
            "Boolean",
        ),
    ] {
        let (code, body) = status(&app, Some(&shop.admin), &path).await;
        assert_eq!(code, 400, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
    }
}

#[tokio::test]
async fn fulfillments_of_a_filter_download_as_the_api_lists_them() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let admin = shop.admin.clone();
    let buyer = new_buyer(&app, "exp-ful").await;
    // Two parts (supplier 甲's and the store's own), then supplier 乙's,
    // which 乙 ships.
    let mixed = paid_order(&app, &buyer, shop.items(&[(0, 2), (2, 1)]), "f1").await;
    let other = paid_order(&app, &buyer, shop.items(&[(1, 1)]), "f2").await;
    let ships = other["fulfillments"][0]["id"].clone();
    shipped(&app, &shop.supplier_tokens[1], &ships).await;

    let list = "query($s: FulfillmentStatus, $d: Boolean) { supplierFulfillments(status: $s, declined: $d, first: 100) { nodes { id status costFen carrier trackingNo supplier { id name } order { id orderNo } } } }";
    for (filter, vars, rows_wanted) in [
        (json!({}), json!({}), 3),
        (
            json!({ "status": "PENDING", "declined": false }),
            json!({ "s": "PENDING", "d": false }),
            2,
        ),
        (json!({ "status": "SHIPPED" }), json!({ "s": "SHIPPED" }), 1),
        (json!({ "declined": true }), json!({ "d": true }), 0),
    ] {
        let api =
            app.gql_ok(Some(&admin), list, vars).await["supplierFulfillments"]["nodes"].clone();
        let nodes = api.as_array().unwrap();
        let rows = csv_rows(
            &app,
            Some(&admin),
            &with_filter("fulfillments.csv", &filter),
        )
        .await;
        assert_eq!(nodes.len(), rows_wanted, "{filter}: {api}");
        assert_eq!(rows.len(), nodes.len(), "{filter}: {rows:?}");
        for (r, f) in rows.iter().zip(nodes) {
            assert_eq!(r["fulfillment_id"], text(&f["id"]), "{r:?}");
            assert_eq!(r["order_id"], text(&f["order"]["id"]), "{r:?}");
            assert_eq!(r["order_no"], text(&f["order"]["orderNo"]), "{r:?}");
            assert_eq!(r["status"], text(&f["status"]), "{r:?}");
            assert_eq!(
                r["cost_fen"],
                f["costFen"].as_i64().unwrap().to_string(),
                "{r:?}"
            );
            let (id, name) = match &f["supplier"] {
                Value::Null => (String::new(), String::new()),
                s => (text(&s["id"]), text(&s["name"])),
            };
            assert_eq!((&r["supplier_id"], &r["supplier"]), (&id, &name), "{r:?}");
            assert_eq!(r["carrier"], f["carrier"].as_str().unwrap_or(""), "{r:?}");
            assert_eq!(
                r["tracking_no"],
                f["trackingNo"].as_str().unwrap_or(""),
                "{r:?}"
            );
        }
    }
    // What the rows say, not only that they match: 甲's two units at its
    // cost 1000 each, the store's own part without a supplier, 乙's shipped.
    let all = csv_rows(&app, Some(&admin), "fulfillments.csv").await;
    let of = |order: &Value, supplier: &str| {
        all.iter()
            .find(|r| r["order_id"] == text(&order["id"]) && r["supplier"] == supplier)
            .unwrap_or_else(|| panic!("{supplier}'s part of {order}: {all:?}"))
    };
    assert_eq!(of(&mixed, "甲")["cost_fen"], "2000");
    assert_eq!(of(&mixed, "甲")["status"], "PENDING");
    assert_eq!(of(&mixed, "")["supplier_id"], "");
    let sent = of(&other, "乙");
    assert_eq!(
        (
            sent["status"].as_str(),
            sent["carrier"].as_str(),
            sent["tracking_no"].as_str()
        ),
        ("SHIPPED", "顺丰", "SF1"),
        "{sent:?}"
    );
    assert!(!sent["shipped_at"].is_empty(), "{sent:?}");
}
