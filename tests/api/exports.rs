//! CSV downloads of the operators' lists (issue 19, item 5): the orders,
//! withdrawals and customers of a filter, the API's own filter as JSON,
//! row for row what the list query answers; ADMIN only; a bad filter is
//! named.
use serde_json::{Value, json};

use crate::{
    fixtures::{new_buyer, paid_order, placed, shop, text},
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
    for file in ["orders.csv", "withdrawals.csv", "customers.csv"] {
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
    ] {
        let (code, body) = status(&app, Some(&shop.admin), &path).await;
        assert_eq!(code, 400, "{path}: {body}");
        assert!(body.contains(says), "{path}: {body}");
    }
}
