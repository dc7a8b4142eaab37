//! The stored-value wallet (储值): principal and bonus balances and their
//! append-only ledger.
//!
//! Owns `wallet` and `wallet_transaction`. Invariants: a balance changes only
//! through [`ledger::apply`], inside the transaction of the business change
//! that causes it, with a conditional update that refuses to go below zero
//! (CHECK constraints back it up); every change writes one ledger row with
//! the balance after it, so a wallet's rows always sum to its balance.
//! How a payment draws on principal and bonus is [`ledger::split_draw`].
pub mod ledger;
pub mod resolver;
pub mod service;
pub mod types;
