//! The catalogue's read path and what each answer costs: SQL statements per
//! executed page, the response cache for documents shaped as clients send
//! them, and the catalogue generation followed across instances.
use std::{
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use crate::{
    fixtures::{create_category, create_product, lib, set_status, update_product},
    helpers::{TestApp, spawn_app, spawn_second},
};

/// What the mini-program sends for a list page: a named operation, a
/// fragment, an alias, `__typename`, the total, a cursor, price and stock.
const PAGE: &str = "query ProductList($first: Int, $after: String, $category: ID, $sort: ProductSort, $keyword: String) {
  products(first: $first, after: $after, categoryId: $category, sort: $sort, keyword: $keyword) {
    totalCount
    pageInfo { hasNextPage endCursor }
    items: nodes { ...Card }
  }
}
fragment Card on Product { id title __typename category { name } skus { id priceFen stock specs { value } } }";

fn statements(app: &TestApp) -> u64 {
    app.state.db_statements.load(Ordering::SeqCst)
}

/// Runs `query` and returns its data and the statements it took.
async fn measured(app: &TestApp, token: Option<&str>, query: &str, vars: Value) -> (Value, u64) {
    let before = statements(app);
    let data = app.gql_ok(token, query, vars).await;
    (data, statements(app) - before)
}

async fn total(app: &TestApp) -> Value {
    app.gql_ok(None, "{ products(first: 1) { totalCount } }", json!({}))
        .await["products"]["totalCount"]
        .clone()
}

