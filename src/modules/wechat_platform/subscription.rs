//! Subscription messages (订阅消息): which template serves which event
//! (`WECHAT_SUBSCRIBE_TEMPLATES`), and the one-time consents customers
//! accepted in `wx.requestSubscribeMessage`, counted per template; each
//! message sent will spend one (no consent, no message).
use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};

use crate::{
    error::{AppError, AppResult},
    state::AppState,
};

/// Template ids one `recordSubscriptionConsents` call takes (WeChat asks
/// for at most three at once).
pub const MAX_TEMPLATE_IDS: usize = 10;

/// Unspent consents kept per customer and template: enough for any real
/// flow, and a client looping on the mutation cannot grow a row without end.
pub const MAX_AVAILABLE: i32 = 100;

/// How an event's messages are filled: the page opened and the `data`
/// keywords, with `{placeholder}`s (see README: `orderId`, `orderNo`,
/// `carrier`, `trackingNo`, `amount`, `result`, `time`, `withdrawalId`).
#[derive(Clone, Debug)]
pub struct Layout {
    pub page: String,
    pub data: Vec<(String, String)>,
}

/// The layout of `event`: the store's settings where given, else the
/// defaults below, written for common templates of each kind in WeChat's
/// public library (the store's own template's keywords must match).
pub fn layout(state: &AppState, event: &str) -> Layout {
    let (page, data): (&str, &str) = match event {
        "ORDER_SHIPPED" => (
            "pages/order/detail?id={orderId}",
            "character_string1={orderNo};thing2={carrier};character_string3={trackingNo};time4={time}",
        ),
        "REFUND_RESULT" => (
            "pages/order/detail?id={orderId}",
            "character_string1={orderNo};amount2={amount};phrase3={result};time4={time}",
        ),
        "COMMISSION_SETTLED" => (
            "pages/promoter/index",
            "amount1={amount};character_string2={orderNo};time3={time}",
        ),
        _ => ("pages/promoter/index", "amount1={amount};time2={time}"),
    };
    let own = state
        .settings
        .wechat_subscribe_layouts
        .iter()
        .find(|l| l.event == event);
    Layout {
        page: own
            .and_then(|l| l.page.clone())
            .unwrap_or_else(|| page.to_string()),
        data: own.and_then(|l| l.data.clone()).unwrap_or_else(|| {
            data.split(';')
                .filter_map(|p| p.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        }),
    }
}

/// (event, template id) pairs as configured.
pub fn templates(state: &AppState) -> &[(String, String)] {
    &state.settings.wechat_subscribe_templates
}

/// Adds one consent per distinct template id; every id must be a
/// configured template. Returns how many were recorded.
pub async fn record_consents(
    state: &AppState,
    customer_id: i64,
    template_ids: &[String],
) -> AppResult<i32> {
    if template_ids.is_empty() || template_ids.len() > MAX_TEMPLATE_IDS {
        return Err(AppError::bad_input(
            "templateIds",
            format!("must hold 1 to {MAX_TEMPLATE_IDS} template ids"),
        ));
    }
    let mut ids: Vec<&str> = template_ids.iter().map(|t| t.trim()).collect();
    ids.sort_unstable();
    ids.dedup();
    let configured = templates(state);
    if let Some(unknown) = ids
        .iter()
        .find(|id| !configured.iter().any(|(_, t)| t == *id))
    {
        return Err(AppError::bad_input(
            "templateIds",
            format!(
                "{unknown:?} is not one of the store's subscription templates (subscriptionTemplates)"
            ),
        ));
    }
    let backend = state.db.get_database_backend();
    let (p1, p2, p3) = match backend {
        DatabaseBackend::Postgres => ("$1", "$2", "$3"),
        _ => ("?", "?", "?"),
    };
    let sql = format!(
        "INSERT INTO subscription_consent (customer_id, template_id, available, updated_at) \
         VALUES ({p1}, {p2}, 1, {p3}) \
         ON CONFLICT (customer_id, template_id) DO UPDATE SET \
           available = CASE WHEN subscription_consent.available < {MAX_AVAILABLE} \
             THEN subscription_consent.available + 1 ELSE subscription_consent.available END, \
           updated_at = excluded.updated_at"
    );
    let now = Utc::now();
    for id in &ids {
        state
            .db
            .execute_raw(Statement::from_sql_and_values(
                backend,
                sql.clone(),
                [customer_id.into(), (*id).into(), now.into()],
            ))
            .await?;
    }
    Ok(ids.len() as i32)
}

/// Unspent consents of a customer per template id (tests, support).
pub async fn consents_of(state: &AppState, customer_id: i64) -> AppResult<Vec<(String, i32)>> {
    use entity::subscription_consent;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    Ok(subscription_consent::Entity::find()
        .filter(subscription_consent::Column::CustomerId.eq(customer_id))
        .order_by_asc(subscription_consent::Column::TemplateId)
        .all(&state.db)
        .await?
        .into_iter()
        .map(|c| (c.template_id, c.available))
        .collect())
}
