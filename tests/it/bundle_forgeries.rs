//! Forged and stale evidence bundles, made as a cheater would make them
//! from what the ledger publishes: each is refused, and the refusal names
//! the reason (issue: verification that cannot be fooled).

use std::path::{Path, PathBuf};

use client::bundle::{EvidenceBundle, verify_bundle};
use client::verify::Part;

use crate::cli_support::*;

/// A demo ledger with one certificate: (temp dir, demo output, demo JSON).
fn demo() -> (tempfile::TempDir, PathBuf, serde_json::Value) {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("demo");
    let j = cupass(&["--json", "demo", "--out", &s(&out), "--passports", "20"])
        .ok()
        .json();
    (d, out, j)
}

fn kind(entry: &[u8]) -> String {
    let e = ledger::Entry::from_bytes(entry).unwrap();
    passport_schema::decode_canonical(e.payload())
        .unwrap()
        .kind()
        .to_string()
}

fn log_key(out: &Path) -> ledger::NoteVerifier {
    ledger::NoteVerifier::parse(
        std::fs::read_to_string(out.join("ledger/log.pub"))
            .unwrap()
            .trim(),
    )
    .unwrap()
}

fn export(out: &Path, cert: &str, name: &str) -> (PathBuf, EvidenceBundle) {
    let f = out.join(name);
    cupass(&[
        "--dir",
        &s(&out.join("ledger")),
        "cert",
        "bundle",
        cert,
        "-o",
        &s(&f),
    ])
    .ok();
    let b = EvidenceBundle::from_cbor(&std::fs::read(&f).unwrap()).unwrap();
    (f, b)
}

fn revoke_certificate(out: &Path, cert: &str) {
    cupass(&[
        "--dir",
        &s(&out.join("ledger")),
        "cert",
        "revoke",
        "--key",
        &s(&out.join("keys/certifier.key")),
        cert,
        "--reason",
        "audit finding",
    ])
    .ok();
}

/// Revokes the certifier's key (signed by the operator).
fn revoke_certifier_key(out: &Path) {
    let shown = cupass(&[
        "--json",
        "key",
        "show",
        &s(&out.join("keys/certifier.key.pub")),
    ])
    .ok()
    .json();
    let event = serde_json::json!({
        "schema": passport_schema::SCHEMA_VERSION,
        "occurred_ms": client::now_ms(),
        "body": {"revoke_key": {"actor": shown["kid"], "reason": "key compromised"}},
    });
    let f = out.join("revoke-key.json");
    std::fs::write(&f, event.to_string()).unwrap();
    cupass(&[
        "--dir",
        &s(&out.join("ledger")),
        "submit",
        "--key",
        &s(&out.join("ledger/operator.key")),
        &s(&f),
    ])
    .ok();
}

fn without(mut b: EvidenceBundle, kind_name: &str) -> Vec<u8> {
    let before = b.entries.len();
    b.entries.retain(|e| kind(&e.entry) != kind_name);
    assert_eq!(b.entries.len(), before - 1, "one {kind_name} entry cut out");
    b.to_cbor().unwrap()
}

#[test]
fn a_bundle_with_its_revocation_cut_out_is_revoked() {
    let (_d, out, j) = demo();
    let cert = j["certificate"].as_str().unwrap();
    revoke_certificate(&out, cert);
    let (_, fresh) = export(&out, cert, "revoked.cupass");
    let forged = without(fresh, "revoke_certificate");
    let v = verify_bundle(&forged, &log_key(&out));
    assert!(!v.valid, "{v:?}");
    let f = v.failure().unwrap();
    assert_eq!(f.part, Part::Status, "{}", f.detail);
    assert!(f.detail.contains("REVOKED"), "{}", f.detail);
    assert!(f.detail.contains("leaves that entry out"), "{}", f.detail);
    assert!(f.entry.is_some());
}

#[test]
fn a_bundle_with_the_issuers_key_revocation_cut_out_is_refused() {
    let (_d, out, j) = demo();
    let cert = j["certificate"].as_str().unwrap();
    revoke_certifier_key(&out);
    let (_, fresh) = export(&out, cert, "key-revoked.cupass");
    // Honest: the key revocation is in the bundle and the certificate no longer holds.
    let honest = verify_bundle(&fresh.to_cbor().unwrap(), &log_key(&out));
    assert!(!honest.valid, "{honest:?}");
    let forged = without(fresh, "revoke_key");
    let v = verify_bundle(&forged, &log_key(&out));
    assert!(!v.valid, "{v:?}");
    let f = v.failure().unwrap();
    assert_eq!(f.part, Part::Status, "{}", f.detail);
    assert!(
        f.detail.contains("REVOKED: key") && f.detail.contains("leaves that entry out"),
        "{}",
        f.detail
    );
}

