//! Background jobs: each is an "everything due now" function, safe when
//! several instances run it at once (conditional updates decide who does
//! what). This loop calls them; admins and tests can call them directly.
use std::time::Duration;

use chrono::Utc;

use async_graphql::{Context, Object, Result};

use crate::{auth::ViewerExt, modules::order::service, state::AppState};

/// How often the loop looks for due work.
const TICK: Duration = Duration::from_secs(30);

/// Runs the jobs every [`TICK`] until the process ends.
pub fn spawn(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            run_due(&state).await;
        }
    });
}

/// One pass over every job; failures are logged and retried next tick.
pub async fn run_due(state: &AppState) {
    let now = Utc::now();
    match service::expire_unpaid(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(cancelled = n, "unpaid orders timed out"),
        Err(e) => tracing::error!(error = ?e, "order time-out job failed"),
    }
    match crate::modules::supplier::webhook::deliver_due(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(delivered = n, "supplier webhooks delivered"),
        Err(e) => tracing::error!(error = ?e, "supplier webhook job failed"),
    }
    match crate::modules::referral::service::settle_due(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(settled = n, "commissions settled"),
        Err(e) => tracing::error!(error = ?e, "commission settlement job failed"),
    }
    match crate::modules::order::provider::retry_refunds(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(settled = n, "refunds sent or settled on retry"),
        Err(e) => tracing::error!(error = ?e, "refund retry job failed"),
    }
    match crate::modules::referral::payout::run_due(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            moved = n,
            "withdrawal transfers created, settled or cancelled"
        ),
        Err(e) => tracing::error!(error = ?e, "withdrawal transfer job failed"),
    }
    match crate::modules::order::reconcile::reconcile_due(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(differences = n, "trade bill reconciled with differences"),
        Err(e) => tracing::error!(error = ?e, "reconciliation job failed"),
    }
    match crate::modules::order::after_sale::decide::close_unshipped_returns(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(closed = n, "returns not sent in time closed"),
        Err(e) => tracing::error!(error = ?e, "return time-out job failed"),
    }
    match crate::modules::wechat_platform::service::upload_due(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(uploaded = n, "shipping information uploaded to WeChat"),
        Err(e) => tracing::error!(error = ?e, "WeChat shipping upload job failed"),
    }
    match crate::modules::wechat_platform::service::send_subscription_messages(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(sent = n, "subscription messages sent"),
        Err(e) => tracing::error!(error = ?e, "subscription message job failed"),
    }
    match crate::modules::order::payable::make_due(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(due = n, "supplier payables fell due"),
        Err(e) => tracing::error!(error = ?e, "supplier payables job failed"),
    }
    match crate::modules::operations::service::refresh_scale(state, now).await {
        Ok(_) => {}
        Err(e) => tracing::error!(error = ?e, "RFM cutoffs job failed"),
    }
    match service::auto_complete(state, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(completed = n, "shipped orders auto-completed"),
        Err(e) => tracing::error!(error = ?e, "auto-complete job failed"),
    }
}

/// The admin's handle on the loop.
#[derive(Default)]
pub struct JobsMutation;

#[Object]
impl JobsMutation {
    /// Runs the due background jobs now (ADMIN: OWNER): order time-outs (asking WeChat
    /// Pay first), refund retries and queries, withdrawal transfers (created,
    /// queried, cancelled when unconfirmed), auto-completion, …
    async fn run_order_jobs(&self, ctx: &Context<'_>) -> Result<bool> {
        ctx.viewer().staff_id(crate::auth::staff::OWNER)?;
        run_due(ctx.data_unchecked::<AppState>()).await;
        Ok(true)
    }
}
