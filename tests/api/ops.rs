//! Health, readiness, metrics, GraphiQL, production switches, start-up refusal.
use serde_json::{Value, json};

use crate::helpers::{closed_port, error_code, spawn_app, spawn_app_with};

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers().get("x-request-id").is_some());
    let res = app.get("/readyz").await;
    assert_eq!(res.status().as_u16(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "ready", "{v}");
    assert_eq!(v["database"], "ok");
}

#[tokio::test]
async fn a_dead_redis_leaves_the_server_up_and_degraded() {
    let port = closed_port();
    let url = format!("redis://127.0.0.1:{port}");
    let app = spawn_app_with(&[
        ("REDIS_URL", url.as_str()),
        ("LOGIN_RATE_LIMIT_PER_MIN", "5"),
    ])
    .await;
    let v: Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(v["status"], "degraded", "{v}");
    assert_eq!(v["cache"]["kind"], "redis");
    // Logins still work (the rate limit fails open) and the failure is counted.
    let token = app.customer_token("redis-down").await;
    let me = app.gql(Some(&token), "{ me { id } }", json!({})).await;
    assert!(me["data"]["me"]["id"].is_string(), "{me}");
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("siyu_cache_errors_total{backend=\"redis\""),
        "{metrics}"
    );
}

#[tokio::test]
async fn metrics_count_requests_operations_errors_and_the_pool() {
    let app = spawn_app().await;
    let v = app.gql(None, "query WhoAmI { me { id } }", json!({})).await;
    assert_eq!(
        error_code(&v),
        "UNAUTHENTICATED",
        "the error to be counted: {v}"
    );
    let res = app.get("/metrics").await;
    assert_eq!(res.status().as_u16(), 200);
    let text = res.text().await.unwrap();
    for needle in [
        "siyu_http_requests_total",
        "siyu_http_requests_duration_seconds_bucket",
        "siyu_graphql_operations_total{operation=\"WhoAmI\"}",
        "siyu_graphql_errors_total{code=\"UNAUTHENTICATED\"}",
        "siyu_db_pool_connections",
    ] {
        assert!(text.contains(needle), "missing {needle} in:\n{text}");
    }
}

#[tokio::test]
async fn graphiql_and_introspection_in_development() {
    let app = spawn_app().await;
    let res = app.get("/graphql").await;
    assert_eq!(res.status().as_u16(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .to_lowercase()
            .contains("graphiql")
    );
    let v = app
        .gql(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(v["data"]["__schema"]["queryType"]["name"], "Query");
}

#[tokio::test]
async fn production_turns_graphiql_and_introspection_off() {
    let app = spawn_app_with(&[
        ("APP_ENV", "production"),
        ("WECHAT_APPID", "wx1"),
        ("WECHAT_SECRET", "s"),
        ("WECHAT_API_BASE", "http://127.0.0.1:9"),
    ])
    .await;
    let res = app.get("/graphql").await;
    assert_eq!(res.status().as_u16(), 404);
    let v = app
        .gql(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert!(
        v["data"].is_null() || v["data"]["__schema"].is_null(),
        "{v}"
    );
    // Demo codes are never accepted in production.
    let v = app.login("demo:alice", None, None).await;
    assert_eq!(error_code(&v), "WECHAT_LOGIN_FAILED");
}

#[test]
fn production_refuses_to_start_without_secrets() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_siyu"))
        .env_clear()
        .env("APP_ENV", "production")
        .env("JWT_SECRET", "0123456789abcdef0123456789abcdef")
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("DATABASE_URL, WECHAT_APPID, WECHAT_SECRET"),
        "{stderr}"
    );
}

#[test]
fn print_schema_prints_the_committed_sdl() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_siyu"))
        .arg("print-schema")
        .output()
        .unwrap();
    assert!(out.status.success());
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/schema/schema.graphql"
    ))
    .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), committed);
}
