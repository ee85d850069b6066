//! Test harness: a ledger simulated on MemoryState.

use ed25519_dalek::SigningKey;
use passport_schema::*;
use uuid::Uuid;

pub const T0: i64 = 1_700_000_000_000;
pub const DAY: i64 = 86_400_000;

#[derive(Clone)]
pub struct Actor {
    pub key: SigningKey,
    pub kid: Kid,
}

impl Actor {
    pub fn from_seed(seed: u8) -> Self {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let kid = kid_of(&key.verifying_key().to_bytes());
        Self { key, kid }
    }

    pub fn b32(&self) -> Bytes32 {
        Bytes32(self.kid)
    }

    pub fn public(&self) -> Bytes32 {
        Bytes32(self.key.verifying_key().to_bytes())
    }
}

/// The simulated log's stand-in for an entry's RFC 9162 leaf hash (there
/// are no entry bytes here): SHA-256(0x00 || index || payload), unique per
/// entry.
pub fn leaf_of(index: u64, ev: &Event) -> Kid {
    let mut leaf = vec![0u8];
    leaf.extend_from_slice(&index.to_be_bytes());
    leaf.extend_from_slice(&encode(ev).unwrap());
    sha256(&leaf).0
}

/// A simulated log: only accepted entries get an index.
#[derive(Clone)]
pub struct Ledger {
    pub state: MemoryState,
    pub log: Vec<(Context, Event)>,
    pub now: i64,
}

impl Ledger {
    pub fn empty() -> Self {
        Self {
            state: MemoryState::new(),
            log: Vec::new(),
            now: T0,
        }
    }

    /// Genesis by `op`.
    pub fn genesis(op: &Actor) -> Self {
        let mut l = Self::empty();
        l.submit(
            op,
            Genesis::new(
                "tongling.example/cupass",
                RegisterActor {
                    name: "Operator".into(),
                    country: "CN".into(),
                    public_key: op.public(),
                },
                op.public(),
            ),
        )
        .unwrap();
        l
    }

    pub fn next_index(&self) -> u64 {
        self.log.len() as u64
    }

    /// The acceptance of `contract` naming its proposal entry's leaf hash.
    pub fn acceptance(&self, contract: Uuid) -> ContractAcceptance {
        let record = state::contract(&self.state, &contract).unwrap().unwrap();
        ContractAcceptance::new(contract, record.proposal_leaf)
    }

    pub fn event(&self, body: impl Into<EventBody>) -> Event {
        Event::new(self.now, body)
    }

    /// Checks without committing.
    pub fn check(
        &self,
        signer: &Actor,
        body: impl Into<EventBody>,
    ) -> Result<Effects, RuleViolation> {
        let ev = self.event(body);
        verdict(apply(
            &self.state,
            &Context {
                index: self.next_index(),
                signer: signer.kid,
                leaf_hash: leaf_of(self.next_index(), &ev),
            },
            &ev,
        ))
    }

    /// Applies and commits; the clock advances one minute per entry.
    pub fn submit(
        &mut self,
        signer: &Actor,
        body: impl Into<EventBody>,
    ) -> Result<u64, RuleViolation> {
        let ev = self.event(body);
        self.submit_event(signer, ev)
    }

    pub fn submit_event(&mut self, signer: &Actor, ev: Event) -> Result<u64, RuleViolation> {
        // The payload must survive the canonical round trip, as on ingest.
        let bytes = encode(&ev).unwrap();
        assert_eq!(decode_canonical(&bytes).unwrap(), ev);
        let ctx = Context {
            index: self.next_index(),
            signer: signer.kid,
            leaf_hash: leaf_of(self.next_index(), &ev),
        };
        let effects = verdict(apply(&self.state, &ctx, &ev))?;
        self.state.commit(effects);
        self.log.push((ctx, ev));
        self.now += 60_000;
        Ok(ctx.index)
    }

    /// Registers an actor and grants roles.
    pub fn actor(&mut self, op: &Actor, seed: u8, name: &str, roles: &[Role]) -> Actor {
        let a = Actor::from_seed(seed);
        self.submit(
            op,
            RegisterActor {
                name: name.into(),
                country: "CN".into(),
                public_key: a.public(),
            },
        )
        .unwrap();
        for r in roles {
            self.submit(
                op,
                GrantRole {
                    actor: a.b32(),
                    role: *r,
                },
            )
            .unwrap();
        }
        a
    }

