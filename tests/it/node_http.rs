//! The node over a real port: lifecycle, restart, concurrency and bad requests.

use std::sync::Arc;

use ledger::{
    Checkpoint,
    tiles::{TileClient, TileId},
};
use passport_schema::*;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::node_harness::{Org, TestNode, now_ms};

const T: u64 = 1_000_000;
const DAY: i64 = 86_400_000;

fn cu(ppm: u32) -> Composition {
    Composition::new().with("Cu", ppm)
}

fn primary(mass_g: u64, country: &str) -> PrimaryLot {
    PrimaryLot::new(mass_g, country, "Cathode Supplier").with_composition(cu(999_950))
}

fn rs_ref() -> RuleSetRef {
    let r = isri_illustrative_rule_set().unwrap();
    RuleSetRef {
        id: r.id,
        version: r.version,
    }
}

fn birch(lot: Uuid, calibrated_ms: i64) -> Grading {
    GradingBuilder::new(lot, rs_ref(), Instrument::Libs, "LIBS-7", calibrated_ms)
        .reading("Cu", 955_000, 4)
        .reading("Sn", 8_000, 4)
        .reading("Pb", 3_000, 4)
        .reading("Zn", 5_000, 4)
        .reading("Fe", 2_000, 4)
        .visual(VisualContaminant::Solder, 10_000)
        .claim(Some("ISRI:Birch/Cliff"))
        .build()
}

struct Story {
    product: Uuid,
    refined: Uuid,
    cert: Uuid,
    scheme: SchemeRef,
}

