//! Referral distribution (分销): two levels of commissions on what invited
//! customers buy, a return window before they settle, reversal on refund,
//! and withdrawals.
//!
//! Owns `commission_rule`, `promoter`, `commission`, `withdrawal`,
//! `withdrawal_entry` (the append-only ledger of what withdrawals did to a
//! balance) and `withdrawal_day` (the daily caps of automatic approvals);
//! `payout` pays withdrawals through WeChat Pay's merchant transfer.
//! Invariants: at most two levels (deeper chains are pyramid selling under
//! Chinese law); one accrual per order and level (unique index); a
//! promoter's withdrawable balance changes only through
//! `service::credit_promoter`/`debit_promoter` with the row locked, never
//! below zero — what cannot be taken back is shown as owed and paid from
//! later earnings; a withdrawal holds its amount when requested (a HOLD
//! row) and gets it back at most once (a RELEASE row, in the transaction
//! of the status change that won).
pub mod commission;
pub mod payout;
pub mod resolver;
pub mod service;
pub mod types;
