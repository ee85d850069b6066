//! Crash consistency: `kill -9` the real `cupass-node` process at random
//! moments (under load, during start-up, during shutdown), restart it, and
//! check that nothing acknowledged was lost.
//!
//! CI runs 5 trials; the full run is
//! `CUPASS_CRASH_TRIALS=50 cargo test -p cupass-tests --test it node_crash -- --nocapture`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use client::{DataDir, keyfile::Permissions};
use ledger::{Checkpoint, NoteVerifier};
use passport_schema::{
    Bytes32, Context, Event, GrantRole, MemoryState, PrimaryLot, RegisterActor, Role, apply,
    decode_canonical, kid_of, lot_view,
};

use crate::node_harness::now_ms;

struct Running {
    child: Child,
    url: String,
}

/// Spawns the real node on a free port, its stdout piped (the first line
/// says where it listens).
fn spawn_node(dir: &std::path::Path, rust_log: &str, stderr: Stdio) -> Child {
    Command::new(cupass_tests::workspace_bin("node", "cupass-node"))
        .arg("--dir")
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", rust_log)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap()
}

/// Asks the node to stop gracefully (SIGTERM), without waiting.
fn sigterm(child: &Child) {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
}

/// Starts the node; `None` if it was killed (or died) before listening.
fn start(dir: &std::path::Path, kill_after: Option<Duration>) -> Option<Running> {
    let mut child = spawn_node(dir, "warn", Stdio::null());
    if let Some(d) = kill_after {
        std::thread::sleep(d);
        child.kill().unwrap();
        child.wait().unwrap();
        return None;
    }
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    match line.trim().strip_prefix("listening on ") {
        Some(url) => Some(Running {
            child,
            url: url.to_string(),
        }),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    }
}

/// A tiny deterministic PRNG, so failures can be replayed from the seed.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

#[derive(Clone)]
struct Acked {
    index: u64,
    bytes: Vec<u8>,
    lot: uuid::Uuid,
}

