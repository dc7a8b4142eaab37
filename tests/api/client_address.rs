//! Whose address the login limit counts: `TRUSTED_PROXIES` reads
//! `X-Forwarded-For` from the right, where our own proxies write.
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app_with};

/// A `wechatLogin` whose `X-Forwarded-For` is `forwarded_for`.
async fn login_through(app: &TestApp, forwarded_for: &str) -> Value {
    app.client
        .post(format!("{}/graphql", app.address))
        .header("x-forwarded-for", forwarded_for)
        .json(
            &json!({ "query": "mutation { wechatLogin(input: { code: \"demo:xff\" }) { role } }" }),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Two logins from 198.51.100.7, each claiming another origin on the left,
/// then one more: limited. Another client of the same proxy is not.
async fn spoofed_left_entries_do_not_escape_the_limit(app: &TestApp) {
    for spoofed in ["1.1.1.1", "2.2.2.2"] {
        let v = login_through(app, &format!("{spoofed}, 198.51.100.7")).await;
        assert!(v["errors"].is_null(), "{v}");
    }
    let v = login_through(app, "3.3.3.3, 198.51.100.7").await;
    assert_eq!(error_code(&v), "RATE_LIMITED", "{v}");
    let v = login_through(app, "198.51.100.7").await;
    assert_eq!(error_code(&v), "RATE_LIMITED", "{v}");
    // The entry our proxy wrote is the client: someone else is not locked out.
    let v = login_through(app, "1.1.1.1, 198.51.100.8").await;
    assert!(v["errors"].is_null(), "{v}");
}

#[tokio::test]
async fn one_trusted_proxy_counts_the_right_most_entry() {
    let app = spawn_app_with(&[("LOGIN_RATE_LIMIT_PER_MIN", "2"), ("TRUSTED_PROXIES", "1")]).await;
    spoofed_left_entries_do_not_escape_the_limit(&app).await;
}

#[tokio::test]
async fn the_old_switch_means_one_proxy() {
    let app = spawn_app_with(&[
        ("LOGIN_RATE_LIMIT_PER_MIN", "2"),
        ("TRUST_FORWARDED_FOR", "true"),
    ])
    .await;
    spoofed_left_entries_do_not_escape_the_limit(&app).await;
}

#[tokio::test]
async fn two_trusted_proxies_count_the_second_from_the_right() {
    let app = spawn_app_with(&[("LOGIN_RATE_LIMIT_PER_MIN", "1"), ("TRUSTED_PROXIES", "2")]).await;
    let v = login_through(&app, "1.1.1.1, 198.51.100.7, 10.0.0.3").await;
    assert!(v["errors"].is_null(), "{v}");
    // Same client through another edge node of ours: the same count.
    let v = login_through(&app, "2.2.2.2, 198.51.100.7, 10.0.0.4").await;
    assert_eq!(error_code(&v), "RATE_LIMITED", "{v}");
    // Another client through the same edge node is someone else.
    let v = login_through(&app, "198.51.100.9, 10.0.0.3").await;
    assert!(v["errors"].is_null(), "{v}");
}

#[tokio::test]
async fn without_trusted_proxies_the_header_is_ignored() {
    let app = spawn_app_with(&[("LOGIN_RATE_LIMIT_PER_MIN", "1")]).await;
    let v = login_through(&app, "198.51.100.7").await;
    assert!(v["errors"].is_null(), "{v}");
    // Every test request comes from 127.0.0.1, whatever the header says.
    let v = login_through(&app, "198.51.100.8").await;
    assert_eq!(error_code(&v), "RATE_LIMITED", "{v}");
}
