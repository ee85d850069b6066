//! C2SP tlog-proof export and verification: `cupass log proof INDEX
//! --tlog-proof` in local and node mode, `cupass log verify-proof`, and the
//! refusal of every tampered, truncated or foreign proof with its reason.

use std::path::Path;

use ed25519_dalek::SigningKey;
use ledger::cosignature::Cosigner;
use ledger::tlog_proof::TlogProof;
use ledger::{Checkpoint, Error, NoteVerifier};

use crate::cli_support::*;

/// The spec's example, byte for byte: its signatures are placeholders.
const SPEC_EXAMPLE: &str = "c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

\u{2014} example.com/fancylog hI2DJw[...]1roloI=
\u{2014} witness1.example mJirIklj[...]qY9v2B/5bg==
\u{2014} witness2.example TnKKVHLX[...]xwYwrSjgow==
\u{2014} witness3.example S4X82uH5[...]3oEcROGLFQ==
";

/// A local ledger at `dir` with `actors` registered actors (each one entry
/// plus a grant): returns its tree size.
fn ledger_with_entries(dir: &Path, origin: &str, actors: usize) -> u64 {
    let ds = s(dir);
    cupass(&["--dir", &ds, "init", "--origin", origin]).ok();
    let op = s(&dir.join("operator.key"));
    for i in 0..actors {
        let key = dir.join(format!("a{i}.key"));
        cupass(&[
            "key",
            "new",
            "--name",
            &format!("Actor_{i}"),
            "-o",
            &s(&key),
        ])
        .ok();
        let pubf = format!("{}.pub", s(&key));
        register_actor(&ds, &op, &format!("Actor {i}"), &pubf, &["recycler"]);
    }
    let j = cupass(&["--dir", &ds, "--json", "log", "checkpoint"])
        .ok()
        .json();
    j["tree_size"].as_u64().unwrap()
}

fn log_key(dir: &Path) -> NoteVerifier {
    NoteVerifier::parse(std::fs::read_to_string(dir.join("log.pub")).unwrap().trim()).unwrap()
}

/// Parses and verifies a proof's bytes as `verify-proof` does.
fn check(bytes: &[u8], key: &NoteVerifier) -> Result<Checkpoint, Error> {
    let text =
        std::str::from_utf8(bytes).map_err(|_| Error::MalformedTlogProof("not UTF-8".into()))?;
    TlogProof::parse(text)?.verify_self_contained(key, None)
}

/// `cupass log verify-proof`: exit code and the JSON `error` code.
fn verify_cli(file: &Path, key: &str, policy: Option<&Path>) -> (i32, String) {
    let f = s(file);
    let mut args = vec!["--json", "log", "verify-proof", &f, "--log-key", key];
    let p = policy.map(s);
    if let Some(p) = &p {
        args.extend(["--policy", p]);
    }
    let o = cupass(&args);
    let code = if o.code == 0 || o.code == 1 {
        o.json()["error"].as_str().unwrap_or("").to_string()
    } else {
        o.stdout.clone()
    };
    (o.code, code)
}

#[test]
fn the_spec_example_parses_and_writes_back_byte_for_byte() {
    let p = TlogProof::parse(SPEC_EXAMPLE).unwrap();
    assert_eq!(p.index, 73894);
    assert_eq!(p.hashes.len(), 5);
    assert_eq!(
        &p.extra.as_deref().unwrap()[..30],
        b"age-v1.2.1-darwin-arm64.tar.gz"
    );
    assert_eq!(
        Checkpoint::parse_body(
            "example.com/fancylog\n109482\nsFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=\n"
        )
        .unwrap()
        .size,
        109482
    );
    assert!(p.checkpoint.ends_with("3oEcROGLFQ==\n"));
    assert_eq!(p.checkpoint.lines().count(), 8);
    assert_eq!(p.to_text().unwrap(), SPEC_EXAMPLE);
    // Its signatures are placeholders: verification fails on the note,
    // never on the proof's own form.
    let key = NoteVerifier::new(
        "example.com/fancylog",
        SigningKey::from_bytes(&[7; 32]).verifying_key(),
    )
    .unwrap();
    assert!(matches!(
        p.verify_self_contained(&key, None),
        Err(Error::MalformedNote(_))
    ));
}

