//! Tamper detection on a 10,000-entry ledger: one byte changed in an entry,
//! a hash tile, a view record or the saved checkpoint is never a silent
//! success. Either the node refuses to open the store, or `cupass log
//! verify` fails and names what differs.

use client::{DataDir, keyfile::Permissions};
use ledger::store::{chunk_key, tile_key};
use passport_schema::*;

use crate::cli_support::{cupass, s};

const N: usize = 10_000;

fn build(dir: &std::path::Path) {
    client::init(
        dir,
        "tamper10k.cupass.example/log",
        "Operator",
        "CN",
        &client::Options::default(),
    )
    .unwrap();
    let ledger = client::open(dir, &client::Options::default(), Permissions::Strict).unwrap();
    let op = client::keyfile::read_key_file(
        &DataDir(dir.to_path_buf()).operator_key(),
        Permissions::Strict,
    )
    .unwrap();
    let r = ledger::NoteSigner::new("Refiner", ed25519_dalek::SigningKey::from_bytes(&[7; 32]))
        .unwrap();
    let public = Bytes32(*r.verifier().key().as_bytes());
    let now = client::pipeline::now_ms();
    for ev in [
        Event::new(
            now,
            RegisterActor {
                name: "Refiner".into(),
                country: "CN".into(),
                public_key: public,
            },
        ),
        Event::new(
            now,
            GrantRole {
                actor: Bytes32(kid_of(&public.0)),
                role: Role::Refiner,
            },
        ),
    ] {
        ledger
            .submit(&client::sign_event(&op, "tamper10k.cupass.example/log", &ev).unwrap())
            .unwrap();
    }
    // Genesis and two submissions: three commits so far, each closed by a
    // status entry.
    let mut commits = 3;
    let mut left = N - 3;
    while left > 0 {
        commits += 1;
        let k = left.min(1024);
        let batch: Vec<client::pipeline::Checked> = (0..k)
            .map(|_| {
                let bytes = client::sign_event(
                    &r,
                    "tamper10k.cupass.example/log",
                    &Event::new(now, PrimaryLot::new(1_000_000, "CN", "Cathode")),
                )
                .unwrap();
                match ledger.check(&bytes, now).unwrap() {
                    client::pipeline::Submission::New(c) => *c,
                    client::pipeline::Submission::Duplicate(_) => unreachable!(),
                }
            })
            .collect();
        for r in ledger.commit_batch(batch).unwrap() {
            r.unwrap();
        }
        left -= k;
    }
    assert_eq!(ledger.log().size().unwrap(), (N + commits) as u64);
}

/// Either the node refuses the store, or log verify fails; returns what was said.
fn detected(dir: &std::path::Path) -> String {
    match client::open(dir, &client::Options::default(), Permissions::Strict) {
        Err(e) => format!("node refused: {e}"),
        Ok(l) => {
            drop(l);
            let o = cupass(&["--dir", &s(dir), "--json", "log", "verify"]);
            assert_eq!(o.code, 1, "tampering went unnoticed: {}", o.stdout);
            let v = o.json();
            assert_eq!(v["valid"], false);
            let failed = v["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["ok"] == false)
                .unwrap();
            format!("log verify: {}", failed["detail"])
        }
    }
}

#[test]
fn ten_thousand_entries_every_change_is_caught() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_path_buf();
    build(&dir);
    let store = DataDir(dir.clone()).store();
    let views: Vec<Vec<u8>> = {
        let db = sled::open(&store).unwrap();
        let keys = db
            .scan_prefix(b"as/")
            .map(|kv| kv.unwrap().0.to_vec())
            .collect::<Vec<_>>();
        drop(db);
        keys
    };
    assert!(
        views.len() > N,
        "expected a view record per lot, found {}",
        views.len()
    );
    let mut places: Vec<(String, Vec<u8>, usize)> = Vec::new();
    for chunk in [0u64, 1, 77, 311, 624] {
        for byte in [2usize, 50, 200] {
            places.push((format!("entry chunk {chunk}"), chunk_key(chunk), byte));
        }
    }
    for (level, index) in [(0u8, 0u64), (0, 17), (0, 39), (1, 0)] {
        for byte in [0usize, 32 * 100 + 7, 31] {
            places.push((
                format!("tile {level}/{index}"),
                tile_key(level, index),
                byte,
            ));
        }
    }
    for (i, key) in views.iter().step_by(views.len() / 12).enumerate() {
        places.push((format!("view record {i}"), key.clone(), 3 + i * 5));
    }
    for byte in [0usize, 10, 40, 70, 100] {
        places.push(("checkpoint".into(), b"m:checkpoint".to_vec(), byte));
    }
    assert!(places.len() >= 40);
    for (what, key, byte) in &places {
        cupass_tests::tamper_sled(&store, key, *byte, 0x04);
        let said = detected(&dir);
        // Undo the change (XOR again) so every case starts from the same store.
        cupass_tests::tamper_sled(&store, key, *byte, 0x04);
        // It names what differs: the entry, the tile (or the root it feeds), the view record or the checkpoint.
        let named = match what.split(' ').next().unwrap() {
            "entry" => said.contains("entry"),
            "tile" => said.contains("tile") || said.contains("root"),
            "view" => said.contains("view record"),
            _ => said.contains("checkpoint"),
        };
        assert!(named, "{what} (byte {byte}): {said}");
    }
    // The untouched store still opens and verifies.
    client::open(&dir, &client::Options::default(), Permissions::Strict).unwrap();
    assert_eq!(
        cupass(&["--dir", &s(&dir), "--json", "log", "verify"])
            .ok()
            .json()["valid"],
        true
    );
}
