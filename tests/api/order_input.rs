//! Bad input to the order operations, argument by argument: each refusal is
//! a GraphQL error with the right `extensions.code` (and `extensions.field`
//! where the server names one), and nothing was written. Also the ADMIN
//! order filters, by what they return.
use serde_json::{Value, json};

use crate::{
    fixtures::{
        ADD_TO_CART, CANCEL_ORDER, CONFIRM_RECEIPT, DEMO_PAY, PLACE_ORDER, SHIP,
        SYNC_SUPPLIER_STOCK, Shop, add_to_cart, customer, demo_pay, placed, request_refund,
        save_address, shop, status_of, stock_of, text,
    },
    helpers::{TestApp, error_code, spawn_app},
};

/// Alice and Bob, each with an address: (Alice's token, her address id,
/// Bob's token).
async fn alice_and_bob(app: &TestApp) -> (String, String, String) {
    let alice = customer(app, "alice").await.token;
    let bob = customer(app, "bob").await.token;
    let address = save_address(app, &alice).await;
    save_address(app, &bob).await;
    (alice, address, bob)
}

/// The ids of a page of orders (`myOrders` or `orders`), from `v["data"][list]`.
fn ids_of(v: &Value, list: &str) -> Vec<String> {
    v["data"][list]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect()
}

async fn my_order_ids(app: &TestApp, token: &str) -> Vec<String> {
    let v = app
        .gql(Some(token), "{ myOrders { nodes { id } } }", json!({}))
        .await;
    ids_of(&v, "myOrders")
}

