//! Keys the rules accept: valid, prime-order Ed25519 points only.

use passport_schema::*;

use crate::common::*;

/// `P + T2`, where T2 = (0, -1) is the point of order 2: in Edwards
/// coordinates (x, y) + (0, -1) = (-x, -y). The encoding is y (255 bits,
/// little-endian) with x's sign in the top bit, so negate y mod p and flip
/// the sign. The result is a valid point of order 2·ℓ: not small-order
/// (so `is_weak` passes it) but not torsion-free.
fn with_torsion(key: &Bytes32) -> Bytes32 {
    // p = 2^255 - 19, little-endian.
    let mut p = [0xffu8; 32];
    p[0] = 0xed;
    p[31] = 0x7f;
    let sign = key.0[31] & 0x80;
    let mut y = key.0;
    y[31] &= 0x7f;
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in 0..32 {
        let d = i16::from(p[i]) - i16::from(y[i]) - borrow;
        borrow = i16::from(d < 0);
        out[i] = d.rem_euclid(256) as u8;
    }
    out[31] |= sign ^ 0x80;
    Bytes32(out)
}

#[test]
fn a_key_with_a_torsion_component_is_refused() {
    let op = Actor::from_seed(1);
    let mut l = Ledger::genesis(&op);
    let honest = Actor::from_seed(9).public();
    let mixed = with_torsion(&honest);
    assert_ne!(mixed, honest);
    let reg = |k| RegisterActor {
        name: "Mixed".into(),
        country: "CN".into(),
        public_key: k,
    };
    let r = l.submit(&op, reg(mixed));
    assert!(
        matches!(
            r,
            Err(RuleViolation::InvalidPublicKey {
                reason: "mixed-order key (has a torsion component)"
            })
        ),
        "{r:?}"
    );
    // The honest key itself is fine.
    l.submit(&op, reg(honest)).unwrap();
}
