//! Checkout and orders on the embedded demo payment path: cart, pricing,
//! idempotency, stock under concurrency, cancellation and time-out,
//! fulfilment by suppliers, history and privacy, refunds.
use serde_json::{Value, json};

use crate::{
    fixtures::{
        ADD_TO_CART, APPROVE_REFUND, CANCEL_ORDER, DEMO_PAY, SYNC_SUPPLIER_STOCK, Shop,
        add_to_cart, cancel, create_category, create_product, create_supplier, customer, demo_pay,
        lib, link_sku, new_buyer, order_of, paid_order, place, placed, refund_requested,
        request_refund, save_address, set_status, ship, shipped, shop, status_of, stock_of, text,
    },
    helpers::{TestApp, error_code, spawn_app, spawn_app_with},
};

#[tokio::test]
async fn cart_to_receipt_with_two_suppliers() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "buyer").await;

    // Cart: add, add again (quantities add up), update, remove.
    let sku = |i: usize| shop.sku(i).to_string();
    for i in [0, 1, 2, 0] {
        add_to_cart(&app, &buyer, &sku(i), 1).await;
    }
    let v = app.gql(Some(&buyer), "mutation($s: ID!) { updateCartItem(skuId: $s, quantity: 3) { items { quantity sku { id } available product { title } } } }", json!({ "s": sku(2) })).await;
    let items = v["data"]["updateCartItem"]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(items.len(), 3);
    let q = |id: &str| {
        items.iter().find(|i| i["sku"]["id"] == id).unwrap()["quantity"]
            .as_i64()
            .unwrap()
    };
    assert_eq!((q(&sku(0)), q(&sku(2))), (2, 3));

    // Preview and place agree: 2×3000 + 2500 + 3×1000 = 11500 ≥ 9900 ships free.
    let items = json!([{ "skuId": sku(0), "quantity": 2 }, { "skuId": sku(1), "quantity": 1 }, { "skuId": sku(2), "quantity": 3 }]);
    let v = app.gql(Some(&buyer), "query($i: OrderInput!) { previewOrder(input: $i) { itemsFen shippingFen totalFen payableFen balanceFen } }", json!({ "i": { "items": items } })).await;
    assert_eq!(
        v["data"]["previewOrder"],
        json!({ "itemsFen": 11500, "shippingFen": 0, "totalFen": 11500, "payableFen": 11500, "balanceFen": 0 }),
        "{v}"
    );
    let v = place(&app, &buyer, items.clone(), "k-1").await;
    let order = v["data"]["placeOrder"]["order"].clone();
    assert_eq!(order["status"], "PENDING_PAYMENT", "{v}");
    assert_eq!(order["totalFen"], 11500);
    assert!(
        v["data"]["placeOrder"]["wechatPayParams"].is_null(),
        "demo mode pays with demoPay"
    );
    assert!(order["fulfillments"].as_array().unwrap().is_empty());
    // The number is the UTC date of placing and the id in ten digits, the
    // same in the placing answer and as stored (the database writes it).
    let no = order["orderNo"].as_str().unwrap();
    let v = app
        .gql(
            Some(&buyer),
            "query($id: ID!) { order(id: $id) { orderNo createdAt } }",
            json!({ "id": order["id"] }),
        )
        .await;
    assert_eq!(v["data"]["order"]["orderNo"], no, "stored as returned");
    let placed_at: chrono::DateTime<chrono::Utc> = v["data"]["order"]["createdAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let id: i64 = order["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(no, format!("{}{id:010}", placed_at.format("%Y%m%d")));
    // Placed lines left the cart; stock is taken.
    let v = app
        .gql(Some(&buyer), "{ cart { items { quantity } } }", json!({}))
        .await;
    assert!(v["data"]["cart"]["items"].as_array().unwrap().is_empty());
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![8]);

    let v = app
        .gql(Some(&buyer), DEMO_PAY, json!({ "id": order["id"] }))
        .await;
    let paid = &v["data"]["demoPay"];
    assert_eq!(paid["status"], "PAID", "{v}");
    assert_eq!(paid["paidFen"], 11500);
    let fulfillments = paid["fulfillments"].as_array().unwrap();
    assert_eq!(
        fulfillments.len(),
        3,
        "one per supplier plus one self-operated: {v}"
    );

    // Each supplier sees and ships only its own part.
    let mut fulfillment_ids = Vec::new();
    for (i, token) in shop.supplier_tokens.iter().enumerate() {
        let v = app.gql(Some(token), "{ supplierFulfillments(status: PENDING) { nodes { id costFen lines { title } order { orderNo lines { title } } shippingAddress { name phone } } } }", json!({})).await;
        let nodes = v["data"]["supplierFulfillments"]["nodes"]
            .as_array()
            .unwrap_or_else(|| panic!("{v}"));
        assert_eq!(nodes.len(), 1, "{v}");
        let f = &nodes[0];
        assert_eq!(f["lines"].as_array().unwrap().len(), 1);
        assert_eq!(
            f["order"]["lines"].as_array().unwrap().len(),
            1,
            "a supplier sees only its lines of the order"
        );
        assert_eq!(f["shippingAddress"]["name"], "张三");
        let expected_cost = if i == 0 { 2 * 1000 } else { 1001 };
        assert_eq!(f["costFen"], expected_cost);
        let v = app.gql(Some(token), "query($id: ID!) { supplierFulfillments { nodes { order { totalFen } } } order(id: $id) { id } }", json!({ "id": order["id"] })).await;
        assert!(
            v.to_string().contains("FORBIDDEN"),
            "amounts are the buyer's and the store's: {v}"
        );
        fulfillment_ids.push(f["id"].as_str().unwrap().to_string());
    }
    // Supplier B cannot ship A's fulfillment.
    let id = |i: usize| json!(fulfillment_ids[i]);
    let v = ship(&app, &shop.supplier_tokens[1], &id(0)).await;
    assert_eq!(error_code(&v), "NOT_FOUND");
    for (i, token) in shop.supplier_tokens.iter().enumerate() {
        let v = ship(&app, token, &id(i)).await;
        assert_eq!(v["data"]["shipFulfillment"]["status"], "SHIPPED", "{v}");
    }
    let v = ship(&app, &shop.supplier_tokens[0], &id(0)).await;
    assert_eq!(error_code(&v), "CONFLICT", "already shipped");
    let now = order_of(&app, &buyer, &order["id"]).await;
    assert_eq!(
        now["status"], "PAID",
        "the self-operated part has not shipped yet"
    );
    // ADMIN ships the self-operated part; then the order is SHIPPED.
    let own = now["fulfillments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["supplier"].is_null())
        .unwrap()["id"]
        .clone();
    let v = ship(&app, &shop.admin, &own).await;
    assert_eq!(v["data"]["shipFulfillment"]["status"], "SHIPPED", "{v}");
    assert_eq!(status_of(&app, &buyer, &order["id"]).await, "SHIPPED");

    let v = app
        .gql(
            Some(&buyer),
            "mutation($id: ID!) { confirmReceipt(id: $id) { status } }",
            json!({ "id": order["id"] }),
        )
        .await;
    assert_eq!(v["data"]["confirmReceipt"]["status"], "COMPLETED", "{v}");
    let v = app
        .gql(Some(&buyer), CANCEL_ORDER, json!({ "id": order["id"] }))
        .await;
    assert_eq!(error_code(&v), "CONFLICT");

    // Sales feed the product and the hot list.
    let v = app
        .gql(
            None,
            "query($id: ID!) { product(id: $id) { salesCount } hotProducts(limit: 1) { id } }",
            json!({ "id": shop.products[2].0 }),
        )
        .await;
    assert_eq!(v["data"]["product"]["salesCount"], 3);
    assert_eq!(
        v["data"]["hotProducts"][0]["id"],
        shop.products[2].0.as_str(),
        "the best seller leads: {v}"
    );
}

