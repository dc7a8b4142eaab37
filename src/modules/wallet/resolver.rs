//! Wallet administration (ADMIN).
use async_graphql::{Context, ID, Object, Result};

use super::{service, types::Wallet};
use crate::{
    api::{ids::parse_id, scalars::Money},
    auth::ViewerExt,
    state::AppState,
};

#[derive(Default)]
pub struct WalletQuery;

#[Object]
impl WalletQuery {
    /// All stored balances together (fen): the store's prepaid liability (ADMIN).
    async fn outstanding_balance_fen(&self, ctx: &Context<'_>) -> Result<Money> {
        ctx.viewer().staff_id(crate::auth::staff::ANY)?;
        Ok(Money(
            service::outstanding(ctx.data_unchecked::<AppState>()).await?,
        ))
    }
}

#[derive(Default)]
pub struct WalletAdminMutation;

#[Object]
impl WalletAdminMutation {
    /// Credits (positive) or debits (negative) a customer's wallet with a
    /// reason, audited with the admin's id; never below zero (ADMIN: FINANCE).
    async fn adjust_wallet(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        amount_fen: Money,
        reason: String,
        idempotency_key: String,
    ) -> Result<Wallet> {
        let admin = ctx.viewer().staff_id(crate::auth::staff::FINANCE)?;
        let state = ctx.data_unchecked::<AppState>();
        let customer = parse_id(&customer_id, "customerId")?;
        Ok(Wallet(
            service::adjust(
                state,
                admin,
                customer,
                amount_fen.0,
                &reason,
                &idempotency_key,
            )
            .await?,
        ))
    }
}
