//! The order state machine, in one place:
//!
//! ```text
//! PENDING_PAYMENT → PAID → SHIPPED → COMPLETED
//! PAID            → COMPLETED            (plan orders, as they are paid:
//!                                          nothing ships)
//! PENDING_PAYMENT → CANCELLED            (customer, or unpaid past the deadline)
//! PAID | SHIPPED | COMPLETED → REFUNDING → REFUNDED (refund asked, then
//!                                                   approved; after-sales
//!                                                   refunds of completed
//!                                                   orders included)
//! REFUNDING       → PAID | SHIPPED | COMPLETED     (refund rejected)
//! ```
//! Services move an order only with a conditional update from the state
//! checked here, so of two concurrent moves exactly one wins.
use crate::error::{AppError, AppResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    PendingPayment,
    Paid,
    Shipped,
    Completed,
    Cancelled,
    Refunding,
    Refunded,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::PendingPayment,
        Status::Paid,
        Status::Shipped,
        Status::Completed,
        Status::Cancelled,
        Status::Refunding,
        Status::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::PendingPayment => "PENDING_PAYMENT",
            Status::Paid => "PAID",
            Status::Shipped => "SHIPPED",
            Status::Completed => "COMPLETED",
            Status::Cancelled => "CANCELLED",
            Status::Refunding => "REFUNDING",
            Status::Refunded => "REFUNDED",
        }
    }

    pub fn parse(s: &str) -> AppResult<Self> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("unknown order status {s}")))
    }
}

/// Whether an order may go from `from` to `to`.
pub fn allowed(from: Status, to: Status) -> bool {
    use Status::*;
    matches!(
        (from, to),
        (PendingPayment, Paid)
            | (PendingPayment, Cancelled)
            | (Paid, Shipped)
            | (Paid, Completed)
            | (Shipped, Completed)
            | (Paid, Refunding)
            | (Shipped, Refunding)
            | (Completed, Refunding)
            | (Refunding, Refunded)
            | (Refunding, Paid)
            | (Refunding, Shipped)
            | (Refunding, Completed)
    )
}

/// `CONFLICT` with a message a client can show, when the move is illegal.
pub fn check(from: Status, to: Status) -> AppResult<()> {
    if allowed(from, to) {
        Ok(())
    } else {
        Err(AppError::Conflict(format!(
            "an order that is {} cannot become {}",
            from.as_str(),
            to.as_str()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::{Status::*, *};

    #[test]
    fn the_happy_path_and_the_exits() {
        for (a, b) in [
            (PendingPayment, Paid),
            (Paid, Shipped),
            (Shipped, Completed),
            (Paid, Completed),
            (PendingPayment, Cancelled),
            (Paid, Refunding),
            (Shipped, Refunding),
            (Refunding, Refunded),
        ] {
            assert!(allowed(a, b), "{a:?} → {b:?}");
        }
    }

    #[test]
    fn everything_else_is_a_conflict() {
        let legal = 12;
        let count = Status::ALL
            .iter()
            .flat_map(|a| Status::ALL.iter().map(move |b| (*a, *b)))
            .filter(|(a, b)| allowed(*a, *b))
            .count();
        assert_eq!(count, legal);
        for (a, b) in [
            (Cancelled, Paid),
            (Completed, Cancelled),
            (Refunded, Paid),
            (Paid, Cancelled),
            (Shipped, Cancelled),
            (PendingPayment, Shipped),
        ] {
            assert_eq!(check(a, b).unwrap_err().code(), "CONFLICT");
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()).unwrap(), s);
        }
    }
}
