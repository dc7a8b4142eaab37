//! GraphQL shapes of the wallet.
use async_graphql::{Context, Enum, ID, Object, Result, connection::Connection};
use entity::{wallet, wallet_transaction};

use super::service;
use crate::api::scalars::Timestamp;
use crate::{
    api::{
        ids::to_id,
        pagination::{decode_cursor, id_connection, page_size},
        scalars::Money,
    },
    modules::order::{service as orders, types::Order},
    state::AppState,
};

/// Why a wallet moved.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalletTransactionKind {
    /// Money paid in by a top-up (principal).
    TopUp,
    /// The top-up's bonus.
    Bonus,
    /// Spent on an order.
    Payment,
    /// Given back: an order cancelled or refunded.
    Refund,
    /// Changed by the store, with a reason.
    Adjustment,
    /// Referral commission withdrawn into the wallet.
    Commission,
}

/// One movement of the stored balance.
pub struct WalletTransaction(pub wallet_transaction::Model);

#[Object]
impl WalletTransaction {
    /// Opaque id.
    async fn id(&self) -> ID {
        to_id(self.0.id)
    }
    /// Why the balance moved.
    async fn kind(&self) -> WalletTransactionKind {
        match self.0.kind.as_str() {
            "TOP_UP" => WalletTransactionKind::TopUp,
            "BONUS" => WalletTransactionKind::Bonus,
            "PAYMENT" => WalletTransactionKind::Payment,
            "REFUND" => WalletTransactionKind::Refund,
            "COMMISSION" => WalletTransactionKind::Commission,
            _ => WalletTransactionKind::Adjustment,
        }
    }
    /// Signed (fen): credits positive, debits negative.
    async fn amount_fen(&self) -> Money {
        Money(self.0.amount_fen)
    }
    /// Of which principal (fen, signed).
    async fn principal_fen(&self) -> Money {
        Money(self.0.principal_delta_fen)
    }
    /// Of which bonus (fen, signed).
    async fn bonus_fen(&self) -> Money {
        Money(self.0.bonus_delta_fen)
    }
    /// The balance right after (fen).
    async fn balance_after_fen(&self) -> Money {
        Money(self.0.balance_after_fen)
    }
    /// The store's reason, for adjustments.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// When.
    async fn created_at(&self) -> Timestamp {
        self.0.created_at.into()
    }
    /// The order it belongs to.
    async fn order(&self, ctx: &Context<'_>) -> Result<Option<Order>> {
        let Some(id) = self.0.order_id else {
            return Ok(None);
        };
        Ok(orders::find(ctx.data_unchecked::<AppState>(), id)
            .await?
            .map(Order))
    }
}

/// A customer's stored balance (储值). It has no id: there is one per
/// customer, reached through `Customer.wallet` (a normalized client cache
/// keeps it under its customer).
pub struct Wallet(pub wallet::Model);

#[Object]
impl Wallet {
    /// Principal plus bonus (fen): what can be spent.
    async fn balance_fen(&self) -> Money {
        Money(self.0.principal_fen + self.0.bonus_fen)
    }
    /// Money paid in (fen).
    async fn principal_fen(&self) -> Money {
        Money(self.0.principal_fen)
    }
    /// Bonus given with top-ups (fen).
    async fn bonus_fen(&self) -> Money {
        Money(self.0.bonus_fen)
    }
    /// The ledger, newest first; it sums to the balance.
    async fn transactions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, WalletTransaction>> {
        let state = ctx.data_unchecked::<AppState>();
        let first = page_size(first)?;
        let after: Option<i64> = decode_cursor(after.as_deref())?;
        let (rows, more) = service::transactions(state, self.0.customer_id, first, after).await?;
        Ok(id_connection(
            rows.into_iter()
                .map(|r| (r.id, WalletTransaction(r)))
                .collect(),
            more,
            after.is_some(),
        ))
    }
}
