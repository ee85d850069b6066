//! Every RFC 9162 vector from transparency-dev/merkle gives the outcome its `wantErr` states.

use std::path::Path;

use base64::{Engine, engine::general_purpose::STANDARD};
use cupass_tests::vectors_dir;
use ledger::{
    hash::Hash,
    merkle::{verify_consistency, verify_inclusion},
};
use serde_json::Value;

fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let rd = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("vector dir {dir:?} missing: {e}"));
    for e in rd {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "json") {
            out.push(p);
        }
    }
}

fn b64(v: &Value) -> Vec<u8> {
    STANDARD.decode(v.as_str().unwrap()).unwrap()
}

/// Proof hashes as typed hashes; a component of the wrong length cannot be a
/// valid proof, so the conversion failing is itself a rejection.
fn proof(v: &Value) -> Option<Vec<Hash>> {
    // Go writes a nil slice as null.
    let Some(items) = v.as_array() else {
        assert!(v.is_null(), "proof is neither a list nor null: {v}");
        return Some(Vec::new());
    };
    items
        .iter()
        .map(|h| Hash::try_from(b64(h).as_slice()).ok())
        .collect()
}

#[test]
fn inclusion_vectors() {
    let mut files = Vec::new();
    walk(&vectors_dir().join("rfc9162/inclusion"), &mut files);
    assert!(
        files.len() >= 90,
        "only {} inclusion vectors found",
        files.len()
    );
    for f in &files {
        let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let want_err = v["wantErr"].as_bool().unwrap();
        let result = match proof(&v["proof"]) {
            Some(p) => verify_inclusion(
                v["leafIdx"].as_u64().unwrap(),
                v["treeSize"].as_u64().unwrap(),
                &b64(&v["leafHash"]),
                &p,
                &b64(&v["root"]),
            ),
            None => Err(ledger::Error::BadProof("malformed proof component".into())),
        };
        assert_eq!(result.is_err(), want_err, "{f:?}: {result:?}");
    }
}

#[test]
fn consistency_vectors() {
    let mut files = Vec::new();
    walk(&vectors_dir().join("rfc9162/consistency"), &mut files);
    assert!(
        files.len() >= 90,
        "only {} consistency vectors found",
        files.len()
    );
    for f in &files {
        let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        let want_err = v["wantErr"].as_bool().unwrap();
        let result = match proof(&v["proof"]) {
            Some(p) => verify_consistency(
                v["size1"].as_u64().unwrap(),
                v["size2"].as_u64().unwrap(),
                &p,
                &b64(&v["root1"]),
                &b64(&v["root2"]),
            ),
            None => Err(ledger::Error::BadProof("malformed proof component".into())),
        };
        assert_eq!(result.is_err(), want_err, "{f:?}: {result:?}");
    }
}
