//! WeChat refunds and payments followed to the end, against the signed
//! stand-in: refunds stay PROCESSING until WeChat Pay says they are back
//! (notification or query), FAILED ones are retried or settled by ADMIN,
//! retries back off per refund, the time-out asks WeChat Pay before
//! cancelling, and the daily trade bill is reconciled.
use chrono::{Duration, Utc};
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use wiremock::{
    Mock, ResponseTemplate,
    matchers::{body_partial_json, method, path},
};

use crate::{
    fixtures::{lib, text},
    helpers::{error_code, ok},
    wechat_pay::{PayShop, Unpaid, now, pay_shop},
    wechatpay_standin::BillRow,
};

const RETRY_REFUND: &str =
    "mutation($id: ID!) { retryRefund(refundId: $id) { id status failureReason } }";
const SETTLE_REFUND: &str = "mutation($id: ID!, $n: String!) { settleRefund(refundId: $id, note: $n) { id status failureReason reason } }";
const APPROVE: &str = "mutation($id: ID!) { approveRefund(refundId: $id) { id status failureReason order { status } } }";
const RUN_RECONCILIATION: &str = "mutation($d: String!) { runReconciliation(date: $d) { date status matched error differences { kind outTradeNo outRefundNo amountFen detail } } }";
const RECONCILIATION: &str = "query($d: String!) { reconciliation(date: $d) { date status matched differences { kind outTradeNo amountFen } } }";

/// An order placed under `key`, waiting for WeChat Pay.
async fn unpaid(s: &PayShop, key: &str) -> Unpaid {
    let placed = s.place(key).await;
    Unpaid {
        id: placed["order"]["id"].clone(),
        no: text(&placed["order"]["orderNo"]),
        total: placed["order"]["payableFen"].as_i64().unwrap(),
        placed,
    }
}

/// An order paid by a genuine notification, its refund asked for; returns
/// the order and the refund id.
async fn paid_and_refund_asked(s: &PayShop, key: &str, txid: &str) -> (Unpaid, Value) {
    let o = unpaid(s, key).await;
    assert_eq!(s.notify_paid(&o, txid).await, 200);
    assert_eq!(s.status(&o.id).await["status"], "PAID");
    let refund = s.refund_requested(&o.id).await;
    (o, refund)
}

async fn approve(s: &PayShop, refund: &Value) -> Value {
    let v = s
        .app
        .gql(Some(&s.admin), APPROVE, json!({ "id": refund }))
        .await;
    ok(&v)["approveRefund"].clone()
}

/// The refund's row, as stored.
async fn row(s: &PayShop, refund: &Value) -> entity::refund::Model {
    let id: i64 = text(refund).parse().unwrap();
    entity::refund::Entity::find_by_id(id)
        .one(&s.app.state.db)
        .await
        .unwrap()
        .expect("the refund exists")
}

async fn retry(s: &PayShop, after: Duration) -> usize {
    lib::retry_refunds(&s.app.state, Utc::now() + after)
        .await
        .unwrap()
}

async fn refund_calls_for(s: &PayShop, order_no: &str) -> usize {
    s.calls("/v3/refund/domestic/refunds")
        .await
        .iter()
        .filter(|b| b["out_trade_no"] == order_no)
        .count()
}

/// GET requests the stand-in received on paths starting with `prefix`.
async fn gets(s: &PayShop, prefix: &str) -> usize {
    s.pay
        .requests()
        .await
        .into_iter()
        .filter(|(m, p, _)| m == "GET" && p.starts_with(prefix))
        .count()
}