#[test]
fn exported_proofs_verify_and_carry_the_go_compatible_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    let size = ledger_with_entries(&dir, "test.example/x", 3);
    assert!(size >= 7, "{size}");
    let ds = s(&dir);
    let key = log_key(&dir);
    let key_file = s(&dir.join("log.pub"));
    let note = cupass(&["--dir", &ds, "--json", "log", "checkpoint"])
        .ok()
        .json()["checkpoint"]
        .as_str()
        .unwrap()
        .to_string();
    for index in 0..size {
        let f = d.path().join(format!("e{index}.tlog-proof"));
        let i = index.to_string();
        cupass(&[
            "--dir",
            &ds,
            "log",
            "proof",
            &i,
            "--tlog-proof",
            "-o",
            &s(&f),
        ])
        .ok();
        let text = std::fs::read_to_string(&f).unwrap();
        // Without -o the same bytes go to stdout.
        let o = cupass(&["--dir", &ds, "log", "proof", &i, "--tlog-proof"]).ok();
        assert_eq!(o.stdout, text);
        let p = TlogProof::parse(&text).unwrap();
        assert_eq!(p.index, index);
        assert_eq!(p.to_text().unwrap(), text);
        // The entry itself is the extra data, byte for byte.
        let entry = cupass(&["--dir", &ds, "--json", "log", "entry", &i])
            .ok()
            .json();
        let leaf = ledger::hash::leaf_hash(p.extra.as_deref().unwrap());
        let shown = cupass(&[
            "--dir",
            &ds,
            "--json",
            "log",
            "proof",
            "inclusion",
            "--index",
            &i,
        ])
        .ok()
        .json();
        assert_eq!(
            shown["leaf_hash"].as_str().unwrap(),
            base64_std(&leaf),
            "{entry}"
        );
        // The checkpoint is the log's, verbatim, and opens under the Go
        // sumdb/note rules `ledger::note` implements.
        assert_eq!(p.checkpoint, note);
        let cp = Checkpoint::open(&p.checkpoint, &key).unwrap();
        assert_eq!(cp.size, size);
        assert_eq!(p.verify_self_contained(&key, None).unwrap(), cp);
        let (code, err) = verify_cli(&f, &key_file, None);
        assert_eq!((code, err.as_str()), (0, ""), "entry {index}");
    }
    // The text report names the entry and the log.
    let f = s(&d.path().join("e1.tlog-proof"));
    let o = cupass(&[
        "--dir",
        &ds,
        "log",
        "verify-proof",
        &f,
        "--log-key",
        &key_file,
    ])
    .ok();
    assert!(
        o.stdout.contains("VALID: entry 1 is in log test.example/x"),
        "{}",
        o.stdout
    );
    // Beyond the tree: refused, nothing written.
    let past = size.to_string();
    let o = cupass(&["--dir", &ds, "log", "proof", &past, "--tlog-proof"]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    // Help text with examples.
    let h = cupass(&["log", "proof", "--help"]).ok();
    assert!(h.stdout.contains("--tlog-proof -o entry-42.tlog-proof"));
    let h = cupass(&["log", "verify-proof", "--help"]).ok();
    assert!(h.stdout.contains("--policy"));
}

fn base64_std(h: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(h)
}

