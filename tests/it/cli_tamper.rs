//! Evidence-bundle tamper tests: every flipped byte of a real bundle makes
//! verification fail and name the part that failed; edited bundles (entries
//! dropped, certificate revoked) fail at the signature, rule and criterion
//! checks.

use std::collections::BTreeMap;
use std::ops::Range;

use client::bundle::{EvidenceBundle, verify_bundle};
use client::verify::Part;

use crate::cli_modes::{C1, World, run, scenario};
use crate::cli_support::*;

/// Every start offset of `needle` in `hay`.
fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return Vec::new();
    }
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// Where the parts of a bundle lie in its CBOR file.
struct Layout {
    /// The checkpoint's text.
    checkpoint: Range<usize>,
    /// The log key's text.
    log_key: Range<usize>,
    /// Each entry's COSE bytes.
    entries: Vec<Range<usize>>,
    /// Every occurrence of every proof hash.
    proof_hashes: Vec<Range<usize>>,
}

impl Layout {
    fn of(file: &[u8]) -> Layout {
        let b = EvidenceBundle::from_cbor(file).unwrap();
        let once = |needle: &[u8], what: &str| -> Range<usize> {
            let at = find_all(file, needle);
            assert_eq!(at.len(), 1, "{what} occurs {} times in the file", at.len());
            at[0]..at[0] + needle.len()
        };
        let checkpoint = once(b.checkpoint.as_bytes(), "the checkpoint");
        let log_key = once(b.log_key.as_bytes(), "the log key");
        let entries: Vec<Range<usize>> = b
            .entries
            .iter()
            .map(|e| once(&e.entry, &format!("entry {}", e.index)))
            .collect();
        let mut proof_hashes = Vec::new();
        for e in &b.entries {
            for h in &e.proof {
                assert_eq!(h.len(), 32);
                let at = find_all(file, h);
                assert!(!at.is_empty(), "proof hash of entry {} not found", e.index);
                proof_hashes.extend(at.into_iter().map(|i| i..i + 32));
            }
        }
        // The regions are disjoint: a position names one part.
        let mut all: Vec<&Range<usize>> = entries.iter().chain(&proof_hashes).collect();
        all.extend([&checkpoint, &log_key]);
        all.sort_by_key(|r| r.start);
        all.dedup();
        for w in all.windows(2) {
            assert!(w[0].end <= w[1].start, "overlapping regions {w:?}");
        }
        assert!(!entries.is_empty() && !proof_hashes.is_empty());
        Layout {
            checkpoint,
            log_key,
            entries,
            proof_hashes,
        }
    }

    /// The part a flip at `pos` must fail at (given the flipped file), or
    /// None where any failure will do (CBOR structure: heads, lengths,
    /// field names, the subject id, indices).
    fn expected(&self, pos: usize, flipped: &[u8]) -> Option<Part> {
        let text_part = |r: &Range<usize>| {
            // A text string that is no longer UTF-8 does not decode (the
            // CBOR layer refuses it): Format. Still UTF-8: the signed note
            // no longer verifies, or names another key: Checkpoint.
            if std::str::from_utf8(&flipped[r.clone()]).is_ok() {
                Part::Checkpoint
            } else {
                Part::Format
            }
        };
        if self.checkpoint.contains(&pos) {
            Some(text_part(&self.checkpoint))
        } else if self.log_key.contains(&pos) {
            // The bundle's log key no longer equals the trusted one.
            Some(text_part(&self.log_key))
        } else if self.entries.iter().any(|r| r.contains(&pos)) {
            // Entry bytes are an opaque byte string to CBOR; the leaf hash
            // changes, so that entry's inclusion proof fails first (the
            // proofs are all checked before any signature or rule).
            Some(Part::Proof)
        } else if self.proof_hashes.iter().any(|r| r.contains(&pos)) {
            // Still 32 bytes, but the computed root differs.
            Some(Part::Proof)
        } else {
            None
        }
    }
}