/// Asserts a refusal as `BAD_USER_INPUT` naming `field`.
#[track_caller]
fn assert_bad(v: &Value, field: &str, case: &str) {
    assert_eq!(
        v["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{case}: {v}"
    );
    assert_eq!(v["errors"][0]["extensions"]["field"], field, "{case}: {v}");
}

/// Asserts a refusal with `code`.
#[track_caller]
fn assert_code(v: &Value, code: &str, case: &str) {
    assert_eq!(v["errors"][0]["extensions"]["code"], code, "{case}: {v}");
}

/// Places an order of (product index, quantity) lines for `token`; returns its id.
async fn placed_id(
    app: &TestApp,
    shop: &Shop,
    token: &str,
    items: &[(usize, i64)],
    key: &str,
) -> String {
    text(&placed(app, token, shop.items(items), key).await["id"])
}

/// Pays an order with demoPay; returns its fulfillment ids.
async fn pay(app: &TestApp, token: &str, order: &str) -> Vec<String> {
    let paid = demo_pay(app, token, order).await;
    paid["fulfillments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| text(&f["id"]))
        .collect()
}

const PREVIEW: &str =
    "query($i: OrderInput!) { previewOrder(input: $i) { itemsFen totalFen payableFen } }";

#[tokio::test]
async fn preview_order_names_each_bad_argument() {
    let app = spawn_app().await;
    let shop = shop(&app, 100).await;
    let buyer = customer(&app, "b").await.token;
    save_address(&app, &buyer).await;
    let sku = shop.products[0].1[0].clone();
    let one = json!([{ "skuId": sku, "quantity": 1 }]);
    let long_remark = "备".repeat(201);
    let bad = [
        ("no lines", json!({ "items": [] }), "items"),
        (
            "quantity 0",
            json!({ "items": [{ "skuId": sku, "quantity": 0 }] }),
            "items[0].quantity",
        ),
        (
            "quantity 100",
            json!({ "items": [{ "skuId": sku, "quantity": 100 }] }),
            "items[0].quantity",
        ),
        (
            "negative quantity on the second line",
            json!({ "items": [{ "skuId": sku, "quantity": 1 }, { "skuId": shop.products[1].1[0], "quantity": -1 }] }),
            "items[1].quantity",
        ),
        (
            "a skuId that is no id",
            json!({ "items": [{ "skuId": "abc", "quantity": 1 }] }),
            "items[0].skuId",
        ),
        (
            "skuId 0",
            json!({ "items": [{ "skuId": "0", "quantity": 1 }] }),
            "items[0].skuId",
        ),
        (
            "a remark of 201 characters",
            json!({ "items": one, "remark": long_remark }),
            "remark",
        ),
        (
            "an addressId that is no id",
            json!({ "items": one, "addressId": "home" }),
            "addressId",
        ),
        (
            "a couponId that is no id",
            json!({ "items": one, "couponId": "abc" }),
            "couponId",
        ),
    ];
    for (case, input, field) in bad {
        let v = app.gql(Some(&buyer), PREVIEW, json!({ "i": input })).await;
        assert_bad(&v, field, case);
        assert!(v["data"].is_null(), "{case}: {v}");
    }
    let v = app
        .gql(
            Some(&buyer),
            PREVIEW,
            json!({ "i": { "items": [{ "skuId": "99999", "quantity": 1 }] } }),
        )
        .await;
    assert_code(&v, "NOT_FOUND", "unknown SKU");
    let v = app
        .gql(
            Some(&buyer),
            PREVIEW,
            json!({ "i": { "items": one, "couponId": "1" } }),
        )
        .await;
    assert_code(&v, "COUPON_INVALID", "a coupon");
    let v = app
        .gql(None, PREVIEW, json!({ "i": { "items": one } }))
        .await;
    assert_code(&v, "UNAUTHENTICATED", "no token");
    let v = app
        .gql(Some(&shop.admin), PREVIEW, json!({ "i": { "items": one } }))
        .await;
    assert_code(&v, "FORBIDDEN", "ADMIN is no buyer");

    // The bounds themselves are accepted: 99 units (in stock), a remark of
    // 200 characters.
    let v = app
        .gql(
            Some(&buyer),
            PREVIEW,
            json!({ "i": { "items": [{ "skuId": shop.products[2].1[0], "quantity": 99 }], "remark": "备".repeat(200) } }),
        )
        .await;
    assert_eq!(v["data"]["previewOrder"]["itemsFen"], 99_000, "{v}");
    // A preview takes no stock and places nothing.
    assert_eq!(stock_of(&app, &shop.products[2].0).await[0], 100);
    assert!(my_order_ids(&app, &buyer).await.is_empty());
}

/// `previewOrder` refuses what `placeOrder` would: an address that is not
/// the caller's, more than the stock holds.
#[tokio::test]
async fn preview_order_refuses_what_placing_would() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let (_, alices, bob) = alice_and_bob(&app).await;
    let items = shop.items(&[(0, 1)]);
    for (case, address) in [
        ("another customer's address", alices.as_str()),
        ("an unknown address", "99999"),
    ] {
        let v = app
            .gql(
                Some(&bob),
                PREVIEW,
                json!({ "i": { "items": items, "addressId": address } }),
            )
            .await;
        assert_code(&v, "NOT_FOUND", case);
    }
    let v = app
        .gql(
            Some(&bob),
            PREVIEW,
            json!({ "i": { "items": [{ "skuId": shop.products[0].1[0], "quantity": 11 }] } }),
        )
        .await;
    assert_code(&v, "OUT_OF_STOCK", "more than the 10 in stock");
}

#[tokio::test]
async fn refused_orders_take_no_stock_and_leave_no_order() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let (alice, alices, bob) = alice_and_bob(&app).await;
    let sku = shop.products[0].1[0].clone();
    // The SKU waits in the cart: a refused order must leave it there.
    add_to_cart(&app, &bob, &sku, 2).await;
    let order = |extra: Value| {
        let mut input = json!({ "items": [{ "skuId": sku, "quantity": 2 }] });
        for (k, val) in extra.as_object().unwrap() {
            input[k] = val.clone();
        }
        input
    };
    let placing = PLACE_ORDER;
    let key = "key-1";
    let cases: [(&str, Value, String, &str, Option<&str>); 7] = [
        (
            "a remark of 201 characters",
            order(json!({ "remark": "x".repeat(201) })),
            key.into(),
            "BAD_USER_INPUT",
            Some("remark"),
        ),
        (
            "another customer's address",
            order(json!({ "addressId": alices })),
            key.into(),
            "NOT_FOUND",
            None,
        ),
        (
            "an unknown address",
            order(json!({ "addressId": "99999" })),
            key.into(),
            "NOT_FOUND",
            None,
        ),
        (
            "a coupon",
            order(json!({ "couponId": "1" })),
            key.into(),
            "COUPON_INVALID",
            None,
        ),
        (
            "a blank key",
            order(json!({})),
            "   ".into(),
            "BAD_USER_INPUT",
            Some("idempotencyKey"),
        ),
        (
            "a key of 65 characters",
            order(json!({})),
            "k".repeat(65),
            "BAD_USER_INPUT",
            Some("idempotencyKey"),
        ),
        (
            "a remark of 201 characters, paying from the balance",
            order(json!({ "remark": "x".repeat(201), "useBalance": true })),
            key.into(),
            "BAD_USER_INPUT",
            Some("remark"),
        ),
    ];
    for (case, input, k, code, field) in cases {
        let v = app
            .gql(Some(&bob), placing, json!({ "i": input, "k": k }))
            .await;
        assert_code(&v, code, case);
        if let Some(field) = field {
            assert_eq!(v["errors"][0]["extensions"]["field"], field, "{case}: {v}");
        }
        assert!(v["data"].is_null(), "{case}: {v}");
        assert_eq!(
            stock_of(&app, &shop.products[0].0).await[0],
            10,
            "{case}: stock"
        );
        assert!(
            my_order_ids(&app, &bob).await.is_empty(),
            "{case}: an order"
        );
    }
    let v = app
        .gql(Some(&bob), "{ cart { items { quantity } } }", json!({}))
        .await;
    assert_eq!(v["data"]["cart"]["items"][0]["quantity"], 2, "{v}");
    // Alice's address and orders are untouched by Bob's try.
    assert!(my_order_ids(&app, &alice).await.is_empty());
    let v = app
        .gql(Some(&alice), "{ myAddresses { id } }", json!({}))
        .await;
    assert_eq!(v["data"]["myAddresses"], json!([{ "id": alices }]));

    // No refusal used up the key: it places the order now, and a key of
    // exactly 64 characters is accepted.
    let v = app
        .gql(
            Some(&bob),
            placing,
            json!({ "i": order(json!({})), "k": key }),
        )
        .await;
    assert_eq!(
        v["data"]["placeOrder"]["order"]["status"], "PENDING_PAYMENT",
        "{v}"
    );
    let v = app
        .gql(
            Some(&bob),
            placing,
            json!({ "i": { "items": [{ "skuId": shop.products[2].1[0], "quantity": 1 }], "remark": "x".repeat(200) }, "k": "k".repeat(64) }),
        )
        .await;
    assert_eq!(
        v["data"]["placeOrder"]["order"]["status"], "PENDING_PAYMENT",
        "{v}"
    );
    assert_eq!(stock_of(&app, &shop.products[0].0).await[0], 8);
    assert_eq!(my_order_ids(&app, &bob).await.len(), 2);
}