#[tokio::test]
async fn shipping_is_charged_below_the_threshold() {
    let app = spawn_app_with(&[
        ("SHIPPING_FEE_FEN", "600"),
        ("FREE_SHIPPING_FROM_FEN", "5000"),
    ])
    .await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "b").await;
    let v = place(&app, &buyer, shop.items(&[(2, 4)]), "k").await;
    let o = &v["data"]["placeOrder"]["order"];
    assert_eq!(
        (
            o["itemsFen"].as_i64(),
            o["shippingFen"].as_i64(),
            o["totalFen"].as_i64()
        ),
        (Some(4000), Some(600), Some(4600)),
        "{v}"
    );
    let v = place(&app, &buyer, shop.items(&[(2, 5)]), "k2").await;
    assert_eq!(v["data"]["placeOrder"]["order"]["shippingFen"], 0);
}

#[tokio::test]
async fn the_same_key_is_the_same_order() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "b").await;
    let items = shop.items(&[(0, 2)]);
    let first = place(&app, &buyer, items.clone(), "same").await;
    let again = place(&app, &buyer, items.clone(), "same").await;
    assert_eq!(
        first["data"]["placeOrder"]["order"]["id"],
        again["data"]["placeOrder"]["order"]["id"]
    );
    assert_eq!(
        stock_of(&app, &shop.products[0].0).await,
        vec![8],
        "stock taken once"
    );
    let other = place(&app, &buyer, shop.items(&[(0, 3)]), "same").await;
    assert_eq!(error_code(&other), "CONFLICT");
    // Concurrent replays of a new key still make one order.
    let tries = (0..8).map(|_| place(&app, &buyer, items.clone(), "rush"));
    let ids: std::collections::HashSet<String> = futures_util::future::join_all(tries)
        .await
        .iter()
        .map(|v| {
            v["data"]["placeOrder"]["order"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{v}"))
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![6]);
    // Another customer's identical key is another order.
    let other_buyer = new_buyer(&app, "c").await;
    let v = place(&app, &other_buyer, items, "same").await;
    assert_ne!(
        v["data"]["placeOrder"]["order"]["id"],
        first["data"]["placeOrder"]["order"]["id"]
    );
}

/// A replay must return the order even when it could no longer be placed:
/// the last unit is gone (to this very order) or the product left the shelf.
#[tokio::test]
async fn a_replay_returns_the_order_it_could_no_longer_place() {
    let app = spawn_app().await;
    let shop = shop(&app, 1).await;
    let buyer = new_buyer(&app, "b").await;
    let items = shop.items(&[(0, 1)]);
    let first = place(&app, &buyer, items.clone(), "last").await;
    let id = first["data"]["placeOrder"]["order"]["id"].clone();
    assert!(id.is_string(), "{first}");
    let sold_out = place(&app, &buyer, items.clone(), "another").await;
    assert_eq!(error_code(&sold_out), "OUT_OF_STOCK");
    let again = place(&app, &buyer, items.clone(), "last").await;
    assert_eq!(again["data"]["placeOrder"]["order"]["id"], id, "{again}");
    assert_eq!(
        stock_of(&app, &shop.products[0].0).await,
        vec![0],
        "taken once"
    );
    set_status(&app, &shop.admin, &shop.products[0].0, "OFF_SHELF").await;
    let again = place(&app, &buyer, items, "last").await;
    assert_eq!(again["data"]["placeOrder"]["order"]["id"], id, "{again}");
    // Under that key, another request is still a conflict, not a stock error.
    let other = place(&app, &buyer, shop.items(&[(1, 1)]), "last").await;
    assert_eq!(error_code(&other), "CONFLICT");
}

/// Concurrent orders are written together (see `order::batch`); each must
/// still be decided as if placed alone. The writer waits long enough here
/// for the calls below to make one batch.
#[tokio::test]
async fn concurrent_orders_are_each_decided_on_their_own() {
    let app = spawn_app_with(&[("ORDER_BATCH_WINDOW_MS", "400")]).await;
    let shop = shop(&app, 3).await;
    let (scarce, off_shelf) = (&shop.products[0], &shop.products[1]);
    set_status(&app, &shop.admin, &off_shelf.0, "OFF_SHELF").await;
    let mut buyers = Vec::new();
    for i in 0..6 {
        buyers.push(new_buyer(&app, &format!("mix{i}")).await);
    }
    let homeless = app.customer_token("homeless").await;
    let one = |sku: &str| json!([{ "skuId": sku, "quantity": 1 }]);
    // An order placed before, replayed in the crowd with its request and with another.
    let earlier = place(&app, &buyers[5], one(&shop.products[2].1[0]), "earlier").await;
    let earlier_id = earlier["data"]["placeOrder"]["order"]["id"].clone();
    assert!(earlier_id.is_string(), "{earlier}");

    let keys: Vec<String> = (0..5).map(|i| format!("scarce{i}")).collect();
    let mut calls = Vec::new();
    for (t, k) in buyers.iter().zip(&keys) {
        calls.push(place(&app, t, one(&scarce.1[0]), k));
    }
    calls.push(place(&app, &buyers[0], one("999999"), "unknown"));
    calls.push(place(&app, &buyers[1], one(&off_shelf.1[0]), "off"));
    calls.push(place(
        &app,
        &homeless,
        one(&shop.products[2].1[0]),
        "nowhere",
    ));
    for _ in 0..3 {
        calls.push(place(
            &app,
            &buyers[2],
            one(&shop.products[2].1[0]),
            "twice",
        ));
    }
    calls.push(place(
        &app,
        &buyers[5],
        one(&shop.products[2].1[0]),
        "earlier",
    ));
    calls.push(place(&app, &buyers[5], one(&scarce.1[0]), "earlier"));
    let r = futures_util::future::join_all(calls).await;

    let placed = |v: &Value| {
        v["data"]["placeOrder"]["order"]["id"]
            .as_str()
            .map(str::to_string)
    };
    let scarce_placed = r[..5].iter().filter_map(placed).count();
    let sold_out = r[..5]
        .iter()
        .filter(|v| v["errors"][0]["extensions"]["code"] == "OUT_OF_STOCK")
        .count();
    assert_eq!((scarce_placed, sold_out), (3, 2), "{:?}", &r[..5]);
    assert_eq!(error_code(&r[5]), "NOT_FOUND");
    assert_eq!(error_code(&r[6]), "BAD_USER_INPUT");
    assert_eq!(r[6]["errors"][0]["extensions"]["field"], "items[0].skuId");
    assert_eq!(error_code(&r[7]), "BAD_USER_INPUT");
    assert_eq!(r[7]["errors"][0]["extensions"]["field"], "addressId");
    let twice: std::collections::HashSet<_> = r[8..11].iter().map(|v| placed(v).unwrap()).collect();
    assert_eq!(twice.len(), 1, "one key, one order: {:?}", &r[8..11]);
    assert_eq!(r[11]["data"]["placeOrder"]["order"]["id"], earlier_id);
    assert_eq!(error_code(&r[12]), "CONFLICT");
    assert_eq!(stock_of(&app, &scarce.0).await, vec![0]);
    // Stock 3, minus "earlier" and "twice".
    assert_eq!(stock_of(&app, &shop.products[2].0).await, vec![1]);
}

/// A replay written in the same batch as a new order holds back no stock:
/// the last unit goes to the new order.
#[tokio::test]
async fn a_replay_in_a_batch_takes_no_stock() {
    let app = spawn_app_with(&[("ORDER_BATCH_WINDOW_MS", "400")]).await;
    let shop = shop(&app, 2).await;
    let (a, b) = (new_buyer(&app, "a").await, new_buyer(&app, "b").await);
    let items = shop.items(&[(0, 1)]);
    let first = place(&app, &a, items.clone(), "k1").await;
    let first_id = first["data"]["placeOrder"]["order"]["id"].clone();
    assert!(first_id.is_string(), "{first}");
    let (replay, other) = futures_util::join!(
        place(&app, &a, items.clone(), "k1"),
        place(&app, &b, items, "k2")
    );
    assert_eq!(
        replay["data"]["placeOrder"]["order"]["id"], first_id,
        "{replay}"
    );
    assert!(
        other["data"]["placeOrder"]["order"]["id"].is_string(),
        "the last unit is for b: {other}"
    );
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![0]);
}

