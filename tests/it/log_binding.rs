//! Every entry is bound to one log: the attacks that move an entry, a whole
//! log's entries or a contract acceptance from one log to another fail with
//! the typed reason, and the header that carries the binding has exactly
//! one encoding.

use base64::{Engine, engine::general_purpose::STANDARD};
use client::bundle::{BUNDLE_FORMAT, BundleEntry, EvidenceBundle};
use client::keyfile::Permissions;
use client::{DataDir, PassportLedger};
use ed25519_dalek::{Signer, SigningKey};
use ledger::cose::{CONTENT_TYPE, Entry, LOG_LABEL};
use ledger::{Error, SledStore, hash::leaf_hash, keys::kid};
use passport_schema::*;
use reqwest::StatusCode;
use serde_bytes::ByteBuf;
use uuid::Uuid;

use crate::cli_support::{cupass, s};
use crate::node_harness::{Org, TestNode, now_ms};
use cupass_tests::{assert_err, test_key};

const LOG_A: &str = "a.cupass.example/log";
const LOG_B: &str = "b.cupass.example/log";

fn lot() -> PrimaryLot {
    PrimaryLot::new(1_000_000, "CN", "Cathode Supplier")
        .with_composition(Composition::new().with("Cu", 999_950))
}

async fn two_nodes() -> (TestNode, TestNode) {
    let a = TestNode::start_log(LOG_A, node::Config::default()).await;
    let b = TestNode::start_log(LOG_B, node::Config::default()).await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_from_another_log_is_refused() {
    let (a, b) = two_nodes().await;
    // The same refiner key is registered, with the same role, on both logs.
    let ra = a.register(2, "Refinery", &[Role::Refiner]).await;
    let rb = b.register(2, "Refinery", &[Role::Refiner]).await;
    assert_eq!(ra.kid, rb.kid);

    let bytes = a.sign(&ra, lot());
    let (status, _) = a.post(bytes.clone(), "application/cose").await;
    assert_eq!(status, StatusCode::CREATED);

    // The attacker posts the accepted entry's raw bytes to log B.
    let before = b.tree_size().await;
    let (status, body) = b.post(bytes, "application/cose").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "wrong_log", "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains(LOG_A) && message.contains(LOG_B),
        "{message}"
    );
    assert_eq!(b.tree_size().await, before, "log B grew");

    // The same event signed for log B is accepted there.
    let (status, body) = b.submit(&rb, lot()).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contract_acceptance_naming_another_proposal_is_refused() {
    let (a, b) = two_nodes().await;
    let spec = MaterialSpec {
        description: "refined copper".into(),
        kinds: vec![MaterialKind::Refined],
        min_cu_ppm: 999_500,
    };
    let contract = ContractBuilder::new(
        Org::new(3, "Cable Works").kid,
        spec,
        now_ms(),
        now_ms() + 86_400_000,
        "CNY",
    )
    .build();
    let mut proposals = Vec::new();
    for n in [&a, &b] {
        let r = n.register(2, "Refinery", &[Role::Refiner]).await;
        n.register(3, "Cable Works", &[Role::Manufacturer]).await;
        // The same proposal, with the same contract id, on both logs.
        let p = n.sign(&r, contract.clone());
        assert_eq!(
            n.post(p.clone(), "application/cose").await.0,
            StatusCode::CREATED
        );
        proposals.push(Bytes32(leaf_hash(&p)));
    }
    let (on_a, on_b) = (proposals[0], proposals[1]);
    assert_ne!(on_a, on_b, "one proposal entry on two logs");
    let m = Org::new(3, "Cable Works");

    // The customer accepted log A's proposal; the acceptance's payload is
    // replayed to log B, where the same contract id names another entry.
    let (status, body) = a
        .submit(&m, ContractAcceptance::new(contract.id, on_a))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let before = b.tree_size().await;
    for wrong in [on_a, Bytes32([0x5a; 32])] {
        let (status, body) = b
            .submit(&m, ContractAcceptance::new(contract.id, wrong))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"], "contract_proposal_mismatch", "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(&wrong.to_hex()) && message.contains(&on_b.to_hex()),
            "{message}"
        );
    }
    assert_eq!(b.tree_size().await, before);

    // The contract view names the proposal's leaf hash, and the acceptance
    // that commits to it passes.
    let (_, view) = b
        .get_json(&format!("/v1/contracts/{}/audit", contract.id))
        .await;
    assert_eq!(view["proposal_leaf_hash"], on_b.to_hex(), "{view}");
    let (status, body) = b
        .submit(&m, ContractAcceptance::new(contract.id, on_b))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Two local ledgers with the same refiner key registered on both.
struct TwoLedgers {
    _tmp: tempfile::TempDir,
    a: std::path::PathBuf,
    b: std::path::PathBuf,
    refiner: ledger::NoteSigner,
}

fn register_refiner(dir: &std::path::Path, origin: &str, refiner: &ledger::NoteSigner) {
    let l = client::open(dir, &client::Options::default(), Permissions::Strict).unwrap();
    let op = client::keyfile::read_key_file(
        &DataDir(dir.to_path_buf()).operator_key(),
        Permissions::Strict,
    )
    .unwrap();
    let public = Bytes32(*refiner.verifier().key().as_bytes());
    for body in [
        EventBody::RegisterActor(RegisterActor {
            name: "Refinery".into(),
            country: "CN".into(),
            public_key: public,
        }),
        EventBody::GrantRole(GrantRole {
            actor: Bytes32(kid_of(&public.0)),
            role: Role::Refiner,
        }),
    ] {
        let bytes = client::sign_event(&op, origin, &Event::new(now_ms(), body)).unwrap();
        l.submit(&bytes).unwrap();
    }
}

fn two_ledgers() -> TwoLedgers {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let refiner = ledger::NoteSigner::new("Refinery", test_key(42)).unwrap();
    for (dir, origin) in [(&a, LOG_A), (&b, LOG_B)] {
        client::init(dir, origin, "Operator", "CN", &client::Options::default()).unwrap();
        register_refiner(dir, origin, &refiner);
    }
    TwoLedgers {
        _tmp: tmp,
        a,
        b,
        refiner,
    }
}

fn open(dir: &std::path::Path) -> PassportLedger<SledStore> {
    client::open(dir, &client::Options::default(), Permissions::Strict).unwrap()
}

#[test]
fn an_entry_from_another_local_ledger_is_refused_and_a_log_holding_one_fails_verification() {
    let t = two_ledgers();
    let bytes = {
        let a = open(&t.a);
        let bytes = client::sign_event(&t.refiner, LOG_A, &Event::new(now_ms(), lot())).unwrap();
        a.submit(&bytes).unwrap();
        bytes
    };
    let index = {
        let b = open(&t.b);
        let size = b.log().size().unwrap();
        // Local-mode ingest refuses it like the node does.
        let e = b.submit(&bytes).unwrap_err();
        assert_eq!(e.code(), "wrong_log", "{e}");
        assert!(
            matches!(&e, client::Error::WrongLog { entry_log, this_log }
            if entry_log == LOG_A && this_log == LOG_B),
            "{e}"
        );
        assert_eq!(b.log().size().unwrap(), size);
        // Log B's operator appends it anyway, past the rules, and signs a
        // checkpoint over it.
        b.log().append_batch(&[&bytes], Vec::new()).unwrap();
        // An evidence bundle of log B's entries, every proof good against
        // B's signed checkpoint (made now: B's store no longer opens, its
        // entries do not replay).
        let bundle = {
            let log = b.log();
            let checkpoint = log.checkpoint().unwrap();
            let size = log.size().unwrap();
            let entries = (0..size)
                .map(|i| BundleEntry {
                    index: i,
                    entry: ByteBuf::from(log.entry(i).unwrap()),
                    proof: log
                        .inclusion_proof(i, size)
                        .unwrap()
                        .hashes
                        .iter()
                        .map(|h| ByteBuf::from(h.to_vec()))
                        .collect(),
                })
                .collect();
            EvidenceBundle {
                format: BUNDLE_FORMAT.into(),
                log_key: log.verifier().to_string(),
                checkpoint,
                subject: Uuid::now_v7(),
                entries,
                statuses: Vec::new(),
            }
        };
        (size, bundle)
    };
    let (index, bundle) = index;
    // The node refuses to open such a store at all.
    let e = client::open(&t.b, &client::Options::default(), Permissions::Strict)
        .err()
        .unwrap();
    assert!(
        e.to_string().contains("not this log") || e.to_string().contains("view record"),
        "{e}"
    );

    // `cupass log verify` replays log B and names the entry and the reason.
    let o = cupass(&["--dir", &s(&t.b), "--json", "log", "verify"]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    let v = o.json();
    assert_eq!(v["valid"], false);
    assert_eq!(v["first_failing_entry"], index, "{v:#}");
    let failed = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ok"] == false)
        .unwrap()
        .clone();
    assert_eq!(failed["step"], "entry", "{failed}");
    let detail = failed["detail"].as_str().unwrap();
    assert!(
        detail.contains(LOG_A) && detail.contains(LOG_B) && detail.contains("not this log"),
        "{detail}"
    );

    // `cupass verify` refuses the bundle for the same reason.
    let f = t.b.join("foreign.cupass");
    std::fs::write(&f, bundle.to_cbor().unwrap()).unwrap();
    let key = s(&DataDir(t.b.clone()).log_pub());
    let o = cupass(&["--json", "verify", &s(&f), "--log-key", &key]);
    assert_eq!(o.code, 1, "{}", o.stdout);
    let v = o.json();
    assert_eq!(v["valid"], false);
    assert_eq!(v["first_failing_entry"], index, "{v:#}");
    let text = v.to_string();
    assert!(
        text.contains(LOG_A) && text.contains("not this log"),
        "{text}"
    );
    let human = cupass(&["verify", &s(&f), "--log-key", &key]);
    assert!(
        human.stdout.contains("signed for the log"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_local_contract_accept_commits_to_the_proposal_entry() {
    let t = two_ledgers();
    let customer = ledger::NoteSigner::new("Cable_Works", test_key(43)).unwrap();
    let a = open(&t.a);
    let op =
        client::keyfile::read_key_file(&DataDir(t.a.clone()).operator_key(), Permissions::Strict)
            .unwrap();
    let public = Bytes32(*customer.verifier().key().as_bytes());
    let sign = |k: &ledger::NoteSigner, body: EventBody| {
        client::sign_event(k, LOG_A, &Event::new(now_ms(), body)).unwrap()
    };
    a.submit(&sign(
        &op,
        EventBody::RegisterActor(RegisterActor {
            name: "Cable Works".into(),
            country: "CN".into(),
            public_key: public,
        }),
    ))
    .unwrap();
    a.submit(&sign(
        &op,
        EventBody::GrantRole(GrantRole {
            actor: Bytes32(kid_of(&public.0)),
            role: Role::Manufacturer,
        }),
    ))
    .unwrap();
    let spec = MaterialSpec {
        description: "refined copper".into(),
        kinds: vec![MaterialKind::Refined],
        min_cu_ppm: 999_500,
    };
    let contract = ContractBuilder::new(
        kid_of(&public.0),
        spec,
        now_ms(),
        now_ms() + 86_400_000,
        "CNY",
    )
    .build();
    let proposal = sign(&t.refiner, EventBody::ProposeContract(contract.clone()));
    let receipt = a.submit(&proposal).unwrap();
    assert_eq!(
        receipt.leaf_hash,
        STANDARD.encode(leaf_hash(&proposal)),
        "the receipt's leaf hash is the acceptance's commitment"
    );
    let e = a
        .submit(&sign(
            &customer,
            EventBody::AcceptContract(ContractAcceptance::new(contract.id, [1; 32])),
        ))
        .unwrap_err();
    assert_eq!(e.code(), "contract_proposal_mismatch", "{e}");
    a.submit(&sign(
        &customer,
        EventBody::AcceptContract(ContractAcceptance::new(contract.id, leaf_hash(&proposal))),
    ))
    .unwrap();
    let audit = a.contract_audit(&contract.id).unwrap();
    assert_eq!(audit.proposal_leaf_hash, Bytes32(leaf_hash(&proposal)));
    assert!(audit.accepted_index.is_some());
}

// ---- the header has one encoding ----

fn text_head(len: usize) -> Vec<u8> {
    cbor_head(3, len)
}

fn cbor_head(major: u8, len: usize) -> Vec<u8> {
    let m = major << 5;
    match len {
        0..=23 => vec![m | len as u8],
        24..=255 => vec![m | 24, len as u8],
        _ => {
            let l = u16::try_from(len).unwrap().to_be_bytes();
            vec![m | 25, l[0], l[1]]
        }
    }
}

fn text(t: &str) -> Vec<u8> {
    let mut out = text_head(t.len());
    out.extend_from_slice(t.as_bytes());
    out
}

fn bstr(b: &[u8]) -> Vec<u8> {
    let mut out = cbor_head(2, b.len());
    out.extend_from_slice(b);
    out
}

/// The four protected-header fields, each as (label bytes, value bytes).
fn fields(key: &SigningKey, log: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
    vec![
        (vec![0x01], vec![0x27]), // alg: -8 (EdDSA)
        (vec![0x03], text(CONTENT_TYPE)),
        (vec![0x04], bstr(&kid(&key.verifying_key()))),
        (text(LOG_LABEL), text(log)),
    ]
}

/// A properly signed COSE_Sign1 whose protected header is `fields` in the
/// order given, so the only thing wrong with it is the header's encoding.
fn hand_made(key: &SigningKey, fields: &[(Vec<u8>, Vec<u8>)], payload: &[u8]) -> Vec<u8> {
    let mut protected = cbor_head(5, fields.len());
    for (k, v) in fields {
        protected.extend_from_slice(k);
        protected.extend_from_slice(v);
    }
    let mut tbs = vec![0x84];
    tbs.extend(text("Signature1"));
    tbs.extend(bstr(&protected));
    tbs.push(0x40);
    tbs.extend(bstr(payload));
    let sig = key.sign(&tbs).to_bytes();
    let mut out = vec![0xd2, 0x84];
    out.extend(bstr(&protected));
    out.push(0xa0);
    out.extend(bstr(payload));
    out.extend(bstr(&sig));
    out
}

#[test]
fn the_hand_made_canonical_header_is_what_we_sign() {
    let key = test_key(1);
    let ours = Entry::sign(&key, LOG_A, b"copper")
        .unwrap()
        .to_bytes()
        .unwrap();
    assert_eq!(hand_made(&key, &fields(&key, LOG_A), b"copper"), ours);
    let e = Entry::from_bytes(&ours).unwrap();
    assert_eq!(e.log(), LOG_A);
    e.verify(&key.verifying_key()).unwrap();
}

#[test]
fn a_header_with_its_labels_out_of_order_is_refused_at_decoding() {
    let key = test_key(1);
    let f = fields(&key, LOG_A);
    // The text label first, and the integer labels swapped.
    for order in [[3, 0, 1, 2], [0, 2, 1, 3], [1, 0, 2, 3]] {
        let swapped: Vec<_> = order.iter().map(|&i| f[i].clone()).collect();
        assert_err!(
            Entry::from_bytes(&hand_made(&key, &swapped, b"copper")),
            Error::NonCanonicalEntry(_)
        );
    }
}

#[test]
fn a_header_with_a_duplicate_label_is_refused_at_decoding() {
    let key = test_key(1);
    let f = fields(&key, LOG_A);
    // The log named twice: once for A, once for B.
    let mut twice = f.clone();
    twice.push((text(LOG_LABEL), text(LOG_B)));
    let msg = assert_err!(
        Entry::from_bytes(&hand_made(&key, &twice, b"copper")),
        Error::UnsupportedHeader(_)
    );
    assert!(msg.contains("twice"), "{msg}");
    // A kid in place of the log: four fields, one label twice.
    let mut dup_kid = f[..3].to_vec();
    dup_kid.push(f[2].clone());
    assert_err!(
        Entry::from_bytes(&hand_made(&key, &dup_kid, b"copper")),
        Error::UnsupportedHeader(_)
    );
}

#[test]
fn a_header_without_the_log_or_with_a_bad_one_is_refused_at_decoding() {
    let key = test_key(1);
    let f = fields(&key, LOG_A);
    let msg = assert_err!(
        Entry::from_bytes(&hand_made(&key, &f[..3], b"copper")),
        Error::UnsupportedHeader(_)
    );
    assert!(msg.contains(LOG_LABEL), "{msg}");
    let mut as_bytes = f.clone();
    as_bytes[3].1 = bstr(LOG_A.as_bytes());
    assert_err!(
        Entry::from_bytes(&hand_made(&key, &as_bytes, b"copper")),
        Error::UnsupportedHeader(_)
    );
    for bad in ["", "with space/log", "plus+log", "caf\u{e9}/log"] {
        assert_err!(
            Entry::from_bytes(&hand_made(&key, &fields(&key, bad), b"copper")),
            Error::UnsupportedHeader(_)
        );
        assert_err!(
            Entry::sign(&key, bad, b"copper"),
            Error::UnsupportedHeader(_)
        );
    }
}

#[test]
fn an_over_long_log_origin_is_refused_at_decoding_and_signing() {
    let key = test_key(1);
    let longest = "l".repeat(ledger::cose::MAX_LOG_ORIGIN);
    let e = Entry::from_bytes(&hand_made(&key, &fields(&key, &longest), b"copper")).unwrap();
    assert_eq!(e.log(), longest);
    let too_long = "l".repeat(ledger::cose::MAX_LOG_ORIGIN + 1);
    let msg = assert_err!(
        Entry::from_bytes(&hand_made(&key, &fields(&key, &too_long), b"copper")),
        Error::UnsupportedHeader(_)
    );
    assert!(msg.contains("255"), "{msg}");
    assert_err!(
        Entry::sign(&key, &too_long, b"copper"),
        Error::UnsupportedHeader(_)
    );
    // A log origin in a needlessly long text head is not canonical.
    let mut long_head = fields(&key, LOG_A);
    let mut v = vec![0x79, 0x00, LOG_A.len() as u8];
    v.extend_from_slice(LOG_A.as_bytes());
    long_head[3].1 = v;
    assert_err!(
        Entry::from_bytes(&hand_made(&key, &long_head, b"copper")),
        Error::NonCanonicalEntry(_)
    );
}

#[test]
fn rewriting_the_log_of_a_signed_entry_breaks_its_signature() {
    // Same length, so only the signature can tell.
    let key = test_key(1);
    let bytes = Entry::sign(&key, LOG_A, b"copper")
        .unwrap()
        .to_bytes()
        .unwrap();
    let at = bytes
        .windows(LOG_A.len())
        .position(|w| w == LOG_A.as_bytes())
        .unwrap();
    let mut moved = bytes.clone();
    moved[at..at + LOG_B.len()].copy_from_slice(LOG_B.as_bytes());
    let e = Entry::from_bytes(&moved).unwrap();
    assert_eq!(e.log(), LOG_B);
    assert_err!(e.verify(&key.verifying_key()), Error::BadSignature(_));
}