#[tokio::test]
async fn order_operations_refuse_bad_ids_strangers_and_anonymous() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let (alice, _, bob) = alice_and_bob(&app).await;
    // Alice's orders, each in a state where its operation would succeed for her.
    let unpaid = placed_id(&app, &shop, &alice, &[(2, 3)], "u").await;
    let paid = placed_id(&app, &shop, &alice, &[(2, 1)], "p").await;
    pay(&app, &alice, &paid).await;
    let shipped = placed_id(&app, &shop, &alice, &[(2, 1)], "s").await;
    let parts = pay(&app, &alice, &shipped).await;
    crate::fixtures::shipped(&app, &shop.admin, &parts[0]).await;
    assert_eq!(stock_of(&app, &shop.products[2].0).await[0], 5);

    let ops = [
        ("cancelOrder", CANCEL_ORDER, "id", &unpaid),
        ("demoPay", DEMO_PAY, "orderId", &unpaid),
        (
            "payOrder",
            "mutation($id: ID!) { payOrder(id: $id) { order { id status } } }",
            "id",
            &unpaid,
        ),
        ("confirmReceipt", CONFIRM_RECEIPT, "id", &shipped),
        (
            "requestRefund",
            "mutation($id: ID!) { requestRefund(orderId: $id, reason: \"不想要了\") { id status } }",
            "orderId",
            &paid,
        ),
    ];
    for (op, query, field, target) in ops {
        for bad in ["nope", "0", "-1", ""] {
            for who in [&alice, &bob] {
                let v = app.gql(Some(who), query, json!({ "id": bad })).await;
                assert_bad(&v, field, &format!("{op}({bad:?})"));
            }
        }
        let v = app.gql(Some(&bob), query, json!({ "id": target })).await;
        assert_code(
            &v,
            "NOT_FOUND",
            &format!("{op} on another customer's order"),
        );
        let v = app.gql(Some(&bob), query, json!({ "id": "99999" })).await;
        assert_code(&v, "NOT_FOUND", &format!("{op} on an unknown order"));
        let v = app.gql(None, query, json!({ "id": target })).await;
        assert_code(&v, "UNAUTHENTICATED", &format!("{op} without a token"));
        let v = app
            .gql(Some("not-a-token"), query, json!({ "id": target }))
            .await;
        assert_code(&v, "UNAUTHENTICATED", &format!("{op} with a bad token"));
        let v = app
            .gql(Some(&shop.admin), query, json!({ "id": target }))
            .await;
        assert_code(&v, "FORBIDDEN", &format!("{op} by ADMIN"));
        let v = app
            .gql(
                Some(&shop.supplier_tokens[0]),
                query,
                json!({ "id": target }),
            )
            .await;
        assert_code(&v, "FORBIDDEN", &format!("{op} by a SUPPLIER"));
    }

    // Nothing moved: statuses, stock, refunds.
    assert_eq!(status_of(&app, &alice, &unpaid).await, "PENDING_PAYMENT");
    assert_eq!(status_of(&app, &alice, &paid).await, "PAID");
    assert_eq!(status_of(&app, &alice, &shipped).await, "SHIPPED");
    assert_eq!(stock_of(&app, &shop.products[2].0).await[0], 5);
    assert!(my_order_ids(&app, &bob).await.is_empty());

    // The same operations on the same orders work for their buyer.
    let v = app
        .gql(
            Some(&alice),
            "mutation($id: ID!) { payOrder(id: $id) { order { id status } } }",
            json!({ "id": unpaid }),
        )
        .await;
    assert_eq!(
        v["data"]["payOrder"]["order"]["status"], "PENDING_PAYMENT",
        "{v}"
    );
    let v = app
        .gql(Some(&alice), CANCEL_ORDER, json!({ "id": unpaid }))
        .await;
    assert_eq!(v["data"]["cancelOrder"]["status"], "CANCELLED", "{v}");
    assert_eq!(stock_of(&app, &shop.products[2].0).await[0], 8);
    let v = app
        .gql(Some(&alice), CONFIRM_RECEIPT, json!({ "id": shipped }))
        .await;
    assert_eq!(v["data"]["confirmReceipt"]["status"], "COMPLETED", "{v}");
    let v = request_refund(&app, &alice, &paid, "不想要了").await;
    assert_eq!(v["data"]["requestRefund"]["status"], "PENDING", "{v}");
}

