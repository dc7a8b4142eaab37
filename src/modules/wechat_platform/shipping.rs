//! Shipping information uploaded to WeChat (`POST /wxa/sec/order/upload_shipping_info`).
//!
//! A parcel is uploaded once its fulfillment has shipped; an order with
//! several parcels (several suppliers) is a split delivery (`delivery_mode`
//! 2), one upload per parcel, `is_all_delivered` true on the upload after
//! which every parcel of the order is uploaded. Membership and top-up
//! orders are virtual goods (`logistics_type` 3), uploaded once paid. Each
//! attempt is recorded; a failed one is tried again on the back-off
//! schedule, then given up (`FAILED`). A parcel whose tracking number
//! changes after WeChat took it is uploaded once more (`C<fulfillment>`:
//! WeChat takes one correction per payment; the order domain refuses a
//! second change).
use std::time::Duration;

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use entity::{
    fulfillment, order_line, payment, shop_order, wechat_carrier_map, wechat_shipping,
    wechat_shipping_attempt,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, Statement,
    sea_query::{Expr, OnConflict},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{
    cache::keys,
    error::{AppError, AppResult},
    state::AppState,
    wechat::api::{WechatApi, WechatApiError},
};

pub const PENDING: &str = "PENDING";
pub const UPLOADED: &str = "UPLOADED";
pub const FAILED: &str = "FAILED";

const PHYSICAL: &str = "PHYSICAL";
const VIRTUAL: &str = "VIRTUAL";

/// Waits after the 1st, 2nd, … failed attempt; after the last, the row is given up.
const BACKOFF_SECS: [i64; 8] = [60, 300, 900, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 24 * 3600];

/// Payments this recent are looked at for something to upload. WeChat
/// settles a payment whose buyer never confirms after a while anyway; a
/// parcel that ships later than this is not uploaded.
const WINDOW_DAYS: i64 = 30;

/// WeChat's list of express companies is kept this long.
const DELIVERY_LIST_TTL: Duration = Duration::from_secs(24 * 3600);

/// `item_desc` is at most this many characters.
const ITEM_DESC_MAX: usize = 120;

/// Adds a row for every parcel shipped and every virtual-goods order paid
/// through WeChat Pay in the window that has none yet; returns how many.
/// Safe to run from several instances at once (the unique upload key).
pub async fn discover(state: &AppState, now: DateTime<Utc>) -> AppResult<u64> {
    let backend = state.db.get_database_backend();
    let since = now - chrono::Duration::days(WINDOW_DAYS);
    // SQLite's `?` are taken in the order they appear: `now` twice, then `since`.
    let (p1, p2, values): (_, _, Vec<sea_orm::Value>) = match backend {
        DatabaseBackend::Postgres => ("$1", "$2", vec![since.into(), now.into()]),
        _ => ("?", "?", vec![now.into(), now.into(), since.into()]),
    };
    // Payments drive both (indexed by time); a payment that came for an
    // order that could not take it (`REFUND_DUE`) was sent back: nothing ships.
    let parcels = format!(
        "INSERT INTO wechat_shipping (upload_key, order_id, fulfillment_id, transaction_id, kind, status, attempts, next_attempt_at, created_at) \
         SELECT 'F' || f.id, f.order_id, f.id, p.transaction_id, '{PHYSICAL}', '{PENDING}', 0, {p2}, {p2} \
         FROM payment p JOIN fulfillment f ON f.order_id = p.order_id \
         WHERE p.provider = 'WECHAT' AND p.outcome = 'APPLIED' AND p.created_at >= {p1} \
           AND f.shipped_at IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM wechat_shipping w WHERE w.upload_key = 'F' || f.id) \
         ON CONFLICT (upload_key) DO NOTHING"
    );
    let virtual_goods = format!(
        "INSERT INTO wechat_shipping (upload_key, order_id, fulfillment_id, transaction_id, kind, status, attempts, next_attempt_at, created_at) \
         SELECT 'O' || o.id, o.id, NULL, p.transaction_id, '{VIRTUAL}', '{PENDING}', 0, {p2}, {p2} \
         FROM payment p JOIN shop_order o ON o.id = p.order_id \
         WHERE p.provider = 'WECHAT' AND p.outcome = 'APPLIED' AND p.created_at >= {p1} \
           AND o.kind IN ('MEMBERSHIP', 'TOP_UP') \
           AND NOT EXISTS (SELECT 1 FROM wechat_shipping w WHERE w.upload_key = 'O' || o.id) \
         ON CONFLICT (upload_key) DO NOTHING"
    );
    // A parcel whose tracking number changed after WeChat took it: its one
    // correction (`C<fulfillment>`, unique, so it is uploaded once).
    let corrections = format!(
        "INSERT INTO wechat_shipping (upload_key, order_id, fulfillment_id, transaction_id, kind, status, attempts, next_attempt_at, created_at) \
         SELECT 'C' || f.id, w.order_id, f.id, w.transaction_id, '{PHYSICAL}', '{PENDING}', 0, {p2}, {p2} \
         FROM wechat_shipping w JOIN fulfillment f ON f.id = w.fulfillment_id \
         WHERE w.upload_key = 'F' || f.id AND w.status = '{UPLOADED}' AND w.created_at >= {p1} \
           AND w.tracking_no IS NOT NULL AND f.tracking_no <> w.tracking_no \
           AND NOT EXISTS (SELECT 1 FROM wechat_shipping c WHERE c.upload_key = 'C' || f.id) \
         ON CONFLICT (upload_key) DO NOTHING"
    );
    let mut added = 0;
    for sql in [parcels, virtual_goods, corrections] {
        added += state
            .db
            .execute_raw(Statement::from_sql_and_values(backend, sql, values.clone()))
            .await?
            .rows_affected();
    }
    Ok(added)
}

/// Finds new work and uploads what is due; returns how many were uploaded.
/// Does nothing unless `WECHAT_SHIPPING_UPLOAD` is on and WeChat is configured.
pub async fn upload_due(state: &AppState, now: DateTime<Utc>) -> AppResult<usize> {
    let Some(api) = state.wechat_api.clone() else {
        return Ok(0);
    };
    if !state.settings.wechat_shipping_upload || !super::trade::uploads_wanted(state).await {
        return Ok(0);
    }
    discover(state, now).await?;
    let due = wechat_shipping::Entity::find()
        .filter(wechat_shipping::Column::Status.eq(PENDING))
        .filter(wechat_shipping::Column::NextAttemptAt.lte(now))
        // Parcels of one order in the order they were added: the last one
        // then carries `is_all_delivered`.
        .order_by_asc(wechat_shipping::Column::Id)
        .limit(100)
        .all(&state.db)
        .await?;
    let mut uploaded = 0;
    for row in due {
        if claim_and_attempt(state, &api, &row, now).await? {
            uploaded += 1;
        }
    }
    Ok(uploaded)
}

/// Claims a row for a minute (one instance attempts it) and attempts it;
/// true when WeChat took it.
async fn claim_and_attempt(
    state: &AppState,
    api: &WechatApi,
    row: &wechat_shipping::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let claimed =
        super::claim_for_a_minute::<wechat_shipping::Entity>(&state.db, row.id, row.attempts, now)
            .await?;
    Ok(claimed && attempt(state, api, row, now).await?)
}

/// ADMIN uploads a fulfillment's shipping information again now: one that
/// was given up (`FAILED`) or is waiting for its next attempt. The answer
/// is the row after that attempt.
pub async fn reupload(state: &AppState, fulfillment_id: i64) -> AppResult<wechat_shipping::Model> {
    let Some(api) = state.wechat_api.clone() else {
        return Err(AppError::Conflict(
            "WeChat is not configured: there is nothing to upload".into(),
        ));
    };
    let row = shipping_of_fulfillment(state, fulfillment_id)
        .await?
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "fulfillment {fulfillment_id} has no WeChat shipping upload"
            ))
        })?;
    if row.status == UPLOADED {
        return Err(AppError::Conflict(
            "WeChat has this shipping information already".into(),
        ));
    }
    let now = Utc::now();
    // Due now, whatever its schedule said; the attempt count stays.
    wechat_shipping::Entity::update_many()
        .col_expr(wechat_shipping::Column::Status, Expr::value(PENDING))
        .col_expr(wechat_shipping::Column::NextAttemptAt, Expr::value(now))
        .filter(wechat_shipping::Column::Id.eq(row.id))
        .filter(wechat_shipping::Column::Status.ne(UPLOADED))
        .exec(&state.db)
        .await?;
    let row = wechat_shipping::Entity::find_by_id(row.id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("upload row vanished")))?;
    if !claim_and_attempt(state, &api, &row, now).await? {
        tracing::info!(
            shipping = row.id,
            "re-upload asked for by ADMIN did not go through"
        );
    }
    wechat_shipping::Entity::find_by_id(row.id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("upload row vanished")))
}

