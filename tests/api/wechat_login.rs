//! `wechatLogin` against a local stand-in for WeChat's jscode2session.
use std::time::Duration;

use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path, query_param},
};

use crate::helpers::{TestApp, closed_port, error_code, spawn_app_with};

async fn app_with_wechat(server_uri: &str) -> TestApp {
    spawn_app_with(&[
        ("WECHAT_APPID", "wx-test-app"),
        ("WECHAT_SECRET", "wx-test-secret"),
        ("WECHAT_API_BASE", server_uri),
        ("OUTBOUND_TIMEOUT_MS", "500"),
    ])
    .await
}

#[tokio::test]
async fn a_good_code_finds_or_creates_the_customer_and_hides_the_session_key() {
    let wechat = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/sns/jscode2session"))
        .and(query_param("appid", "wx-test-app"))
        .and(query_param("secret", "wx-test-secret"))
        .and(query_param("js_code", "code-123"))
        .and(query_param("grant_type", "authorization_code"))
        // WeChat answers JSON with a text/plain content type.
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "text/plain")
                .set_body_string(
                    r#"{"openid":"o-abc","session_key":"SESSION-KEY-SECRET","unionid":"u-xyz"}"#,
                ),
        )
        .expect(2)
        .mount(&wechat)
        .await;
    let app = app_with_wechat(&wechat.uri()).await;

    let first = app.login("code-123", None, Some("qr")).await;
    assert_eq!(first["data"]["wechatLogin"]["role"], "CUSTOMER", "{first}");
    assert!(!first.to_string().contains("SESSION-KEY-SECRET"));
    let second = app.login("code-123", None, None).await;
    assert_eq!(
        first["data"]["wechatLogin"]["customer"]["id"],
        second["data"]["wechatLogin"]["customer"]["id"]
    );

    use sea_orm::EntityTrait;
    let rows = entity::customer::Entity::find()
        .all(&app.state.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].openid, "o-abc");
    assert_eq!(rows[0].unionid.as_deref(), Some("u-xyz"));
    assert!(!format!("{:?}", rows[0]).contains("SESSION-KEY"));

    // Demo codes are not accepted once WeChat is configured: they go to WeChat.
    let demo = app.login("demo:alice", None, None).await;
    assert_eq!(error_code(&demo), "WECHAT_LOGIN_FAILED", "{demo}");
}

#[tokio::test]
async fn an_errcode_is_a_wechat_login_failure() {
    let wechat = MockServer::start().await;
    Mock::given(path("/sns/jscode2session"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"errcode": 40029, "errmsg": "invalid code"})),
        )
        .mount(&wechat)
        .await;
    let app = app_with_wechat(&wechat.uri()).await;
    let v = app.login("bad-code", None, None).await;
    assert_eq!(error_code(&v), "WECHAT_LOGIN_FAILED");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("40029"),
        "{v}"
    );
    assert!(!v.to_string().contains("wx-test-secret"));
}

#[tokio::test]
async fn garbage_from_wechat_is_a_login_failure() {
    let wechat = MockServer::start().await;
    Mock::given(path("/sns/jscode2session"))
        .respond_with(ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"))
        .mount(&wechat)
        .await;
    let app = app_with_wechat(&wechat.uri()).await;
    let v = app.login("c", None, None).await;
    assert_eq!(error_code(&v), "WECHAT_LOGIN_FAILED");
}

#[tokio::test]
async fn a_slow_wechat_times_out_cleanly() {
    let wechat = MockServer::start().await;
    Mock::given(path("/sns/jscode2session"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"openid": "late"}))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&wechat)
        .await;
    let app = app_with_wechat(&wechat.uri()).await;
    let started = std::time::Instant::now();
    let v = app.login("c", None, None).await;
    assert_eq!(error_code(&v), "WECHAT_LOGIN_FAILED");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{v}"
    );
    // Bounded by OUTBOUND_TIMEOUT_MS (500 ms), not by WeChat's 5 s.
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn an_unreachable_wechat_is_a_login_failure() {
    let port = closed_port();
    let app = app_with_wechat(&format!("http://127.0.0.1:{port}")).await;
    let v = app.login("c", None, None).await;
    assert_eq!(error_code(&v), "WECHAT_LOGIN_FAILED");
    assert!(!v.to_string().contains("wx-test-secret"));
}
