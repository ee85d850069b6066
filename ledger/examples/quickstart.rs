//! A tour of the ledger crate on a real sled store: sign entries, append them
//! in durable batches, prove inclusion and consistency, reopen with the full
//! tamper check, and recompute the root from tiles alone.
//!
//! `cargo run --release -p ledger --example quickstart [-- DIR]`
// The example indexes vectors it just built itself.
#![allow(clippy::print_stdout, clippy::indexing_slicing)]

use std::path::PathBuf;
use std::time::Instant;

use ledger::{
    Checkpoint, Entry, Log, NoteSigner, OpenCheck, SledConfig, SledStore, keys,
    tiles::{TileClient, TileId},
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("cupass-data/quickstart"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    std::fs::create_dir_all(&dir)?;

    let log_key = NoteSigner::new(
        "quickstart.cupass.example/log",
        keys::generate_signing_key()?,
    )?;
    println!("log verifier key: {}", log_key.verifier());
    let log = Log::create(
        SledStore::open(&dir, &SledConfig::default())?,
        log_key.clone(),
    )?;

    // Three "organisations" sign 10,000 entries between them.
    let authors = [
        keys::generate_signing_key()?,
        keys::generate_signing_key()?,
        keys::generate_signing_key()?,
    ];
    let entries: Vec<Vec<u8>> = (0..10_000u32)
        .map(|i| {
            let payload = format!("event {i}: 1250 kg cathode, lot {i:05}").into_bytes();
            let author = &authors[i as usize % authors.len()];
            Entry::sign(author, log_key.verifier().name(), &payload)?.to_bytes()
        })
        .collect::<Result<_, _>>()?;

    let started = Instant::now();
    let mut first_checkpoint = None;
    for chunk in entries.chunks(1024) {
        let refs: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        let out = log.append_batch(&refs, Vec::new())?;
        first_checkpoint.get_or_insert(out.checkpoint);
    }
    let size = log.size()?;
    println!(
        "appended {size} entries durably in {:.2?}",
        started.elapsed()
    );

    // Resubmitting identical bytes returns the original index.
    let again = log.append_batch(&[&entries[42]], Vec::new())?;
    println!(
        "resubmitted entry 42: index {}, duplicate = {}",
        again.appended[0].index, again.appended[0].duplicate
    );

    // An inclusion proof, as a submitter would receive it.
    let proof = log.inclusion_proof(4242, size)?;
    proof.verify_entry(&entries[4242], log.verifier())?;
    println!(
        "inclusion proof for entry 4242 verifies ({} hashes):",
        proof.hashes.len()
    );
    println!("{}", serde_json::to_string_pretty(&proof)?);

    // The first checkpoint any client saw is consistent with the latest.
    let old = Checkpoint::open(
        first_checkpoint.as_deref().unwrap_or_default(),
        log.verifier(),
    )?;
    let consistency = log.consistency_proof(old.size, size)?;
    consistency.verify()?;
    println!(
        "consistency {} -> {size} verifies ({} hashes)",
        old.size,
        consistency.hashes.len()
    );

    // Close, reopen with the full check (every entry re-hashed, every tile checked).
    let store = log.into_store();
    store.close()?;
    let started = Instant::now();
    let log = Log::open(
        SledStore::open(&dir, &SledConfig::default())?,
        log_key,
        OpenCheck::Full,
    )?;
    println!(
        "reopened with the full tamper check in {:.2?}",
        started.elapsed()
    );

    // A mirror that sees only tiles recomputes and checks the root.
    let cp = Checkpoint::open(&log.checkpoint()?, log.verifier())?;
    let mut client = TileClient::new(cp.size, |id: TileId| log.tile(id));
    client.verify_all(&cp.root)?;
    println!("a tile-only client recomputed the root and checked every tile");
    println!("signed checkpoint:\n{}", log.checkpoint()?);
    println!(
        "store: {} ({} bytes on disk)",
        dir.display(),
        ledger::Store::disk_size(log.store())?
    );
    Ok(())
}
