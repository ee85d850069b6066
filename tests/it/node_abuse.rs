//! A table of hostile requests against a running node: each gets its
//! documented status, appends nothing, and leaves the node serving.

use std::time::{Duration, Instant};

use passport_schema::*;
use reqwest::{Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use crate::node_harness::{Org, TestNode, now_ms};

const T: u64 = 1_000_000;

fn lot() -> PrimaryLot {
    PrimaryLot::new(T, "CN", "Cathode Supplier")
        .with_composition(Composition::new().with("Cu", 999_950))
}

struct Case {
    name: &'static str,
    method: Method,
    path: String,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    want: StatusCode,
}

fn post(name: &'static str, body: Vec<u8>, want: StatusCode) -> Case {
    Case {
        name,
        method: Method::POST,
        path: "/v1/entries".into(),
        content_type: Some("application/cose"),
        body,
        want,
    }
}

fn get(name: &'static str, path: impl Into<String>, want: StatusCode) -> Case {
    Case {
        name,
        method: Method::GET,
        path: path.into(),
        content_type: None,
        body: Vec::new(),
        want,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_requests_table() {
    let n = TestNode::start().await;
    let op = n.operator.clone();
    let r = n.register(2, "Refinery", &[Role::Refiner]).await;
    let m = n.register(3, "Cable Works", &[Role::Manufacturer]).await;
    let x = n.register(4, "Third Party", &[Role::Manufacturer]).await;
    let gone = n.register(5, "Gone", &[Role::Refiner]).await;
    n.ok(
        &op,
        RevokeKey {
            actor: gone.b32(),
            reason: "key lost".into(),
        },
    )
    .await;
    // A lot that is then fully consumed, for the double spend.
    let spent = lot();
    n.ok(&r, spent.clone()).await;
    let melt = |out: u64| {
        TransformationBuilder::new(Process::Melt)
            .input(spent.id, T)
            .output(MaterialKind::Intermediate, out)
            .build()
    };
    n.ok(&r, melt(T)).await;
    // A contract proposed to the cable works, for the third-party acceptance.
    let spec = MaterialSpec {
        description: "refined copper".into(),
        kinds: vec![MaterialKind::Refined],
        min_cu_ppm: 999_500,
    };
    let contract =
        ContractBuilder::new(m.kid, spec, now_ms(), now_ms() + 86_400_000, "CNY").build();
    let contract_id = contract.id;
    let proposal = n.sign(&r, contract);
    let proposal_leaf = Bytes32(ledger::hash::leaf_hash(&proposal));
    assert_eq!(
        n.post(proposal, "application/cose").await.0,
        StatusCode::CREATED
    );
    let genesis_bytes = n.get_bytes("/v1/entries/0").await.1;
    let registration_bytes = n.get_bytes("/v1/entries/1").await.1;

    let valid = n.sign(&r, lot());
    let mut flipped = n.sign(&r, lot());
    let last = flipped.len() - 1;
    flipped[last] ^= 0x80;
    let mut trailing = n.sign(&r, lot());
    trailing.push(0);
    let mut wrong_tag = n.sign(&r, lot());
    wrong_tag[0] = 0xd1;
    let mut nested = vec![0x81u8; 20_000];
    nested.push(0);
    let non_canonical_payload = {
        let mut p = encode(&Event::new(now_ms(), lot())).unwrap();
        p.push(0x00);
        ledger::Entry::sign(
            &ed25519_dalek::SigningKey::from_bytes(&r.key.seed()),
            &n.origin,
            &p,
        )
        .unwrap()
        .to_bytes()
        .unwrap()
    };
    let not_an_event = ledger::Entry::sign(
        &ed25519_dalek::SigningKey::from_bytes(&r.key.seed()),
        &n.origin,
        &[0xa1, 0x61, 0x78, 0x01],
    )
    .unwrap()
    .to_bytes()
    .unwrap();
    // An entry whose kid names the refiner but whose signature is the manufacturer's.
    let kid_swap = {
        let mut e = n.sign(&m, lot());
        let theirs = ledger::keys::kid(m.key.verifier().key());
        let pos = e.windows(32).position(|w| w == theirs).unwrap();
        e[pos..pos + 32].copy_from_slice(&ledger::keys::kid(r.key.verifier().key()));
        e
    };
    let es256 = {
        // A COSE_Sign1 claiming ES256 (-7) instead of EdDSA.
        let mut e = n.sign(&r, lot());
        let pos = e.windows(2).position(|w| w == [0x01, 0x27]).unwrap();
        e[pos + 1] = 0x26;
        e
    };
    let stranger = Org::new(99, "Stranger");

    let mut cases = vec![
        post("empty body", vec![], StatusCode::BAD_REQUEST),
        post(
            "garbage",
            b"\x00\x01garbage".to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        post(
            "just over 64 KiB",
            vec![0u8; 65_537],
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        post("1 MiB", vec![0u8; 1 << 20], StatusCode::PAYLOAD_TOO_LARGE),
        post(
            "truncated entry",
            valid[..valid.len() / 2].to_vec(),
            StatusCode::BAD_REQUEST,
        ),
        post("trailing byte", trailing, StatusCode::BAD_REQUEST),
        post("wrong CBOR tag", wrong_tag, StatusCode::BAD_REQUEST),
        post("deeply nested CBOR", nested, StatusCode::BAD_REQUEST),
        post(
            "huge declared length",
            vec![
                0xd2, 0x84, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            ],
            StatusCode::BAD_REQUEST,
        ),
        post(
            "indefinite-length array",
            vec![0xd2, 0x9f, 0xff],
            StatusCode::BAD_REQUEST,
        ),
        post("ES256 algorithm", es256, StatusCode::BAD_REQUEST),
        post(
            "non-canonical payload",
            non_canonical_payload,
            StatusCode::BAD_REQUEST,
        ),
        post(
            "payload is not an event",
            not_an_event,
            StatusCode::BAD_REQUEST,
        ),
        post("forged signature", flipped, StatusCode::UNAUTHORIZED),
        post(
            "kid names another signer",
            kid_swap,
            StatusCode::UNAUTHORIZED,
        ),
        post(
            "unknown key",
            n.sign(&stranger, lot()),
            StatusCode::UNAUTHORIZED,
        ),
        post("revoked key", n.sign(&gone, lot()), StatusCode::FORBIDDEN),
        post(
            "wrong role: manufacturer publishes a rule set",
            n.sign(&m, isri_illustrative_rule_set().unwrap()),
            StatusCode::FORBIDDEN,
        ),
        post(
            "wrong role: non-operator registers an actor",
            n.sign(
                &r,
                RegisterActor {
                    name: "Me".into(),
                    country: "CN".into(),
                    public_key: stranger.public(),
                },
            ),
            StatusCode::FORBIDDEN,
        ),
        post(
            "second genesis",
            n.sign(
                &op,
                Genesis::new(
                    "again",
                    RegisterActor {
                        name: "Op".into(),
                        country: "CN".into(),
                        public_key: op.public(),
                    },
                    op.public(),
                ),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        post(
            "dated an hour ahead",
            client::sign_event(&r.key, &n.origin, &Event::new(now_ms() + 3_600_000, lot()))
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        post(
            "double spend",
            n.sign(&r, melt(T)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        post(
            "consume more than exists",
            n.sign(
                &r,
                TransformationBuilder::new(Process::Melt)
                    .input(spent.id, 2 * T)
                    .output(MaterialKind::Intermediate, 2 * T)
                    .build(),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        post(
            "transfer of another's lot",
            n.sign(&x, Transfer::new(spent.id, x.kid)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        post(
            "contract accepted by a third party",
            n.sign(&x, ContractAcceptance::new(contract_id, proposal_leaf)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        post(
            "unknown lot",
            n.sign(&r, Transfer::new(Uuid::now_v7(), m.kid)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Case {
            name: "no content type",
            method: Method::POST,
            path: "/v1/entries".into(),
            content_type: None,
            body: n.sign(&r, lot()),
            want: StatusCode::BAD_REQUEST,
        },
        Case {
            name: "JSON content type",
            method: Method::POST,
            path: "/v1/entries".into(),
            content_type: Some("application/json"),
            body: b"{}".to_vec(),
            want: StatusCode::BAD_REQUEST,
        },
        Case {
            name: "GET on the submit endpoint",
            method: Method::GET,
            path: "/v1/entries".into(),
            content_type: None,
            body: vec![],
            want: StatusCode::METHOD_NOT_ALLOWED,
        },
        Case {
            name: "PUT an entry",
            method: Method::PUT,
            path: "/v1/entries/0".into(),
            content_type: Some("application/cose"),
            body: valid.clone(),
            want: StatusCode::METHOD_NOT_ALLOWED,
        },
        get(
            "dot segments in a tile path",
            "/tile/0/../../etc/passwd",
            StatusCode::NOT_FOUND,
        ),
        get(
            "encoded dot segments in a tile path",
            "/tile/0/..%2F..%2Fetc%2Fpasswd",
            StatusCode::BAD_REQUEST,
        ),
        get("tile level 9", "/tile/9/000", StatusCode::BAD_REQUEST),
        get(
            "non-canonical tile index",
            "/tile/0/x000/001",
            StatusCode::BAD_REQUEST,
        ),
        get(
            "partial width 0",
            "/tile/0/000.p/0",
            StatusCode::BAD_REQUEST,
        ),
        get(
            "partial width 256",
            "/tile/0/000.p/256",
            StatusCode::BAD_REQUEST,
        ),
        get(
            "absurd tile index",
            "/tile/0/99999999999999999999",
            StatusCode::BAD_REQUEST,
        ),
        get(
            "tile far beyond the tree",
            "/tile/entries/x999/x999/999",
            StatusCode::NOT_FOUND,
        ),
        get(
            "entry u64::MAX",
            "/v1/entries/18446744073709551615",
            StatusCode::NOT_FOUND,
        ),
        get("negative entry", "/v1/entries/-1", StatusCode::BAD_REQUEST),
        get(
            "entry index overflows",
            "/v1/entries/99999999999999999999999",
            StatusCode::BAD_REQUEST,
        ),
        get(
            "inclusion of u64::MAX",
            "/v1/proofs/inclusion?index=18446744073709551615",
            StatusCode::NOT_FOUND,
        ),
        get(
            "inclusion with text index",
            "/v1/proofs/inclusion?index=abc",
            StatusCode::BAD_REQUEST,
        ),
        get(
            "consistency beyond the tree",
            "/v1/proofs/consistency?old=1&new=99999999",
            StatusCode::NOT_FOUND,
        ),
        get(
            "consistency backwards",
            "/v1/proofs/consistency?old=9&new=2",
            StatusCode::NOT_FOUND,
        ),
        get(
            "passport id traversal",
            "/v1/passports/..%2F..%2Fetc",
            StatusCode::BAD_REQUEST,
        ),
        get(
            "unknown certificate bundle",
            format!("/v1/certificates/{}/bundle", Uuid::now_v7()),
            StatusCode::NOT_FOUND,
        ),
        get(
            "unknown contract audit",
            format!("/v1/contracts/{}/audit", Uuid::now_v7()),
            StatusCode::NOT_FOUND,
        ),
    ];
    // Replays of old entries: 200 with the original index, nothing appended.
    cases.push(post("replay of the genesis", genesis_bytes, StatusCode::OK));
    cases.push(post(
        "replay of a registration",
        registration_bytes,
        StatusCode::OK,
    ));
    assert!(cases.len() >= 40, "only {} cases", cases.len());

    let size = n.tree_size().await;
    for c in cases {
        let mut req = n
            .http
            .request(c.method.clone(), format!("{}{}", n.url, c.path))
            .body(c.body);
        if let Some(ct) = c.content_type {
            req = req.header("content-type", ct);
        }
        let resp = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", c.name));
        let status = resp.status();
        let body = resp.bytes().await.unwrap();
        assert_eq!(
            status,
            c.want,
            "{}: {}",
            c.name,
            String::from_utf8_lossy(&body)
        );
        let json_expected = c.method == Method::POST || c.path.starts_with("/v1/proofs");
        if json_expected && status != StatusCode::PAYLOAD_TOO_LARGE {
            let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            let documented = json["error"].is_string() || json["duplicate"] == true;
            assert!(
                documented,
                "{}: undocumented body {}",
                c.name,
                String::from_utf8_lossy(&body)
            );
        }
        assert_eq!(n.tree_size().await, size, "{} appended something", c.name);
        assert_eq!(
            n.get_bytes("/healthz").await.0,
            StatusCode::OK,
            "{} broke the node",
            c.name
        );
    }
    // And the node still takes a valid entry.
    n.ok(&r, lot()).await;
}

/// Sends `head` at once, then `drip` a byte every 200 ms until the server
/// closes the connection; returns what it answered and when it closed.
async fn dribble(addr: &str, head: &[u8], drip: &[u8]) -> (String, Duration) {
    let started = Instant::now();
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let (head, drip) = (head.to_vec(), drip.to_vec());
    let writer = tokio::spawn(async move {
        if wr.write_all(&head).await.is_err() {
            return;
        }
        for b in drip {
            tokio::time::sleep(Duration::from_millis(200)).await;
            if wr.write_all(&[b]).await.is_err() {
                return;
            }
        }
        std::future::pending::<()>().await;
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(8), rd.read_to_end(&mut answer)).await;
    writer.abort();
    assert!(
        read.is_ok(),
        "the server kept a slow connection open for 8 s"
    );
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

/// Slow bodies, slow headers, idle connections and a connection flood, on a
/// node with 1 s deadlines and 32 connection slots: each is cut off near its
/// deadline, nothing is appended, and the node serves again afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_cut_off() {
    let config = node::Config {
        request_timeout_ms: 1_000,
        header_timeout_ms: 1_000,
        max_connections: 32,
        ..node::Config::default()
    };
    let n = TestNode::start_with(config).await;
    let size = n.tree_size().await;
    let addr = n.url.trim_start_matches("http://").to_string();
    let cut_off = Duration::from_secs(4);

    // Slow body: complete headers, then one body byte every 200 ms.
    let head = b"POST /v1/entries HTTP/1.1\r\nHost: x\r\nContent-Type: application/cose\r\nContent-Length: 400\r\n\r\n";
    let (answer, took) = dribble(&addr, head, &[0xd2; 400]).await;
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "slow body got {answer:?}"
    );
    assert!(took < cut_off, "slow body held for {took:?}");

    // Slow headers: the request line, then a header a byte at a time.
    let (answer, took) = dribble(&addr, b"GET /healthz HTTP/1.1\r\n", &[b'X'; 400]).await;
    assert!(
        !answer.contains("200 OK"),
        "slow headers were served: {answer:?}"
    );
    assert!(took < cut_off, "slow headers held for {took:?}");

    // Idle: connect and send nothing; or idle after a keep-alive request.
    let (_, took) = dribble(&addr, b"", b"").await;
    assert!(took < cut_off, "idle connection held for {took:?}");
    let (answer, took) = dribble(&addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", b"").await;
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "keep-alive request got {answer:?}"
    );
    assert!(
        took < cut_off,
        "idle keep-alive connection held for {took:?}"
    );

    // Flood: fill every slot with idle connections. One more is closed at
    // once, without an answer.
    let mut held = Vec::new();
    for _ in 0..32 {
        held.push(TcpStream::connect(&addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (answer, took) = dribble(&addr, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", b"").await;
    assert!(
        answer.is_empty(),
        "a connection over the limit was served: {answer:?}"
    );
    assert!(
        took < Duration::from_millis(900),
        "over-limit connection held for {took:?}"
    );
    // The idle ones time out and free their slots.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(n.get_bytes("/healthz").await.0, StatusCode::OK);
    drop(held);

    assert_eq!(
        n.tree_size().await,
        size,
        "a slow client appended something"
    );
    let r = n.register(2, "Refinery", &[Role::Refiner]).await;
    n.ok(&r, lot()).await;
}
