//! `cupass`: the command-line tool for every ledger user.
//!
//! Not built yet (issue 5). Until then, the runnable job is the ledger
//! example: `cargo run --release -p ledger --example quickstart`.

fn main() {
    eprintln!(
        "cupass: the CLI is not built yet; try `cargo run --release -p ledger --example quickstart`"
    );
    std::process::exit(2);
}
