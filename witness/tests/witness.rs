//! The witness over HTTP: three witnesses (one down), quorum 2 of 3, and
//! logs that behave, fork, roll back or send garbage.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::{collections::BTreeMap, net::SocketAddr, path::Path, time::Duration};

use client::witnessing::{AddOutcome, Collected, add_checkpoint, collect_with_timeout};
use cupass_witness::{Spawned, Witness, spawn};
use ledger::{
    Checkpoint, Entry, Log, MemoryStore, NoteSigner,
    cosignature::{CosignatureVerifier, Cosigner},
    keys,
    policy::Policy,
};

const ORIGIN: &str = "example.org/log";

fn log_key() -> NoteSigner {
    NoteSigner::new(ORIGIN, ed25519_key(7)).unwrap()
}

fn ed25519_key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

/// A log of `n` entries whose payloads start with `tag` (different tags,
/// same key: a fork).
fn log_of(n: usize, tag: &str) -> Log<MemoryStore> {
    let log = Log::create(MemoryStore::new(), log_key()).unwrap();
    grow(&log, n, tag);
    log
}

fn grow(log: &Log<MemoryStore>, n: usize, tag: &str) {
    let author = keys::generate_signing_key().unwrap();
    let start = log.size().unwrap();
    let entries: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            Entry::sign(
                &author,
                "witness.test/log",
                format!("{tag} {}", start + i as u64).as_bytes(),
            )
            .unwrap()
            .to_bytes()
            .unwrap()
        })
        .collect();
    let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
    log.append_batch(&refs, Vec::new()).unwrap();
}

fn cosigner(i: u8) -> Cosigner {
    Cosigner::new(&format!("w{i}.example"), ed25519_key(100 + i)).unwrap()
}

fn start(i: u8, dir: &Path) -> Spawned {
    let w = Witness::new(cosigner(i), vec![log_key().verifier().clone()], dir).unwrap();
    spawn(w, "127.0.0.1:0".parse().unwrap()).unwrap()
}

/// A URL where nothing listens.
fn down_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

fn policy(urls: &[String; 3]) -> Policy {
    Policy::parse(&format!(
        "log {}\n\
         witness A {} {}\nwitness B {} {}\nwitness C {} {}\n\
         group two-of-three 2 A B C\nquorum two-of-three\n",
        log_key().verifier(),
        cosigner(1).verifier(),
        urls[0],
        cosigner(2).verifier(),
        urls[1],
        cosigner(3).verifier(),
        urls[2],
    ))
    .unwrap()
}

struct Net {
    _dirs: Vec<tempfile::TempDir>,
    servers: Vec<Spawned>,
    policy: Policy,
}

/// Witnesses A and B up, C down.
fn net() -> Net {
    let dirs: Vec<_> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let servers: Vec<_> = dirs
        .iter()
        .zip(1..)
        .map(|(d, i)| start(i, d.path()))
        .collect();
    let urls = [servers[0].url(), servers[1].url(), down_url()];
    Net {
        policy: policy(&urls),
        _dirs: dirs,
        servers,
    }
}

fn witness_log(
    policy: &Policy,
    sizes: &BTreeMap<String, u64>,
    log: &Log<MemoryStore>,
) -> Collected {
    collect_with_timeout(
        policy,
        sizes,
        &log.checkpoint().unwrap(),
        |old, new| log.consistency_proof(old, new).map(|p| p.hashes),
        Duration::from_secs(5),
    )
    .unwrap()
}

fn outcome(c: &Collected, name: &str) -> AddOutcome {
    c.witnesses
        .iter()
        .find(|w| w.name == name)
        .unwrap()
        .outcome
        .clone()
        .unwrap()
}

