//! Status leaves: the small, current status of every certificate, actor key
//! and material that the log commits to in each `log_status` entry.
//!
//! A status leaf is derived from one state record: `cert/` + uuid gives a
//! [`CertificateStatus`], `actor/` + kid a [`KeyStatus`], `material/` + uuid
//! a [`MaterialStatus`]. The map that commits to them is keyed by the
//! SHA-256 of the state key and holds the SHA-256 of the leaf's canonical
//! CBOR (cbor4ii serde, fields in declaration order, definite lengths), so
//! a verifier who holds a leaf, its key and a map proof can check it against
//! the root a `log_status` entry states. The map itself lives with the log
//! (`status_map`); this module only says what a leaf is.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Bytes32;
use crate::error::Error;
use crate::state::keys;
use crate::state::records::{ActorRecord, CertificateRecord, MaterialRecord};

/// What a status leaf is about: its state key's kind and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StatusKey {
    /// A certificate, by id.
    Certificate(Uuid),
    /// An actor's key, by key id.
    Key(Bytes32),
    /// A material (lot, product, scrap lot), by id.
    Material(Uuid),
}

impl StatusKey {
    /// The state key the leaf is derived from; the map is keyed by its SHA-256.
    pub fn state_key(&self) -> Vec<u8> {
        match self {
            StatusKey::Certificate(id) => keys::certificate(id),
            StatusKey::Key(kid) => keys::actor(&kid.0),
            StatusKey::Material(id) => keys::material(id),
        }
    }

    /// The status key of a state key, if that kind of record has a status.
    pub fn of_state_key(key: &[u8]) -> Option<StatusKey> {
        let uuid = |rest: &[u8]| <[u8; 16]>::try_from(rest).ok().map(Uuid::from_bytes);
        if let Some(rest) = key.strip_prefix(b"cert/") {
            uuid(rest).map(StatusKey::Certificate)
        } else if let Some(rest) = key.strip_prefix(b"material/") {
            uuid(rest).map(StatusKey::Material)
        } else if let Some(rest) = key.strip_prefix(b"actor/") {
            <[u8; 32]>::try_from(rest)
                .ok()
                .map(|k| StatusKey::Key(Bytes32(k)))
        } else {
            None
        }
    }
}

impl core::fmt::Display for StatusKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StatusKey::Certificate(id) => write!(f, "certificate {id}"),
            StatusKey::Key(kid) => write!(f, "key {}", hex::encode(kid.0)),
            StatusKey::Material(id) => write!(f, "material {id}"),
        }
    }
}

/// A certificate's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertificateStatus {
    /// The certificate.
    pub id: Uuid,
    /// The certified material.
    pub subject: Uuid,
    /// The issuer's key id.
    pub issuer: Bytes32,
    /// The issuing entry.
    pub issued_index: u64,
    /// The revoking entry, if revoked.
    pub revoked_index: Option<u64>,
}

/// An actor key's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyStatus {
    /// The key id.
    pub kid: Bytes32,
    /// The registering entry.
    pub registered_index: u64,
    /// The revoking entry, if revoked.
    pub revoked_index: Option<u64>,
}

/// A material's status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialStatus {
    /// The material.
    pub id: Uuid,
    /// Its current owner's key id.
    pub owner: Bytes32,
    /// Mass when created, g.
    pub mass_g: u64,
    /// Mass not yet consumed, g.
    pub remaining_g: u64,
    /// Mass already claimed by certificates, g.
    pub claimed_g: u64,
    /// Every certificate issued on it, in issue order (empty: none exists).
    pub certificates: Vec<Uuid>,
    /// The end-of-life entry, if declared.
    pub end_of_life: Option<u64>,
    /// The last entry that changed the material.
    pub last_index: u64,
}

/// A decoded status leaf.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// See [`CertificateStatus`].
    Certificate(CertificateStatus),
    /// See [`KeyStatus`].
    Key(KeyStatus),
    /// See [`MaterialStatus`].
    Material(MaterialStatus),
}

impl From<&CertificateRecord> for CertificateStatus {
    fn from(c: &CertificateRecord) -> Self {
        CertificateStatus {
            id: c.id,
            subject: c.subject,
            issuer: c.issuer,
            issued_index: c.issued_index,
            revoked_index: c.revoked.as_ref().map(|r| r.index),
        }
    }
}

