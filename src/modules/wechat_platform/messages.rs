//! Subscription messages sent (`POST /cgi-bin/message/subscribe/send`).
//!
//! The jobs pass finds the events of the last [`WINDOW_HOURS`] in the
//! tables where they happen (a parcel shipped, a refund or after-sale
//! decided or refunded, a commission settled, a withdrawal paid) for
//! customers holding an unspent consent of the event's template, and queues
//! one message per event, spending one consent in the same transaction, so
//! the domains where events happen need no hook and a crash between their
//! commit and a send loses nothing. Then it sends what is due.
//!
//! Invariants: one message per event (unique key), queued only when a
//! consent was spent (the decrement is conditional on `available > 0`, so
//! it never goes below zero however many instances race); one instance
//! attempts a message at a time (a claim with a time limit); every attempt
//! is recorded; a transient failure is tried again on the back-off
//! schedule; 43101 (the user has no consent left on WeChat's side) ends the
//! message as `REFUSED` and sets that consent to zero.
//! Must not: queue or send anything without WeChat credentials (demo mode).
use chrono::{DateTime, FixedOffset, Utc};
use entity::{subscription_message, subscription_message_attempt};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement, TransactionTrait, sea_query::Expr,
};
use serde_json::{Map, Value, json};

use super::subscription::{self, Layout};
use crate::{
    error::AppResult,
    state::AppState,
    wechat::api::{WechatApi, WechatApiError},
};

pub const PENDING: &str = "PENDING";
pub const SENT: &str = "SENT";
pub const FAILED: &str = "FAILED";
pub const REFUSED: &str = "REFUSED";

/// WeChat's "the user refused (has no consent left)".
pub const NO_CONSENT: i64 = 43101;

/// Waits after the 1st, 2nd, … failed attempt; after the last, the message
/// is given up (a notice that late is no longer news).
const BACKOFF_SECS: [i64; 5] = [60, 300, 900, 3600, 3 * 3600];

/// Events this recent are messaged; older ones are not news any more.
pub const WINDOW_HOURS: i64 = 48;

