//! Referral distribution operations.
use async_graphql::{Context, ID, Object, Result, connection::Connection};

use super::{
    service,
    types::{
        Commission, CommissionRule, CommissionRuleInput, CommissionStatus, Promoter,
        PromoterStatus, Withdrawal, WithdrawalFilter,
    },
};
use crate::{
    api::{
        ids::parse_id,
        pagination::{TotalCount, decode_cursor, id_connection, id_connection_with, page_size},
        scalars::Money,
    },
    auth::ViewerExt,
    error::AppError,
    modules::customer::types::{Customer, CustomerConnection},
    state::AppState,
};

pub type WithdrawalConnection = Connection<String, Withdrawal, TotalCount>;

/// A page of `customer_id`'s team at `level`, with its count.
async fn team_page(
    ctx: &Context<'_>,
    customer_id: i64,
    level: i32,
    first: Option<i32>,
    after: Option<String>,
) -> Result<CustomerConnection> {
    let state = ctx.data_unchecked::<AppState>();
    let first = page_size(first)?;
    let after: Option<i64> = decode_cursor(after.as_deref())?;
    let query = crate::modules::customer::service::team_query(customer_id, level)?;
    let (rows, more) =
        crate::modules::customer::service::team(state, customer_id, level, first, after).await?;
    Ok(id_connection_with(
        rows.into_iter()
            .map(|c| (c.id, Customer::from(c)))
            .collect(),
        more,
        after.is_some(),
        TotalCount::of(query),
    ))
}

#[derive(Default)]
pub struct ReferralQuery;

#[Object]
impl ReferralQuery {
    /// The commission rule in force.
    async fn commission_rule(&self, ctx: &Context<'_>) -> Result<CommissionRule> {
        Ok(CommissionRule(
            service::rule(&ctx.data_unchecked::<AppState>().db).await?,
        ))
    }

    /// The signed-in customer's commissions, newest first (CUSTOMER).
    async fn my_commissions(
        &self,
        ctx: &Context<'_>,
        status: Option<CommissionStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Commission>> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let status = status.map(|s| match s {
            CommissionStatus::Pending => service::PENDING,
            CommissionStatus::Settled => service::SETTLED,
            CommissionStatus::Cancelled => service::CANCELLED,
            CommissionStatus::Withdrawn => "WITHDRAWN",
        });
        let (rows, more) = service::commissions(state, me, status, first, after).await?;
        Ok(id_connection(
            rows.into_iter().map(|c| (c.id, Commission(c))).collect(),
            more,
            after.is_some(),
        ))
    }

    /// Customers the signed-in customer invited (level 1) or they invited (level 2) (CUSTOMER).
    async fn my_team(
        &self,
        ctx: &Context<'_>,
        level: i32,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<CustomerConnection> {
        let me = ctx.viewer().customer_id()?;
        team_page(ctx, me, level, first, after).await
    }

    /// A customer's team (ADMIN): those it invited (level 1, the default)
    /// or they invited (level 2), newest first, each with its join date
    /// (`createdAt`) and purchases (`stats`); `totalCount` is the level's
    /// size (`Promoter.level1Count` / `level2Count`). Any customer, promoter
    /// or not; `NOT_FOUND` for an unknown one.
    async fn promoter_team(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        level: Option<i32>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<CustomerConnection> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        let id = parse_id(&customer_id, "customerId")?;
        if crate::modules::customer::service::find(state, id)
            .await?
            .is_none()
        {
            return Err(AppError::NotFound(format!("customer {id} not found")).into());
        }
        team_page(ctx, id, level.unwrap_or(1), first, after).await
    }

    /// The signed-in customer's withdrawals, newest first (CUSTOMER).
    async fn my_withdrawals(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<WithdrawalConnection> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        // The admin's queue narrowed to the caller: one list type for both.
        let filter = service::WithdrawalFilter {
            customer_id: Some(me),
            ..Default::default()
        };
        let (rows, more) = service::withdrawal_queue(state, &filter, first, after).await?;
        Ok(id_connection_with(
            rows.into_iter().map(|w| (w.id, Withdrawal(w))).collect(),
            more,
            after.is_some(),
            service::total_withdrawals(&filter),
        ))
    }

    /// Every promoter's withdrawals, newest first, filtered (ADMIN): the
    /// queue `reviewWithdrawal` works from (`status: REQUESTED` for those
    /// waiting for the store).
    async fn withdrawals(
        &self,
        ctx: &Context<'_>,
        filter: Option<WithdrawalFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<WithdrawalConnection> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let filter = service::WithdrawalFilter::try_from(filter.unwrap_or_default())?;
        let (rows, more) = service::withdrawal_queue(state, &filter, first, after).await?;
        Ok(id_connection_with(
            rows.into_iter().map(|w| (w.id, Withdrawal(w))).collect(),
            more,
            after.is_some(),
            service::total_withdrawals(&filter),
        ))
    }

    /// Promoters with their figures, newest first (ADMIN).
    async fn promoters(
        &self,
        ctx: &Context<'_>,
        status: Option<PromoterStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Promoter>> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let status = status.map(|s| match s {
            PromoterStatus::Pending => service::PENDING,
            PromoterStatus::Approved => service::APPROVED,
            PromoterStatus::Rejected => service::REJECTED,
        });
        let (rows, more) = service::promoters(state, status, first, after).await?;
        Ok(id_connection(
            rows.into_iter()
                .map(|p| (p.customer_id, Promoter::new(p)))
                .collect(),
            more,
            after.is_some(),
        ))
    }
}

#[derive(Default)]
pub struct ReferralMutation;

#[Object]
impl ReferralMutation {
    /// Applies to become a promoter: approved at once in OPEN mode (CUSTOMER).
    async fn apply_promoter(&self, ctx: &Context<'_>) -> Result<Promoter> {
        let me = ctx.viewer().customer_id()?;
        Ok(Promoter::new(
            service::apply(ctx.data_unchecked::<AppState>(), me).await?,
        ))
    }