#[test]
fn every_tampered_truncated_or_foreign_proof_is_refused_with_its_reason() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    let size = ledger_with_entries(&dir, "test.example/x", 2);
    let ds = s(&dir);
    let key = log_key(&dir);
    let key_file = s(&dir.join("log.pub"));
    let index = size / 2;
    let f = d.path().join("good.tlog-proof");
    cupass(&[
        "--dir",
        &ds,
        "log",
        "proof",
        &index.to_string(),
        "--tlog-proof",
        "-o",
        &s(&f),
    ])
    .ok();
    let good = std::fs::read(&f).unwrap();
    let text = String::from_utf8(good.clone()).unwrap();
    let proof = TlogProof::parse(&text).unwrap();
    assert!(proof.hashes.len() >= 2, "{text}");
    check(&good, &key).unwrap();
    let bad_file = d.path().join("bad.tlog-proof");
    let cli = |bytes: &[u8]| {
        std::fs::write(&bad_file, bytes).unwrap();
        verify_cli(&bad_file, &key_file, None)
    };

    // Every flipped byte: before the checkpoint the proof's form or its
    // inclusion fails; in the checkpoint the note or the log's signature.
    let checkpoint_at = text.find("\n\n").unwrap() + 2;
    for i in 0..good.len() {
        let mut b = good.clone();
        b[i] ^= 0x01;
        let e = check(&b, &key).expect_err(&format!("flipped byte {i} accepted"));
        let ok = if i < checkpoint_at {
            matches!(e, Error::MalformedTlogProof(_) | Error::BadProof(_))
        } else {
            matches!(
                e,
                Error::MalformedTlogProof(_) | Error::MalformedNote(_) | Error::NoteSignature(_)
            )
        };
        assert!(ok, "flipped byte {i}: {e:?}");
        // The CLI names the same reason (a sample: one run per line start).
        if i == 0 || good[i - 1] == b'\n' {
            let (code, reason) = cli(&b);
            assert_eq!(code, 1, "byte {i}");
            assert!(!reason.is_empty(), "byte {i}");
        }
    }

    // A dropped hash, an added one, a swapped pair.
    let hash_lines: Vec<String> = proof
        .hashes
        .iter()
        .map(|h| format!("{}\n", base64_std(h)))
        .collect();
    let dropped = text.replacen(&hash_lines[0], "", 1);
    assert!(
        matches!(check(dropped.as_bytes(), &key), Err(Error::BadProof(m)) if m.contains("needs"))
    );
    assert_eq!(cli(dropped.as_bytes()), (1, "bad_inclusion_proof".into()));
    let dropped_last = text.replacen(hash_lines.last().unwrap(), "", 1);
    assert_eq!(
        cli(dropped_last.as_bytes()),
        (1, "bad_inclusion_proof".into())
    );
    let added = text.replacen(&hash_lines[0], &hash_lines[0].repeat(2), 1);
    assert_eq!(cli(added.as_bytes()), (1, "bad_inclusion_proof".into()));
    let swapped = text.replacen(
        &format!("{}{}", hash_lines[0], hash_lines[1]),
        &format!("{}{}", hash_lines[1], hash_lines[0]),
        1,
    );
    assert_eq!(cli(swapped.as_bytes()), (1, "bad_inclusion_proof".into()));

    // Every other index, and one beyond the tree.
    for other in (0..size + 1).filter(|&i| i != index) {
        let moved = text.replacen(
            &format!("\nindex {index}\n"),
            &format!("\nindex {other}\n"),
            1,
        );
        assert!(
            matches!(check(moved.as_bytes(), &key), Err(Error::BadProof(_))),
            "index {other}"
        );
        assert_eq!(cli(moved.as_bytes()), (1, "bad_inclusion_proof".into()));
    }
    // Another entry of the same log in `extra`: not the one proved.
    let other_entry = TlogProof::parse(
        &cupass(&["--dir", &ds, "log", "proof", "0", "--tlog-proof"])
            .ok()
            .stdout,
    )
    .unwrap()
    .extra
    .unwrap();
    let mut swapped_entry = proof.clone();
    swapped_entry.extra = Some(other_entry);
    let t = swapped_entry.to_text().unwrap();
    assert!(matches!(check(t.as_bytes(), &key), Err(Error::BadProof(m)) if m.contains("index")));
    // No extra line: the proof does not carry its entry.
    let mut bare = proof.clone();
    bare.extra = None;
    assert_eq!(
        cli(bare.to_text().unwrap().as_bytes()),
        (1, "malformed_tlog_proof".into())
    );
    bare.verify(proof.extra.as_deref().unwrap(), &key, None)
        .unwrap();

    // Every truncation: malformed (the one signature line makes any cut
    // visible), and the CLI says so.
    for cut in 0..good.len() {
        let e = check(&good[..cut], &key).expect_err(&format!("cut at {cut} accepted"));
        assert!(
            matches!(e, Error::MalformedTlogProof(_)),
            "cut {cut}: {e:?}"
        );
    }
    assert_eq!(
        cli(&good[..good.len() - 1]),
        (1, "malformed_tlog_proof".into())
    );
    assert_eq!(cli(b""), (1, "malformed_tlog_proof".into()));
    let mut trailing = good.clone();
    trailing.extend_from_slice(b"\n");
    assert_eq!(cli(&trailing), (1, "malformed_tlog_proof".into()));
    assert_eq!(
        cli(&text.replace('\n', "\r\n").into_bytes()),
        (1, "malformed_tlog_proof".into())
    );

    // Other logs' keys: another origin, and the same origin under another key.
    for (name, origin) in [("other", "test.example/y"), ("twin", "test.example/x")] {
        let other = d.path().join(name);
        cupass(&["--dir", &s(&other), "init", "--origin", origin]).ok();
        let k = log_key(&other);
        assert!(
            matches!(check(&good, &k), Err(Error::NoteSignature(_))),
            "{origin}"
        );
        assert_eq!(
            verify_cli(&f, &s(&other.join("log.pub")), None),
            (1, "bad_log_signature".into())
        );
    }

    // Usage errors: exit 2.
    assert_eq!(verify_cli(&d.path().join("missing"), &key_file, None).0, 2);
    assert_eq!(verify_cli(&f, "garbage", None).0, 2);
    let bad_policy = d.path().join("bad.policy");
    std::fs::write(&bad_policy, "quorum nobody\n").unwrap();
    assert_eq!(verify_cli(&f, &key_file, Some(&bad_policy)).0, 2);

    // A policy the local checkpoint (no witnesses) cannot meet, and one it can.
    let witness = Cosigner::new("witness.test/w1", SigningKey::from_bytes(&[41; 32])).unwrap();
    let vkey = key.to_string();
    let policy = d.path().join("w.policy");
    std::fs::write(
        &policy,
        format!(
            "log {vkey}\nwitness w1 {} http://127.0.0.1:1\nquorum w1\n",
            witness.verifier()
        ),
    )
    .unwrap();
    assert_eq!(
        verify_cli(&f, &key_file, Some(&policy)),
        (1, "quorum_not_met".into())
    );
    let none = d.path().join("none.policy");
    std::fs::write(&none, format!("log {vkey}\nquorum none\n")).unwrap();
    assert_eq!(verify_cli(&f, &key_file, Some(&none)).0, 0);
}