#[tokio::test]
async fn a_refund_is_processing_until_wechat_pay_notifies_its_success_once() {
    let s = pay_shop().await;
    s.pay.answer_refunds_with("PROCESSING");
    let (o, refund) = paid_and_refund_asked(&s, "k1", "4200000101").await;
    let approved = approve(&s, &refund).await;
    assert_eq!(approved["status"], "PROCESSING", "{approved}");
    assert_eq!(
        approved["order"]["status"], "REFUNDED",
        "the order's side is undone at approval"
    );
    let r = row(&s, &refund).await;
    assert_eq!(r.status, "PROCESSING");
    assert!(r.wechat_refund_id.is_some());

    let (_, other) = paid_and_refund_asked(&s, "k2", "4200000102").await;
    assert_eq!(approve(&s, &other).await["status"], "PROCESSING");
    let mut forged = s
        .pay
        .refund_notification(&r.out_refund_no, "SUCCESS", now());
    forged.1 = forged.1.replace("REFUND.SUCCESS", "REFUND.SUCCESs");
    assert_eq!(s.notify(forged).await, 401, "tampered after signing");

    let success = s
        .pay
        .refund_notification(&r.out_refund_no, "SUCCESS", now());
    assert_eq!(s.notify(success.clone()).await, 200);
    let done = row(&s, &refund).await;
    assert_eq!(done.status, "REFUNDED");
    // WeChat Pay repeats notifications; a later word cannot undo success.
    assert_eq!(s.notify(success).await, 200);
    assert_eq!(
        s.notify(s.pay.refund_notification(&r.out_refund_no, "CLOSED", now()))
            .await,
        200
    );
    assert_eq!(row(&s, &refund).await, done, "nothing changed");
    assert_eq!(s.status(&o.id).await["status"], "REFUNDED");
    assert_eq!(
        row(&s, &other).await.status,
        "PROCESSING",
        "the other waits"
    );
}

#[tokio::test]
async fn an_abnormal_refund_fails_with_its_reason_and_admin_retries_or_settles_it() {
    let s = pay_shop().await;
    s.pay.answer_refunds_with("PROCESSING");
    let (_, refund) = paid_and_refund_asked(&s, "k1", "4200000201").await;
    approve(&s, &refund).await;
    let first_no = row(&s, &refund).await.out_refund_no;
    assert_eq!(
        s.notify(s.pay.refund_notification(&first_no, "ABNORMAL", now()))
            .await,
        200
    );
    let failed = row(&s, &refund).await;
    assert_eq!(failed.status, "FAILED");
    assert!(
        failed
            .failure_reason
            .as_deref()
            .unwrap()
            .starts_with("ABNORMAL"),
        "{failed:?}"
    );
    // Only ADMIN retries.
    let v = s
        .app
        .gql(Some(&s.buyer), RETRY_REFUND, json!({ "id": refund }))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");

    s.pay.answer_refunds_with("SUCCESS");
    let v = s
        .app
        .gql(Some(&s.admin), RETRY_REFUND, json!({ "id": refund }))
        .await;
    assert_eq!(ok(&v)["retryRefund"]["status"], "REFUNDED", "{v}");
    let retried = row(&s, &refund).await;
    assert_ne!(
        retried.out_refund_no, first_no,
        "WeChat Pay finished the first one: a new refund number"
    );
    assert_eq!(
        s.pay.refund(&retried.out_refund_no).unwrap().status,
        "SUCCESS"
    );
    let v = s
        .app
        .gql(Some(&s.admin), RETRY_REFUND, json!({ "id": refund }))
        .await;
    assert_eq!(
        error_code(&v),
        "CONFLICT",
        "only a FAILED refund is retried"
    );

    // Another one CLOSED, then settled by the store outside WeChat Pay.
    s.pay.answer_refunds_with("CLOSED");
    let (_, closed) = paid_and_refund_asked(&s, "k2", "4200000202").await;
    let approved = approve(&s, &closed).await;
    assert_eq!(approved["status"], "FAILED", "{approved}");
    assert!(
        text(&approved["failureReason"]).starts_with("CLOSED"),
        "ADMIN reads why: {approved}"
    );
    let sent = s.calls("/v3/refund/domestic/refunds").await.len();
    let v = s
        .app
        .gql(
            Some(&s.admin),
            SETTLE_REFUND,
            json!({ "id": closed, "n": "bank transfer 2026-12-03" }),
        )
        .await;
    let settled = &ok(&v)["settleRefund"];
    assert_eq!(settled["status"], "REFUNDED", "{v}");
    assert!(text(&settled["reason"]).contains("bank transfer"));
    assert_eq!(
        s.calls("/v3/refund/domestic/refunds").await.len(),
        sent,
        "settling sends nothing"
    );
}

