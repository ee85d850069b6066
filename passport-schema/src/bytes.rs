//! 32-byte values (key ids, public keys, SHA-256 evidence hashes).
//!
//! CBOR carries them as a byte string (34 bytes on the wire instead of an
//! array of 32 integers); JSON carries them as 64 lowercase hex digits.

use core::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

/// A signer's key id: SHA-256 of its 32-byte Ed25519 public key
/// (the COSE `kid` of the ledger entry).
pub type Kid = [u8; 32];

/// The key id of a 32-byte Ed25519 public key.
pub fn kid_of(public_key: &[u8; 32]) -> Kid {
    Sha256::digest(public_key).into()
}

/// SHA-256 of arbitrary bytes (evidence files, spectra, photos).
pub fn sha256(data: &[u8]) -> Bytes32 {
    Bytes32(Sha256::digest(data).into())
}

/// 32 raw bytes: a key id, a public key or a SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Bytes32(pub [u8; 32]);

impl Bytes32 {
    /// Lowercase hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(Self(out))
    }
}

impl From<[u8; 32]> for Bytes32 {
    fn from(v: [u8; 32]) -> Self {
        Self(v)
    }
}

impl From<Bytes32> for [u8; 32] {
    fn from(v: Bytes32) -> Self {
        v.0
    }
}

impl fmt::Debug for Bytes32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl fmt::Display for Bytes32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl Serialize for Bytes32 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&self.to_hex())
        } else {
            s.serialize_bytes(&self.0)
        }
    }
}

struct B32Visitor;

impl Visitor<'_> for B32Visitor {
    type Value = Bytes32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("32 bytes (64 hex digits in JSON)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Bytes32, E> {
        Bytes32::from_hex(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Bytes32, E> {
        <[u8; 32]>::try_from(v)
            .map(Bytes32)
            .map_err(|_| E::invalid_length(v.len(), &self))
    }
}

impl<'de> Deserialize<'de> for Bytes32 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            d.deserialize_str(B32Visitor)
        } else {
            d.deserialize_bytes(B32Visitor)
        }
    }
}
