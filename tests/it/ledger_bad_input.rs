//! Every kind of bad input gets its own typed error, never a panic.

use cupass_tests::{TEST_LOG, assert_err, log_signer, test_key};
use ledger::{
    Checkpoint, Error, InclusionProof, Log, MemoryStore, NoteSigner, NoteVerifier,
    cose::{self, Entry},
    keys::checked_verifying_key,
};

fn good_entry() -> Vec<u8> {
    Entry::sign(&test_key(1), TEST_LOG, b"hello copper")
        .unwrap()
        .to_bytes()
        .unwrap()
}

#[test]
fn truncated_entries_are_malformed() {
    let e = good_entry();
    for n in 0..e.len() {
        let r = Entry::from_bytes(&e[..n]);
        assert!(
            matches!(
                r,
                Err(Error::MalformedEntry(_) | Error::NonCanonicalEntry(_))
            ),
            "prefix of {n} bytes: {r:?}"
        );
    }
}

#[test]
fn garbage_and_trailing_bytes() {
    assert_err!(Entry::from_bytes(b""), Error::MalformedEntry(_));
    assert_err!(Entry::from_bytes(&[0xff; 40]), Error::MalformedEntry(_));
    assert_err!(
        Entry::from_bytes(&[0x80 | 0x1f; 3000]),
        Error::MalformedEntry(_)
    );
    // Deeply nested arrays stop at the decoder's depth limit.
    let mut deep = vec![0x81; 10_000];
    deep.push(0x00);
    assert_err!(Entry::from_bytes(&deep), Error::MalformedEntry(_));
    // A huge declared length with no bytes behind it.
    assert_err!(
        Entry::from_bytes(&[
            0xd2, 0x84, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
        ]),
        Error::MalformedEntry(_)
    );
    let mut e = good_entry();
    e.push(0x00);
    assert_err!(Entry::from_bytes(&e), Error::NonCanonicalEntry(_));
}

#[test]
fn wrong_tag() {
    let mut e = good_entry();
    assert_eq!(e[0], 0xd2);
    e[0] = 0xd1; // tag 17: COSE_Mac0
    assert_err!(Entry::from_bytes(&e), Error::WrongTag(17));
}

#[test]
fn non_canonical_lengths() {
    // Re-encode the payload length with a needlessly long head.
    let e = Entry::sign(&test_key(1), TEST_LOG, b"abc").unwrap();
    let bytes = e.to_bytes().unwrap();
    let pos = bytes
        .windows(4)
        .position(|w| w == [0x43, b'a', b'b', b'c'])
        .unwrap();
    let mut long = bytes[..pos].to_vec();
    long.extend_from_slice(&[0x58, 0x03, b'a', b'b', b'c']);
    long.extend_from_slice(&bytes[pos + 4..]);
    assert_err!(Entry::from_bytes(&long), Error::NonCanonicalEntry(_));
}

#[test]
fn bad_signature_and_wrong_key() {
    let key = test_key(1);
    let mut bytes = good_entry();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let e = Entry::from_bytes(&bytes).unwrap();
    assert_err!(e.verify(&key.verifying_key()), Error::BadSignature(_));
    let e = Entry::from_bytes(&good_entry()).unwrap();
    assert_err!(
        e.verify(&test_key(2).verifying_key()),
        Error::KidMismatch { .. }
    );
    // Batch verification names the bad one.
    let good = Entry::from_bytes(&good_entry()).unwrap();
    let bad = Entry::from_bytes(&bytes).unwrap();
    let keys = vec![key.verifying_key(); 3];
    cose::verify_batch(&[&good, &good, &good], &keys).unwrap();
    let msg = assert_err!(
        cose::verify_batch(&[&good, &bad, &good], &keys),
        Error::BadSignature(_)
    );
    assert!(msg.contains("entry 1"), "{msg}");
}

#[test]
fn weak_and_invalid_keys() {
    // The identity point is a small-order (weak) key.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert_err!(checked_verifying_key(&identity), Error::WeakKey(_));
    assert_err!(checked_verifying_key(&[0u8; 31]), Error::WeakKey(_));
    // Not a point on the curve (y = 2 has no x).
    let mut off_curve = [0u8; 32];
    off_curve[0] = 2;
    assert_err!(checked_verifying_key(&off_curve), Error::WeakKey(_));
    assert!(checked_verifying_key(test_key(1).verifying_key().as_bytes()).is_ok());
}

