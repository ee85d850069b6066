//! The fuzz targets' bodies, shared by `fuzz/` (libFuzzer, nightly) and the
//! corpus regression test (`tests/it/fuzz_corpus.rs`, stable `cargo test`).
//!
//! Each body takes arbitrary bytes, feeds them to one parser of untrusted
//! input, and panics only when an invariant breaks: a parser that panics, a
//! value that does not survive a round trip, or two verifiers that disagree.
//! Rejecting the input is the expected, uninteresting outcome.
//!
//! Inputs that need a trusted key (signed notes, proofs, bundles) carry it:
//! the first line is a verifier key string, the rest is the artefact. A real
//! `(key, artefact)` pair then reaches the success path, and the fuzzer can
//! still mutate either half.

use std::sync::OnceLock;

use ed25519_dalek::SigningKey;
use ledger::{
    Checkpoint, NoteSigner, NoteVerifier,
    cose::{Entry, verify_batch},
    merkle::{verify_consistency, verify_inclusion},
    proof::{ConsistencyProof, InclusionProof},
};
use passport_schema::{
    Bytes32, Context, Event, EventBody, Genesis, MemoryState, RegisterActor, apply,
    decode_canonical, encode, from_json, kid_of, to_json,
};

/// The keys the COSE target verifies against (the seeds are signed by them).
pub fn entry_keys() -> [SigningKey; 3] {
    [crate::test_key(1), crate::test_key(2), crate::test_key(3)]
}

/// One fuzz target: its name (the `fuzz/fuzz_targets/<name>.rs` file and
/// the corpus folders) and its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, in the order the docs list them.
pub const TARGETS: [Target; 7] = [
    ("cose_entry", cose_entry),
    ("event_payload", event_payload),
    ("signed_note", signed_note),
    ("verifier_key", verifier_key),
    ("proof_json", proof_json),
    ("evidence_bundle", evidence_bundle),
    ("readings_csv", readings_csv),
];

/// COSE_Sign1 entry decoding and verification.
///
/// Accepted bytes are canonical (re-encoding gives them back), and the
/// single and batch verifiers agree on every key.
pub fn cose_entry(data: &[u8]) {
    let Ok(entry) = Entry::from_bytes(data) else {
        return;
    };
    let again = entry.to_bytes().expect("re-encoding an accepted entry");
    assert_eq!(again, data, "accepted entry is not canonical");
    let reparsed = Entry::from_bytes(&again).expect("re-parsing an accepted entry");
    assert!(
        ledger::cose::check_log_origin(entry.log()).is_ok(),
        "accepted an entry naming an invalid log origin"
    );
    assert_eq!(reparsed.payload(), entry.payload());
    for key in entry_keys() {
        let key = key.verifying_key();
        let single = entry.verify(&key).is_ok();
        let batch = verify_batch(&[&entry], &[key]).is_ok();
        assert_eq!(single, batch, "single and batch verification disagree");
        if single {
            assert_eq!(
                entry.kid(),
                &ledger::keys::kid(&key),
                "verified under a key its kid does not name"
            );
        }
    }
}

/// The operator who signs the genesis the payload target's state starts from.
fn operator() -> SigningKey {
    crate::test_key(1)
}

/// A state holding one genesis (operator = [`operator`]), built once.
fn genesis_state() -> &'static MemoryState {
    static STATE: OnceLock<MemoryState> = OnceLock::new();
    STATE.get_or_init(|| {
        let op = operator().verifying_key().to_bytes();
        let genesis = Event::new(
            1_700_000_000_000,
            EventBody::Genesis(Genesis::new(
                "fuzz.cupass.example/log",
                RegisterActor {
                    name: "Fuzz Operator".into(),
                    country: "CN".into(),
                    public_key: Bytes32(op),
                },
                Bytes32(op),
            )),
        );
        let ctx = Context {
            index: 0,
            signer: kid_of(&op),
            leaf_hash: [0; 32],
        };
        let effects = apply(&MemoryState::new(), &ctx, &genesis).expect("genesis applies");
        let mut state = MemoryState::new();
        state.commit(effects);
        state
    })
}

/// Event payload decoding with the canonical check, then the rules.
///
/// An accepted payload re-encodes to the same bytes and survives the JSON
/// form; applying it (as the operator, after a genesis) either fails with a
/// typed violation or gives deterministic writes.
pub fn event_payload(data: &[u8]) {
    let Ok(event) = decode_canonical(data) else {
        return;
    };
    assert_eq!(
        encode(&event).expect("re-encoding an accepted payload"),
        data,
        "accepted payload is not canonical"
    );
    let json = to_json(&event).expect("JSON form of an accepted payload");
    assert_eq!(from_json(&json).expect("JSON round trip"), event);
    let ctx = Context {
        index: 1,
        signer: kid_of(&operator().verifying_key().to_bytes()),
        leaf_hash: [1; 32],
    };
    let state = genesis_state();
    let first = apply(state, &ctx, &event);
    assert_eq!(
        first,
        apply(state, &ctx, &event),
        "rules are not deterministic"
    );
}

/// Splits `data` into its first line (a verifier key string) and the rest.
fn key_and_rest(data: &[u8]) -> Option<(NoteVerifier, &str)> {
    let text = std::str::from_utf8(data).ok()?;
    let (key, rest) = text.split_once('\n')?;
    Some((NoteVerifier::parse(key).ok()?, rest))
}

