//! Supplier payables (issue 16, item 2), through the API: a payable per
//! supplier fulfillment opened at payment at the cost snapshotted on its
//! lines; every refund of its lines takes their cost off (a return, a
//! refund-only, a unit refunded before shipping, a whole-order refund),
//! except refund-only of shipped goods when the store bears those; due only
//! after the return window (the jobs' `now` injected); paid once by ADMIN,
//! five concurrent calls included; a return after payment leaves a negative
//! balance that the supplier's next payment nets off; a SUPPLIER sees only
//! its own; the CSV says what the API says; bad input.
use serde_json::{Value, json};

use crate::{
    fixtures::{
        APPROVE_REFUND, CONFIRM_RECEIPT, REQUEST_REFUND, new_buyer, paid_order, shipped, shop, text,
    },
    helpers::{TestApp, csv_rows, error_code, ok, spawn_app, spawn_app_with},
};

const LIST: &str = "query($f: SupplierPayableFilter, $first: Int, $after: String) { supplierPayables(filter: $f, first: $first, after: $after) { totalCount balanceFen nodes { id status amountFen paidFen nettedFen balanceFen paidReference dueAt paidAt fulfillmentId orderId supplier { id } entries { kind amountFen afterSaleId reference } } } }";
const PAY: &str =
    "mutation($ids: [ID!]!, $r: String!) { markSupplierPayablesPaid(ids: $ids, reference: $r) }";
const ASK: &str = "mutation($i: AfterSaleInput!, $k: String!) { requestAfterSale(input: $i, idempotencyKey: $k) { id status } }";
const ORDER: &str = "query($id: ID!) { order(id: $id) { status lines { id sku { id } } fulfillments { id supplier { id } } } }";

async fn list(app: &TestApp, token: &str, filter: Value) -> Value {
    app.gql_ok(Some(token), LIST, json!({ "f": filter, "first": 100 }))
        .await["supplierPayables"]
        .clone()
}

/// The payable of supplier `sid` as ADMIN sees it.
async fn payable_of(app: &TestApp, admin: &str, sid: &str) -> Value {
    let l = list(app, admin, json!({ "supplierId": sid })).await;
    assert_eq!(l["totalCount"], 1, "{l}");
    l["nodes"][0].clone()
}

