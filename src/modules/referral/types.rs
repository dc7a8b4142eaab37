//! GraphQL shapes of referral distribution.
use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use entity::{commission, promoter, withdrawal};

use super::payout;
use super::service::{self, Rule};
use crate::api::scalars::Timestamp;
use crate::auth::{Viewer, ViewerExt};
use crate::{
    api::{ids::to_id, scalars::Money},
    modules::{customer::types::Customer, referral::commission::Base},
    state::AppState,
};

/// What commissions are a percentage of (goods only, shipping excluded).
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommissionBase {
    /// What the buyer paid for the goods, balance included.
    PaidAmount,
    /// That minus the supplier cost of the lines.
    GrossMargin,
}

/// Who may earn.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromoterMode {
    /// Every customer is a promoter.
    Open,
    /// Customers apply and an admin approves.
    Apply,
}

/// The commission rule in force.
pub struct CommissionRule(pub Rule);

#[Object]
impl CommissionRule {
    /// Percent of the base for the buyer's inviter.
    async fn level1_percent(&self) -> i32 {
        self.0.level1_percent
    }
    /// Percent of the base for the inviter's inviter.
    async fn level2_percent(&self) -> i32 {
        self.0.level2_percent
    }
    /// Days after an order completes before its commissions settle (the return window).
    async fn settle_after_days(&self) -> i32 {
        self.0.settle_after_days
    }
    /// What the percentages apply to.
    async fn base(&self) -> CommissionBase {
        match self.0.base {
            Base::PaidAmount => CommissionBase::PaidAmount,
            Base::GrossMargin => CommissionBase::GrossMargin,
        }
    }
    /// Who may earn.
    async fn promoter_mode(&self) -> PromoterMode {
        if self.0.open {
            PromoterMode::Open
        } else {
            PromoterMode::Apply
        }
    }
}

/// A new version of the commission rule.
#[derive(InputObject)]
pub struct CommissionRuleInput {
    /// 0-50; with level 2, at most 50 together.
    pub level1_percent: i32,
    /// 0-50; with level 1, at most 50 together.
    pub level2_percent: i32,
    /// 0-180 days.
    pub settle_after_days: i32,
    /// What the percentages apply to.
    pub base: CommissionBase,
    /// Who may earn.
    pub promoter_mode: PromoterMode,
}

impl From<CommissionRuleInput> for Rule {
    fn from(i: CommissionRuleInput) -> Self {
        Rule {
            level1_percent: i.level1_percent,
            level2_percent: i.level2_percent,
            settle_after_days: i.settle_after_days,
            base: match i.base {
                CommissionBase::PaidAmount => Base::PaidAmount,
                CommissionBase::GrossMargin => Base::GrossMargin,
            },
            open: i.promoter_mode == PromoterMode::Open,
        }
    }
}

/// Where a commission is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommissionStatus {
    /// Earned; settles after the order completes and the return window passes.
    Pending,
    /// Added to the withdrawable balance (reversals are settled negative rows).
    Settled,
    /// Cancelled by a refund before it settled.
    Cancelled,
    /// Reserved: withdrawals draw on the balance as amounts, so rows stay SETTLED.
    Withdrawn,
}

/// A promoter's application status.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromoterStatus {
    /// Waiting for an admin.
    Pending,
    /// Earns commissions.
    Approved,
    /// Refused (may apply again).
    Rejected,
}

/// A commission on an order bought by someone this customer invited.
pub struct Commission(pub commission::Model);