#[test]
fn a_consistent_log_collects_quorum_as_it_grows() {
    let net = net();
    let log = log_of(5, "good");
    let mut sizes = BTreeMap::new();
    for round in 0..3 {
        let c = witness_log(&net.policy, &sizes, &log);
        assert!(c.quorum.quorum_met, "round {round}: {c:#?}");
        assert_eq!(c.quorum.cosigned_by(), ["A", "B"]);
        assert!(matches!(outcome(&c, "C"), AddOutcome::Unreachable(_)));
        // The cosigned note verifies under the policy, log signature included.
        let report = net.policy.check_quorum(&c.note).unwrap();
        assert!(report.quorum_met);
        assert_eq!(report.checkpoint.size, log.size().unwrap());
        assert!(c.witnesses.iter().all(|w| !w.retried));
        sizes.extend(c.known_sizes());
        assert_eq!(sizes.get("A"), Some(&log.size().unwrap()));
        assert!(!sizes.contains_key("C"));
        grow(&log, 3 + round, "good");
    }
    // A log that forgot what the witnesses hold (old size 0) is told with a
    // 409 and retries from the witness's size.
    let c = witness_log(&net.policy, &BTreeMap::new(), &log);
    assert!(c.quorum.quorum_met, "{c:#?}");
    let a = c.witnesses.iter().find(|w| w.name == "A").unwrap();
    assert!(a.retried);
    drop(net.servers);
}

#[test]
fn a_forked_log_cannot_collect_quorum_after_the_witnesses_saw_the_first_tree() {
    let net = net();
    let honest = log_of(4, "honest");
    let c = witness_log(&net.policy, &BTreeMap::new(), &honest);
    assert!(c.quorum.quorum_met);
    let sizes = c.known_sizes();

    // Same key, same size, other entries.
    let fork = log_of(4, "evil");
    assert_ne!(fork.root().unwrap(), honest.root().unwrap());
    let c = witness_log(&net.policy, &sizes, &fork);
    assert!(!c.quorum.quorum_met, "{c:#?}");
    assert!(c.quorum.cosigned.is_empty());
    assert_eq!(outcome(&c, "A"), AddOutcome::Conflict { known_size: 4 });

    // Growing the fork does not help: its proof does not reach the honest root.
    grow(&fork, 3, "evil");
    let c = witness_log(&net.policy, &sizes, &fork);
    assert!(!c.quorum.quorum_met);
    assert!(matches!(
        outcome(&c, "A"),
        AddOutcome::Refused { status: 422, .. }
    ));

    // Nor does claiming the witnesses never saw it: 409 from 4, then 422.
    let c = witness_log(&net.policy, &BTreeMap::new(), &fork);
    assert!(!c.quorum.quorum_met);
    assert!(matches!(
        outcome(&c, "B"),
        AddOutcome::Refused { status: 422, .. }
    ));

    // The honest log still collects.
    grow(&honest, 2, "honest");
    assert!(witness_log(&net.policy, &sizes, &honest).quorum.quorum_met);
}

#[test]
fn a_rolled_back_log_gets_409_and_no_quorum() {
    let net = net();
    let log = log_of(6, "good");
    let sizes = witness_log(&net.policy, &BTreeMap::new(), &log).known_sizes();
    assert_eq!(sizes.get("B"), Some(&6));

    // The same history, cut short at 4.
    let shorter = Log::create(MemoryStore::new(), log_key()).unwrap();
    for i in 0..4 {
        shorter
            .append_batch(&[&log.entry(i).unwrap()], Vec::new())
            .unwrap();
    }
    // A log that lost its state asks from 0: 409 with 6, and no retry
    // (6 is above its checkpoint).
    let c = witness_log(&net.policy, &BTreeMap::new(), &shorter);
    assert!(!c.quorum.quorum_met);
    assert!(c.quorum.cosigned.is_empty());
    assert_eq!(outcome(&c, "A"), AddOutcome::Conflict { known_size: 6 });
    assert_eq!(outcome(&c, "B"), AddOutcome::Conflict { known_size: 6 });
    assert!(
        !c.witnesses[0].retried,
        "no retry from a size above the checkpoint"
    );

    // Sent with the witnesses' own size 6, above the checkpoint: the spec's 400.
    let c = witness_log(&net.policy, &sizes, &shorter);
    assert!(!c.quorum.quorum_met);
    assert!(matches!(
        outcome(&c, "A"),
        AddOutcome::Refused { status: 400, .. }
    ));

    // Sent with old size 4 (what the short log claims), still 409 with 6.
    let note = shorter.checkpoint().unwrap();
    let proof = shorter.consistency_proof(4, 4).unwrap().hashes;
    let got = add_checkpoint(&net.servers[0].url(), 4, &proof, &note).unwrap();
    assert_eq!(got, AddOutcome::Conflict { known_size: 6 });
}

