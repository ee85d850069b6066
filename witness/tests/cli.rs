//! The real `cupass-witness` binary: help, exit codes, keygen, serve,
//! a hard kill and a restart on the same state (the commands of
//! docs/WITNESS.md).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
};

use client::witnessing::{AddOutcome, add_checkpoint};
use ledger::{Entry, Log, MemoryStore, NoteSigner, cosignature::CosignatureVerifier, keys};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cupass-witness"))
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A child process killed (and reaped) when dropped, so that a failing
/// assertion leaves no server behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `cupass-witness serve` and returns it with its URL.
fn serve(key: &Path, log_vkey: &str, state: &Path) -> (Running, String) {
    let mut child = bin()
        .args(["serve", "--listen", "127.0.0.1:0", "--key"])
        .arg(key)
        .args(["--log", log_vkey, "--state"])
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(Ok(line)) = lines.next() {
        if let Some(addr) = line.strip_prefix("cupass-witness: listening on ") {
            return (Running(child), addr.to_string());
        }
    }
    let status = child.wait().unwrap();
    panic!("the witness exited before listening: {status}");
}

#[test]
fn help_teaches_and_usage_errors_exit_2() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for word in ["keygen", "serve", "Exit codes"] {
        assert!(out.contains(word), "{out}");
    }
    let (code, out, _) = run(&["serve", "--help"]);
    assert_eq!(code, 0);
    for flag in ["--listen", "--key", "--name", "--log", "--state"] {
        assert!(out.contains(flag), "{out}");
    }
    assert_eq!(run(&[]).0, 2);
    assert_eq!(run(&["serve", "--bogus"]).0, 2);
    assert_eq!(
        run(&["serve", "--key", "k", "--state", "s"]).0,
        2,
        "--log is required"
    );
    assert_eq!(run(&["keygen", "--out", "x"]).0, 2, "--name is required");
}

#[test]
fn keygen_serve_kill_and_restart_keep_state() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("w1.key");
    let key_s = key.to_str().unwrap();
    let state = dir.path().join("w1-state");

    // keygen prints the vkey; the file is secret and never overwritten.
    let (code, vkey, err) = run(&["keygen", "--name", "witness.example/w1", "--out", key_s]);
    assert_eq!(code, 0, "{err}");
    let verifier = CosignatureVerifier::parse(vkey.trim()).unwrap();
    assert_eq!(verifier.name(), "witness.example/w1");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let before = std::fs::read(&key).unwrap();
    let (code, _, err) = run(&["keygen", "--name", "witness.example/w1", "--out", key_s]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot create"), "{err}");
    assert_eq!(std::fs::read(&key).unwrap(), before);
    assert_eq!(run(&["vkey", "--key", key_s]).1, vkey);

    let log_key =
        NoteSigner::new("example.org/log", keys::generate_signing_key().unwrap()).unwrap();
    let log_vkey = log_key.verifier().to_string();
    let log = Log::create(MemoryStore::new(), log_key.clone()).unwrap();
    let author = keys::generate_signing_key().unwrap();
    for i in 0..3 {
        let e = Entry::sign(&author, "witness.test/log", format!("entry {i}").as_bytes())
            .unwrap()
            .to_bytes()
            .unwrap();
        log.append_batch(&[&e], Vec::new()).unwrap();
    }

    // Failures exit 1 with a message.
    let state_s = state.to_str().unwrap();
    let (code, _, err) = run(&[
        "serve", "--key", key_s, "--log", "nonsense", "--state", state_s,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("not a log vkey"), "{err}");
    let (code, _, err) = run(&[
        "serve", "--key", key_s, "--name", "other", "--log", &log_vkey, "--state", state_s,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("differs"), "{err}");
    let missing = dir.path().join("missing.key");
    let (code, _, err) = run(&[
        "serve",
        "--key",
        missing.to_str().unwrap(),
        "--log",
        &log_vkey,
        "--state",
        state_s,
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read the key file"), "{err}");

    let (child, url) = serve(&key, &log_vkey, &state);
    let note = log.checkpoint().unwrap();
    let AddOutcome::Cosigned(lines) = add_checkpoint(&url, 0, &[], &note).unwrap() else {
        panic!("no cosignature");
    };
    assert!(
        verifier
            .verify(&format!("{note}{}", lines.concat()))
            .is_ok()
    );
    // A hard kill (SIGKILL) right after the answer: the state was on disk already.
    drop(child);

    let (_child, url) = serve(&key, &log_vkey, &state);
    assert_eq!(
        add_checkpoint(&url, 0, &[], &note).unwrap(),
        AddOutcome::Conflict { known_size: 3 }
    );
    assert!(matches!(
        add_checkpoint(&url, 3, &[], &note).unwrap(),
        AddOutcome::Cosigned(_)
    ));
}

#[test]
fn the_commands_and_the_policy_in_docs_witness_md_work() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/WITNESS.md"))
            .unwrap();

    // The policy block parses, with its URLs and its 2-of-3 quorum.
    let block = doc
        .split("```policy\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .unwrap();
    let policy = ledger::policy::Policy::parse(block).unwrap();
    assert_eq!(policy.logs().len(), 1);
    assert_eq!(policy.witness_urls().len(), 3);
    assert_eq!(policy.group_names(), ["two-of-three"]);

    // Every `$ cupass-witness ...` line, in order, in a scratch directory.
    let dir = tempfile::tempdir().unwrap();
    let commands: Vec<Vec<&str>> = doc
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("$ cupass-witness"))
        .map(|rest| rest.split_whitespace().collect())
        .collect();
    assert_eq!(commands.len(), 5, "{commands:?}");
    for args in commands {
        if args.first() == Some(&"serve") && !args.contains(&"--help") {
            let mut child = Running(
                bin()
                    .args(&args)
                    .current_dir(dir.path())
                    .stdout(Stdio::piped())
                    .spawn()
                    .unwrap(),
            );
            let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
            let listening = lines
                .by_ref()
                .map_while(Result::ok)
                .any(|l| l.starts_with("cupass-witness: listening on http://127.0.0.1:"));
            drop(child);
            assert!(listening, "{args:?} did not start");
            assert!(dir.path().join("w1-state").is_dir());
        } else {
            let out = bin().args(&args).current_dir(dir.path()).output().unwrap();
            assert!(out.status.success(), "{args:?}: {out:?}");
        }
    }
    assert!(dir.path().join("w1.key").is_file());
}