impl From<&ActorRecord> for KeyStatus {
    fn from(a: &ActorRecord) -> Self {
        KeyStatus {
            kid: a.kid,
            registered_index: a.registered_index,
            revoked_index: a.revoked.as_ref().map(|r| r.index),
        }
    }
}

impl From<&MaterialRecord> for MaterialStatus {
    fn from(m: &MaterialRecord) -> Self {
        MaterialStatus {
            id: m.id,
            owner: m.owner,
            mass_g: m.mass_g,
            remaining_g: m.remaining_g,
            claimed_g: m.claimed_g,
            certificates: m.certificates.clone(),
            end_of_life: m.end_of_life,
            last_index: m
                .history
                .last()
                .map_or(m.created_index, |h| h.index.max(m.created_index)),
        }
    }
}

fn cbor<T: Serialize>(v: &T) -> Result<Vec<u8>, Error> {
    cbor4ii::serde::to_vec(Vec::new(), v).map_err(|e| Error::Encode {
        message: e.to_string(),
    })
}

fn from_cbor<T: serde::de::DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<T, Error> {
    let v: T = cbor4ii::serde::from_slice(bytes).map_err(|e| Error::Decode {
        message: e.to_string(),
    })?;
    if cbor(&v)? != bytes {
        return Err(Error::Decode {
            message: "status leaf is not in the canonical encoding".into(),
        });
    }
    Ok(v)
}

impl Status {
    /// The leaf's canonical CBOR: what the map commits to (by its SHA-256).
    ///
    /// # Errors
    ///
    /// [`Error::Encode`] if serialisation fails (it does not for these types).
    pub fn to_cbor(&self) -> Result<Vec<u8>, Error> {
        match self {
            Status::Certificate(s) => cbor(s),
            Status::Key(s) => cbor(s),
            Status::Material(s) => cbor(s),
        }
    }

    /// Decodes the leaf for `key` from its canonical CBOR, and checks that
    /// it is about that key.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] for bytes that are not the canonical leaf of
    /// that kind, or a leaf whose id is not the key's.
    pub fn from_cbor(key: &StatusKey, bytes: &[u8]) -> Result<Status, Error> {
        let (status, id_matches) = match key {
            StatusKey::Certificate(id) => {
                let s: CertificateStatus = from_cbor(bytes)?;
                let ok = s.id == *id;
                (Status::Certificate(s), ok)
            }
            StatusKey::Key(kid) => {
                let s: KeyStatus = from_cbor(bytes)?;
                let ok = s.kid == *kid;
                (Status::Key(s), ok)
            }
            StatusKey::Material(id) => {
                let s: MaterialStatus = from_cbor(bytes)?;
                let ok = s.id == *id;
                (Status::Material(s), ok)
            }
        };
        if !id_matches {
            return Err(Error::Decode {
                message: format!("the status leaf is not about {key}"),
            });
        }
        Ok(status)
    }

    /// The status a state record gives, if its key is a status key.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] if the record does not decode as its kind.
    pub fn of_record(key: &StatusKey, record: &[u8]) -> Result<Status, Error> {
        let de = |e: cbor4ii::serde::DecodeError<std::convert::Infallible>| Error::Decode {
            message: format!("state record for {key}: {e}"),
        };
        Ok(match key {
            StatusKey::Certificate(_) => {
                let r: CertificateRecord = cbor4ii::serde::from_slice(record).map_err(de)?;
                Status::Certificate((&r).into())
            }
            StatusKey::Key(_) => {
                let r: ActorRecord = cbor4ii::serde::from_slice(record).map_err(de)?;
                Status::Key((&r).into())
            }
            StatusKey::Material(_) => {
                let r: MaterialRecord = cbor4ii::serde::from_slice(record).map_err(de)?;
                Status::Material((&r).into())
            }
        })
    }

    /// The current status of `key` in `state`, if the record exists.
    ///
    /// # Errors
    ///
    /// [`crate::StateError`] if the store fails, or the record does not decode.
    pub fn current(
        state: &impl crate::StateStore,
        key: &StatusKey,
    ) -> Result<Option<Status>, crate::StateError> {
        match state.get(&key.state_key())? {
            None => Ok(None),
            Some(record) => {
                Status::of_record(key, &record)
                    .map(Some)
                    .map_err(|e| crate::StateError::Corrupt {
                        key: hex::encode(key.state_key()),
                        reason: e.to_string(),
                    })
            }
        }
    }
}