#[test]
fn a_restarted_witness_keeps_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let log = log_of(3, "good");
    let note = log.checkpoint().unwrap();
    let w = start(1, dir.path());
    assert!(matches!(
        add_checkpoint(&w.url(), 0, &[], &note).unwrap(),
        AddOutcome::Cosigned(_)
    ));
    w.stop();

    let w = start(1, dir.path());
    // It remembers size 3: old size 0 is a conflict now.
    assert_eq!(
        add_checkpoint(&w.url(), 0, &[], &note).unwrap(),
        AddOutcome::Conflict { known_size: 3 }
    );
    // And it still extends from there.
    grow(&log, 2, "good");
    let proof = log.consistency_proof(3, 5).unwrap().hashes;
    let AddOutcome::Cosigned(lines) =
        add_checkpoint(&w.url(), 3, &proof, &log.checkpoint().unwrap()).unwrap()
    else {
        panic!("no cosignature");
    };
    let cosigned = format!("{}{}", log.checkpoint().unwrap(), lines.concat());
    assert!(cosigner(1).verifier().verify(&cosigned).is_ok());
    let stored = Witness::new(cosigner(1), vec![log_key().verifier().clone()], dir.path())
        .unwrap()
        .latest(ORIGIN)
        .unwrap()
        .unwrap();
    assert_eq!(stored.size, 5);
    assert_eq!(stored.note, log.checkpoint().unwrap());
}

#[test]
fn the_same_checkpoint_is_cosigned_again_and_each_line_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let w = start(2, dir.path());
    let log = log_of(2, "good");
    let note = log.checkpoint().unwrap();
    let first = add_checkpoint(&w.url(), 0, &[], &note).unwrap();
    let again = add_checkpoint(&w.url(), 2, &[], &note).unwrap();
    let verifier: CosignatureVerifier = cosigner(2).verifier().clone();
    for got in [first, again] {
        let AddOutcome::Cosigned(lines) = got else {
            panic!("{got:?}");
        };
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with("\u{2014} w2.example ") && lines[0].ends_with('\n'));
        let ts = verifier.verify(&format!("{note}{}", lines[0])).unwrap();
        assert!(ts > 1_700_000_000);
    }
    // Same size, non-empty proof: 422.
    let bogus = [[0u8; 32]];
    assert!(matches!(
        add_checkpoint(&w.url(), 2, &bogus, &note).unwrap(),
        AddOutcome::Refused { status: 422, .. }
    ));
}

#[test]
fn a_bad_consistency_proof_gets_422() {
    let dir = tempfile::tempdir().unwrap();
    let w = start(1, dir.path());
    let log = log_of(5, "good");
    add_checkpoint(&w.url(), 0, &[], &log.checkpoint().unwrap()).unwrap();
    grow(&log, 6, "good");
    let note = log.checkpoint().unwrap();
    let mut proof = log.consistency_proof(5, 11).unwrap().hashes;
    proof[0][0] ^= 1;
    assert!(matches!(
        add_checkpoint(&w.url(), 5, &proof, &note).unwrap(),
        AddOutcome::Refused { status: 422, .. }
    ));
    // A truncated proof too.
    let proof = log.consistency_proof(5, 11).unwrap().hashes;
    assert!(matches!(
        add_checkpoint(&w.url(), 5, &proof[1..], &note).unwrap(),
        AddOutcome::Refused { status: 422, .. }
    ));
    // An empty proof between different sizes too.
    assert!(matches!(
        add_checkpoint(&w.url(), 5, &[], &note).unwrap(),
        AddOutcome::Refused { status: 422, .. }
    ));
    // Nothing of that moved the witness: the real proof works.
    assert!(matches!(
        add_checkpoint(&w.url(), 5, &proof, &note).unwrap(),
        AddOutcome::Cosigned(_)
    ));
}

