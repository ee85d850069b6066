//! Stored records. Each remembers the entry indices that created or
//! changed it, so views and audits can cite evidence.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::bytes::Bytes32;
use crate::criteria::CriterionResult;
use crate::events::{
    Composition, ContractProposal, DispatchScrap, InputUse, MaterialKind, PassportIssue, Process,
    RuleSet, RuleSetRef, Scheme, SchemeRef, ScrapOrigin, ServiceKind, Supplier,
};
use crate::roles::Role;

/// The log's genesis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisRecord {
    /// Log origin.
    pub origin: String,
    /// Operator key id.
    pub operator: Bytes32,
    /// Always 0.
    pub index: u64,
    /// The log key, which alone signs log-time entries.
    pub log_key: Bytes32,
    /// The backdating window, ms.
    pub max_backdating_ms: i64,
}

/// One reading of the log's clock: the genesis (number 0) or a log-time entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockRecord {
    /// The log's time, Unix ms.
    pub ms: i64,
    /// The entry that set it.
    pub index: u64,
}

/// The latest clock reading and how many there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockHead {
    /// Readings so far (the latest is number `count - 1`).
    pub count: u64,
    /// The latest reading.
    pub latest: ClockRecord,
}

/// One role grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleGrantRecord {
    /// Grant entry (0 for the genesis operator role).
    pub index: u64,
    /// Role.
    pub role: Role,
    /// Granting operator.
    pub by: Bytes32,
}

/// A key revocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevocationRecord {
    /// Revocation entry.
    pub index: u64,
    /// Revoking operator.
    pub by: Bytes32,
    /// Reason.
    pub reason: String,
}

/// The latest `log_status` entry: where it is and the root it states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusHead {
    /// Its index.
    pub index: u64,
    /// The status map root it states.
    pub status_root: Bytes32,
}

/// A registered actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActorRecord {
    /// Key id.
    pub kid: Bytes32,
    /// Ed25519 public key.
    pub public_key: Bytes32,
    /// Organisation name.
    pub name: String,
    /// Country.
    pub country: String,
    /// Roles held.
    pub roles: BTreeSet<Role>,
    /// Registration entry.
    pub registered_index: u64,
    /// Registering operator (itself for the genesis operator).
    pub registered_by: Bytes32,
    /// Role grants, in order.
    pub grants: Vec<RoleGrantRecord>,
    /// Revocation, if revoked.
    pub revoked: Option<RevocationRecord>,
}

/// How a material came to exist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Creation {
    /// Primary lot registration.
    Primary {
        /// Supplier.
        supplier: String,
        /// Origin country.
        origin_country: String,
        /// Brand.
        brand: Option<String>,
    },
    /// Transformation output.
    Transformation {
        /// Process.
        process: Process,
        /// Recorded losses of the whole transformation.
        losses_g: u64,
    },
    /// Scrap receipt.
    ScrapReceipt {
        /// Gross.
        gross_g: u64,
        /// Tare.
        tare_g: u64,
        /// Supplier.
        supplier: Supplier,
        /// Declared origin class.
        origin_class: ScrapOrigin,
        /// Take-back contract, if any.
        contract: Option<Uuid>,
        /// The entry of the supplier's dispatch it took in (a co-signed
        /// custody change), if any.
        dispatch: Option<u64>,
        /// True when the supplier is not registered: the receipt rests on
        /// the receiver's declaration and its evidence hashes alone.
        declared: bool,
    },
}

/// One change to a material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Created (registration, transformation output or receipt).
    Created,
    /// Consumed by a transformation or a scrap receipt.
    Consumed {
        /// Grams consumed.
        mass_g: u64,
    },
    /// Ownership transferred.
    Transferred {
        /// Previous owner.
        from: Bytes32,
        /// New owner.
        to: Bytes32,
        /// Contract (a delivery), if any.
        contract: Option<Uuid>,
    },
    /// Graded.
    Graded {
        /// Rule set applied.
        rule_set: RuleSetRef,
        /// Resulting grade.
        grade: Option<String>,
    },
    /// Passport issued.
    PassportIssued,
    /// Assayed: a measured composition replaced the latest one.
    Assayed {
        /// Instrument type.
        instrument: crate::events::Instrument,
        /// Instrument serial number.
        instrument_serial: String,
    },
    /// Service event.
    Service {
        /// Kind.
        kind: ServiceKind,
        /// Note.
        note: String,
        /// Evidence hashes.
        evidence: Vec<Bytes32>,
    },
    /// The owner authorised a service actor.
    ServiceAuthorised {
        /// The authorised actor.
        actor: Bytes32,
        /// End of the authorisation (exclusive), if any.
        until_ms: Option<i64>,
    },
    /// End of life declared.
    EndOfLife {
        /// Reason.
        reason: String,
        /// Evidence hashes.
        evidence: Vec<Bytes32>,
    },
    /// Its owner named a grader.
    GraderNamed {
        /// The grader.
        grader: Bytes32,
    },
    /// A disputed grading was settled.
    GradeSettled {
        /// The grading entry that applies.
        grading: u64,
    },
    /// A certificate was issued on it.
    Certified {
        /// Certificate id.
        certificate: Uuid,
    },
}

