//! Stock hoarding: one customer cannot hold a SKU's stock with unpaid
//! orders, nor place orders without end; each refusal says why, a retried
//! call still gets its order, and paying frees the room.
use serde_json::json;

use crate::{
    fixtures::{cancel, demo_pay, new_buyer, place, placed, shop, stock_of},
    helpers::{error_code, spawn_app_with},
};

#[tokio::test]
async fn unpaid_orders_and_units_per_sku_are_capped_per_customer() {
    let app = spawn_app_with(&[
        ("MAX_UNPAID_ORDERS_PER_CUSTOMER", "3"),
        ("MAX_UNPAID_UNITS_PER_SKU", "5"),
    ])
    .await;
    let s = shop(&app, 100).await;
    let hoarder = new_buyer(&app, "hoarder").await;

    // Units of one SKU: 3 + 2 held, a third unit more is refused, naming the SKU.
    let first = placed(&app, &hoarder, s.items(&[(0, 3)]), "u1").await;
    placed(&app, &hoarder, s.items(&[(0, 2)]), "u2").await;
    let v = place(&app, &hoarder, s.items(&[(0, 1)]), "u3").await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");
    let msg = v["errors"][0]["message"].as_str().unwrap();
    assert!(
        msg.contains("at most 5 units") && msg.contains(s.sku(0)),
        "{msg}"
    );
    // One order asking for more than the cap at once is refused too.
    let v = place(&app, &hoarder, s.items(&[(1, 6)]), "big").await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");
    assert_eq!(stock_of(&app, &s.products[0].0).await, vec![95]);

    // Orders: the third unpaid order goes in (another SKU), the fourth is refused.
    placed(&app, &hoarder, s.items(&[(1, 1)]), "o3").await;
    let v = place(&app, &hoarder, s.items(&[(2, 1)]), "o4").await;
    assert_eq!(error_code(&v), "CONFLICT", "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("3 unpaid orders"),
        "{v}"
    );
    // A retried call whose order exists still gets that order.
    let again = placed(&app, &hoarder, s.items(&[(0, 3)]), "u1").await;
    assert_eq!(again["id"], first["id"]);

    // Another customer is not held back by the hoarder.
    let other = new_buyer(&app, "other").await;
    placed(&app, &other, s.items(&[(0, 5)]), "x").await;

    // Paying one order, or cancelling one, frees room under both caps.
    demo_pay(&app, &hoarder, &first["id"]).await;
    let v = place(&app, &hoarder, s.items(&[(0, 4)]), "u4").await;
    assert_eq!(error_code(&v), "CONFLICT", "2 held + 4 > 5: {v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("units"),
        "{v}"
    );
    let u5 = placed(&app, &hoarder, s.items(&[(0, 3)]), "u5").await;
    let v = place(&app, &hoarder, s.items(&[(2, 1)]), "o6").await;
    assert_eq!(error_code(&v), "CONFLICT", "3 unpaid again: {v}");
    cancel(&app, &hoarder, &u5["id"]).await;
    placed(&app, &hoarder, s.items(&[(2, 1)]), "o6").await;
}

#[tokio::test]
async fn placing_orders_is_rate_limited_per_customer() {
    let app = spawn_app_with(&[("ORDER_RATE_LIMIT_PER_MIN", "3")]).await;
    let s = shop(&app, 100).await;
    let eager = new_buyer(&app, "eager").await;
    for k in ["r1", "r2", "r3"] {
        placed(&app, &eager, s.items(&[(2, 1)]), k).await;
    }
    let v = place(&app, &eager, s.items(&[(2, 1)]), "r4").await;
    assert_eq!(error_code(&v), "RATE_LIMITED", "{v}");
    let v = app
        .gql(
            Some(&eager),
            "mutation { topUp(planId: \"1\", idempotencyKey: \"t\") { order { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "RATE_LIMITED", "plans count too: {v}");
    // The limit is per customer: another one places at once.
    let other = new_buyer(&app, "other").await;
    placed(&app, &other, s.items(&[(2, 1)]), "r1").await;
}