#[Object]
impl Commission {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// 1: the buyer was invited by this customer; 2: by someone this customer invited.
    async fn level(&self) -> i32 {
        self.0.level
    }
    /// Amount (fen); negative for a reversal after a refund.
    async fn amount_fen(&self) -> Money {
        Money(self.0.amount_fen)
    }
    /// The base it is a percentage of (fen).
    async fn base_fen(&self) -> Money {
        Money(self.0.base_fen)
    }
    /// The percent applied.
    async fn percent(&self) -> i32 {
        self.0.percent
    }
    /// A reversal of a settled commission (after a refund).
    async fn reversal(&self) -> bool {
        self.0.kind == "REVERSAL"
    }
    /// Where it is.
    async fn status(&self) -> CommissionStatus {
        match self.0.status.as_str() {
            service::SETTLED => CommissionStatus::Settled,
            service::CANCELLED => CommissionStatus::Cancelled,
            _ => CommissionStatus::Pending,
        }
    }
    /// The buyer (nickname and avatar only).
    async fn buyer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(
            crate::modules::customer::service::find(state, self.0.buyer_id)
                .await?
                .map(Customer::from),
        )
    }
    /// When it was earned.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
    /// When it settled.
    async fn settled_at(&self) -> Option<Timestamp> {
        self.0.settled_at.map(Into::into)
    }
}

/// A customer's promoter account and figures (fen). It has no id: there is
/// at most one per customer, reached through its customer (a normalized
/// client cache keeps it there).
pub struct Promoter(pub promoter::Model, tokio::sync::OnceCell<service::Figures>);

impl Promoter {
    pub fn new(model: promoter::Model) -> Self {
        Promoter(model, tokio::sync::OnceCell::new())
    }

    /// The figures, computed once however many of them a query asks for.
    async fn figures(&self, ctx: &Context<'_>) -> Result<&service::Figures> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(self
            .1
            .get_or_try_init(|| service::figures(state, self.0.customer_id))
            .await?)
    }
}

#[Object]
impl Promoter {
    /// Application status.
    async fn status(&self) -> PromoterStatus {
        match self.0.status.as_str() {
            service::APPROVED => PromoterStatus::Approved,
            service::REJECTED => PromoterStatus::Rejected,
            _ => PromoterStatus::Pending,
        }
    }
    /// The customer.
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(
            crate::modules::customer::service::find(state, self.0.customer_id)
                .await?
                .map(Customer::from),
        )
    }
    /// Earned, not yet settled.
    async fn pending_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        Ok(Money(self.figures(ctx).await?.pending))
    }
    /// Settled, all time (reversals subtracted).
    async fn settled_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        Ok(Money(self.figures(ctx).await?.settled))
    }
    /// Paid out or moved into the wallet, all time.
    async fn withdrawn_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        Ok(Money(self.figures(ctx).await?.withdrawn))
    }
    /// Can be withdrawn now.
    async fn withdrawable_fen(&self) -> Money {
        Money(self.0.withdrawable_fen)
    }
    /// Reversed after settlement and not yet covered: taken from future earnings.
    async fn owed_fen(&self) -> Money {
        Money(self.0.owed_fen)
    }
    /// Customers this one invited.
    async fn level1_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.figures(ctx).await?.level1 as i32)
    }
    /// Customers those invited.
    async fn level2_count(&self, ctx: &Context<'_>) -> Result<i32> {
        Ok(self.figures(ctx).await?.level2 as i32)
    }
}

/// Where a withdrawal is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WithdrawalStatus {
    /// Held; waiting for the store (or the automatic approval).
    Requested,
    /// Approved; the WeChat Pay transfer is being created.
    Approved,
    /// The transfer exists: its owner confirms it in the mini-program with
    /// `transferPackage` (`wx.requestMerchantTransfer`).
    WaitingConfirmation,
    /// Paid out (by WeChat Pay, by the store by hand, or into the wallet).
    Paid,
    /// Refused by the store; the amount went back to the withdrawable balance.
    Rejected,
    /// WeChat Pay could not pay it (see `failureReason`); the amount went back.
    Failed,
    /// Not confirmed in time and cancelled; the amount went back.
    Cancelled,
}