async fn title(app: &TestApp) -> String {
    app.gql_ok(None, "{ hotProducts { title } }", json!({}))
        .await["hotProducts"][0]["title"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn an_executed_page_runs_at_most_two_statements_whatever_its_size() {
    let app = spawn_app().await;
    lib::seed_bulk(&app.state, 120).await.unwrap();
    let cats = app.gql_ok(None, "{ categories { id } }", json!({})).await;
    let category = cats["categories"][0]["id"].as_str().unwrap().to_string();

    // The first page of a filter counts its products once (a third
    // statement); the count is then kept until the catalogue changes.
    let (first, n) = measured(&app, None, PAGE, json!({ "first": 10 })).await;
    assert_eq!(first["products"]["totalCount"], 120, "{first}");
    assert!(n <= 3, "{n} statements for the first page");

    // Every other page: the products and their SKUs, two statements,
    // whatever the size, sort, filter (counted once) or cursor. Each is a
    // new document for the response cache, so each is executed.
    let cursor = first["products"]["pageInfo"]["endCursor"].clone();
    let pages = [
        json!({ "first": 100 }),
        json!({ "first": 10, "after": cursor }),
        json!({ "first": 50, "sort": "PRICE_ASC" }),
        json!({ "first": 20, "sort": "HOT", "category": category }),
        json!({ "first": 20, "sort": "PRICE_DESC", "category": category }),
        json!({ "first": 20, "keyword": "0001" }),
        json!({ "first": 20, "keyword": "0001", "sort": "PRICE_ASC" }),
    ];
    let mut counts = Vec::new();
    for vars in pages {
        let (data, n) = measured(&app, None, PAGE, vars.clone()).await;
        let items = data["products"]["items"].as_array().unwrap();
        assert!(!items.is_empty(), "{vars}: {data}");
        assert_eq!(items[0]["skus"].as_array().map(Vec::len), Some(2), "{data}");
        assert!(items[0]["skus"][0]["stock"].is_number());
        assert_eq!(items[0]["category"]["name"], "压测商品");
        let total = &data["products"]["totalCount"];
        if vars.get("keyword").is_some() {
            assert_eq!(total, 11, "{vars}: 00001, 00010 to 00019");
        } else {
            assert_eq!(total, 120, "{vars}");
        }
        counts.push(n);
    }
    // The first page of the category filter and of the keyword counts it
    // once; every other page is two statements.
    assert_eq!(counts, [2, 2, 2, 3, 2, 3, 2], "statements per page");
}

#[tokio::test]
async fn the_total_follows_every_edit() {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let cat = create_category(&app, &admin, "c", None).await;
    let a = create_product(&app, &admin, &cat, "甲", &[100]).await;
    assert_eq!(total(&app).await, 1);
    create_product(&app, &admin, &cat, "乙", &[200]).await;
    assert_eq!(total(&app).await, 2);
    set_status(&app, &admin, a["id"].as_str().unwrap(), "OFF_SHELF").await;
    assert_eq!(total(&app).await, 1);
    // ADMIN counts every status, apart from shoppers.
    let v = app
        .gql_ok(
            Some(&admin),
            "{ products(first: 1) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(v["products"]["totalCount"], 2);
}

#[tokio::test]
async fn client_shaped_documents_are_answered_from_the_response_cache() {
    let app = spawn_app().await;
    lib::seed_bulk(&app.state, 30).await.unwrap();
    let plain = app
        .gql_ok(
            None,
            "{ products(first: 5) { totalCount nodes { id title skus { priceFen stock } } } }",
            json!({}),
        )
        .await;
    // As a client sends it: operation name, fragments, an alias, __typename.
    let shaped = "query ProductList { products(first: 5) { totalCount items: nodes { ...Card } } }
        fragment Card on Product { id title __typename skus { ...SkuPart } }
        fragment SkuPart on Sku { priceFen stock }";
    let before = statements(&app);
    let (first, cached) = app.gql_cached(None, shaped, json!({})).await;
    assert!(!cached, "the first one is executed");
    // On the page the plain document read, kept for its catalogue generation.
    assert_eq!(
        statements(&app) - before,
        0,
        "one read of the page for both"
    );
    let items = first["products"]["items"].as_array().unwrap();
    for (item, node) in items
        .iter()
        .zip(plain["products"]["nodes"].as_array().unwrap())
    {
        assert_eq!(item["id"], node["id"]);
        assert_eq!(item["skus"], node["skus"]);
        assert_eq!(item["__typename"], "Product");
    }
    assert_eq!(first["products"]["totalCount"], 30);
    // The same document again, and as another client formats and names it
    // (other whitespace, commas, comment, operation and fragment names):
    // the same answer, from the cache.
    let reformatted = "# the list page
        query Other{products(first:5){totalCount,items:nodes{...C}}}
        fragment C on Product{id,title,__typename,skus{...S}} fragment S on Sku{priceFen,stock}";
    for doc in [shaped, reformatted] {
        let (again, cached) = app.gql_cached(None, doc, json!({})).await;
        assert!(cached, "served from the response cache: {doc}");
        assert_eq!(again, first);
    }
}

#[tokio::test]
async fn a_private_field_in_a_fragment_is_never_cached() {
    let app = spawn_app().await;
    lib::seed_bulk(&app.state, 5).await.unwrap();
    let doc = "query Home { products(first: 3) { nodes { id } } ...Mine }
        fragment Mine on Query { ...Deeper } fragment Deeper on Query { me { id nickname } }";
    let alice = app.customer_token("alice").await;
    let bob = app.customer_token("bob").await;
    let (a1, _) = measured(&app, Some(&alice), doc, json!({})).await;
    let (a2, n) = measured(&app, Some(&alice), doc, json!({})).await;
    assert!(n > 0, "executed again, not served from a cache");
    assert_eq!(a1, a2);
    let (b, _) = measured(&app, Some(&bob), doc, json!({})).await;
    assert_ne!(b["me"]["id"], a1["me"]["id"], "each shopper gets their own");
    assert_eq!(b["products"], a1["products"]);
}

/// Scale-out with the generation followed through pub/sub: when the
/// subscription drops, the other instance still sees an edit within the
/// documented bound (1 s), by reading the counter from Redis until it has
/// subscribed again; then edits are seen at once again.
#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (CI's PostgreSQL pass)"]
async fn edits_are_seen_across_instances_when_the_subscription_drops() {
    let one = spawn_app().await;
    let two = spawn_second(&one).await;
    let admin = one.admin_token().await;
    let cat = create_category(&one, &admin, "c", None).await;
    let p = create_product(&one, &admin, &cat, "原名", &[100]).await;
    let id = p["id"].as_str().unwrap().to_string();
    assert_eq!(title(&two).await, "原名");
    assert_eq!(title(&two).await, "原名");

    // Drop every pub/sub connection of this Redis (other tests' too: they
    // read Redis meanwhile and subscribe again).
    let redis_url = std::env::var("TEST_REDIS_URL").unwrap();
    let client = redis::Client::open(redis_url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: redis::Value = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query_async(&mut conn)
        .await
        .unwrap();
    update_product(&one, &admin, &id, json!({ "title": "新名" })).await;
    let started = Instant::now();
    while title(&two).await != "新名" {
        assert!(
            started.elapsed() < Duration::from_millis(1500),
            "instance two still answers the old title after {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Subscribed again (it retries after half a second): seen at once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for name in ["三名", "四名"] {
        update_product(&one, &admin, &id, json!({ "title": name })).await;
        assert_eq!(title(&two).await, name);
    }
}
