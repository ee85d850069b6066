//! Our COSE_Sign1 entries and the independent `coset` crate agree both ways.

use coset::{
    CborSerializable, CoseSign1, CoseSign1Builder, HeaderBuilder, Label, TaggedCborSerializable,
    cbor::value::Value, iana,
};
use ed25519_dalek::{Signature, Signer};
use ledger::{
    cose::{CONTENT_TYPE, Entry, LOG_LABEL},
    keys::kid,
};

use cupass_tests::test_key;

const LOG: &str = "interop.cupass.example/log";

fn coset_entry(key: &ed25519_dalek::SigningKey, payload: &[u8], alg: iana::Algorithm) -> Vec<u8> {
    let protected = HeaderBuilder::new()
        .algorithm(alg)
        .content_type(CONTENT_TYPE.to_string())
        .key_id(kid(&key.verifying_key()).to_vec())
        .text_value(LOG_LABEL.to_string(), Value::Text(LOG.to_string()))
        .build();
    CoseSign1Builder::new()
        .protected(protected)
        .payload(payload.to_vec())
        .create_signature(b"", |tbs| key.sign(tbs).to_bytes().to_vec())
        .build()
        .to_tagged_vec()
        .unwrap()
}

#[test]
fn our_entries_verify_in_coset() {
    for n in 0..20u8 {
        let key = test_key(n);
        let payload: Vec<u8> = (0..u32::from(n) * 37).map(|i| i as u8).collect();
        let bytes = Entry::sign(&key, LOG, &payload)
            .unwrap()
            .to_bytes()
            .unwrap();
        let parsed = CoseSign1::from_tagged_slice(&bytes).unwrap();
        let h = &parsed.protected.header;
        assert_eq!(
            h.alg,
            Some(coset::RegisteredLabelWithPrivate::Assigned(
                iana::Algorithm::EdDSA
            ))
        );
        assert_eq!(h.key_id, kid(&key.verifying_key()).to_vec());
        assert_eq!(
            h.content_type,
            Some(coset::ContentType::Text(CONTENT_TYPE.into()))
        );
        // coset sees the log binding as a text-labelled protected header.
        assert_eq!(
            h.rest,
            vec![(Label::Text(LOG_LABEL.into()), Value::Text(LOG.into()))]
        );
        assert_eq!(parsed.payload.as_deref(), Some(payload.as_slice()));
        parsed
            .verify_signature(b"", |sig, data| {
                let sig = Signature::from_slice(sig)?;
                key.verifying_key().verify_strict(data, &sig)
            })
            .unwrap();
    }
}

#[test]
fn coset_entries_verify_here_and_are_byte_identical() {
    for n in 0..20u8 {
        let key = test_key(n);
        let payload = vec![n; usize::from(n) * 101];
        let theirs = coset_entry(&key, &payload, iana::Algorithm::EdDSA);
        let entry = Entry::from_bytes(&theirs).unwrap();
        entry.verify(&key.verifying_key()).unwrap();
        assert_eq!(entry.payload(), payload.as_slice());
        assert_eq!(entry.log(), LOG);
        // Ed25519 is deterministic and both encodings are canonical.
        assert_eq!(
            Entry::sign(&key, LOG, &payload)
                .unwrap()
                .to_bytes()
                .unwrap(),
            theirs
        );
    }
}

#[test]
fn coset_entry_with_another_algorithm_is_refused() {
    let key = test_key(1);
    let bytes = coset_entry(&key, b"x", iana::Algorithm::ES256);
    cupass_tests::assert_err!(
        Entry::from_bytes(&bytes),
        ledger::Error::UnsupportedAlgorithm(-7)
    );
}

#[test]
fn untagged_coset_entry_is_refused() {
    let key = test_key(1);
    let tagged = coset_entry(&key, b"x", iana::Algorithm::EdDSA);
    let untagged = CoseSign1::from_tagged_slice(&tagged)
        .unwrap()
        .to_vec()
        .unwrap();
    cupass_tests::assert_err!(
        Entry::from_bytes(&untagged),
        ledger::Error::MalformedEntry(_)
    );
}
