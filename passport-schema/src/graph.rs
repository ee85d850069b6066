//! Walks over the material graph.

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::state::records::{Creation, MaterialRecord};
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

/// The material and all its ancestors, keyed by id.
pub(crate) fn ancestors(
    state: &impl StateStore,
    start: &MaterialRecord,
    depth: Depth,
) -> Result<BTreeMap<Uuid, MaterialRecord>, StateError> {
    let mut seen: BTreeMap<Uuid, MaterialRecord> = BTreeMap::new();
    let mut stack: Vec<MaterialRecord> = vec![start.clone()];
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
                if seen.contains_key(&p.material) {
                    continue;
                }
                match state::material(state, &p.material)? {
                    Some(rec) => stack.push(rec),
                    None => {
                        return Err(StateError::Corrupt {
                            key: hex::encode(crate::state::keys::material(&p.material)),
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