#[tokio::test]
async fn the_cart_refuses_bad_quantities_and_ids() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = customer(&app, "b").await.token;
    let add = ADD_TO_CART;
    for q in [0, -1, 100] {
        let v = app
            .gql(
                Some(&buyer),
                add,
                json!({ "s": shop.products[0].1[0], "q": q }),
            )
            .await;
        assert_bad(&v, "quantity", &format!("addToCart quantity {q}"));
    }
    let v = app
        .gql(Some(&buyer), add, json!({ "s": "abc", "q": 1 }))
        .await;
    assert_bad(&v, "skuId", "addToCart of a skuId that is no id");
    let v = app
        .gql(Some(&buyer), add, json!({ "s": "99999", "q": 1 }))
        .await;
    assert_code(&v, "NOT_FOUND", "addToCart of an unknown SKU");
    let v = app
        .gql(None, add, json!({ "s": shop.products[0].1[0], "q": 1 }))
        .await;
    assert_code(&v, "UNAUTHENTICATED", "addToCart without a token");
    let cart = "{ cart { items { quantity sku { id } } } }";
    let v = app.gql(Some(&buyer), cart, json!({})).await;
    assert_eq!(v["data"]["cart"]["items"], json!([]), "nothing added: {v}");

    // 99 is the most a line holds.
    let v = app
        .gql(
            Some(&buyer),
            add,
            json!({ "s": shop.products[0].1[0], "q": 99 }),
        )
        .await;
    assert_eq!(v["data"]["addToCart"]["items"][0]["quantity"], 99, "{v}");
    let v = app
        .gql(
            Some(&buyer),
            add,
            json!({ "s": shop.products[1].1[0], "q": 1 }),
        )
        .await;
    assert!(v["errors"].is_null(), "{v}");

    let remove = "mutation($s: [ID!]!) { removeFromCart(skuIds: $s) { items { quantity } } }";
    for (ids, field) in [
        (json!(["abc"]), "skuIds[0]"),
        (json!([shop.products[0].1[0], "nope"]), "skuIds[1]"),
        (json!(["-5"]), "skuIds[0]"),
    ] {
        let v = app.gql(Some(&buyer), remove, json!({ "s": ids })).await;
        assert_bad(&v, field, &format!("removeFromCart {ids}"));
    }
    let v = app
        .gql(None, remove, json!({ "s": [shop.products[0].1[0]] }))
        .await;
    assert_code(&v, "UNAUTHENTICATED", "removeFromCart without a token");
    // A refused removal removed nothing, not even its good ids.
    let v = app.gql(Some(&buyer), cart, json!({})).await;
    assert_eq!(
        v["data"]["cart"]["items"].as_array().map(Vec::len),
        Some(2),
        "{v}"
    );
    let update = "mutation($s: ID!, $q: Int!) { updateCartItem(skuId: $s, quantity: $q) { items { quantity } } }";
    for q in [0, 100] {
        let v = app
            .gql(
                Some(&buyer),
                update,
                json!({ "s": shop.products[0].1[0], "q": q }),
            )
            .await;
        assert_bad(&v, "quantity", &format!("updateCartItem quantity {q}"));
    }
    let v = app.gql(Some(&buyer), cart, json!({})).await;
    let quantities: Vec<i64> = v["data"]["cart"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["sku"]["id"] == shop.products[0].1[0].as_str())
        .map(|i| i["quantity"].as_i64().unwrap())
        .collect();
    assert_eq!(quantities, vec![99], "{v}");
}

