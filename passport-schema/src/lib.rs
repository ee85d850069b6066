//! # cupass copper passport domain
//!
//! This crate is the copper domain of the cupass ledger: the events every
//! participant signs, their canonical payload encoding, roles, and the
//! **rules** that the node runs on ingest and an auditor runs on replay,
//! with the views, provenance, grading and contract audit computed from
//! the state they keep. It is the bottom layer beside `ledger` and depends
//! on neither the log nor any client or server: it does no I/O, and state
//! sits behind [`StateStore`].
//!
//! ## Protocol
//!
//! 1. A participant builds an [`Event`] (`schema`, `occurred_ms`, `body`),
//!    in code with the builders or from its JSON form ([`from_json`]).
//! 2. The payload is [`encode`]: cbor4ii's serde encoding, which our types
//!    make deterministic (see [`encoding`]). It is wrapped in a COSE_Sign1
//!    with the Ed25519 key whose SHA-256 is the `kid` ([`kid_of`]); that is
//!    the ledger crate's job.
//! 3. On ingest the node verifies the signature, calls
//!    [`decode_canonical`] (decode, re-encode, compare bytes; anything else
//!    is [`Error::NonCanonicalPayload`]), then
//!    [`apply`]`(state, &Context { index, signer, leaf_hash }, &event)`
//!    (`leaf_hash` is the entry's RFC 9162 leaf hash, by which later events
//!    name it). `apply` never mutates: it returns [`Effects`] (sorted
//!    key/value writes) that the node writes in the same batch as the
//!    entry, or an [`ApplyError`]:
//!    a [`RuleViolation`] naming the rule broken, or a [`StateError`] if
//!    the store failed (not a verdict on the event). A sequencer re-checks
//!    a batch through an [`Overlay`] so that the later of two conflicting
//!    entries loses.
//! 4. Views ([`passport_view`], [`lot_view`], [`certificate_view`],
//!    [`contract_audit`]) read the same state and cite entry indices.
//!    [`provenance`] gives the entries a claim depends on; replaying exactly
//!    those into an empty [`MemoryState`] reproduces the claim.
//!
//! Units are integers: grams (`*_g: u64`), ppm (`*_ppm: u32`, 1,000,000 =
//! 100%), Unix ms UTC (`*_ms: i64`), g CO2e per kg, money in minor units
//! with an ISO 4217 code, countries as ISO 3166-1 alpha-2. Ids are UUIDs
//! (v7 from the builders). `docs/DOMAIN.md` documents every event, who may
//! sign it and the rules it must pass.

pub mod audit;
mod blend;
mod bytes;
pub mod criteria;
pub mod encoding;
mod error;
pub mod events;
pub mod grading;
mod graph;
mod provenance;
pub mod roles;
mod rules;
pub mod state;
pub mod status;
mod views;

pub use audit::{ContractAudit, contract_audit};
pub use blend::{Shares, blend};
pub use bytes::{Bytes32, Kid, kid_of, sha256};
pub use criteria::{Criterion, CriterionResult};
pub use encoding::{MAX_PAYLOAD_BYTES, decode_canonical, encode, from_json, to_json};
pub use error::{ApplyError, Error, MassImbalance, RuleViolation};
pub use events::*;
pub use provenance::provenance;
pub use roles::{Role, allowed_roles};
pub use rules::{
    Context, EARLIEST_EVENT_MS, Effects, LATEST_EVENT_MS, apply, validate::is_element,
};
pub use state::{MemoryState, Overlay, StateError, StateStore};
pub use views::{
    CertificateStatus, CertificateSummary, CertificateView, LotView, PassportStatus, PassportView,
    RecycledShare, certificate_view, lot_view, passport_view,
};

/// Default maximum age of an analyser calibration at grading: 12 months.
pub const DEFAULT_MAX_CALIBRATION_AGE_DAYS: u32 = 365;

/// The tolerance between a dispatch's mass and the net mass received
/// against it: 0.5 % of the dispatched mass (5,000 ppm), either way,
/// floored to whole grams.
pub const DISPATCH_TOLERANCE_PPM: u32 = 5_000;

/// The JSON of the illustrative ISRI-named rule set shipped with the crate
/// (`data/isri-illustrative-ruleset.json`). **Illustrative only**: it uses
/// the ISRI copper grade names but is not the published ISRI circular.
pub const ISRI_ILLUSTRATIVE_RULESET_JSON: &str =
    include_str!("../data/isri-illustrative-ruleset.json");

/// The illustrative ISRI-named rule set, parsed (see
/// [`ISRI_ILLUSTRATIVE_RULESET_JSON`]).
pub fn isri_illustrative_rule_set() -> Result<RuleSet, Error> {
    let mut de = serde_json::Deserializer::from_str(ISRI_ILLUSTRATIVE_RULESET_JSON);
    serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Json {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

impl MemoryState {
    /// Applies an event and commits its effects if accepted.
    pub fn apply(&mut self, ctx: &Context, event: &Event) -> Result<(), ApplyError> {
        let effects = apply(self, ctx, event)?;
        self.commit(effects);
        Ok(())
    }
}