/// An event found for a customer holding a consent of its template.
struct Found {
    key: String,
    customer_id: i64,
    vars: Vec<(&'static str, String)>,
}

/// Queues the messages of new events and sends what is due; returns how
/// many were sent. Nothing without WeChat credentials.
pub async fn send_due(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let Some(api) = state.wechat_api.clone() else {
        return Ok(0);
    };
    if subscription::templates(state).is_empty() {
        return Ok(0);
    }
    queue_new(state, now).await?;
    let due = subscription_message::Entity::find()
        .filter(subscription_message::Column::Status.eq(PENDING))
        .filter(subscription_message::Column::NextAttemptAt.lte(now))
        .order_by_asc(subscription_message::Column::Id)
        .limit(100)
        .all(&state.db)
        .await?;
    let mut sent = 0;
    for row in due {
        if claim_and_attempt(state, &api, &row, now).await? {
            sent += 1;
        }
    }
    Ok(sent)
}

/// Finds the events of every configured template and queues a message for
/// each, one consent spent each; returns how many were queued.
pub async fn queue_new(state: &AppState, now: DateTime<Utc>) -> AppResult<u64> {
    let since = now - chrono::Duration::hours(WINDOW_HOURS);
    let mut queued = 0;
    for (event, template_id) in subscription::templates(state).to_vec() {
        for found in find(state, &event, &template_id, since).await? {
            if queue_one(state, &event, &template_id, found, now).await? {
                queued += 1;
            }
        }
    }
    Ok(queued)
}

/// Adds the message and spends a consent, together or not at all.
async fn queue_one(
    state: &AppState,
    event: &str,
    template_id: &str,
    found: Found,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let layout = subscription::layout(state, event);
    let page = fill(&layout.page, &found.vars);
    let data = data_of(&layout, &found.vars);
    let txn = state.db.begin().await?;
    let backend = txn.get_database_backend();
    let inserted = subscription_message::Entity::insert(subscription_message::ActiveModel {
        message_key: Set(found.key.clone()),
        customer_id: Set(found.customer_id),
        event: Set(event.to_string()),
        template_id: Set(template_id.to_string()),
        page: Set(page),
        data: Set(data.to_string()),
        status: Set(PENDING.into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        created_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        sea_orm::sea_query::OnConflict::column(subscription_message::Column::MessageKey)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(&txn)
    .await?;
    if inserted != 1 {
        return Ok(false);
    }
    let (p1, p2) = match backend {
        DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    let spent = txn
        .execute_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE subscription_consent SET available = available - 1 \
                 WHERE customer_id = {p1} AND template_id = {p2} AND available > 0"
            ),
            [found.customer_id.into(), template_id.into()],
        ))
        .await?
        .rows_affected();
    if spent != 1 {
        // Spent meanwhile by another event: no consent, no message.
        txn.rollback().await?;
        return Ok(false);
    }
    txn.commit().await?;
    Ok(true)
}

/// The events of `event` since `since` of customers holding a consent of
/// `template_id`, without a message yet.
async fn find(
    state: &AppState,
    event: &str,
    template_id: &str,
    since: DateTime<Utc>,
) -> AppResult<Vec<Found>> {
    let backend = state.db.get_database_backend();
    let (p1, p2) = match backend {
        DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    // Every statement selects k, customer_id, order_id, order_no, carrier,
    // tracking_no, amount_fen, detail, at; the consent join comes before
    // the time condition (SQLite takes its `?` in order).
    // Only a consent granted before the event pays for it (`updated_at` is
    // the last grant): a customer who subscribes today is not sent
    // yesterday's news.
    let consent = |who: &str, at: &str| {
        format!(
            "JOIN subscription_consent c ON c.customer_id = {who} AND c.template_id = {p1} \
             AND c.available > 0 AND c.updated_at <= {at}"
        )
    };
    let not_queued = |key: &str| {
        format!("NOT EXISTS (SELECT 1 FROM subscription_message m WHERE m.message_key = {key})")
    };
    let sqls: Vec<String> = match event {
        "ORDER_SHIPPED" => vec![format!(
            "SELECT 'SHIP:F' || f.id AS k, o.customer_id, o.id AS order_id, o.order_no, f.carrier, f.tracking_no, \
               CAST(NULL AS BIGINT) AS amount_fen, CAST(NULL AS TEXT) AS detail, f.shipped_at AS at \
             FROM fulfillment f JOIN shop_order o ON o.id = f.order_id {} \
             WHERE f.shipped_at >= {p2} AND {} ORDER BY f.shipped_at",
            consent("o.customer_id", "f.shipped_at"),
            not_queued("'SHIP:F' || f.id")
        )],
        "REFUND_RESULT" => vec![
            // Whole-order refunds (an after-sale's refund is told by its after-sale).
            format!(
                "SELECT 'RF:' || r.id || ':' || r.status AS k, o.customer_id, o.id AS order_id, o.order_no, \
                   CAST(NULL AS TEXT) AS carrier, CAST(NULL AS TEXT) AS tracking_no, r.amount_fen, r.status AS detail, r.updated_at AS at \
                 FROM refund r JOIN shop_order o ON o.id = r.order_id {} \
                 WHERE r.updated_at >= {p2} AND r.after_sale_id IS NULL AND r.status IN ('REFUNDED', 'REJECTED') \
                   AND {} ORDER BY r.updated_at",
                consent("o.customer_id", "r.updated_at"),
                not_queued("'RF:' || r.id || ':' || r.status")
            ),
            format!(
                "SELECT 'AS:' || a.id || ':' || a.status AS k, a.customer_id, o.id AS order_id, o.order_no, \
                   CAST(NULL AS TEXT) AS carrier, CAST(NULL AS TEXT) AS tracking_no, a.amount_fen, a.status AS detail, a.updated_at AS at \
                 FROM after_sale a JOIN shop_order o ON o.id = a.order_id {} \
                 WHERE a.updated_at >= {p2} AND a.status IN ('APPROVED', 'REJECTED', 'REFUNDED') \
                   AND {} ORDER BY a.updated_at",
                consent("a.customer_id", "a.updated_at"),
                not_queued("'AS:' || a.id || ':' || a.status")
            ),
        ],
        "COMMISSION_SETTLED" => vec![format!(
            "SELECT 'CM:' || x.id AS k, x.beneficiary_id AS customer_id, o.id AS order_id, o.order_no, \
               CAST(NULL AS TEXT) AS carrier, CAST(NULL AS TEXT) AS tracking_no, x.amount_fen, CAST(NULL AS TEXT) AS detail, x.settled_at AS at \
             FROM commission x JOIN shop_order o ON o.id = x.order_id {} \
             WHERE x.settled_at >= {p2} AND x.status = 'SETTLED' AND x.kind = 'ACCRUAL' AND x.amount_fen > 0 \
               AND {} ORDER BY x.settled_at",
            consent("x.beneficiary_id", "x.settled_at"),
            not_queued("'CM:' || x.id")
        )],
        "WITHDRAWAL_PAID" => vec![format!(
            "SELECT 'WD:' || w.id AS k, w.promoter_id AS customer_id, CAST(NULL AS BIGINT) AS order_id, CAST(NULL AS TEXT) AS order_no, \
               CAST(NULL AS TEXT) AS carrier, CAST(NULL AS TEXT) AS tracking_no, w.amount_fen, CAST(NULL AS TEXT) AS detail, \
               COALESCE(w.finished_at, w.reviewed_at, w.created_at) AS at \
             FROM withdrawal w {} \
             WHERE COALESCE(w.finished_at, w.reviewed_at, w.created_at) >= {p2} AND w.status = 'PAID' \
               AND {} ORDER BY w.id",
            consent(
                "w.promoter_id",
                "COALESCE(w.finished_at, w.reviewed_at, w.created_at)"
            ),
            not_queued("'WD:' || w.id")
        )],
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for sql in sqls {
        let rows = state
            .db
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                sql,
                [template_id.into(), since.into()],
            ))
            .await?;
        for r in rows {
            let key: String = r.try_get("", "k")?;
            let customer_id: i64 = r.try_get("", "customer_id")?;
            let order_id: Option<i64> = r.try_get("", "order_id")?;
            let order_no: Option<String> = r.try_get("", "order_no")?;
            let carrier: Option<String> = r.try_get("", "carrier")?;
            let tracking_no: Option<String> = r.try_get("", "tracking_no")?;
            let amount_fen: Option<i64> = r.try_get("", "amount_fen")?;
            let detail: Option<String> = r.try_get("", "detail")?;
            let at: Option<DateTime<Utc>> = r.try_get("", "at").ok();
            let mut vars = vec![
                (
                    "orderId",
                    order_id.map(|i| i.to_string()).unwrap_or_default(),
                ),
                ("orderNo", order_no.unwrap_or_default()),
                ("carrier", carrier.unwrap_or_default()),
                ("trackingNo", tracking_no.unwrap_or_default()),
                ("amount", amount_fen.map(yuan).unwrap_or_default()),
                ("result", result_text(detail.as_deref())),
                ("time", china_time(at.unwrap_or_else(Utc::now))),
            ];
            if let Some(id) = key.strip_prefix("WD:") {
                vars.push(("withdrawalId", id.to_string()));
            }
            out.push(Found {
                key,
                customer_id,
                vars,
            });
        }
    }
    Ok(out)
}

/// What the buyer reads as the result (a `phrase` keyword holds at most 5 characters).
fn result_text(status: Option<&str>) -> String {
    match status {
        Some("REFUNDED") => "退款成功",
        Some("REJECTED") => "已拒绝",
        Some("APPROVED") => "已同意",
        _ => "",
    }
    .to_string()
}

/// `12.34` from 1234 fen, by integer arithmetic.
fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}{}.{:02}", fen / 100, fen % 100)
}