fn kinds(p: &Value) -> Vec<(String, i64)> {
    p["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (text(&e["kind"]), e["amountFen"].as_i64().unwrap()))
        .collect()
}

/// The order's line of `sku` and the fulfillment of supplier `sid` (or the
/// store's own with `None`).
fn line_of(order: &Value, sku: &str) -> Value {
    order["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["sku"]["id"] == sku)
        .unwrap_or_else(|| panic!("no line of {sku}: {order}"))["id"]
        .clone()
}

fn fulfillment_of(order: &Value, sid: Option<&str>) -> Value {
    order["fulfillments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["supplier"]["id"].as_str() == sid)
        .unwrap_or_else(|| panic!("no fulfillment of {sid:?}: {order}"))["id"]
        .clone()
}

async fn ask(
    app: &TestApp,
    buyer: &str,
    order: &Value,
    kind: &str,
    line: &Value,
    key: &str,
) -> Value {
    let v = app
        .gql(
            Some(buyer),
            ASK,
            json!({ "i": { "orderId": order, "kind": kind, "lines": [{ "orderLineId": line, "quantity": 1 }], "reason": "不想要了" }, "k": key }),
        )
        .await;
    let a = ok(&v)["requestAfterSale"].clone();
    assert_eq!(a["status"], "REQUESTED", "{v}");
    a["id"].clone()
}

async fn approve(app: &TestApp, admin: &str, id: &Value, input: Value) -> String {
    let v = app
        .gql(
            Some(admin),
            "mutation($id: ID!, $i: ApproveAfterSaleInput) { approveAfterSale(id: $id, input: $i) { status } }",
            json!({ "id": id, "i": input }),
        )
        .await;
    text(&ok(&v)["approveAfterSale"]["status"])
}

#[tokio::test]
async fn payables_open_at_payment_shrink_with_refunds_fall_due_are_paid_once_and_net_debts() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let admin = shop.admin.clone();
    let (jia, yi) = (shop.supplier_ids[0].clone(), shop.supplier_ids[1].clone());
    let buyer = new_buyer(&app, "pay1").await;
    // 2 of 甲's (cost 1000 each), 1 of 乙's (1001), 1 of the store's own.
    let paid = paid_order(&app, &buyer, shop.items(&[(0, 2), (1, 1), (2, 1)]), "k1").await;
    let id = paid["id"].clone();
    let order = app.gql_ok(Some(&admin), ORDER, json!({ "id": id })).await["order"].clone();

    // Paid: one per supplier fulfillment, none for the store's own.
    let l = list(&app, &admin, json!(null)).await;
    assert_eq!(
        (l["totalCount"].as_i64(), l["balanceFen"].as_i64()),
        (Some(2), Some(3001)),
        "{l}"
    );

    shipped(
        &app,
        &shop.supplier_tokens[0],
        &fulfillment_of(&order, Some(&jia)),
    )
    .await;
    shipped(
        &app,
        &shop.supplier_tokens[1],
        &fulfillment_of(&order, Some(&yi)),
    )
    .await;
    shipped(&app, &admin, &fulfillment_of(&order, None)).await;
    let l = list(&app, &admin, json!(null)).await;
    assert_eq!(
        (l["totalCount"].as_i64(), l["balanceFen"].as_i64()),
        (Some(2), Some(3001)),
        "shipping opens no second payable: {l}"
    );
    let p_jia = payable_of(&app, &admin, &jia).await;
    assert_eq!(
        (
            p_jia["status"].as_str(),
            p_jia["amountFen"].as_i64(),
            p_jia["balanceFen"].as_i64()
        ),
        (Some("PENDING"), Some(2000), Some(2000)),
        "{p_jia}"
    );
    assert_eq!(p_jia["fulfillmentId"], fulfillment_of(&order, Some(&jia)));
    assert_eq!(p_jia["orderId"], id);
    assert_eq!(kinds(&p_jia), vec![("ACCRUE".into(), 2000)]);
    let p_yi = payable_of(&app, &admin, &yi).await;
    assert_eq!(p_yi["amountFen"], 1001, "{p_yi}");

    // One of 甲's units comes back, confirmed by 甲: its cost is taken off.
    let r = ask(
        &app,
        &buyer,
        &id,
        "RETURN_AND_REFUND",
        &line_of(&order, shop.sku(0)),
        "r1",
    )
    .await;
    assert_eq!(
        approve(
            &app,
            &admin,
            &r,
            json!({ "returnAddress": "甲 退货仓 杭州" })
        )
        .await,
        "APPROVED"
    );
    let v = app
        .gql(
            Some(&buyer),
            "mutation($id: ID!) { submitReturnShipment(id: $id, carrier: \"顺丰\", trackingNo: \"SF9\") { status } }",
            json!({ "id": r }),
        )
        .await;
    assert_eq!(ok(&v)["submitReturnShipment"]["status"], "RETURNING", "{v}");
    let v = app
        .gql(
            Some(&shop.supplier_tokens[0]),
            "mutation($id: ID!) { confirmReturnReceived(id: $id, restock: true) { status } }",
            json!({ "id": r }),
        )
        .await;
    assert_eq!(ok(&v)["confirmReturnReceived"]["status"], "REFUNDED", "{v}");
    let p_jia = payable_of(&app, &admin, &jia).await;
    assert_eq!(
        (p_jia["amountFen"].as_i64(), p_jia["balanceFen"].as_i64()),
        (Some(1000), Some(1000)),
        "{p_jia}"
    );
    assert_eq!(
        kinds(&p_jia),
        vec![("ACCRUE".into(), 2000), ("ADJUST".into(), -1000)]
    );
    assert_eq!(p_jia["entries"][1]["afterSaleId"], r);

    // A refund only of 乙's shipped unit (the buyer keeps it): charged back
    // to 乙 (REFUND_ONLY_CHARGES_SUPPLIER's default).
    let r2 = ask(
        &app,
        &buyer,
        &id,
        "REFUND_ONLY",
        &line_of(&order, shop.sku(1)),
        "r2",
    )
    .await;
    let status = approve(&app, &admin, &r2, json!(null)).await;
    assert!(status == "REFUNDED" || status == "REFUNDING", "{status}");
    let p_yi = payable_of(&app, &admin, &yi).await;
    assert_eq!(
        kinds(&p_yi),
        vec![("ACCRUE".into(), 1001), ("ADJUST".into(), -1001)],
        "{p_yi}"
    );
    assert_eq!(p_yi["amountFen"], 0, "{p_yi}");

    // Not due while the return window is open: paying it is refused.
    let ids = json!([p_jia["id"], p_yi["id"]]);
    let v = app
        .gql(Some(&admin), PAY, json!({ "ids": ids, "r": "BANK-1" }))
        .await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");

    let v = app
        .gql(Some(&buyer), CONFIRM_RECEIPT, json!({ "id": id }))
        .await;
    assert_eq!(ok(&v)["confirmReceipt"]["status"], "COMPLETED", "{v}");
    let make_due = siyu::modules::order::payable::make_due;
    let days = i64::from(app.state.settings.after_sales_days);
    let now = chrono::Utc::now();
    assert_eq!(
        make_due(
            &app.state,
            now + chrono::Duration::days(days) - chrono::Duration::hours(1)
        )
        .await
        .unwrap(),
        0,
        "the window is still open"
    );
    assert_eq!(
        list(&app, &admin, json!({ "status": "PENDING" })).await["totalCount"],
        2
    );
    let later = now + chrono::Duration::days(days) + chrono::Duration::minutes(1);
    assert_eq!(make_due(&app.state, later).await.unwrap(), 2);
    assert_eq!(make_due(&app.state, later).await.unwrap(), 0, "once");
    let due = list(&app, &admin, json!({ "status": "DUE" })).await;
    assert_eq!(
        (due["totalCount"].as_i64(), due["balanceFen"].as_i64()),
        (Some(2), Some(1000)),
        "{due}"
    );

    // An unknown id: NOT_FOUND, nothing paid.
    let v = app
        .gql(
            Some(&admin),
            PAY,
            json!({ "ids": [p_jia["id"], "999999"], "r": "BANK-1" }),
        )
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    assert_eq!(payable_of(&app, &admin, &jia).await["status"], "DUE");
    // Only ADMIN pays.
    let v = app
        .gql(
            Some(&shop.supplier_tokens[0]),
            PAY,
            json!({ "ids": ids, "r": "BANK-1" }),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");

    // Five at once: each payable is paid by exactly one of them.
    let calls = (0..5).map(|_| {
        app.gql(
            Some(&admin),
            PAY,
            json!({ "ids": ids, "r": " BANK-20261203-1 " }),
        )
    });
    let mut newly = 0;
    for v in futures_util::future::join_all(calls).await {
        newly += ok(&v)["markSupplierPayablesPaid"].as_i64().unwrap();
    }
    assert_eq!(newly, 2, "paid once");
    let v = app
        .gql(Some(&admin), PAY, json!({ "ids": ids, "r": "BANK-2" }))
        .await;
    assert_eq!(
        ok(&v)["markSupplierPayablesPaid"],
        0,
        "paid ones are skipped: {v}"
    );

    let p_jia = payable_of(&app, &admin, &jia).await;
    assert_eq!(
        (
            p_jia["status"].as_str(),
            p_jia["amountFen"].as_i64(),
            p_jia["paidFen"].as_i64(),
            p_jia["balanceFen"].as_i64(),
            p_jia["paidReference"].as_str()
        ),
        (
            Some("PAID"),
            Some(1000),
            Some(1000),
            Some(0),
            Some("BANK-20261203-1")
        ),
        "{p_jia}"
    );
    assert_eq!(
        kinds(&p_jia),
        vec![
            ("ACCRUE".into(), 2000),
            ("ADJUST".into(), -1000),
            ("PAY".into(), -1000)
        ]
    );
    assert!(
        !p_jia["dueAt"].is_null() && !p_jia["paidAt"].is_null(),
        "{p_jia}"
    );
    let p_yi = payable_of(&app, &admin, &yi).await;
    assert_eq!(
        (p_yi["paidFen"].as_i64(), p_yi["balanceFen"].as_i64()),
        (Some(0), Some(0)),
        "nothing left to transfer: {p_yi}"
    );
    let all = list(&app, &admin, json!({ "status": "PAID" })).await;
    assert_eq!(
        (all["totalCount"].as_i64(), all["balanceFen"].as_i64()),
        (Some(2), Some(0)),
        "{all}"
    );

    // The last unit of 甲 comes back after 甲 was paid (still within the
    // buyer's window): 甲 now owes the store its cost.
    let r3 = ask(
        &app,
        &buyer,
        &id,
        "RETURN_AND_REFUND",
        &line_of(&order, shop.sku(0)),
        "r3",
    )
    .await;
    assert_eq!(
        approve(
            &app,
            &admin,
            &r3,
            json!({ "returnAddress": "甲 退货仓 杭州" })
        )
        .await,
        "APPROVED"
    );
    let v = app
        .gql(
            Some(&admin),
            "mutation($id: ID!) { confirmReturnReceived(id: $id, restock: false) { status } }",
            json!({ "id": r3 }),
        )
        .await;
    assert_eq!(ok(&v)["confirmReturnReceived"]["status"], "REFUNDED", "{v}");
    let p_jia = payable_of(&app, &admin, &jia).await;
    assert_eq!(
        (
            p_jia["status"].as_str(),
            p_jia["amountFen"].as_i64(),
            p_jia["paidFen"].as_i64(),
            p_jia["balanceFen"].as_i64()
        ),
        (Some("PAID"), Some(0), Some(1000), Some(-1000)),
        "a negative balance, carried: {p_jia}"
    );
    let all = list(&app, &admin, json!({ "status": "PAID" })).await;
    assert_eq!(all["balanceFen"], -1000, "{all}");
    let own = list(&app, &shop.supplier_tokens[0], json!(null)).await;
    assert_eq!(
        (own["totalCount"].as_i64(), own["balanceFen"].as_i64()),
        (Some(1), Some(-1000)),
        "{own}"
    );
    // Each payable's balance is the sum of its entries.
    for p in all["nodes"].as_array().unwrap() {
        let sum: i64 = kinds(p).iter().map(|(_, a)| a).sum();
        assert_eq!(p["balanceFen"].as_i64(), Some(sum), "{p}");
    }

    // 甲's next payable nets that debt off: the store transfers the rest.
    let paid2 = paid_order(&app, &buyer, shop.items(&[(0, 3)]), "k-net").await;
    let id2 = paid2["id"].clone();
    let order2 = app.gql_ok(Some(&admin), ORDER, json!({ "id": id2 })).await["order"].clone();
    shipped(
        &app,
        &shop.supplier_tokens[0],
        &fulfillment_of(&order2, Some(&jia)),
    )
    .await;
    let v = app
        .gql(Some(&buyer), CONFIRM_RECEIPT, json!({ "id": id2 }))
        .await;
    assert_eq!(ok(&v)["confirmReceipt"]["status"], "COMPLETED", "{v}");
    let later = chrono::Utc::now() + chrono::Duration::days(days) + chrono::Duration::minutes(1);
    assert_eq!(make_due(&app.state, later).await.unwrap(), 1);
    let jias = list(&app, &admin, json!({ "supplierId": jia })).await;
    let (new, old) = (jias["nodes"][0].clone(), jias["nodes"][1].clone());
    assert_eq!(
        (new["status"].as_str(), new["balanceFen"].as_i64()),
        (Some("DUE"), Some(3000)),
        "{new}"
    );
    let v = app
        .gql(
            Some(&admin),
            PAY,
            json!({ "ids": [new["id"]], "r": "BANK-3" }),
        )
        .await;
    assert_eq!(ok(&v)["markSupplierPayablesPaid"], 1, "{v}");
    let jias = list(&app, &admin, json!({ "supplierId": jia })).await;
    let (new, old) = (
        jias["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == new["id"])
            .unwrap()
            .clone(),
        jias["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == old["id"])
            .unwrap()
            .clone(),
    );
    assert_eq!(
        kinds(&new),
        vec![
            ("ACCRUE".into(), 3000),
            ("NET".into(), -1000),
            ("PAY".into(), -2000)
        ],
        "the transfer is what is owed net of 甲's debt: {new}"
    );
    assert_eq!(
        (
            new["paidFen"].as_i64(),
            new["nettedFen"].as_i64(),
            new["balanceFen"].as_i64()
        ),
        (Some(2000), Some(-1000), Some(0)),
        "{new}"
    );
    assert_eq!(
        kinds(&old).last(),
        Some(&("NET".to_string(), 1000)),
        "{old}"
    );
    assert_eq!(
        (old["nettedFen"].as_i64(), old["balanceFen"].as_i64()),
        (Some(1000), Some(0)),
        "the debt is cleared once: {old}"
    );
    assert_eq!(jias["balanceFen"], 0, "{jias}");
    let all = list(&app, &admin, json!({ "status": "PAID" })).await;

    // The CSV export says what the API says, row for row.
    let every = list(&app, &admin, json!(null)).await;
    let rows = csv_rows(&app, Some(&admin), "supplier-payables.csv").await;
    assert_eq!(
        rows.len(),
        every["nodes"].as_array().unwrap().len(),
        "{rows:?}"
    );
    for (r, p) in rows.iter().zip(every["nodes"].as_array().unwrap()) {
        assert_eq!(r["payable_id"], text(&p["id"]), "{r:?}");
        assert_eq!(r["supplier_id"], text(&p["supplier"]["id"]), "{r:?}");
        assert_eq!(r["status"], text(&p["status"]), "{r:?}");
        for (col, field) in [
            ("amount_fen", "amountFen"),
            ("paid_fen", "paidFen"),
            ("netted_fen", "nettedFen"),
            ("balance_fen", "balanceFen"),
        ] {
            assert_eq!(
                r[col],
                p[field].as_i64().unwrap().to_string(),
                "{col}: {r:?} {p}"
            );
        }
        assert_eq!(
            r["paid_reference"],
            p["paidReference"].as_str().unwrap_or(""),
            "{r:?}"
        );
    }
    let paid = csv_rows(&app, Some(&admin), "supplier-payables.csv?status=PAID").await;
    assert_eq!(paid.len() as i64, all["totalCount"].as_i64().unwrap());
    // A supplier downloads its own rows only; the anonymous and a customer
    // get nothing; a bad status is named.
    let own_rows = csv_rows(
        &app,
        Some(&shop.supplier_tokens[0]),
        "supplier-payables.csv",
    )
    .await;
    assert_eq!(own_rows.len(), 2, "{own_rows:?}");
    assert!(
        own_rows.iter().all(|r| r["balance_fen"] == "0"),
        "{own_rows:?}"
    );
    let status = |t: Option<String>, q: &'static str| {
        let app = &app;
        async move {
            let mut req = app
                .client
                .get(format!("{}/exports/supplier-payables.csv{q}", app.address));
            if let Some(t) = t {
                req = req.bearer_auth(t);
            }
            req.send().await.expect("request sent").status().as_u16()
        }
    };
    assert_eq!(status(None, "").await, 401);
    let buyer = new_buyer(&app, "csv-buyer").await;
    assert_eq!(status(Some(buyer), "").await, 403);
    assert_eq!(status(Some(admin.clone()), "?status=OWED").await, 400);
}

#[tokio::test]
async fn a_supplier_sees_its_own_units_refunded_before_shipping_come_off_and_bad_input_is_named() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let admin = shop.admin.clone();
    let (jia, yi) = (shop.supplier_ids[0].clone(), shop.supplier_ids[1].clone());
    let buyer = new_buyer(&app, "pay2").await;
    let paid = paid_order(&app, &buyer, shop.items(&[(0, 2), (1, 1)]), "k2").await;
    let id = paid["id"].clone();
    let order = app.gql_ok(Some(&admin), ORDER, json!({ "id": id })).await["order"].clone();
    // One of 甲's two units is refunded before it ships: it never ships.
    let r = ask(
        &app,
        &buyer,
        &id,
        "REFUND_ONLY",
        &line_of(&order, shop.sku(0)),
        "b1",
    )
    .await;
    let status = approve(&app, &admin, &r, json!(null)).await;
    assert!(status == "REFUNDED" || status == "REFUNDING", "{status}");
    shipped(
        &app,
        &shop.supplier_tokens[0],
        &fulfillment_of(&order, Some(&jia)),
    )
    .await;
    shipped(
        &app,
        &shop.supplier_tokens[1],
        &fulfillment_of(&order, Some(&yi)),
    )
    .await;
    let p_jia = payable_of(&app, &admin, &jia).await;
    assert_eq!(
        kinds(&p_jia),
        vec![("ACCRUE".into(), 2000), ("ADJUST".into(), -1000)],
        "only the unit that shipped is owed: {p_jia}"
    );
    assert_eq!(p_jia["entries"][1]["afterSaleId"], r, "{p_jia}");

    // Each supplier sees its own only, whatever it names.
    for (token, own, other) in [
        (&shop.supplier_tokens[0], &jia, &yi),
        (&shop.supplier_tokens[1], &yi, &jia),
    ] {
        let l = list(&app, token, json!(null)).await;
        assert_eq!(l["totalCount"], 1, "{l}");
        assert_eq!(&text(&l["nodes"][0]["supplier"]["id"]), own, "{l}");
        let l = list(&app, token, json!({ "supplierId": other })).await;
        assert_eq!(
            (
                l["totalCount"].as_i64(),
                l["nodes"].as_array().map(Vec::len)
            ),
            (Some(0), Some(0)),
            "{l}"
        );
    }
    assert_eq!(list(&app, &admin, json!(null)).await["totalCount"], 2);
    assert_eq!(
        list(&app, &admin, json!({ "status": "PAID" })).await["totalCount"],
        0
    );
    assert_eq!(
        list(
            &app,
            &admin,
            json!({ "from": "2000-01-01T00:00:00Z", "to": "2100-01-01T00:00:00Z" })
        )
        .await["totalCount"],
        2
    );
    assert_eq!(
        list(&app, &admin, json!({ "from": "2100-01-01T00:00:00Z" })).await["totalCount"],
        0
    );
    // Paging: one at a time, the cursor goes on.
    let page =
        app.gql_ok(Some(&admin), LIST, json!({ "first": 1 })).await["supplierPayables"].clone();
    assert_eq!(
        (
            page["totalCount"].as_i64(),
            page["nodes"].as_array().map(Vec::len)
        ),
        (Some(2), Some(1)),
        "{page}"
    );

    // Who may ask.
    let v = app.gql(Some(&buyer), LIST, json!({})).await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let v = app.gql(None, LIST, json!({})).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
    let v = app
        .gql(Some(&buyer), PAY, json!({ "ids": [p_jia["id"]], "r": "x" }))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");

    // Bad input is named and changes nothing.
    for (vars, field) in [
        (
            json!({ "f": { "from": "2026-12-02T00:00:00Z", "to": "2026-12-01T00:00:00Z" } }),
            "filter.to",
        ),
        (json!({ "f": { "supplierId": "abc" } }), "filter.supplierId"),
        (json!({ "first": 0 }), "first"),
        (json!({ "after": "!!" }), "after"),
    ] {
        let v = app.gql(Some(&admin), LIST, vars).await;
        assert_eq!(
            (
                error_code(&v),
                v["errors"][0]["extensions"]["field"].as_str()
            ),
            ("BAD_USER_INPUT", Some(field)),
            "{v}"
        );
    }
    for (vars, field) in [
        (json!({ "ids": [], "r": "BANK-1" }), "ids"),
        (json!({ "ids": ["abc"], "r": "BANK-1" }), "ids"),
        (json!({ "ids": [p_jia["id"]], "r": "   " }), "reference"),
        (
            json!({ "ids": [p_jia["id"]], "r": "x".repeat(101) }),
            "reference",
        ),
    ] {
        let v = app.gql(Some(&admin), PAY, vars).await;
        assert_eq!(
            (
                error_code(&v),
                v["errors"][0]["extensions"]["field"].as_str()
            ),
            ("BAD_USER_INPUT", Some(field)),
            "{v}"
        );
    }
    let p = payable_of(&app, &admin, &jia).await;
    assert_eq!(
        (p["status"].as_str(), kinds(&p).len()),
        (Some("PENDING"), 2),
        "{p}"
    );
}

#[tokio::test]
async fn a_store_that_bears_refunds_of_kept_goods_still_takes_off_unshipped_units_and_whole_order_refunds()
 {
    let app = spawn_app_with(&[("REFUND_ONLY_CHARGES_SUPPLIER", "false")]).await;
    let shop = shop(&app, 10).await;
    let admin = shop.admin.clone();
    let (jia, yi) = (shop.supplier_ids[0].clone(), shop.supplier_ids[1].clone());
    let buyer = new_buyer(&app, "pay3").await;
    let paid = paid_order(&app, &buyer, shop.items(&[(0, 2), (1, 1)]), "k3").await;
    let id = paid["id"].clone();
    let order = app.gql_ok(Some(&admin), ORDER, json!({ "id": id })).await["order"].clone();
    shipped(
        &app,
        &shop.supplier_tokens[0],
        &fulfillment_of(&order, Some(&jia)),
    )
    .await;
    // 甲 shipped: a refund only of one unit the buyer keeps is the store's.
    let r = ask(
        &app,
        &buyer,
        &id,
        "REFUND_ONLY",
        &line_of(&order, shop.sku(0)),
        "c1",
    )
    .await;
    let status = approve(&app, &admin, &r, json!(null)).await;
    assert!(status == "REFUNDED" || status == "REFUNDING", "{status}");
    let p_jia = payable_of(&app, &admin, &jia).await;
    assert_eq!(kinds(&p_jia), vec![("ACCRUE".into(), 2000)], "{p_jia}");
    // 乙 has not shipped: its unit refunded is called off and comes off.
    let r = ask(
        &app,
        &buyer,
        &id,
        "REFUND_ONLY",
        &line_of(&order, shop.sku(1)),
        "c2",
    )
    .await;
    let status = approve(&app, &admin, &r, json!(null)).await;
    assert!(status == "REFUNDED" || status == "REFUNDING", "{status}");
    let p_yi = payable_of(&app, &admin, &yi).await;
    assert_eq!(
        kinds(&p_yi),
        vec![("ACCRUE".into(), 1001), ("ADJUST".into(), -1001)],
        "{p_yi}"
    );

    // A whole-order refund of an unshipped order: nothing is owed.
    let other = paid_order(&app, &buyer, shop.items(&[(0, 1)]), "k4").await;
    let v = app
        .gql(
            Some(&buyer),
            REQUEST_REFUND,
            json!({ "id": other["id"], "r": "拍错了" }),
        )
        .await;
    let refund = ok(&v)["requestRefund"]["id"].clone();
    let v = app
        .gql(Some(&admin), APPROVE_REFUND, json!({ "id": refund }))
        .await;
    assert_eq!(
        ok(&v)["approveRefund"]["order"]["status"],
        "REFUNDED",
        "{v}"
    );
    let l = list(&app, &admin, json!({ "supplierId": jia })).await;
    let p = l["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["orderId"] == other["id"])
        .unwrap_or_else(|| panic!("no payable of the refunded order: {l}"))
        .clone();
    assert_eq!(
        kinds(&p),
        vec![("ACCRUE".into(), 1000), ("ADJUST".into(), -1000)],
        "{p}"
    );
    assert_eq!(p["balanceFen"], 0, "{p}");
}
