//! Walks over the material graph.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::state::records::{Creation, NodeRecord};
use crate::state::{self, StateError, StateStore};

/// How far to walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Stop at scrap receipts: a received scrap lot is a leaf of the
    /// claims graph (its content is fixed by its origin class), like a
    /// primary lot.
    Claims,
    /// Also walk through the source passports of scrap receipts, back to
    /// their own inputs: everything a replay needs.
    Replay,
}

/// The node and all its ancestors, keyed by id.
pub(crate) fn ancestors(
    state: &impl StateStore,
    start: &NodeRecord,
    depth: Depth,
) -> Result<BTreeMap<Uuid, NodeRecord>, StateError> {
    let mut seen: BTreeMap<Uuid, NodeRecord> = BTreeMap::new();
    let mut stack: Vec<NodeRecord> = vec![start.clone()];
    while let Some(n) = stack.pop() {
        if seen.contains_key(&n.id) {
            continue;
        }
        let walk = !matches!(
            (&n.creation, depth),
            (Creation::ScrapReceipt { .. }, Depth::Claims)
        );
        if walk {
            for p in &n.parents {
                if seen.contains_key(&p.node) {
                    continue;
                }
                match state::node(state, &p.node)? {
                    Some(rec) => stack.push(rec),
                    None => {
                        return Err(StateError::Corrupt {
                            key: hex::encode(crate::state::keys::node(&p.node)),
                            reason: format!("parent of {} is missing", n.id),
                        });
                    }
                }
            }
        }
        seen.insert(n.id, n);
    }
    Ok(seen)
}
