//! In-memory state and an overlay of uncommitted effects.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{StateError, StateStore, encode_record};
use crate::Effects;

/// A `BTreeMap` state: for tests, the CLI and offline audit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryState {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryState {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes the effects of an accepted event.
    pub fn commit(&mut self, effects: Effects) {
        for (k, v) in effects.writes {
            self.map.insert(k, v);
        }
    }

    /// All keys and values, in key order.
    pub fn entries(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        &self.map
    }

    /// Every `(key, value)` whose key starts with `prefix`.
    pub fn scan_prefix(&self, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.map
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

impl StateStore for MemoryState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.map.get(key).cloned())
    }
}

/// Uncommitted writes layered over a base store. The rules use one per
/// event (read-your-writes); a sequencer uses one per batch so that the
/// second of two conflicting entries (e.g. a double spend) is rejected.
#[derive(Debug)]
pub struct Overlay<'a, S: StateStore + ?Sized> {
    base: &'a S,
    writes: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl<'a, S: StateStore + ?Sized> Overlay<'a, S> {
    /// An empty overlay on `base`.
    pub fn new(base: &'a S) -> Self {
        Self {
            base,
            writes: BTreeMap::new(),
        }
    }

    /// Layers the effects of an accepted event.
    pub fn commit(&mut self, effects: Effects) {
        for (k, v) in effects.writes {
            self.writes.insert(k, v);
        }
    }

    /// All layered writes, sorted by key, as one batch for the base.
    pub fn into_effects(self) -> Effects {
        Effects {
            writes: self.writes.into_iter().collect(),
        }
    }

    pub(crate) fn put<T: Serialize>(&mut self, key: Vec<u8>, value: &T) -> Result<(), StateError> {
        let bytes = encode_record(value)?;
        self.writes.insert(key, bytes);
        Ok(())
    }
}

impl<S: StateStore + ?Sized> StateStore for Overlay<'_, S> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.writes.get(key) {
            Some(v) => Ok(Some(v.clone())),
            None => self.base.get(key),
        }
    }
}
