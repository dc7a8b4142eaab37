//! The edge (issue 12): what a hostile or merely careless client can do to
//! `/graphql` and the HTTP server around it.
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_with};

/// `fragment F<n> on Query { ...F<n-1> ...F<n-1> }`: 1 KB that expands 2^levels times.
fn fragment_bomb(levels: usize) -> String {
    let mut doc = String::from("query Bomb { ...F");
    doc.push_str(&levels.to_string());
    doc.push_str(" }\nfragment F0 on Query { __typename }\n");
    for i in 1..=levels {
        doc.push_str(&format!(
            "fragment F{i} on Query {{ ...F{p} ...F{p} }}\n",
            p = i - 1
        ));
    }
    doc
}

#[tokio::test]
async fn an_exponential_fragment_chain_is_refused_at_once() {
    let app = spawn_app().await;
    let doc = fragment_bomb(25);
    assert!(doc.len() < 1500, "{}", doc.len());
    let started = Instant::now();
    let bomb = {
        let client = app.client.clone();
        let url = format!("{}/graphql", app.address);
        tokio::spawn(async move {
            let res = client
                .post(url)
                .json(&json!({ "query": doc }))
                .send()
                .await
                .unwrap();
            (
                started.elapsed(),
                res.json::<serde_json::Value>().await.unwrap(),
            )
        })
    };
    // The one worker must stay free for others while the document is refused.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let health = app
        .client
        .get(format!("{}/healthz", app.address))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("/healthz answers while the document is sent");
    assert_eq!(health.status().as_u16(), 200);
    let (elapsed, v) = bomb.await.unwrap();
    eprintln!("25-level fragment chain answered in {elapsed:?}");
    assert_eq!(error_code(&v), "QUERY_TOO_COMPLEX", "{v}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

// ------------------------------------------------------------ cost

#[tokio::test]
async fn page_sizes_multiply_and_a_batch_shares_one_budget() {
    let app = spawn_app_with(&[("MAX_QUERY_COMPLEXITY", "100")]).await;
    // 1 + 30 × (nodes + id) = 61: within the budget.
    let v = app
        .gql(None, "{ products(first: 30) { nodes { id } } }", json!({}))
        .await;
    assert!(v["errors"].is_null(), "{v}");
    // 1 + 50 × 2 = 101: over it, though it is four fields.
    let v = app
        .gql(None, "{ products(first: 50) { nodes { id } } }", json!({}))
        .await;
    assert_eq!(error_code(&v), "QUERY_TOO_COMPLEX", "{v}");
    // Aliases count each time.
    let v = app
        .gql(
            None,
            "{ a: products(first: 30) { nodes { id } } b: products(first: 30) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "QUERY_TOO_COMPLEX", "{v}");
    // totalCount and a keyword search cost what they do.
    let v = app
        .gql(
            None,
            "{ products(first: 1, keyword: \"茶\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "QUERY_TOO_COMPLEX", "{v}");
    // Two operations of 61 each: fine apart, too much together.
    let one = json!({ "query": "{ products(first: 30) { nodes { id } } }" });
    let (status, v) = post(&app, json!([one, one])).await;
    assert_eq!(status, 200);
    for r in v.as_array().unwrap_or_else(|| panic!("{v}")) {
        assert_eq!(error_code(r), "QUERY_TOO_COMPLEX", "{v}");
    }
}

// ------------------------------------------------------------ lists

#[tokio::test]
async fn list_arguments_are_bounded_and_named() {
    let app = spawn_app().await;
    let token = app.customer_token("lists").await;
    let ids: Vec<String> = (1..=70_000).map(|i| i.to_string()).collect();
    let v = app
        .gql(
            Some(&token),
            "mutation($ids: [ID!]!) { removeFromCart(skuIds: $ids) { items { quantity } } }",
            json!({ "ids": ids }),
        )
        .await;
    let short: String = v.to_string().chars().take(300).collect();
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{short}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "skuIds");
    // Inside an input object the path is named.
    let admin = app.admin_token().await;
    let images: Vec<String> = (0..21)
        .map(|i| format!("https://img.example.com/{i}.jpg"))
        .collect();
    let v = app
        .gql(
            Some(&admin),
            "mutation($i: ProductInput!) { createProduct(input: $i) { id } }",
            json!({ "i": { "title": "t", "categoryId": "1", "images": images, "skus": [] } }),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "input.images", "{v}");
}

// ------------------------------------------------------------ metrics

#[tokio::test]
async fn operation_labels_are_names_the_document_holds_and_capped() {
    let app = spawn_app().await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    // A name that is not in the document is no label.
    let (_, v) = post(
        &app,
        json!({ "query": "query Real { __typename }", "operationName": format!("Bogus{tag}") }),
    )
    .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    // Past the cap, names fold into `other`.
    for batch in 0..(MAX_OPERATION_LABELS / 10 + 2) {
        let ops: Vec<Value> = (0..10)
            .map(|i| json!({ "query": format!("query Op{tag}_{batch}_{i} {{ __typename }}") }))
            .collect();
        let (status, _) = post(&app, Value::Array(ops)).await;
        assert_eq!(status, 200);
    }
    let metrics = scrape(&app.address).await;
    assert!(!metrics.contains(&format!("Bogus{tag}")));
    let mine = metrics.matches(&format!("operation=\"Op{tag}_")).count();
    assert!(mine <= MAX_OPERATION_LABELS, "{mine}");
    assert!(metrics.contains("siyu_graphql_operations_total{operation=\"other\"}"));
}

// ------------------------------------------------------------ clients

#[tokio::test]
async fn field_suggestions_are_off_in_production() {
    let typo = "{ hotProduct { id } }";
    let dev = spawn_app().await;
    let v = dev.gql(None, typo, json!({})).await;
    assert!(v.to_string().contains("Did you mean"), "{v}");
    let prod = spawn_app_with(&[
        ("APP_ENV", "production"),
        ("WECHAT_APPID", "wx1"),
        ("WECHAT_SECRET", "s"),
    ])
    .await;
    let v = prod.gql(None, typo, json!({})).await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    assert!(!v.to_string().contains("Did you mean"), "{v}");
    assert!(!v.to_string().contains("hotProducts"), "{v}");
}

#[tokio::test]
async fn the_standard_introspection_query_is_answered() {
    let app = spawn_app().await;
    let v = app.gql(None, INTROSPECTION_QUERY, json!({})).await;
    assert!(v["errors"].is_null(), "{v}");
    assert_eq!(v["data"]["__schema"]["queryType"]["name"], "Query");
    let types = v["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Product"));
    // Ordinary queries keep the depth limit (12).
    let deep = format!(
        "{{ me {} id {} }}",
        "{ referrer ".repeat(12),
        "}".repeat(12)
    );
    let v = app.gql(None, &deep, json!({})).await;
    assert_eq!(error_code(&v), "QUERY_TOO_COMPLEX", "{v}");
}

#[tokio::test]
async fn omitted_nullable_variables_take_the_argument_default() {
    let app = spawn_app().await;
    let v = app
        .gql(
            None,
            "query($limit: Int) { hotProducts(limit: $limit) { id } }",
            json!({}),
        )
        .await;
    assert!(v["errors"].is_null(), "{v}");
    assert!(v["data"]["hotProducts"].is_array(), "{v}");
    // Given, it is used; null where null is not allowed stays an error.
    let v = app
        .gql(
            None,
            "query($limit: Int) { hotProducts(limit: $limit) { id } }",
            json!({ "limit": 0 }),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    let v = app
        .gql(
            None,
            "query($limit: Int) { hotProducts(limit: $limit) { id } }",
            json!({ "limit": null }),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
}

// ------------------------------------------------------------ helpers

async fn post(app: &TestApp, body: Value) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn scrape(base: &str) -> String {
    reqwest::get(format!("{base}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

const MAX_OPERATION_LABELS: usize = siyu::metrics::MAX_OPERATION_LABELS;

/// graphql-js `getIntrospectionQuery()` with its default options: what
/// GraphiQL, IDE plugins and code generators send.
const INTROSPECTION_QUERY: &str = r#"
    query IntrospectionQuery {
      __schema {
        queryType { name kind }
        mutationType { name kind }
        subscriptionType { name kind }
        types {
          ...FullType
        }
        directives {
          name
          description
          locations
          args {
            ...InputValue
          }
        }
      }
    }

    fragment FullType on __Type {
      kind
      name
      description
      fields(includeDeprecated: true) {
        name
        description
        args {
          ...InputValue
        }
        type {
          ...TypeRef
        }
        isDeprecated
        deprecationReason
      }
      inputFields {
        ...InputValue
      }
      interfaces {
        ...TypeRef
      }
      enumValues(includeDeprecated: true) {
        name
        description
        isDeprecated
        deprecationReason
      }
      possibleTypes {
        ...TypeRef
      }
    }

    fragment InputValue on __InputValue {
      name
      description
      type { ...TypeRef }
      defaultValue
    }

    fragment TypeRef on __Type {
      kind
      name
      ofType {
        name
        kind
        ofType {
          name
          kind
          ofType {
            name
            kind
            ofType {
              name
              kind
              ofType {
                name
                kind
                ofType {
                  name
                  kind
                  ofType {
                    name
                    kind
                    ofType {
                      name
                      kind
                      ofType {
                        name
                        kind
                      }
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
"#;
