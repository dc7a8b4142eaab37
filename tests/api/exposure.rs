//! What each role may read of others: a shopper sees the name of the
//! supplier that ships its order, never the supplier's contact or webhook;
//! the cart does not reveal products taken off the shelf; a supplier reads
//! a buyer's address while it has something to ship to it, and a while after.
use serde_json::json;

use crate::{
    fixtures::{
        ADD_TO_CART, create_category, create_product, create_supplier, link_sku, new_buyer,
        paid_order, set_status, shipped, shop, supplier_token, text,
    },
    helpers::{error_code, ok, spawn_app, spawn_app_with},
};

const SUPPLIER_OF_ORDER: &str =
    "query($id: ID!) { order(id: $id) { fulfillments { supplier { name contact webhookUrl } } } }";

#[tokio::test]
async fn a_supplier_s_contact_and_webhook_are_for_admin_and_itself_only() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let cat = create_category(&app, &admin, "c", None).await;
    let p = create_product(&app, &admin, &cat, "代发", &[5000]).await;
    let sku = text(&p["skus"][0]["id"]);
    let s = create_supplier(
        &app,
        &admin,
        json!({ "name": "丙", "contact": "王经理 13800000000", "webhookUrl": "https://hooks.supplier.example/siyu" }),
    )
    .await;
    link_sku(&app, &admin, &sku, &s["supplier"]["id"], "丙-1", 3000).await;
    let supplier = supplier_token(&app, &s["apiKey"]).await;
    let buyer = new_buyer(&app, "buyer").await;
    let order = paid_order(&app, &buyer, json!([{ "skuId": sku, "quantity": 1 }]), "k1").await;
    let vars = json!({ "id": order["id"] });

    let seen = app.gql(Some(&buyer), SUPPLIER_OF_ORDER, vars.clone()).await;
    let shown = &ok(&seen)["order"]["fulfillments"][0]["supplier"];
    assert_eq!(shown["name"], "丙", "{seen}");
    assert!(shown["contact"].is_null(), "{seen}");
    assert!(shown["webhookUrl"].is_null(), "{seen}");

    let seen = app
        .gql(
            Some(&admin),
            "{ suppliers { name contact webhookUrl } }",
            json!({}),
        )
        .await;
    let shown = &ok(&seen)["suppliers"][0];
    assert_eq!(shown["contact"], "王经理 13800000000", "{seen}");
    assert_eq!(
        shown["webhookUrl"], "https://hooks.supplier.example/siyu",
        "{seen}"
    );

    let seen = app
        .gql(
            Some(&supplier),
            "{ supplierFulfillments { nodes { supplier { contact webhookUrl } } } }",
            json!({}),
        )
        .await;
    let shown = &ok(&seen)["supplierFulfillments"]["nodes"][0]["supplier"];
    assert_eq!(shown["contact"], "王经理 13800000000", "{seen}");
    assert_eq!(
        shown["webhookUrl"], "https://hooks.supplier.example/siyu",
        "{seen}"
    );
}

#[tokio::test]
async fn the_cart_refuses_products_off_the_shelf() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let cat = create_category(&app, &admin, "c", None).await;
    let p = create_product(&app, &admin, &cat, "下架", &[5000]).await;
    let sku = text(&p["skus"][0]["id"]);
    let buyer = new_buyer(&app, "buyer").await;
    let on_shelf = app
        .gql(Some(&buyer), ADD_TO_CART, json!({ "s": sku, "q": 1 }))
        .await;
    ok(&on_shelf);

    set_status(&app, &admin, &text(&p["id"]), "OFF_SHELF").await;
    let off = app
        .gql(Some(&buyer), ADD_TO_CART, json!({ "s": sku, "q": 2 }))
        .await;
    assert_eq!(error_code(&off), "NOT_FOUND", "{off}");
    assert!(off["data"].is_null(), "{off}");
}

#[tokio::test]
async fn a_supplier_reads_the_recipient_only_while_it_ships_and_a_while_after() {
    // 0 days: the recipient is masked as soon as the part has shipped.
    let app = spawn_app_with(&[("SUPPLIER_ADDRESS_DAYS", "0")]).await;
    let s = shop(&app, 10).await;
    let buyer = new_buyer(&app, "recipient").await;
    let order = paid_order(&app, &buyer, s.items(&[(0, 1)]), "k").await;
    let supplier = &s.supplier_tokens[0];
    const MINE: &str = "{ supplierFulfillments { nodes { id status shippingAddress { id name phone city detail } } } }";
    let v = app.gql_ok(Some(supplier), MINE, json!({})).await;
    let f = &v["supplierFulfillments"]["nodes"][0];
    assert_eq!(f["status"], "PENDING", "{v}");
    assert_eq!(f["shippingAddress"]["name"], "张三", "{v}");
    assert_eq!(f["shippingAddress"]["phone"], "13800138000", "{v}");
    assert_eq!(f["shippingAddress"]["detail"], "文三路 1 号", "{v}");

    // The order's own address is for the buyer and ADMIN, whatever the window.
    let v = app
        .gql(
            Some(supplier),
            "{ supplierFulfillments { nodes { order { shippingAddress { phone } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");

    shipped(&app, supplier, &f["id"]).await;
    let v = app.gql_ok(Some(supplier), MINE, json!({})).await;
    let a = &v["supplierFulfillments"]["nodes"][0]["shippingAddress"];
    assert_eq!(a["name"], "张*", "{v}");
    assert_eq!(a["phone"], "138****8000", "{v}");
    assert_eq!(a["detail"], "****", "{v}");
    assert_eq!(a["city"], "杭州市", "the region stays: {v}");
    // ADMIN and the buyer still read it whole.
    for who in [&s.admin, &buyer] {
        let v = app
            .gql_ok(
                Some(who),
                "query($id: ID!) { order(id: $id) { shippingAddress { phone } } }",
                json!({ "id": order["id"] }),
            )
            .await;
        assert_eq!(v["order"]["shippingAddress"]["phone"], "13800138000", "{v}");
    }

    // With the default window, the supplier still reads it after shipping.
    let app = spawn_app().await;
    let s = shop(&app, 10).await;
    let buyer = new_buyer(&app, "recipient").await;
    paid_order(&app, &buyer, s.items(&[(0, 1)]), "k").await;
    let supplier = &s.supplier_tokens[0];
    let v = app.gql_ok(Some(supplier), MINE, json!({})).await;
    shipped(&app, supplier, &v["supplierFulfillments"]["nodes"][0]["id"]).await;
    let v = app.gql_ok(Some(supplier), MINE, json!({})).await;
    let a = &v["supplierFulfillments"]["nodes"][0]["shippingAddress"];
    assert_eq!(a["phone"], "13800138000", "{v}");
}