#[test]
fn every_flipped_byte_is_caught_and_named() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("demo");
    // The demo accepts an existing empty directory and marks it as its own.
    std::fs::create_dir(&out).unwrap();
    let j = cupass(&["--json", "demo", "--out", &s(&out), "--passports", "20"])
        .ok()
        .json();
    assert_eq!(j["verdict"]["valid"], true);
    assert!(out.join(".cupass-demo").is_file());
    let bundle = std::fs::read(out.join("certificate.cupass")).unwrap();
    let key_s = std::fs::read_to_string(out.join("ledger/log.pub")).unwrap();
    let key = ledger::NoteVerifier::parse(key_s.trim()).unwrap();
    assert!(verify_bundle(&bundle, &key).valid);
    let layout = Layout::of(&bundle);

    // Every position if the bundle is small, else at least 2,000 spread evenly
    // (plus the first 512 bytes: format tag, log key and checkpoint).
    let n = bundle.len();
    let mut positions: Vec<usize> = (0..n.min(512)).collect();
    let step = (n / 2_000).max(1);
    positions.extend((0..n).step_by(step));
    positions.sort_unstable();
    positions.dedup();
    assert!(positions.len() >= 2_000 || positions.len() == n);
    // (region, part) -> count
    let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
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
        let want = layout.expected(pos, &b);
        if let Some(want) = want {
            assert_eq!(
                f.part,
                want,
                "byte {pos} (bit {}): failed at {:?} ({}), expected {want:?}",
                k % 8,
                f.part,
                f.detail
            );
        }
        let region = match want {
            None => "structure",
            Some(_) if layout.checkpoint.contains(&pos) => "checkpoint",
            Some(_) if layout.log_key.contains(&pos) => "log_key",
            Some(_) if layout.entries.iter().any(|r| r.contains(&pos)) => "entry",
            Some(_) => "proof_hash",
        };
        *seen
            .entry((region.to_string(), format!("{:?}", f.part)))
            .or_default() += 1;
    }
    // The flips land in every region, and both outcomes of a text flip occur.
    for (region, part) in [
        ("checkpoint", "Checkpoint"),
        ("checkpoint", "Format"),
        ("entry", "Proof"),
        ("proof_hash", "Proof"),
    ] {
        assert!(
            seen.contains_key(&(region.to_string(), part.to_string())),
            "no flip in the {region} failed at {part}: {seen:?}"
        );
    }
    assert!(
        seen.keys().any(|(r, _)| r == "structure"),
        "no structural flip: {seen:?}"
    );

    // A few flips through the binary: exit 1 and the part named.
    let key_path = s(&out.join("ledger/log.pub"));
    let cp_mid = (layout.checkpoint.start + layout.checkpoint.end) / 2;
    let entry_mid = (layout.entries[0].start + layout.entries[0].end) / 2;
    let proof_at = layout.proof_hashes[0].start + 5;
    for (pos, want) in [
        (cp_mid, "checkpoint"),
        (entry_mid, "proof"),
        (proof_at, "proof"),
        (n - 3, ""),
    ] {
        let mut b = bundle.clone();
        // 0x10 keeps ASCII text valid UTF-8 (no bit 7 set).
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
        let part = failed["part"].as_str().unwrap();
        if want.is_empty() {
            assert!(
                [
                    "format",
                    "checkpoint",
                    "proof",
                    "signature",
                    "rule",
                    "status",
                    "criterion"
                ]
                .contains(&part),
                "{part}"
            );
        } else {
            assert_eq!(part, want, "byte {pos}");
        }
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

/// The event in a bundle entry.
fn decode(e: &client::bundle::BundleEntry) -> passport_schema::Event {
    let entry = ledger::Entry::from_bytes(&e.entry).unwrap();
    passport_schema::decode_canonical(entry.payload()).unwrap()
}

/// The event kind name of a bundle entry.
fn kind(e: &client::bundle::BundleEntry) -> &'static str {
    decode(e).body.kind().name()
}

/// Verifies `b` re-encoded; returns the first failed check's part and detail.
fn verify_edited(b: &EvidenceBundle, key: &ledger::NoteVerifier) -> (Part, String) {
    let bytes = b.to_cbor().unwrap();
    let v = verify_bundle(&bytes, key);
    assert!(!v.valid);
    let f = v.failure().unwrap();
    // Every proof still holds: the edit is caught by a later check.
    assert!(
        v.checks.iter().any(|c| c.part == Part::Proof && c.ok),
        "{:?}",
        v.checks
    );
    (f.part, f.detail.clone())
}

