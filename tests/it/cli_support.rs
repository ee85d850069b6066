//! Helpers for the CLI tests: run `cupass` in-process or as a binary, start a node.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

/// Output of one CLI run.
#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

/// Runs `cupass ARGS` in-process (no terminal: no colour, no progress bar).
pub fn cupass(args: &[&str]) -> Out {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let code = {
        let mut term = cli::Term {
            out: &mut out,
            err: &mut err,
            out_tty: false,
            err_tty: false,
        };
        let mut all = vec!["cupass"];
        all.extend_from_slice(args);
        cli::run(all, &mut term)
    };
    Out {
        code,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

/// The `cupass` binary, built on first use.
pub fn cupass_bin() -> PathBuf {
    cupass_tests::workspace_bin("cli", "cupass")
}

/// Runs the binary.
pub fn cupass_process(args: &[&str]) -> Out {
    let o = std::process::Command::new(cupass_bin())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into(),
        stderr: String::from_utf8_lossy(&o.stderr).into(),
    }
}

pub fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A node serving the ledger in `dir` on 127.0.0.1:0, stopped on drop.
pub struct TestNode {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestNode {
    pub fn start(dir: &Path) -> TestNode {
        TestNode::start_with(dir, node::Config::default())
    }

    /// A node serving with `config`.
    pub fn start_with(dir: &Path, config: node::Config) -> TestNode {
        let ledger = client::open(
            dir,
            &client::Options::default(),
            client::keyfile::Permissions::Warn,
        )
        .unwrap();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(l.local_addr().unwrap()).unwrap();
                node::serve(Arc::new(ledger), config, l, async {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        TestNode {
            url: format!("http://{addr}"),
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

pub const BERRY_CSV: &str = "spot,Cu,Sn,Pb,Zn,Fe,Ni\n\
1,99.52,0.04,0.015,0.06,0.03,0.02\n\
2,99.48,0.05,0.012,0.07,0.03,0.02\n\
3,99.55,0.03,0.014,0.05,0.02,0.02\n\
4,99.50,0.04,0.016,0.06,0.03,0.02\n\
5,99.53,0.04,0.013,0.06,0.02,0.02\n";

pub const BIRCH_CSV: &str = "spot,Cu,Sn,Pb,Zn,Fe\n\
1,95.8,0.9,0.35,0.6,0.25\n\
2,95.7,0.95,0.33,0.62,0.24\n\
3,95.9,0.85,0.36,0.58,0.26\n\
4,95.75,0.9,0.34,0.6,0.25\n";

/// The shipped illustrative rule set's id.
pub fn isri_id() -> String {
    passport_schema::isri_illustrative_rule_set()
        .unwrap()
        .id
        .to_string()
}

/// Registers the actor whose public key file is `pubf` in the local ledger
/// `ds` (signed with the operator key `op`) and grants it `roles`.
pub fn register_actor(ds: &str, op: &str, name: &str, pubf: &str, roles: &[&str]) {
    cupass(&[
        "--dir",
        ds,
        "actor",
        "register",
        "--key",
        op,
        "--name",
        name,
        "--country",
        "CN",
        "--key-file",
        pubf,
    ])
    .ok();
    for role in roles {
        cupass(&[
            "--dir", ds, "actor", "grant", "--key", op, "--actor", pubf, "--role", role,
        ])
        .ok();
    }
}

/// Copies a directory tree (a data directory or a store), as an operator
/// restoring or forking one would.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}
