//! The node's witnesses: after each commit the new checkpoint goes to every
//! witness of the node's C2SP policy, and the cosignatures that come back
//! are served with it (`/checkpoint`, receipts, bundles).
//!
//! A witness that is down or refuses costs its cosignature, never a commit:
//! the entries are durable before any witness is asked. A forked or
//! rolled-back log cannot collect a quorum, because each witness keeps the
//! latest checkpoint it cosigned and only cosigns a consistent extension.

use std::collections::BTreeMap;
use std::sync::{Mutex, RwLock};
use std::time::Duration;

use client::pipeline::PassportLedger;
use client::witnessing::collect_with_timeout;
use ledger::Store;
use ledger::policy::Policy;

/// How long the cosigning thread waits for the witnesses of one checkpoint.
pub const WITNESS_TIMEOUT: Duration = Duration::from_secs(2);

/// The witnesses of a policy, and what they cosigned last.
pub struct Witnesses {
    policy: Policy,
    /// Witness name → the size it last cosigned (the old size of the next request).
    sizes: Mutex<BTreeMap<String, u64>>,
    /// The latest checkpoint with the cosignatures collected for it.
    latest: RwLock<Option<String>>,
}

fn body(note: &str) -> Option<&str> {
    note.find("\n\n").and_then(|i| note.get(..=i))
}

/// Whether two signed notes are of the same checkpoint (the same body,
/// whatever signature lines each carries).
pub(crate) fn same_checkpoint(a: &str, b: &str) -> bool {
    body(a).is_some() && body(a) == body(b)
}

impl Witnesses {
    /// The witnesses of `policy`.
    pub fn new(policy: Policy) -> Self {
        Witnesses {
            policy,
            sizes: Mutex::new(BTreeMap::new()),
            latest: RwLock::new(None),
        }
    }

    /// Sends the ledger's current checkpoint to every witness and keeps the
    /// cosigned note. Returns it (the plain note if nothing came back).
    pub fn cosign<S: Store>(&self, ledger: &PassportLedger<S>) -> String {
        let log = ledger.log();
        let Ok(note) = log.checkpoint() else {
            return String::new();
        };
        let old_sizes = self.sizes.lock().map(|s| s.clone()).unwrap_or_default();
        let proofs = |old: u64, new: u64| log.consistency_proof(old, new).map(|p| p.hashes);
        match collect_with_timeout(&self.policy, &old_sizes, &note, proofs, WITNESS_TIMEOUT) {
            Ok(collected) => {
                if let Ok(mut sizes) = self.sizes.lock() {
                    sizes.extend(collected.known_sizes());
                }
                if !collected.quorum.quorum_met {
                    tracing::warn!(
                        size = collected.size,
                        cosigned_by = ?collected.quorum.cosigned_by(),
                        "witness quorum not met for this checkpoint"
                    );
                }
                if let Ok(mut l) = self.latest.write() {
                    *l = Some(collected.note.clone());
                }
                collected.note
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not ask the witnesses");
                note
            }
        }
    }

    /// `note` with the cosignatures collected for the same checkpoint, if any.
    pub fn cosigned(&self, note: &str) -> String {
        let latest = self.latest.read().ok().and_then(|l| l.clone());
        match latest {
            Some(c) if same_checkpoint(&c, note) => c,
            _ => note.to_string(),
        }
    }
}