#[test]
fn a_bundle_with_a_status_proof_removed_or_stale_is_refused() {
    let (_d, out, j) = demo();
    let cert = j["certificate"].as_str().unwrap();
    let (_, before) = export(&out, cert, "before.cupass");
    let key = log_key(&out);
    // Missing: the certificate's own status proof dropped.
    let mut b = before.clone();
    b.statuses.retain(|p| !p.key.starts_with(b"cert/"));
    let v = verify_bundle(&b.to_cbor().unwrap(), &key);
    let f = v.failure().unwrap();
    assert_eq!(f.part, Part::Status, "{}", f.detail);
    assert!(
        f.detail.contains("no status proof for certificate"),
        "{}",
        f.detail
    );
    // Stale: today's entries and checkpoint with yesterday's status proofs
    // (or the other way round) do not verify against the commitment.
    revoke_certificate(&out, cert);
    let (_, after) = export(&out, cert, "after.cupass");
    let mut mixed = after.clone();
    mixed.statuses = before.statuses.clone();
    let v = verify_bundle(&mixed.to_cbor().unwrap(), &key);
    let f = v.failure().unwrap();
    assert_eq!(f.part, Part::Status, "{}", f.detail);
    assert!(
        f.detail.contains("does not verify against the root"),
        "{}",
        f.detail
    );
    // And the status commitment itself cut out.
    let mut cut = after;
    cut.entries.pop();
    let v = verify_bundle(&cut.to_cbor().unwrap(), &key);
    let f = v.failure().unwrap();
    assert_eq!(f.part, Part::Status, "{}", f.detail);
    assert!(f.detail.contains("no status commitment"), "{}", f.detail);
}

#[test]
fn a_stale_bundle_is_caught_with_the_node_or_a_maximum_age() {
    let (_d, out, j) = demo();
    let cert = j["certificate"].as_str().unwrap();
    let (old, _) = export(&out, cert, "old.cupass");
    revoke_certificate(&out, cert);
    let key = s(&out.join("ledger/log.pub"));
    // Offline, the old bundle says what it is: valid as of its tree size.
    let o = cupass(&["verify", &s(&old), "--log-key", &key]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("as of tree size"), "{}", o.stdout);
    assert!(o.stdout.contains("integrated at"), "{}", o.stdout);
    // A maximum age it exceeds: stale, exit 1.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let o = cupass(&["verify", &s(&old), "--log-key", &key, "--max-age", "10ms"]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(o.stdout.contains("STALE"), "{}", o.stdout);
    let o = cupass(&["verify", &s(&old), "--log-key", &key, "--max-age", "1h"]);
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    // With the node: the revocation since the export is found, exit 1.
    let node = TestNode::start(&out.join("ledger"));
    let o = cupass(&["--node", &node.url, "verify", &s(&old), "--log-key", &key]);
    assert_eq!(o.code, 1, "{}{}", o.stdout, o.stderr);
    assert!(
        o.stdout.contains("at the node's current tree size"),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("Revoked"), "{}", o.stdout);
    drop(node);
    // A node that cannot be reached is no verdict: exit 3.
    let o = cupass(&[
        "--node",
        "http://127.0.0.1:1",
        "verify",
        &s(&old),
        "--log-key",
        &key,
    ]);
    assert_eq!(o.code, 3, "{}{}", o.stdout, o.stderr);
}

#[test]
fn statuses_and_absences_are_proved() {
    let (_d, out, j) = demo();
    let cert = j["certificate"].as_str().unwrap();
    let lot = j["certified_lot"].as_str().unwrap();
    let dir = s(&out.join("ledger"));
    let key = s(&out.join("ledger/log.pub"));
    let status = |kind: &str, id: &str| {
        cupass(&[
            "--dir",
            &dir,
            "--json",
            "status",
            kind,
            id,
            "--log-key",
            &key,
        ])
        .ok()
        .json()
    };
    let c = status("certificate", cert);
    assert_eq!(c["exists"], true);
    assert_eq!(c["status"]["revoked_index"], serde_json::Value::Null);
    let l = status("material", lot);
    assert_eq!(l["status"]["certificates"][0], cert);
    // No certificate exists for a product that was never certified.
    let example: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("passport-example.json")).unwrap())
            .unwrap();
    let product = status("material", example["product"].as_str().unwrap());
    assert_eq!(product["exists"], true);
    assert_eq!(product["status"]["certificates"], serde_json::json!([]));
    // Absence: an id the log never saw.
    let none = status("certificate", "01970000-0000-7000-8000-0000000000ff");
    assert_eq!(none["exists"], false);
    assert_eq!(none["status"], serde_json::Value::Null);
    // A key never revoked, then revoked.
    let kid = cupass(&[
        "--json",
        "key",
        "show",
        &s(&out.join("keys/certifier.key.pub")),
    ])
    .ok()
    .json()["kid"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        status("key", &kid)["status"]["revoked_index"],
        serde_json::Value::Null
    );
    revoke_certifier_key(&out);
    assert!(status("key", &kid)["status"]["revoked_index"].is_u64());
    // The same answers from a node.
    let node = TestNode::start(&out.join("ledger"));
    let o = cupass(&[
        "--node",
        &node.url,
        "--json",
        "status",
        "key",
        &kid,
        "--log-key",
        &key,
    ])
    .ok()
    .json();
    assert!(o["status"]["revoked_index"].is_u64());
    let o = cupass(&[
        "--node",
        &node.url,
        "status",
        "lot",
        "nope",
        "--log-key",
        &key,
    ]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
}