/// Payments arriving together are confirmed together, each on its own:
/// every order paid once (a repeat in the crowd pays nothing twice), split
/// per supplier with its payables, counted once in its buyer's figures and
/// its products' sales.
#[tokio::test]
async fn payments_arriving_together_are_each_confirmed_on_their_own() {
    let app = spawn_app_with(&[("ORDER_BATCH_WINDOW_MS", "400")]).await;
    let shop = shop(&app, 10).await;
    let a = customer(&app, "pay-a").await;
    save_address(&app, &a.token).await;
    let b = new_buyer(&app, "pay-b").await;
    let a1 = placed(&app, &a.token, shop.items(&[(0, 1), (2, 2)]), "a1").await;
    let a2 = placed(&app, &a.token, shop.items(&[(0, 1)]), "a2").await;
    let b1 = placed(&app, &b, shop.items(&[(1, 3)]), "b1").await;
    let pays = [(&a.token, &a1), (&a.token, &a2), (&b, &b1), (&a.token, &a1)];
    let answers = futures_util::future::join_all(
        pays.iter()
            .map(|(t, o)| app.gql(Some(t), DEMO_PAY, json!({ "id": o["id"] }))),
    )
    .await;
    for (v, (_, o)) in answers[..3].iter().zip(&pays) {
        assert_eq!(v["data"]["demoPay"]["status"], "PAID", "{v}");
        assert_eq!(v["data"]["demoPay"]["id"], o["id"], "{v}");
    }
    // The repeat shows the order paid, or says it is paid already.
    let repeat = &answers[3];
    assert!(
        repeat["data"]["demoPay"]["status"] == "PAID" || error_code(repeat) == "CONFLICT",
        "{repeat}"
    );
    let fulfillments = |o: Value| o["fulfillments"].as_array().unwrap().len();
    assert_eq!(fulfillments(order_of(&app, &a.token, &a1["id"]).await), 2);
    assert_eq!(fulfillments(order_of(&app, &a.token, &a2["id"]).await), 1);
    assert_eq!(fulfillments(order_of(&app, &b, &b1["id"]).await), 1);
    let sales = |id: &str| {
        let id = id.to_string();
        let app = &app;
        async move {
            app.gql_ok(
                None,
                "query($id: ID!) { product(id: $id) { salesCount } }",
                json!({ "id": id }),
            )
            .await["product"]["salesCount"]
                .clone()
        }
    };
    assert_eq!(sales(&shop.products[0].0).await, 2);
    assert_eq!(sales(&shop.products[1].0).await, 3);
    assert_eq!(sales(&shop.products[2].0).await, 2);
    let stats = app
        .gql_ok(
            Some(&shop.admin),
            "query($id: ID!) { customer(id: $id) { stats { ordersCount totalSpentFen } } }",
            json!({ "id": a.id }),
        )
        .await;
    assert_eq!(stats["customer"]["stats"]["ordersCount"], 2, "{stats}");
    assert_eq!(
        stats["customer"]["stats"]["totalSpentFen"],
        a1["totalFen"].as_i64().unwrap() + a2["totalFen"].as_i64().unwrap(),
        "{stats}"
    );
    let payables = app
        .gql_ok(
            Some(&shop.admin),
            "{ supplierPayables(first: 100) { nodes { orderId supplier { id } } } }",
            json!({}),
        )
        .await;
    let mut opened: Vec<(String, String)> = payables["supplierPayables"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (text(&p["orderId"]), text(&p["supplier"]["id"])))
        .collect();
    opened.sort();
    let mut expected = vec![
        (text(&a1["id"]), shop.supplier_ids[0].clone()),
        (text(&a2["id"]), shop.supplier_ids[0].clone()),
        (text(&b1["id"]), shop.supplier_ids[1].clone()),
    ];
    expected.sort();
    assert_eq!(opened, expected);
}

