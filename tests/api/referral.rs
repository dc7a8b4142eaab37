//! Referral distribution through the API: the A → B → C chain, levels,
//! promoters, reversal, settlement, withdrawals, privacy, bad input.
use serde_json::{Value, json};

use crate::{
    fixtures::{
        Customer as Person, complete, create_category, create_product, invited, lib, paid_order,
        refunded, save_address, set_stock,
    },
    helpers::{TestApp, error_code, spawn_app},
};

/// A customer with an address, invited by `inviter`.
async fn join(app: &TestApp, name: &str, inviter: Option<&Person>) -> Person {
    let p = invited(app, name, inviter.map(|p| p.code.as_str())).await;
    save_address(app, &p.token).await;
    p
}

async fn promote(app: &TestApp, admin: &str, p: &Person) {
    let v = app
        .gql(
            Some(&p.token),
            "mutation { applyPromoter { status } }",
            json!({}),
        )
        .await;
    assert_eq!(v["data"]["applyPromoter"]["status"], "PENDING", "{v}");
    let v = app
        .gql(
            Some(admin),
            "mutation($c: ID!) { reviewPromoter(customerId: $c, approve: true) { status } }",
            json!({ "c": p.id }),
        )
        .await;
    assert_eq!(v["data"]["reviewPromoter"]["status"], "APPROVED", "{v}");
}

/// Places and pays an order of one 3590-fen SKU (plus 800 shipping); returns its id.
async fn buy(app: &TestApp, who: &Person, sku: &str, key: &str) -> Value {
    let items = json!([{ "skuId": sku, "quantity": 1 }]);
    paid_order(app, &who.token, items, key).await["id"].clone()
}

