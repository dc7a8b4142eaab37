//! Webhooks to suppliers: each new fulfillment is POSTed to the supplier's
//! webhook URL, signed with HMAC-SHA256 under the supplier's own secret.
//!
//! Deliveries are rows written in the transaction that creates the
//! fulfillment (so none is lost), attempted right after the commit and then
//! by the jobs loop with back-off; each attempt is recorded. Claiming a
//! delivery is a conditional update, so several instances never send the
//! same attempt twice.
//!
//! Sent through `outbound::GuardedClient` (`AppState::webhook_http`): no
//! redirects, https in production, and only public addresses unless
//! `WEBHOOK_ALLOWED_HOSTS` names the receiver; a refused attempt is recorded
//! as failed like any other.
//!
//! Signature: `X-Siyu-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
//! with `X-Siyu-Timestamp` (unix seconds); receivers should reject stale
//! timestamps and compare in constant time.
use std::time::Instant;

use chrono::{DateTime, Utc};
use entity::{supplier, webhook_attempt, webhook_delivery};
use hmac::{Hmac, Mac};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use sha2::Sha256;

use crate::{error::AppResult, outbound, state::AppState};

pub const PENDING: &str = "PENDING";
pub const DELIVERED: &str = "DELIVERED";
pub const FAILED: &str = "FAILED";

/// Waits after the 1st, 2nd, … failed attempt; after the last one we give up.
const BACKOFF_SECS: [i64; 8] = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600];

/// `sha256=<hex>` over `"<timestamp>.<body>"`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Queues a delivery in the caller's transaction, if the supplier has a URL
/// (then returns true).
pub async fn enqueue(
    db: &impl ConnectionTrait,
    supplier_id: i64,
    fulfillment_id: i64,
    event: &str,
    payload: &serde_json::Value,
) -> AppResult<bool> {
    let Some(s) = supplier::Entity::find_by_id(supplier_id).one(db).await? else {
        return Ok(false);
    };
    let Some(url) = s.webhook_url else {
        return Ok(false);
    };
    let now = Utc::now();
    webhook_delivery::ActiveModel {
        supplier_id: Set(supplier_id),
        fulfillment_id: Set(fulfillment_id),
        event: Set(event.to_string()),
        url: Set(url),
        payload: Set(payload.to_string()),
        status: Set(PENDING.into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        delivered_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(true)
}

/// Attempts every delivery due at `now`; returns how many were delivered.
pub async fn deliver_due(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let due = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .filter(webhook_delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .limit(100)
        .all(&state.db)
        .await?;
    let mut delivered = 0;
    for d in due {
        // Claim it for a minute from the moment of the claim (earlier
        // attempts in this pass may have taken a while): one instance attempts it.
        let claim_from = now.max(Utc::now());
        let claimed = webhook_delivery::Entity::update_many()
            .col_expr(
                webhook_delivery::Column::LockedUntil,
                Expr::value(claim_from + chrono::Duration::seconds(60)),
            )
            .filter(webhook_delivery::Column::Id.eq(d.id))
            .filter(webhook_delivery::Column::Status.eq(PENDING))
            .filter(webhook_delivery::Column::Attempts.eq(d.attempts))
            .filter(
                Condition::any()
                    .add(webhook_delivery::Column::LockedUntil.is_null())
                    .add(webhook_delivery::Column::LockedUntil.lt(now)),
            )
            .exec(&state.db)
            .await?;
        if claimed.rows_affected == 1 && attempt(state, &d, now).await? {
            delivered += 1;
        }
    }
    Ok(delivered)
}

async fn attempt(
    state: &AppState,
    d: &webhook_delivery::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let secret = supplier::Entity::find_by_id(d.supplier_id)
        .one(&state.db)
        .await?
        .map(|s| s.webhook_secret)
        .unwrap_or_default();
    let ts = Utc::now().timestamp();
    let started = Instant::now();
    // The URL was checked when it was saved; it is checked again here (and
    // its name at connect time) because DNS answers and settings change.
    let sent = match state.webhook_http.post(&d.url) {
        Ok(request) => request
            .header("content-type", "application/json")
            .header("x-siyu-event", &d.event)
            .header("x-siyu-delivery", d.id.to_string())
            .header("x-siyu-timestamp", ts.to_string())
            .header("x-siyu-signature", signature(&secret, ts, &d.payload))
            .body(d.payload.clone())
            .send()
            .await
            .map_err(|e| match outbound::refusal(&e) {
                Some(refused) => format!("refused: {refused}"),
                None if e.is_timeout() => "timed out".to_string(),
                None => "unreachable".to_string(),
            }),
        Err(refused) => Err(format!("refused: {refused}")),
    };
    let elapsed = started.elapsed().as_millis() as i64;
    let (status_code, error) = match &sent {
        Ok(r) if r.status().is_success() => (Some(i32::from(r.status().as_u16())), None),
        Ok(r) if r.status().is_redirection() => (
            Some(i32::from(r.status().as_u16())),
            Some(format!(
                "HTTP {} (redirects are not followed)",
                r.status().as_u16()
            )),
        ),
        Ok(r) => (
            Some(i32::from(r.status().as_u16())),
            Some(format!("HTTP {}", r.status().as_u16())),
        ),
        Err(e) => (None, Some(e.clone())),
    };
    let attempt_no = d.attempts + 1;
    webhook_attempt::ActiveModel {
        delivery_id: Set(d.id),
        attempt_no: Set(attempt_no),
        status_code: Set(status_code),
        error: Set(error.clone()),
        duration_ms: Set(elapsed),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    let mut update = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Attempts, Expr::value(attempt_no))
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            webhook_delivery::Column::LastError,
            Expr::value(error.clone()),
        );
    let ok = error.is_none();
    update = if ok {
        update
            .col_expr(webhook_delivery::Column::Status, Expr::value(DELIVERED))
            .col_expr(
                webhook_delivery::Column::DeliveredAt,
                Expr::value(Utc::now()),
            )
    } else {
        match BACKOFF_SECS.get(d.attempts as usize) {
            Some(wait) => update.col_expr(
                webhook_delivery::Column::NextAttemptAt,
                Expr::value(now + chrono::Duration::seconds(*wait)),
            ),
            None => {
                tracing::error!(
                    delivery = d.id,
                    supplier = d.supplier_id,
                    "supplier webhook given up after {attempt_no} attempts"
                );
                update.col_expr(webhook_delivery::Column::Status, Expr::value(FAILED))
            }
        }
    };
    update
        .filter(webhook_delivery::Column::Id.eq(d.id))
        // Only while the claim is still ours (no other attempt recorded since).
        .filter(webhook_delivery::Column::Attempts.eq(d.attempts))
        .exec(&state.db)
        .await?;
    if !ok {
        tracing::warn!(delivery = d.id, supplier = d.supplier_id, attempt = attempt_no, error = ?error, "supplier webhook failed");
    }
    Ok(ok)
}

/// Sends supplier `supplier_id`'s pending deliveries to `url` from their
/// next attempt (its webhook URL changed), in the caller's transaction.
pub async fn redirect_pending(
    db: &impl ConnectionTrait,
    supplier_id: i64,
    url: &str,
) -> AppResult<()> {
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Url, Expr::value(url))
        .filter(webhook_delivery::Column::SupplierId.eq(supplier_id))
        .filter(webhook_delivery::Column::Status.eq(PENDING))
        .exec(db)
        .await?;
    Ok(())
}

/// One page of a supplier's deliveries, newest first, optionally of one
/// status; and whether more follow.
pub async fn list(
    state: &AppState,
    supplier_id: i64,
    status: Option<&str>,
    first: u64,
    after_id: Option<i64>,
) -> AppResult<(Vec<webhook_delivery::Model>, bool)> {
    let mut q = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::SupplierId.eq(supplier_id));
    if let Some(st) = status {
        q = q.filter(webhook_delivery::Column::Status.eq(st));
    }
    Ok(crate::db::page_desc(&state.db, q, webhook_delivery::Column::Id, first, after_id).await?)
}

