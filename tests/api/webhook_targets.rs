//! Supplier webhooks cannot be aimed inward: no redirects followed, no
//! loopback or private targets unless `WEBHOOK_ALLOWED_HOSTS` names them,
//! and in production such URLs are refused when they are saved.
use entity::{webhook_attempt, webhook_delivery};
use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

use crate::{
    fixtures::{create_category, create_product, place, save_address},
    helpers::{TestApp, error_code, spawn_app_with},
};

/// A supplier with `url` as its webhook gets a paid order's fulfillment;
/// returns the delivery after its first attempt (made right after payment).
async fn first_delivery(
    app: &TestApp,
    url: &str,
) -> (webhook_delivery::Model, Vec<webhook_attempt::Model>) {
    let admin = app.admin_token().await;
    let cat = create_category(app, &admin, "c", None).await;
    let p = create_product(app, &admin, &cat, "代发", &[5000]).await;
    let v = app
        .gql(
            Some(&admin),
            "mutation($u: String!) { createSupplier(input: {name: \"甲\", webhookUrl: $u}) { supplier { id } } }",
            json!({ "u": url }),
        )
        .await;
    let sid = v["data"]["createSupplier"]["supplier"]["id"].clone();
    assert!(sid.is_string(), "{v}");
    app.gql(
        Some(&admin),
        "mutation($s: ID!, $i: SupplierLinkInput!) { linkSkuToSupplier(skuId: $s, input: $i) { id } }",
        json!({ "s": p["skus"][0]["id"], "i": { "supplierId": sid, "supplierSkuCode": "JIA-1", "costFen": 3000, "dropShip": true } }),
    )
    .await;
    let buyer = app.customer_token("buyer").await;
    save_address(app, &buyer).await;
    let v = place(
        app,
        &buyer,
        json!([{ "skuId": p["skus"][0]["id"], "quantity": 1 }]),
        "k",
    )
    .await;
    let id = v["data"]["placeOrder"]["order"]["id"].clone();
    let v = app
        .gql(
            Some(&buyer),
            "mutation($id: ID!) { demoPay(orderId: $id) { fulfillments { id } } }",
            json!({ "id": id }),
        )
        .await;
    let fid: i64 = v["data"]["demoPay"]["fulfillments"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .parse()
        .unwrap();
    for _ in 0..100 {
        let found = siyu::modules::supplier::webhook::deliveries_of(&app.state, fid)
            .await
            .unwrap();
        if let Some((d, attempts)) = found.into_iter().next()
            && d.attempts > 0
        {
            return (d, attempts);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no delivery was attempted");
}

/// A receiver on 127.0.0.1 that accepts every POST to `/hook`.
async fn receiver() -> MockServer {
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    hook
}

#[tokio::test]
async fn a_redirect_is_not_followed() {
    let hook = MockServer::start().await;
    Mock::given(path("/hook"))
        .respond_with(
            ResponseTemplate::new(307).insert_header("location", format!("{}/other", hook.uri())),
        )
        .mount(&hook)
        .await;
    Mock::given(path("/other"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    let allowed = hook.address().to_string();
    let app = spawn_app_with(&[("WEBHOOK_ALLOWED_HOSTS", &allowed)]).await;

    let (d, attempts) = first_delivery(&app, &format!("{}/hook", hook.uri())).await;
    assert_eq!(d.status, "PENDING", "failed, to be retried: {d:?}");
    assert!(d.last_error.as_deref().unwrap().contains("307"), "{d:?}");
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].status_code, Some(307));
    let received = hook.received_requests().await.unwrap();
    assert!(
        received.iter().all(|r| r.url.path() == "/hook"),
        "the signed body went on to {:?}",
        received.iter().map(|r| r.url.path()).collect::<Vec<_>>()
    );
    assert_eq!(received.len(), 1);
}

#[tokio::test]
async fn a_loopback_target_is_refused_unless_the_allow_list_names_it() {
    let hook = receiver().await;
    let port = hook.address().port();
    // The allow-list names another port of the same host: not this one.
    let app = spawn_app_with(&[("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1:1")]).await;
    let (d, attempts) = first_delivery(&app, &format!("http://127.0.0.1:{port}/hook")).await;
    assert_eq!(d.status, "PENDING", "{d:?}");
    assert!(
        d.last_error.as_deref().unwrap().starts_with("refused"),
        "{d:?}"
    );
    assert_eq!(attempts[0].status_code, None);
    // A name that resolves to the loopback is refused when connecting.
    let app = spawn_app_with(&[]).await;
    let (d, _) = first_delivery(&app, &format!("http://localhost:{port}/hook")).await;
    assert!(
        d.last_error
            .as_deref()
            .unwrap()
            .contains("not a public address"),
        "{d:?}"
    );
    assert!(hook.received_requests().await.unwrap().is_empty());

    // Named on purpose, by address and port, or by name.
    let allowed = format!("127.0.0.1:{port}");
    let app = spawn_app_with(&[("WEBHOOK_ALLOWED_HOSTS", &allowed)]).await;
    let (d, _) = first_delivery(&app, &format!("http://127.0.0.1:{port}/hook")).await;
    assert_eq!(d.status, "DELIVERED", "{d:?}");
    let app = spawn_app_with(&[("WEBHOOK_ALLOWED_HOSTS", "example.org, localhost")]).await;
    let (d, _) = first_delivery(&app, &format!("http://localhost:{port}/hook")).await;
    assert_eq!(d.status, "DELIVERED", "{d:?}");
    assert_eq!(hook.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn production_refuses_inward_webhook_urls_when_they_are_saved() {
    let app = spawn_app_with(&[
        ("APP_ENV", "production"),
        ("WECHAT_APPID", "wx-test"),
        ("WECHAT_SECRET", "wechat-secret"),
        ("WEBHOOK_ALLOWED_HOSTS", "erp.corp.internal:8443"),
    ])
    .await;
    let admin = app.admin_token().await;
    let create = |url: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            app.gql(
                Some(admin),
                "mutation($u: String!) { createSupplier(input: {name: \"甲\", webhookUrl: $u}) { supplier { webhookUrl } } }",
                json!({ "u": url }),
            )
            .await
        }
    };
    for url in [
        "http://hooks.supplier.invalid/h",
        "https://127.0.0.1/h",
        "https://127.1/h",
        "https://[::1]/h",
        "https://[::ffff:127.0.0.1]/h",
        "https://10.0.0.8/h",
        "https://169.254.169.254/latest/meta-data",
        "https://100.100.100.200/latest/meta-data",
        "https://localhost/h",
    ] {
        let v = create(url).await;
        assert_eq!(error_code(&v), "BAD_USER_INPUT", "{url}: {v}");
        assert_eq!(v["errors"][0]["extensions"]["field"], "webhookUrl", "{v}");
    }
    // Public, allow-listed, or a name that does not resolve (yet): saved;
    // the check when connecting is the one that holds.
    for url in [
        "https://erp.corp.internal:8443/h",
        "https://erp.corp.internal:9000/h",
        "https://hooks.supplier.invalid/h",
        "https://203.0.113.9/h",
    ] {
        let v = create(url).await;
        assert_eq!(
            v["data"]["createSupplier"]["supplier"]["webhookUrl"], url,
            "{v}"
        );
    }
}