#[test]
fn unknown_logs_are_404_and_untrusted_signatures_403() {
    let dir = tempfile::tempdir().unwrap();
    let w = start(1, dir.path());
    let cp = Checkpoint::parse_note_unverified(&log_of(1, "x").checkpoint().unwrap()).unwrap();
    // Known origin, another key: 403.
    let impostor = NoteSigner::new(ORIGIN, ed25519_key(8)).unwrap();
    assert!(matches!(
        add_checkpoint(&w.url(), 0, &[], &cp.sign(&impostor).unwrap()).unwrap(),
        AddOutcome::Refused { status: 403, .. }
    ));
    // A tampered note under the right key: 403.
    let tampered = cp.sign(&log_key()).unwrap().replacen("\n1\n", "\n2\n", 1);
    assert!(matches!(
        add_checkpoint(&w.url(), 0, &[], &tampered).unwrap(),
        AddOutcome::Refused { status: 403, .. }
    ));
    // Another origin: 404.
    let other = NoteSigner::new("example.org/other", ed25519_key(7)).unwrap();
    let other_cp = Checkpoint {
        origin: "example.org/other".into(),
        ..cp.clone()
    };
    assert!(matches!(
        add_checkpoint(&w.url(), 0, &[], &other_cp.sign(&other).unwrap()).unwrap(),
        AddOutcome::Refused { status: 404, .. }
    ));
    // Nothing was stored by any of that.
    assert!(!w_state_exists(dir.path()));
}

fn w_state_exists(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_some()
}

fn post_raw(url: &str, body: &[u8]) -> (u16, String, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut resp = agent
        .post(format!("{url}/add-checkpoint"))
        .send(body)
        .unwrap();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        resp.status().as_u16(),
        ct,
        resp.body_mut().read_to_string().unwrap(),
    )
}

#[test]
fn garbage_is_400_and_409_bodies_are_text_x_tlog_size() {
    let dir = tempfile::tempdir().unwrap();
    let w = start(1, dir.path());
    let log = log_of(3, "good");
    let note = log.checkpoint().unwrap();
    for body in [
        b"".to_vec(),
        b"hello\n".to_vec(),
        b"old x\n\n".to_vec(),
        format!("old 01\n\n{note}").into_bytes(),
        format!("old 0\nnot base64\n\n{note}").into_bytes(),
        format!("old 0\n{note}").into_bytes(),
        b"old 0\n\nno checkpoint here\n".to_vec(),
        vec![0xff; 100],
        // Old size above the checkpoint's size.
        format!("old 4\n\n{note}").into_bytes(),
    ] {
        let (status, _, msg) = post_raw(&w.url(), &body);
        assert_eq!(status, 400, "{body:?}: {msg}");
    }
    // Larger than the 256 KiB limit.
    let (status, _, _) = post_raw(&w.url(), &vec![b'x'; 300 * 1024]);
    assert_eq!(status, 413);
    let (status, _, _) = post_raw(&w.url(), format!("old 0\n\n{note}").as_bytes());
    assert_eq!(status, 200);
    // The spec's 409: `text/x.tlog.size`, the size and a newline.
    let (status, ct, body) = post_raw(&w.url(), format!("old 1\n\n{note}").as_bytes());
    assert_eq!(
        (status, ct.as_str(), body.as_str()),
        (409, "text/x.tlog.size", "3\n")
    );
}

#[test]
fn concurrent_submissions_never_move_the_witness_backwards() {
    let dir = tempfile::tempdir().unwrap();
    let w = start(1, dir.path());
    let log = log_of(1, "good");
    add_checkpoint(&w.url(), 0, &[], &log.checkpoint().unwrap()).unwrap();
    // Many notes of growing sizes, all sent from size 1 at once: at most one
    // is cosigned from 1; afterwards the stored size only grew.
    let mut notes = Vec::new();
    for _ in 0..6 {
        grow(&log, 1, "good");
        let size = log.size().unwrap();
        notes.push((
            size,
            log.checkpoint().unwrap(),
            log.consistency_proof(1, size).unwrap().hashes,
        ));
    }
    let url = w.url();
    let outcomes: Vec<(u64, AddOutcome)> = std::thread::scope(|s| {
        let hs: Vec<_> = notes
            .iter()
            .map(|(size, note, proof)| {
                let url = url.clone();
                s.spawn(move || (*size, add_checkpoint(&url, 1, proof, note).unwrap()))
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won: Vec<u64> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, AddOutcome::Cosigned(_)))
        .map(|(s, _)| *s)
        .collect();
    assert_eq!(won.len(), 1, "{outcomes:?}");
    for (_, o) in &outcomes {
        if let AddOutcome::Conflict { known_size } = o {
            assert_eq!(*known_size, won[0]);
        }
    }
    let stored = Witness::new(cosigner(1), vec![log_key().verifier().clone()], dir.path())
        .unwrap()
        .latest(ORIGIN)
        .unwrap()
        .unwrap();
    assert_eq!(stored.size, won[0]);
}
