//! The signed payload: one [`Event`] per ledger entry.
//!
//! Field order in every struct is the CBOR map order and is frozen for
//! [`SCHEMA_VERSION`]; adding or reordering fields needs a new version.

mod actors;
mod assay;
mod builders;
mod certs;
mod common;
mod contracts;
mod material;
mod scrap;

use serde::{Deserialize, Serialize};

pub use actors::{
    DEFAULT_MAX_BACKDATING_MS, Genesis, GrantRole, LogStatus, LogTime, MAX_BACKDATING_LIMIT_MS,
    RegisterActor, RevokeKey,
};
pub use assay::Assay;
pub use builders::{
    ContractBuilder, GradingBuilder, PassportBuilder, RuleSetBuilder, SchemeBuilder,
    TransformationBuilder,
};
pub use certs::{CertificateIssue, CertificateRevocation, CompositionLimit, Scheme};
pub use common::{Composition, MaterialKind, Process, RuleSetRef, SchemeRef};
pub use contracts::{ContractAcceptance, ContractProposal, GradeTerm, MaterialSpec, TakeBackTerms};
pub use material::{
    Alloy, CarbonFootprint, EndOfLife, FootprintBoundary, FootprintMethod, Granularity, InputUse,
    OutputSpec, PassportIssue, PrimaryLot, ProcessStep, ServiceAuthorisation, ServiceEvent,
    ServiceKind, Transfer, Transformation,
};
pub use scrap::{
    DispatchScrap, GradeSpec, Grading, Instrument, NameGrader, Reading, RuleSet, ScrapOrigin,
    ScrapReceipt, SettleGrade, Supplier, VisualContaminant,
};

/// The payload schema version this crate writes and accepts. Version 2
/// ("claims that hold") replaced version 1 before any ledger was deployed;
/// version 3 (a contract acceptance commits to its proposal entry's leaf
/// hash) replaced version 2 the same way: the older versions and their
/// rules are gone (`docs/DOMAIN.md`, section 1).
pub const SCHEMA_VERSION: u16 = 3;

/// One ledger payload: schema version, event time and the event itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Payload schema version ([`SCHEMA_VERSION`]).
    pub schema: u16,
    /// When the event happened, Unix ms UTC.
    pub occurred_ms: i64,
    /// The event.
    pub body: EventBody,
}

impl Event {
    /// An event of the current schema version.
    pub fn new(occurred_ms: i64, body: impl Into<EventBody>) -> Self {
        Self {
            schema: SCHEMA_VERSION,
            occurred_ms,
            body: body.into(),
        }
    }

    /// The event kind.
    pub fn kind(&self) -> EventKind {
        self.body.kind()
    }
}

macro_rules! event_kinds {
    ($( $(#[$doc:meta])* $variant:ident($ty:ty) => $code:literal ),+ $(,)?) => {
        /// Every event kind and its data.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EventBody {
            $( $(#[$doc])* $variant($ty), )+
        }

        /// The kind of an event, without its data.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum EventKind {
            $( $(#[$doc])* $variant, )+
        }

        impl EventBody {
            /// The kind of this event.
            pub fn kind(&self) -> EventKind {
                match self {
                    $( EventBody::$variant(_) => EventKind::$variant, )+
                }
            }
        }

        impl EventKind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [EventKind] = &[$( EventKind::$variant, )+];

            /// The snake_case name used in JSON and CBOR.
            pub fn name(self) -> &'static str {
                match self {
                    $( EventKind::$variant => $code, )+
                }
            }
        }

        $(
            impl From<$ty> for EventBody {
                fn from(v: $ty) -> Self {
                    EventBody::$variant(v)
                }
            }
        )+
    };
}

event_kinds! {
    /// Genesis (index 0 only).
    Genesis(Genesis) => "genesis",
    /// The log's clock (signed by the log key, written by the sequencer).
    LogTime(LogTime) => "log_time",
    /// The log's status commitment (signed by the log key, written by the sequencer).
    LogStatus(LogStatus) => "log_status",
    /// Actor registration.
    RegisterActor(RegisterActor) => "register_actor",
    /// Role grant.
    GrantRole(GrantRole) => "grant_role",
    /// Key revocation.
    RevokeKey(RevokeKey) => "revoke_key",
    /// Primary cathode lot registration.
    RegisterPrimaryLot(PrimaryLot) => "register_primary_lot",
    /// Transformation.
    Transform(Transformation) => "transform",
    /// Passport issuance.
    IssuePassport(PassportIssue) => "issue_passport",
    /// Ownership transfer (a delivery when it names a contract).
    Transfer(Transfer) => "transfer",
    /// Service history event.
    Service(ServiceEvent) => "service",
    /// End-of-life declaration.
    EndOfLife(EndOfLife) => "end_of_life",
    /// Service authorisation (by the product's owner).
    AuthoriseService(ServiceAuthorisation) => "authorise_service",
    /// Scrap lot receipt (a take-back when it names a contract).
    ReceiveScrap(ScrapReceipt) => "receive_scrap",
    /// Scrap dispatch (signed by the supplier; a receipt names it).
    DispatchScrap(DispatchScrap) => "dispatch_scrap",
    /// Naming a scrap lot's grader (by its owner).
    NameGrader(NameGrader) => "name_grader",
    /// Settling a disputed grading (by the rule set's publisher).
    SettleGrade(SettleGrade) => "settle_grade",
    /// Grading rule set publication.
    PublishRuleSet(RuleSet) => "publish_rule_set",
    /// Scrap lot grading.
    Grade(Grading) => "grade",
    /// A measured assay of any material, by an independent lab.
    Assay(Assay) => "assay",
    /// Certification scheme publication.
    PublishScheme(Scheme) => "publish_scheme",
    /// Certificate issuance.
    IssueCertificate(CertificateIssue) => "issue_certificate",
    /// Certificate revocation.
    RevokeCertificate(CertificateRevocation) => "revoke_certificate",
    /// Contract proposal (by the producer).
    ProposeContract(ContractProposal) => "propose_contract",
    /// Contract acceptance (by the customer).
    AcceptContract(ContractAcceptance) => "accept_contract",
}

impl core::fmt::Display for EventKind {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
