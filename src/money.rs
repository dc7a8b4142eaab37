//! Money rules in one place: amounts are `i64` fen; every percentage and
//! average is rounded half-up to the fen here and nowhere else.

/// `amount × percent / 100`, rounded half-up to the fen (amounts are ≥ 0).
pub fn percent_half_up(amount_fen: i64, percent: i64) -> i64 {
    let product = i128::from(amount_fen) * i128::from(percent);
    let rounded = if product >= 0 {
        (product + 50) / 100
    } else {
        (product - 50) / 100
    };
    rounded as i64
}

/// `amount / count`, rounded half-up to the fen (an average; 0 when there
/// is nothing to divide by; amounts are ≥ 0).
pub fn div_half_up(amount_fen: i64, count: i64) -> i64 {
    if count <= 0 {
        return 0;
    }
    let (a, c) = (i128::from(amount_fen), i128::from(count));
    ((2 * a + c) / (2 * c)) as i64
}

/// `amount × part / whole`, rounded half-up to the fen: `amount`'s share
/// when `whole` shrinks to `part` (0 when `whole` is 0; all ≥ 0).
pub fn prorate_half_up(amount_fen: i64, part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    let (a, p, w) = (i128::from(amount_fen), i128::from(part), i128::from(whole));
    ((2 * a * p + w) / (2 * w)) as i64
}

#[cfg(test)]
mod tests {
    use super::{div_half_up, percent_half_up, prorate_half_up};

    #[test]
    fn shares_round_half_up() {
        assert_eq!(prorate_half_up(1000, 900, 1000), 900);
        assert_eq!(prorate_half_up(5, 1, 2), 3); // 2.5 → 3
        assert_eq!(prorate_half_up(7, 0, 10), 0);
        assert_eq!(prorate_half_up(7, 3, 0), 0);
    }

    #[test]
    fn averages_round_half_up() {
        assert_eq!(div_half_up(10, 4), 3); // 2.5 → 3
        assert_eq!(div_half_up(10, 3), 3); // 3.33
        assert_eq!(div_half_up(11, 3), 4); // 3.67
        assert_eq!(div_half_up(7, 0), 0);
    }

    #[test]
    fn rounds_half_up() {
        assert_eq!(percent_half_up(3590, 10), 359);
        assert_eq!(percent_half_up(3590, 5), 180); // 179.5 → 180
        assert_eq!(percent_half_up(1999, 90), 1799); // 1799.1
        assert_eq!(percent_half_up(1995, 90), 1796); // 1795.5 → 1796
        assert_eq!(percent_half_up(0, 90), 0);
        assert_eq!(percent_half_up(i64::MAX / 200, 100), i64::MAX / 200);
    }
}
