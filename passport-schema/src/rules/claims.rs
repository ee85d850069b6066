//! Claim units (ISO 22095 credits): certified grams are a balance that
//! only moves. Consumed mass carries a material's claimed grams first; the
//! outputs inherit them in proportion to their mass.

use crate::state::records::MaterialRecord;

/// Takes the claimed grams that `consumed_g` of `n` carries away:
/// `min(claimed, consumed)`. Call with the consumption (the caller lowers
/// `remaining_g`); `claimed_g ≤ remaining_g` keeps holding.
pub(crate) fn take(n: &mut MaterialRecord, consumed_g: u64) -> u64 {
    let moved = n.claimed_g.min(consumed_g);
    n.claimed_g -= moved;
    moved
}

/// Spreads `moved` claimed grams over outputs of `masses` grams, in
/// proportion to their mass (floor), the rounding remainder going to the
/// first outputs with room. The total is `min(moved, Σ masses)` (claimed
/// grams beyond the outputs went with the losses) and no output gets more
/// than its mass. Returns one amount per output, in order.
pub(crate) fn spread(moved: u128, masses: &[u64]) -> Vec<u64> {
    let sum: u128 = masses.iter().map(|m| u128::from(*m)).sum();
    let total = moved.min(sum);
    if sum == 0 {
        return vec![0; masses.len()];
    }
    let mut shares: Vec<u64> = masses
        .iter()
        .map(|m| {
            total
                .checked_mul(u128::from(*m))
                .map(|p| p / sum)
                .and_then(|s| u64::try_from(s).ok())
                .unwrap_or(0)
                .min(*m)
        })
        .collect();
    let given: u128 = shares.iter().map(|s| u128::from(*s)).sum();
    let mut rest = total.saturating_sub(given);
    for (s, m) in shares.iter_mut().zip(masses) {
        if rest == 0 {
            break;
        }
        let room = m - *s;
        let add = u64::try_from(rest).unwrap_or(u64::MAX).min(room);
        *s += add;
        rest -= u128::from(add);
    }
    shares
}

#[cfg(test)]
mod tests {
    use super::spread;

    #[test]
    fn spread_conserves_and_caps() {
        assert_eq!(spread(10, &[5, 5]), vec![5, 5]);
        assert_eq!(spread(10, &[3, 3, 3]), vec![3, 3, 3]);
        assert_eq!(spread(7, &[3, 3, 3]), vec![3, 2, 2]);
        assert_eq!(spread(0, &[3, 3]), vec![0, 0]);
        assert_eq!(spread(1, &[1, 1, 1]), vec![1, 0, 0]);
        assert_eq!(
            spread(u128::MAX, &[u64::MAX, u64::MAX]),
            vec![u64::MAX, u64::MAX]
        );
        let s = spread(1_000_001, &[u64::MAX, 3, 7]);
        assert_eq!(s.iter().map(|v| u128::from(*v)).sum::<u128>(), 1_000_001);
    }
}
