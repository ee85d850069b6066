//! The key layout. Every key starts with an ASCII prefix ending in `/`
//! (or is the bare `genesis`), followed by fixed-size binary ids, so keys of
//! one kind sort together and never collide with another kind.
//!
//! | key | value |
//! |---|---|
//! | `genesis` | [`GenesisRecord`](super::records::GenesisRecord) |
//! | `actor/` + kid (32 B) | [`ActorRecord`](super::records::ActorRecord) |
//! | `material/` + uuid (16 B) | [`MaterialRecord`](super::records::MaterialRecord) |
//! | `ruleset/` + uuid + version (u32 BE) | [`RuleSetRecord`](super::records::RuleSetRecord) |
//! | `ruleset-latest/` + uuid | [`LatestVersion`](super::records::LatestVersion) |
//! | `scheme/` + uuid + version (u32 BE) | [`SchemeRecord`](super::records::SchemeRecord) |
//! | `scheme-latest/` + uuid | [`LatestVersion`](super::records::LatestVersion) |
//! | `cert/` + uuid | [`CertificateRecord`](super::records::CertificateRecord) |
//! | `contract/` + uuid | [`ContractRecord`](super::records::ContractRecord) |
//! | `dispatch/` + uuid | [`DispatchRecord`](super::records::DispatchRecord) |
//! | `lot-grading/` + uuid | [`LotGradingRecord`](super::records::LotGradingRecord) |
//! | `id/` + uuid | [`IdClaim`](super::records::IdClaim): global id uniqueness |
//! | `status` | [`StatusHead`](super::records::StatusHead): the latest `log_status` entry |
//! | `clock` | [`ClockHead`](super::records::ClockHead): the log's latest time |
//! | `clock/` + number (u64 BE) | [`ClockRecord`](super::records::ClockRecord): every reading |

use uuid::Uuid;

/// The genesis record key.
pub const GENESIS: &[u8] = b"genesis";

/// The latest status commitment's key.
pub const STATUS: &[u8] = b"status";

/// The clock head key.
pub const CLOCK: &[u8] = b"clock";

/// `clock/` + reading number.
pub fn clock_reading(n: u64) -> Vec<u8> {
    with(b"clock/", &[&n.to_be_bytes()])
}

fn with(prefix: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let len = prefix.len() + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut k = Vec::with_capacity(len);
    k.extend_from_slice(prefix);
    for p in parts {
        k.extend_from_slice(p);
    }
    k
}

/// `actor/` + kid.
pub fn actor(kid: &[u8; 32]) -> Vec<u8> {
    with(b"actor/", &[kid])
}

/// `material/` + uuid.
pub fn material(id: &Uuid) -> Vec<u8> {
    with(b"material/", &[id.as_bytes()])
}

/// `ruleset/` + uuid + version BE.
pub fn rule_set(id: &Uuid, version: u32) -> Vec<u8> {
    with(b"ruleset/", &[id.as_bytes(), &version.to_be_bytes()])
}

/// `ruleset-latest/` + uuid.
pub fn rule_set_latest(id: &Uuid) -> Vec<u8> {
    with(b"ruleset-latest/", &[id.as_bytes()])
}

/// `scheme/` + uuid + version BE.
pub fn scheme(id: &Uuid, version: u32) -> Vec<u8> {
    with(b"scheme/", &[id.as_bytes(), &version.to_be_bytes()])
}

/// `brand/` + SHA-256 of the normalised brand.
pub fn brand(normalised: &str) -> Vec<u8> {
    with(b"brand/", &[&crate::bytes::sha256(normalised.as_bytes()).0])
}

/// `scheme-latest/` + uuid.
pub fn scheme_latest(id: &Uuid) -> Vec<u8> {
    with(b"scheme-latest/", &[id.as_bytes()])
}

/// `cert/` + uuid.
pub fn certificate(id: &Uuid) -> Vec<u8> {
    with(b"cert/", &[id.as_bytes()])
}

/// `contract/` + uuid.
pub fn contract(id: &Uuid) -> Vec<u8> {
    with(b"contract/", &[id.as_bytes()])
}

/// `id/` + uuid.
pub fn id_claim(id: &Uuid) -> Vec<u8> {
    with(b"id/", &[id.as_bytes()])
}

/// `dispatch/` + uuid.
pub fn dispatch(id: &Uuid) -> Vec<u8> {
    with(b"dispatch/", &[id.as_bytes()])
}

/// `lot-grading/` + lot uuid.
pub fn lot_grading(id: &Uuid) -> Vec<u8> {
    with(b"lot-grading/", &[id.as_bytes()])
}