#[test]
fn oversized_entry_is_refused_at_signing_and_parsing() {
    assert_err!(
        Entry::sign(&test_key(1), TEST_LOG, &vec![0u8; 65_500]),
        Error::EntryTooLarge { .. }
    );
    assert_err!(
        Entry::from_bytes(&vec![0u8; 65_536]),
        Error::EntryTooLarge { .. }
    );
}

#[test]
fn bad_proofs() {
    let log = Log::create(MemoryStore::new(), log_signer("bad")).unwrap();
    let es: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i]).collect();
    let refs: Vec<&[u8]> = es.iter().map(Vec::as_slice).collect();
    log.append_batch(&refs, Vec::new()).unwrap();
    let good = log.inclusion_proof(4, 10).unwrap();
    good.verify_entry(&es[4], log.verifier()).unwrap();
    let mut p = good.clone();
    p.hashes[1][0] ^= 1;
    assert_err!(p.verify(log.verifier()), Error::BadProof(_));
    let mut p = good.clone();
    p.hashes.pop();
    assert_err!(p.verify(log.verifier()), Error::BadProof(_));
    let mut p = good.clone();
    p.index = 5;
    assert_err!(p.verify(log.verifier()), Error::BadProof(_));
    assert_err!(
        good.verify_entry(&es[5], log.verifier()),
        Error::BadProof(_)
    );
    let mut p = good.clone();
    p.checkpoint = None;
    assert_err!(p.verify(log.verifier()), Error::BadProof(_));
    // JSON with a short hash or an unknown field is refused by the parser.
    let json = serde_json::to_string(&good).unwrap();
    assert!(serde_json::from_str::<InclusionProof>(&json).is_ok());
    let short = json.replacen(&base64_of(&good.root), "AAAA", 1);
    assert!(serde_json::from_str::<InclusionProof>(&short).is_err());
    let extra = json.replacen('{', "{\"x\":1,", 1);
    assert!(serde_json::from_str::<InclusionProof>(&extra).is_err());
}

fn base64_of(h: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(h)
}

#[test]
fn malformed_checkpoints() {
    for body in [
        "",
        "origin\n",
        "origin\n12\n",
        "\n12\nAAAA\n",
        "origin\n012\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
        "origin\n-1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
        "origin\n1\nAAAA\n",
        "origin\n1\nnot base64!\n",
        "origin\n99999999999999999999\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
        "origin\n1\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=",
    ] {
        assert_err!(Checkpoint::parse_body(body), Error::MalformedCheckpoint(_));
    }
    let signer = log_signer("cp");
    let v = signer.verifier();
    for note in [
        "",
        "cp\n1\nAAAA\n",
        "cp\n1\n\n\n",
        "text\n\nno dash line\n",
        "text\n\n\u{2014} cp !!!\n",
        "a\u{1}b\n\n\u{2014} cp AAAAAAAA\n",
    ] {
        let r = Checkpoint::open(note, v);
        assert!(
            matches!(r, Err(Error::MalformedNote(_) | Error::NoteSignature(_))),
            "{note:?}: {r:?}"
        );
    }
}

#[test]
fn malformed_key_strings() {
    let good = log_signer("keys").verifier().to_string();
    for k in [
        "",
        "name",
        "name+1234",
        "name+zzzzzzzz+AAAA",
        "na me+00000000+AAAA",
        "+00000000+AAAA",
        "name+0000000+AAAA",
    ] {
        assert_err!(NoteVerifier::parse(k), Error::MalformedKey(_));
    }
    // Right format, wrong key id.
    let (head, key) = good.rsplit_once('+').unwrap();
    let name = head.split('+').next().unwrap();
    assert_err!(
        NoteVerifier::parse(&format!("{name}+00000000+{key}")),
        Error::MalformedKey(_)
    );
    for k in [
        "",
        "PRIVATE+KEY+",
        "PRIVATE+KEY+n+00000000+AAAA",
        "n+00000000+AAAA",
    ] {
        assert_err!(NoteSigner::parse(k), Error::MalformedKey(_));
    }
}