#[tokio::test]
async fn order_lists_refuse_bad_pages_and_the_wrong_role() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = customer(&app, "b").await.token;
    save_address(&app, &buyer).await;
    let id = placed_id(&app, &shop, &buyer, &[(2, 1)], "k").await;
    let lists = [
        (
            "myOrders",
            "query($f: Int, $a: String) { myOrders(first: $f, after: $a) { nodes { id } } }",
            &buyer,
        ),
        (
            "orders",
            "query($f: Int, $a: String) { orders(first: $f, after: $a) { nodes { id } } }",
            &shop.admin,
        ),
    ];
    // A cursor of something that is no order id: base64url of `"abc"`.
    let foreign_cursor = "ImFiYyI";
    for (list, query, token) in lists {
        for first in [0, -1, 101] {
            let v = app.gql(Some(token), query, json!({ "f": first })).await;
            assert_bad(&v, "first", &format!("{list}(first: {first})"));
        }
        for after in ["garbage", "!!", foreign_cursor] {
            let v = app.gql(Some(token), query, json!({ "a": after })).await;
            assert_bad(&v, "after", &format!("{list}(after: {after:?})"));
        }
        let v = app.gql(None, query, json!({})).await;
        assert_code(&v, "UNAUTHENTICATED", &format!("{list} without a token"));
        // The bounds are accepted.
        for first in [1, 100] {
            let v = app.gql(Some(token), query, json!({ "f": first })).await;
            assert_eq!(ids_of(&v, list), vec![id.clone()], "{list}(first: {first})");
        }
    }
    let orders = lists[1].1;
    let v = app.gql(Some(&buyer), orders, json!({})).await;
    assert_code(&v, "FORBIDDEN", "orders as a CUSTOMER");
    let v = app
        .gql(Some(&shop.supplier_tokens[0]), orders, json!({}))
        .await;
    assert_code(&v, "FORBIDDEN", "orders as a SUPPLIER");
    let v = app.gql(Some(&shop.admin), lists[0].1, json!({})).await;
    assert_code(&v, "FORBIDDEN", "myOrders as ADMIN");
}

