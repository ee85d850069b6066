//! The domain state kept in the ledger store's view key space.

use ledger::Store;
use passport_schema::{StateError, StateStore};

/// Prefix of every state record in the store's auxiliary key space.
pub const STATE_PREFIX: &[u8] = b"s/";

/// Store key of a state record.
pub fn state_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(STATE_PREFIX.len() + key.len());
    k.extend_from_slice(STATE_PREFIX);
    k.extend_from_slice(key);
    k
}

/// [`StateStore`] over a ledger store: what the rules see on the node.
pub struct StoreState<'a, S>(pub &'a S);

impl<S: Store> StateStore for StoreState<'_, S> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.0
            .aux(&state_key(key))
            .map_err(|e| StateError::Backend(e.to_string()))
    }
}
