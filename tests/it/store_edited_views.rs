//! The attack on the derived state, as someone with the disk mounts it:
//! stop the real `cupass-node`, edit a view record straight in its sled
//! store (un-revoke an actor, delete a record, fabricate one, change a
//! material's mass), start the node again. It must refuse to start, name
//! the record, and append nothing; the CLI's local mode must refuse the
//! same store. An unedited store must keep opening, also after a `kill -9`.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use client::{DataDir, http::NodeClient, keyfile::Permissions};
use ledger::NoteSigner;
use passport_schema::state::records::{ActorRecord, MaterialRecord};
use passport_schema::{
    Bytes32, Event, EventBody, GrantRole, PrimaryLot, RegisterActor, RevokeKey, Role, kid_of,
};
use uuid::Uuid;

use crate::cli_support::{cupass_process, s};

/// A running node and a client for it.
struct Node {
    child: Child,
    http: NodeClient,
}

/// Starts the real node on `dir`: the node, or (if it exits instead of
/// listening) its exit code and what it wrote to stderr.
fn start(dir: &Path) -> Result<Node, (Option<i32>, String)> {
    let mut child = Command::new(cupass_tests::workspace_bin("node", "cupass-node"))
        .arg("--dir")
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    match line.trim().strip_prefix("listening on ") {
        Some(url) => Ok(Node {
            http: NodeClient::new(url).unwrap(),
            child,
        }),
        None => {
            let status = child.wait().unwrap();
            let mut stderr = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            Err((status.code(), stderr))
        }
    }
}

impl Node {
    /// Graceful stop (SIGTERM); the node must exit 0.
    fn stop(mut self) {
        let st = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(st.success());
        assert!(
            self.child.wait().unwrap().success(),
            "graceful stop exits 0"
        );
    }