#[tokio::test]
async fn retries_back_off_per_refund_and_one_failing_refund_never_blocks_the_others() {
    let s = pay_shop().await;
    let (a, ra) = paid_and_refund_asked(&s, "k1", "4200000301").await;
    let (_, rb) = paid_and_refund_asked(&s, "k2", "4200000302").await;
    let (c, rc) = paid_and_refund_asked(&s, "k3", "4200000303").await;
    // WeChat Pay keeps failing A's refund; C's can never succeed.
    Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .and(body_partial_json(json!({ "out_trade_no": a.no })))
        .respond_with(
            ResponseTemplate::new(503)
                .set_body_json(json!({ "code": "SYSTEM_ERROR", "message": "busy" })),
        )
        .with_priority(1)
        .mount(&s.pay.server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v3/refund/domestic/refunds"))
        .and(body_partial_json(json!({ "out_trade_no": c.no })))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(
                json!({ "code": "PARAM_ERROR", "message": "refund amount exceeds" }),
            ),
        )
        .with_priority(1)
        .mount(&s.pay.server)
        .await;
    assert_eq!(approve(&s, &ra).await["status"], "PROCESSING");
    s.refuse_next_refund().await;
    assert_eq!(approve(&s, &rb).await["status"], "PROCESSING");
    let approved_c = approve(&s, &rc).await;
    assert_eq!(
        approved_c["status"], "FAILED",
        "a refusal that cannot succeed: {approved_c}"
    );
    let c_row = row(&s, &rc).await;
    assert!(c_row.failure_reason.unwrap().contains("PARAM_ERROR"));
    assert_eq!(c_row.attempts, 1);

    let a_row = row(&s, &ra).await;
    assert_eq!((a_row.status.as_str(), a_row.attempts), ("APPROVED", 1));
    assert!(a_row.last_error.unwrap().contains("SYSTEM_ERROR"));

    assert_eq!(retry(&s, Duration::seconds(30)).await, 0, "nothing due yet");
    // Both due: A fails again, B goes through all the same.
    assert_eq!(retry(&s, Duration::minutes(2)).await, 1);
    assert_eq!(row(&s, &rb).await.status, "REFUNDED");
    let a_row = row(&s, &ra).await;
    assert_eq!(a_row.attempts, 2);
    let wait = a_row.next_attempt_at.unwrap() - Utc::now();
    assert!(
        wait > Duration::minutes(3) && wait <= Duration::minutes(4),
        "the second wait doubles: {wait}"
    );
    let calls = refund_calls_for(&s, &a.no).await;
    assert_eq!(calls, 2);
    assert_eq!(retry(&s, Duration::minutes(3)).await, 0);
    assert_eq!(refund_calls_for(&s, &a.no).await, 2, "A waits its back-off");
    assert_eq!(retry(&s, Duration::minutes(5)).await, 0);
    assert_eq!(refund_calls_for(&s, &a.no).await, 3);
    assert_eq!(row(&s, &ra).await.attempts, 3);
    assert_eq!(
        refund_calls_for(&s, &c.no).await,
        1,
        "a FAILED refund is not sent again by itself"
    );
}

#[tokio::test]
async fn a_refund_whose_notification_was_lost_is_settled_by_a_query() {
    let s = pay_shop().await;
    s.pay.answer_refunds_with("PROCESSING");
    let (_, refund) = paid_and_refund_asked(&s, "k1", "4200000401").await;
    let (_, other) = paid_and_refund_asked(&s, "k2", "4200000402").await;
    approve(&s, &refund).await;
    approve(&s, &other).await;
    let no = row(&s, &refund).await.out_refund_no;
    let other_no = row(&s, &other).await.out_refund_no;
    s.pay.set_refund_status(&no, "SUCCESS");
    s.pay.set_refund_status(&other_no, "ABNORMAL");
    assert_eq!(retry(&s, Duration::minutes(5)).await, 0);
    assert_eq!(
        gets(&s, "/v3/refund/domestic/refunds/").await,
        0,
        "not before REFUND_QUERY_AFTER_MINS"
    );
    assert_eq!(retry(&s, Duration::minutes(11)).await, 2);
    assert_eq!(gets(&s, "/v3/refund/domestic/refunds/").await, 2);
    assert_eq!(row(&s, &refund).await.status, "REFUNDED");
    let failed = row(&s, &other).await;
    assert_eq!(failed.status, "FAILED");
    assert!(failed.failure_reason.unwrap().starts_with("ABNORMAL"));
    assert_eq!(retry(&s, Duration::minutes(30)).await, 0, "settled once");
    assert_eq!(gets(&s, "/v3/refund/domestic/refunds/").await, 2);
}