    /// Approves or rejects a promoter (ADMIN: OPERATIONS).
    async fn review_promoter(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        approve: bool,
    ) -> Result<Promoter> {
        ctx.viewer().staff_id(crate::auth::staff::OPERATIONS)?;
        let id = parse_id(&customer_id, "customerId")?;
        Ok(Promoter::new(
            service::review(ctx.data_unchecked::<AppState>(), id, approve).await?,
        ))
    }

    /// Sets a new commission rule; orders paid from now on use it (ADMIN: OWNER).
    async fn set_commission_rule(
        &self,
        ctx: &Context<'_>,
        input: CommissionRuleInput,
    ) -> Result<CommissionRule> {
        let admin = ctx.viewer().staff_id(crate::auth::staff::OWNER)?;
        Ok(CommissionRule(
            service::set_rule(ctx.data_unchecked::<AppState>(), admin, input.into()).await?,
        ))
    }

    /// Withdraws commission: held now, paid on approval (through a WeChat
    /// Pay transfer the promoter confirms, when configured; automatically up
    /// to `WITHDRAWAL_AUTO_APPROVE_FEN` within the daily caps), or into the
    /// stored-value wallet at once with `toWallet` (CUSTOMER, approved promoters).
    async fn request_withdrawal(
        &self,
        ctx: &Context<'_>,
        amount_fen: Money,
        idempotency_key: String,
        #[graphql(default = false)] to_wallet: bool,
        #[graphql(
            desc = "The payee's real name: WeChat Pay requires it for transfers from 2,000 yuan (sent encrypted)."
        )]
        real_name: Option<String>,
    ) -> Result<Withdrawal> {
        let me = ctx.viewer().customer_id()?;
        let state = ctx.data_unchecked::<AppState>();
        Ok(Withdrawal(
            service::request_withdrawal(
                state,
                me,
                amount_fen.0,
                &idempotency_key,
                to_wallet,
                real_name,
            )
            .await?,
        ))
    }

    /// Approves or rejects a requested withdrawal (ADMIN: FINANCE). With WeChat Pay
    /// transfers configured, approving creates the transfer
    /// (`WAITING_CONFIRMATION`); without, it records the store's own
    /// payment (`PAID`; put the payout reference in `note`).
    async fn review_withdrawal(
        &self,
        ctx: &Context<'_>,
        id: ID,
        approve: bool,
        note: Option<String>,
    ) -> Result<Withdrawal> {
        let admin = ctx.viewer().staff_id(crate::auth::staff::FINANCE)?;
        let id = parse_id(&id, "id")?;
        Ok(Withdrawal(
            service::review_withdrawal(ctx.data_unchecked::<AppState>(), admin, id, approve, note)
                .await?,
        ))
    }

    /// Settles the commissions due now; returns how many (ADMIN: FINANCE).
    async fn run_commission_settlement(&self, ctx: &Context<'_>) -> Result<i32> {
        ctx.viewer().staff_id(crate::auth::staff::FINANCE)?;
        let n = service::settle_due(ctx.data_unchecked::<AppState>(), chrono::Utc::now()).await?;
        i32::try_from(n).map_err(|e| AppError::internal(e).into())
    }
}
