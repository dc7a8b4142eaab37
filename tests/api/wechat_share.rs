//! Share codes (小程序码) and subscription templates and consents, against
//! the stand-in for WeChat's API host.
use serde_json::{Value, json};

use crate::{
    fixtures::{create_category, create_product, text},
    helpers::{TestApp, error_code, ok, spawn_app_with},
    wechat_api_standin::{WechatApiStandIn, share_code_image},
};

const SHARE_CODE: &str = "query($i: ShareCodeInput!) { shareCode(input: $i) { scene imageUrl } }";

async fn app_with(api: &WechatApiStandIn, extra: &[(&str, &str)]) -> TestApp {
    let mut env = api.env();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    spawn_app_with(&refs).await
}

/// Signs in through the stand-in's jscode2session; returns the login.
async fn login(app: &TestApp, name: &str, scene: Option<&str>) -> Value {
    let v = app.login(&format!("code-{name}"), None, scene).await;
    ok(&v)["wechatLogin"].clone()
}

async fn product(app: &TestApp) -> String {
    let admin = app.admin_token().await;
    let cat = create_category(app, &admin, "c", None).await;
    text(&create_product(app, &admin, &cat, "车厘子", &[12900]).await["id"])
}

#[tokio::test]
async fn a_share_code_carries_the_referral_and_binds_the_inviter_at_first_login() {
    let api = WechatApiStandIn::start().await;
    let app = app_with(&api, &[]).await;
    let product = product(&app).await;
    let alice = login(&app, "alice", None).await;
    let token = text(&alice["accessToken"]);
    let code = text(&alice["customer"]["referralCode"]);

    let data = app
        .gql_ok(
            Some(&token),
            SHARE_CODE,
            json!({ "i": { "productId": product } }),
        )
        .await;
    let share = &data["shareCode"];
    let scene = text(&share["scene"]);
    assert_eq!(scene, format!("r={code}&p={product}"));
    let url = text(&share["imageUrl"]);
    assert!(
        url.starts_with("/share-codes/") && url.ends_with(".png"),
        "{url}"
    );
    let requests = api.share_codes();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["scene"], scene);
    assert_eq!(requests[0]["page"], "pages/index/index");
    assert_eq!(requests[0]["env_version"], "release");
    assert_eq!(requests[0]["check_path"], true);

    // Served by siyu, as WeChat made it, cacheable for good.
    let res = app.get(&url).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let bytes = res.bytes().await.unwrap();
    assert_eq!(
        bytes.as_ref(),
        share_code_image(&scene, "pages/index/index")
    );
    assert_eq!(
        app.get("/share-codes/nope.png").await.status().as_u16(),
        404
    );

    // Generated once: the same code again, no second call to WeChat.
    let again = app
        .gql_ok(
            Some(&token),
            SHARE_CODE,
            json!({ "i": { "productId": product } }),
        )
        .await;
    assert_eq!(again["shareCode"], *share);
    assert_eq!(api.share_codes().len(), 1);
    // Another page is another code.
    let other = app
        .gql_ok(
            Some(&token),
            SHARE_CODE,
            json!({ "i": { "page": "pages/product/detail" } }),
        )
        .await;
    assert_eq!(other["shareCode"]["scene"], format!("r={code}"));
    assert_ne!(other["shareCode"]["imageUrl"], share["imageUrl"]);
    assert_eq!(api.share_codes().len(), 2);

    // Whoever scans it arrives with the scene URL-encoded, as WeChat hands
    // it to the page: bound to alice at their first login.
    let encoded = scene.replace('=', "%3D").replace('&', "%26");
    let bob = login(&app, "bob", Some(&encoded)).await;
    assert_eq!(bob["customer"]["referrer"]["id"], alice["customer"]["id"]);
}

#[tokio::test]
async fn share_codes_are_for_customers_and_check_their_input() {
    let api = WechatApiStandIn::start().await;
    let app = app_with(&api, &[]).await;
    let alice = login(&app, "alice", None).await;
    let token = text(&alice["accessToken"]);
    let v = app
        .gql(
            Some(&token),
            SHARE_CODE,
            json!({ "i": { "productId": "999999" } }),
        )
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND", "{v}");
    let v = app
        .gql(
            Some(&token),
            SHARE_CODE,
            json!({ "i": { "page": "/pages/x?y=1" } }),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "page", "{v}");
    let admin = app.admin_token().await;
    let v = app.gql(Some(&admin), SHARE_CODE, json!({ "i": {} })).await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let v = app.gql(None, SHARE_CODE, json!({ "i": {} })).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
    assert!(api.share_codes().is_empty());
}

