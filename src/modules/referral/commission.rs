//! The commission arithmetic, pure and unit-tested.
use crate::{
    error::{AppError, AppResult},
    money::percent_half_up,
};

/// Level-1 plus level-2 percent may not exceed this.
pub const MAX_TOTAL_PERCENT: i32 = 50;

/// What a commission is a percentage of (goods only, shipping excluded).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// What the buyer paid for the goods, balance included.
    PaidAmount,
    /// That minus the supplier cost snapshotted on the lines.
    GrossMargin,
}

impl Base {
    pub fn as_str(self) -> &'static str {
        match self {
            Base::PaidAmount => "PAID_AMOUNT",
            Base::GrossMargin => "GROSS_MARGIN",
        }
    }
    pub fn parse(s: &str) -> Self {
        if s == "GROSS_MARGIN" {
            Base::GrossMargin
        } else {
            Base::PaidAmount
        }
    }
}

/// The base of an order: goods paid (total minus shipping), less cost for GROSS_MARGIN.
pub fn base_of(base: Base, goods_paid_fen: i64, cost_fen: i64) -> i64 {
    match base {
        Base::PaidAmount => goods_paid_fen.max(0),
        Base::GrossMargin => (goods_paid_fen - cost_fen).max(0),
    }
}

/// A level's commission: `percent` of the base, half-up to the fen.
pub fn amount(base_fen: i64, percent: i32) -> i64 {
    percent_half_up(base_fen, i64::from(percent))
}

/// How much of a commission a refund takes back: in proportion to the part
/// of the paid amount refunded (half-up), never more than the commission.
pub fn reversal(commission_fen: i64, refund_fen: i64, paid_fen: i64) -> i64 {
    if paid_fen <= 0 || refund_fen >= paid_fen {
        return commission_fen;
    }
    let r = (i128::from(commission_fen) * i128::from(refund_fen) * 2 + i128::from(paid_fen))
        / (i128::from(paid_fen) * 2);
    (r as i64).min(commission_fen)
}

/// Checks a rule's numbers.
pub fn check_rule(level1: i32, level2: i32, settle_after_days: i32) -> AppResult<()> {
    if !(0..=MAX_TOTAL_PERCENT).contains(&level1) {
        return Err(AppError::bad_input(
            "level1Percent",
            format!("must be between 0 and {MAX_TOTAL_PERCENT}"),
        ));
    }
    if !(0..=MAX_TOTAL_PERCENT).contains(&level2) {
        return Err(AppError::bad_input(
            "level2Percent",
            format!("must be between 0 and {MAX_TOTAL_PERCENT}"),
        ));
    }
    if level1 + level2 > MAX_TOTAL_PERCENT {
        return Err(AppError::bad_input(
            "level2Percent",
            format!("level 1 and 2 together may not exceed {MAX_TOTAL_PERCENT}%"),
        ));
    }
    if !(0..=180).contains(&settle_after_days) {
        return Err(AppError::bad_input(
            "settleAfterDays",
            "must be between 0 and 180",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_example() {
        assert_eq!(amount(3590, 10), 359);
        assert_eq!(amount(3590, 5), 180);
    }

    #[test]
    fn bases() {
        assert_eq!(base_of(Base::PaidAmount, 3590, 2000), 3590);
        assert_eq!(base_of(Base::GrossMargin, 3590, 2000), 1590);
        assert_eq!(base_of(Base::GrossMargin, 1000, 2000), 0);
    }

    #[test]
    fn reversals_are_proportional_and_bounded() {
        assert_eq!(reversal(359, 3590, 3590), 359);
        assert_eq!(reversal(359, 1795, 3590), 180);
        assert_eq!(reversal(359, 0, 3590), 0);
        assert_eq!(reversal(359, 9999, 3590), 359);
        for refund in 0..=3590 {
            let r = reversal(359, refund, 3590);
            assert!((0..=359).contains(&r));
        }
    }

    #[test]
    fn rules_are_bounded() {
        assert!(check_rule(10, 5, 7).is_ok());
        assert!(check_rule(40, 11, 7).is_err());
        assert!(check_rule(-1, 5, 7).is_err());
        assert!(check_rule(10, 5, 181).is_err());
    }
}
