//! Commission withdrawals paid through WeChat Pay's merchant transfer
//! (商家转账), end to end against the signed stand-in: approval creates one
//! bill (signed, its fields checked, `user_name` encrypted when the amount
//! needs it) and hands its package to the promoter only; the notification
//! pays it once; failed and cancelled transfers give the money back once;
//! lost answers are retried on the same bill; the automatic approval and
//! its daily caps hold under concurrent requests; refusals change nothing.
use chrono::{Duration, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use wiremock::{Mock, MockServer, Request, ResponseTemplate, matchers::path};

use crate::{
    fixtures::{complete, create_category, create_product, lib, place, save_address, text},
    helpers::{TestApp, error_code, ok, spawn_app_with},
    wechatpay_standin::WechatPayStandIn,
};

const APPID: &str = "wx-test-app";
const REQUEST: &str = "mutation($n: Money!, $k: String!, $r: String) { requestWithdrawal(amountFen: $n, idempotencyKey: $k, realName: $r) { id status transferPackage failureReason } }";
const REVIEW: &str = "mutation($id: ID!, $a: Boolean!) { reviewWithdrawal(id: $id, approve: $a) { id status transferPackage failureReason } }";
const MINE: &str = "{ myWithdrawals { nodes { id status transferPackage failureReason amountFen } } me { promoter { withdrawableFen withdrawnFen } } }";
const QUEUE: &str = "query($s: WithdrawalStatus) { withdrawals(filter: { status: $s }) { totalCount nodes { id status transferPackage } } }";

struct Payouts {
    app: TestApp,
    pay: WechatPayStandIn,
    _wechat: MockServer,
    admin: String,
    sku: String,
}

struct Promoter {
    token: String,
    openid: String,
}

/// A shop paying withdrawals by transfer (scene 1005), with `env` on top.
async fn payouts(env: &[(&str, &str)]) -> Payouts {
    // Every login code `code-<name>` is the WeChat user `o-<name>`.
    let wechat = MockServer::start().await;
    Mock::given(path("/sns/jscode2session"))
        .respond_with(|req: &Request| {
            let code = req
                .url
                .query_pairs()
                .find(|(k, _)| k == "js_code")
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            let openid = format!("o-{}", code.trim_start_matches("code-"));
            ResponseTemplate::new(200)
                .set_body_json(json!({ "openid": openid, "session_key": "k" }))
        })
        .mount(&wechat)
        .await;
    let pay = WechatPayStandIn::start().await;
    pay.mount_default().await;
    let mut vars: Vec<(String, String)> = pay.env();
    vars.extend(
        [
            ("WECHAT_APPID", APPID),
            ("WECHAT_SECRET", "secret"),
            ("WECHATPAY_TRANSFER_SCENE_ID", "1005"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    vars.push(("WECHAT_API_BASE".into(), wechat.uri()));
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let app = spawn_app_with(&refs).await;
    let admin = app.admin_token().await;
    let data = app
        .gql_ok(Some(&admin), "mutation { setCommissionRule(input: {level1Percent: 50, level2Percent: 0, settleAfterDays: 0, base: PAID_AMOUNT, promoterMode: OPEN}) { level1Percent } }", json!({}))
        .await;
    assert_eq!(data["setCommissionRule"]["level1Percent"], 50, "{data}");
    let cat = create_category(&app, &admin, "c", None).await;
    let p = create_product(&app, &admin, &cat, "茶", &[1000]).await;
    let sku = text(&p["skus"][0]["id"]);
    crate::fixtures::set_stock(&app, &admin, &sku, 100_000).await;
    Payouts {
        app,
        pay,
        _wechat: wechat,
        admin,
        sku,
    }
}

impl Payouts {
    async fn login(&self, name: &str, referral: Option<&str>) -> (String, Value) {
        let v = self
            .app
            .login(&format!("code-{name}"), referral, None)
            .await;
        let login = ok(&v)["wechatLogin"].clone();
        (text(&login["accessToken"]), login["customer"].clone())
    }

    /// A promoter with `units × 500` fen settled and withdrawable: a
    /// customer it invited bought `units` teas (50% commission), paid by
    /// WeChat Pay, received them, and the commission settled.
    async fn promoter(&self, name: &str, units: i64) -> Promoter {
        self.promoter_on(name, &self.sku, units, 1000).await
    }

    /// The same with `units` of `sku` at `price` fen.
    async fn promoter_on(&self, name: &str, sku: &str, units: i64, price: i64) -> Promoter {
        let (token, customer) = self.login(name, None).await;
        let code = text(&customer["referralCode"]);
        let (buyer, _) = self.login(&format!("{name}-buyer"), Some(&code)).await;
        save_address(&self.app, &buyer).await;
        let v = place(
            &self.app,
            &buyer,
            json!([{ "skuId": sku, "quantity": units }]),
            "k",
        )
        .await;
        let order = ok(&v)["placeOrder"]["order"].clone();
        let tx = json!({
            "appid": APPID, "mchid": self.pay.mchid, "out_trade_no": order["orderNo"],
            "transaction_id": format!("42000{name}"), "trade_type": "JSAPI", "trade_state": "SUCCESS",
            "amount": { "total": order["payableFen"], "payer_total": order["payableFen"], "currency": "CNY" },
            "payer": { "openid": format!("o-{name}-buyer") }, "success_time": "2026-12-01T12:00:00+08:00"
        });
        assert_eq!(
            self.post("/webhooks/wechat-pay", self.pay.notification(&tx, now()))
                .await,
            200
        );
        complete(&self.app, &self.admin, &buyer, &order["id"]).await;
        let settled = lib::settle_due(&self.app.state, Utc::now() + Duration::days(1))
            .await
            .unwrap();
        assert!(settled >= 1, "{settled}");
        let p = Promoter {
            token,
            openid: format!("o-{name}"),
        };
        assert_eq!(self.withdrawable(&p).await, units * price / 2);
        p
    }

    async fn post(&self, route: &str, (headers, body): (Vec<(String, String)>, String)) -> u16 {
        let mut req = self
            .app
            .client
            .post(format!("{}{route}", self.app.address))
            .body(body);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        req.send().await.unwrap().status().as_u16()
    }

    async fn notify(&self, out_bill_no: &str) -> u16 {
        self.post(
            "/webhooks/wechat-transfer",
            self.pay.transfer_notification(out_bill_no, now()),
        )
        .await
    }

    async fn request(&self, p: &Promoter, amount: i64, key: &str) -> Value {
        self.app
            .gql(
                Some(&p.token),
                REQUEST,
                json!({ "n": amount, "k": key, "r": null }),
            )
            .await
    }

    async fn review(&self, id: &Value, approve: bool) -> Value {
        self.app
            .gql(Some(&self.admin), REVIEW, json!({ "id": id, "a": approve }))
            .await
    }

    async fn mine(&self, p: &Promoter) -> Value {
        self.app.gql_ok(Some(&p.token), MINE, json!({})).await
    }

    async fn withdrawable(&self, p: &Promoter) -> i64 {
        self.mine(p).await["me"]["promoter"]["withdrawableFen"]
            .as_i64()
            .unwrap()
    }

    async fn row(&self, id: &Value) -> entity::withdrawal::Model {
        let id: i64 = text(id).parse().unwrap();
        entity::withdrawal::Entity::find_by_id(id)
            .one(&self.app.state.db)
            .await
            .unwrap()
            .unwrap()
    }

    /// The promoter's balance is what settled, less what withdrawals hold,
    /// as the append-only ledger tells it.
    async fn ledger_holds(&self, p: &Promoter, settled: i64) {
        let customer = entity::customer::Entity::find()
            .filter(entity::customer::Column::Openid.eq(p.openid.as_str()))
            .one(&self.app.state.db)
            .await
            .unwrap()
            .unwrap();
        let entries = entity::withdrawal_entry::Entity::find()
            .filter(entity::withdrawal_entry::Column::PromoterId.eq(customer.id))
            .all(&self.app.state.db)
            .await
            .unwrap();
        let sum: i64 = entries.iter().map(|e| e.amount_fen).sum();
        assert_eq!(self.withdrawable(p).await, settled + sum, "{entries:?}");
    }

    async fn run_jobs(&self, at: chrono::DateTime<Utc>) -> usize {
        siyu::modules::referral::payout::run_due(&self.app.state, at)
            .await
            .unwrap()
    }
}

fn now() -> i64 {
    Utc::now().timestamp()
}

#[tokio::test]
async fn an_approved_withdrawal_is_one_bill_its_owner_confirms_and_one_notification_pays() {
    let s = payouts(&[]).await;
    let p = s.promoter("pia", 4).await;
    let v = s.request(&p, 1200, "w1").await;
    let w = ok(&v)["requestWithdrawal"].clone();
    assert_eq!(w["status"], "REQUESTED", "{w}");
    assert!(s.pay.transfers().is_empty(), "no bill before approval");

    let v = s.review(&w["id"], true).await;
    let reviewed = &ok(&v)["reviewWithdrawal"];
    assert_eq!(reviewed["status"], "WAITING_CONFIRMATION", "{v}");
    // The store does not see the promoter's package.
    assert!(reviewed["transferPackage"].is_null(), "{v}");
    let row = s.row(&w["id"]).await;
    let no = row.out_bill_no.clone().unwrap();
    let bill = s.pay.transfer(&no).expect("one bill at WeChat Pay");
    assert_eq!(
        (
            bill.amount_fen,
            bill.openid.as_str(),
            bill.scene_id.as_str()
        ),
        (1200, "o-pia", "1005")
    );
    assert_eq!(bill.user_name, None, "no real name below 2,000 yuan");
    assert_eq!(bill.remark, "推广佣金提现");
    let mine = s.mine(&p).await;
    let node = &mine["myWithdrawals"]["nodes"][0];
    assert_eq!(
        node["transferPackage"],
        bill.package_info.as_str(),
        "{mine}"
    );
    assert_eq!(mine["me"]["promoter"]["withdrawableFen"], 800);
    let queue = s
        .app
        .gql_ok(
            Some(&s.admin),
            QUEUE,
            json!({ "s": "WAITING_CONFIRMATION" }),
        )
        .await;
    assert_eq!(queue["withdrawals"]["totalCount"], 1, "{queue}");
    assert!(queue["withdrawals"]["nodes"][0]["transferPackage"].is_null());

    // Approving again is refused; a retried creation names the same bill.
    assert_eq!(error_code(&s.review(&w["id"], true).await), "CONFLICT");
    // The promoter confirms; WeChat Pay says so, twice.
    s.pay.set_transfer_state(&no, "SUCCESS", None);
    assert_eq!(s.notify(&no).await, 200);
    assert_eq!(s.notify(&no).await, 200);
    let mine = s.mine(&p).await;
    let node = &mine["myWithdrawals"]["nodes"][0];
    assert_eq!(node["status"], "PAID", "{mine}");
    assert!(node["transferPackage"].is_null(), "a used package is gone");
    assert_eq!(mine["me"]["promoter"]["withdrawnFen"], 1200);
    assert_eq!(mine["me"]["promoter"]["withdrawableFen"], 800);
    assert_eq!(s.pay.transfers().len(), 1);
    assert_eq!(s.pay.transfer(&no).unwrap().creations, 1);
    // A later query changes nothing either.
    assert_eq!(s.run_jobs(Utc::now() + Duration::days(2)).await, 0);
    s.ledger_holds(&p, 2000).await;
}

#[tokio::test]
async fn a_lost_creation_answer_is_retried_on_the_same_bill() {
    let s = payouts(&[]).await;
    let p = s.promoter("lu", 2).await;
    let id = ok(&s.request(&p, 600, "w").await)["requestWithdrawal"]["id"].clone();
    s.pay.lose_next_transfer_answers(1);
    let v = s.review(&id, true).await;
    assert_eq!(ok(&v)["reviewWithdrawal"]["status"], "APPROVED", "{v}");
    let row = s.row(&id).await;
    assert_eq!(row.attempts, 1);
    let no = row.out_bill_no.unwrap();
    // Not due before its back-off.
    assert_eq!(s.run_jobs(Utc::now()).await, 0);
    assert_eq!(s.run_jobs(Utc::now() + Duration::minutes(2)).await, 1);
    assert_eq!(s.row(&id).await.status, "WAITING_CONFIRMATION");
    let transfers = s.pay.transfers();
    assert_eq!(transfers.len(), 1, "one bill however many creations");
    assert_eq!(transfers[0].1.creations, 2);
    assert_eq!(transfers[0].0, no);
    s.ledger_holds(&p, 1000).await;
}

#[tokio::test]
async fn failed_and_cancelled_transfers_give_the_money_back_once() {
    let s = payouts(&[
        ("TRANSFER_QUERY_AFTER_MINS", "0"),
        ("TRANSFER_CONFIRM_EXPIRE_MINS", "60"),
    ])
    .await;
    let p = s.promoter("fay", 4).await;
    let mut ids = Vec::new();
    for k in ["a", "b"] {
        let id = ok(&s.request(&p, 700, k).await)["requestWithdrawal"]["id"].clone();
        let v = s.review(&id, true).await;
        assert_eq!(ok(&v)["reviewWithdrawal"]["status"], "WAITING_CONFIRMATION");
        ids.push(id);
    }
    assert_eq!(s.withdrawable(&p).await, 600);

    // WeChat Pay fails the first: notified (twice), the money is back once.
    let failed = s.row(&ids[0]).await.out_bill_no.unwrap();
    s.pay
        .set_transfer_state(&failed, "FAIL", Some("PAYEE_ACCOUNT_ABNORMAL"));
    // A forgery and a bill nobody made change nothing.
    assert_eq!(
        s.post(
            "/webhooks/wechat-transfer",
            s.pay.forged_transfer_notification(&failed, now())
        )
        .await,
        401
    );
    assert_eq!(
        s.post(
            "/webhooks/wechat-transfer",
            s.pay.unknown_transfer_notification(now())
        )
        .await,
        400
    );
    assert_eq!(s.withdrawable(&p).await, 600);
    assert_eq!(s.notify(&failed).await, 200);
    assert_eq!(s.notify(&failed).await, 200);
    assert_eq!(s.withdrawable(&p).await, 1300);
    let row = s.row(&ids[0]).await;
    assert_eq!(row.status, "FAILED");
    assert!(
        row.failure_reason
            .as_deref()
            .is_some_and(|r| r.contains("PAYEE_ACCOUNT_ABNORMAL")),
        "{row:?}"
    );

    // The second is never confirmed: queried while within the window,
    // cancelled after it; the money comes back when WeChat Pay says CANCELLED.
    let waiting = s.row(&ids[1]).await.out_bill_no.unwrap();
    assert_eq!(s.run_jobs(Utc::now() + Duration::minutes(1)).await, 0);
    assert_eq!(s.row(&ids[1]).await.status, "WAITING_CONFIRMATION");
    assert_eq!(s.run_jobs(Utc::now() + Duration::minutes(61)).await, 1);
    assert_eq!(s.pay.transfer(&waiting).unwrap().state, "CANCELLED");
    let mine = s.mine(&p).await;
    let node = &mine["myWithdrawals"]["nodes"][0];
    assert_eq!(node["status"], "CANCELLED", "{mine}");
    assert!(node["failureReason"].is_string(), "{mine}");
    assert_eq!(mine["me"]["promoter"]["withdrawableFen"], 2000);
    assert_eq!(mine["me"]["promoter"]["withdrawnFen"], 0);
    // WeChat Pay's own notification of the cancel, and more passes: nothing more.
    assert_eq!(s.notify(&waiting).await, 200);
    assert_eq!(s.run_jobs(Utc::now() + Duration::days(3)).await, 0);
    assert_eq!(s.withdrawable(&p).await, 2000);
    s.ledger_holds(&p, 2000).await;
}

#[tokio::test]
async fn automatic_approval_keeps_its_threshold_and_daily_caps_under_concurrency() {
    let s = payouts(&[
        ("WITHDRAWAL_AUTO_APPROVE_FEN", "500"),
        ("WITHDRAWAL_AUTO_DAILY_CAP_FEN", "1500"),
        ("WITHDRAWAL_AUTO_STORE_DAILY_CAP_FEN", "2000"),
    ])
    .await;
    let first = s.promoter("ann", 8).await;
    let second = s.promoter("bo", 8).await;
    // Above the threshold: waits for the store, nothing is sent.
    let v = s.request(&first, 600, "big").await;
    assert_eq!(ok(&v)["requestWithdrawal"]["status"], "REQUESTED", "{v}");
    assert!(s.pay.transfers().is_empty());

    let burst = |p: &Promoter| {
        let s = &s;
        let token = p.token.clone();
        async move {
            let calls = (0..10).map(|i| {
                let token = token.clone();
                async move {
                    s.app
                        .gql(
                            Some(&token),
                            REQUEST,
                            json!({ "n": 300, "k": format!("b{i}"), "r": null }),
                        )
                        .await
                }
            });
            let answers = futures_util::future::join_all(calls).await;
            let mut statuses: Vec<String> = answers
                .iter()
                .map(|v| text(&ok(v)["requestWithdrawal"]["status"]))
                .collect();
            statuses.sort();
            statuses
        }
    };
    let statuses = burst(&first).await;
    let count = |st: &[String], what: &str| st.iter().filter(|x| *x == what).count();
    // 1,500 a day for one promoter: five of 300.
    assert_eq!(count(&statuses, "WAITING_CONFIRMATION"), 5, "{statuses:?}");
    assert_eq!(count(&statuses, "REQUESTED"), 5, "{statuses:?}");
    // 2,000 a day for the store: one more of 300 for anyone.
    let statuses = burst(&second).await;
    assert_eq!(count(&statuses, "WAITING_CONFIRMATION"), 1, "{statuses:?}");
    assert_eq!(count(&statuses, "REQUESTED"), 9, "{statuses:?}");
    let bills = s.pay.transfers();
    assert_eq!(bills.len(), 6);
    assert_eq!(bills.iter().map(|(_, b)| b.amount_fen).sum::<i64>(), 1800);
    // Every request held its amount, approved or not.
    assert_eq!(s.withdrawable(&first).await, 4000 - 600 - 3000);
    assert_eq!(s.withdrawable(&second).await, 4000 - 3000);
    s.ledger_holds(&first, 4000).await;
    s.ledger_holds(&second, 4000).await;
}

#[tokio::test]
async fn refused_transfers_and_bad_input_change_nothing() {
    let s = payouts(&[]).await;
    let p = s.promoter("ren", 4).await;
    // From 2,000 yuan the real name is required, before anything is held.
    let v = s.request(&p, 200_000, "big").await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(v["errors"][0]["extensions"]["field"], "realName", "{v}");
    let v = s
        .app
        .gql(
            Some(&p.token),
            REQUEST,
            json!({ "n": 300, "k": "blank", "r": "  " }),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT", "{v}");
    assert_eq!(s.withdrawable(&p).await, 2000);

    // A scene the merchant was not granted: the approval is refused and the
    // withdrawal still waits, its amount still held, no bill made.
    s.pay.grant_scenes(&["1000"]);
    let id = ok(&s.request(&p, 500, "w").await)["requestWithdrawal"]["id"].clone();
    let v = s.review(&id, true).await;
    assert_eq!(error_code(&v), "PAYMENT_FAILED", "{v}");
    let row = s.row(&id).await;
    assert_eq!(row.status, "REQUESTED");
    assert!(row.failure_reason.is_some_and(|r| r.contains("NO_AUTH")));
    assert!(s.pay.transfers().is_empty());
    assert_eq!(s.withdrawable(&p).await, 1500);
    // Granted now: the same withdrawal goes through.
    s.pay.grant_scenes(&["1005"]);
    let v = s.review(&id, true).await;
    assert_eq!(
        ok(&v)["reviewWithdrawal"]["status"],
        "WAITING_CONFIRMATION",
        "{v}"
    );
    assert!(ok(&v)["reviewWithdrawal"]["failureReason"].is_null(), "{v}");
    // Rejecting another gives its amount back.
    let other = ok(&s.request(&p, 400, "x").await)["requestWithdrawal"]["id"].clone();
    let v = s.review(&other, false).await;
    assert_eq!(ok(&v)["reviewWithdrawal"]["status"], "REJECTED", "{v}");
    assert_eq!(s.withdrawable(&p).await, 1500);
    s.ledger_holds(&p, 2000).await;

    // A customer from the store's demo days has no WeChat openid to pay:
    // refused before anything is held (the wallet still takes it).
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    let customer = entity::customer::Entity::find()
        .filter(entity::customer::Column::Openid.eq("o-ren"))
        .one(&s.app.state.db)
        .await
        .unwrap()
        .unwrap();
    let mut demo: entity::customer::ActiveModel = customer.into();
    demo.openid = Set("demo:ren".into());
    demo.update(&s.app.state.db).await.unwrap();
    assert_eq!(error_code(&s.request(&p, 300, "demo").await), "CONFLICT");
    assert_eq!(s.withdrawable(&p).await, 1500);
    let v = s
        .app
        .gql(
            Some(&p.token),
            "mutation { requestWithdrawal(amountFen: 300, idempotencyKey: \"wallet\", toWallet: true) { status } }",
            json!({}),
        )
        .await;
    assert_eq!(ok(&v)["requestWithdrawal"]["status"], "PAID", "{v}");
    assert_eq!(s.withdrawable(&p).await, 1200);
}

#[tokio::test]
async fn a_large_transfer_sends_the_real_name_encrypted() {
    let s = payouts(&[]).await;
    // A 4,000-yuan tea set: 200,000 fen of commission.
    let cat = create_category(&s.app, &s.admin, "sets", None).await;
    let product = create_product(&s.app, &s.admin, &cat, "茶具", &[400_000]).await;
    let sku = text(&product["skus"][0]["id"]);
    crate::fixtures::set_stock(&s.app, &s.admin, &sku, 10).await;
    let p = s.promoter_on("big", &sku, 1, 400_000).await;
    let v = s
        .app
        .gql(
            Some(&p.token),
            REQUEST,
            json!({ "n": 200_000, "k": "all", "r": "张三" }),
        )
        .await;
    let id = ok(&v)["requestWithdrawal"]["id"].clone();
    let v = s.review(&id, true).await;
    assert_eq!(
        ok(&v)["reviewWithdrawal"]["status"],
        "WAITING_CONFIRMATION",
        "{v}"
    );
    let no = s.row(&id).await.out_bill_no.unwrap();
    // The stand-in decrypted it with the platform key (it refuses otherwise).
    assert_eq!(
        s.pay.transfer(&no).unwrap().user_name.as_deref(),
        Some("张三")
    );
    let sent = s
        .pay
        .requests()
        .await
        .into_iter()
        .find(|(_, p, _)| p == "/v3/fund-app/mch-transfer/transfer-bills")
        .unwrap()
        .2;
    let cipher = sent["user_name"].as_str().unwrap();
    assert!(!cipher.contains("张三") && cipher.len() > 300, "{sent}");
}

#[tokio::test]
async fn concurrent_notifications_and_queries_give_the_money_back_once() {
    let s = payouts(&[("TRANSFER_QUERY_AFTER_MINS", "0")]).await;
    let p = s.promoter("rae", 2).await;
    let id = ok(&s.request(&p, 800, "w").await)["requestWithdrawal"]["id"].clone();
    let v = s.review(&id, true).await;
    assert_eq!(ok(&v)["reviewWithdrawal"]["status"], "WAITING_CONFIRMATION");
    let no = s.row(&id).await.out_bill_no.unwrap();
    s.pay
        .set_transfer_state(&no, "FAIL", Some("TRANSFER_QUOTA_EXCEED"));
    // Ten deliveries of the notification and two jobs passes at once.
    let notes = (0..10).map(|_| s.notify(&no));
    let later = Utc::now() + Duration::minutes(1);
    let (codes, a, b) = tokio::join!(
        futures_util::future::join_all(notes),
        s.run_jobs(later),
        s.run_jobs(later)
    );
    assert!(codes.iter().all(|c| *c == 200), "{codes:?}");
    assert!(a + b <= 1, "{a} {b}");
    assert_eq!(s.row(&id).await.status, "FAILED");
    assert_eq!(s.withdrawable(&p).await, 1000);
    s.ledger_holds(&p, 1000).await;
}
