//! The benchmark's physical baseline: a bare actix-web handler answering
//! fixed bytes from memory, so the API's figures can be read as a fraction
//! of what this machine's HTTP stack can do at all (see `scripts/bench.sh`).
use actix_web::{App, HttpResponse, HttpServer, web};

pub async fn serve_baseline(addr: &str, file: &str) -> anyhow::Result<()> {
    let body = web::Bytes::from(std::fs::read(file)?);
    HttpServer::new(move || {
        let body = body.clone();
        App::new().default_service(web::to(move || {
            let body = body.clone();
            async move {
                HttpResponse::Ok()
                    .content_type("application/json")
                    .body(body)
            }
        }))
    })
    .bind(addr)?
    .run()
    .await?;
    Ok(())
}

/// Order load against a running demo-mode server (see `scripts/bench.sh orders`):
/// a flash sale (one SKU, `flash_stock` units, `buyers` concurrent buyers
/// placing and paying until it sells out) and a spread load (the same buyers
/// on `spread_skus` different SKUs for `spread_secs`). Prints orders/s,
/// p50/p99 latencies and an oversell check computed from the API.
pub async fn order_load(
    base: &str,
    buyers: usize,
    flash_stock: i64,
    spread_skus: usize,
    spread_secs: u64,
) -> anyhow::Result<()> {
    use std::time::{Duration, Instant};

    use serde_json::{Value, json};

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(buyers * 2)
        .build()?;
    let url = format!("{base}/graphql");
    let gql = move |token: Option<String>, query: &'static str, vars: Value| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let mut req = http
                .post(&url)
                .json(&json!({ "query": query, "variables": vars }));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            let v: Value = req.send().await?.json().await?;
            anyhow::Ok(v)
        }
    };

    let user = std::env::var("ADMIN_USERNAME").unwrap_or_else(|_| "admin".into());
    let pass = std::env::var("ADMIN_PASSWORD").unwrap_or_default();
    let v = gql(None, "mutation($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { accessToken } }", json!({ "u": user, "p": pass })).await?;
    let admin = v["data"]["adminLogin"]["accessToken"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("admin login: {v}"))?
        .to_string();

    let v = gql(Some(admin.clone()), "{ categories { id } }", json!({})).await?;
    let cat = v["data"]["categories"][0]["id"].clone();
    let v = gql(
        Some(admin.clone()),
        "mutation($i: ProductInput!) { createProduct(input: $i) { id skus { id } } }",
        json!({ "i": { "title": "秒杀商品", "categoryId": cat, "skus": [{ "specs": [{ "name": "规格", "value": "限量" }], "priceFen": 990, "stock": flash_stock }] } }),
    )
    .await?;
    let flash_product = v["data"]["createProduct"]["id"].clone();
    let flash_sku = v["data"]["createProduct"]["skus"][0]["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("{v}"))?
        .to_string();

    let mut tokens = Vec::new();
    for i in 0..buyers {
        let v = gql(
            None,
            "mutation($c: String!) { wechatLogin(input: {code: $c}) { accessToken } }",
            json!({ "c": format!("demo:bench{i}") }),
        )
        .await?;
        let t = v["data"]["wechatLogin"]["accessToken"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("login: {v}"))?
            .to_string();
        gql(
            Some(t.clone()),
            "mutation { saveAddress(input: {name: \"压测\", phone: \"13800138000\", province: \"浙江省\", city: \"杭州市\", district: \"西湖区\", detail: \"1号\"}) { id } }",
            json!({}),
        )
        .await?;
        tokens.push(t);
    }

    const PLACE: &str = "mutation($i: OrderInput!, $k: String!) { placeOrder(input: $i, idempotencyKey: $k) { order { id } } }";
    const PAY: &str = "mutation($id: ID!) { demoPay(orderId: $id) { status } }";

    #[derive(Default)]
    struct Tally {
        placed: Vec<Duration>,
        paid: Vec<Duration>,
        sold_out: usize,
        errors: usize,
        units_paid: i64,
    }

    async fn buyer_loop(
        gql: impl Fn(
            Option<String>,
            &'static str,
            Value,
        ) -> futures_util::future::BoxFuture<'static, anyhow::Result<Value>>,
        token: String,
        skus: Vec<String>,
        deadline: Option<Instant>,
        who: usize,
    ) -> Tally {
        let mut t = Tally::default();
        let mut n = 0usize;
        loop {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let sku = &skus[(who * 7919 + n) % skus.len()];
            n += 1;
            let started = Instant::now();
            let placed = gql(Some(token.clone()), PLACE, json!({ "i": { "items": [{ "skuId": sku, "quantity": 1 }] }, "k": format!("b{who}-{n}") })).await;
            let v = match placed {
                Ok(v) => v,
                Err(_) => {
                    t.errors += 1;
                    continue;
                }
            };
            if v["errors"][0]["extensions"]["code"] == "OUT_OF_STOCK" {
                t.sold_out += 1;
                if deadline.is_none() {
                    break;
                }
                continue;
            }
            let Some(id) = v["data"]["placeOrder"]["order"]["id"]
                .as_str()
                .map(str::to_string)
            else {
                t.errors += 1;
                continue;
            };
            t.placed.push(started.elapsed());
            let started = Instant::now();
            match gql(Some(token.clone()), PAY, json!({ "id": id })).await {
                Ok(v) if v["data"]["demoPay"]["status"] == "PAID" => {
                    t.paid.push(started.elapsed());
                    t.units_paid += 1;
                }
                _ => t.errors += 1,
            }
        }
        t
    }

    let boxed = {
        let gql = gql.clone();
        move |t: Option<String>,
              q: &'static str,
              v: Value|
              -> futures_util::future::BoxFuture<'static, anyhow::Result<Value>> {
            Box::pin(gql(t, q, v))
        }
    };

    let pct = |mut v: Vec<Duration>, p: f64| -> f64 {
        if v.is_empty() {
            return 0.0;
        }
        v.sort();
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i].as_secs_f64() * 1000.0
    };
    let merge = |parts: Vec<Tally>| {
        let mut all = Tally::default();
        for p in parts {
            all.placed.extend(p.placed);
            all.paid.extend(p.paid);
            all.sold_out += p.sold_out;
            all.errors += p.errors;
            all.units_paid += p.units_paid;
        }
        all
    };

    // Flash sale.
    let started = Instant::now();
    let runs = tokens.iter().enumerate().map(|(i, t)| {
        tokio::spawn(buyer_loop(
            boxed.clone(),
            t.clone(),
            vec![flash_sku.clone()],
            None,
            i,
        ))
    });
    let parts: Vec<Tally> = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    let flash = merge(parts);
    let v = gql(
        Some(admin.clone()),
        "query($id: ID!) { product(id: $id) { salesCount skus { stock } } }",
        json!({ "id": flash_product }),
    )
    .await?;
    let left = v["data"]["product"]["skus"][0]["stock"]
        .as_i64()
        .unwrap_or(-1);
    let sold = v["data"]["product"]["salesCount"].as_i64().unwrap_or(-1);
    println!(
        "\nflash sale: 1 SKU, {flash_stock} in stock, {buyers} buyers placing and paying on PostgreSQL"
    );
    println!(
        "  placed {} orders in {:.2} s = {:.0} orders/s (place+pay); place p50 {:.2} ms p99 {:.2} ms; pay p50 {:.2} ms p99 {:.2} ms",
        flash.placed.len(),
        elapsed,
        flash.placed.len() as f64 / elapsed,
        pct(flash.placed.clone(), 0.5),
        pct(flash.placed.clone(), 0.99),
        pct(flash.paid.clone(), 0.5),
        pct(flash.paid.clone(), 0.99)
    );
    println!(
        "  refused OUT_OF_STOCK {}, other errors {}",
        flash.sold_out, flash.errors
    );
    let ok = flash_stock - left == flash.units_paid && sold == flash.units_paid && left == 0;
    println!(
        "  check: stock sold {} = orders paid {} = units counted {}, stock left {left}: {}",
        flash_stock - left,
        flash.units_paid,
        sold,
        if ok { "OK, no oversell" } else { "MISMATCH" }
    );

    // Spread load over many SKUs.
    let v = gql(
        None,
        "query($n: Int!) { products(first: $n, sort: PRICE_ASC) { nodes { skus { id stock } } } }",
        json!({ "n": spread_skus.min(100) as i64 }),
    )
    .await?;
    let skus: Vec<(String, i64)> = v["data"]["products"]["nodes"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .flat_map(|p| p["skus"].as_array().cloned().unwrap_or_default())
                .map(|s| {
                    (
                        s["id"].as_str().unwrap_or_default().to_string(),
                        s["stock"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let sku_ids: Vec<String> = skus.iter().map(|s| s.0.clone()).collect();
    let deadline = Instant::now() + Duration::from_secs(spread_secs);
    let started = Instant::now();
    let runs = tokens.iter().enumerate().map(|(i, t)| {
        tokio::spawn(buyer_loop(
            boxed.clone(),
            t.clone(),
            sku_ids.clone(),
            Some(deadline),
            i + 1000,
        ))
    });
    let parts: Vec<Tally> = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    let spread = merge(parts);
    println!(
        "\nspread load: {} SKUs, {buyers} buyers, {spread_secs} s",
        sku_ids.len()
    );
    println!(
        "  placed {} orders = {:.0} orders/s (place+pay); place p50 {:.2} ms p99 {:.2} ms; pay p50 {:.2} ms p99 {:.2} ms; errors {}",
        spread.placed.len(),
        spread.placed.len() as f64 / elapsed,
        pct(spread.placed.clone(), 0.5),
        pct(spread.placed.clone(), 0.99),
        pct(spread.paid.clone(), 0.5),
        pct(spread.paid.clone(), 0.99),
        spread.errors
    );
    let v = gql(
        None,
        "query($n: Int!) { products(first: $n, sort: PRICE_ASC) { nodes { skus { id stock } } } }",
        json!({ "n": spread_skus.min(100) as i64 }),
    )
    .await?;
    let after: std::collections::HashMap<String, i64> = v["data"]["products"]["nodes"]
        .as_array()
        .map(|ps| {
            ps.iter()
                .flat_map(|p| p["skus"].as_array().cloned().unwrap_or_default())
                .map(|s| {
                    (
                        s["id"].as_str().unwrap_or_default().to_string(),
                        s["stock"].as_i64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let taken: i64 = skus
        .iter()
        .map(|(id, before)| before - after.get(id).copied().unwrap_or(*before))
        .sum();
    let placed = spread.placed.len() as i64;
    println!(
        "  check: stock taken {taken} = orders placed {placed} (paid {}): {}",
        spread.units_paid,
        if taken == placed { "OK" } else { "MISMATCH" }
    );
    Ok(())
}
