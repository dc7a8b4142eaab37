//! `spawn_app()` and small helpers for talking GraphQL to it.
use std::collections::HashMap;

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use siyu::{app::startup::Application, config::Settings, state::AppState};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const ADMIN_USER: &str = "admin";
pub const ADMIN_PASS: &str = "admin-password-123";

pub struct TestApp {
    pub address: String,
    /// `/metrics` apart, when the app was given `METRICS_BIND`.
    pub metrics_address: Option<String>,
    pub client: reqwest::Client,
    pub state: AppState,
    /// The PostgreSQL schema and cache prefix, for a second instance on the same state.
    pub shared: Option<(String, String)>,
}

/// An app with the default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

/// An app with extra environment variables (they win over the defaults).
pub async fn spawn_app_with(extra: &[(&str, &str)]) -> TestApp {
    let mut vars: HashMap<String, String> = [
        ("BIND", "127.0.0.1:0"),
        ("JWT_SECRET", JWT_SECRET),
        ("WORKERS", "1"),
        ("ADMIN_USERNAME", ADMIN_USER),
        ("ADMIN_PASSWORD", ADMIN_PASS),
        ("LOGIN_RATE_LIMIT_PER_MIN", "10000"),
        ("GRAPHQL_RATE_LIMIT_PER_MIN", "100000"),
        // Tests place many unpaid orders as one customer; `order_limits` turns these on.
        ("ORDER_RATE_LIMIT_PER_MIN", "0"),
        ("MAX_UNPAID_ORDERS_PER_CUSTOMER", "0"),
        ("MAX_UNPAID_UNITS_PER_SKU", "0"),
        ("SEED_DEMO", "false"),
        // Tests run the jobs themselves, at the times they choose.
        ("JOBS", "false"),
        ("DATABASE_URL", "sqlite::memory:"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let unique = uuid::Uuid::new_v4().simple().to_string();
    let mut schema = None;
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        let name = format!("t_{unique}");
        let conn = Database::connect(&url)
            .await
            .expect("TEST_DATABASE_URL reachable");
        conn.execute_unprepared(&format!("CREATE SCHEMA {name}"))
            .await
            .expect("create schema");
        conn.close().await.ok();
        vars.insert("DATABASE_URL".into(), url);
        schema = Some(name);
    }
    if let Ok(url) = std::env::var("TEST_REDIS_URL") {
        vars.insert("REDIS_URL".into(), url);
        vars.insert("CACHE_PREFIX".into(), format!("test:{unique}"));
    }
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    let shared = match (&schema, vars.get("CACHE_PREFIX")) {
        (Some(s), Some(p)) if vars.contains_key("REDIS_URL") => Some((s.clone(), p.clone())),
        _ => None,
    };
    start(vars, schema, shared).await
}

async fn start(
    vars: HashMap<String, String>,
    schema: Option<String>,
    shared: Option<(String, String)>,
) -> TestApp {
    let mut settings = Settings::from_lookup(|k| vars.get(k).cloned()).expect("test settings");
    settings.database_schema = schema;
    let app = Application::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app
        .metrics_port()
        .map(|port| format!("http://127.0.0.1:{port}"));
    let state = app.state().clone();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address,
        metrics_address,
        client: reqwest::Client::new(),
        state,
        shared,
    }
}

/// A second instance on the same PostgreSQL schema and Redis prefix as
/// `first` (scale-out). The embedded default is one instance by design, so a
/// test that needs this is `#[ignore]`d there and run in CI's PostgreSQL pass;
/// run without those variables, it fails here, saying so.
pub async fn spawn_second(first: &TestApp) -> TestApp {
    spawn_second_with(first, &[]).await
}