#[tokio::test]
async fn thirty_buyers_five_units_five_orders() {
    let app = spawn_app().await;
    let shop = shop(&app, 5).await;
    let sku = shop.products[0].1[0].clone();
    let mut buyers = Vec::new();
    for i in 0..30 {
        buyers.push(new_buyer(&app, &format!("rush{i}")).await);
    }
    let keys: Vec<String> = (0..30).map(|i| format!("k{i}")).collect();
    let attempts = buyers
        .iter()
        .zip(&keys)
        .map(|(t, k)| place(&app, t, json!([{ "skuId": sku, "quantity": 1 }]), k));
    let results = futures_util::future::join_all(attempts).await;
    let placed = results
        .iter()
        .filter(|v| v["data"]["placeOrder"]["order"]["id"].is_string())
        .count();
    let sold_out = results
        .iter()
        .filter(|v| v["errors"][0]["extensions"]["code"] == "OUT_OF_STOCK")
        .count();
    assert_eq!((placed, sold_out), (5, 25), "{results:?}");
    assert!(
        results.iter().find(|v| v["errors"].is_array()).unwrap()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("甲供商品")
    );
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![0]);
}

#[tokio::test]
async fn cancelling_and_timing_out_give_stock_back_once() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "b").await;
    let item = |q| shop.items(&[(0, q)]);
    let a = placed(&app, &buyer, item(3), "a").await["id"].clone();
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![7]);
    let results = futures_util::future::join_all(
        (0..5).map(|_| app.gql(Some(&buyer), CANCEL_ORDER, json!({ "id": a }))),
    )
    .await;
    assert_eq!(
        results
            .iter()
            .filter(|v| v["data"]["cancelOrder"]["status"] == "CANCELLED")
            .count(),
        1,
        "{results:?}"
    );
    assert_eq!(
        stock_of(&app, &shop.products[0].0).await,
        vec![10],
        "given back exactly once"
    );
    let v = app.gql(Some(&buyer), DEMO_PAY, json!({ "id": a })).await;
    assert_eq!(error_code(&v), "CONFLICT");

    // Time-out: the job cancels what is due, from any number of instances at once.
    let b = placed(&app, &buyer, item(4), "b").await["id"].clone();
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![6]);
    let now = chrono::Utc::now();
    assert_eq!(
        lib::expire_unpaid(&app.state, now).await.unwrap(),
        0,
        "not due yet"
    );
    let later = now + chrono::Duration::minutes(31);
    let runs =
        futures_util::future::join_all((0..4).map(|_| lib::expire_unpaid(&app.state, later))).await;
    assert_eq!(runs.iter().map(|r| *r.as_ref().unwrap()).sum::<usize>(), 1);
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![10]);
    assert_eq!(status_of(&app, &buyer, &b).await, "CANCELLED");
}

#[tokio::test]
async fn shipped_orders_complete_by_themselves() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "b").await;
    let paid = paid_order(&app, &buyer, shop.items(&[(2, 1)]), "k").await;
    let id = paid["id"].clone();
    shipped(&app, &shop.admin, &paid["fulfillments"][0]["id"]).await;
    let svc = lib::auto_complete;
    assert_eq!(svc(&app.state, chrono::Utc::now()).await.unwrap(), 0);
    assert_eq!(
        svc(&app.state, chrono::Utc::now() + chrono::Duration::days(11))
            .await
            .unwrap(),
        1
    );
    assert_eq!(status_of(&app, &buyer, &id).await, "COMPLETED");
}

