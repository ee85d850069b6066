//! Rule application throughput vs per-entry Ed25519 verification, and
//! provenance of a material with 1,000 ancestors.
//!
//! `cargo bench -p passport-schema`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ed25519_dalek::{Signer, SigningKey};
use passport_schema::*;
use uuid::Uuid;

const T0: i64 = 1_700_000_000_000;
const DAY: i64 = 86_400_000;

struct Key {
    sk: SigningKey,
    kid: Kid,
}

fn key(seed: u8) -> Key {
    let sk = SigningKey::from_bytes(&[seed; 32]);
    let kid = kid_of(&sk.verifying_key().to_bytes());
    Key { sk, kid }
}

/// A log on MemoryState that records accepted entries.
struct Log {
    state: MemoryState,
    entries: Vec<(Context, Event)>,
    now: i64,
}

impl Log {
    fn submit(&mut self, k: &Key, body: impl Into<EventBody>) -> u64 {
        let ev = Event::new(self.now, body);
        let index = self.entries.len() as u64;
        let ctx = Context {
            index,
            signer: k.kid,
            // A stand-in for the entry's leaf hash: unique per entry.
            leaf_hash: passport_schema::sha256(&index.to_be_bytes()).0,
        };
        self.state.apply(&ctx, &ev).expect("valid bench event");
        self.entries.push((ctx, ev));
        self.now += 1_000;
        ctx.index
    }
}

fn register(log: &mut Log, op: &Key, k: &Key, roles: &[Role]) {
    log.submit(
        op,
        RegisterActor {
            name: "Actor".into(),
            country: "CN".into(),
            public_key: Bytes32(k.sk.verifying_key().to_bytes()),
        },
    );
    for r in roles {
        log.submit(
            op,
            GrantRole {
                actor: Bytes32(k.kid),
                role: *r,
            },
        );
    }
}

struct World {
    log: Log,
    r: Key,
    m: Key,
    rs: RuleSetRef,
}

fn world() -> World {
    let op = key(1);
    let mut log = Log {
        state: MemoryState::new(),
        entries: Vec::new(),
        now: T0,
    };
    log.submit(
        &op,
        Genesis::new(
            "bench",
            RegisterActor {
                name: "Op".into(),
                country: "CN".into(),
                public_key: Bytes32(op.sk.verifying_key().to_bytes()),
            },
            Bytes32(op.sk.verifying_key().to_bytes()),
        ),
    );
    let r = key(2);
    let m = key(3);
    let x = key(4);
    register(&mut log, &op, &r, &[Role::Refiner, Role::Recycler]);
    register(&mut log, &op, &m, &[Role::Manufacturer]);
    register(&mut log, &op, &x, &[Role::Certifier]);
    let rs = isri_illustrative_rule_set().unwrap();
    let rs_ref = RuleSetRef {
        id: rs.id,
        version: rs.version,
    };
    log.submit(&x, rs);
    World {
        log,
        r,
        m,
        rs: rs_ref,
    }
}

/// A realistic mix, per round: scrap receipt, grading, primary lot,
/// melt of both (2 inputs -> 2 outputs), draw of one output, transfer.
/// Returns the base state and the events to apply on it.
fn mix(rounds: usize) -> (MemoryState, Vec<(Context, Event)>) {
    let mut w = world();
    let base = w.log.state.clone();
    let start = w.log.entries.len();
    for _ in 0..rounds {
        // A declared receipt from an unregistered trader carries its ticket.
        let s = ScrapReceipt::new(
            5_100_000,
            100_000,
            Supplier::new("Trader", "CN", None),
            ScrapOrigin::PostConsumer,
        )
        .evidence(sha256(b"weighbridge ticket"));
        let sid = s.id;
        w.log.submit(&w.r, s);
        let g = GradingBuilder::new(sid, w.rs, Instrument::Xrf, "XRF-1", w.log.now - DAY)
            .reading("Cu", 955_000, 4)
            .reading("Sn", 8_000, 4)
            .reading("Pb", 3_000, 4)
            .reading("Zn", 5_000, 4)
            .reading("Fe", 2_000, 4)
            .visual(VisualContaminant::Solder, 10_000)
            .claim(Some("ISRI:Birch/Cliff"))
            .build();
        w.log.submit(&w.r, g);
        let p = PrimaryLot::new(20_000_000, "CL", "Supplier")
            .with_composition(Composition::new().with("Cu", 999_950));
        let pid = p.id;
        w.log.submit(&w.r, p);
        let melt = TransformationBuilder::new(Process::Melt)
            .input(sid, 5_000_000)
            .input(pid, 20_000_000)
            .output(MaterialKind::Refined, 15_000_000)
            .output(MaterialKind::Refined, 9_900_000)
            .losses_g(100_000)
            .tolerance_g(1_000)
            .build();
        let (a, b) = (melt.outputs[0].id, melt.outputs[1].id);
        w.log.submit(&w.r, melt);
        let draw = TransformationBuilder::new(Process::Draw)
            .input(a, 15_000_000)
            .output(MaterialKind::Rod, 14_950_000)
            .losses_g(50_000)
            .build();
        w.log.submit(&w.r, draw);
        w.log.submit(&w.r, Transfer::new(b, w.m.kid));
    }
    let events = w.log.entries.split_off(start);
    (base, events)
}