/// `2026-12-03 12:05` in China time, as a `time`/`date` keyword takes it.
fn china_time(t: DateTime<Utc>) -> String {
    let china = FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    t.with_timezone(&china).format("%Y-%m-%d %H:%M").to_string()
}

/// `{name}` placeholders replaced by their values; unknown ones left empty.
fn fill(template: &str, vars: &[(&'static str, String)]) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                if let Some((_, v)) = vars.iter().find(|(k, _)| *k == name) {
                    out.push_str(v);
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The `data` object: each keyword's value filled in and cut to what
/// WeChat takes for its kind (`thing` 20 characters, `character_string`
/// 32, `phrase` 5, `name` 10); an empty value becomes `-` (WeChat refuses
/// empty values).
fn data_of(layout: &Layout, vars: &[(&'static str, String)]) -> Value {
    let mut data = Map::new();
    for (key, template) in &layout.data {
        let value = fill(template, vars);
        let limit = if key.starts_with("thing") {
            20
        } else if key.starts_with("character_string") {
            32
        } else if key.starts_with("phrase") {
            5
        } else if key.starts_with("name") {
            10
        } else {
            64
        };
        let mut value: String = value.chars().take(limit).collect();
        if value.trim().is_empty() {
            value = "-".into();
        }
        data.insert(key.clone(), json!({ "value": value }));
    }
    Value::Object(data)
}

/// Claims a message for a minute (one instance attempts it) and attempts
/// it; true when WeChat took it.
async fn claim_and_attempt(
    state: &AppState,
    api: &WechatApi,
    row: &subscription_message::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let claimed = super::claim_for_a_minute::<subscription_message::Entity>(
        &state.db,
        row.id,
        row.attempts,
        now,
    )
    .await?;
    Ok(claimed && attempt(state, api, row, now).await?)
}

/// `miniprogram_state` for the version share codes open.
fn miniprogram_state(env_version: &str) -> &'static str {
    match env_version {
        "develop" => "developer",
        "trial" => "trial",
        _ => "formal",
    }
}

async fn attempt(
    state: &AppState,
    api: &WechatApi,
    row: &subscription_message::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let openid = crate::modules::customer::service::get(state, row.customer_id)
        .await?
        .openid;
    let data: Value = serde_json::from_str(&row.data).unwrap_or_else(|_| json!({}));
    let body = json!({
        "touser": openid,
        "template_id": row.template_id,
        "page": row.page,
        "data": data,
        "miniprogram_state": miniprogram_state(&state.settings.wechat_share_env_version),
        "lang": "zh_CN",
    });
    let sent: Result<(), WechatApiError> = api
        .post_json("subscribe_send", "/cgi-bin/message/subscribe/send", &body)
        .await
        .map(|_| ());
    let attempt_no = row.attempts + 1;
    let (errcode, error) = match &sent {
        Ok(()) => (None, None),
        Err(e) => (
            e.errcode(),
            Some(e.to_string().chars().take(250).collect::<String>()),
        ),
    };
    subscription_message_attempt::ActiveModel {
        message_id: Set(row.id),
        attempt_no: Set(attempt_no),
        errcode: Set(errcode),
        error: Set(error.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    let mut update = subscription_message::Entity::update_many()
        .col_expr(
            subscription_message::Column::Attempts,
            Expr::value(attempt_no),
        )
        .col_expr(
            subscription_message::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            subscription_message::Column::LastError,
            Expr::value(error.clone()),
        );
    update = match &sent {
        Ok(()) => update
            .col_expr(subscription_message::Column::Status, Expr::value(SENT))
            .col_expr(
                subscription_message::Column::SentAt,
                Expr::value(Utc::now()),
            ),
        Err(e) if e.errcode() == Some(NO_CONSENT) => {
            // WeChat holds no consent of this user for the template: what
            // siyu counted is wrong, so none is left to spend.
            drop_consent(state, row.customer_id, &row.template_id).await?;
            update.col_expr(subscription_message::Column::Status, Expr::value(REFUSED))
        }
        Err(e) if e.is_transient() => match BACKOFF_SECS.get(row.attempts as usize) {
            Some(wait) => update.col_expr(
                subscription_message::Column::NextAttemptAt,
                Expr::value(now + chrono::Duration::seconds(*wait)),
            ),
            None => update.col_expr(subscription_message::Column::Status, Expr::value(FAILED)),
        },
        // Any other refusal (a bad template, field or openid) will not
        // change by trying again.
        Err(_) => update.col_expr(subscription_message::Column::Status, Expr::value(FAILED)),
    };
    update
        .filter(subscription_message::Column::Id.eq(row.id))
        .filter(subscription_message::Column::Attempts.eq(row.attempts))
        .exec(&state.db)
        .await?;
    if let Some(e) = &error {
        tracing::warn!(message = row.id, event = %row.event, attempt = attempt_no, error = %e, "subscription message not sent");
    }
    Ok(sent.is_ok())
}

/// Sets a customer's unspent consents of a template to zero.
async fn drop_consent(state: &AppState, customer_id: i64, template_id: &str) -> AppResult<()> {
    use entity::subscription_consent;
    subscription_consent::Entity::update_many()
        .col_expr(subscription_consent::Column::Available, Expr::value(0))
        .filter(subscription_consent::Column::CustomerId.eq(customer_id))
        .filter(subscription_consent::Column::TemplateId.eq(template_id))
        .exec(&state.db)
        .await?;
    Ok(())
}

/// A customer's messages with their attempts, oldest first (tests, support).
pub async fn messages_of(
    state: &AppState,
    customer_id: i64,
) -> AppResult<
    Vec<(
        subscription_message::Model,
        Vec<subscription_message_attempt::Model>,
    )>,
> {
    let rows = subscription_message::Entity::find()
        .filter(subscription_message::Column::CustomerId.eq(customer_id))
        .order_by_asc(subscription_message::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let attempts = subscription_message_attempt::Entity::find()
            .filter(subscription_message_attempt::Column::MessageId.eq(r.id))
            .order_by_asc(subscription_message_attempt::Column::AttemptNo)
            .all(&state.db)
            .await?;
        out.push((r, attempts));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_fill_and_fields_are_cut_to_their_kind() {
        let vars = vec![
            ("orderNo", "SY20261203000001".to_string()),
            ("carrier", "顺丰速运".to_string()),
            ("result", "退款成功".to_string()),
        ];
        assert_eq!(
            fill("pages/order/detail?no={orderNo}&x={nope}", &vars),
            "pages/order/detail?no=SY20261203000001&x="
        );
        assert_eq!(fill("a{b", &vars), "a{b");
        let layout = Layout {
            page: String::new(),
            data: vec![
                (
                    "thing1".into(),
                    "{carrier}{carrier}{carrier}{carrier}{carrier}{carrier}".into(),
                ),
                ("phrase2".into(), "{result}了吗".into()),
                ("thing3".into(), "{trackingNo}".into()),
            ],
        };
        let data = data_of(&layout, &vars);
        assert_eq!(
            data["thing1"]["value"].as_str().unwrap().chars().count(),
            20
        );
        assert_eq!(data["phrase2"]["value"], "退款成功了");
        assert_eq!(data["thing3"]["value"], "-");
        assert_eq!(yuan(1234), "12.34");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(-250), "-2.50");
    }
}