#[tokio::test]
async fn refunds_return_money_and_unshipped_stock() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "b").await;
    let id = placed(&app, &buyer, shop.items(&[(0, 2)]), "k").await["id"].clone();
    let v = request_refund(&app, &buyer, &id, "不想要了").await;
    assert_eq!(
        error_code(&v),
        "CONFLICT",
        "nothing to refund before payment"
    );
    demo_pay(&app, &buyer, &id).await;
    let v = request_refund(&app, &buyer, &id, "").await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "reason");
    let v = request_refund(&app, &buyer, &id, "不想要了").await;
    let refund = &v["data"]["requestRefund"];
    assert_eq!(refund["status"], "PENDING", "{v}");
    assert_eq!(refund["amountFen"], 6800);
    assert_eq!(refund["order"]["status"], "REFUNDING");
    let v = app
        .gql(Some(&buyer), APPROVE_REFUND, json!({ "id": refund["id"] }))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");
    let v = app
        .gql(
            Some(&shop.admin),
            APPROVE_REFUND,
            json!({ "id": refund["id"] }),
        )
        .await;
    assert_eq!(v["data"]["approveRefund"]["status"], "REFUNDED", "{v}");
    assert_eq!(v["data"]["approveRefund"]["order"]["status"], "REFUNDED");
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![10]);
    let v = app
        .gql(
            Some(&shop.admin),
            APPROVE_REFUND,
            json!({ "id": refund["id"] }),
        )
        .await;
    assert_eq!(error_code(&v), "CONFLICT");
}

#[tokio::test]
async fn orders_are_private() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let alice = app.customer_token("alice").await;
    let bob = app.customer_token("bob").await;
    save_address(&app, &alice).await;
    let id = placed(&app, &alice, shop.items(&[(2, 1)]), "k").await["id"].clone();
    let q = "query($id: ID!) { order(id: $id) { id totalFen } }";
    assert!(app.gql(Some(&bob), q, json!({ "id": id })).await["data"]["order"].is_null());
    assert_eq!(
        app.gql(Some(&shop.admin), q, json!({ "id": id })).await["data"]["order"]["totalFen"],
        1800
    );
    assert_eq!(
        error_code(&app.gql(None, q, json!({ "id": id })).await),
        "UNAUTHENTICATED"
    );
    let v = app.gql(Some(&bob), CANCEL_ORDER, json!({ "id": id })).await;
    assert_eq!(error_code(&v), "NOT_FOUND", "never someone else's order");
    cancel(&app, &alice, &id).await;
    let v = app
        .gql(Some(&bob), "{ myOrders { nodes { id } } }", json!({}))
        .await;
    assert!(
        v["data"]["myOrders"]["nodes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let v = app
        .gql(
            Some(&alice),
            "{ myOrders(status: CANCELLED) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["data"]["myOrders"]["nodes"][0]["id"], id);
    let v = app
        .gql(
            Some(&shop.supplier_tokens[0]),
            "{ myOrders { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");
    let v = app
        .gql(Some(&alice), "{ orders { nodes { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");
    let v = app
        .gql(
            Some(&alice),
            "{ supplierFulfillments { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");
    let v = app
        .gql(
            Some(&shop.admin),
            "{ orders(filter: {status: CANCELLED}) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["data"]["orders"]["nodes"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn order_history_pages_newest_first() {
    let app = spawn_app().await;
    let shop = shop(&app, 50).await;
    let buyer = new_buyer(&app, "b").await;
    let mut ids = Vec::new();
    for i in 0..7 {
        let order = placed(&app, &buyer, shop.items(&[(2, 1)]), &format!("k{i}")).await;
        ids.push(text(&order["id"]));
    }
    ids.reverse();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let v = app.gql(Some(&buyer), "query($a: String) { myOrders(first: 3, after: $a) { nodes { id } pageInfo { hasNextPage endCursor } } }", json!({ "a": after })).await;
        let page = &v["data"]["myOrders"];
        seen.extend(
            page["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_string()),
        );
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn bad_order_input_is_named() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = app.customer_token("b").await;
    let sku = shop.products[0].1[0].clone();
    let v = place(&app, &buyer, json!([{ "skuId": sku, "quantity": 1 }]), "k").await;
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "addressId",
        "no address yet: {v}"
    );
    save_address(&app, &buyer).await;
    let cases = [
        (json!([]), "items"),
        (
            json!([{ "skuId": sku, "quantity": 0 }]),
            "items[0].quantity",
        ),
        (
            json!([{ "skuId": sku, "quantity": 100 }]),
            "items[0].quantity",
        ),
        (
            json!([{ "skuId": sku, "quantity": 1 }, { "skuId": sku, "quantity": 1 }]),
            "items[1].skuId",
        ),
        (json!([{ "skuId": "abc", "quantity": 1 }]), "items[0].skuId"),
    ];
    for (items, field) in cases {
        let v = place(&app, &buyer, items, "k").await;
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
    }
    let v = place(
        &app,
        &buyer,
        json!([{ "skuId": "99999", "quantity": 1 }]),
        "k",
    )
    .await;
    assert_eq!(error_code(&v), "NOT_FOUND");
    let v = place(&app, &buyer, json!([{ "skuId": sku, "quantity": 11 }]), "k").await;
    assert_eq!(error_code(&v), "OUT_OF_STOCK");
    // In the cart before it goes off the shelf: it stays there, flagged.
    add_to_cart(&app, &buyer, &sku, 1).await;
    set_status(&app, &shop.admin, &shop.products[0].0, "OFF_SHELF").await;
    let v = place(&app, &buyer, json!([{ "skuId": sku, "quantity": 1 }]), "k").await;
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "items[0].skuId",
        "off shelf: {v}"
    );
    let v = place(&app, &buyer, shop.items(&[(1, 1)]), "").await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "idempotencyKey");
    let v = app
        .gql(Some(&buyer), "{ cart { items { available } } }", json!({}))
        .await;
    assert_eq!(v["data"]["cart"]["items"][0]["available"], false);
    let v = app
        .gql(Some(&buyer), ADD_TO_CART, json!({ "s": sku, "q": 100 }))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "quantity");
    let v = app
        .gql(
            Some(&buyer),
            "mutation { updateCartItem(skuId: \"99999\", quantity: 1) { items { quantity } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND");
    let v = app
        .gql(Some(&buyer), "mutation { saveAddress(input: {name: \"x\", phone: \"12345\", province: \"p\", city: \"c\", district: \"d\", detail: \"x\"}) { id } }", json!({}))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "phone");
    let v = app
        .gql(Some(&buyer), "mutation { saveAddress(input: {name: \"\", phone: \"13800138000\", province: \"p\", city: \"c\", district: \"d\", detail: \"x\"}) { id } }", json!({}))
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "name");
    let v = app
        .gql(
            Some(&shop.admin),
            "{ cart { items { quantity } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");
}