#[tokio::test]
async fn the_time_out_confirms_a_paid_order_whose_notification_was_lost_and_closes_an_unpaid_one() {
    let s = pay_shop().await;
    let paid = unpaid(&s, "k1").await;
    let unpaid_order = unpaid(&s, "k2").await;
    s.pay.set_paid(&paid.no, "4200000501", paid.total);
    let later = Utc::now() + Duration::minutes(31);
    lib::expire_unpaid(&s.app.state, later).await.unwrap();

    let o = s.status(&paid.id).await;
    assert_eq!(o["status"], "PAID", "confirmed, not cancelled: {o}");
    assert_eq!(o["paidFen"], paid.total);
    assert_eq!(o["fulfillments"].as_array().unwrap().len(), 1);
    // The notification that finally arrives changes nothing.
    assert_eq!(s.notify_paid(&paid, "4200000501").await, 200);
    assert_eq!(
        s.status(&paid.id).await["fulfillments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let close_of = |no: &str| format!("/v3/pay/transactions/out-trade-no/{no}/close");
    assert!(s.calls(&close_of(&paid.no)).await.is_empty());

    assert_eq!(s.status(&unpaid_order.id).await["status"], "CANCELLED");
    assert_eq!(
        s.calls(&close_of(&unpaid_order.no)).await.len(),
        1,
        "closed before it was cancelled"
    );
    assert_eq!(s.pay.trade_state(&unpaid_order.no), "CLOSED");
    let queried: Vec<String> = s
        .pay
        .requests()
        .await
        .into_iter()
        .filter(|(m, p, _)| m == "GET" && p.starts_with("/v3/pay/transactions/out-trade-no/"))
        .map(|(_, p, _)| p)
        .collect();
    assert_eq!(queried.len(), 2, "{queried:?}");
}

fn china_today() -> String {
    (Utc::now() + Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string()
}

#[tokio::test]
async fn reconciliation_lists_what_does_not_match_and_refunds_payments_for_dead_orders() {
    let s = pay_shop().await;
    let matched = unpaid(&s, "k1").await;
    assert_eq!(s.notify_paid(&matched, "4200000601").await, 200);
    let mismatched = unpaid(&s, "k2").await;
    assert_eq!(s.notify_paid(&mismatched, "4200000602").await, 200);
    let cancelled = unpaid(&s, "k3").await;
    s.cancel(&cancelled.id).await;
    let date = china_today();
    s.pay.set_bill(
        &date,
        vec![
            BillRow::Payment {
                out_trade_no: matched.no.clone(),
                transaction_id: "4200000601".into(),
                total_fen: matched.total,
            },
            BillRow::Payment {
                out_trade_no: mismatched.no.clone(),
                transaction_id: "4200000602".into(),
                total_fen: mismatched.total + 100,
            },
            BillRow::Payment {
                out_trade_no: "20261201999999".into(),
                transaction_id: "4200000699".into(),
                total_fen: 5000,
            },
            BillRow::Payment {
                out_trade_no: cancelled.no.clone(),
                transaction_id: "4200000603".into(),
                total_fen: cancelled.total,
            },
        ],
    );
    let v = s
        .app
        .gql(Some(&s.buyer), RUN_RECONCILIATION, json!({ "d": date }))
        .await;
    assert_eq!(error_code(&v), "FORBIDDEN");
    let v = s
        .app
        .gql(Some(&s.admin), RUN_RECONCILIATION, json!({ "d": date }))
        .await;
    let run = &ok(&v)["runReconciliation"];
    assert_eq!(run["status"], "DONE", "{v}");
    assert_eq!(run["matched"], 1);
    let kinds: Vec<(String, String, i64)> = run["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                text(&d["kind"]),
                text(&d["outTradeNo"]),
                d["amountFen"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            (
                "AMOUNT_MISMATCH".to_string(),
                mismatched.no.clone(),
                mismatched.total + 100
            ),
            ("UNKNOWN_PAYMENT".to_string(), "20261201999999".into(), 5000),
            (
                "REFUNDED_ORPHAN".to_string(),
                cancelled.no.clone(),
                cancelled.total
            ),
        ]
    );
    // The payment for the cancelled order went back through WeChat Pay.
    assert_eq!(refund_calls_for(&s, &cancelled.no).await, 1);
    assert_eq!(s.status(&cancelled.id).await["status"], "CANCELLED");

    let v = s
        .app
        .gql(Some(&s.admin), RECONCILIATION, json!({ "d": date }))
        .await;
    let read = &ok(&v)["reconciliation"];
    assert_eq!(read["differences"].as_array().unwrap().len(), 3, "{v}");
    let v = s
        .app
        .gql(Some(&s.admin), RECONCILIATION, json!({ "d": "2020-01-01" }))
        .await;
    assert!(ok(&v)["reconciliation"].is_null(), "never reconciled");

    // Run again: the refunded payment is on record now; nothing is refunded twice.
    let v = s
        .app
        .gql(Some(&s.admin), RUN_RECONCILIATION, json!({ "d": date }))
        .await;
    let again = &ok(&v)["runReconciliation"];
    assert_eq!(again["matched"], 2, "{v}");
    assert_eq!(again["differences"].as_array().unwrap().len(), 2);
    assert_eq!(refund_calls_for(&s, &cancelled.no).await, 1);

    // A bill whose hash does not match is not used.
    s.pay.set_bill("2026-11-30", vec![]);
    s.pay.corrupt_bills(true);
    let v = s
        .app
        .gql(
            Some(&s.admin),
            RUN_RECONCILIATION,
            json!({ "d": "2026-11-30" }),
        )
        .await;
    let bad = &ok(&v)["runReconciliation"];
    assert_eq!(bad["status"], "FAILED", "{v}");
    assert!(bad["differences"].as_array().unwrap().is_empty());
    let v = s
        .app
        .gql(
            Some(&s.admin),
            RUN_RECONCILIATION,
            json!({ "d": "someday" }),
        )
        .await;
    assert_eq!(error_code(&v), "BAD_USER_INPUT");
}

#[tokio::test]
async fn the_daily_job_reconciles_yesterday_once() {
    let s = pay_shop().await;
    // 11:00 in China, the day after the bill's day.
    let bill_day = chrono::NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
    let at = bill_day
        .succ_opt()
        .unwrap()
        .and_hms_opt(3, 0, 0)
        .unwrap()
        .and_utc();
    s.pay.set_bill(
        "2026-11-29",
        vec![BillRow::Payment {
            out_trade_no: "20261129000001".into(),
            transaction_id: "4200000701".into(),
            total_fen: 100,
        }],
    );
    let early = at - Duration::hours(2);
    assert_eq!(lib::reconcile_due(&s.app.state, early).await.unwrap(), 0);
    assert_eq!(
        gets(&s, "/v3/bill/tradebill").await,
        0,
        "the bill is not out before 10:00"
    );
    assert_eq!(lib::reconcile_due(&s.app.state, at).await.unwrap(), 1);
    assert_eq!(
        lib::reconcile_due(&s.app.state, at + Duration::hours(1))
            .await
            .unwrap(),
        0
    );
    assert_eq!(gets(&s, "/v3/bill/tradebill").await, 1, "once a day");
    let v = s
        .app
        .gql(Some(&s.admin), RECONCILIATION, json!({ "d": "2026-11-29" }))
        .await;
    assert_eq!(
        ok(&v)["reconciliation"]["differences"][0]["kind"],
        "UNKNOWN_PAYMENT"
    );
}

#[tokio::test]
#[ignore = "needs TEST_DATABASE_URL and TEST_REDIS_URL (CI's PostgreSQL pass)"]
async fn two_instances_racing_the_daily_job_reconcile_the_day_once() {
    let s = pay_shop().await;
    let mut env = s.pay.env();
    env.extend([
        ("WECHAT_APPID".to_string(), "wx-test-app".to_string()),
        ("WECHAT_SECRET".to_string(), "secret".to_string()),
        ("WECHAT_API_BASE".to_string(), s.wechat.uri()),
    ]);
    let refs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let two = crate::helpers::spawn_second_with(&s.app, &refs).await;
    s.pay.set_bill(
        "2026-11-28",
        vec![BillRow::Payment {
            out_trade_no: "20261128000001".into(),
            transaction_id: "4200000801".into(),
            total_fen: 100,
        }],
    );
    // 11:00 in China on the 29th.
    let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
        .unwrap()
        .and_hms_opt(3, 0, 0)
        .unwrap()
        .and_utc();
    let (a, b) = tokio::join!(
        lib::reconcile_due(&s.app.state, at),
        lib::reconcile_due(&two.state, at)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "one of them ran it");
    assert_eq!(gets(&s, "/v3/bill/tradebill").await, 1);
}