async fn post(http: &reqwest::Client, url: &str, bytes: Vec<u8>) -> Option<serde_json::Value> {
    let r = http
        .post(format!("{url}/v1/entries"))
        .header("content-type", "application/cose")
        .body(bytes)
        .send()
        .await
        .ok()?;
    if r.status().as_u16() != 201 && r.status().as_u16() != 200 {
        return None;
    }
    r.json().await.ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_dash_nine_loses_nothing_acknowledged() {
    let trials: u64 = std::env::var("CUPASS_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    client::init(
        &dir,
        "crash.cupass.example/log",
        "Operator",
        "CN",
        &client::Options::default(),
    )
    .unwrap();
    let data = DataDir(dir.clone());
    let operator =
        client::keyfile::read_key_file(&data.operator_key(), Permissions::Strict).unwrap();
    let log_key =
        NoteVerifier::parse(std::fs::read_to_string(data.log_pub()).unwrap().trim()).unwrap();
    let refiner =
        ledger::NoteSigner::new("Refiner", ed25519_dalek::SigningKey::from_bytes(&[9; 32]))
            .unwrap();
    let http = reqwest::Client::new();
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut acked: Vec<Acked> = Vec::new();
    let mut checkpoints: BTreeMap<u64, String> = BTreeMap::new();

    // Register the refiner once (and make sure it is acknowledged).
    let first = start(&dir, None).unwrap();
    let public = Bytes32(*refiner.verifier().key().as_bytes());
    for ev in [
        Event::new(
            now_ms(),
            RegisterActor {
                name: "Refiner".into(),
                country: "CN".into(),
                public_key: public,
            },
        ),
        Event::new(
            now_ms(),
            GrantRole {
                actor: Bytes32(kid_of(&public.0)),
                role: Role::Refiner,
            },
        ),
    ] {
        post(
            &http,
            &first.url,
            client::sign_event(&operator, "crash.cupass.example/log", &ev).unwrap(),
        )
        .await
        .unwrap();
    }
    let mut running = Some(first);

    for trial in 0..trials {
        let started = Instant::now();
        let node = match running.take() {
            Some(n) => n,
            None => {
                // Some trials kill the node while it is still starting up.
                if trial % 4 == 2 {
                    let _ = start(&dir, Some(Duration::from_millis(rng.below(40))));
                }
                start(&dir, None).expect("node restarts after a crash")
            }
        };
        // Concurrent submissions; kill -9 at a random moment.
        let url = Arc::new(node.url.clone());
        let mut tasks = Vec::new();
        for _ in 0..200 {
            let lot = PrimaryLot::new(1_000_000, "CN", "Crash Test Cathode");
            let id = lot.id;
            let bytes = client::sign_event(
                &refiner,
                "crash.cupass.example/log",
                &Event::new(now_ms(), lot),
            )
            .unwrap();
            let (http, url) = (http.clone(), Arc::clone(&url));
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(u64::from(id.as_bytes()[15]) % 40)).await;
                post(&http, &url, bytes.clone())
                    .await
                    .map(|r| (r, bytes, id))
            }));
        }
        let mut node = node;
        let wait = Duration::from_millis(5 + rng.below(60));
        tokio::time::sleep(wait).await;
        if trial % 4 == 2 {
            // Kill during a graceful shutdown.
            sigterm(&node.child);
            tokio::time::sleep(Duration::from_millis(rng.below(10))).await;
        }
        node.child.kill().unwrap();
        node.child.wait().unwrap();
        for t in tasks {
            if let Some((receipt, bytes, lot)) = t.await.unwrap() {
                let index = receipt["index"].as_u64().unwrap();
                let cp = receipt["checkpoint"].as_str().unwrap().to_string();
                let size = Checkpoint::open(&cp, &log_key).unwrap().size;
                checkpoints.insert(size, cp);
                acked.push(Acked { index, bytes, lot });
            }
        }

        // Restart: the node's own full check must pass, or it refuses to start.
        let node = start(&dir, None).expect("node restarts after kill -9");
        let (note, size) = {
            let note = http
                .get(format!("{}/checkpoint", node.url))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let cp = Checkpoint::open(&note, &log_key).unwrap();
            (cp, note)
        };
        let _ = size;
        // Every acknowledged entry is at its index with identical bytes.
        for a in &acked {
            let got = http
                .get(format!("{}/v1/entries/{}", node.url, a.index))
                .send()
                .await
                .unwrap();
            assert_eq!(
                got.status().as_u16(),
                200,
                "trial {trial}: entry {} lost",
                a.index
            );
            assert_eq!(
                got.bytes().await.unwrap().to_vec(),
                a.bytes,
                "trial {trial}: entry {} changed",
                a.index
            );
        }
        // The current checkpoint is consistent with every checkpoint a client saw.
        for (old, cp) in &checkpoints {
            let seen = Checkpoint::open(cp, &log_key).unwrap();
            let proof: ledger::ConsistencyProof = http
                .get(format!(
                    "{}/v1/proofs/consistency?old={old}&new={}",
                    node.url, note.size
                ))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(
                proof.old_root, seen.root,
                "trial {trial}: history rewritten at {old}"
            );
            assert_eq!(proof.new_root, note.root);
            proof.verify().unwrap();
        }
        // The views equal a replay of the log.
        let mut state = MemoryState::new();
        for i in 0..note.size {
            let bytes = http
                .get(format!("{}/v1/entries/{i}", node.url))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let entry = ledger::Entry::from_bytes(&bytes).unwrap();
            let event = decode_canonical(entry.payload()).unwrap();
            let effects = apply(
                &state,
                &Context {
                    index: i,
                    signer: *entry.kid(),
                    leaf_hash: ledger::hash::leaf_hash(&bytes),
                },
                &event,
            )
            .unwrap();
            state.commit(effects);
        }
        for a in acked.iter().rev().take(20) {
            let served: serde_json::Value = http
                .get(format!("{}/v1/lots/{}", node.url, a.lot))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let replayed = serde_json::to_value(lot_view(&state, &a.lot).unwrap()).unwrap();
            assert_eq!(
                served, replayed,
                "trial {trial}: view of {} differs from replay",
                a.lot
            );
        }
        eprintln!(
            "crash trial {trial}: size {} after restart, {} acknowledged so far, {:.1?}",
            note.size,
            acked.len(),
            started.elapsed()
        );
        running = if trial % 2 == 0 {
            Some(node)
        } else {
            let mut n = node;
            n.child.kill().unwrap();
            n.child.wait().unwrap();
            None
        };
    }
    if let Some(mut n) = running {
        sigterm(&n.child);
        n.child.wait().unwrap();
    }
    assert!(!acked.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_key_never_appears_in_logs_or_responses() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    client::init(
        &dir,
        "secret.cupass.example/log",
        "Operator",
        "CN",
        &client::Options::default(),
    )
    .unwrap();
    let data = DataDir(dir.clone());
    let secret = std::fs::read_to_string(data.log_key()).unwrap();
    let secret = secret.trim();
    // The key string and its base64 seed part, either of which would leak the key.
    let seed_b64 = secret.rsplit('+').next().unwrap().to_string();
    let mut child = spawn_node(&dir, "debug", Stdio::piped());
    // Drain stderr on a thread: a full pipe would block the node's logging.
    let mut stderr = child.stderr.take().unwrap();
    let drain = std::thread::spawn(move || {
        let mut logs = String::new();
        std::io::Read::read_to_string(&mut stderr, &mut logs).unwrap();
        logs
    });
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let http = reqwest::Client::new();
    let operator =
        client::keyfile::read_key_file(&data.operator_key(), Permissions::Strict).unwrap();
    let mut bodies = Vec::new();
    let good = client::sign_event(
        &operator,
        "secret.cupass.example/log",
        &Event::new(
            now_ms(),
            RegisterActor {
                name: "A".into(),
                country: "CN".into(),
                public_key: Bytes32([7; 32]),
            },
        ),
    )
    .unwrap();
    for body in [good.clone(), good, b"garbage".to_vec()] {
        let r = http
            .post(format!("{url}/v1/entries"))
            .header("content-type", "application/cose")
            .body(body)
            .send()
            .await
            .unwrap();
        bodies.push(r.bytes().await.unwrap().to_vec());
    }
    for path in [
        "/checkpoint",
        "/healthz",
        "/metrics",
        "/v1/entries/0/json",
        "/v1/entries/0",
        "/v1/entries/1/json",
        "/v1/proofs/inclusion?index=0",
        "/v1/proofs/consistency?old=1",
        "/tile/0/000.p/2",
        "/tile/entries/000.p/2",
        "/v1/lots/x",
        "/nope",
    ] {
        bodies.push(
            http.get(format!("{url}{path}"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
                .to_vec(),
        );
    }
    drop(http);
    sigterm(&child);
    let mut logs = drain.join().unwrap();
    std::io::Read::read_to_string(&mut out, &mut logs).unwrap();
    assert!(child.wait().unwrap().success(), "graceful shutdown exits 0");
    assert!(
        logs.contains("/v1/entries"),
        "the request log is captured: {logs}"
    );
    for b in &bodies {
        let text = String::from_utf8_lossy(b);
        assert!(
            !text.contains(secret) && !text.contains(&seed_b64),
            "a response leaks the log key"
        );
    }
    assert!(
        !logs.contains(secret) && !logs.contains(&seed_b64),
        "the logs leak the log key"
    );
}
