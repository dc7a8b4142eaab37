//! Trade management (交易管理) beside the uploads: whether the mini-program
//! is under it at all (`is_trade_managed`), and WeChat's reminders to ship
//! (`trade_manage_remind_shipping`), kept per order for ADMIN.
use std::sync::{
    Arc,
    atomic::{AtomicU8, Ordering},
};

use chrono::Utc;
use entity::wechat_shipping_reminder;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use serde_json::json;

use crate::{error::AppResult, state::AppState};

const MANAGED: u8 = 1;
const NOT_MANAGED: u8 = 2;

/// What WeChat said about trade management, once it said it (a runtime
/// part in `AppState::parts`, installed by start-up).
#[derive(Clone, Default)]
pub struct TradeManaged(Arc<AtomicU8>);

/// Asks WeChat whether the mini-program is under trade management, once it
/// has answered; an instance that cannot ask uploads anyway (WeChat
/// refuses uploads it does not want, and each refusal is recorded) and
/// asks again on the next pass. Returns false only when WeChat said no.
pub async fn uploads_wanted(state: &AppState) -> bool {
    let known = state.part::<TradeManaged>();
    match known.0.load(Ordering::Relaxed) {
        MANAGED => return true,
        NOT_MANAGED => return false,
        _ => {}
    }
    let Some(api) = state.wechat_api.clone() else {
        return false;
    };
    let answer = api
        .post_json(
            "is_trade_managed",
            "/wxa/sec/order/is_trade_managed",
            &json!({ "appid": api.appid() }),
        )
        .await;
    match answer {
        Ok(v) => {
            let managed = v["is_trade_managed"].as_bool().unwrap_or(true);
            known.0.store(
                if managed { MANAGED } else { NOT_MANAGED },
                Ordering::Relaxed,
            );
            if !managed {
                tracing::warn!(
                    "WECHAT_SHIPPING_UPLOAD is on, but WeChat says this mini-program is not under trade management (is_trade_managed: false): shipping information is not uploaded. Turn WECHAT_SHIPPING_UPLOAD off, or open trade management in the mini-program console and restart"
                );
            }
            managed
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not ask WeChat whether the mini-program is under trade management; uploading meanwhile and asking again on the next pass");
            true
        }
    }
}

/// At start-up, in the background: asks once so that a mini-program not
/// under trade management is said in the log at once.
pub fn check_at_start(state: &AppState) {
    if !state.settings.wechat_shipping_upload || state.wechat_api.is_none() {
        return;
    }
    let state = state.clone();
    tokio::spawn(async move {
        let _ = uploads_wanted(&state).await;
    });
}

/// WeChat reminded the store to ship the order a transaction paid: kept
/// (counted, first and last time) for ADMIN. Returns the order, or none
/// for a transaction siyu does not know.
pub async fn record_reminder(state: &AppState, transaction_id: &str) -> AppResult<Option<i64>> {
    let Some((order_id, _)) = super::shipping::order_of_transaction(state, transaction_id).await?
    else {
        return Ok(None);
    };
    let now = Utc::now();
    wechat_shipping_reminder::Entity::insert(wechat_shipping_reminder::ActiveModel {
        order_id: Set(order_id),
        transaction_id: Set(transaction_id.to_string()),
        reminders: Set(1),
        first_at: Set(now),
        last_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(wechat_shipping_reminder::Column::OrderId)
            .value(
                wechat_shipping_reminder::Column::Reminders,
                sea_orm::sea_query::Expr::cust("wechat_shipping_reminder.reminders + 1"),
            )
            .update_column(wechat_shipping_reminder::Column::LastAt)
            .to_owned(),
    )
    .exec_without_returning(&state.db)
    .await?;
    Ok(Some(order_id))
}

/// WeChat's reminders to ship an order, if any came.
pub async fn reminder_of(
    state: &AppState,
    order_id: i64,
) -> AppResult<Option<wechat_shipping_reminder::Model>> {
    Ok(wechat_shipping_reminder::Entity::find()
        .filter(wechat_shipping_reminder::Column::OrderId.eq(order_id))
        .one(&state.db)
        .await?)
}
