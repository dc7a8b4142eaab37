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

/// `total` spread over parts in proportion to `weights`: each share
/// `total × weight / Σweights` rounded half-up, the last part taking the
/// remainder so the shares add up to `total` exactly. Should rounding up
/// leave the last part below 0, the parts before it give back what is
/// missing, last first, so no share is negative (all inputs ≥ 0). What a
/// buyer paid for each line of an order is this spread of the goods paid
/// over the line totals.
pub fn spread_half_up(total: i64, weights: &[i64]) -> Vec<i64> {
    let whole: i64 = weights.iter().sum();
    let Some(last) = weights.len().checked_sub(1) else {
        return Vec::new();
    };
    let mut shares: Vec<i64> = weights
        .iter()
        .map(|w| prorate_half_up(total, *w, whole))
        .collect();
    let before: i64 = shares[..last].iter().sum();
    shares[last] = total - before;
    let mut i = last;
    while shares[last] < 0 && i > 0 {
        i -= 1;
        let give = Ord::min(shares[i], -shares[last]);
        shares[i] -= give;
        shares[last] += give;
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::{div_half_up, percent_half_up, prorate_half_up, spread_half_up};

    #[test]
    fn spreads_add_up_exactly() {
        // 9000 + 1000 lines, 500 off: 4500/... half-up shares, exact sum.
        assert_eq!(spread_half_up(9500, &[9000, 1000]), vec![8550, 950]);
        // Thirds: 333.33 each → 333, 333, remainder 334.
        assert_eq!(spread_half_up(1000, &[1, 1, 1]), vec![333, 333, 334]);
        // Halves round up: 1.5 → 2, 2 → the last would be -1; it takes back.
        assert_eq!(spread_half_up(3, &[1, 1, 0]), vec![2, 1, 0]);
        assert_eq!(spread_half_up(0, &[5, 7]), vec![0, 0]);
        assert!(spread_half_up(10, &[]).is_empty());
        for total in 0..200 {
            let s = spread_half_up(total, &[7, 3, 11, 1]);
            assert_eq!(s.iter().sum::<i64>(), total);
            assert!(s.iter().all(|x| *x >= 0));
        }
    }

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
