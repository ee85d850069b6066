//! No rollback: a restored older copy of the store, or a store holding a
//! different tree at a size the log already signed, is refused at open,
//! by the CLI's local mode and by the node binary alike.

use std::path::Path;

use crate::cli_support::*;

/// Registers actor `name` in the local ledger `ds`.
fn add_actor(dir: &Path, ds: &str, name: &str) {
    let k = dir.join(format!("{name}.key"));
    cupass(&["key", "new", "--name", name, "-o", &s(&k)]).ok();
    let op = s(&Path::new(ds).join("operator.key"));
    register_actor(ds, &op, name, &format!("{}.pub", s(&k)), &[]);
}

fn entries(ds: &str) -> u64 {
    let v = cupass(&["--dir", ds, "--json", "log", "verify"])
        .ok()
        .json();
    v["entries"].as_u64().unwrap()
}

#[test]
fn a_restored_older_store_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    let ds = s(&dir);
    cupass(&["--dir", &ds, "init", "--origin", "test.example/rollback"]).ok();
    add_actor(d.path(), &ds, "early");
    let backup = d.path().join("backup-store");
    copy_dir(&dir.join("store"), &backup);
    let before = entries(&ds);
    add_actor(d.path(), &ds, "late");
    assert!(entries(&ds) > before);

    // The operator restores last night's copy of the store.
    std::fs::remove_dir_all(dir.join("store")).unwrap();
    copy_dir(&backup, &dir.join("store"));
    let o = cupass(&["--dir", &ds, "--json", "log", "verify"]);
    assert_ne!(o.code, 0, "{o:?}");
    let said = format!("{}{}", o.stdout, o.stderr);
    assert!(said.contains("older copy"), "{said}");
    assert!(said.contains("log.head"), "{said}");

    // The node binary refuses to serve it too, and says why.
    let node = std::process::Command::new(cupass_tests::workspace_bin("node", "cupass-node"))
        .args(["--dir", &ds, "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!node.status.success());
    let err = String::from_utf8_lossy(&node.stderr);
    assert!(err.contains("older copy"), "{err}");
}

#[test]
fn a_different_tree_at_a_signed_size_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    let ds = s(&dir);
    cupass(&["--dir", &ds, "init", "--origin", "test.example/fork"]).ok();
    let fork = d.path().join("fork");
    copy_dir(&dir, &fork);
    // The same log key signs two different histories of the same length.
    add_actor(d.path(), &ds, "one");
    add_actor(d.path(), &s(&fork), "two");
    assert_eq!(entries(&ds), entries(&s(&fork)));

    // Swap the fork's store in under the original's signed head.
    std::fs::remove_dir_all(dir.join("store")).unwrap();
    copy_dir(&fork.join("store"), &dir.join("store"));
    let o = cupass(&["--dir", &ds, "--json", "log", "verify"]);
    assert_ne!(o.code, 0, "{o:?}");
    let said = format!("{}{}", o.stdout, o.stderr);
    assert!(said.contains("different tree"), "{said}");
}

#[test]
fn a_missing_signed_head_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    let ds = s(&dir);
    cupass(&["--dir", &ds, "init", "--origin", "test.example/headless"]).ok();
    std::fs::remove_file(dir.join("log.head")).unwrap();
    let o = cupass(&["--dir", &ds, "--json", "log", "verify"]);
    assert_ne!(o.code, 0, "{o:?}");
    let said = format!("{}{}", o.stdout, o.stderr);
    assert!(said.contains("is missing"), "{said}");
}

#[test]
fn a_store_ahead_of_its_signed_head_opens() {
    // A crash between the store's commit and the head file's rewrite
    // leaves the file one commit behind: the store extends it, so it opens.
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    let ds = s(&dir);
    cupass(&["--dir", &ds, "init", "--origin", "test.example/ahead"]).ok();
    let old_head = std::fs::read(dir.join("log.head")).unwrap();
    add_actor(d.path(), &ds, "after");
    std::fs::write(dir.join("log.head"), old_head).unwrap();
    let n = entries(&ds);
    // Genesis and one registration, each with its status commitment.
    assert_eq!(n, 4);
}
