//! The signed-note vector from Go's sumdb/note, byte for byte.

use base64::{Engine, engine::general_purpose::STANDARD};
use cupass_tests::{assert_err, respell_key_id, vectors_dir};
use ledger::{Checkpoint, Error, NoteSigner, NoteVerifier};
use serde_json::Value;

fn vector() -> Value {
    let p = vectors_dir().join("signed-note/peterneumann.json");
    serde_json::from_slice(&std::fs::read(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"))).unwrap()
}

#[test]
fn signer_reproduces_the_go_note_byte_for_byte() {
    let v = vector();
    let signer = NoteSigner::parse(v["signer_key"].as_str().unwrap()).unwrap();
    let note = signer.sign(v["text"].as_str().unwrap()).unwrap();
    assert_eq!(note, v["signed_note"].as_str().unwrap());
    assert_eq!(signer.to_secret_string(), v["signer_key"].as_str().unwrap());
    assert_eq!(
        signer.verifier().to_string(),
        v["verifier_key"].as_str().unwrap()
    );
    assert_eq!(
        format!("{:08x}", signer.verifier().key_id()),
        v["key_id_hex"].as_str().unwrap()
    );
}

#[test]
fn verifier_opens_the_go_note() {
    let v = vector();
    let verifier = NoteVerifier::parse(v["verifier_key"].as_str().unwrap()).unwrap();
    assert_eq!(verifier.name(), v["key_name"].as_str().unwrap());
    let text = verifier.open(v["signed_note"].as_str().unwrap()).unwrap();
    assert_eq!(text, v["text"].as_str().unwrap());
    assert_eq!(verifier.to_string(), v["verifier_key"].as_str().unwrap());
}

#[test]
fn bad_verifier_keys_are_rejected() {
    let v = vector();
    let bad = v["bad_verifier_keys"].as_array().unwrap();
    assert!(!bad.is_empty());
    for k in bad {
        assert_err!(
            NoteVerifier::parse(k.as_str().unwrap()),
            Error::MalformedKey(_)
        );
    }
}

/// Found by the `verifier_key` fuzz target: Go's `sumdb/note` reads the key
/// id with `strconv.ParseUint`, so an upper-case id is the same key. We
/// accept it and print the lower-case form; where a key is compared as text
/// (evidence bundles) the lower-case spelling is required.
#[test]
fn a_key_id_in_upper_case_is_the_same_key() {
    let signer = cupass_tests::log_signer("fuzz.cupass.example/log");
    let lower = signer.verifier().to_string();
    let upper = respell_key_id(&lower, str::to_ascii_uppercase);
    assert_ne!(upper, lower, "key id of {lower} has no hex letter");
    let parsed = NoteVerifier::parse(&upper).unwrap();
    assert_eq!(&parsed, signer.verifier());
    assert_eq!(parsed.to_string(), lower);
    let secret = respell_key_id(&signer.to_secret_string(), str::to_ascii_uppercase);
    assert_ne!(secret, signer.to_secret_string());
    assert_eq!(
        NoteSigner::parse(&secret).unwrap().to_secret_string(),
        signer.to_secret_string()
    );
}

#[test]
fn every_flipped_signature_byte_fails() {
    let v = vector();
    let verifier = NoteVerifier::parse(v["verifier_key"].as_str().unwrap()).unwrap();
    let note = v["signed_note"].as_str().unwrap();
    let (text, sig_line) = note
        .rsplit_once("\n\n")
        .map(|(t, s)| (format!("{t}\n"), s))
        .unwrap();
    let b64 = sig_line.trim_end().rsplit_once(' ').unwrap().1;
    let raw = STANDARD.decode(b64).unwrap();
    for i in 0..raw.len() {
        let mut bad = raw.clone();
        bad[i] ^= 0x01;
        let forged = format!("{text}\n\u{2014} PeterNeumann {}\n", STANDARD.encode(&bad));
        assert!(
            verifier.open(&forged).is_err(),
            "flipping byte {i} still verified"
        );
    }
}

#[test]
fn checkpoint_round_trip_and_origin_binding() {
    let signer = cupass_tests::log_signer("cupass.example/log");
    let cp = Checkpoint {
        origin: "cupass.example/log".into(),
        size: 42,
        root: [7; 32],
    };
    let note = cp.sign(&signer).unwrap();
    assert!(note.starts_with("cupass.example/log\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n\u{2014} cupass.example/log "));
    assert_eq!(Checkpoint::open(&note, signer.verifier()).unwrap(), cp);
    // A checkpoint for another origin is not signed with this key.
    let other = Checkpoint {
        origin: "elsewhere".into(),
        ..cp.clone()
    };
    assert_err!(other.sign(&signer), Error::MalformedCheckpoint(_));
    // Another key does not open it.
    let stranger = NoteSigner::new("cupass.example/log", cupass_tests::test_key(9)).unwrap();
    assert_err!(
        Checkpoint::open(&note, stranger.verifier()),
        Error::NoteSignature(_)
    );
}