/// A dated, signed change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryItem {
    /// Ledger entry index.
    pub index: u64,
    /// Event time.
    pub occurred_ms: i64,
    /// Signer.
    pub signer: Bytes32,
    /// What changed.
    pub change: Change,
}

/// The grade that applies to a scrap lot: its only grading, the most
/// conservative of disputing gradings, or the settled one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeRecord {
    /// Rule set applied.
    pub rule_set: RuleSetRef,
    /// Grade (None = off-grade).
    pub grade: Option<String>,
    /// Grading entry.
    pub index: u64,
}

/// A material: a quantity of copper (a lot or a product).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialRecord {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: MaterialKind,
    /// Current owner.
    pub owner: Bytes32,
    /// Creator (registrant, transformer or receiver).
    pub producer: Bytes32,
    /// Mass at creation, grams.
    pub mass_g: u64,
    /// Mass not yet consumed, grams.
    pub remaining_g: u64,
    /// Derived pre-consumer recycled share, ppm.
    pub recycled_pre_ppm: u32,
    /// Derived post-consumer recycled share, ppm.
    pub recycled_post_ppm: u32,
    /// Derived primary content share per origin country, ppm.
    pub origin_ppm: BTreeMap<String, u32>,
    /// Latest composition.
    pub composition: Option<Composition>,
    /// The most copper it can hold, ppm, from what went into it (`None`:
    /// no bound below 100 %). Copper conservation checks use its
    /// composition's Cu where known, else this bound, else 100 %.
    pub cu_max_ppm: Option<u32>,
    /// Creation details.
    pub creation: Creation,
    /// Creating entry.
    pub created_index: u64,
    /// What was consumed to create it (blend inputs, or source passports).
    pub parents: Vec<InputUse>,
    /// The grade that applies (scrap lots); every grading is in `lot-grading/`.
    pub grade: Option<GradeRecord>,
    /// Passport (products).
    pub passport: Option<PassportIssue>,
    /// End-of-life declaration entry.
    pub end_of_life: Option<u64>,
    /// Certificates issued on it.
    pub certificates: Vec<Uuid>,
    /// Every entry that created or changed it.
    pub history: Vec<HistoryItem>,
    /// Grams of the remaining mass already claimed by a certificate (claim
    /// units): issued here or inherited from consumed inputs. Never more
    /// than `remaining_g`; they move with consumed mass and are never
    /// claimed again.
    pub claimed_g: u64,
}

impl MaterialRecord {
    /// Derived recycled share (pre + post consumer), ppm.
    pub fn recycled_ppm(&self) -> u32 {
        self.recycled_pre_ppm.saturating_add(self.recycled_post_ppm)
    }

    /// Remaining grams no certificate claims yet.
    pub fn unclaimed_g(&self) -> u64 {
        self.remaining_g.saturating_sub(self.claimed_g)
    }
}

/// A published rule set version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSetRecord {
    /// The rule set.
    pub rule_set: RuleSet,
    /// Publisher.
    pub publisher: Bytes32,
    /// Publication entry.
    pub index: u64,
}

/// A published scheme version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemeRecord {
    /// The scheme.
    pub scheme: Scheme,
    /// Publisher.
    pub publisher: Bytes32,
    /// Publication entry.
    pub index: u64,
    /// The log's time of the publication entry, Unix ms.
    pub published_ms: i64,
    /// The next version, once one is published: from its publication plus
    /// its `transition_days`, certificates may no longer cite this version.
    pub superseded_by: Option<u32>,
}

/// Who holds a certification brand: a scheme's normalised `name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrandRecord {
    /// The normalised brand (trimmed, lower case).
    pub brand: String,
    /// The first publisher of a scheme under it, which alone may use it.
    pub holder: Bytes32,
    /// The first scheme published under it.
    pub scheme: Uuid,
    /// That publication entry.
    pub index: u64,
}