#[test]
fn edited_bundles_fail_at_signature_rule_and_criterion() {
    // A real ledger through the CLI (the cli_modes lifecycle, --dir mode).
    let w = World::new();
    let a = tempfile::tempdir().unwrap();
    let local = a.path().join("ledger");
    cupass(&["--dir", &s(&local), "init", "--origin", "test.example/t"]).ok();
    let mode = vec!["--dir".to_string(), s(&local)];
    scenario(&mode, &local.join("operator.key"), &w);
    let key_s = std::fs::read_to_string(local.join("log.pub")).unwrap();
    let key = ledger::NoteVerifier::parse(key_s.trim()).unwrap();
    let export = |name: &str| -> EvidenceBundle {
        let f = a.path().join(name);
        run(&mode, &["cert", "bundle", C1, "-o", &s(&f)]).ok();
        let bytes = std::fs::read(&f).unwrap();
        EvidenceBundle::from_cbor(&bytes).unwrap()
    };
    let original = export("c1.cupass");
    assert!(verify_bundle(&original.to_cbor().unwrap(), &key).valid);
    // Re-encoding an unedited bundle gives the same bytes.
    assert_eq!(
        original.to_cbor().unwrap(),
        std::fs::read(a.path().join("c1.cupass")).unwrap()
    );
    let kinds: Vec<&str> = original.entries.iter().map(kind).collect();

    // (a) Drop the registration of the refiner (the first actor registered,
    // entry 1). Dropped alone, replay first meets the operator's grant of a
    // role to that actor, which the rules refuse (the actor is unknown):
    // Rule, at the grant, before any entry the refiner signed.
    let reg = kinds.iter().position(|k| *k == "register_actor").unwrap();
    let grant = &original.entries[reg + 1];
    assert_eq!(kinds[reg + 1], "grant_role");
    let mut b = original.clone();
    b.entries.remove(reg);
    let (part, detail) = verify_edited(&b, &key);
    assert_eq!(part, Part::Rule, "{detail}");
    assert!(
        detail.starts_with(&format!("entry {}: ", grant.index))
            && detail.contains("not registered"),
        "{detail}"
    );
    // Dropped with its role grants, replay reaches the first entry the
    // refiner signed, whose key is not registered: Signature.
    let refiner_kid = match decode(grant).body {
        passport_schema::EventBody::GrantRole(g) => g.actor.0,
        other => panic!("not a grant: {other:?}"),
    };
    let reg_index = original.entries[reg].index;
    let mut b = original.clone();
    b.entries.retain(|e| {
        let grant_to_refiner = matches!(
            decode(e).body,
            passport_schema::EventBody::GrantRole(g) if g.actor.0 == refiner_kid
        );
        e.index != reg_index && !grant_to_refiner
    });
    assert_eq!(b.entries.len(), original.entries.len() - 3); // registration + 2 grants
    let first_signed = b
        .entries
        .iter()
        .find(|e| *ledger::Entry::from_bytes(&e.entry).unwrap().kid() == refiner_kid)
        .unwrap()
        .index;
    let (part, detail) = verify_edited(&b, &key);
    assert_eq!(part, Part::Signature, "{detail}");
    assert!(
        detail.starts_with(&format!("entry {first_signed}: ")),
        "{detail}"
    );

    // (b) Drop the grading of scrap lot S1. Replay reaches the certificate
    // issue, whose criteria the rules re-check on replay: Rule at that entry
    // (chain of custody: the scrap lot is not graded), before the
    // verifier's own criterion check.
    let g = kinds.iter().position(|k| *k == "grade").unwrap();
    let cert_at = original.entries[kinds
        .iter()
        .position(|k| *k == "issue_certificate")
        .unwrap()]
    .index;
    let mut b = original.clone();
    b.entries.remove(g);
    let (part, detail) = verify_edited(&b, &key);
    assert_eq!(part, Part::Rule, "{detail}");
    assert!(
        detail.starts_with(&format!("entry {cert_at}: ")) && detail.contains("not graded"),
        "{detail}"
    );

    // (c) Revoke the certificate and export again: every proof, signature
    // and rule holds; the criterion check names the revocation.
    run(
        &mode,
        &[
            "cert",
            "revoke",
            "--key",
            &w.p("x.key"),
            C1,
            "--reason",
            "audit finding",
        ],
    )
    .ok();
    let revoked = export("c1-revoked.cupass");
    assert_eq!(revoked.entries.len(), original.entries.len() + 1);
    // The status commitment closes the bundle; the revocation is before it.
    assert_eq!(kind(revoked.entries.last().unwrap()), "log_status");
    let revocation = &revoked.entries[revoked.entries.len() - 2];
    assert_eq!(kind(revocation), "revoke_certificate");
    let v = verify_bundle(&revoked.to_cbor().unwrap(), &key);
    assert!(!v.valid);
    for p in [Part::Checkpoint, Part::Proof, Part::Signature, Part::Rule] {
        assert!(
            v.checks.iter().any(|c| c.part == p && c.ok),
            "{p:?} {:?}",
            v.checks
        );
    }
    let f = v.failure().unwrap();
    assert_eq!(f.part, Part::Criterion, "{}", f.detail);
    assert_eq!(
        f.detail,
        format!("certificate status is Revoked (entry {})", revocation.index)
    );
    // Through the binary: exit 1, the part named.
    let o = cupass_process(&[
        "--json",
        "verify",
        &s(&a.path().join("c1-revoked.cupass")),
        "--log-key",
        &s(&local.join("log.pub")),
    ]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    let j: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    let failed = j["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ok"] == false)
        .unwrap()
        .clone();
    assert_eq!(failed["part"], "criterion");
    assert!(failed["detail"].as_str().unwrap().contains("Revoked"));
}