#[test]
fn a_node_exports_the_same_proof_and_its_witness_cosignatures() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("ledger");
    let size = ledger_with_entries(&dir, "test.example/x", 1);
    let ds = s(&dir);
    let key_file = s(&dir.join("log.pub"));
    let index = (size - 1).to_string();
    let local = cupass(&["--dir", &ds, "log", "proof", &index, "--tlog-proof"])
        .ok()
        .stdout;
    {
        // Without witnesses the node's proof is the local one, byte for byte.
        let node = TestNode::start(&dir);
        let o = cupass(&["--node", &node.url, "log", "proof", &index, "--tlog-proof"]).ok();
        assert_eq!(o.stdout, local);
    }

    // With two witnesses (quorum two), the node's /checkpoint carries their
    // cosignatures, and so does the exported proof.
    let log_vkey = std::fs::read_to_string(dir.join("log.pub")).unwrap();
    let log = NoteVerifier::parse(log_vkey.trim()).unwrap();
    let mut running = Vec::new();
    let mut lines = vec![format!("log {}", log_vkey.trim())];
    for i in 1..=2u8 {
        let cosigner = Cosigner::new(
            &format!("witness.test/w{i}"),
            SigningKey::from_bytes(&[60 + i; 32]),
        )
        .unwrap();
        lines.push(format!("witness w{i} {} ", cosigner.verifier()));
        let w = cupass_witness::Witness::new(
            cosigner,
            vec![log.clone()],
            d.path().join(format!("w{i}")),
        )
        .unwrap();
        let sp = cupass_witness::spawn(w, "127.0.0.1:0".parse().unwrap()).unwrap();
        let last = lines.last_mut().unwrap();
        last.push_str(&sp.url());
        running.push(sp);
    }
    lines.push("group both 2 w1 w2".into());
    lines.push("quorum both".into());
    let policy = d.path().join("witnesses.policy");
    std::fs::write(&policy, lines.join("\n") + "\n").unwrap();
    let node = TestNode::start_with(
        &dir,
        node::Config {
            witness_policy: Some(policy.clone()),
            ..node::Config::default()
        },
    );
    let f = d.path().join("witnessed.tlog-proof");
    let o = cupass(&[
        "--node",
        &node.url,
        "--json",
        "log",
        "proof",
        &index,
        "--tlog-proof",
        "-o",
        &s(&f),
        "--log-key",
        &key_file,
    ])
    .ok();
    assert_eq!(o.json()["verified"], true);
    let text = std::fs::read_to_string(&f).unwrap();
    let p = TlogProof::parse(&text).unwrap();
    assert_eq!(
        p.checkpoint.matches("\u{2014} witness.test/w").count(),
        2,
        "{text}"
    );
    assert_eq!(
        p.checkpoint,
        client::http::NodeClient::new(&node.url)
            .unwrap()
            .checkpoint()
            .unwrap()
    );
    drop(node);
    drop(running);
    // Offline, with the policy: valid, quorum met.
    let o = cupass(&[
        "--json",
        "log",
        "verify-proof",
        &s(&f),
        "--log-key",
        &key_file,
        "--policy",
        &s(&policy),
    ])
    .ok();
    assert_eq!(o.json()["valid"], true);
    assert!(o.json()["witnesses"].as_str().unwrap().contains("w1, w2"));
    // Without one cosignature line the quorum is not met, and the local
    // (unwitnessed) proof never meets it.
    let w2 = text
        .lines()
        .find(|l| l.starts_with("\u{2014} witness.test/w2"))
        .unwrap();
    let short = text.replacen(&format!("{w2}\n"), "", 1);
    std::fs::write(&f, &short).unwrap();
    assert_eq!(
        verify_cli(&f, &key_file, Some(&policy)),
        (1, "quorum_not_met".into())
    );
    assert_eq!(verify_cli(&f, &key_file, None).0, 0);
    std::fs::write(&f, &local).unwrap();
    assert_eq!(
        verify_cli(&f, &key_file, Some(&policy)),
        (1, "quorum_not_met".into())
    );
}
