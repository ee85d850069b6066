//! Genesis, registration, role grants, key revocation.

use std::collections::BTreeSet;

use ed25519_dalek::VerifyingKey;

use super::validate::{country, invalid, text};
use super::{Context, Cx, Tx};
use crate::bytes::{Bytes32, kid_of};
use crate::error::{ApplyError, RuleViolation};
use crate::events::{Genesis, GrantRole, MAX_BACKDATING_LIMIT_MS, RegisterActor, RevokeKey};
use crate::roles::Role;
use crate::state::records::{
    ActorRecord, ClockRecord, GenesisRecord, RevocationRecord, RoleGrantRecord,
};
use crate::state::{self, StateStore, keys};

/// An Ed25519 public key must be a valid point and not weak.
fn check_key(key: &Bytes32) -> Result<(), RuleViolation> {
    let vk = VerifyingKey::from_bytes(&key.0).map_err(|_| RuleViolation::InvalidPublicKey {
        reason: "not a valid Ed25519 point",
    })?;
    if vk.is_weak() {
        return Err(RuleViolation::InvalidPublicKey {
            reason: "weak (small-order) key",
        });
    }
    // A mixed-order point (a torsion component added to a valid key) makes
    // cofactored and cofactorless verification disagree: batch and single
    // verification could give different verdicts on the same signature.
    if !vk.to_edwards().is_torsion_free() {
        return Err(RuleViolation::InvalidPublicKey {
            reason: "mixed-order key (has a torsion component)",
        });
    }
    Ok(())
}

/// Checks an actor's fields; returns its kid.
fn check_actor(a: &RegisterActor) -> Result<Bytes32, RuleViolation> {
    text("name", &a.name)?;
    country("country", &a.country)?;
    check_key(&a.public_key)?;
    Ok(Bytes32(kid_of(&a.public_key.0)))
}

fn new_actor(a: &RegisterActor, kid: Bytes32, index: u64, by: Bytes32) -> ActorRecord {
    ActorRecord {
        kid,
        public_key: a.public_key,
        name: a.name.clone(),
        country: a.country.clone(),
        roles: BTreeSet::new(),
        registered_index: index,
        registered_by: by,
        grants: Vec::new(),
        revoked: None,
    }
}

pub(super) fn genesis<S: StateStore>(
    tx: &mut Tx<'_, S>,
    ctx: &Context,
    occurred_ms: i64,
    g: &Genesis,
) -> Result<(), ApplyError> {
    if ctx.index != 0 || state::genesis(tx)?.is_some() {
        return Err(RuleViolation::GenesisNotFirst { index: ctx.index }.into());
    }
    text("origin", &g.origin)?;
    let kid = check_actor(&g.operator)?;
    if kid.0 != ctx.signer {
        return Err(RuleViolation::GenesisSignerMismatch {
            signer: Bytes32(ctx.signer),
            operator: kid,
        }
        .into());
    }
    let mut rec = new_actor(&g.operator, kid, 0, kid);
    rec.roles.insert(Role::Operator);
    rec.grants.push(RoleGrantRecord {
        index: 0,
        role: Role::Operator,
        by: kid,
    });
    check_key(&g.log_key)?;
    if !(0..=MAX_BACKDATING_LIMIT_MS).contains(&g.max_backdating_ms) {
        return Err(invalid(
            "max_backdating_ms",
            format!(
                "{} is not between 0 and {MAX_BACKDATING_LIMIT_MS}",
                g.max_backdating_ms
            ),
        )
        .into());
    }
    tx.put(
        keys::GENESIS.to_vec(),
        &GenesisRecord {
            origin: g.origin.clone(),
            operator: kid,
            index: 0,
            log_key: g.log_key,
            max_backdating_ms: g.max_backdating_ms,
        },
    )?;
    super::put_clock(
        tx,
        0,
        ClockRecord {
            ms: occurred_ms,
            index: 0,
        },
    )?;
    tx.put(keys::actor(&kid.0), &rec)?;
    Ok(())
}

pub(super) fn register<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &RegisterActor,
) -> Result<(), ApplyError> {
    let kid = check_actor(e)?;
    if state::actor(tx, &kid.0)?.is_some() {
        return Err(RuleViolation::ActorAlreadyRegistered { kid }.into());
    }
    tx.put(keys::actor(&kid.0), &new_actor(e, kid, cx.index, cx.signer))?;
    Ok(())
}

fn live_actor<S: StateStore>(tx: &Tx<'_, S>, kid: &Bytes32) -> Result<ActorRecord, ApplyError> {
    let a = state::actor(tx, &kid.0)?.ok_or(RuleViolation::UnknownActor { kid: *kid })?;
    if a.revoked.is_some() {
        return Err(RuleViolation::ActorRevoked { kid: *kid }.into());
    }
    Ok(a)
}

pub(super) fn grant<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &GrantRole,
) -> Result<(), ApplyError> {
    let mut a = live_actor(tx, &e.actor)?;
    if !a.roles.insert(e.role) {
        return Err(RuleViolation::RoleAlreadyGranted {
            kid: e.actor,
            role: e.role,
        }
        .into());
    }
    a.grants.push(RoleGrantRecord {
        index: cx.index,
        role: e.role,
        by: cx.signer,
    });
    tx.put(keys::actor(&e.actor.0), &a)?;
    Ok(())
}

pub(super) fn revoke<S: StateStore>(
    tx: &mut Tx<'_, S>,
    cx: &Cx,
    e: &RevokeKey,
) -> Result<(), ApplyError> {
    text("reason", &e.reason)?;
    if e.actor == cx.signer {
        return Err(RuleViolation::CannotRevokeSelf.into());
    }
    let mut a =
        state::actor(tx, &e.actor.0)?.ok_or(RuleViolation::UnknownActor { kid: e.actor })?;
    if a.revoked.is_some() {
        return Err(RuleViolation::AlreadyRevoked { kid: e.actor }.into());
    }
    a.revoked = Some(RevocationRecord {
        index: cx.index,
        by: cx.signer,
        reason: e.reason.clone(),
    });
    tx.put(keys::actor(&e.actor.0), &a)?;
    Ok(())
}
