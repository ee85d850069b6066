//! Evidence-bundle tamper test: every flipped byte of a real bundle makes
//! verification fail and name the part that failed.

use std::collections::BTreeMap;

use node::bundle::Part;
use node::bundle::verify_bundle;

use crate::cli_support::*;

#[test]
fn every_flipped_byte_is_caught_and_named() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("demo");
    let j = cupass(&["--json", "demo", "--out", &s(&out), "--passports", "20"])
        .ok()
        .json();
    assert_eq!(j["verdict"]["valid"], true);
    let bundle = std::fs::read(out.join("certificate.cupass")).unwrap();
    let key_s = std::fs::read_to_string(out.join("ledger/log.pub")).unwrap();
    let key = ledger::NoteVerifier::parse(key_s.trim()).unwrap();
    assert!(verify_bundle(&bundle, &key).valid);

    // Every position if the bundle is small, else at least 2,000 spread evenly
    // (plus the first 512 bytes: format tag, log key and checkpoint).
    let n = bundle.len();
    let mut positions: Vec<usize> = (0..n.min(512)).collect();
    let step = (n / 2_000).max(1);
    positions.extend((0..n).step_by(step));
    positions.sort_unstable();
    positions.dedup();
    assert!(positions.len() >= 2_000 || positions.len() == n);
    let mut parts: BTreeMap<String, usize> = BTreeMap::new();
    for (k, &pos) in positions.iter().enumerate() {
        let mut b = bundle.clone();
        // Vary the flipped bit so every kind of change is tried.
        b[pos] ^= 1 << (k % 8);
        let v = verify_bundle(&b, &key);
        assert!(!v.valid, "flipping byte {pos} was not detected");
        let f = v
            .failure()
            .unwrap_or_else(|| panic!("byte {pos}: invalid but no failed check"));
        assert!(!f.detail.is_empty());
        assert!(matches!(
            f.part,
            Part::Format
                | Part::Checkpoint
                | Part::Proof
                | Part::Signature
                | Part::Rule
                | Part::Criterion
        ));
        *parts.entry(format!("{:?}", f.part)).or_default() += 1;
    }
    // The flips land in every region: structure, checkpoint and proofs at least.
    for p in ["Format", "Checkpoint", "Proof"] {
        assert!(parts.contains_key(p), "no flip failed at {p}: {parts:?}");
    }

    // A few flips through the binary: exit 1 and the part named.
    let key_path = s(&out.join("ledger/log.pub"));
    for pos in [n / 7, n / 2, n - 3] {
        let mut b = bundle.clone();
        b[pos] ^= 0x10;
        let f = d.path().join(format!("flip-{pos}.cupass"));
        std::fs::write(&f, &b).unwrap();
        let o = cupass_process(&["verify", &s(&f), "--log-key", &key_path]);
        assert_eq!(o.code, 1, "{}", o.stdout);
        assert!(
            o.stdout.contains("INVALID:") && o.stdout.contains("check failed"),
            "{}",
            o.stdout
        );
        let oj = cupass_process(&["--json", "verify", &s(&f), "--log-key", &key_path]);
        let v: serde_json::Value = serde_json::from_str(&oj.stdout).unwrap();
        assert_eq!(v["valid"], false);
        let failed = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["ok"] == false)
            .unwrap();
        assert!(
            [
                "format",
                "checkpoint",
                "proof",
                "signature",
                "rule",
                "criterion"
            ]
            .contains(&failed["part"].as_str().unwrap())
        );
    }
    // Usage errors: exit 2.
    assert_eq!(
        cupass_process(&["verify", "/nonexistent.cupass", "--log-key", &key_path]).code,
        2
    );
    assert_eq!(
        cupass_process(&[
            "verify",
            &s(&out.join("certificate.cupass")),
            "--log-key",
            "garbage"
        ])
        .code,
        2
    );
}
