//! A domain-agnostic, verifiable, append-only log.
//!
//! The crate's one job is to keep opaque signed entries in an append-only
//! log and to prove what the log holds: inclusion, consistency and signed
//! checkpoints, servable as tiles. Its layers, bottom up: formats ([`cose`]
//! entries, [`note`] signatures, [`checkpoint`] bodies, [`tiles`]), pure
//! Merkle math ([`merkle`], [`proof`]), storage that knows no math
//! ([`store`]), and [`Log`], which joins math and storage. It knows nothing
//! of copper, passports, HTTP or the server: it may not depend on
//! `passport-schema`, `node`, `cli` or any HTTP or async runtime crate, and
//! those depend on it, never the other way round.
//!
//! # Protocol
//!
//! * **Entries** are COSE_Sign1 envelopes (RFC 9052, tag 18) signed with
//!   Ed25519: protected header `{1: -8, 3: "application/vnd.cupass.event+cbor",
//!   4: kid, "cupass-log": origin}` in that (deterministic) order, where
//!   `kid` is SHA-256 of the signer's 32-byte public key and `origin` is the
//!   checkpoint origin of the log the entry is signed for (1 to 255 bytes of
//!   printable ASCII); an empty unprotected header, an attached payload and
//!   a 64-byte signature over `["Signature1", protected, h'', payload]`, so
//!   the signature binds the entry to its log. Only the canonical encoding
//!   is accepted and entries are at most 65,535 bytes ([`cose`]). The log
//!   itself stores entries as opaque bytes: refusing an entry signed for
//!   another log is its verifier's job.
//! * **Tree**: RFC 9162 hashing, leaf = SHA-256(0x00 ‖ entry bytes), node =
//!   SHA-256(0x01 ‖ left ‖ right), empty root = SHA-256(""). Inclusion and
//!   consistency proofs are in the RFC's form ([`merkle`], [`proof`]).
//! * **Checkpoints** are C2SP tlog-checkpoint bodies
//!   (`<origin>\n<size>\n<base64 root>\n`) signed as C2SP signed notes with
//!   an Ed25519 key named by the origin ([`checkpoint`], [`note`]).
//! * **Tiles** follow C2SP tlog-tiles, height 8 ([`tiles`]).
//! * **Single-entry proofs** are C2SP tlog-proof files ([`tlog_proof`]).
//!
//! # Layers
//!
//! [`merkle`] is pure math over complete-subtree hashes; [`store`] keeps
//! bytes (sled or memory) and knows no math; [`Log`] joins them: it appends
//! batches in one atomic, flushed commit, signs a checkpoint only when it is
//! consistent with the previous one, produces proofs in O(log n) reads, and
//! refuses to open a store whose contents do not match its signed checkpoint.
//! Every store backend must pass the `store::conformance` suite (feature
//! `conformance`).
//!
//! ```
//! use ledger::{Log, MemoryStore, NoteSigner, cose::Entry, keys};
//!
//! let log_key = NoteSigner::new("example.org/log", keys::generate_signing_key()?)?;
//! let log = Log::create(MemoryStore::new(), log_key)?;
//! let author = keys::generate_signing_key()?;
//! let entry = Entry::sign(&author, "example.org/log", b"payload")?.to_bytes()?;
//! assert_eq!(Entry::from_bytes(&entry)?.log(), "example.org/log");
//! let out = log.append_batch(&[&entry], Vec::new())?;
//! let proof = log.inclusion_proof(out.appended[0].index, out.tree_size)?;
//! proof.verify_entry(&entry, log.verifier())?;
//! # Ok::<(), ledger::Error>(())
//! ```

pub mod anchor;
pub mod checkpoint;
pub mod cose;
pub mod cosignature;
mod error;
pub mod hash;
pub mod keys;
mod log;
pub mod merkle;
pub mod note;
pub mod policy;
pub mod proof;
pub mod store;
mod tile_tree;
pub mod tiles;
pub mod tlog_proof;

pub use checkpoint::Checkpoint;
pub use cose::Entry;
pub use error::{Error, Result};
pub use log::{AppendOutcome, Appended, Log, OpenCheck};
pub use note::{NoteSigner, NoteVerifier};
pub use proof::{ConsistencyProof, InclusionProof};
pub use store::{MemoryStore, SledConfig, SledStore, Store};