/// One delivery, if any.
pub async fn find(state: &AppState, id: i64) -> AppResult<Option<webhook_delivery::Model>> {
    Ok(webhook_delivery::Entity::find_by_id(id)
        .one(&state.db)
        .await?)
}

/// Gives a delivery that was given up (`FAILED`) one more attempt, due now
/// and sent to the supplier's current webhook URL (it was usually fixed
/// meanwhile); if that attempt fails too it is `FAILED` again at once (the
/// back-off schedule was used up), to be retried again by hand. CONFLICT
/// when it is not `FAILED` (a concurrent retry won). Returns it as PENDING;
/// the attempt itself is made right after, by a spawned pass of the jobs'
/// delivery (also picked up by the jobs loop).
pub async fn retry(
    state: &AppState,
    d: &webhook_delivery::Model,
) -> AppResult<webhook_delivery::Model> {
    let url = supplier::Entity::find_by_id(d.supplier_id)
        .one(&state.db)
        .await?
        .and_then(|s| s.webhook_url)
        .unwrap_or_else(|| d.url.clone());
    let now = Utc::now();
    let done = webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(PENDING))
        .col_expr(webhook_delivery::Column::NextAttemptAt, Expr::value(now))
        .col_expr(
            webhook_delivery::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(webhook_delivery::Column::Url, Expr::value(url))
        .filter(webhook_delivery::Column::Id.eq(d.id))
        .filter(webhook_delivery::Column::Status.eq(FAILED))
        .exec(&state.db)
        .await?;
    if done.rows_affected != 1 {
        return Err(crate::error::AppError::Conflict(format!(
            "webhook delivery {} is not FAILED",
            d.id
        )));
    }
    let retried = find(state, d.id).await?.ok_or_else(|| {
        crate::error::AppError::NotFound(format!("webhook delivery {} not found", d.id))
    })?;
    let spawned = state.clone();
    tokio::spawn(async move {
        if let Err(e) = deliver_due(&spawned, Utc::now()).await {
            tracing::warn!(error = ?e, "delivering supplier webhooks after a retry");
        }
    });
    Ok(retried)
}

/// Deliveries of a fulfillment with their attempts (for tests and support).
pub async fn deliveries_of(
    state: &AppState,
    fulfillment_id: i64,
) -> AppResult<Vec<(webhook_delivery::Model, Vec<webhook_attempt::Model>)>> {
    let ds = webhook_delivery::Entity::find()
        .filter(webhook_delivery::Column::FulfillmentId.eq(fulfillment_id))
        .all(&state.db)
        .await?;
    let mut out = Vec::new();
    for d in ds {
        let attempts = webhook_attempt::Entity::find()
            .filter(webhook_attempt::Column::DeliveryId.eq(d.id))
            .order_by_asc(webhook_attempt::Column::AttemptNo)
            .all(&state.db)
            .await?;
        out.push((d, attempts));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Reference value: HMAC-SHA256(key="secret", "1700000000.{}").
        let s = super::signature("secret", 1_700_000_000, "{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64);
        assert_eq!(s, super::signature("secret", 1_700_000_000, "{}"));
        assert_ne!(s, super::signature("other", 1_700_000_000, "{}"));
        assert_ne!(s, super::signature("secret", 1_700_000_001, "{}"));
    }
}