/// Primary cathode → rod → product passport → service → end of life →
/// scrap receipt and grading → melt with primary top-up → refined lot →
/// scheme → certificate, all through HTTP with every receipt checked.
async fn lifecycle(n: &TestNode) -> Story {
    let r = n
        .register(2, "Tongling Refinery", &[Role::Refiner, Role::Recycler])
        .await;
    let m = n
        .register(3, "Tongling Cable Works", &[Role::Manufacturer])
        .await;
    let u = n.register(4, "Anhui Grid Utility", &[Role::Service]).await;
    let c = n.register(5, "Hefei Recycling", &[Role::Recycler]).await;
    let x = n
        .register(6, "Tongling Certification", &[Role::Certifier])
        .await;

    let p1 = primary(20 * T, "CL");
    n.ok(&r, p1.clone()).await;
    n.ok(&r, Transfer::new(p1.id, m.kid)).await;
    let draw = TransformationBuilder::new(Process::Draw)
        .input(p1.id, 12 * T)
        .output_with(
            Uuid::now_v7(),
            MaterialKind::Rod,
            11_900_000,
            Some(cu(999_930)),
        )
        .losses_g(100_000)
        .build();
    let rod = draw.outputs[0].id;
    n.ok(&m, draw).await;
    let asm = TransformationBuilder::new(Process::Assemble)
        .input(rod, 11 * T)
        .output(MaterialKind::Product, 10_900_000)
        .losses_g(100_000)
        .build();
    let product = asm.outputs[0].id;
    n.ok(&m, asm).await;
    let passport = PassportBuilder::new(
        product,
        "Medium-voltage copper cable",
        "MV-240",
        "BATCH-2026-001",
        Alloy::Uns("C11000".into()),
        cu(999_900),
    )
    .granularity(Granularity::Batch)
    .carbon_footprint(2_500)
    .step(Process::Draw, "Tongling Rod Mill", "CN")
    .build();
    n.ok(&m, passport).await;
    n.ok(&m, Transfer::new(product, u.kid)).await;
    n.ok(
        &u,
        ServiceEvent {
            product,
            kind: ServiceKind::Install,
            note: "installed feeder 12".into(),
            evidence: vec![sha256(b"photo")],
        },
    )
    .await;
    n.ok(
        &u,
        EndOfLife {
            product,
            reason: "feeder replaced".into(),
            evidence: vec![],
        },
    )
    .await;
    n.ok(&u, Transfer::new(product, c.kid)).await;

    // The utility, a registered supplier, dispatches what it hands over.
    let dispatch = DispatchScrap::new(c.b32(), 10_500_000, "end-of-life cable");
    let dispatch_id = dispatch.id;
    n.ok(&u, dispatch).await;
    let post = ScrapReceipt::new(
        11_000_000,
        500_000,
        Supplier::new("Anhui Grid Utility", "CN", Some(u.b32())),
        ScrapOrigin::PostConsumer,
    )
    .source_passport(product)
    .of_dispatch(dispatch_id);
    let post_lot = post.id;
    n.ok(&c, post).await;
    n.ok(&x, isri_illustrative_rule_set().unwrap()).await;
    n.ok(&c, birch(post_lot, now_ms() - 30 * DAY)).await;
    n.ok(&c, Transfer::new(post_lot, r.kid)).await;

    let p2 = primary(20 * T, "CN");
    n.ok(&r, p2.clone()).await;
    let melt = TransformationBuilder::new(Process::Melt)
        .input(post_lot, 10_500_000)
        .input(p2.id, 20 * T)
        .output(MaterialKind::Intermediate, 30_200_000)
        .losses_g(300_000)
        .build();
    let anode = melt.outputs[0].id;
    n.ok(&r, melt).await;
    let refine = TransformationBuilder::new(Process::Refine)
        .input(anode, 30_200_000)
        .output_with(
            Uuid::now_v7(),
            MaterialKind::Refined,
            29_500_000,
            Some(cu(999_970)),
        )
        .losses_g(700_000)
        .build();
    let refined = refine.outputs[0].id;
    n.ok(&r, refine).await;

    let scheme = SchemeBuilder::new("Tongling Recycled", 300_000)
        .limit("Cu", Some(999_500), None)
        .accept(rs_ref())
        .build();
    let sref = SchemeRef {
        id: scheme.id,
        version: scheme.version,
    };
    n.ok(&x, scheme).await;
    let (_, lot) = n.get_json(&format!("/v1/lots/{refined}")).await;
    let share = lot["recycled"]["total_ppm"].as_u64().unwrap() as u32;
    assert_eq!(u64::from(share), 10_500_000u64 * 1_000_000 / 30_500_000);
    let cert = Uuid::now_v7();
    n.ok(
        &x,
        CertificateIssue {
            id: cert,
            scheme: sref,
            subject: refined,
            claimed_recycled_share_ppm: share,
            claimed_mass_g: 29_500_000,
        },
    )
    .await;
    Story {
        product,
        refined,
        cert,
        scheme: sref,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_typed_client_reads_what_the_node_serves() {
    use client::http::{HttpError, NodeClient};
    let n = TestNode::start().await;
    let s = lifecycle(&n).await;
    let mut served = Vec::new();
    for path in [
        format!("/v1/passports/{}", s.product),
        format!("/v1/lots/{}", s.refined),
        format!("/v1/certificates/{}", s.cert),
    ] {
        let (st, v) = n.get_json(&path).await;
        assert_eq!(st, StatusCode::OK, "{path}");
        served.push(v);
    }
    let url = n.url.clone();
    let rs = rs_ref();
    let sref = s.scheme;
    tokio::task::spawn_blocking(move || {
        let c = NodeClient::new(&url).unwrap();
        // Each view decodes into its type and encodes back to what was served.
        let typed = [
            serde_json::to_value(c.passport(&s.product).unwrap()).unwrap(),
            serde_json::to_value(c.lot(&s.refined).unwrap()).unwrap(),
            serde_json::to_value(c.certificate(&s.cert).unwrap()).unwrap(),
        ];
        assert_eq!(typed.as_slice(), served.as_slice());
        assert_eq!(c.entry_json(0).unwrap().index, 0);

        // Rule sets and schemes: the latest, a named version, and what was never published.
        let latest = c.rule_set(&rs.id, None).unwrap();
        assert_eq!(latest.rule_set, isri_illustrative_rule_set().unwrap());
        assert_eq!(c.rule_set(&rs.id, Some(rs.version)).unwrap(), latest);
        let scheme = c.scheme(&sref.id, None).unwrap();
        assert_eq!(scheme.scheme.name, "Tongling Recycled");
        assert_eq!(c.scheme(&sref.id, Some(sref.version)).unwrap(), scheme);
        for e in [
            c.rule_set(&rs.id, Some(rs.version + 1)).unwrap_err(),
            c.rule_set(&Uuid::now_v7(), None).unwrap_err(),
            c.scheme(&sref.id, Some(sref.version + 1)).unwrap_err(),
            c.scheme(&Uuid::now_v7(), None).unwrap_err(),
        ] {
            assert!(
                matches!(&e, HttpError::Refused { status: 404, code, .. } if code == "not_found"),
                "{e:?}"
            );
        }
    })
    .await
    .unwrap();
    let (st, body) = n.get_json(&format!("/v1/rulesets/{}/seven", rs.id)).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "bad_request");
    let (st, body) = n.get_json("/v1/schemes/not-a-uuid").await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
}

#[test]
fn an_unreachable_node_is_no_verdict() {
    use client::audit::{AuditError, Quiet, Source, verify_log};
    use client::http::{HttpError, NodeClient};
    // Port 1 on loopback: nothing listens there.
    let c = NodeClient::new("http://127.0.0.1:1").unwrap();
    assert!(matches!(c.checkpoint(), Err(HttpError::Unreachable { .. })));
    let key = cupass_tests::log_signer("test.example/unreachable")
        .verifier()
        .clone();
    let r = verify_log(&Source::Node(&c), &key, &Quiet);
    assert!(
        matches!(r, Err(AuditError::Node(HttpError::Unreachable { .. }))),
        "{r:?}"
    );
    assert!(matches!(
        NodeClient::new("127.0.0.1:8080"),
        Err(HttpError::BadUrl(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_views_bundle_and_restart() {
    let mut n = TestNode::start().await;
    let s = lifecycle(&n).await;

    let (st, passport) = n.get_json(&format!("/v1/passports/{}", s.product)).await;
    assert_eq!(st, StatusCode::OK, "{passport}");
    let (st, cert) = n.get_json(&format!("/v1/certificates/{}", s.cert)).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(cert["all_criteria_hold"], true, "{cert}");
    let (st, lot) = n.get_json(&format!("/v1/lots/{}", s.refined)).await;
    assert_eq!(st, StatusCode::OK);
    let (st, entry) = n.get_json("/v1/entries/0/json").await;
    assert_eq!(st, StatusCode::OK);
    assert!(entry["event"]["body"]["genesis"].is_object(), "{entry}");

    // The evidence bundle verifies offline with the log key alone.
    let (st, bundle) = n
        .get_bytes(&format!("/v1/certificates/{}/bundle", s.cert))
        .await;
    assert_eq!(st, StatusCode::OK);
    let verdict = client::bundle::verify_bundle(&bundle, &n.log_key);
    assert!(verdict.valid, "{verdict:?}");

    // A tile-only client recomputes the checkpoint's root.
    let (_, note) = n.get_bytes("/checkpoint").await;
    let cp = Checkpoint::open(std::str::from_utf8(&note).unwrap(), &n.log_key).unwrap();
    let mut tiles = std::collections::HashMap::new();
    let mut level = 0u8;
    while let Some(width) = TileId::width_at(level, 0, cp.size) {
        let id = TileId {
            level,
            index: 0,
            width,
        };
        let (st, bytes) = n
            .get_bytes(&format!("/{}", id.path(ledger::tiles::TileKind::Hashes)))
            .await;
        assert_eq!(st, StatusCode::OK);
        tiles.insert(level, bytes);
        level += 1;
    }
    let mut client = TileClient::new(cp.size, |id: TileId| Ok(tiles[&id.level].clone()));
    client.verify_all(&cp.root).unwrap();
    let id = TileId {
        level: 0,
        index: 0,
        width: TileId::width_at(0, 0, cp.size).unwrap(),
    };
    let (_, entries) = n
        .get_bytes(&format!("/{}", id.path(ledger::tiles::TileKind::Entries)))
        .await;
    assert_eq!(
        client.verify_entries(0, &entries).unwrap().len(),
        cp.size as usize
    );

    // Restart: nothing lost, views equal.
    n.restart().await;
    assert_eq!(n.get_bytes("/checkpoint").await.1, note);
    assert_eq!(
        n.get_json(&format!("/v1/passports/{}", s.product)).await.1,
        passport
    );
    assert_eq!(
        n.get_json(&format!("/v1/certificates/{}", s.cert)).await.1,
        cert
    );
    assert_eq!(n.get_json(&format!("/v1/lots/{}", s.refined)).await.1, lot);
    n.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submissions_and_double_spends() {
    let n = Arc::new(TestNode::start().await);
    let r = n.register(2, "Tongling Refinery", &[Role::Refiner]).await;
    let start = n.tree_size().await;
    // 500 lots registered concurrently.
    let lots: Vec<PrimaryLot> = (0..500).map(|_| primary(T, "CN")).collect();
    let mut tasks = Vec::new();
    for lot in lots.clone() {
        let (n, r) = (Arc::clone(&n), r.clone());
        tasks.push(tokio::spawn(async move { n.submit(&r, lot).await.0 }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::CREATED);
    }
    // Each lot is then melted twice at once (two different spends of all of
    // it): 1,000 concurrent submissions in conflicting pairs.
    let mut tasks = Vec::new();
    for lot in &lots {
        for _ in 0..2 {
            let spend = TransformationBuilder::new(Process::Melt)
                .input(lot.id, T)
                .output(MaterialKind::Intermediate, T)
                .build();
            let (n, r) = (Arc::clone(&n), r.clone());
            tasks.push((
                lot.id,
                tokio::spawn(async move { n.submit(&r, spend).await }),
            ));
        }
    }
    let mut wins = std::collections::HashMap::<Uuid, u32>::new();
    let mut losses = 0;
    for (lot, t) in tasks {
        let (status, body) = t.await.unwrap();
        match status {
            StatusCode::CREATED => *wins.entry(lot).or_default() += 1,
            StatusCode::UNPROCESSABLE_ENTITY => {
                losses += 1;
                assert!(body["error"].as_str().is_some(), "{body}");
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(wins.len(), 500, "every lot is spent once");
    assert!(wins.values().all(|w| *w == 1), "no lot is spent twice");
    assert_eq!(losses, 500);
    let end = n.tree_size().await;
    // 1000 accepted entries, plus the status entry (and any clock entry)
    // the sequencer writes with each batch.
    let mut written_by_log = 0;
    for id in ledger::tiles::TileId::tiles_at(0, end) {
        let (st, bundle) = n
            .get_bytes(&format!("/{}", id.path(ledger::tiles::TileKind::Entries)))
            .await;
        assert_eq!(st, StatusCode::OK);
        let entries = ledger::tiles::parse_entry_bundle(&bundle).unwrap();
        for (i, e) in (id.start()..).zip(&entries) {
            if i < start {
                continue;
            }
            let entry = ledger::Entry::from_bytes(e).unwrap();
            let kind = passport_schema::decode_canonical(entry.payload())
                .unwrap()
                .kind();
            if matches!(
                kind,
                passport_schema::EventKind::LogStatus | passport_schema::EventKind::LogTime
            ) {
                written_by_log += 1;
            }
        }
    }
    assert!(written_by_log >= 1);
    assert_eq!(end, start + 1000 + written_by_log);
    // The log verifies: consistency from before, and every tile.
    let (_, proof) = n
        .get_json(&format!("/v1/proofs/consistency?old={start}&new={end}"))
        .await;
    let proof: ledger::ConsistencyProof = serde_json::from_value(proof).unwrap();
    proof.verify().unwrap();
    // And from scratch: stop the node and reopen with the full check.
    let mut n = Arc::try_unwrap(n).ok().expect("no other handles");
    n.shutdown().await;
    let ledger = n.open_ledger().await.unwrap();
    assert_eq!(ledger.log().size().unwrap(), end);
    ledger.log().verify_store().unwrap();
}

fn future(by: &Org, n: &TestNode) -> Vec<u8> {
    let ev = Event::new(now_ms() + 3_600_000, primary(T, "CN"));
    client::sign_event(&by.key, &n.origin, &ev).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_their_status_and_append_nothing() {
    let n = TestNode::start().await;
    let r = n.register(2, "Tongling Refinery", &[Role::Refiner]).await;
    let m = n.register(3, "Cable Works", &[Role::Manufacturer]).await;
    let lot = primary(T, "CN");
    let good = n.sign(&r, lot.clone());
    let first = n.post(good.clone(), "application/cose").await;
    assert_eq!(first.0, StatusCode::CREATED);
    let index = first.1["index"].as_u64().unwrap();
    let size = n.tree_size().await;

    let stranger = Org::new(77, "Stranger");
    let mut bad_sig = n.sign(&r, primary(T, "CN"));
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 1;
    // A payload with a non-shortest integer: re-encode by hand after signing would break
    // the signature, so sign a deliberately non-canonical payload.
    let mut payload = passport_schema::encode(&Event::new(now_ms(), primary(T, "CN"))).unwrap();
    payload.push(0x00);
    let non_canonical = ledger::Entry::sign(
        &ed25519_dalek::SigningKey::from_bytes(&r.key.seed()),
        &n.origin,
        &payload,
    )
    .unwrap()
    .to_bytes()
    .unwrap();

    let cases: Vec<(&str, Vec<u8>, &str, StatusCode)> = vec![
        (
            "garbage",
            b"not cbor at all".to_vec(),
            "application/cose",
            StatusCode::BAD_REQUEST,
        ),
        (
            "wrong content type",
            good.clone(),
            "application/json",
            StatusCode::BAD_REQUEST,
        ),
        (
            "too large",
            vec![0u8; 70_000],
            "application/cose",
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "bad signature",
            bad_sig,
            "application/cose",
            StatusCode::UNAUTHORIZED,
        ),
        (
            "unknown signer",
            n.sign(&stranger, primary(T, "CN")),
            "application/cose",
            StatusCode::UNAUTHORIZED,
        ),
        (
            "wrong role",
            n.sign(&m, isri_illustrative_rule_set().unwrap()),
            "application/cose",
            StatusCode::FORBIDDEN,
        ),
        (
            "rule violation",
            n.sign(&r, Transfer::new(Uuid::now_v7(), m.kid)),
            "application/cose",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "from the future",
            future(&r, &n),
            "application/cose",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "non-canonical payload",
            non_canonical,
            "application/cose",
            StatusCode::BAD_REQUEST,
        ),
        (
            "duplicate id",
            n.sign(&r, lot.clone()),
            "application/cose",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ];
    for (name, body, ct, want) in cases {
        let (status, json) = n.post(body, ct).await;
        assert_eq!(status, want, "{name}: {json}");
        if status != StatusCode::PAYLOAD_TOO_LARGE {
            assert!(
                json["error"].is_string() && json["message"].is_string(),
                "{name}: {json}"
            );
        }
        assert_eq!(n.tree_size().await, size, "{name} appended something");
    }
    // An identical resubmission: 200 with the original index.
    let (status, json) = n.post(good, "application/cose").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["index"].as_u64(), Some(index));
    assert_eq!(json["duplicate"], true);
    // A revoked key is refused with 403.
    n.ok(
        &n.operator.clone(),
        RevokeKey {
            actor: m.b32(),
            reason: "lost".into(),
        },
    )
    .await;
    let size = n.tree_size().await;
    let (status, _) = n.submit(&m, primary(T, "CN")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(n.tree_size().await, size);
    // Reads with absurd parameters.
    for (path, want) in [
        ("/v1/entries/999999", StatusCode::NOT_FOUND),
        ("/v1/entries/abc", StatusCode::BAD_REQUEST),
        (
            "/v1/proofs/inclusion?index=0&tree_size=99999",
            StatusCode::NOT_FOUND,
        ),
        ("/v1/proofs/consistency?old=5&new=2", StatusCode::NOT_FOUND),
        // The client normalises dot segments away; encoded ones reach the parser.
        ("/tile/0/../../etc/passwd", StatusCode::NOT_FOUND),
        ("/tile/0/..%2F..%2Fetc%2Fpasswd", StatusCode::BAD_REQUEST),
        ("/tile/entries/000.p/999", StatusCode::BAD_REQUEST),
        ("/tile/0/x999/999", StatusCode::NOT_FOUND),
        ("/v1/passports/not-a-uuid", StatusCode::BAD_REQUEST),
        (
            &format!("/v1/passports/{}", Uuid::now_v7()),
            StatusCode::NOT_FOUND,
        ),
        ("/no/such/endpoint", StatusCode::NOT_FOUND),
    ] {
        let (status, _) = n.get_json(path).await;
        assert_eq!(status, want, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_commits_and_answers_the_batch_in_flight() {
    let mut n = TestNode::start().await;
    let r = n.register(2, "Tongling Refinery", &[Role::Refiner]).await;
    let shared = Arc::new((n.url.clone(), n.http.clone()));
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let bytes = n.sign(&r, primary(T, "CN"));
        let shared = Arc::clone(&shared);
        tasks.push(tokio::spawn(async move {
            let (url, http) = &*shared;
            let resp = http
                .post(format!("{url}/v1/entries"))
                .header("content-type", "application/cose")
                .body(bytes.clone())
                .send()
                .await;
            match resp {
                Ok(r) if r.status() == StatusCode::CREATED => {
                    let body: serde_json::Value = r.json().await.unwrap();
                    Some((body["index"].as_u64().unwrap(), bytes))
                }
                _ => None,
            }
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(15)).await;
    // Stops the server: shutdown returns only after the sequencer drained (serve returned Ok).
    n.shutdown().await;
    let mut acknowledged = Vec::new();
    for t in tasks {
        if let Some(a) = t.await.unwrap() {
            acknowledged.push(a);
        }
    }
    let ledger = n.open_ledger().await.unwrap();
    // Every acknowledged entry is there, at its index, byte for byte.
    for (index, bytes) in &acknowledged {
        assert_eq!(&ledger.log().entry(*index).unwrap(), bytes);
    }
    assert!(
        !acknowledged.is_empty(),
        "no submission was answered before shutdown"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_refuses_a_tampered_store_with_a_clear_message() {
    let mut n = TestNode::start().await;
    let r = n.register(2, "Tongling Refinery", &[Role::Refiner]).await;
    for _ in 0..20 {
        n.ok(&r, primary(T, "CN")).await;
    }
    n.shutdown().await;
    let store = client::DataDir(n.dir.path().to_path_buf()).store();
    // Change one byte of entry chunk 1 (entries 16..32) on disk.
    tokio::task::spawn_blocking(move || {
        cupass_tests::tamper_sled(&store, &ledger::store::chunk_key(1), 40, 0x01)
    })
    .await
    .unwrap();
    let err = n
        .open_ledger()
        .await
        .err()
        .expect("a tampered store must not open");
    let msg = err.to_string();
    assert!(
        msg.contains("refusing to serve") && msg.contains("entry 16"),
        "{msg}"
    );
}