#[tokio::test]
async fn admin_order_filters_select_by_customer_supplier_and_date() {
    let app = spawn_app().await;
    let shop = shop(&app, 50).await;
    let alice = customer(&app, "alice").await;
    let bob = customer(&app, "bob").await;
    let (alice, alice_id, bob, bob_id) = (alice.token, alice.id, bob.token, bob.id);
    save_address(&app, &alice).await;
    save_address(&app, &bob).await;
    let (jia, yi) = (shop.supplier_ids[0].clone(), shop.supplier_ids[1].clone());
    let pause = || tokio::time::sleep(std::time::Duration::from_millis(20));
    // a: Alice, 甲 and self-operated, paid.
    let a = placed_id(&app, &shop, &alice, &[(0, 1), (2, 1)], "a").await;
    pay(&app, &alice, &a).await;
    pause().await;
    // b: Bob, 乙, paid.
    let b = placed_id(&app, &shop, &bob, &[(1, 1)], "b").await;
    pay(&app, &bob, &b).await;
    pause().await;
    // c: Alice, self-operated, paid.
    let c = placed_id(&app, &shop, &alice, &[(2, 2)], "c").await;
    pay(&app, &alice, &c).await;
    pause().await;
    // d: Bob, 甲, unpaid: no fulfillment yet.
    let d = placed_id(&app, &shop, &bob, &[(0, 1)], "d").await;

    let list =
        "query($f: OrderFilter) { orders(filter: $f, first: 100) { nodes { id createdAt } } }";
    let orders = |filter: Value| {
        let app = &app;
        let admin = shop.admin.clone();
        async move {
            let v = app.gql(Some(&admin), list, json!({ "f": filter })).await;
            assert!(v["errors"].is_null(), "{filter}: {v}");
            ids_of(&v, "orders")
        }
    };
    let all = orders(json!(null)).await;
    assert_eq!(all, vec![d.clone(), c.clone(), b.clone(), a.clone()]);

    // By customer.
    assert_eq!(
        orders(json!({ "customerId": alice_id })).await,
        vec![c.clone(), a.clone()]
    );
    assert_eq!(
        orders(json!({ "customerId": bob_id })).await,
        vec![d.clone(), b.clone()]
    );
    // By supplier: orders with a fulfillment by it (d is unpaid: none yet).
    assert_eq!(orders(json!({ "supplierId": jia })).await, vec![a.clone()]);
    assert_eq!(orders(json!({ "supplierId": yi })).await, vec![b.clone()]);
    assert_eq!(
        orders(json!({ "supplierId": jia, "customerId": bob_id })).await,
        Vec::<String>::new(),
        "filters combine"
    );
    assert_eq!(
        orders(json!({ "customerId": "99999" })).await,
        Vec::<String>::new()
    );

    // By date: `from` is inclusive, `to` exclusive, both on createdAt.
    let v = app.gql(Some(&shop.admin), list, json!({})).await;
    let created = |id: &str| -> String {
        v["data"]["orders"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == id)
            .unwrap()["createdAt"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (at_b, at_c, at_d) = (created(&b), created(&c), created(&d));
    assert_eq!(
        orders(json!({ "from": at_b, "to": at_d })).await,
        vec![c.clone(), b.clone()]
    );
    assert_eq!(
        orders(json!({ "from": at_c })).await,
        vec![d.clone(), c.clone()]
    );
    assert_eq!(orders(json!({ "to": at_b })).await, vec![a.clone()]);
    assert_eq!(
        orders(json!({ "from": at_b, "to": at_c, "customerId": alice_id })).await,
        Vec::<String>::new(),
        "b is Bob's"
    );
    assert_eq!(
        orders(json!({ "from": "2000-01-01T00:00:00Z", "to": "2000-01-02T00:00:00Z" })).await,
        Vec::<String>::new()
    );
    assert_eq!(
        orders(json!({ "from": "2000-01-01T00:00:00Z", "to": "2999-01-01T00:00:00Z" })).await,
        all
    );
    assert_eq!(
        orders(json!({ "from": at_d, "to": at_b })).await,
        Vec::<String>::new(),
        "from after to"
    );

    // A bad filter is named, not ignored.
    for (filter, field) in [
        (json!({ "customerId": "alice" }), Some("filter.customerId")),
        (json!({ "supplierId": "0" }), Some("filter.supplierId")),
        (json!({ "from": "yesterday" }), None),
    ] {
        let v = app
            .gql(Some(&shop.admin), list, json!({ "f": filter }))
            .await;
        assert_eq!(error_code(&v), "BAD_USER_INPUT", "{filter}: {v}");
        if let Some(field) = field {
            assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
        }
    }
}

#[tokio::test]
async fn ship_fulfillment_names_bad_arguments_and_refuses_strangers() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let buyer = customer(&app, "b").await.token;
    save_address(&app, &buyer).await;
    let order = placed_id(&app, &shop, &buyer, &[(0, 1)], "k").await;
    let parts = pay(&app, &buyer, &order).await;
    assert_eq!(parts.len(), 1);
    let part = &parts[0];
    let (jia, yi) = (&shop.supplier_tokens[0], &shop.supplier_tokens[1]);
    let ship = SHIP;
    let bad = [
        (String::new(), String::from("SF1"), "carrier"),
        ("   ".into(), "SF1".into(), "carrier"),
        ("顺".repeat(33), "SF1".into(), "carrier"),
        ("顺丰".into(), String::new(), "trackingNo"),
        ("顺丰".into(), "  ".into(), "trackingNo"),
        ("顺丰".into(), "1".repeat(65), "trackingNo"),
    ];
    for (carrier, tracking, field) in bad {
        for who in [jia, &shop.admin] {
            let v = app
                .gql(
                    Some(who),
                    ship,
                    json!({ "id": part, "c": carrier, "t": tracking }),
                )
                .await;
            assert_bad(
                &v,
                field,
                &format!("carrier {carrier:?}, trackingNo {tracking:?}"),
            );
        }
    }
    let good = |id: &str| json!({ "id": id, "c": "顺丰", "t": "SF1" });
    let v = app.gql(Some(jia), ship, good("nope")).await;
    assert_bad(&v, "id", "an id that is no id");
    let v = app.gql(Some(jia), ship, good("99999")).await;
    assert_code(&v, "NOT_FOUND", "an unknown fulfillment");
    let v = app.gql(Some(yi), ship, good(part)).await;
    assert_code(&v, "NOT_FOUND", "another supplier's fulfillment");
    let v = app.gql(Some(&buyer), ship, good(part)).await;
    assert_code(&v, "FORBIDDEN", "a CUSTOMER");
    let v = app.gql(None, ship, good(part)).await;
    assert_code(&v, "UNAUTHENTICATED", "no token");

    // Nothing shipped.
    let v = app
        .gql(
            Some(jia),
            "{ supplierFulfillments { nodes { id status carrier trackingNo } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v["data"]["supplierFulfillments"]["nodes"],
        json!([{ "id": part, "status": "PENDING", "carrier": null, "trackingNo": null }]),
        "{v}"
    );
    assert_eq!(status_of(&app, &buyer, &order).await, "PAID");

    // A carrier of 32 characters and a number of 64 are accepted (trimmed).
    let carrier = "顺".repeat(32);
    let tracking = "1".repeat(64);
    let v = app
        .gql(
            Some(jia),
            ship,
            json!({ "id": part, "c": format!(" {carrier} "), "t": tracking }),
        )
        .await;
    assert_eq!(
        v["data"]["shipFulfillment"],
        json!({ "status": "SHIPPED", "carrier": carrier, "trackingNo": tracking }),
        "{v}"
    );
}

#[tokio::test]
async fn supplier_stock_sync_takes_1_to_500_items() {
    let app = spawn_app().await;
    let shop = shop(&app, 10).await;
    let jia = &shop.supplier_tokens[0];
    let sync = SYNC_SUPPLIER_STOCK;
    let items = |n: usize| -> Value {
        (0..n)
            .map(|i| {
                let code = if i == 0 {
                    "甲-1".to_string()
                } else {
                    format!("x{i}")
                };
                json!({ "supplierSkuCode": code, "stock": 3 })
            })
            .collect()
    };
    for n in [0, 501] {
        let v = app.gql(Some(jia), sync, json!({ "i": items(n) })).await;
        assert_bad(&v, "items", &format!("{n} items"));
        assert_eq!(
            stock_of(&app, &shop.products[0].0).await[0],
            10,
            "{n} items: stock"
        );
    }
    let buyer = customer(&app, "b").await.token;
    let v = app.gql(Some(&buyer), sync, json!({ "i": items(1) })).await;
    assert_code(&v, "FORBIDDEN", "a CUSTOMER");
    let v = app.gql(None, sync, json!({ "i": items(1) })).await;
    assert_code(&v, "UNAUTHENTICATED", "no token");
    assert_eq!(stock_of(&app, &shop.products[0].0).await[0], 10);

    let v = app.gql(Some(jia), sync, json!({ "i": items(500) })).await;
    assert_eq!(v["data"]["syncSupplierStock"]["updated"], 1, "{v}");
    assert_eq!(
        v["data"]["syncSupplierStock"]["unknownCodes"]
            .as_array()
            .map(Vec::len),
        Some(499)
    );
    assert_eq!(stock_of(&app, &shop.products[0].0).await[0], 3);
}

#[tokio::test]
async fn save_address_names_each_bad_field() {
    let app = spawn_app().await;
    let buyer = customer(&app, "b").await.token;
    let other = customer(&app, "o").await.token;
    let save = "mutation($i: AddressInput!) { saveAddress(input: $i) { id province city district detail } }";
    let good = json!({ "name": "张三", "phone": "13800138000", "province": "浙江省", "city": "杭州市", "district": "西湖区", "detail": "文三路 1 号" });
    let with = |field: &str, value: Value| {
        let mut i = good.clone();
        i[field] = value;
        i
    };
    let long = |n: usize| json!("长".repeat(n));
    let mut cases = Vec::new();
    for field in ["province", "city", "district"] {
        cases.push((field, json!("")));
        cases.push((field, json!("  ")));
        cases.push((field, long(33)));
    }
    cases.push(("detail", json!("")));
    cases.push(("detail", json!(" \t ")));
    cases.push(("detail", long(201)));
    let addresses = "{ myAddresses { id province city district detail } }";
    for (field, value) in &cases {
        let v = app
            .gql(
                Some(&buyer),
                save,
                json!({ "i": with(field, value.clone()) }),
            )
            .await;
        assert_bad(&v, field, &format!("{field} = {value}"));
    }
    let v = app.gql(Some(&buyer), addresses, json!({})).await;
    assert_eq!(v["data"]["myAddresses"], json!([]), "nothing saved: {v}");

    // The longest accepted values, trimmed.
    let max = json!({ "name": "张三", "phone": "13800138000", "province": "省".repeat(32), "city": "市".repeat(32), "district": "区".repeat(32), "detail": format!(" {} ", "路".repeat(200)) });
    let v = app.gql(Some(&buyer), save, json!({ "i": max })).await;
    let saved = v["data"]["saveAddress"].clone();
    assert_eq!(saved["detail"], "路".repeat(200), "{v}");
    let id = saved["id"].as_str().unwrap().to_string();

    // Changing it with a bad field changes nothing.
    for (field, value) in &cases {
        let mut input = with(field, value.clone());
        input["id"] = json!(id);
        let v = app.gql(Some(&buyer), save, json!({ "i": input })).await;
        assert_bad(&v, field, &format!("changing {field} to {value}"));
    }
    let v = app
        .gql(
            Some(&buyer),
            save,
            json!({ "i": with("id", json!("home")) }),
        )
        .await;
    assert_bad(&v, "input.id", "an id that is no id");
    // Another customer cannot change it.
    let v = app
        .gql(Some(&other), save, json!({ "i": with("id", json!(id)) }))
        .await;
    assert_code(&v, "NOT_FOUND", "another customer's address");
    let v = app.gql(None, save, json!({ "i": good })).await;
    assert_code(&v, "UNAUTHENTICATED", "no token");
    let v = app.gql(Some(&buyer), addresses, json!({})).await;
    assert_eq!(v["data"]["myAddresses"], json!([saved]), "{v}");
    let v = app.gql(Some(&other), addresses, json!({})).await;
    assert_eq!(v["data"]["myAddresses"], json!([]), "{v}");
}
