//! The admin console (issue 19): `GET /admin` serves the page and its ES
//! modules from the binary under a strict CSP; every GraphQL document the
//! scripts send is valid against the served schema (and passes the server's
//! depth and cost check); demo mode without a configured admin has the demo
//! owner the README names.
use std::{collections::HashMap, path::Path};

use serde_json::{Value, json};
use siyu::{
    app::startup::{Application, DEMO_ADMIN_PASSWORD, DEMO_ADMIN_USERNAME},
    config::Settings,
};

use crate::helpers::{TestApp, spawn_app_with};

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap()
}

fn assets_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/admin")
}

/// The console's script files on disk, by name.
fn scripts() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(assets_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "js"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Every gql`...` literal of a script (the console writes its documents
/// only that way, without interpolation).
fn documents(source: &str) -> Vec<String> {
    source
        .split("gql`")
        .skip(1)
        .map(|rest| {
            let doc = rest.split('`').next().unwrap();
            assert!(!doc.contains("${"), "a document with interpolation: {doc}");
            doc.to_string()
        })
        .collect()
}

#[tokio::test]
async fn the_page_its_modules_and_the_policy() {
    let app = spawn_app_with(&[]).await;
    for path in ["/admin", "/admin/"] {
        let res = get(&app, path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        let csp = res.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        for directive in [
            "default-src 'none'",
            "script-src 'self';",
            "style-src 'self';",
            "connect-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{path}: {directive} in {csp}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        let html = res.text().await.unwrap();
        assert!(html.contains("/admin/app.js") && html.contains("/admin/style.css"));
        // No inline script or style: the policy would block it.
        assert!(!html.contains("<style") && !html.contains("style="));
        assert!(
            !html
                .replace("<script type=\"module\" src=", "")
                .contains("<script")
        );
    }

    // Every module on disk is served, and every import of every module
    // resolves to one that is.
    let scripts = scripts();
    assert!(scripts.len() >= 6, "{scripts:?}");
    let mut imported = vec!["app.js".to_string()];
    for (name, source) in &scripts {
        for spec in source.split("from './").skip(1) {
            imported.push(spec.split('\'').next().unwrap().to_string());
        }
        let res = get(&app, &format!("/admin/{name}")).await;
        assert_eq!(res.status(), 200, "{name}");
        assert_eq!(
            res.headers()["content-type"],
            "text/javascript; charset=utf-8",
            "{name}"
        );
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(res.headers()["cache-control"], "no-cache", "{name}");
        let tag = res.headers()["etag"].to_str().unwrap().to_string();
        assert_eq!(res.text().await.unwrap(), *source, "{name} is stale");
        // Revalidation answers 304 without the body.
        let again = app
            .client
            .get(format!("{}/admin/{name}", app.address))
            .header("if-none-match", &tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{name}");
    }
    for name in imported {
        assert!(
            scripts.iter().any(|(n, _)| *n == name),
            "imported but not a console file: {name}"
        );
    }
    let css = get(&app, "/admin/style.css").await;
    assert_eq!(css.status(), 200);
    assert_eq!(css.headers()["content-type"], "text/css; charset=utf-8");

    for missing in [
        "/admin/nothing.js",
        "/admin/index.html/x",
        "/admin/../Cargo.toml",
        "/admin/%2e%2e/Cargo.toml",
        "/admin/README.md",
    ] {
        let res = get(&app, missing).await;
        assert_eq!(res.status(), 404, "{missing}");
    }
}

#[tokio::test]
async fn every_document_the_console_sends_is_valid_against_the_schema() {
    let app = spawn_app_with(&[]).await;
    let admin = app.admin_token().await;
    let mut count = 0;
    for (name, source) in scripts() {
        for doc in documents(&source) {
            count += 1;
            // An operation name the document does not have: the server
            // parses, checks (depth, cost) and validates the whole document
            // against the schema, then stops before running anything.
            let res = app
                .client
                .post(format!("{}/graphql", app.address))
                .bearer_auth(&admin)
                .json(&json!({ "query": doc, "operationName": "ConsoleValidateOnly" }))
                .send()
                .await
                .unwrap();
            let v: Value = res.json().await.unwrap();
            let errors = v["errors"].as_array().unwrap_or_else(|| panic!("{v}"));
            assert_eq!(errors.len(), 1, "{name}: {doc}\n{v}");
            assert_eq!(
                errors[0]["message"], "Unknown operation named \"ConsoleValidateOnly\"",
                "{name}: {doc}\n{v}"
            );
        }
    }
    // Login, refresh, logout, the dashboard's two, orders' ten,
    // withdrawals' two.
    assert!(count >= 17, "only {count} documents found");
}

#[tokio::test]
async fn an_invalid_document_is_caught_by_the_same_check() {
    // The check above must be able to fail: a field the schema lacks.
    let app = spawn_app_with(&[]).await;
    let admin = app.admin_token().await;
    let v: Value = app
        .client
        .post(format!("{}/graphql", app.address))
        .bearer_auth(&admin)
        .json(&json!({
            "query": "query A { orders(first: 1) { nodes { noSuchField } } }",
            "operationName": "ConsoleValidateOnly"
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let message = v["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("noSuchField"), "{v}");
}

#[tokio::test]
async fn demo_mode_without_an_admin_has_the_demo_owner() {
    let vars: HashMap<&str, &str> = [
        ("BIND", "127.0.0.1:0"),
        ("JWT_SECRET", "console-test-secret-console-test-secret-0123"),
        ("WORKERS", "1"),
        ("SEED_DEMO", "false"),
        ("JOBS", "false"),
        ("DATABASE_URL", "sqlite::memory:"),
    ]
    .into();
    let settings = Settings::from_lookup(|k| vars.get(k).map(|v| v.to_string())).unwrap();
    assert!(settings.demo_mode() && settings.admin_username.is_none());
    let app = Application::build(settings).await.expect("app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let v: Value = reqwest::Client::new()
        .post(format!("{address}/graphql"))
        .json(&json!({
            "query": "mutation($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { role accessToken } }",
            "variables": { "u": DEMO_ADMIN_USERNAME, "p": DEMO_ADMIN_PASSWORD }
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["adminLogin"]["role"], "ADMIN", "{v}");
}

#[tokio::test]
async fn a_configured_admin_means_no_demo_owner() {
    let app = spawn_app_with(&[]).await;
    let v = app
        .gql(
            None,
            "mutation($u: String!, $p: String!) { adminLogin(username: $u, password: $p) { role } }",
            json!({ "u": DEMO_ADMIN_USERNAME, "p": DEMO_ADMIN_PASSWORD }),
        )
        .await;
    assert!(
        v["data"].is_null() || v["data"]["adminLogin"].is_null(),
        "{v}"
    );
    assert!(v["errors"][0]["extensions"]["code"].is_string(), "{v}");
}

#[tokio::test]
async fn the_console_signs_in_charts_and_approves_a_refund_in_chromium() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || crate::graphiql::browser_tools(&dir)
    })
    .await
    .unwrap();

    let app = spawn_app_with(&[]).await;
    let shop = crate::fixtures::shop(&app, 10).await;
    let buyer = crate::fixtures::new_buyer(&app, "console-buyer").await;
    let order =
        crate::fixtures::paid_order(&app, &buyer, shop.items(&[(2, 1)]), "console").await["id"]
            .clone();
    crate::fixtures::refund_requested(&app, &buyer, &order).await;
    let to_ship =
        crate::fixtures::paid_order(&app, &buyer, shop.items(&[(2, 1)]), "ship").await["id"]
            .clone();
    // A third order whose buyer asks for an after-sale (refund only) of its line.
    let returned = crate::fixtures::paid_order(&app, &buyer, shop.items(&[(2, 1)]), "after-sale")
        .await["id"]
        .clone();
    let v = app
        .gql(
            Some(&buyer),
            "query($id: ID!) { order(id: $id) { lines { id } } }",
            json!({ "id": returned }),
        )
        .await;
    let line = crate::helpers::ok(&v)["order"]["lines"][0]["id"].clone();
    let v = app
        .gql(
            Some(&buyer),
            "mutation($i: AfterSaleInput!) { requestAfterSale(input: $i, idempotencyKey: \"a\") { status } }",
            json!({ "i": { "orderId": returned, "kind": "REFUND_ONLY", "lines": [{ "orderLineId": line, "quantity": 1 }], "reason": "坏了" } }),
        )
        .await;
    assert_eq!(
        crate::helpers::ok(&v)["requestAfterSale"]["status"],
        "REQUESTED",
        "{v}"
    );
    let order_no = |id: Value, status: &'static str| {
        let (app, admin) = (&app, &shop.admin);
        async move {
            let v = app
                .gql(
                    Some(admin),
                    "query($id: ID!) { order(id: $id) { orderNo status } }",
                    json!({ "id": id }),
                )
                .await;
            assert_eq!(crate::helpers::ok(&v)["order"]["status"], status, "{v}");
            v["data"]["order"]["orderNo"].as_str().unwrap().to_string()
        }
    };
    let withdrawal = promoter_with_a_requested_withdrawal(&app, &shop).await;
    // A part to ship that customer service must not be offered to ship.
    let unshipped = crate::fixtures::paid_order(&app, &buyer, shop.items(&[(2, 1)]), "unshipped")
        .await["id"]
        .clone();
    let (to_ship_no, order_no, returned_no) = (
        order_no(to_ship, "PAID").await,
        order_no(order, "REFUNDING").await,
        order_no(returned.clone(), "PAID").await,
    );

    // For the customer-operations steps (tests/browser/console_customers.mjs):
    // the buyer's id, and a store-issued coupon template to send to a segment.
    let buyer_id = crate::fixtures::id_of(
        &app.gql_ok(Some(&buyer), "query { me { id } }", json!({}))
            .await["me"],
    );
    let template = crate::fixtures::coupon_template(
        &app,
        &shop.admin,
        json!({ "name": "控制台满50减5", "thresholdFen": 5000, "offFen": 500,
                "totalQuantity": 100, "validDays": 30, "claimable": false }),
    )
    .await;
    assert_eq!(template["remaining"], 100, "{template}");
    let (template_id, template_name) = (
        crate::fixtures::id_of(&template),
        template["name"].as_str().unwrap().to_string(),
    );

    // Kept after the run (CI keeps the target folder's test output).
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("admin-console-screenshots");
    let address = app.address.clone();
    let console_env = [
        ("CONSOLE_BUYER_ID", buyer_id.clone()),
        ("CONSOLE_COUPON_TEMPLATE_ID", template_id),
        ("CONSOLE_COUPON_TEMPLATE", template_name.clone()),
    ];
    let withdrawal_id = withdrawal.clone();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new("node")
            .arg(dir.join("admin_console.mjs"))
            .args([
                address.as_str(),
                crate::helpers::ADMIN_USER,
                crate::helpers::ADMIN_PASS,
                order_no.as_str(),
            ])
            .arg(&shots)
            .arg(&to_ship_no)
            .arg(&returned_no)
            .env("CHROMIUM", chromium)
            .envs(console_env)
            .env("CONSOLE_WITHDRAWAL_ID", withdrawal_id)
            .env("CONSOLE_PROMOTER", PROMOTER)
            .env(
                "CONSOLE_UNSHIPPED_ORDER_ID",
                crate::fixtures::text(&unshipped),
            )
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("node (Node.js 20+) on PATH");
        // The script has its own time-outs; this one only guards a hang.
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > std::time::Duration::from_secs(300) {
                child.kill().ok();
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "the admin console in Chromium:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // What the clicks did, seen through the API.
    let v = app
        .gql(
            Some(&shop.admin),
            "query($id: ID!) { order(id: $id) { afterSales { status refundedAt } } }",
            json!({ "id": returned }),
        )
        .await;
    let after_sale = &crate::helpers::ok(&v)["order"]["afterSales"][0];
    assert_eq!(after_sale["status"], "REFUNDED", "{v}");
    // The customer-operations steps: the credit, the tag, the segment and
    // the coupon the buyer received from the campaign.
    let v = app
        .gql(
            Some(&shop.admin),
            "query($id: ID!) { customer(id: $id) { tags wallet { balanceFen } } segments { name customerCount } }",
            json!({ "id": buyer_id }),
        )
        .await;
    let data = crate::helpers::ok(&v);
    assert_eq!(data["customer"]["wallet"]["balanceFen"], 1234, "{v}");
    assert_eq!(data["customer"]["tags"], json!(["高价值"]), "{v}");
    assert!(
        data["segments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["name"] == "console-下过单" && s["customerCount"].as_i64() > Some(0)),
        "{v}"
    );
    let v = app
        .gql(
            Some(&buyer),
            "query { myCoupons { source template { name } } }",
            json!({}),
        )
        .await;
    let coupons = crate::helpers::ok(&v)["myCoupons"].as_array().unwrap();
    assert!(
        coupons
            .iter()
            .any(|c| c["template"]["name"] == template_name.as_str() && c["source"] == "ISSUE"),
        "{v}"
    );
    // The withdrawal approved in the queue is paid (no transfers configured:
    // the store paid by hand, the note its reference).
    let v = app
        .gql_ok(
            Some(&shop.admin),
            "{ withdrawals(filter: {status: PAID}, first: 10) { nodes { id amountFen note } } }",
            json!({}),
        )
        .await;
    let paid = v["withdrawals"]["nodes"].as_array().unwrap();
    assert_eq!(paid.len(), 1, "{v}");
    assert_eq!(crate::fixtures::text(&paid[0]["id"]), withdrawal, "{v}");
    assert_eq!(paid[0]["note"], "手工打款 CONSOLE-1", "{v}");
    // The coupon's amounts typed in yuan arrived as exact fen, and kept
    // through the edit that renamed it.
    let v = app
        .gql_ok(
            Some(&shop.admin),
            "{ couponTemplates { name thresholdFen offFen totalQuantity active } }",
            json!({}),
        )
        .await;
    let coupon = v["couponTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "控制台满减券二")
        .unwrap_or_else(|| panic!("the console's coupon: {v}"));
    assert_eq!(
        (
            &coupon["thresholdFen"],
            &coupon["offFen"],
            &coupon["totalQuantity"]
        ),
        (&json!(9900), &json!(1050), &json!(100)),
        "{v}"
    );
}

/// The promoter of the money steps (its nickname, which the console shows).
const PROMOTER: &str = "console-promoter";

/// Through the API: a 20% level-1 rule settling at once, a promoter whose
/// invitee bought ¥10.00 of goods and received them, the commission settled (¥2.00),
/// and a withdrawal of ¥1.50 waiting for the store. Returns its id.
async fn promoter_with_a_requested_withdrawal(
    app: &TestApp,
    shop: &crate::fixtures::Shop,
) -> String {
    use crate::{fixtures, helpers::ok};
    let v = app
        .gql_ok(
            Some(&shop.admin),
            "mutation { setCommissionRule(input: {level1Percent: 20, level2Percent: 0, settleAfterDays: 0, base: PAID_AMOUNT, promoterMode: OPEN}) { level1Percent settleAfterDays } }",
            json!({}),
        )
        .await;
    assert_eq!(
        (
            &v["setCommissionRule"]["level1Percent"],
            &v["setCommissionRule"]["settleAfterDays"]
        ),
        (&json!(20), &json!(0)),
        "{v}"
    );
    let promoter = fixtures::customer(app, PROMOTER).await;
    let v = app
        .gql(
            Some(&promoter.token),
            "mutation { applyPromoter { status } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["applyPromoter"]["status"], "APPROVED", "{v}");
    let invitee = fixtures::invited(app, "console-invitee", Some(&promoter.code)).await;
    fixtures::save_address(app, &invitee.token).await;
    let order =
        fixtures::paid_order(app, &invitee.token, shop.items(&[(2, 1)]), "commission").await;
    assert_eq!(order["itemsFen"], 1000, "{order}");
    fixtures::complete(app, &shop.admin, &invitee.token, &order["id"]).await;
    let v = app
        .gql(
            Some(&shop.admin),
            "mutation { runCommissionSettlement }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["runCommissionSettlement"], 1, "{v}");
    let v = app
        .gql(
            Some(&promoter.token),
            "{ me { nickname promoter { settledFen withdrawableFen } } }",
            json!({}),
        )
        .await;
    let me = &ok(&v)["me"];
    assert_eq!(me["nickname"], PROMOTER, "{v}");
    assert_eq!(
        (
            &me["promoter"]["settledFen"],
            &me["promoter"]["withdrawableFen"]
        ),
        (&json!(200), &json!(200)),
        "{v}"
    );
    let v = app
        .gql(
            Some(&promoter.token),
            "mutation { requestWithdrawal(amountFen: 150, idempotencyKey: \"console\") { id status amountFen } }",
            json!({}),
        )
        .await;
    let w = &ok(&v)["requestWithdrawal"];
    assert_eq!(
        (&w["status"], &w["amountFen"]),
        (&json!("REQUESTED"), &json!(150)),
        "{v}"
    );
    fixtures::text(&w["id"])
}
