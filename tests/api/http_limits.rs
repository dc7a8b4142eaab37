//! Whatever a client sends, it gets a coded JSON error and the server stays up.
use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_with};

async fn post_raw(app: &TestApp, body: impl Into<reqwest::Body>) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn still_up(app: &TestApp) {
    let res = app.get("/healthz").await;
    assert_eq!(res.status().as_u16(), 200);
}

#[tokio::test]
async fn malformed_json_is_a_400_with_a_code() {
    let app = spawn_app().await;
    for body in ["{bad", "", "[1,2]", "\"just a string\"", "{\"query\": 5}"] {
        let (status, v) = post_raw(&app, body).await;
        assert_eq!(status, 400, "{body}: {v}");
        assert_eq!(error_code(&v), "BAD_USER_INPUT");
    }
    still_up(&app).await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413() {
    let app = spawn_app().await;
    let big = format!(
        "{{\"query\": \"{{ me {{ id }} }}\", \"variables\": {{\"x\": \"{}\"}}}}",
        "a".repeat(1024 * 1024 + 10)
    );
    let (status, v) = post_raw(&app, big).await;
    assert_eq!(status, 413);
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("limit"),
        "{v}"
    );
    still_up(&app).await;
}

#[tokio::test]
async fn batches_are_capped() {
    let app = spawn_app().await;
    let one = json!({ "query": "{ __typename }" });
    let (status, v) = post_raw(&app, json!([one, one]).to_string()).await;
    assert_eq!(status, 200);
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");
    let many: Vec<Value> = (0..11).map(|_| one.clone()).collect();
    let (status, v) = post_raw(&app, Value::Array(many).to_string()).await;
    assert_eq!(status, 400);
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at most 10")
    );
    let (status, _) = post_raw(&app, "[]").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn deep_or_complex_queries_are_refused() {
    let app = spawn_app_with(&[("MAX_QUERY_DEPTH", "4")]).await;
    let deep = "{ me { referrer { referrer { referrer { referrer { id } } } } } }";
    let v = app.gql(None, deep, json!({})).await;
    assert_eq!(error_code(&v), "QUERY_TOO_COMPLEX", "{v}");

    let app = spawn_app_with(&[("MAX_QUERY_COMPLEXITY", "5")]).await;
    let wide: String = (0..10).map(|i| format!("a{i}: me {{ id }} ")).collect();
    let v = app.gql(None, &format!("{{ {wide} }}"), json!({})).await;
    assert_eq!(error_code(&v), "QUERY_TOO_COMPLEX", "{v}");
}

#[tokio::test]
async fn invalid_queries_get_bad_user_input() {
    let app = spawn_app().await;
    for q in [
        "{ nope }",
        "{ me { id ",
        "mutation { wechatLogin(input: {}) { role } }",
        "query { me { id } } query { me { id } }",
    ] {
        let v = app.gql(None, q, json!({})).await;
        assert_eq!(error_code(&v), "BAD_USER_INPUT", "{q}: {v}");
    }
    still_up(&app).await;
}

#[tokio::test]
async fn unknown_paths_are_json_404s() {
    let app = spawn_app().await;
    let res = app.get("/nope").await;
    assert_eq!(res.status().as_u16(), 404);
    let v: Value = res.json().await.unwrap();
    assert_eq!(error_code(&v), "NOT_FOUND");
}