/// A material whose input graph holds 1,000 ancestors: 500 melts, each of
/// the previous output plus a fresh primary lot.
fn deep_material() -> (MemoryState, Uuid) {
    let mut w = world();
    let first = PrimaryLot::new(1_000_000, "CL", "S");
    let mut prev = first.id;
    w.log.submit(&w.r, first);
    let mut mass = 1_000_000u64;
    for i in 0..499 {
        let p = PrimaryLot::new(1_000, if i % 2 == 0 { "PE" } else { "CN" }, "S");
        let pid = p.id;
        w.log.submit(&w.r, p);
        let t = TransformationBuilder::new(Process::Melt)
            .input(prev, mass)
            .input(pid, 1_000)
            .output(MaterialKind::Intermediate, mass + 1_000)
            .build();
        prev = t.outputs[0].id;
        mass += 1_000;
        w.log.submit(&w.r, t);
    }
    let p = PrimaryLot::new(1_000, "CD", "S");
    let pid = p.id;
    w.log.submit(&w.r, p);
    let t = TransformationBuilder::new(Process::Refine)
        .input(prev, mass)
        .input(pid, 1_000)
        .output(MaterialKind::Refined, mass + 1_000)
        .build();
    let last = t.outputs[0].id;
    w.log.submit(&w.r, t);
    (w.log.state, last)
}

fn bench(c: &mut Criterion) {
    // Per-entry Ed25519 verification (the bound), same run.
    let k = key(9);
    let msg: Vec<u8> = (0..400u32).map(|i| (i * 31 % 251) as u8).collect();
    let sig = k.sk.sign(&msg);
    let vk = k.sk.verifying_key();
    c.bench_function("ed25519_verify_strict_400B", |b| {
        b.iter(|| vk.verify_strict(black_box(&msg), black_box(&sig)).unwrap())
    });

    let (base, events) = mix(100);
    let n = events.len() as u64;
    let mut g = c.benchmark_group("rules");
    g.throughput(Throughput::Elements(n));
    g.bench_function("apply_commit_mix_600", |b| {
        b.iter_batched(
            || base.clone(),
            |mut s| {
                for (ctx, ev) in &events {
                    s.apply(ctx, ev).unwrap();
                }
                s
            },
            BatchSize::LargeInput,
        )
    });
    let payloads: Vec<(Context, Vec<u8>)> = events
        .iter()
        .map(|(ctx, ev)| (*ctx, encode(ev).unwrap()))
        .collect();
    g.bench_function("decode_apply_commit_mix_600", |b| {
        b.iter_batched(
            || base.clone(),
            |mut s| {
                for (ctx, p) in &payloads {
                    let ev = decode_canonical(p).unwrap();
                    s.apply(ctx, &ev).unwrap();
                }
                s
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    // One event of each kind, from the middle of the mix, against the
    // state just before it (apply is pure, so it can be repeated).
    let mut s = base.clone();
    let half = events.len() / 2;
    for (ctx, ev) in &events[..half] {
        s.apply(ctx, ev).unwrap();
    }
    let mut g = c.benchmark_group("apply_one");
    for (ctx, ev) in &events[half..half + 6] {
        let name = match &ev.body {
            EventBody::Transform(t) => {
                format!("transform_{}in_{}out", t.inputs.len(), t.outputs.len())
            }
            other => other.kind().name().to_owned(),
        };
        g.bench_function(name, |b| b.iter(|| apply(black_box(&s), ctx, ev).unwrap()));
        s.apply(ctx, ev).unwrap();
    }
    g.finish();

    let (state, material) = deep_material();
    // 1,000 ancestor creations + the material + genesis and actor entries.
    assert!(provenance(&state, &material).unwrap().len() > 1_001);
    c.bench_function("provenance_1000_ancestors", |b| {
        b.iter(|| provenance(black_box(&state), black_box(&material)).unwrap())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
