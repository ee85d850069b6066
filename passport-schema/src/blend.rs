//! Recycled-content derivation by controlled blending (mass balance at
//! batch level).
//!
//! Every output of a transformation gets the same shares: the
//! consumption-weighted mean of the inputs' shares,
//!
//! `share_out = floor( Σ consumed_i × share_i / Σ consumed_i )`
//!
//! computed separately for pre-consumer, post-consumer and each origin
//! country, in `u128` so no intermediate overflows. Rounding is always
//! down (floor): a derived claim can lose at most 1 ppm per step and can
//! never exceed what the inputs carry. Because the mean of values in
//! `[0, 1_000_000]` stays in that range and floors never sum above the
//! floor of the sum, pre + post + Σ origin ≤ 1,000,000 in every material.

use std::collections::BTreeMap;

/// Shares carried by a material, in ppm of its mass.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shares {
    /// Pre-consumer recycled share.
    pub pre_ppm: u32,
    /// Post-consumer recycled share.
    pub post_ppm: u32,
    /// Primary content share per origin country.
    pub origin_ppm: BTreeMap<String, u32>,
}

/// `floor(num / den)` as ppm; 0 when `den` is 0. Callers guarantee
/// `num <= den * 1_000_000`, the clamp only keeps the function total.
fn ppm_of(num: u128, den: u128) -> u32 {
    if den == 0 {
        return 0;
    }
    u32::try_from(num / den).unwrap_or(u32::MAX).min(1_000_000)
}

/// Blends `(consumed_g, shares)` pairs into the batch shares.
pub fn blend<'a>(inputs: impl IntoIterator<Item = (u64, &'a Shares)>) -> Shares {
    let mut total: u128 = 0;
    let mut pre: u128 = 0;
    let mut post: u128 = 0;
    let mut origin: BTreeMap<&str, u128> = BTreeMap::new();
    for (g, s) in inputs {
        let g = u128::from(g);
        total += g;
        pre += g * u128::from(s.pre_ppm);
        post += g * u128::from(s.post_ppm);
        for (c, p) in &s.origin_ppm {
            *origin.entry(c.as_str()).or_default() += g * u128::from(*p);
        }
    }
    Shares {
        pre_ppm: ppm_of(pre, total),
        post_ppm: ppm_of(post, total),
        origin_ppm: origin
            .into_iter()
            .map(|(c, v)| (c.to_owned(), ppm_of(v, total)))
            .filter(|(_, p)| *p > 0)
            .collect(),
    }
}

/// `round_half_away_from_zero(a × b / d)` in i128, for money. `d > 0`.
pub(crate) fn mul_div_round(a: i128, b: i128, d: i128) -> i128 {
    if d <= 0 {
        return 0;
    }
    let n = a.saturating_mul(b);
    let q = n / d;
    let r = n % d;
    if r.saturating_abs().saturating_mul(2) >= d {
        if n < 0 { q - 1 } else { q + 1 }
    } else {
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blend_floors_and_stays_in_range() {
        let a = Shares {
            pre_ppm: 0,
            post_ppm: 1_000_000,
            origin_ppm: BTreeMap::new(),
        };
        let b = Shares {
            pre_ppm: 0,
            post_ppm: 0,
            origin_ppm: [("CL".to_owned(), 1_000_000)].into(),
        };
        let s = blend([(1, &a), (2, &b)]);
        assert_eq!(s.post_ppm, 333_333);
        assert_eq!(s.origin_ppm.get("CL"), Some(&666_666));
    }

    #[test]
    fn money_rounding() {
        assert_eq!(mul_div_round(1_500_000, 3, 1_000_000), 5); // 4.5 -> 5
        assert_eq!(mul_div_round(1_500_000, -3, 1_000_000), -5);
        assert_eq!(mul_div_round(1_400_000, 3, 1_000_000), 4);
    }
}