/// [`spawn_second`] with extra environment variables.
pub async fn spawn_second_with(first: &TestApp, extra: &[(&str, &str)]) -> TestApp {
    const NEEDS: &str = "a second instance needs TEST_DATABASE_URL and TEST_REDIS_URL (PostgreSQL and Redis shared by both); see .ci/run";
    let (schema, prefix) = first.shared.clone().expect(NEEDS);
    let env = |k: &str| std::env::var(k).expect(NEEDS);
    let mut vars: HashMap<String, String> = [
        ("BIND", "127.0.0.1:0".to_string()),
        ("JWT_SECRET", JWT_SECRET.to_string()),
        ("WORKERS", "1".to_string()),
        ("LOGIN_RATE_LIMIT_PER_MIN", "10000".to_string()),
        ("GRAPHQL_RATE_LIMIT_PER_MIN", "100000".to_string()),
        ("SEED_DEMO", "false".to_string()),
        ("JOBS", "false".to_string()),
        ("DATABASE_URL", env("TEST_DATABASE_URL")),
        ("REDIS_URL", env("TEST_REDIS_URL")),
        ("CACHE_PREFIX", prefix.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    for (k, v) in extra {
        vars.insert(k.to_string(), v.to_string());
    }
    start(vars, Some(schema.clone()), Some((schema, prefix))).await
}

impl TestApp {
    /// POSTs a query; returns the whole JSON response.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let res = self.post_gql(token, query, variables).await;
        res.json().await.expect("JSON response")
    }

    async fn post_gql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send().await.expect("request sent")
    }

    /// POSTs a query that must succeed; returns its `data` and whether the
    /// answer came from the response cache (its `x-cache` header).
    pub async fn gql_cached(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (Value, bool) {
        let res = self.post_gql(token, query, variables).await;
        let hit = res.headers().get("x-cache").is_some_and(|v| v == "HIT");
        let v: Value = res.json().await.expect("JSON response");
        assert!(
            v["errors"].is_null() && v["data"].is_object(),
            "a call that must succeed failed:\n{query}\n{v}"
        );
        (v["data"].clone(), hit)
    }

    /// GETs a path of the app (`/healthz`, `/metrics`…).
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("request sent")
    }

    /// POSTs a query that must succeed (test setup, mostly); returns its
    /// `data`, or fails the test here with the query and the answer.
    pub async fn gql_ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let v = self.gql(token, query, variables).await;
        assert!(
            v["errors"].is_null() && v["data"].is_object(),
            "a call that must succeed failed:\n{query}\n{v}"
        );
        v["data"].clone()
    }

    /// Signs in the demo customer `name`; returns the access token.
    pub async fn customer_token(&self, name: &str) -> String {
        let v = self.login(&format!("demo:{name}"), None, None).await;
        v["data"]["wechatLogin"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("login failed: {v}"))
            .to_string()
    }

    pub async fn login(&self, code: &str, referral: Option<&str>, scene: Option<&str>) -> Value {
        self.gql(
            None,
            "mutation($input: WechatLoginInput!) { wechatLogin(input: $input) {
                accessToken refreshToken expiresAt role customer { id referralCode nickname scene referrer { id } } } }",
            json!({ "input": { "code": code, "referralCode": referral, "scene": scene } }),
        )
        .await
    }

    pub async fn admin_token(&self) -> String {
        let v = self
            .gql(
                None,
                "mutation($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { accessToken role } }",
                json!({ "u": ADMIN_USER, "p": ADMIN_PASS }),
            )
            .await;
        v["data"]["adminLogin"]["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("admin login failed: {v}"))
            .to_string()
    }
}

/// The `extensions.code` of the first error, or a panic showing the response.
pub fn error_code(v: &Value) -> &str {
    v["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error with a code: {v}"))
}

/// The `data` of a response that must be a success, or a panic showing it.
#[track_caller]
pub fn ok(v: &Value) -> &Value {
    assert!(
        v["errors"].is_null() && v["data"].is_object(),
        "expected a success: {v}"
    );
    &v["data"]
}

/// A local port where nothing listens: bound, then let go.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
        .port()
}

/// The rows of the CSV download `/exports/<path>` as `token` gets it, by
/// column name (the download must succeed).
pub async fn csv_rows(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
) -> Vec<HashMap<String, String>> {
    let mut req = app.client.get(format!("{}/exports/{path}", app.address));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.expect("request sent");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "text/csv; charset=utf-8"
    );
    let body = res.text().await.expect("CSV body");
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let names: Vec<String> = reader
        .headers()
        .expect("a header row")
        .iter()
        .map(String::from)
        .collect();
    reader
        .records()
        .map(|r| {
            let r = r.expect("a well-formed row");
            names
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect()
}
