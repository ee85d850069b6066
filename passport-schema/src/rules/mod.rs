//! The rules: a pure state machine. [`apply`] reads state, checks one event
//! and returns the writes it implies; it never mutates anything.

mod actors;
mod assay;
mod certs;
mod claims;
mod contracts;
mod material;
mod scrap;
pub(crate) mod validate;

use uuid::Uuid;

use crate::bytes::{Bytes32, Kid};
use crate::error::{ApplyError, RuleViolation};
use crate::events::{Event, EventBody, EventKind, LogStatus, SCHEMA_VERSION};
use crate::roles::{Role, allowed_roles};
use crate::state::records::{
    ActorRecord, Change, ClockHead, ClockRecord, ContractRecord, GenesisRecord, HistoryItem,
    IdClaim, IdKind, MaterialRecord, StatusHead,
};
use crate::state::{self, Overlay, StateStore, keys};

/// Where the entry sits and who signed it (verified by the ledger).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Context {
    /// The ledger index the entry will get.
    pub index: u64,
    /// The verified signer's key id.
    pub signer: Kid,
    /// The entry's RFC 9162 leaf hash, SHA-256(0x00 || entry bytes): what
    /// later events use to name this exact entry (a contract acceptance
    /// names its proposal's).
    pub leaf_hash: [u8; 32],
}

/// The earliest time an event may state: 2000-01-01T00:00Z.
pub const EARLIEST_EVENT_MS: i64 = 946_684_800_000;
/// The latest time an event may state: 2100-01-01T00:00Z.
pub const LATEST_EVENT_MS: i64 = 4_102_444_800_000;

/// The writes an accepted event implies, sorted by key (deterministic).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Effects {
    /// `(key, canonical CBOR record)` pairs to write.
    pub writes: Vec<(Vec<u8>, Vec<u8>)>,
}

/// Checks `event` signed by `ctx.signer` at `ctx.index` against `state`.
/// Returns the writes to commit with the entry; or the violated rule
/// ([`ApplyError::Rule`]), or, if reading `state` failed, the store's error
/// ([`ApplyError::State`], no verdict on the event).
pub fn apply(state: &impl StateStore, ctx: &Context, event: &Event) -> Result<Effects, ApplyError> {
    if event.schema != SCHEMA_VERSION {
        return Err(RuleViolation::UnsupportedSchema {
            found: event.schema,
        }
        .into());
    }
    if !(EARLIEST_EVENT_MS..=LATEST_EVENT_MS).contains(&event.occurred_ms) {
        return Err(RuleViolation::TimeOutOfRange {
            occurred_ms: event.occurred_ms,
        }
        .into());
    }
    let mut tx = Overlay::new(state);
    if let EventBody::Genesis(g) = &event.body {
        actors::genesis(&mut tx, ctx, event.occurred_ms, g)?;
        return Ok(tx.into_effects());
    }
    if ctx.index == 0 {
        return Err(RuleViolation::GenesisRequired { kind: event.kind() }.into());
    }
    let genesis =
        state::genesis(&tx)?.ok_or(RuleViolation::GenesisRequired { kind: event.kind() })?;
    let clock = state::clock(&tx)?.ok_or(RuleViolation::GenesisRequired { kind: event.kind() })?;
    if let EventBody::LogTime(_) = &event.body {
        log_time(&mut tx, ctx, event.occurred_ms, &genesis, &clock)?;
        return Ok(tx.into_effects());
    }
    if let EventBody::LogStatus(s) = &event.body {
        log_status(&mut tx, ctx, s, &genesis)?;
        return Ok(tx.into_effects());
    }
    // The log's time bounds every declared time from below.
    let log_ms = clock.latest.ms;
    if event.occurred_ms < log_ms.saturating_sub(genesis.max_backdating_ms) {
        return Err(RuleViolation::Backdated {
            occurred_ms: event.occurred_ms,
            log_ms,
            max_backdating_ms: genesis.max_backdating_ms,
        }
        .into());
    }
    let actor = authorize(&tx, &Bytes32(ctx.signer), event.kind())?;
    let cx = Cx {
        index: ctx.index,
        occurred_ms: event.occurred_ms,
        log_ms,
        signer: Bytes32(ctx.signer),
        leaf_hash: Bytes32(ctx.leaf_hash),
        actor,
    };
    match &event.body {
        EventBody::Genesis(_) => Err(RuleViolation::GenesisNotFirst { index: ctx.index }.into()),
        EventBody::LogTime(_) | EventBody::LogStatus(_) => Ok(()),
        EventBody::RegisterActor(e) => actors::register(&mut tx, &cx, e),
        EventBody::GrantRole(e) => actors::grant(&mut tx, &cx, e),
        EventBody::RevokeKey(e) => actors::revoke(&mut tx, &cx, e),
        EventBody::RegisterPrimaryLot(e) => material::primary_lot(&mut tx, &cx, e),
        EventBody::Transform(e) => material::transform(&mut tx, &cx, e),
        EventBody::IssuePassport(e) => material::passport(&mut tx, &cx, e),
        EventBody::Transfer(e) => material::transfer(&mut tx, &cx, e),
        EventBody::Service(e) => material::service(&mut tx, &cx, e),
        EventBody::EndOfLife(e) => material::end_of_life(&mut tx, &cx, e),
        EventBody::AuthoriseService(e) => material::authorise_service(&mut tx, &cx, e),
        EventBody::ReceiveScrap(e) => scrap::receive(&mut tx, &cx, e),
        EventBody::DispatchScrap(e) => scrap::dispatch(&mut tx, &cx, e),
        EventBody::NameGrader(e) => scrap::name_grader(&mut tx, &cx, e),
        EventBody::SettleGrade(e) => scrap::settle_grade(&mut tx, &cx, e),
        EventBody::PublishRuleSet(e) => scrap::publish_rule_set(&mut tx, &cx, e),
        EventBody::Grade(e) => scrap::grade(&mut tx, &cx, e),
        EventBody::Assay(e) => assay::assay(&mut tx, &cx, e),
        EventBody::PublishScheme(e) => certs::publish_scheme(&mut tx, &cx, e),
        EventBody::IssueCertificate(e) => certs::issue(&mut tx, &cx, e),
        EventBody::RevokeCertificate(e) => certs::revoke(&mut tx, &cx, e),
        EventBody::ProposeContract(e) => contracts::propose(&mut tx, &cx, e),
        EventBody::AcceptContract(e) => contracts::accept(&mut tx, &cx, e),
    }?;
    Ok(tx.into_effects())
}

