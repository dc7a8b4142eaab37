//! Parcel tracking from WeChat's logistics query (物流查询): the waybill is
//! handed to `trace_waybill` (with the WeChat Pay transaction, the buyer
//! and the goods), which answers a `waybill_token`; `query_trace` with it
//! answers the carrier's trace. The trace is kept in the shared cache for
//! [`TRACE_TTL`] per parcel and tracking number, so a buyer refreshing the
//! page does not spend WeChat's quota (100 queries per user a day).
//!
//! Invariant: never an error for the caller. Demo mode, a parcel without a
//! tracking number or not paid through WeChat Pay, a carrier WeChat does
//! not know and any failure of WeChat's answer an empty trace (failures are
//! logged and counted in `/metrics`, and not cached).
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use entity::{fulfillment, order_line, payment, shop_order};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::shipping::company_of;
use crate::{cache::keys, error::AppResult, state::AppState, wechat::api::WechatApi};

/// How long a trace is kept.
pub const TRACE_TTL: Duration = Duration::from_secs(300);

/// One step of a parcel's trace.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct TraceEvent {
    pub time: DateTime<Utc>,
    /// WeChat's `action_type` (100001 picked up, 200001 in transit,
    /// 300002 out for delivery, 300003 signed for, 400002 held, …).
    pub action_type: i64,
    pub description: String,
}

/// The trace of a parcel, oldest step first; empty when there is none.
pub async fn tracking(state: &AppState, parcel: &fulfillment::Model) -> AppResult<Vec<TraceEvent>> {
    let Some(api) = state.wechat_api.clone() else {
        return Ok(Vec::new());
    };
    let Some(tracking_no) = parcel
        .tracking_no
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Ok(Vec::new());
    };
    let key = keys::wechat_trace(parcel.id, tracking_no);
    if let Some(cached) = state
        .cache
        .get_bytes(&key)
        .await
        .and_then(|b| serde_json::from_slice::<Vec<TraceEvent>>(&b).ok())
    {
        return Ok(cached);
    }
    let Some(request) = waybill_request(state, &api, parcel, tracking_no).await? else {
        return Ok(Vec::new());
    };
    let trace = match query(&api, &request).await {
        Ok(t) => t,
        Err(why) => {
            tracing::warn!(fulfillment = parcel.id, why = %why, "WeChat logistics query failed; no trace shown");
            return Ok(Vec::new());
        }
    };
    state
        .cache
        .set_bytes(
            &key,
            serde_json::to_vec(&trace).unwrap_or_default(),
            TRACE_TTL,
        )
        .await;
    Ok(trace)
}

/// `trace_waybill`'s body, or none when the parcel cannot be traced
/// through WeChat (not paid through WeChat Pay, an unknown carrier).
async fn waybill_request(
    state: &AppState,
    api: &WechatApi,
    parcel: &fulfillment::Model,
    tracking_no: &str,
) -> AppResult<Option<Value>> {
    let Some(transaction_id) = payment::Entity::find()
        .filter(payment::Column::OrderId.eq(parcel.order_id))
        .filter(payment::Column::Provider.eq("WECHAT"))
        .filter(payment::Column::Outcome.eq("APPLIED"))
        .one(&state.db)
        .await?
        .map(|p| p.transaction_id)
    else {
        return Ok(None);
    };
    let Some(order) = shop_order::Entity::find_by_id(parcel.order_id)
        .one(&state.db)
        .await?
    else {
        return Ok(None);
    };
    let delivery_id =
        match company_of(state, api, parcel.carrier.as_deref().unwrap_or_default()).await? {
            Ok(Some(id)) => id,
            Ok(None) => return Ok(None),
            Err(e) => {
                tracing::warn!(fulfillment = parcel.id, error = %e, "no express list for a trace");
                return Ok(None);
            }
        };
    let openid = crate::modules::customer::service::get(state, order.customer_id)
        .await?
        .openid;
    let phone = order
        .address
        .as_deref()
        .and_then(|a| serde_json::from_str::<Value>(a).ok())
        .and_then(|a| a["phone"].as_str().map(str::to_string))
        .unwrap_or_default();
    let lines = order_line::Entity::find()
        .filter(order_line::Column::FulfillmentId.eq(parcel.id))
        .order_by_asc(order_line::Column::Id)
        .all(&state.db)
        .await?;
    let mut goods = Vec::new();
    for line in lines.iter().take(5) {
        let image = crate::modules::catalogue::service::product_for_shopper(state, line.product_id)
            .await?
            .and_then(|b| {
                serde_json::from_str::<Vec<String>>(&b.product.images)
                    .ok()
                    .and_then(|i| i.into_iter().next())
            })
            .unwrap_or_default();
        goods.push(json!({
            "goods_name": line.title.chars().take(60).collect::<String>(),
            "goods_img_url": image,
        }));
    }
    if goods.is_empty() {
        goods.push(json!({ "goods_name": "商品 goods", "goods_img_url": "" }));
    }
    Ok(Some(json!({
        "openid": openid,
        "receiver_phone": phone,
        "delivery_id": delivery_id,
        "waybill_id": tracking_no,
        "trans_id": transaction_id,
        "goods_info": { "detail_list": goods },
        "order_detail_path": format!("pages/order/detail?id={}", order.id),
    })))
}

/// `trace_waybill` then `query_trace`: the trace, oldest step first.
async fn query(api: &WechatApi, request: &Value) -> Result<Vec<TraceEvent>, String> {
    let answer = api
        .post_json(
            "trace_waybill",
            "/cgi-bin/express/delivery/open_msg/trace_waybill",
            request,
        )
        .await
        .map_err(|e| e.to_string())?;
    let Some(token) = answer["waybill_token"].as_str().filter(|t| !t.is_empty()) else {
        return Err("trace_waybill answered no waybill_token".into());
    };
    let answer = api
        .post_json(
            "query_trace",
            "/cgi-bin/express/delivery/open_msg/query_trace",
            &json!({ "waybill_token": token }),
        )
        .await
        .map_err(|e| e.to_string())?;
    Ok(events_of(&answer))
}

/// The steps of a `query_trace` answer (`path_info.path_item_list`), oldest first.
fn events_of(answer: &Value) -> Vec<TraceEvent> {
    let mut events: Vec<TraceEvent> = answer["path_info"]["path_item_list"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|item| {
                    let time = Utc
                        .timestamp_opt(item["action_time"].as_i64()?, 0)
                        .single()?;
                    Some(TraceEvent {
                        time,
                        action_type: item["action_type"].as_i64().unwrap_or(0),
                        description: item["action_msg"].as_str().unwrap_or_default().to_string(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    events.sort_by_key(|e| e.time);
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trace_reads_oldest_first_and_nothing_is_empty() {
        let answer = json!({ "path_info": { "path_item_num": 2, "path_item_list": [
            { "action_time": 1764748800, "action_type": 200001, "action_msg": "到达杭州" },
            { "action_time": 1764745200, "action_type": 100001, "action_msg": "已揽件" },
        ]}});
        let events = events_of(&answer);
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].action_type, 100001);
        assert_eq!(events[1].description, "到达杭州");
        assert!(events_of(&json!({ "waybill_info": { "status": 0 } })).is_empty());
    }
}