async fn commissions(app: &TestApp, who: &Person) -> Vec<Value> {
    let v = app.gql(Some(&who.token), "{ myCommissions { nodes { level amountFen baseFen percent status reversal buyer { nickname } } } }", json!({})).await;
    v["data"]["myCommissions"]["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .clone()
}

async fn promoter(app: &TestApp, who: &Person) -> Value {
    let v = app.gql(Some(&who.token), "{ me { promoter { status pendingFen settledFen withdrawnFen withdrawableFen owedFen level1Count level2Count } } }", json!({})).await;
    v["data"]["me"]["promoter"].clone()
}

struct Setup {
    app: TestApp,
    admin: String,
    sku: String,
    a: Person,
    b: Person,
    c: Person,
}

async fn setup() -> Setup {
    let app = spawn_app().await;
    let admin = app.admin_token().await;
    let v = app
        .gql(Some(&admin), "mutation { setCommissionRule(input: {level1Percent: 10, level2Percent: 5, settleAfterDays: 7, base: PAID_AMOUNT, promoterMode: APPLY}) { level1Percent } }", json!({}))
        .await;
    assert_eq!(v["data"]["setCommissionRule"]["level1Percent"], 10, "{v}");
    let cat = create_category(&app, &admin, "c", None).await;
    let p = create_product(&app, &admin, &cat, "分销商品", &[3590]).await;
    let sku = p["skus"][0]["id"].as_str().unwrap().to_string();
    set_stock(&app, &admin, &sku, 1000).await;
    let a = join(&app, "a", None).await;
    let b = join(&app, "b", Some(&a)).await;
    let c = join(&app, "c", Some(&b)).await;
    promote(&app, &admin, &a).await;
    promote(&app, &admin, &b).await;
    Setup {
        app,
        admin,
        sku,
        a,
        b,
        c,
    }
}

#[tokio::test]
async fn the_chain_pays_two_levels_and_no_third() {
    let s = setup().await;
    let app = &s.app;
    buy(app, &s.c, &s.sku, "o1").await;
    let b = commissions(app, &s.b).await;
    let a = commissions(app, &s.a).await;
    assert_eq!((b.len(), a.len()), (1, 1));
    assert_eq!(
        (
            b[0]["level"].as_i64(),
            b[0]["amountFen"].as_i64(),
            b[0]["baseFen"].as_i64()
        ),
        (Some(1), Some(359), Some(3590)),
        "shipping excluded: {b:?}"
    );
    assert_eq!(
        (a[0]["level"].as_i64(), a[0]["amountFen"].as_i64()),
        (Some(2), Some(180))
    );
    assert_eq!(b[0]["status"], "PENDING");
    assert_eq!(b[0]["buyer"]["nickname"], "c");
    let p = promoter(app, &s.b).await;
    assert_eq!(
        (
            p["pendingFen"].as_i64(),
            p["withdrawableFen"].as_i64(),
            p["level1Count"].as_i64()
        ),
        (Some(359), Some(0), Some(1))
    );
    assert_eq!(promoter(app, &s.a).await["level2Count"], 1);

    // D, invited by C (not a promoter): C earns nothing, B is level 2, A nothing (no third level).
    let d = join(app, "d", Some(&s.c)).await;
    buy(app, &d, &s.sku, "o2").await;
    assert!(
        commissions(app, &s.c).await.is_empty(),
        "non-promoters earn nothing"
    );
    let b = commissions(app, &s.b).await;
    assert_eq!(b.len(), 2);
    assert_eq!(
        (b[0]["level"].as_i64(), b[0]["amountFen"].as_i64()),
        (Some(2), Some(180))
    );
    assert_eq!(commissions(app, &s.a).await.len(), 1, "no third level");

    // The inviter is never re-bound, and nobody is their own inviter.
    let again = app.login("demo:c", Some(&d.code), None).await;
    assert_eq!(
        again["data"]["wechatLogin"]["customer"]["referrer"]["id"],
        s.b.id.as_str()
    );
    let me = app.login("demo:a", Some(&s.a.code), None).await;
    assert!(me["data"]["wechatLogin"]["customer"]["referrer"].is_null());
    // A share QR code's scene binds too.
    let e = app
        .login("demo:e", None, Some(&format!("ref={}", s.b.code)))
        .await;
    assert_eq!(
        e["data"]["wechatLogin"]["customer"]["referrer"]["id"],
        s.b.id.as_str()
    );
    let v = app.gql(Some(&s.b.token), "{ myTeam(level: 1) { nodes { nickname } } l2: myTeam(level: 2) { nodes { nickname } } }", json!({})).await;
    let names = |k: &str| {
        v["data"][k]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["nickname"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(names("myTeam"), vec!["e", "c"]);
    assert_eq!(names("l2"), vec!["d"]);
}

#[tokio::test]
async fn duplicate_confirmations_accrue_once() {
    let s = setup().await;
    let app = &s.app;
    let order = buy(app, &s.c, &s.sku, "o1").await;
    let id: i64 = order.as_str().unwrap().parse().unwrap();
    let o = lib::find_order(&app.state, id).await.unwrap().unwrap();
    // demoPay's own transaction again, twice, then another transaction for
    // the order already paid (recorded, and its money sent back).
    for (tx, outcome) in [
        (
            format!("demo-{}", o.order_no),
            lib::PaymentOutcome::Duplicate,
        ),
        (
            format!("demo-{}", o.order_no),
            lib::PaymentOutcome::Duplicate,
        ),
        ("another".to_string(), lib::PaymentOutcome::Refunded),
    ] {
        let confirmed = lib::confirm_payment(
            &app.state,
            lib::Confirmation {
                order_no: o.order_no.clone(),
                transaction_id: tx.clone(),
                amount_fen: o.payable_fen,
                provider: "DEMO",
            },
        )
        .await;
        assert!(
            matches!(&confirmed, Ok(o) if *o == outcome),
            "{tx}: {confirmed:?}"
        );
    }
    assert_eq!(commissions(app, &s.b).await.len(), 1);
    assert_eq!(commissions(app, &s.a).await.len(), 1);
}

#[tokio::test]
async fn a_refund_before_settlement_cancels() {
    let s = setup().await;
    let app = &s.app;
    let order = buy(app, &s.c, &s.sku, "o1").await;
    refunded(app, &s.c.token, &s.admin, &order).await;
    for p in [&s.a, &s.b] {
        let c = commissions(app, p).await;
        assert_eq!(c[0]["status"], "CANCELLED", "{c:?}");
        assert_eq!(promoter(app, p).await["pendingFen"], 0);
    }
}

#[tokio::test]
async fn settlement_waits_for_completion_and_the_window_and_runs_once() {
    let s = setup().await;
    let app = &s.app;
    let order = buy(app, &s.c, &s.sku, "o1").await;
    let settle = lib::settle_due;
    let now = chrono::Utc::now();
    assert_eq!(
        settle(&app.state, now + chrono::Duration::days(30))
            .await
            .unwrap(),
        0,
        "not completed yet"
    );
    complete(app, &s.admin, &s.c.token, &order).await;
    assert_eq!(
        settle(&app.state, chrono::Utc::now() + chrono::Duration::days(6))
            .await
            .unwrap(),
        0,
        "inside the return window"
    );
    let later = chrono::Utc::now() + chrono::Duration::days(8);
    let runs = futures_util::future::join_all((0..4).map(|_| settle(&app.state, later))).await;
    assert_eq!(
        runs.into_iter().map(Result::unwrap).sum::<usize>(),
        2,
        "each commission settles once"
    );
    let v = app
        .gql(
            Some(&s.admin),
            "mutation { runCommissionSettlement }",
            json!({}),
        )
        .await;
    assert_eq!(v["data"]["runCommissionSettlement"], 0);
    let v = app
        .gql(
            Some(&s.b.token),
            "mutation { runCommissionSettlement }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");
    let p = promoter(app, &s.b).await;
    assert_eq!(
        (
            p["settledFen"].as_i64(),
            p["withdrawableFen"].as_i64(),
            p["pendingFen"].as_i64()
        ),
        (Some(359), Some(359), Some(0))
    );
    assert_eq!(promoter(app, &s.a).await["withdrawableFen"], 180);
}

#[tokio::test]
async fn a_refund_after_settlement_is_owed() {
    let s = setup().await;
    let app = &s.app;
    let order = buy(app, &s.c, &s.sku, "o1").await;
    complete(app, &s.admin, &s.c.token, &order).await;
    lib::settle_due(&app.state, chrono::Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    // B withdraws 300 of its 359 first, so the reversal cannot all come from the balance.
    let v = app
        .gql(
            Some(&s.b.token),
            "mutation { requestWithdrawal(amountFen: 300, idempotencyKey: \"w\") { status } }",
            json!({}),
        )
        .await;
    assert_eq!(v["data"]["requestWithdrawal"]["status"], "REQUESTED", "{v}");
    let approved = refunded(app, &s.c.token, &s.admin, &order).await;
    assert_eq!(
        approved["order"]["status"], "REFUNDED",
        "after-sales refund of a completed order: {approved}"
    );
    let p = promoter(app, &s.b).await;
    assert_eq!(
        (
            p["withdrawableFen"].as_i64(),
            p["owedFen"].as_i64(),
            p["settledFen"].as_i64()
        ),
        (Some(0), Some(300), Some(0)),
        "{p}"
    );
    let c = commissions(app, &s.b).await;
    assert!(
        c.iter()
            .any(|x| x["reversal"] == true && x["amountFen"] == -359),
        "{c:?}"
    );
    let pa = promoter(app, &s.a).await;
    assert_eq!(
        (pa["withdrawableFen"].as_i64(), pa["owedFen"].as_i64()),
        (Some(0), Some(0))
    );
    // Later earnings pay the debt first.
    let order2 = buy(app, &s.c, &s.sku, "o2").await;
    complete(app, &s.admin, &s.c.token, &order2).await;
    lib::settle_due(&app.state, chrono::Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    let p = promoter(app, &s.b).await;
    assert_eq!(
        (p["withdrawableFen"].as_i64(), p["owedFen"].as_i64()),
        (Some(59), Some(0)),
        "{p}"
    );
}

#[tokio::test]
async fn concurrent_withdrawals_of_everything_accept_one() {
    let s = setup().await;
    let app = &s.app;
    let order = buy(app, &s.c, &s.sku, "o1").await;
    complete(app, &s.admin, &s.c.token, &order).await;
    lib::settle_due(&app.state, chrono::Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    let keys: Vec<String> = (0..10).map(|i| format!("w{i}")).collect();
    let results = futures_util::future::join_all(keys.iter().map(|k| {
        app.gql(Some(&s.b.token), "mutation($k: String!) { requestWithdrawal(amountFen: 359, idempotencyKey: $k) { id status } }", json!({ "k": k }))
    }))
    .await;
    let ok: Vec<&Value> = results
        .iter()
        .filter(|v| v["data"]["requestWithdrawal"]["id"].is_string())
        .collect();
    assert_eq!(ok.len(), 1, "{results:?}");
    assert!(
        results
            .iter()
            .filter(|v| v["errors"].is_array())
            .all(|v| error_code(v) == "INSUFFICIENT_BALANCE")
    );
    assert_eq!(promoter(app, &s.b).await["withdrawableFen"], 0);
    // Reject gives it back; approve pays it.
    let id = ok[0]["data"]["requestWithdrawal"]["id"].clone();
    let review = "mutation($id: ID!, $a: Boolean!) { reviewWithdrawal(id: $id, approve: $a, note: \"bank ref 1\") { status } }";
    assert_eq!(
        error_code(
            &app.gql(Some(&s.b.token), review, json!({ "id": id, "a": false }))
                .await
        ),
        "FORBIDDEN"
    );
    let v = app
        .gql(Some(&s.admin), review, json!({ "id": id, "a": false }))
        .await;
    assert_eq!(v["data"]["reviewWithdrawal"]["status"], "REJECTED", "{v}");
    assert_eq!(promoter(app, &s.b).await["withdrawableFen"], 359);
    assert_eq!(
        error_code(
            &app.gql(Some(&s.admin), review, json!({ "id": id, "a": true }))
                .await
        ),
        "CONFLICT"
    );
    let data = app
        .gql_ok(
            Some(&s.b.token),
            "mutation { requestWithdrawal(amountFen: 200, idempotencyKey: \"x\") { id } }",
            json!({}),
        )
        .await;
    let v = app
        .gql(
            Some(&s.admin),
            review,
            json!({ "id": data["requestWithdrawal"]["id"], "a": true }),
        )
        .await;
    assert_eq!(v["data"]["reviewWithdrawal"]["status"], "PAID");
    let p = promoter(app, &s.b).await;
    assert_eq!(
        (p["withdrawnFen"].as_i64(), p["withdrawableFen"].as_i64()),
        (Some(200), Some(159))
    );
    // Into the wallet, at once, with a ledger row of its own; the same key again changes nothing.
    for _ in 0..2 {
        let v = app.gql(Some(&s.b.token), "mutation { requestWithdrawal(amountFen: 159, idempotencyKey: \"wallet\", toWallet: true) { status } }", json!({})).await;
        assert_eq!(v["data"]["requestWithdrawal"]["status"], "PAID", "{v}");
    }
    let v = app.gql(Some(&s.b.token), "{ me { wallet { balanceFen transactions { nodes { kind amountFen } } } } myWithdrawals { nodes { amountFen status } } }", json!({})).await;
    assert_eq!(v["data"]["me"]["wallet"]["balanceFen"], 159);
    assert_eq!(
        v["data"]["me"]["wallet"]["transactions"]["nodes"][0]["kind"],
        "COMMISSION"
    );
    assert_eq!(
        v["data"]["myWithdrawals"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn commissions_and_teams_are_private() {
    let s = setup().await;
    let app = &s.app;
    buy(app, &s.c, &s.sku, "o1").await;
    assert!(
        commissions(app, &s.c).await.is_empty(),
        "the buyer sees none of its inviters' commissions"
    );
    let v = app
        .gql(
            Some(&s.c.token),
            "{ myTeam(level: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert!(v["data"]["myTeam"]["nodes"].as_array().unwrap().is_empty());
    // A promoter sees who bought: nickname and avatar, nothing to follow up
    // the buyer's inviter chain with.
    let v = app
        .gql(
            Some(&s.a.token),
            "{ myCommissions { nodes { level buyer { id nickname avatarUrl } } } }",
            json!({}),
        )
        .await;
    let node = &v["data"]["myCommissions"]["nodes"][0];
    assert_eq!(node["level"], 2, "{v}");
    assert_eq!(node["buyer"]["nickname"], "c", "{v}");
    for field in ["referrer { id }", "referralCode", "createdAt"] {
        for (who, q) in [
            (
                &s.a.token,
                format!("{{ myCommissions {{ nodes {{ buyer {{ {field} }} }} }} }}"),
            ),
            (
                &s.a.token,
                format!("{{ myTeam(level: 2) {{ nodes {{ {field} }} }} }}"),
            ),
        ] {
            let v = app.gql(Some(who), &q, json!({})).await;
            assert_eq!(error_code(&v), "FORBIDDEN", "{q}: {v}");
        }
    }
    // The customer itself and ADMIN still see them.
    let v = app
        .gql(
            Some(&s.c.token),
            "{ me { referralCode referrer { nickname } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["data"]["me"]["referrer"]["nickname"], "b", "{v}");
    assert_eq!(v["data"]["me"]["referralCode"], s.c.code.as_str(), "{v}");
    let v = app
        .gql(
            Some(&s.admin),
            "query($id: ID!) { customer(id: $id) { referrer { referrer { nickname } } } }",
            json!({ "id": s.c.id }),
        )
        .await;
    assert_eq!(
        v["data"]["customer"]["referrer"]["referrer"]["nickname"], "a",
        "{v}"
    );

    let v = app
        .gql(
            Some(&s.a.token),
            "{ myTeam(level: 1) { nodes { nickname scene wallet { balanceFen } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        error_code(&v),
        "FORBIDDEN",
        "a team member's wallet is not the inviter's business: {v}"
    );
    for q in [
        "{ myCommissions { nodes { id } } }",
        "{ myTeam(level: 1) { nodes { id } } }",
        "{ myWithdrawals { nodes { id } } }",
    ] {
        assert_eq!(
            error_code(&app.gql(None, q, json!({})).await),
            "UNAUTHENTICATED"
        );
        assert_eq!(
            error_code(&app.gql(Some(&s.admin), q, json!({})).await),
            "FORBIDDEN"
        );
    }
    assert_eq!(
        error_code(
            &app.gql(
                Some(&s.a.token),
                "{ promoters { nodes { status } } }",
                json!({})
            )
            .await
        ),
        "FORBIDDEN"
    );
    let v = app.gql(Some(&s.admin), "{ promoters(status: APPROVED) { nodes { status withdrawableFen pendingFen customer { nickname } } } }", json!({})).await;
    assert_eq!(
        v["data"]["promoters"]["nodes"].as_array().unwrap().len(),
        2,
        "{v}"
    );
}

#[tokio::test]
async fn bad_referral_input_gets_its_code() {
    let s = setup().await;
    let app = &s.app;
    let rule =
        "mutation($i: CommissionRuleInput!) { setCommissionRule(input: $i) { level1Percent } }";
    for (input, field) in [
        (
            json!({ "level1Percent": 40, "level2Percent": 11, "settleAfterDays": 7, "base": "PAID_AMOUNT", "promoterMode": "OPEN" }),
            "level2Percent",
        ),
        (
            json!({ "level1Percent": -1, "level2Percent": 0, "settleAfterDays": 7, "base": "PAID_AMOUNT", "promoterMode": "OPEN" }),
            "level1Percent",
        ),
        (
            json!({ "level1Percent": 10, "level2Percent": 5, "settleAfterDays": 181, "base": "PAID_AMOUNT", "promoterMode": "OPEN" }),
            "settleAfterDays",
        ),
    ] {
        let v = app.gql(Some(&s.admin), rule, json!({ "i": input })).await;
        assert_eq!(v["errors"][0]["extensions"]["field"], field, "{v}");
    }
    let open = json!({ "level1Percent": 10, "level2Percent": 5, "settleAfterDays": 7, "base": "GROSS_MARGIN", "promoterMode": "OPEN" });
    assert_eq!(
        error_code(&app.gql(Some(&s.a.token), rule, json!({ "i": open })).await),
        "FORBIDDEN"
    );
    let v = app
        .gql(
            None,
            "{ commissionRule { level1Percent base promoterMode settleAfterDays } }",
            json!({}),
        )
        .await;
    assert_eq!(v["data"]["commissionRule"]["promoterMode"], "APPLY");
    let v = app
        .gql(
            Some(&s.b.token),
            "{ myTeam(level: 3) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(v["errors"][0]["extensions"]["field"], "level");
    let v = app
        .gql(
            Some(&s.b.token),
            "mutation { requestWithdrawal(amountFen: 50, idempotencyKey: \"k\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(
        v["errors"][0]["extensions"]["field"], "amountFen",
        "below the minimum: {v}"
    );
    let v = app
        .gql(
            Some(&s.b.token),
            "mutation { requestWithdrawal(amountFen: 500, idempotencyKey: \"k\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "INSUFFICIENT_BALANCE");
    let v = app
        .gql(
            Some(&s.c.token),
            "mutation { requestWithdrawal(amountFen: 500, idempotencyKey: \"k\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN", "not a promoter");
    let v = app
        .gql(
            Some(&s.admin),
            "mutation { reviewWithdrawal(id: \"999\", approve: true) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND");
    let v = app
        .gql(
            Some(&s.admin),
            "mutation { reviewPromoter(customerId: \"999\", approve: true) { status } }",
            json!({}),
        )
        .await;
    assert_eq!(error_code(&v), "NOT_FOUND");
    // OPEN mode with a GROSS_MARGIN base: everyone earns, on the margin.
    app.gql_ok(Some(&s.admin), rule, json!({ "i": open })).await;
    let f = join(app, "f", Some(&s.c)).await;
    buy(app, &f, &s.sku, "o-f").await;
    let c = commissions(app, &s.c).await;
    assert_eq!(c.len(), 1, "OPEN: C earns without applying");
    assert_eq!(
        c[0]["baseFen"], 3590,
        "no supplier cost on this SKU: margin = paid"
    );
}

#[tokio::test]
async fn partial_refunds_after_settlement_reverse_each_share_once() {
    let s = setup().await;
    let app = &s.app;
    let items = json!([{ "skuId": s.sku, "quantity": 2 }]);
    let order = paid_order(app, &s.c.token, items, "o1").await["id"].clone();
    complete(app, &s.admin, &s.c.token, &order).await;
    lib::settle_due(&app.state, chrono::Utc::now() + chrono::Duration::days(8))
        .await
        .unwrap();
    // 7180 of goods: B 718 (10%), A 359 (5%), both settled.
    assert_eq!(promoter(app, &s.b).await["withdrawableFen"], 718);
    let line = app
        .gql_ok(
            Some(&s.admin),
            "query($id: ID!) { order(id: $id) { lines { id } } }",
            json!({ "id": order }),
        )
        .await["order"]["lines"][0]["id"]
        .clone();
    let refund = "mutation($o: ID!, $i: AdminRefundInput!, $k: String!) { refundOrder(orderId: $o, input: $i, idempotencyKey: $k) { status amountFen } }";
    for (k, (b_left, a_left)) in [("r1", (359, 179)), ("r2", (0, 0))] {
        let v = app
            .gql(
                Some(&s.admin),
                refund,
                json!({ "o": order, "i": { "lines": [{ "orderLineId": line, "quantity": 1 }], "reason": "破损", "restock": false }, "k": k }),
            )
            .await;
        assert_eq!(v["data"]["refundOrder"]["status"], "REFUNDED", "{v}");
        // One unit of two: B gives back 359; A 359 × 1/2 = 179.5 → 180,
        // then the rest (179).
        assert_eq!(promoter(app, &s.b).await["withdrawableFen"], b_left, "{k}");
        assert_eq!(promoter(app, &s.a).await["withdrawableFen"], a_left, "{k}");
    }
    let b: Vec<i64> = commissions(app, &s.b)
        .await
        .iter()
        .filter(|c| c["reversal"] == true)
        .map(|c| c["amountFen"].as_i64().unwrap())
        .collect();
    assert_eq!(b, vec![-359, -359], "one reversal per after-sale");
    let a: i64 = commissions(app, &s.a)
        .await
        .iter()
        .map(|c| c["amountFen"].as_i64().unwrap())
        .sum();
    assert_eq!(a, 0, "A's reversals add up to its commission");
}