#[tokio::test]
async fn suppliers_sync_their_own_stock() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let sync = SYNC_SUPPLIER_STOCK;
    let v = app
        .gql(Some(&shop.supplier_tokens[0]), sync, json!({ "i": [{ "supplierSkuCode": "甲-1", "stock": 77, "costFen": 999 }, { "supplierSkuCode": "乙-1", "stock": 1 }, { "supplierSkuCode": "nope", "stock": 1 }] }))
        .await;
    assert_eq!(
        v["data"]["syncSupplierStock"],
        json!({ "updated": 1, "unknownCodes": ["乙-1", "nope"] }),
        "{v}"
    );
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![77]);
    assert_eq!(
        stock_of(&app, &shop.products[1].0).await,
        vec![10],
        "another supplier's code is unknown to it"
    );
    let v = app
        .gql(
            Some(&shop.admin),
            sync,
            json!({ "i": [{ "supplierSkuCode": "甲-1", "stock": 1 }] }),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");
    let v = app
        .gql(
            Some(&shop.supplier_tokens[0]),
            sync,
            json!({ "i": [{ "supplierSkuCode": "甲-1", "stock": -1 }] }),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "items[0].stock");
}

#[tokio::test]
async fn suppliers_hear_of_new_fulfillments_signed_and_retried() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::path};
    let hook = MockServer::start().await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&hook)
        .await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;

    // The receiver is on 127.0.0.1: admitted on purpose.
    let receiver = hook.address().to_string();
    let app = spawn_app_with(&[("WEBHOOK_ALLOWED_HOSTS", &receiver)]).await;
    let admin = app.admin_token().await;
    let cat = create_category(&app, &admin, "c", None).await;
    let p = create_product(&app, &admin, &cat, "代发", &[5000]).await;
    let own = create_product(&app, &admin, &cat, "自营", &[5000]).await;
    let supplier = create_supplier(
        &app,
        &admin,
        json!({ "name": "甲", "webhookUrl": format!("{}/hook", hook.uri()) }),
    )
    .await;
    let secret = text(&supplier["webhookSecret"]);
    let sid = supplier["supplier"]["id"].clone();
    link_sku(&app, &admin, &p["skus"][0]["id"], &sid, "JIA-9", 3000).await;
    let buyer = new_buyer(&app, "b").await;
    let paid = paid_order(&app, &buyer, json!([{ "skuId": p["skus"][0]["id"], "quantity": 2 }, { "skuId": own["skus"][0]["id"], "quantity": 1 }]), "k").await;
    let order_no = text(&paid["orderNo"]);
    let fid: i64 = paid["fulfillments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["supplier"]["id"] == sid)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // The first attempt goes out right after payment, and fails (HTTP 500).
    let webhook = lib::deliveries_of;
    let mut attempts = 0;
    for _ in 0..50 {
        attempts = webhook(&app.state, fid)
            .await
            .unwrap()
            .first()
            .map(|d| d.0.attempts)
            .unwrap_or(0);
        if attempts > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(attempts, 1);
    // Nothing is due before the back-off; after it, the retry succeeds.
    let now = chrono::Utc::now();
    assert_eq!(lib::deliver_due(&app.state, now).await.unwrap(), 0);
    assert_eq!(
        lib::deliver_due(&app.state, now + chrono::Duration::minutes(2))
            .await
            .unwrap(),
        1
    );
    let deliveries = webhook(&app.state, fid).await.unwrap();
    assert_eq!(
        deliveries.len(),
        1,
        "only the supplier's fulfillment has a webhook"
    );
    let (d, tries) = &deliveries[0];
    assert_eq!(d.status, "DELIVERED");
    assert_eq!(
        tries.iter().map(|a| a.status_code).collect::<Vec<_>>(),
        vec![Some(500), Some(200)]
    );

    let received = hook.received_requests().await.unwrap();
    assert_eq!(received.len(), 2);
    let req = &received[1];
    let body = String::from_utf8(req.body.clone()).unwrap();
    let ts: i64 = req
        .headers
        .get("x-siyu-timestamp")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let expected = {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{ts}.{body}").as_bytes());
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    };
    assert_eq!(
        req.headers
            .get("x-siyu-signature")
            .unwrap()
            .to_str()
            .unwrap(),
        expected
    );
    let event: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(event["event"], "fulfillment.created");
    assert_eq!(event["fulfillment"]["orderNo"], order_no.as_str());
    assert_eq!(
        event["fulfillment"]["lines"].as_array().unwrap().len(),
        1,
        "only its own lines: {event}"
    );
    assert_eq!(event["fulfillment"]["lines"][0]["supplierSkuCode"], "JIA-9");
    assert_eq!(event["fulfillment"]["lines"][0]["quantity"], 2);
    assert_eq!(
        event["fulfillment"]["shippingAddress"]["phone"],
        "13800138000"
    );
}

/// The supplier's webhook names the SKU code a line was bought under: an
/// order placed before the SKU was re-linked and paid after it still asks
/// for the old code; an order placed after asks for the new one.
#[tokio::test]
async fn a_webhook_names_the_code_the_line_was_bought_under() {
    use wiremock::{Mock, MockServer, ResponseTemplate, matchers::path};
    let hook = MockServer::start().await;
    Mock::given(path("/hook"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    let receiver = hook.address().to_string();
    let app = spawn_app_with(&[("WEBHOOK_ALLOWED_HOSTS", &receiver)]).await;
    let admin = app.admin_token().await;
    let cat = create_category(&app, &admin, "c", None).await;
    let p = create_product(&app, &admin, &cat, "代发", &[5000]).await;
    let sku = &p["skus"][0]["id"];
    let supplier = create_supplier(
        &app,
        &admin,
        json!({ "name": "甲", "webhookUrl": format!("{}/hook", hook.uri()) }),
    )
    .await;
    let sid = supplier["supplier"]["id"].clone();
    link_sku(&app, &admin, sku, &sid, "OLD-1", 3000).await;
    let buyer = new_buyer(&app, "b").await;
    let items = json!([{ "skuId": sku, "quantity": 1 }]);
    let before = placed(&app, &buyer, items.clone(), "before").await;
    link_sku(&app, &admin, sku, &sid, "NEW-2", 3000).await;
    let after = placed(&app, &buyer, items, "after").await;
    let mut codes = Vec::new();
    for order in [&before, &after] {
        let paid = demo_pay(&app, &buyer, &order["id"]).await;
        let fid: i64 = text(&paid["fulfillments"][0]["id"]).parse().unwrap();
        let deliveries = lib::deliveries_of(&app.state, fid).await.unwrap();
        assert_eq!(deliveries.len(), 1, "{paid}");
        let event: Value = serde_json::from_str(&deliveries[0].0.payload).unwrap();
        codes.push(event["fulfillment"]["lines"][0]["supplierSkuCode"].clone());
    }
    assert_eq!(codes, vec![json!("OLD-1"), json!("NEW-2")]);
}

#[tokio::test]
async fn a_rejected_refund_puts_the_order_back() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "b").await;
    let id = paid_order(&app, &buyer, shop.items(&[(2, 1)]), "k").await["id"].clone();
    let refund = refund_requested(&app, &buyer, &id).await["id"].clone();
    let reject = "mutation($id: ID!) { rejectRefund(refundId: $id, note: \"已发货\") { status order { status } } }";
    assert_eq!(
        error_code(&app.gql(Some(&buyer), reject, json!({ "id": refund })).await),
        "FORBIDDEN"
    );
    let v = app
        .gql(Some(&shop.admin), reject, json!({ "id": refund }))
        .await;
    assert_eq!(v["data"]["rejectRefund"]["status"], "REJECTED", "{v}");
    assert_eq!(v["data"]["rejectRefund"]["order"]["status"], "PAID");
    assert_eq!(
        error_code(
            &app.gql(Some(&shop.admin), reject, json!({ "id": refund }))
                .await
        ),
        "CONFLICT"
    );
    let v = app
        .gql(Some(&shop.admin), APPROVE_REFUND, json!({ "id": refund }))
        .await;
    assert_eq!(
        error_code(&v),
        "CONFLICT",
        "a rejected refund cannot be approved"
    );
    // The buyer may ask again.
    let v = request_refund(&app, &buyer, &id, "再想退").await;
    assert_eq!(v["data"]["requestRefund"]["status"], "PENDING", "{v}");
}

/// Places and pays an order of (product index, quantity) lines; returns its
/// id and its fulfillments by supplier name ("" for self-operated).
async fn paid_in_parts(
    app: &TestApp,
    shop: &Shop,
    buyer: &str,
    items: &[(usize, i64)],
    key: &str,
) -> (Value, std::collections::HashMap<String, Value>) {
    let paid = paid_order(app, buyer, shop.items(items), key).await;
    let parts = paid["fulfillments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["supplier"]["name"].as_str().unwrap_or("").to_string();
            (name, f["id"].clone())
        })
        .collect();
    (paid["id"].clone(), parts)
}

