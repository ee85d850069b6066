//! The `Store` conformance suite (`ledger::store::conformance`), run from
//! outside the ledger crate the way another backend's crate runs it: through
//! the `conformance` feature, one test per property, against both shipped
//! backends. The checks themselves live in the ledger crate.

use std::sync::Arc;

use ledger::store::conformance as suite;
use ledger::{MemoryStore, SledConfig, SledStore};

fn sled_at(dir: &std::path::Path) -> SledStore {
    SledStore::open(
        dir,
        &SledConfig {
            cache_capacity: 8 << 20,
        },
    )
    .unwrap()
}

/// One test per property and backend. `fresh` properties take a new store;
/// `reopen` ones take a closure that opens the same store again: a clone of
/// one `Arc` for memory, the same directory for sled.
macro_rules! store_suite {
    (fresh: [$($fresh:ident),* $(,)?], reopen: [$($reopen:ident),* $(,)?] $(,)?) => {
        mod memory {
            use super::*;
            $( #[test] fn $fresh() { suite::$fresh(MemoryStore::new()); } )*
            $(
                #[test]
                fn $reopen() {
                    let store = Arc::new(MemoryStore::new());
                    suite::$reopen(|| Arc::clone(&store));
                }
            )*
        }
        mod sled {
            use super::*;
            $(
                #[test]
                fn $fresh() {
                    let dir = tempfile::tempdir().unwrap();
                    suite::$fresh(sled_at(dir.path()));
                }
            )*
            $(
                #[test]
                fn $reopen() {
                    let dir = tempfile::tempdir().unwrap();
                    suite::$reopen(|| sled_at(dir.path()));
                }
            )*
        }
    };
}

store_suite!(
    fresh: [
        fresh_store_is_empty,
        commit_round_trips,
        entry_ranges,
        aux_key_space,
        misplaced_commit_is_refused,
        commit_is_all_or_nothing_to_readers,
        append_read_and_prove,
        duplicates_return_the_original_index,
        aux_writes_land_with_entries,
        oversized_entry_appends_nothing,
        consistency_between_all_sizes,
        proofs_read_o_log_n_stored_records,
    ],
    reopen: [
        reopen_keeps_every_commit,
        reopen_keeps_everything,
        create_refuses_a_non_empty_store,
        open_with_another_key_is_refused,
    ],
);
