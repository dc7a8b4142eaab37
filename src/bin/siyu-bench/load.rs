//! The order load: a flash sale and a spread load against a running server.
/// Order load against a running demo-mode server (see `scripts/bench.sh orders`).
///
/// 1. Flash sale: one SKU with `flash_stock` units; `buyers` concurrent buyers
///    place orders until it is sold out (placed orders/s, placing latency),
///    then the same buyers pay what they placed (paid orders/s), as shoppers
///    do a moment after they got their order; the check compares stock sold,
///    orders paid and units counted.
/// 2. Spread load, placing and paying: the buyers on `spread_skus` SKUs for
///    `spread_secs`, each paying an order right after placing it.
/// 3. Spread load, placing only, for `spread_secs`.
///
/// Every phase is preceded by nothing but the previous one; a short warm-up
/// (a few orders per buyer) opens the pool's connections first.
pub async fn order_load(
    base: &str,
    buyers: usize,
    flash_stock: i64,
    spread_skus: usize,
    spread_secs: u64,
) -> anyhow::Result<()> {
    use std::{
        sync::Arc,
        time::{Duration, Instant},
    };

    use futures_util::future::join_all;
    use serde_json::{Value, json};

    #[derive(Clone)]
    struct Api {
        http: reqwest::Client,
        url: Arc<str>,
    }

    impl Api {
        async fn gql(
            &self,
            token: Option<&str>,
            query: &str,
            vars: Value,
        ) -> anyhow::Result<Value> {
            let mut req = self
                .http
                .post(&*self.url)
                .json(&json!({ "query": query, "variables": vars }));
            if let Some(t) = token {
                req = req.bearer_auth(t);
            }
            Ok(req.send().await?.json().await?)
        }

        /// The placed order's id, `Ok(None)` when sold out.
        async fn place(&self, token: &str, sku: &str, key: &str) -> anyhow::Result<Option<String>> {
            const PLACE: &str = "mutation($i: OrderInput!, $k: String!) { placeOrder(input: $i, idempotencyKey: $k) { order { id } } }";
            let v = self
                .gql(
                    Some(token),
                    PLACE,
                    json!({ "i": { "items": [{ "skuId": sku, "quantity": 1 }] }, "k": key }),
                )
                .await?;
            if v["errors"][0]["extensions"]["code"] == "OUT_OF_STOCK" {
                return Ok(None);
            }
            v["data"]["placeOrder"]["order"]["id"]
                .as_str()
                .map(|id| Some(id.to_string()))
                .ok_or_else(|| anyhow::anyhow!("placeOrder: {v}"))
        }

        async fn pay(&self, token: &str, order: &str) -> anyhow::Result<()> {
            const PAY: &str = "mutation($id: ID!) { demoPay(orderId: $id) { status } }";
            let v = self.gql(Some(token), PAY, json!({ "id": order })).await?;
            anyhow::ensure!(v["data"]["demoPay"]["status"] == "PAID", "demoPay: {v}");
            Ok(())
        }

        /// The server's count of SQL statements so far (its `/metrics`).
        async fn statements(&self) -> anyhow::Result<f64> {
            let metrics_url = self.url.replace("/graphql", "/metrics");
            let text = self.http.get(metrics_url).send().await?.text().await?;
            Ok(text
                .lines()
                .filter(|l| l.starts_with("siyu_db_statements_total"))
                .filter_map(|l| l.split_whitespace().last()?.parse::<f64>().ok())
                .sum())
        }

        async fn stocks(&self, n: usize) -> anyhow::Result<Vec<(String, i64)>> {
            let v = self
                .gql(
                    None,
                    "query($n: Int!) { products(first: $n, sort: PRICE_ASC) { nodes { skus { id stock } } } }",
                    json!({ "n": n.min(100) as i64 }),
                )
                .await?;
            Ok(v["data"]["products"]["nodes"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|p| p["skus"].as_array().cloned().unwrap_or_default())
                .map(|s| {
                    (
                        s["id"].as_str().unwrap_or_default().to_string(),
                        s["stock"].as_i64().unwrap_or(0),
                    )
                })
                .collect())
        }
    }

    /// What one buyer did in a phase.
    #[derive(Default)]
    struct Tally {
        placed: Vec<(String, Duration)>,
        paid: Vec<Duration>,
        sold_out: usize,
        errors: usize,
    }

    impl Tally {
        fn merge(parts: Vec<Tally>) -> Tally {
            let mut all = Tally::default();
            for p in parts {
                all.placed.extend(p.placed);
                all.paid.extend(p.paid);
                all.sold_out += p.sold_out;
                all.errors += p.errors;
            }
            all
        }

        fn latency(&self) -> String {
            let placed: Vec<Duration> = self.placed.iter().map(|p| p.1).collect();
            let mut out = format!(
                "place p50 {:.1} ms p99 {:.1} ms",
                pct(placed.clone(), 0.5),
                pct(placed, 0.99)
            );
            if !self.paid.is_empty() {
                out += &format!(
                    "; pay p50 {:.1} ms p99 {:.1} ms",
                    pct(self.paid.clone(), 0.5),
                    pct(self.paid.clone(), 0.99)
                );
            }
            out
        }
    }

    fn pct(mut v: Vec<Duration>, p: f64) -> f64 {
        if v.is_empty() {
            return 0.0;
        }
        v.sort();
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i].as_secs_f64() * 1000.0
    }

    /// Places orders for `skus` in turn until sold out (no deadline) or the
    /// deadline; pays each at once when `pay_too`.
    async fn buyer(
        api: Api,
        token: String,
        skus: Arc<Vec<String>>,
        deadline: Option<Instant>,
        pay_too: bool,
        who: usize,
        phase: &'static str,
    ) -> Tally {
        let mut t = Tally::default();
        for n in 0.. {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            let sku = &skus[(who * 7919 + n) % skus.len()];
            let started = Instant::now();
            let id = match api.place(&token, sku, &format!("{phase}-{who}-{n}")).await {
                Ok(Some(id)) => id,
                Ok(None) => {
                    t.sold_out += 1;
                    if deadline.is_none() {
                        break;
                    }
                    continue;
                }
                Err(_) => {
                    t.errors += 1;
                    continue;
                }
            };
            t.placed.push((id.clone(), started.elapsed()));
            if pay_too {
                let started = Instant::now();
                match api.pay(&token, &id).await {
                    Ok(()) => t.paid.push(started.elapsed()),
                    Err(_) => t.errors += 1,
                }
            }
        }
        t
    }

    /// Every buyer's tally, in the order of `tokens`, and the seconds taken.
    async fn run_buyers(
        api: &Api,
        tokens: &[String],
        skus: &[String],
        deadline: Option<Instant>,
        pay_too: bool,
        phase: &'static str,
    ) -> (Vec<Tally>, f64) {
        let skus = Arc::new(skus.to_vec());
        let started = Instant::now();
        let runs = tokens.iter().enumerate().map(|(i, t)| {
            tokio::spawn(buyer(
                api.clone(),
                t.clone(),
                skus.clone(),
                deadline,
                pay_too,
                i,
                phase,
            ))
        });
        let tallies = join_all(runs)
            .await
            .into_iter()
            .map(|r| r.unwrap_or_default())
            .collect();
        (tallies, started.elapsed().as_secs_f64())
    }

    let api = Api {
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(buyers * 2)
            .build()?,
        url: Arc::from(format!("{base}/graphql")),
    };

    let user = std::env::var("ADMIN_USERNAME").unwrap_or_else(|_| "admin".into());
    let pass = std::env::var("ADMIN_PASSWORD").unwrap_or_default();
    let v = api.gql(None, "mutation($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { accessToken } }", json!({ "u": user, "p": pass })).await?;
    let admin = v["data"]["adminLogin"]["accessToken"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("admin login: {v}"))?
        .to_string();

    let v = api
        .gql(Some(&admin), "{ categories { id } }", json!({}))
        .await?;
    let cat = v["data"]["categories"][0]["id"].clone();
    let v = api
        .gql(
            Some(&admin),
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
        let v = api
            .gql(
                None,
                "mutation($c: String!) { wechatLogin(input: {code: $c}) { accessToken } }",
                json!({ "c": format!("demo:bench{i}") }),
            )
            .await?;
        let t = v["data"]["wechatLogin"]["accessToken"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("login: {v}"))?
            .to_string();
        api.gql(
            Some(&t),
            "mutation { saveAddress(input: {name: \"压测\", phone: \"13800138000\", province: \"浙江省\", city: \"杭州市\", district: \"西湖区\", detail: \"1号\"}) { id } }",
            json!({}),
        )
        .await?;
        tokens.push(t);
    }
    let spread: Vec<String> = api
        .stocks(spread_skus)
        .await?
        .into_iter()
        .map(|s| s.0)
        .filter(|id| *id != flash_sku)
        .collect();
    anyhow::ensure!(!spread.is_empty(), "no products to spread the load over");

    // Warm-up: every buyer places and pays a couple of orders.
    let warm = Instant::now() + Duration::from_millis(1500);
    run_buyers(&api, &tokens, &spread, Some(warm), true, "warm").await;

    // 1. Flash sale: place until sold out, then each buyer pays its orders.
    let (per_buyer, place_secs) = run_buyers(
        &api,
        &tokens,
        std::slice::from_ref(&flash_sku),
        None,
        false,
        "flash",
    )
    .await;
    let statements_before = api.statements().await?;
    let started = Instant::now();
    let paying = per_buyer.iter().zip(&tokens).map(|(t, token)| {
        let api = api.clone();
        let token = token.clone();
        let orders: Vec<String> = t.placed.iter().map(|p| p.0.clone()).collect();
        tokio::spawn(async move {
            let mut times = Vec::new();
            let mut errors = 0;
            for id in orders {
                let started = Instant::now();
                match api.pay(&token, &id).await {
                    Ok(()) => times.push(started.elapsed()),
                    Err(_) => errors += 1,
                }
            }
            (times, errors)
        })
    });
    let mut paid = Vec::new();
    let mut pay_errors = 0;
    for (times, errors) in join_all(paying).await.into_iter().filter_map(Result::ok) {
        paid.extend(times);
        pay_errors += errors;
    }
    let pay_secs = started.elapsed().as_secs_f64();
    let pay_statements = api.statements().await? - statements_before;
    let v = api
        .gql(
            Some(&admin),
            "query($id: ID!) { product(id: $id) { salesCount skus { stock } } }",
            json!({ "id": flash_product }),
        )
        .await?;
    let left = v["data"]["product"]["skus"][0]["stock"]
        .as_i64()
        .unwrap_or(-1);
    let sold = v["data"]["product"]["salesCount"].as_i64().unwrap_or(-1);
    let flash = Tally::merge(per_buyer);
    let placed = flash.placed.len();
    println!(
        "\nflash sale: 1 SKU, {flash_stock} in stock, {buyers} buyers; placing until sold out, then paying"
    );
    println!(
        "  placing: {placed} orders in {place_secs:.2} s = {:.0} placed orders/s; {}; refused OUT_OF_STOCK {}, other errors {}",
        placed as f64 / place_secs,
        flash.latency(),
        flash.sold_out,
        flash.errors
    );
    println!(
        "  paying:  {} orders in {pay_secs:.2} s = {:.0} paid orders/s; pay p50 {:.1} ms p99 {:.1} ms; errors {pay_errors}; {:.1} SQL statements per paid order",
        paid.len(),
        paid.len() as f64 / pay_secs,
        pct(paid.clone(), 0.5),
        pct(paid.clone(), 0.99),
        pay_statements / paid.len().max(1) as f64
    );
    let units_paid = paid.len() as i64;
    let ok = flash_stock - left == units_paid && sold == units_paid && left == 0;
    println!(
        "  check: stock sold {} = orders paid {units_paid} = units counted {sold}, stock left {left}: {}",
        flash_stock - left,
        if ok { "OK, no oversell" } else { "MISMATCH" }
    );

    // 2. and 3. Spread load, placing and paying, then placing only.
    for (pay_too, phase, title) in [
        (true, "mixed", "placing and paying each order"),
        (false, "place", "placing only"),
    ] {
        let before: Vec<(String, i64)> = api
            .stocks(spread_skus)
            .await?
            .into_iter()
            .filter(|s| s.0 != flash_sku)
            .collect();
        let deadline = Instant::now() + Duration::from_secs(spread_secs);
        let (tallies, secs) =
            run_buyers(&api, &tokens, &spread, Some(deadline), pay_too, phase).await;
        let t = Tally::merge(tallies);
        let after: std::collections::HashMap<String, i64> =
            api.stocks(spread_skus).await?.into_iter().collect();
        let taken: i64 = before
            .iter()
            .map(|(id, was)| was - after.get(id).copied().unwrap_or(*was))
            .sum();
        let placed = t.placed.len() as i64;
        println!(
            "\nspread load, {title}: {} SKUs, {buyers} buyers, {spread_secs} s",
            spread.len()
        );
        println!(
            "  {placed} orders = {:.0} orders/s; {}; errors {}",
            placed as f64 / secs,
            t.latency(),
            t.errors
        );
        println!(
            "  check: stock taken {taken} = orders placed {placed}{}: {}",
            if pay_too {
                format!(" = orders paid {}", t.paid.len())
            } else {
                String::new()
            },
            if taken == placed && (!pay_too || t.paid.len() as i64 == placed) {
                "OK"
            } else {
                "MISMATCH"
            }
        );
    }
    Ok(())
}