impl WithdrawalStatus {
    /// The stored status (the withdrawal queue's filter).
    pub fn stored(self) -> &'static str {
        match self {
            WithdrawalStatus::Requested => payout::REQUESTED,
            WithdrawalStatus::Approved => payout::APPROVED,
            WithdrawalStatus::WaitingConfirmation => payout::WAITING,
            WithdrawalStatus::Paid => payout::PAID,
            WithdrawalStatus::Rejected => payout::REJECTED,
            WithdrawalStatus::Failed => payout::FAILED,
            WithdrawalStatus::Cancelled => payout::CANCELLED,
        }
    }

    fn of(stored: &str) -> Self {
        match stored {
            payout::APPROVED => WithdrawalStatus::Approved,
            payout::WAITING => WithdrawalStatus::WaitingConfirmation,
            payout::PAID => WithdrawalStatus::Paid,
            payout::REJECTED => WithdrawalStatus::Rejected,
            payout::FAILED => WithdrawalStatus::Failed,
            payout::CANCELLED => WithdrawalStatus::Cancelled,
            // REQUESTED, and PENDING as rows were stored before transfers.
            _ => WithdrawalStatus::Requested,
        }
    }
}

/// ADMIN filters of `withdrawals`.
#[derive(InputObject, Default)]
pub struct WithdrawalFilter {
    /// Only this status (REQUESTED: the ones waiting for the store).
    pub status: Option<WithdrawalStatus>,
    /// Only this promoter's (its customer id).
    pub customer_id: Option<ID>,
    /// Requested at or after.
    pub from: Option<Timestamp>,
    /// Requested before.
    pub to: Option<Timestamp>,
}

impl TryFrom<WithdrawalFilter> for service::WithdrawalFilter {
    type Error = crate::error::AppError;
    /// The filter as the service reads it; a malformed id is named.
    fn try_from(f: WithdrawalFilter) -> Result<Self, Self::Error> {
        Ok(service::WithdrawalFilter {
            status: f.status.map(|s| s.stored()),
            customer_id: f
                .customer_id
                .as_ref()
                .map(|c| crate::api::ids::parse_id(c, "filter.customerId"))
                .transpose()?,
            from: f.from.map(Into::into),
            to: f.to.map(Into::into),
        })
    }
}

/// A withdrawal of commission.
pub struct Withdrawal(pub withdrawal::Model);

#[Object]
impl Withdrawal {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Amount (fen).
    async fn amount_fen(&self) -> Money {
        Money(self.0.amount_fen)
    }
    /// Where it is.
    async fn status(&self) -> WithdrawalStatus {
        WithdrawalStatus::of(&self.0.status)
    }
    /// The WeChat Pay transfer's `package_info`, for
    /// `wx.requestMerchantTransfer` while `WAITING_CONFIRMATION`. Its owner
    /// only: anyone else (the store included) reads null.
    async fn transfer_package(&self, ctx: &Context<'_>) -> Option<&str> {
        let mine = matches!(ctx.viewer(), Viewer::Customer(id) if id == self.0.promoter_id);
        if mine && self.0.status == payout::WAITING {
            self.0.transfer_package.as_deref()
        } else {
            None
        }
    }
    /// Why WeChat Pay did not pay it (`FAILED`, `CANCELLED`), or why the
    /// transfer was refused (back to `REQUESTED`).
    async fn failure_reason(&self) -> Option<&str> {
        self.0.failure_reason.as_deref()
    }
    /// Paid into the stored-value wallet.
    async fn to_wallet(&self) -> bool {
        self.0.to_wallet
    }
    /// The store's note or payout reference.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
    /// When it was requested.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
    /// The promoter who asked (whom the store pays).
    async fn customer(&self, ctx: &Context<'_>) -> Result<Option<Customer>> {
        let state = ctx.data_unchecked::<AppState>();
        Ok(
            crate::modules::customer::service::find(state, self.0.promoter_id)
                .await?
                .map(Customer::from),
        )
    }
    /// When the store paid or rejected it.
    async fn reviewed_at(&self) -> Option<Timestamp> {
        self.0.reviewed_at.map(Into::into)
    }
}
