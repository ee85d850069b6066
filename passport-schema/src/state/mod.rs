//! State behind a byte-level key-value trait, so the node can back it with
//! sled and an auditor with memory. Records are canonical CBOR under the
//! keys in [`keys`].

pub mod keys;
mod memory;
pub mod records;

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use memory::{MemoryState, Overlay};

/// A state store failure.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The backend failed (I/O, closed tree...).
    #[error("state backend: {0}")]
    Backend(String),
    /// A stored value does not decode as the expected record.
    #[error("corrupt record under key {key}: {reason}")]
    Corrupt {
        /// Hex of the key.
        key: String,
        /// Decoder message.
        reason: String,
    },
}

impl StateError {
    /// A stable snake_case code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            StateError::Backend(_) => "state_backend",
            StateError::Corrupt { .. } => "state_corrupt",
        }
    }
}

/// Read access to the derived state. Writes happen only through
/// [`Effects`](crate::Effects), which the caller commits.
pub trait StateStore {
    /// The value stored under `key`, if any.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
}

impl<T: StateStore + ?Sized> StateStore for &T {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        (**self).get(key)
    }
}

/// Reads and decodes one record.
pub fn get_record<T: DeserializeOwned>(
    state: &(impl StateStore + ?Sized),
    key: &[u8],
) -> Result<Option<T>, StateError> {
    match state.get(key)? {
        None => Ok(None),
        Some(bytes) => {
            cbor4ii::serde::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StateError::Corrupt {
                    key: hex::encode(key),
                    reason: e.to_string(),
                })
        }
    }
}

/// Encodes a record (cbor4ii; deterministic for our record types).
pub(crate) fn encode_record<T: Serialize>(value: &T) -> Result<Vec<u8>, StateError> {
    cbor4ii::serde::to_vec(Vec::new(), value)
        .map_err(|e| StateError::Backend(format!("record encoding failed: {e}")))
}

use records::{
    ActorRecord, BrandRecord, CertificateRecord, ClockHead, ClockRecord, ContractRecord,
    DispatchRecord, GenesisRecord, IdClaim, LatestVersion, LotGradingRecord, MaterialRecord,
    RuleSetRecord, SchemeRecord, StatusHead,
};
use uuid::Uuid;

/// The genesis record.
pub fn genesis(state: &impl StateStore) -> Result<Option<GenesisRecord>, StateError> {
    get_record(state, keys::GENESIS)
}

/// The latest status commitment, if the log has written one.
pub fn status_head(state: &impl StateStore) -> Result<Option<StatusHead>, StateError> {
    get_record(state, keys::STATUS)
}

/// The log's latest clock reading (set by the genesis, then by log-time entries).
pub fn clock(state: &impl StateStore) -> Result<Option<ClockHead>, StateError> {
    get_record(state, keys::CLOCK)
}

/// The clock reading that governs the entry at `index`: the latest one
/// set at or before it. Binary search over the readings, O(log n) reads.
pub fn governing_clock(
    state: &impl StateStore,
    index: u64,
) -> Result<Option<ClockRecord>, StateError> {
    let Some(head) = clock(state)? else {
        return Ok(None);
    };
    if head.latest.index <= index {
        return Ok(Some(head.latest));
    }
    // Invariant: reading `lo` is at or before `index`, reading `hi` after it.
    let (mut lo, mut hi) = (0u64, head.count.saturating_sub(1));
    let Some(first) = get_record::<ClockRecord>(state, &keys::clock_reading(0))? else {
        return Ok(None);
    };
    if first.index > index {
        return Ok(None);
    }
    let mut found = first;
    while hi > lo + 1 {
        let mid = lo + (hi - lo) / 2;
        match get_record::<ClockRecord>(state, &keys::clock_reading(mid))? {
            Some(r) if r.index <= index => {
                lo = mid;
                found = r;
            }
            Some(_) => hi = mid,
            None => {
                return Err(StateError::Corrupt {
                    key: hex::encode(keys::clock_reading(mid)),
                    reason: "a clock reading is missing".into(),
                });
            }
        }
    }
    Ok(Some(found))
}

/// An actor by key id.
pub fn actor(state: &impl StateStore, kid: &[u8; 32]) -> Result<Option<ActorRecord>, StateError> {
    get_record(state, &keys::actor(kid))
}

/// A material by id.
pub fn material(state: &impl StateStore, id: &Uuid) -> Result<Option<MaterialRecord>, StateError> {
    get_record(state, &keys::material(id))
}

/// One published rule set version.
pub fn rule_set(
    state: &impl StateStore,
    id: &Uuid,
    version: u32,
) -> Result<Option<RuleSetRecord>, StateError> {
    get_record(state, &keys::rule_set(id, version))
}

/// The latest version of a rule set id.
pub fn rule_set_latest(
    state: &impl StateStore,
    id: &Uuid,
) -> Result<Option<LatestVersion>, StateError> {
    get_record(state, &keys::rule_set_latest(id))
}

/// One published scheme version.
pub fn scheme(
    state: &impl StateStore,
    id: &Uuid,
    version: u32,
) -> Result<Option<SchemeRecord>, StateError> {
    get_record(state, &keys::scheme(id, version))
}

/// The holder of a normalised certification brand.
pub fn brand(state: &impl StateStore, normalised: &str) -> Result<Option<BrandRecord>, StateError> {
    get_record(state, &keys::brand(normalised))
}

/// The latest version of a scheme id.
pub fn scheme_latest(
    state: &impl StateStore,
    id: &Uuid,
) -> Result<Option<LatestVersion>, StateError> {
    get_record(state, &keys::scheme_latest(id))
}

/// A certificate by id.
pub fn certificate(
    state: &impl StateStore,
    id: &Uuid,
) -> Result<Option<CertificateRecord>, StateError> {
    get_record(state, &keys::certificate(id))
}

/// A contract by id.
pub fn contract(state: &impl StateStore, id: &Uuid) -> Result<Option<ContractRecord>, StateError> {
    get_record(state, &keys::contract(id))
}

/// A scrap dispatch.
pub fn dispatch(state: &impl StateStore, id: &Uuid) -> Result<Option<DispatchRecord>, StateError> {
    get_record(state, &keys::dispatch(id))
}

/// A lot's named grader and gradings (empty if it has none).
pub fn lot_grading(state: &impl StateStore, id: &Uuid) -> Result<LotGradingRecord, StateError> {
    Ok(get_record(state, &keys::lot_grading(id))?.unwrap_or_default())
}

/// Which record (if any) claimed an id.
pub fn id_claim(state: &impl StateStore, id: &Uuid) -> Result<Option<IdClaim>, StateError> {
    get_record(state, &keys::id_claim(id))
}