/// The entries the log writes itself are signed by the genesis log key.
fn signed_by_log_key(ctx: &Context, genesis: &GenesisRecord) -> Result<(), ApplyError> {
    let log_kid = Bytes32(crate::bytes::kid_of(&genesis.log_key.0));
    if ctx.signer != log_kid.0 {
        return Err(RuleViolation::NotTheLogKey {
            signer: Bytes32(ctx.signer),
            log_key: log_kid,
        }
        .into());
    }
    Ok(())
}

/// A log-time entry: signed by the genesis log key, never going back.
fn log_time<S: StateStore>(
    tx: &mut Tx<'_, S>,
    ctx: &Context,
    ms: i64,
    genesis: &GenesisRecord,
    clock: &ClockHead,
) -> Result<(), ApplyError> {
    signed_by_log_key(ctx, genesis)?;
    if ms < clock.latest.ms {
        return Err(RuleViolation::ClockBackwards {
            ms,
            latest_ms: clock.latest.ms,
            latest_index: clock.latest.index,
        }
        .into());
    }
    put_clock(
        tx,
        clock.count,
        ClockRecord {
            ms,
            index: ctx.index,
        },
    )
}

/// A status commitment: signed by the genesis log key. The rules cannot
/// check the root (the map lives with the log); a full audit recomputes it.
fn log_status<S: StateStore>(
    tx: &mut Tx<'_, S>,
    ctx: &Context,
    status: &LogStatus,
    genesis: &GenesisRecord,
) -> Result<(), ApplyError> {
    signed_by_log_key(ctx, genesis)?;
    if status.covers != ctx.index {
        return Err(RuleViolation::StatusPositionMismatch {
            covers: status.covers,
            index: ctx.index,
        }
        .into());
    }
    tx.put(
        keys::STATUS.to_vec(),
        &StatusHead {
            index: ctx.index,
            status_root: status.status_root,
        },
    )?;
    Ok(())
}

/// Records clock reading number `n` and makes it the latest.
pub(crate) fn put_clock<S: StateStore>(
    tx: &mut Tx<'_, S>,
    n: u64,
    reading: ClockRecord,
) -> Result<(), ApplyError> {
    tx.put(keys::clock_reading(n), &reading)?;
    tx.put(
        keys::CLOCK.to_vec(),
        &ClockHead {
            count: n + 1,
            latest: reading,
        },
    )?;
    Ok(())
}

/// The signer must be registered, not revoked, and hold an allowed role.
fn authorize(
    state: &impl StateStore,
    signer: &Bytes32,
    kind: EventKind,
) -> Result<ActorRecord, ApplyError> {
    let actor =
        state::actor(state, &signer.0)?.ok_or(RuleViolation::UnknownSigner { kid: *signer })?;
    if let Some(r) = &actor.revoked {
        return Err(RuleViolation::SignerRevoked {
            kid: *signer,
            revoked_index: r.index,
        }
        .into());
    }
    let allowed = allowed_roles(kind);
    if !allowed.iter().any(|r| actor.roles.contains(r)) {
        return Err(RuleViolation::RoleNotPermitted {
            kind,
            signer: *signer,
            allowed: allowed.to_vec(),
            held: actor.roles.iter().copied().collect(),
        }
        .into());
    }
    Ok(actor)
}

/// The checked signer and event facts every rule needs.
pub(crate) struct Cx {
    pub(crate) index: u64,
    pub(crate) occurred_ms: i64,
    /// The log's time when the entry is integrated (a lower bound: the
    /// latest log-time reading at or before it).
    pub(crate) log_ms: i64,
    pub(crate) signer: Bytes32,
    /// The entry's RFC 9162 leaf hash.
    pub(crate) leaf_hash: Bytes32,
    pub(crate) actor: ActorRecord,
}

