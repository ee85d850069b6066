//! `cupass log verify` on a tampered sled store names the first failing entry.

use ledger::store::chunk_key;

use crate::cli_support::*;

#[test]
fn log_verify_names_the_first_tampered_entry() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    let ds = s(&dir);
    cupass(&["--dir", &ds, "init", "--origin", "test.example/tamper"]).ok();
    let op = s(&dir.join("operator.key"));
    for i in 0..5 {
        let k = d.path().join(format!("a{i}.key"));
        cupass(&["key", "new", "--name", &format!("org{i}"), "-o", &s(&k)]).ok();
        register_actor(
            &ds,
            &op,
            &format!("Org {i}"),
            &format!("{}.pub", s(&k)),
            &[],
        );
    }
    let v = cupass(&["--dir", &ds, "--json", "log", "verify"])
        .ok()
        .json();
    assert_eq!(v["valid"], true);
    // Six commits (genesis, five registrations), each closed by its status entry.
    assert_eq!(v["entries"], 12);

    // Flip a bit in the last byte of entry 3 (its signature), straight in sled.
    {
        let db = sled::open(dir.join("store")).unwrap();
        let key = chunk_key(0);
        let mut chunk = db.get(&key).unwrap().unwrap().to_vec();
        let mut off = 0usize;
        for _ in 0..3 {
            let len = u16::from_be_bytes([chunk[off], chunk[off + 1]]) as usize;
            off += 2 + len;
        }
        let len = u16::from_be_bytes([chunk[off], chunk[off + 1]]) as usize;
        chunk[off + 2 + len - 1] ^= 0x01;
        db.insert(&key, chunk).unwrap();
        db.flush().unwrap();
    }
    let o = cupass(&["--dir", &ds, "--json", "log", "verify"]);
    assert_eq!(o.code, 1);
    let v = o.json();
    assert_eq!(v["valid"], false);
    assert_eq!(v["first_failing_entry"], 3, "{v:#}");
    let human = cupass(&["--dir", &ds, "log", "verify"]);
    assert!(
        human.stdout.contains("first failing entry 3"),
        "{}",
        human.stdout
    );
    // Ordinary commands refuse the tampered store.
    let o = cupass(&["--dir", &ds, "--json", "log", "checkpoint"]);
    assert_eq!(o.code, 1);
    assert_eq!(o.json()["error"], "store_mismatch");
}

#[test]
fn other_config_errors_are_usage_errors_not_store_mismatch() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    let ds = s(&dir);
    cupass(&["--dir", &ds, "init", "--origin", "test.example/cfg"]).ok();
    cupass(&["--dir", &ds, "log", "checkpoint"]).ok();
    // An unreadable log key is a configuration problem to fix: exit 2.
    std::fs::write(dir.join("log.key"), "not a key\n").unwrap();
    let o = cupass(&["--dir", &ds, "--json", "log", "checkpoint"]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    let j = o.json();
    assert_ne!(j["error"], "store_mismatch", "{j}");
    assert_eq!(j["error"], "config", "{j}");
    assert!(j["message"].as_str().unwrap().contains("log.key"), "{j}");
}

#[test]
fn log_verify_catches_a_changed_view_record() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    let ds = s(&dir);
    cupass(&["--dir", &ds, "init", "--origin", "test.example/views"]).ok();
    let op = s(&dir.join("operator.key"));
    let k = d.path().join("a.key");
    cupass(&["key", "new", "--name", "org", "-o", &s(&k)]).ok();
    register_actor(&ds, &op, "Org", &format!("{}.pub", s(&k)), &[]);
    assert_eq!(
        cupass(&["--dir", &ds, "--json", "log", "verify"])
            .ok()
            .json()["valid"],
        true
    );
    // Change one byte of a stored view record (the actor registry), straight in sled:
    // the entries and tiles are intact, so only the view comparison can catch it.
    let store = dir.join("store");
    let actor_key = {
        let db = sled::open(&store).unwrap();
        let key = db
            .scan_prefix(b"as/actor/")
            .next()
            .expect("an actor view record")
            .unwrap()
            .0
            .to_vec();
        drop(db);
        key
    };
    cupass_tests::tamper_sled(&store, &actor_key, 20, 0x01);
    let o = cupass(&["--dir", &ds, "--json", "log", "verify"]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    let v = o.json();
    assert_eq!(v["valid"], false);
    let failed: Vec<&serde_json::Value> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["ok"] == false)
        .collect();
    assert_eq!(failed[0]["step"], "views", "{v:#}");
    assert!(
        failed[0]["detail"].as_str().unwrap().contains("actor/"),
        "{v:#}"
    );
}