#[tokio::test]
async fn a_refund_calls_off_the_parts_not_yet_shipped() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let (supplier_a, supplier_b) = (&shop.supplier_tokens[0], &shop.supplier_tokens[1]);
    let buyer = new_buyer(&app, "b").await;
    let (id, parts) = paid_in_parts(&app, &shop, &buyer, &[(0, 2), (1, 1)], "k").await;
    shipped(&app, supplier_a, &parts["甲"]).await;
    let refund = refund_requested(&app, &buyer, &id).await["id"].clone();
    let v = ship(&app, supplier_b, &parts["乙"]).await;
    assert_eq!(
        error_code(&v),
        "CONFLICT",
        "nothing ships while a refund is asked for: {v}"
    );
    let v = app
        .gql(Some(&shop.admin), APPROVE_REFUND, json!({ "id": refund }))
        .await;
    assert_eq!(
        v["data"]["approveRefund"]["order"]["status"], "REFUNDED",
        "{v}"
    );
    assert_eq!(
        stock_of(&app, &shop.products[0].0).await,
        vec![8],
        "what shipped does not come back"
    );
    assert_eq!(
        stock_of(&app, &shop.products[1].0).await,
        vec![10],
        "what had not shipped does"
    );
    let v = app
        .gql(
            Some(supplier_b),
            "{ supplierFulfillments { nodes { id status } } }",
            json!({}),
        )
        .await;
    let nodes = &v["data"]["supplierFulfillments"]["nodes"];
    assert_eq!(nodes[0]["id"], parts["乙"], "{v}");
    assert_eq!(
        nodes[0]["status"], "CANCELLED",
        "the supplier sees it called off"
    );
    let v = app
        .gql(
            Some(supplier_b),
            "{ supplierFulfillments(status: PENDING) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["data"]["supplierFulfillments"]["nodes"], json!([]));
    let v = ship(&app, supplier_b, &parts["乙"]).await;
    assert_eq!(error_code(&v), "CONFLICT");
}

#[tokio::test]
async fn the_last_parts_shipped_at_once_ship_the_order() {
    let app = spawn_app().await;
    let shop = shop(&app, 50).await;
    let buyer = new_buyer(&app, "b").await;
    for round in 0..5 {
        let (id, parts) =
            paid_in_parts(&app, &shop, &buyer, &[(0, 1), (1, 1)], &format!("k{round}")).await;
        let (a, b) = tokio::join!(
            ship(&app, &shop.supplier_tokens[0], &parts["甲"]),
            ship(&app, &shop.supplier_tokens[1], &parts["乙"]),
        );
        assert_eq!(a["data"]["shipFulfillment"]["status"], "SHIPPED", "{a}");
        assert_eq!(b["data"]["shipFulfillment"]["status"], "SHIPPED", "{b}");
        assert_eq!(
            status_of(&app, &buyer, &id).await,
            "SHIPPED",
            "round {round}"
        );
    }
}