impl Cx {
    pub(crate) fn history(&self, change: Change) -> HistoryItem {
        HistoryItem {
            index: self.index,
            occurred_ms: self.occurred_ms,
            signer: self.signer,
            change,
        }
    }
}

type Tx<'a, S> = Overlay<'a, S>;

/// Claims a fresh id (ids are unique across every record kind).
pub(crate) fn claim_id<S: StateStore>(
    tx: &mut Tx<'_, S>,
    id: &Uuid,
    kind: IdKind,
    index: u64,
) -> Result<(), ApplyError> {
    if let Some(c) = state::id_claim(tx, id)? {
        return Err(RuleViolation::DuplicateId {
            id: *id,
            index: c.index,
        }
        .into());
    }
    tx.put(keys::id_claim(id), &IdClaim { kind, index })?;
    Ok(())
}

pub(crate) fn load_material<S: StateStore>(
    tx: &Tx<'_, S>,
    id: &Uuid,
) -> Result<MaterialRecord, ApplyError> {
    Ok(state::material(tx, id)?.ok_or(RuleViolation::UnknownMaterial { id: *id })?)
}

pub(crate) fn owned_material<S: StateStore>(
    tx: &Tx<'_, S>,
    cx: &Cx,
    id: &Uuid,
) -> Result<MaterialRecord, ApplyError> {
    material_for(tx, cx, id, None)
}

/// The material, if the signer owns it or holds `also`: a role that may act
/// on material it does not own (a service actor's inspection, a certifier's grading).
pub(crate) fn material_for<S: StateStore>(
    tx: &Tx<'_, S>,
    cx: &Cx,
    id: &Uuid,
    also: Option<Role>,
) -> Result<MaterialRecord, ApplyError> {
    let n = load_material(tx, id)?;
    let by_role = also.is_some_and(|r| cx.actor.roles.contains(&r));
    if n.owner != cx.signer && !by_role {
        return Err(RuleViolation::NotOwner {
            material: *id,
            owner: n.owner,
            signer: cx.signer,
        }
        .into());
    }
    Ok(n)
}

/// Whether two key ids belong to one organisation: the same key, or two
/// registered actors with the same name (trimmed, case-insensitive) and
/// country. A second key registered under another name is not detected.
pub(crate) fn same_org<S: StateStore>(
    tx: &Tx<'_, S>,
    a: &Bytes32,
    b: &Bytes32,
) -> Result<bool, ApplyError> {
    if a == b {
        return Ok(true);
    }
    let (Some(x), Some(y)) = (state::actor(tx, &a.0)?, state::actor(tx, &b.0)?) else {
        return Ok(false);
    };
    Ok(x.country == y.country && x.name.trim().to_lowercase() == y.name.trim().to_lowercase())
}

/// The event may not be dated before the material's creation.
pub(crate) fn not_before_creation(cx: &Cx, n: &MaterialRecord) -> Result<(), RuleViolation> {
    match n.history.first() {
        Some(h) if cx.occurred_ms < h.occurred_ms => Err(RuleViolation::PredatesRecord {
            material: n.id,
            occurred_ms: cx.occurred_ms,
            record_index: h.index,
            record_ms: h.occurred_ms,
        }),
        _ => Ok(()),
    }
}

pub(crate) fn put_material<S: StateStore>(
    tx: &mut Tx<'_, S>,
    n: &MaterialRecord,
) -> Result<(), ApplyError> {
    tx.put(keys::material(&n.id), n)?;
    Ok(())
}

/// An accepted contract whose period contains the event time, signed by
/// its producer.
pub(crate) fn active_contract_of_producer<S: StateStore>(
    tx: &Tx<'_, S>,
    cx: &Cx,
    id: &Uuid,
) -> Result<ContractRecord, ApplyError> {
    let c = state::contract(tx, id)?.ok_or(RuleViolation::UnknownContract { id: *id })?;
    if c.producer != cx.signer {
        return Err(RuleViolation::NotContractProducer {
            contract: *id,
            producer: c.producer,
            signer: cx.signer,
        }
        .into());
    }
    if c.accepted_index.is_none() {
        return Err(RuleViolation::ContractNotAccepted { contract: *id }.into());
    }
    in_contract_period(id, &c.proposal, cx.occurred_ms)?;
    Ok(c)
}

/// The declared time `at_ms` lies in the contract's period `[start, end)`.
pub(crate) fn in_contract_period(
    id: &Uuid,
    p: &crate::events::ContractProposal,
    at_ms: i64,
) -> Result<(), RuleViolation> {
    if at_ms < p.start_ms || at_ms >= p.end_ms {
        return Err(RuleViolation::OutsideContractPeriod {
            contract: *id,
            occurred_ms: at_ms,
            start_ms: p.start_ms,
            end_ms: p.end_ms,
        });
    }
    Ok(())
}