    /// `kill -9`.
    fn crash(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// A ledger directory, its operator, and a refiner with one lot.
struct Fixture {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    operator: NoteSigner,
    refiner: NoteSigner,
    lot: Uuid,
}

impl Fixture {
    fn kid(&self) -> [u8; 32] {
        kid_of(self.refiner.verifier().key().as_bytes())
    }

    fn store(&self) -> PathBuf {
        DataDir(self.dir.clone()).store()
    }

    fn sign(&self, by: &NoteSigner, body: impl Into<EventBody>) -> Vec<u8> {
        client::sign_event(
            by,
            "views.cupass.example/log",
            &Event::new(client::now_ms(), body),
        )
        .unwrap()
    }
}

/// A new ledger, filled through the running node: the refiner registered,
/// granted the refiner role, one primary lot of 1 t.
fn fixture(node_stays_up: bool) -> (Fixture, Option<Node>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    client::init(
        &dir,
        "views.cupass.example/log",
        "Operator",
        "CN",
        &client::Options::default(),
    )
    .unwrap();
    let operator =
        client::keyfile::read_key_file(&DataDir(dir.clone()).operator_key(), Permissions::Strict)
            .unwrap();
    let refiner =
        NoteSigner::new("Refiner", ed25519_dalek::SigningKey::from_bytes(&[41; 32])).unwrap();
    let lot = PrimaryLot::new(1_000_000, "CN", "Views Test Cathode");
    let f = Fixture {
        _tmp: tmp,
        dir,
        operator,
        refiner,
        lot: lot.id,
    };
    let node = start(&f.dir).unwrap();
    let public = Bytes32(*f.refiner.verifier().key().as_bytes());
    for e in [
        f.sign(
            &f.operator,
            RegisterActor {
                name: "Refiner".into(),
                country: "CN".into(),
                public_key: public,
            },
        ),
        f.sign(
            &f.operator,
            GrantRole {
                actor: Bytes32(f.kid()),
                role: Role::Refiner,
            },
        ),
        f.sign(&f.refiner, lot),
    ] {
        node.http.submit(&e).unwrap();
    }
    if node_stays_up {
        (f, Some(node))
    } else {
        node.stop();
        (f, None)
    }
}

/// Opens the closed sled store directly, as an attacker with the disk
/// would, runs `edit` on it and flushes.
fn edit_sled(store: &Path, edit: impl FnOnce(&sled::Db)) {
    // sled drops its lock from background threads; wait for it.
    let deadline = Instant::now() + Duration::from_secs(5);
    let db = loop {
        match sled::open(store) {
            Ok(db) => break db,
            Err(e) if Instant::now() < deadline => {
                assert!(e.to_string().contains("could not acquire lock"), "{e}");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    edit(&db);
    db.flush().unwrap();
}

/// The sled key of a state record: the store's aux space `a`, the state
/// prefix `s/`, the record's key.
fn sled_key(state_key: &[u8]) -> Vec<u8> {
    [&b"as/"[..], state_key].concat()
}

fn decode<T: serde::de::DeserializeOwned>(db: &sled::Db, key: &[u8]) -> T {
    let bytes = db.get(key).unwrap().expect("the view record exists");
    cbor4ii::serde::from_slice(&bytes).unwrap()
}

fn encode<T: serde::Serialize>(value: &T) -> Vec<u8> {
    cbor4ii::serde::to_vec(Vec::new(), value).unwrap()
}

/// The log's size and signed checkpoint as stored.
fn log_head(store: &Path) -> (Vec<u8>, Vec<u8>) {
    let mut head = (Vec::new(), Vec::new());
    edit_sled(store, |db| {
        head = (
            db.get(b"m:size").unwrap().unwrap().to_vec(),
            db.get(b"m:checkpoint").unwrap().unwrap().to_vec(),
        );
    });
    head
}

/// Starts the node on an edited store: it must exit non-zero, say
/// `expected`, and leave the log as it was. The CLI's local mode must
/// refuse the same store with the same words.
#[track_caller]
fn refused_at_start_up(f: &Fixture, expected: &str) {
    let before = log_head(&f.store());
    let (code, stderr) = match start(&f.dir) {
        Ok(node) => {
            node.crash();
            panic!("the node started on an edited store (expected {expected:?})");
        }
        Err(refusal) => refusal,
    };
    assert!(code.is_some_and(|c| c != 0), "exit code {code:?}: {stderr}");
    assert!(stderr.contains(expected), "{stderr}");
    assert!(
        stderr.contains("(edited or damaged store); refusing to open"),
        "{stderr}"
    );
    assert_eq!(log_head(&f.store()), before, "nothing is appended");
    let cli = cupass_process(&["--dir", &s(&f.dir), "lot", "show", &f.lot.to_string()]);
    assert_eq!(cli.code, 1, "{}\n{}", cli.stdout, cli.stderr);
    assert!(cli.stderr.contains(expected), "{}", cli.stderr);
    assert_eq!(log_head(&f.store()), before, "nothing is appended");
}

#[test]
fn an_un_revoked_actor_record_is_refused_at_start_up() {
    let (f, node) = fixture(true);
    let node = node.unwrap();
    let revoke = f.sign(
        &f.operator,
        RevokeKey {
            actor: Bytes32(f.kid()),
            reason: "key leaked".into(),
        },
    );
    node.http.submit(&revoke).unwrap();
    // The revoked key is refused while the views are intact.
    let lot = f.sign(
        &f.refiner,
        PrimaryLot::new(500_000, "CN", "After Revocation"),
    );
    let e = node.http.submit(&lot).unwrap_err();
    assert!(e.to_string().contains("revoked"), "{e}");
    node.stop();

    // The attack: rewrite the actor's record without its revocation, a
    // well-formed record the node would otherwise serve and trust.
    let key = sled_key(&passport_schema::state::keys::actor(&f.kid()));
    edit_sled(&f.store(), |db| {
        let mut actor: ActorRecord = decode(db, &key);
        assert!(actor.revoked.is_some());
        actor.revoked = None;
        db.insert(&key, encode(&actor)).unwrap();
    });
    refused_at_start_up(
        &f,
        &format!(
            "view record actor/{} differs from what the log's entries derive",
            hex::encode(f.kid())
        ),
    );
}

#[test]
fn a_deleted_view_record_is_refused_at_start_up() {
    let (f, _) = fixture(false);
    let key = sled_key(&passport_schema::state::keys::material(&f.lot));
    edit_sled(&f.store(), |db| {
        assert!(db.remove(&key).unwrap().is_some());
    });
    refused_at_start_up(
        &f,
        &format!(
            "view record material/{} is derived by the log's entries but missing from the store",
            f.lot
        ),
    );
}

#[test]
fn a_fabricated_view_record_is_refused_at_start_up() {
    let (f, _) = fixture(false);
    // A second lot nobody registered: a copy of the real one under a new id.
    let fake = Uuid::now_v7();
    let real = sled_key(&passport_schema::state::keys::material(&f.lot));
    edit_sled(&f.store(), |db| {
        let mut lot: MaterialRecord = decode(db, &real);
        lot.id = fake;
        db.insert(
            sled_key(&passport_schema::state::keys::material(&fake)),
            encode(&lot),
        )
        .unwrap();
    });
    refused_at_start_up(
        &f,
        &format!("view record material/{fake} is in the store but no entry of the log derives it"),
    );
}

#[test]
fn a_record_under_an_unknown_state_prefix_is_refused_at_start_up() {
    let (f, _) = fixture(false);
    edit_sled(&f.store(), |db| {
        db.insert(b"as/zz-planted/\x01\x02", b"x".to_vec()).unwrap();
    });
    refused_at_start_up(
        &f,
        "view record zz-planted/0102 is in the store but no entry of the log derives it",
    );
}

#[test]
fn a_changed_material_mass_is_refused_at_start_up() {
    let (f, _) = fixture(false);
    let key = sled_key(&passport_schema::state::keys::material(&f.lot));
    edit_sled(&f.store(), |db| {
        let mut lot: MaterialRecord = decode(db, &key);
        lot.mass_g += 250_000;
        lot.remaining_g += 250_000;
        db.insert(&key, encode(&lot)).unwrap();
    });
    refused_at_start_up(
        &f,
        &format!(
            "view record material/{} differs from what the log's entries derive",
            f.lot
        ),
    );
}

#[test]
fn an_unedited_store_opens_after_restarts_and_a_kill_dash_nine() {
    let (f, node) = fixture(false);
    assert!(node.is_none());
    // A graceful restart.
    let node = start(&f.dir).unwrap_or_else(|(c, e)| panic!("exit {c:?}: {e}"));
    let size = node.http.tree_size().unwrap();
    node.stop();
    // Submissions in flight when the node is killed.
    let node = start(&f.dir).unwrap_or_else(|(c, e)| panic!("exit {c:?}: {e}"));
    let lots: Vec<Vec<u8>> = (0..64)
        .map(|i| f.sign(&f.refiner, PrimaryLot::new(1_000 + i, "CN", "Crash Lot")))
        .collect();
    let url = node.http.base().to_string();
    let sender = std::thread::spawn(move || {
        let http = NodeClient::new(&url).unwrap();
        lots.iter().filter(|e| http.submit(e).is_ok()).count()
    });
    std::thread::sleep(Duration::from_millis(30));
    node.crash();
    let acked = sender.join().unwrap() as u64;
    // The node comes back, its views equal the replay of what was committed.
    let node = start(&f.dir).unwrap_or_else(|(c, e)| panic!("exit {c:?}: {e}"));
    let after = node.http.tree_size().unwrap();
    assert!(after >= size + acked, "{after} < {size} + {acked}");
    node.stop();
    let ledger = client::open(&f.dir, &client::Options::default(), Permissions::Strict).unwrap();
    assert_eq!(ledger.log().size().unwrap(), after);
    drop(ledger);
    let cli = cupass_process(&["--dir", &s(&f.dir), "lot", "show", &f.lot.to_string()]);
    assert_eq!(cli.code, 0, "{}\n{}", cli.stdout, cli.stderr);
}