#[tokio::test]
async fn addresses_are_kept_changed_and_deleted_with_one_default() {
    let app = spawn_app().await;
    let buyer = app.customer_token("b").await;
    let save = "mutation($i: AddressInput!) { saveAddress(input: $i) { id name phone isDefault } }";
    let input = |name: &str, default: Option<bool>| {
        let mut i = json!({ "name": name, "phone": "+86 138-0013-8000", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路 1 号" });
        if let Some(d) = default {
            i["isDefault"] = json!(d);
        }
        i
    };
    let mine = || async {
        let v = app
            .gql(
                Some(&buyer),
                "{ myAddresses { id name isDefault } }",
                json!({}),
            )
            .await;
        v["data"]["myAddresses"].as_array().unwrap().clone()
    };
    let v = app
        .gql(Some(&buyer), save, json!({ "i": input("甲", Some(false)) }))
        .await;
    let a = v["data"]["saveAddress"].clone();
    assert_eq!(
        a["isDefault"], true,
        "the first address is the default: {v}"
    );
    assert_eq!(a["phone"], "13800138000", "stored normalised");
    let v = app
        .gql(Some(&buyer), save, json!({ "i": input("乙", None) }))
        .await;
    let b = v["data"]["saveAddress"].clone();
    assert_eq!(b["isDefault"], false);

    // Changing an address keeps its id; making it the default unsets the other.
    let mut change = input("乙二", Some(true));
    change["id"] = b["id"].clone();
    let v = app.gql(Some(&buyer), save, json!({ "i": change })).await;
    assert_eq!(v["data"]["saveAddress"]["id"], b["id"], "{v}");
    assert_eq!(v["data"]["saveAddress"]["name"], "乙二");
    let list = mine().await;
    assert_eq!(list.len(), 2);
    assert_eq!(list[0]["id"], b["id"], "the default first");
    assert_eq!(list[0]["isDefault"], true);
    assert_eq!(list[1]["isDefault"], false);

    // Deleting the default hands it to the one left.
    let delete = "mutation($id: ID!) { deleteAddress(id: $id) }";
    let v = app
        .gql(Some(&buyer), delete, json!({ "id": b["id"] }))
        .await;
    assert_eq!(v["data"]["deleteAddress"], true, "{v}");
    let list = mine().await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], a["id"]);
    assert_eq!(list[0]["isDefault"], true);

    // Nobody else's addresses can be changed or deleted, and bad ids are named.
    let other = app.customer_token("mallory").await;
    let mut steal = input("贼", None);
    steal["id"] = a["id"].clone();
    let v = app.gql(Some(&other), save, json!({ "i": steal })).await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let v = app
        .gql(Some(&other), delete, json!({ "id": a["id"] }))
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND");
    let v = app.gql(Some(&buyer), delete, json!({ "id": "nope" })).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT");
    assert_eq!(v["errors"][0]["extensions"]["field"], "id");
    let mut bad = input("甲", None);
    bad["id"] = json!("nope");
    let v = app.gql(Some(&buyer), save, json!({ "i": bad })).await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "input.id", "{v}");
    let v = app.gql(None, delete, json!({ "id": a["id"] })).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED");
    assert_eq!(mine().await.len(), 1, "nothing was lost");
}

#[tokio::test]
async fn two_first_addresses_saved_at_once_leave_one_default() {
    let app = spawn_app().await;
    let buyer = app.customer_token("b").await;
    let save = "mutation($i: AddressInput!) { saveAddress(input: $i) { id } }";
    let calls = (0..10).map(|i| {
        app.gql(
            Some(&buyer),
            save,
            json!({ "i": { "name": format!("收件人{i}"), "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路 1 号" } }),
        )
    });
    for v in futures_util::future::join_all(calls).await {
        assert!(v["errors"].is_null(), "{v}");
    }
    let v = app
        .gql(Some(&buyer), "{ myAddresses { isDefault } }", json!({}))
        .await;
    let defaults = v["data"]["myAddresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["isDefault"] == true)
        .count();
    assert_eq!(defaults, 1, "{v}");
}

#[tokio::test]
async fn a_supplier_stock_sync_leaves_out_what_unpaid_orders_hold() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = new_buyer(&app, "b").await;
    let unpaid = placed(&app, &buyer, shop.items(&[(0, 3)]), "unpaid").await["id"].clone();
    let paid = paid_order(&app, &buyer, shop.items(&[(0, 2)]), "paid").await;
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![5]);
    // The supplier has received the paid order's part (it acknowledged it),
    // so its count of 20 is what it can ship besides; the unpaid order's 3
    // are not for sale again.
    let data = app
        .gql_ok(
            Some(&shop.supplier_tokens[0]),
            "mutation($ids: [ID!]!) { acknowledgeFulfillments(ids: $ids) }",
            json!({ "ids": [paid["fulfillments"][0]["id"]] }),
        )
        .await;
    assert_eq!(data["acknowledgeFulfillments"], 1, "{data}");
    let sync = SYNC_SUPPLIER_STOCK;
    let v = app
        .gql(
            Some(&shop.supplier_tokens[0]),
            sync,
            json!({ "i": [{ "supplierSkuCode": "甲-1", "stock": 20 }] }),
        )
        .await;
    assert_eq!(v["data"]["syncSupplierStock"]["updated"], 1, "{v}");
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![17]);
    // Cancelled, the unpaid order gives its 3 back: 20 again, never 23.
    cancel(&app, &buyer, &unpaid).await;
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![20]);
    // A count below what unpaid orders hold sets no negative stock.
    placed(&app, &buyer, shop.items(&[(0, 5)]), "again").await;
    let data = app
        .gql_ok(
            Some(&shop.supplier_tokens[0]),
            sync,
            json!({ "i": [{ "supplierSkuCode": "甲-1", "stock": 2 }] }),
        )
        .await;
    assert_eq!(data["syncSupplierStock"]["updated"], 1, "{data}");
    assert_eq!(stock_of(&app, &shop.products[0].0).await, vec![0]);
}
