//! A node with three witnesses on loopback, one of them down, and a quorum
//! of two: its checkpoints, receipts and bundles carry the quorum, and a
//! forked copy of its log, served under the same key, cannot collect one.

use std::path::Path;

use ed25519_dalek::SigningKey;
use ledger::cosignature::Cosigner;
use ledger::policy::Policy;

use crate::cli_support::*;

struct Witnesses {
    running: Vec<cupass_witness::Spawned>,
    policy_file: std::path::PathBuf,
    policy: Policy,
}

/// Two running witnesses and a third that is down, for the log at `dir`.
fn witnesses(dir: &Path, work: &Path) -> Witnesses {
    let log_key = std::fs::read_to_string(dir.join("log.pub")).unwrap();
    let log = ledger::NoteVerifier::parse(log_key.trim()).unwrap();
    let mut running = Vec::new();
    let mut lines = vec![format!("log {}", log_key.trim())];
    for i in 1..=3u8 {
        let cosigner = Cosigner::new(
            &format!("witness.test/w{i}"),
            SigningKey::from_bytes(&[40 + i; 32]),
        )
        .unwrap();
        let vkey = cosigner.verifier().to_string();
        let url = if i < 3 {
            let w = cupass_witness::Witness::new(
                cosigner,
                vec![log.clone()],
                work.join(format!("w{i}")),
            )
            .unwrap();
            let s = cupass_witness::spawn(w, "127.0.0.1:0".parse().unwrap()).unwrap();
            let url = s.url();
            running.push(s);
            url
        } else {
            // Nothing listens on port 1: this witness is down.
            "http://127.0.0.1:1".to_string()
        };
        lines.push(format!("witness w{i} {vkey} {url}"));
    }
    lines.push("group two-of-three 2 w1 w2 w3".into());
    lines.push("quorum two-of-three".into());
    let text = lines.join("\n") + "\n";
    let policy_file = work.join("policy.txt");
    std::fs::write(&policy_file, &text).unwrap();
    Witnesses {
        running,
        policy_file,
        policy: Policy::parse(&text).unwrap(),
    }
}

fn config(w: &Witnesses) -> node::Config {
    node::Config {
        witness_policy: Some(w.policy_file.clone()),
        ..node::Config::default()
    }
}

fn checkpoint(url: &str) -> String {
    client::http::NodeClient::new(url)
        .unwrap()
        .checkpoint()
        .unwrap()
}

#[test]
fn receipts_checkpoints_and_bundles_carry_a_witness_quorum() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("demo");
    let j = cupass(&["--json", "demo", "--out", &s(&out), "--passports", "20"])
        .ok()
        .json();
    let cert = j["certificate"].as_str().unwrap();
    let dir = out.join("ledger");
    // A bundle made in local mode carries the log's signature only.
    let local = d.path().join("local.cupass");
    cupass(&["--dir", &s(&dir), "cert", "bundle", cert, "-o", &s(&local)]).ok();
    let w = witnesses(&dir, d.path());
    let node = TestNode::start_with(&dir, config(&w));
    // The checkpoint the node opened with is already cosigned by w1 and w2.
    let r = w.policy.check_quorum(&checkpoint(&node.url)).unwrap();
    assert!(r.quorum_met, "{r:?}");
    assert_eq!(r.cosigned_by(), ["w1", "w2"]);
    // A bundle from the node verifies with the policy, offline.
    let f = d.path().join("c.cupass");
    cupass(&["--node", &node.url, "cert", "bundle", cert, "-o", &s(&f)]).ok();
    let key = s(&dir.join("log.pub"));
    let policy = s(&w.policy_file);
    let o = cupass(&[
        "--json",
        "verify",
        &s(&f),
        "--log-key",
        &key,
        "--policy",
        &policy,
    ]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    let v = o.json();
    let witness_check = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["part"] == "witness")
        .unwrap_or_else(|| panic!("no witness check: {v}"));
    assert_eq!(witness_check["ok"], true, "{v}");
    // A new entry: its receipt's checkpoint carries the quorum.
    let o = cupass(&[
        "--node",
        &node.url,
        "--json",
        "cert",
        "revoke",
        "--key",
        &s(&out.join("keys/certifier.key")),
        cert,
        "--reason",
        "witnessed revocation",
    ])
    .ok()
    .json();
    let note = o["receipt"]["checkpoint"]
        .as_str()
        .or_else(|| o["checkpoint"].as_str())
        .unwrap_or_else(|| panic!("no checkpoint in {o}"));
    assert!(w.policy.check_quorum(note).unwrap().quorum_met, "{note}");
    // Against the node, with the policy: the node's current checkpoint has
    // its quorum, and the revocation since the export is found.
    let o = cupass(&[
        "--node",
        &node.url,
        "--json",
        "verify",
        &s(&f),
        "--log-key",
        &key,
        "--policy",
        &policy,
    ]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    let v = o.json();
    assert_eq!(
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["part"] == "witness" && c["ok"] == true)
            .count(),
        2,
        "{v}"
    );
    // The local-mode bundle has no cosignatures: no quorum.
    drop(node);
    let o = cupass(&[
        "--json",
        "verify",
        &s(&local),
        "--log-key",
        &key,
        "--policy",
        &policy,
    ]);
    assert_eq!(o.code, 1);
    let v = o.json();
    let failed = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ok"] == false)
        .unwrap();
    assert_eq!(failed["part"], "witness", "{v}");
    assert!(
        failed["detail"]
            .as_str()
            .unwrap()
            .contains("does not meet the policy's quorum"),
        "{v}"
    );
    drop(w.running);
}

#[test]
fn a_forked_log_cannot_collect_a_quorum() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    cupass(&["--dir", &s(&dir), "init", "--origin", "test.example/forked"]).ok();
    let fork = d.path().join("fork");
    std::fs::create_dir_all(&fork).unwrap();
    for f in ["log.key", "log.pub", "log.head", "operator.key"] {
        std::fs::copy(dir.join(f), fork.join(f)).unwrap();
    }
    copy_dir(&dir.join("store"), &fork.join("store"));
    let w = witnesses(&dir, d.path());
    // The honest log grows and the witnesses see it.
    let node = TestNode::start_with(&dir, config(&w));
    let k = d.path().join("a.key");
    cupass(&["key", "new", "--name", "honest", "-o", &s(&k)]).ok();
    let op = s(&dir.join("operator.key"));
    let mode = ["--node", node.url.as_str()];
    let mut args = mode.to_vec();
    args.extend([
        "actor",
        "register",
        "--key",
        &op,
        "--name",
        "Honest",
        "--country",
        "CN",
    ]);
    let kp = format!("{}.pub", s(&k));
    args.extend(["--key-file", &kp]);
    cupass(&args).ok();
    assert!(
        w.policy
            .check_quorum(&checkpoint(&node.url))
            .unwrap()
            .quorum_met
    );
    drop(node);
    // The same key signs a different history of the same length in the fork.
    let k2 = d.path().join("b.key");
    cupass(&["key", "new", "--name", "other", "-o", &s(&k2)]).ok();
    register_actor(
        &s(&fork),
        &s(&fork.join("operator.key")),
        "Other",
        &format!("{}.pub", s(&k2)),
        &[],
    );
    let forked = TestNode::start_with(&fork, config(&w));
    let r = w.policy.check_quorum(&checkpoint(&forked.url)).unwrap();
    assert!(!r.quorum_met, "a fork collected {:?}", r.cosigned_by());
    assert!(r.cosigned_by().is_empty(), "{:?}", r.cosigned_by());
}