    pub fn material(&self, id: &Uuid) -> state::records::MaterialRecord {
        state::material(&self.state, id).unwrap().unwrap()
    }

    /// Replays the given indices into a fresh state.
    pub fn replay(
        &self,
        indices: impl IntoIterator<Item = u64>,
    ) -> Result<MemoryState, (u64, RuleViolation)> {
        let mut s = MemoryState::new();
        for i in indices {
            let (ctx, ev) = &self.log[i as usize];
            verdict(s.apply(ctx, ev)).map_err(|e| (i, e))?;
        }
        Ok(s)
    }
}

/// The rule violation of a rejected `apply`. A memory state never fails, so
/// a state error is a bug in the rules, not a verdict: the test fails.
pub fn verdict<T>(r: Result<T, ApplyError>) -> Result<T, RuleViolation> {
    r.map_err(|e| match e {
        ApplyError::Rule(v) => v,
        other => panic!("the state store failed, which is not a rule verdict: {other}"),
    })
}

pub fn cu(ppm: u32) -> Composition {
    Composition::new().with("Cu", ppm)
}

pub fn primary(mass_g: u64, country: &str) -> PrimaryLot {
    PrimaryLot::new(mass_g, country, "Cathode Supplier").with_composition(cu(999_950))
}

pub fn isri() -> RuleSet {
    isri_illustrative_rule_set().unwrap()
}

pub fn isri_ref() -> RuleSetRef {
    let r = isri();
    RuleSetRef {
        id: r.id,
        version: r.version,
    }
}

/// Readings that earn ISRI:Berry/Candy.
pub fn berry(lot: Uuid, rs: RuleSetRef, calibrated_ms: i64) -> GradingBuilder {
    GradingBuilder::new(lot, rs, Instrument::Xrf, "XRF-001", calibrated_ms)
        .reading("Cu", 995_000, 5)
        .reading("Sn", 200, 5)
        .reading("Pb", 100, 5)
        .reading("Zn", 300, 5)
        .reading("Fe", 100, 5)
        .visual(VisualContaminant::Oil, 500)
}

/// Readings that earn ISRI:Birch/Cliff.
pub fn birch(lot: Uuid, rs: RuleSetRef, calibrated_ms: i64) -> GradingBuilder {
    GradingBuilder::new(lot, rs, Instrument::Libs, "LIBS-7", calibrated_ms)
        .reading("Cu", 955_000, 4)
        .reading("Sn", 8_000, 4)
        .reading("Pb", 3_000, 4)
        .reading("Zn", 5_000, 4)
        .reading("Fe", 2_000, 4)
        .visual(VisualContaminant::Solder, 10_000)
}

pub fn passport_for(product: Uuid) -> PassportIssue {
    PassportBuilder::new(
        product,
        "Medium-voltage copper cable",
        "MV-240",
        "BATCH-2025-001",
        Alloy::Uns("C11000".into()),
        Composition::new().with("Cu", 999_900).with("O", 50),
    )
    .gs1_digital_link("https://id.gs1.org/01/09506000134352/10/BATCH-2025-001")
    .granularity(Granularity::Batch)
    .carbon_footprint(2_500)
    .conductivity(10_100)
    .step(Process::Draw, "Tongling Rod Mill", "CN")
    .step(Process::Assemble, "Tongling Cable Works", "CN")
    .build()
}

/// A scrap receipt. From an unregistered supplier (no `kid`) it is a
/// declared receipt and carries its weighbridge ticket's hash, as the rules
/// require; a registered supplier's receipt needs `.of_dispatch(..)`.
pub fn receipt(gross_g: u64, tare_g: u64, supplier: Supplier, origin: ScrapOrigin) -> ScrapReceipt {
    let r = ScrapReceipt::new(gross_g, tare_g, supplier, origin);
    if r.supplier.kid.is_none() {
        r.evidence(sha256(b"weighbridge ticket"))
    } else {
        r
    }
}

/// The supplier `from` dispatches `mass_g` to `to`; returns the dispatch id.
pub fn dispatch(
    l: &mut Ledger,
    from: &Actor,
    to: &Actor,
    mass_g: u64,
    contract: Option<Uuid>,
) -> Uuid {
    let mut d = DispatchScrap::new(to.b32(), mass_g, "copper scrap");
    d.contract = contract;
    let id = d.id;
    l.submit(from, d).unwrap();
    id
}