/// ADMIN maps a carrier name that matches nothing in WeChat's list to a
/// `delivery_id` of that list; later uploads of that carrier use it.
pub async fn map_carrier(state: &AppState, carrier: &str, delivery_id: &str) -> AppResult<()> {
    let carrier = carrier.trim();
    let delivery_id = delivery_id.trim().to_ascii_uppercase();
    if carrier.is_empty() || carrier.chars().count() > 32 {
        return Err(AppError::bad_input("carrier", "must be 1-32 characters"));
    }
    if let Some(api) = state.wechat_api.clone() {
        let list = delivery_list(state, &api)
            .await
            .map_err(|e| AppError::internal(anyhow::anyhow!(e)))?;
        if !list.iter().any(|c| c.delivery_id == delivery_id) {
            return Err(AppError::bad_input(
                "deliveryId",
                "is not a delivery_id in WeChat's express list (get_delivery_list)",
            ));
        }
    }
    wechat_carrier_map::Entity::insert(wechat_carrier_map::ActiveModel {
        carrier: Set(carrier.to_string()),
        delivery_id: Set(delivery_id),
        updated_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(wechat_carrier_map::Column::Carrier)
            .update_columns([
                wechat_carrier_map::Column::DeliveryId,
                wechat_carrier_map::Column::UpdatedAt,
            ])
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(())
}

/// Why an attempt did not upload: the message kept as `lastError`.
struct Failure {
    errcode: Option<i64>,
    message: String,
}

impl From<WechatApiError> for Failure {
    fn from(e: WechatApiError) -> Self {
        Failure {
            errcode: e.errcode(),
            message: e.to_string(),
        }
    }
}

async fn attempt(
    state: &AppState,
    api: &WechatApi,
    row: &wechat_shipping::Model,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let request = request_for(state, api, row).await?;
    let sent = match &request {
        Ok(body) => api
            .post_json(
                "upload_shipping_info",
                "/wxa/sec/order/upload_shipping_info",
                body,
            )
            .await
            .map(|_| ())
            .map_err(Failure::from),
        Err(f) => Err(Failure {
            errcode: None,
            message: f.clone(),
        }),
    };
    let attempt_no = row.attempts + 1;
    let (errcode, error) = match &sent {
        Ok(()) => (None, None),
        Err(f) => (
            f.errcode,
            Some(f.message.chars().take(250).collect::<String>()),
        ),
    };
    wechat_shipping_attempt::ActiveModel {
        shipping_id: Set(row.id),
        attempt_no: Set(attempt_no),
        request: Set(request
            .as_ref()
            .map(|b| b.to_string())
            .unwrap_or_else(|_| "{}".into())),
        errcode: Set(errcode),
        error: Set(error.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    let mut update = wechat_shipping::Entity::update_many()
        .col_expr(wechat_shipping::Column::Attempts, Expr::value(attempt_no))
        .col_expr(
            wechat_shipping::Column::LockedUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            wechat_shipping::Column::LastError,
            Expr::value(error.clone()),
        );
    let ok = sent.is_ok();
    update = if ok {
        let tracking_no = request
            .as_ref()
            .ok()
            .and_then(|b| b["shipping_list"][0]["tracking_no"].as_str())
            .map(str::to_string);
        update
            .col_expr(wechat_shipping::Column::Status, Expr::value(UPLOADED))
            .col_expr(wechat_shipping::Column::UploadedAt, Expr::value(Utc::now()))
            .col_expr(
                wechat_shipping::Column::TrackingNo,
                Expr::value(tracking_no),
            )
    } else {
        match BACKOFF_SECS.get(row.attempts as usize) {
            Some(wait) => update.col_expr(
                wechat_shipping::Column::NextAttemptAt,
                Expr::value(now + chrono::Duration::seconds(*wait)),
            ),
            None => {
                tracing::error!(
                    shipping = row.id,
                    order = row.order_id,
                    "WeChat shipping upload given up after {attempt_no} attempts"
                );
                update.col_expr(wechat_shipping::Column::Status, Expr::value(FAILED))
            }
        }
    };
    update
        .filter(wechat_shipping::Column::Id.eq(row.id))
        .filter(wechat_shipping::Column::Attempts.eq(row.attempts))
        .exec(&state.db)
        .await?;
    if let Some(e) = &error {
        tracing::warn!(shipping = row.id, order = row.order_id, attempt = attempt_no, error = %e, "WeChat shipping upload failed");
    }
    Ok(ok)
}

/// The request body for a row: `Ok(Err(why))` when it cannot be built yet
/// (a carrier WeChat does not know), which counts as a failed attempt.
async fn request_for(
    state: &AppState,
    api: &WechatApi,
    row: &wechat_shipping::Model,
) -> AppResult<Result<Value, String>> {
    let order = shop_order::Entity::find_by_id(row.order_id)
        .one(&state.db)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("order {} vanished", row.order_id)))?;
    let openid = crate::modules::customer::service::get(state, order.customer_id)
        .await?
        .openid;
    let mut body = json!({
        "order_key": { "order_number_type": 2, "transaction_id": row.transaction_id },
        "upload_time": upload_time(Utc::now()),
        "payer": { "openid": openid },
    });
    if row.kind == VIRTUAL {
        body["logistics_type"] = json!(3);
        body["delivery_mode"] = json!(1);
        body["shipping_list"] = json!([{ "item_desc": virtual_desc(&order) }]);
        return Ok(Ok(body));
    }
    let Some(fulfillment_id) = row.fulfillment_id else {
        return Err(AppError::internal(anyhow::anyhow!(
            "parcel upload {} without a fulfillment",
            row.id
        )));
    };
    let parcels = fulfillment::Entity::find()
        .filter(fulfillment::Column::OrderId.eq(order.id))
        .filter(fulfillment::Column::Status.ne("CANCELLED"))
        .order_by_asc(fulfillment::Column::Id)
        .all(&state.db)
        .await?;
    let Some(parcel) = parcels.iter().find(|f| f.id == fulfillment_id) else {
        return Ok(Err("the fulfillment was cancelled".into()));
    };
    let lines = order_line::Entity::find()
        .filter(order_line::Column::FulfillmentId.eq(fulfillment_id))
        .order_by_asc(order_line::Column::Id)
        .all(&state.db)
        .await?;
    let carrier = parcel.carrier.clone().unwrap_or_default();
    let company = match company_of(state, api, &carrier).await? {
        Ok(c) => c,
        Err(e) => return Ok(Err(e.to_string())),
    };
    let Some(company) = company else {
        return Ok(Err(format!(
            "carrier {carrier:?} matches no express company in WeChat's list (get_delivery_list); map it with mapWechatCarrier"
        )));
    };
    let mut entry = json!({
        "tracking_no": parcel.tracking_no.clone().unwrap_or_default(),
        "express_company": company,
        "item_desc": item_desc(&lines),
    });
    // SF Express (顺丰) answers tracking queries only with the receiver's
    // phone, so WeChat requires it, masked.
    if company == "SF" {
        let phone = order
            .address
            .as_deref()
            .and_then(|a| serde_json::from_str::<Value>(a).ok())
            .and_then(|a| a["phone"].as_str().map(masked_phone))
            .unwrap_or_default();
        entry["contact"] = json!({ "receiver_contact": phone });
    }
    body["logistics_type"] = json!(1);
    body["shipping_list"] = json!([entry]);
    if parcels.len() <= 1 {
        body["delivery_mode"] = json!(1);
    } else {
        let others: Vec<String> = parcels
            .iter()
            .filter(|f| f.id != fulfillment_id)
            .map(|f| format!("F{}", f.id))
            .collect();
        let others_uploaded = wechat_shipping::Entity::find()
            .filter(wechat_shipping::Column::UploadKey.is_in(others.clone()))
            .filter(wechat_shipping::Column::Status.eq(UPLOADED))
            .count(&state.db)
            .await?;
        body["delivery_mode"] = json!(2);
        body["is_all_delivered"] = json!(others_uploaded as usize == others.len());
    }
    Ok(Ok(body))
}

/// WeChat's `delivery_id` for a carrier as typed: ADMIN's mapping, else a
/// match in WeChat's list; `Ok(Err)` when the list cannot be had.
pub(super) async fn company_of(
    state: &AppState,
    api: &WechatApi,
    carrier: &str,
) -> AppResult<Result<Option<String>, WechatApiError>> {
    let mapped = wechat_carrier_map::Entity::find()
        .filter(wechat_carrier_map::Column::Carrier.eq(carrier.trim()))
        .one(&state.db)
        .await?
        .map(|m| m.delivery_id);
    if mapped.is_some() {
        return Ok(Ok(mapped));
    }
    Ok(delivery_list(state, api)
        .await
        .map(|list| express_company(&list, carrier)))
}

/// RFC 3339 in China time, milliseconds, as WeChat's examples write it.
fn upload_time(now: DateTime<Utc>) -> String {
    let china = FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    now.with_timezone(&china)
        .to_rfc3339_opts(SecondsFormat::Millis, false)
}

/// `138****8000`: WeChat's `receiver_contact` shows the first three and last four digits.
fn masked_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().collect();
    if digits.len() < 7 {
        return "****".into();
    }
    let head: String = digits[..3].iter().collect();
    let tail: String = digits[digits.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// What the parcel holds, as the buyer reads it in WeChat: `车厘子*2;…`.
fn item_desc(lines: &[order_line::Model]) -> String {
    let desc = lines
        .iter()
        .map(|l| format!("{}*{}", l.title, l.quantity))
        .collect::<Vec<_>>()
        .join(";");
    let desc = if desc.is_empty() {
        "商品 goods".to_string()
    } else {
        desc
    };
    desc.chars().take(ITEM_DESC_MAX).collect()
}

fn virtual_desc(order: &shop_order::Model) -> String {
    match order.kind.as_str() {
        "TOP_UP" => "储值 top-up".into(),
        _ => "会员 membership".into(),
    }
}

/// One express company of WeChat's list.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExpressCompany {
    pub delivery_id: String,
    pub delivery_name: String,
}

/// WeChat's express companies (`get_delivery_list`), cached for a day.
async fn delivery_list(
    state: &AppState,
    api: &WechatApi,
) -> Result<Vec<ExpressCompany>, WechatApiError> {
    let key = keys::wechat_delivery_list(api.appid());
    if let Some(list) = state
        .cache
        .get_bytes(&key)
        .await
        .and_then(|b| serde_json::from_slice::<Vec<ExpressCompany>>(&b).ok())
    {
        return Ok(list);
    }
    let v = api
        .post_json(
            "get_delivery_list",
            "/cgi-bin/express/delivery/open_msg/get_delivery_list",
            &json!({}),
        )
        .await?;
    let list: Vec<ExpressCompany> =
        serde_json::from_value(v["delivery_list"].clone()).unwrap_or_default();
    if !list.is_empty() {
        state
            .cache
            .set_bytes(
                &key,
                serde_json::to_vec(&list).unwrap_or_default(),
                DELIVERY_LIST_TTL,
            )
            .await;
    }
    Ok(list)
}

/// The `delivery_id` for a carrier as a supplier typed it: the id itself
/// (`SF`, `ZTO`), the full name (`顺丰速运`), or a name one contains the
/// other of (`顺丰`, `中通快递`); none when nothing or several match.
fn express_company(list: &[ExpressCompany], carrier: &str) -> Option<String> {
    let carrier = carrier.trim();
    if carrier.is_empty() {
        return None;
    }
    if let Some(c) = list
        .iter()
        .find(|c| c.delivery_id.eq_ignore_ascii_case(carrier) || c.delivery_name == carrier)
    {
        return Some(c.delivery_id.clone());
    }
    let close: Vec<&ExpressCompany> = list
        .iter()
        .filter(|c| {
            !c.delivery_name.is_empty()
                && (c.delivery_name.contains(carrier) || carrier.contains(&c.delivery_name))
        })
        .collect();
    match close.as_slice() {
        [one] => Some(one.delivery_id.clone()),
        _ => None,
    }
}

/// The order (and its buyer) a WeChat Pay transaction paid: the key of
/// WeChat's trade-management pushes.
pub async fn order_of_transaction(
    state: &AppState,
    transaction_id: &str,
) -> AppResult<Option<(i64, i64)>> {
    let Some(p) = payment::Entity::find()
        .filter(payment::Column::TransactionId.eq(transaction_id))
        .filter(payment::Column::Provider.eq("WECHAT"))
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    Ok(shop_order::Entity::find_by_id(p.order_id)
        .one(&state.db)
        .await?
        .map(|o| (o.id, o.customer_id)))
}

/// The upload row of a fulfillment, if any: its correction once there is
/// one (the state WeChat is being brought to), else its first upload.
pub async fn shipping_of_fulfillment(
    state: &AppState,
    fulfillment_id: i64,
) -> AppResult<Option<wechat_shipping::Model>> {
    let mut rows = wechat_shipping::Entity::find()
        .filter(
            wechat_shipping::Column::UploadKey
                .is_in([format!("F{fulfillment_id}"), format!("C{fulfillment_id}")]),
        )
        .order_by_desc(wechat_shipping::Column::Id)
        .all(&state.db)
        .await?;
    Ok(if rows.is_empty() {
        None
    } else {
        Some(rows.swap_remove(0))
    })
}

/// The upload rows of an order with their attempts, oldest first (tests, support).
pub async fn attempts_of(
    state: &AppState,
    order_id: i64,
) -> AppResult<Vec<(wechat_shipping::Model, Vec<wechat_shipping_attempt::Model>)>> {
    let rows = wechat_shipping::Entity::find()
        .filter(wechat_shipping::Column::OrderId.eq(order_id))
        .order_by_asc(wechat_shipping::Column::Id)
        .all(&state.db)
        .await?;
    let mut out = Vec::new();
    for r in rows {
        let attempts = wechat_shipping_attempt::Entity::find()
            .filter(wechat_shipping_attempt::Column::ShippingId.eq(r.id))
            .order_by_asc(wechat_shipping_attempt::Column::AttemptNo)
            .all(&state.db)
            .await?;
        out.push((r, attempts));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Vec<ExpressCompany> {
        [
            ("SF", "顺丰速运"),
            ("ZTO", "中通快递"),
            ("YTO", "圆通速递"),
            ("ZJS", "宅急送"),
        ]
        .into_iter()
        .map(|(id, name)| ExpressCompany {
            delivery_id: id.into(),
            delivery_name: name.into(),
        })
        .collect()
    }

    #[test]
    fn carriers_map_by_id_name_or_a_part_of_the_name() {
        let l = list();
        assert_eq!(express_company(&l, "sf").as_deref(), Some("SF"));
        assert_eq!(express_company(&l, "顺丰速运").as_deref(), Some("SF"));
        assert_eq!(express_company(&l, "顺丰").as_deref(), Some("SF"));
        assert_eq!(express_company(&l, "中通快递公司").as_deref(), Some("ZTO"));
        assert_eq!(express_company(&l, "某某物流"), None);
        assert_eq!(express_company(&l, " "), None);
    }

    #[test]
    fn phones_are_masked_and_times_are_china_time() {
        assert_eq!(masked_phone("13800138000"), "138****8000");
        assert_eq!(masked_phone("123"), "****");
        let t = DateTime::parse_from_rfc3339("2026-12-03T04:05:06.789Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(upload_time(t), "2026-12-03T12:05:06.789+08:00");
    }
}