/// Checkpoint and signed-note parsing.
///
/// The whole input as a checkpoint body: an accepted body re-parses from
/// its own serialisation. The first line as a key and the rest as a note:
/// an opened checkpoint's body is exactly what the note carried.
pub fn signed_note(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(cp) = Checkpoint::parse_body(text)
    {
        assert_eq!(
            Checkpoint::parse_body(&cp.to_body()).expect("re-parsing a body"),
            cp
        );
        assert!(text.starts_with(&cp.to_body()), "body lost its first lines");
    }
    let Some((key, note)) = key_and_rest(data) else {
        return;
    };
    let body = key.open(note);
    if let Ok(cp) = Checkpoint::open(note, &key) {
        let body = body.expect("a checkpoint opened, so the note did");
        assert_eq!(Checkpoint::parse_body(body).expect("body parses"), cp);
        assert_eq!(cp.origin, key.name());
    }
}

/// Verifier-key (and signer-key) string parsing.
///
/// A parsed key prints back to the string it came from, up to the case of
/// the hex key id (accepted in either case, as Go's `sumdb/note` does, and
/// printed in lower case), and re-parses to the same key. Raw 32-byte keys
/// go through the weak-key check.
pub fn verifier_key(data: &[u8]) {
    let _ = ledger::keys::checked_verifying_key(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(v) = NoteVerifier::parse(text) {
        assert_eq!(
            v.to_string(),
            crate::respell_key_id(text, str::to_ascii_lowercase),
            "verifier key has two spellings"
        );
        assert_eq!(NoteVerifier::parse(&v.to_string()).ok(), Some(v.clone()));
        assert_eq!(v.key_id(), ledger::note::key_id(v.name(), v.key()));
    }
    if let Ok(s) = NoteSigner::parse(text) {
        let printed = s.to_secret_string();
        assert_eq!(
            printed,
            crate::respell_key_id(text, str::to_ascii_lowercase),
            "signer key has two spellings"
        );
        let note = s.sign("fuzz\n").expect("signing a plain note");
        assert_eq!(s.verifier().open(&note).expect("own note opens"), "fuzz\n");
    }
}

/// Proof JSON parsing and verification (first line: the log's key).
///
/// A proof accepted with its signed checkpoint also passes the bare Merkle
/// check, and survives a JSON round trip.
pub fn proof_json(data: &[u8]) {
    let (key, json) = match key_and_rest(data) {
        Some((k, j)) => (Some(k), j.as_bytes()),
        None => (None, data),
    };
    if let Ok(p) = serde_json::from_slice::<InclusionProof>(json) {
        let text = serde_json::to_string(&p).expect("serialising a proof");
        assert_eq!(
            serde_json::from_str::<InclusionProof>(&text).ok(),
            Some(p.clone())
        );
        let bare = verify_inclusion(p.index, p.tree_size, &p.leaf_hash, &p.hashes, &p.root);
        if let Some(key) = &key
            && p.verify(key).is_ok()
        {
            assert!(bare.is_ok(), "signed proof passed but its path does not");
        }
    }
    if let Ok(p) = serde_json::from_slice::<ConsistencyProof>(json) {
        let text = serde_json::to_string(&p).expect("serialising a proof");
        assert_eq!(
            serde_json::from_str::<ConsistencyProof>(&text).ok(),
            Some(p.clone())
        );
        if p.verify().is_ok() && p.old_size > 0 {
            verify_consistency(p.old_size, p.new_size, &p.hashes, &p.old_root, &p.new_root)
                .expect("proof verified once, not twice");
        }
    }
}

/// Evidence bundle decoding and verification (first line: the log's key,
/// else the bundle's own informative key).
///
/// A valid verdict needs a bundle that decodes; its subject is the
/// bundle's; and an accepted bundle survives a CBOR round trip.
pub fn evidence_bundle(data: &[u8]) {
    let (key, bytes) = match key_and_rest(data) {
        Some((k, rest)) => (Some(k), rest.as_bytes()),
        None => (None, data),
    };
    let parsed = client::bundle::EvidenceBundle::from_cbor(bytes);
    if let Ok(b) = &parsed {
        let again = b.to_cbor().expect("re-encoding a bundle");
        assert_eq!(
            client::bundle::EvidenceBundle::from_cbor(&again)
                .ok()
                .as_ref(),
            Some(b)
        );
    }
    let key = key.or_else(|| {
        let b = parsed.as_ref().ok()?;
        NoteVerifier::parse(&b.log_key).ok()
    });
    let Some(key) = key else {
        return;
    };
    let verdict = client::bundle::verify_bundle(bytes, &key);
    assert_eq!(
        verdict.valid,
        verdict.failure().is_none(),
        "verdict contradicts its checks"
    );
    if verdict.valid {
        let b = parsed.expect("a valid bundle decodes");
        assert_eq!(verdict.subject, Some(b.subject));
        assert_eq!(
            b.log_key,
            key.to_string(),
            "valid bundle names a key in another spelling"
        );
    }
}

/// The analyser readings CSV parser, in both units.
///
/// Accepted files give one mean per element column, each within 0..=1e6
/// ppm, and at least one spot.
pub fn readings_csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for unit in [cli::readings::Unit::Percent, cli::readings::Unit::Ppm] {
        let Ok(avg) = cli::readings::parse(text, "fuzz.csv", unit) else {
            continue;
        };
        assert!(avg.spots > 0, "averaged zero spots");
        assert_eq!(
            avg.elements.len(),
            avg.mean_ppm.len(),
            "an element lost its mean"
        );
        for (element, ppm) in &avg.mean_ppm {
            assert!(*ppm <= 1_000_000, "{element} mean {ppm} ppm exceeds 100%");
        }
    }
}