/// Latest version of a versioned id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatestVersion {
    /// Version.
    pub version: u32,
    /// Original publisher (owns the id).
    pub publisher: Bytes32,
}

/// A certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateRecord {
    /// Id.
    pub id: Uuid,
    /// Scheme.
    pub scheme: SchemeRef,
    /// Subject material.
    pub subject: Uuid,
    /// Claimed share, ppm.
    pub claimed_recycled_share_ppm: u32,
    /// Claimed mass, grams.
    pub claimed_mass_g: u64,
    /// Issuer.
    pub issuer: Bytes32,
    /// Issuance entry.
    pub issued_index: u64,
    /// Issuance time.
    pub issued_ms: i64,
    /// Criteria as recomputed at issuance.
    pub criteria_at_issue: Vec<CriterionResult>,
    /// Revocation, if revoked.
    pub revoked: Option<RevocationRecord>,
}

/// A delivery under a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryRecord {
    /// Transfer entry.
    pub index: u64,
    /// Event time.
    pub occurred_ms: i64,
    /// Delivered material.
    pub material: Uuid,
    /// Its kind.
    pub kind: MaterialKind,
    /// Delivered grams (the material's remaining mass).
    pub mass_g: u64,
    /// Its derived recycled share at delivery, ppm.
    pub recycled_share_ppm: u32,
    /// Its Cu ppm at delivery, if its composition is known.
    pub cu_ppm: Option<u32>,
    /// The transfer that returned it to the producer, if it came back: a
    /// returned delivery does not count (it may be delivered again).
    pub returned_index: Option<u64>,
}

/// A take-back under a contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TakeBackRecord {
    /// Receipt entry.
    pub index: u64,
    /// Event time.
    pub occurred_ms: i64,
    /// Scrap lot.
    pub lot: Uuid,
    /// Net grams.
    pub net_g: u64,
}

/// A contract and its performance evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContractRecord {
    /// The proposal.
    pub proposal: ContractProposal,
    /// Producer (proposer).
    pub producer: Bytes32,
    /// Proposal entry.
    pub proposed_index: u64,
    /// The proposal entry's RFC 9162 leaf hash (what an acceptance names).
    pub proposal_leaf: Bytes32,
    /// Acceptance entry.
    pub accepted_index: Option<u64>,
    /// Deliveries.
    pub deliveries: Vec<DeliveryRecord>,
    /// Take-backs.
    pub take_backs: Vec<TakeBackRecord>,
}

/// A scrap dispatch and whether it was received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchRecord {
    /// The dispatch.
    pub dispatch: DispatchScrap,
    /// Its signer: the supplier.
    pub supplier: Bytes32,
    /// Dispatch entry.
    pub index: u64,
    /// Dispatch time (declared).
    pub occurred_ms: i64,
    /// The receipt entry that took it in, once received.
    pub received: Option<u64>,
}

/// A grader named by a lot's owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedGraderRecord {
    /// The grader.
    pub grader: Bytes32,
    /// The owner who named it (the naming lapses when the lot changes owner).
    pub owner: Bytes32,
    /// Naming entry.
    pub index: u64,
}

/// One grading of a lot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradingEntry {
    /// Grading entry.
    pub index: u64,
    /// Rule set applied.
    pub rule_set: RuleSetRef,
    /// Grade (None = off-grade).
    pub grade: Option<String>,
    /// The grade's precedence in its rule set (None = off-grade).
    pub precedence: Option<u16>,
}

/// Who may grade a scrap lot and every grading it received.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LotGradingRecord {
    /// The grader the owner named, if any.
    pub grader: Option<NamedGraderRecord>,
    /// Every grading, in order; more than one is a dispute until settled.
    pub gradings: Vec<GradingEntry>,
    /// The settlement entry, once settled.
    pub settled: Option<u64>,
}

impl LotGradingRecord {
    /// Two gradings or more and no settlement.
    pub fn disputed(&self) -> bool {
        self.gradings.len() > 1 && self.settled.is_none()
    }
}

/// What an id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdKind {
    /// Material (a lot or a product).
    Material,
    /// Rule set.
    RuleSet,
    /// Scheme.
    Scheme,
    /// Certificate.
    Certificate,
    /// Contract.
    Contract,
    /// Scrap dispatch.
    Dispatch,
}

/// The first use of an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdClaim {
    /// What it names.
    pub kind: IdKind,
    /// Entry that claimed it.
    pub index: u64,
}
