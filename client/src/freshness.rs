//! Freshness: a bundle checked against what a node serves now, and against
//! a maximum age (issue: verification that cannot be fooled).
//!
//! Offline, a bundle is "valid as of tree size N, integrated at time T":
//! its status proofs hold at its own checkpoint. With a node, the bundle's
//! tree must be a prefix of the node's current tree (a consistency proof),
//! and a fresh bundle for the same subject, with status proofs at the
//! current size, must verify too: a certificate revoked since is caught.
//! With a maximum age, a status commitment older than that is stale.

use ledger::{Checkpoint, NoteVerifier, merkle::verify_consistency};

use crate::bundle::{EvidenceBundle, verify_bundle};
use crate::http::{HttpError, NodeClient};
use crate::verify::{Part, Verdict};

/// What a verification also requires beyond the bundle itself.
#[derive(Clone, Copy, Default)]
pub struct Freshness<'a> {
    /// Check against this node's current tree.
    pub node: Option<&'a NodeClient>,
    /// The oldest acceptable status commitment, in ms before `now_ms`.
    pub max_age_ms: Option<i64>,
    /// The time to measure age against (Unix ms).
    pub now_ms: i64,
    /// A witness policy whose quorum must have cosigned the checkpoint
    /// (the node's current one too, with a node).
    pub policy: Option<&'a ledger::policy::Policy>,
}

/// Verifies `bytes` offline, then as [`Freshness`] requires.
///
/// # Errors
///
/// [`HttpError::Unreachable`] (and other transport failures) when the node
/// cannot be asked: that is no verdict. A node that answers with something
/// that does not verify is a failed check in the verdict.
pub fn verify_fresh(
    bytes: &[u8],
    log_key: &NoteVerifier,
    fresh: &Freshness<'_>,
) -> Result<Verdict, HttpError> {
    let mut v = verify_bundle(bytes, log_key);
    if !v.valid {
        return Ok(v);
    }
    // It verified, so it parses; its checkpoint is read once here.
    let note = EvidenceBundle::from_cbor(bytes)
        .map(|b| b.checkpoint)
        .unwrap_or_default();
    if let Some(policy) = fresh.policy {
        v = quorum(policy, &note, log_key, "the bundle's checkpoint", v);
        if !v.valid {
            return Ok(v);
        }
    }
    if let Some(node) = fresh.node {
        v = against_node(&note, log_key, node, fresh.policy, v)?;
        if !v.valid {
            return Ok(v);
        }
    }
    if let (Some(max), Some(as_of)) = (fresh.max_age_ms, v.as_of_ms) {
        let age = fresh.now_ms.saturating_sub(as_of);
        if age > max {
            return Ok(v.fail(
                Part::Freshness,
                None,
                format!(
                    "STALE: the status is as of log time {as_of} ms ({} s old), older than the maximum age of {} s",
                    age / 1000,
                    max / 1000
                ),
            ));
        }
        v.pass(
            Part::Freshness,
            format!(
                "status {} s old, within the maximum age of {} s",
                age / 1000,
                max / 1000
            ),
        );
    }
    Ok(v)
}

/// Checks that `note` carries the cosignatures `policy`'s quorum needs.
fn quorum(
    policy: &ledger::policy::Policy,
    note: &str,
    log_key: &NoteVerifier,
    what: &str,
    mut v: Verdict,
) -> Verdict {
    match policy.check_quorum_with_log(note, log_key) {
        Ok(r) if r.quorum_met => {
            v.pass(
                Part::Witness,
                format!("{what} is cosigned by {} (quorum met)", r.cosigned_by().join(", ")),
            );
            v
        }
        Ok(r) => v.fail(
            Part::Witness,
            None,
            format!(
                "{what} is cosigned by [{}], which does not meet the policy's quorum (a split view or a rolled-back log cannot collect one)",
                r.cosigned_by().join(", ")
            ),
        ),
        Err(e) => v.fail(Part::Witness, None, format!("{what}: {e}")),
    }
}

/// Checks the bundle whose checkpoint note is `old_note` against the node.
fn against_node(
    old_note: &str,
    log_key: &NoteVerifier,
    node: &NodeClient,
    policy: Option<&ledger::policy::Policy>,
    v: Verdict,
) -> Result<Verdict, HttpError> {
    let (Some(subject), Ok(old)) = (v.subject, Checkpoint::open(old_note, log_key)) else {
        return Ok(v.fail(Part::Format, None, "the bundle has no checkpoint".into()));
    };
    let fresh_bytes = match node.bundle(&subject) {
        Ok(b) => b,
        Err(HttpError::Refused { code, message, .. }) => {
            return Ok(v.fail(
                Part::Freshness,
                None,
                format!("the node has no current evidence for {subject}: {message} ({code})"),
            ));
        }
        Err(e) => return Err(e),
    };
    let now = verify_bundle(&fresh_bytes, log_key);
    let new_note = EvidenceBundle::from_cbor(&fresh_bytes)
        .ok()
        .map(|b| b.checkpoint);
    let v = match (policy, &new_note) {
        (Some(p), Some(note)) => {
            let v = quorum(p, note, log_key, "the node's current checkpoint", v);
            if !v.valid {
                return Ok(v);
            }
            v
        }
        _ => v,
    };
    let Some(new) = new_note.and_then(|n| Checkpoint::open(&n, log_key).ok()) else {
        return Ok(v.fail(
            Part::Freshness,
            None,
            "the node's current bundle carries no checkpoint signed by the trusted key".into(),
        ));
    };
    if new.size < old.size {
        return Ok(v.fail(
            Part::Freshness,
            None,
            format!(
                "the node serves a tree of {} entries, smaller than the bundle's {}: a rolled-back or different log",
                new.size, old.size
            ),
        ));
    }
    if new.size > old.size {
        let proof = node.consistency_proof(old.size, Some(new.size))?;
        if let Err(e) = verify_consistency(old.size, new.size, &proof.hashes, &old.root, &new.root)
        {
            return Ok(v.fail(
                Part::Freshness,
                None,
                format!(
                    "the node's tree at size {} does not extend the bundle's tree at size {}: {e}",
                    new.size, old.size
                ),
            ));
        }
    } else if new.root != old.root {
        return Ok(v.fail(
            Part::Freshness,
            None,
            format!(
                "the node signs a different tree at the bundle's size {}: a split view",
                old.size
            ),
        ));
    }
    if let Some(c) = now.failure() {
        return Ok(v.fail(
            c.part,
            c.entry,
            format!("at the node's current tree size {}: {}", new.size, c.detail),
        ));
    }
    let mut v = v;
    v.pass(
        Part::Freshness,
        format!(
            "the node's current tree (size {}) extends the bundle's (size {}), and the statuses hold there",
            new.size, old.size
        ),
    );
    v.tree_size = Some(new.size);
    v.as_of_ms = now.as_of_ms;
    Ok(v)
}