#[tokio::test]
async fn the_page_version_and_public_address_come_from_the_settings() {
    let api = WechatApiStandIn::start().await;
    let app = app_with(
        &api,
        &[
            ("WECHAT_SHARE_PAGE", "pages/home/home"),
            ("WECHAT_SHARE_ENV_VERSION", "trial"),
            ("PUBLIC_BASE_URL", "https://shop.example.com/"),
        ],
    )
    .await;
    let alice = login(&app, "alice", None).await;
    let data = app
        .gql_ok(
            Some(&text(&alice["accessToken"])),
            SHARE_CODE,
            json!({ "i": {} }),
        )
        .await;
    let url = text(&data["shareCode"]["imageUrl"]);
    assert!(
        url.starts_with("https://shop.example.com/share-codes/"),
        "{url}"
    );
    let requests = api.share_codes();
    assert_eq!(requests[0]["page"], "pages/home/home");
    assert_eq!(requests[0]["env_version"], "trial");
    // Pages of a trial version are not checked against the released one.
    assert_eq!(requests[0]["check_path"], false);
}

#[tokio::test]
async fn the_demo_store_serves_a_placeholder_without_calling_wechat() {
    let app = spawn_app_with(&[]).await;
    let token = app.customer_token("alice").await;
    let data = app
        .gql_ok(Some(&token), SHARE_CODE, json!({ "i": {} }))
        .await;
    let scene = text(&data["shareCode"]["scene"]);
    assert!(scene.starts_with("r="), "{scene}");
    let res = app.get(&text(&data["shareCode"]["imageUrl"])).await;
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    assert!(res.bytes().await.unwrap().starts_with(b"\x89PNG\r\n\x1a\n"));
}

const TEMPLATES: &str = "{ subscriptionTemplates { event templateId } }";
const CONSENTS: &str = "mutation($t: [String!]!) { recordSubscriptionConsents(templateIds: $t) }";

#[tokio::test]
async fn subscription_templates_come_from_the_settings_and_consents_are_counted() {
    let app = spawn_app_with(&[(
        "WECHAT_SUBSCRIBE_TEMPLATES",
        "ORDER_SHIPPED=T-ship,REFUND_RESULT=T-refund",
    )])
    .await;
    let data = app.gql_ok(None, TEMPLATES, json!({})).await;
    assert_eq!(
        data["subscriptionTemplates"],
        json!([
            { "event": "ORDER_SHIPPED", "templateId": "T-ship" },
            { "event": "REFUND_RESULT", "templateId": "T-refund" },
        ])
    );

    let token = app.customer_token("alice").await;
    let me = app.gql_ok(Some(&token), "{ me { id } }", json!({})).await;
    let id: i64 = text(&me["me"]["id"]).parse().unwrap();
    // A repeated id in one answer is one consent.
    let data = app
        .gql_ok(
            Some(&token),
            CONSENTS,
            json!({ "t": ["T-ship", "T-ship", "T-refund"] }),
        )
        .await;
    assert_eq!(data["recordSubscriptionConsents"], 2);
    let data = app
        .gql_ok(Some(&token), CONSENTS, json!({ "t": ["T-ship"] }))
        .await;
    assert_eq!(data["recordSubscriptionConsents"], 1);
    let counted = siyu::modules::wechat_platform::service::consents_of(&app.state, id)
        .await
        .unwrap();
    assert_eq!(
        counted,
        [("T-refund".to_string(), 1), ("T-ship".to_string(), 2)]
    );

    // An id the store does not use: refused, nothing recorded.
    let v = app
        .gql(
            Some(&token),
            CONSENTS,
            json!({ "t": ["T-ship", "T-other"] }),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "templateIds");
    let v = app.gql(Some(&token), CONSENTS, json!({ "t": [] })).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    let after = siyu::modules::wechat_platform::service::consents_of(&app.state, id)
        .await
        .unwrap();
    assert_eq!(after, counted);

    // Customers only.
    let admin = app.admin_token().await;
    let v = app
        .gql(Some(&admin), CONSENTS, json!({ "t": ["T-ship"] }))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "{v}");
    let v = app.gql(None, CONSENTS, json!({ "t": ["T-ship"] })).await;
    assert_eq!(error_code(&v), "UNAUTHENTICATED", "{v}");
}
