//! Canonical CBOR payloads and the JSON form.
//!
//! cbor4ii is not RFC 8949 deterministic on its own, so canonical form is
//! defined as "what [`encode`] produces" and enforced on decode by
//! re-encoding and comparing bytes. Our types make `encode` deterministic:
//! structs are definite-length maps in declaration order, maps are
//! `BTreeMap` (sorted keys), unit enum variants are text, data-carrying
//! variants are one-entry maps, `None` is CBOR null (never skipped),
//! integers use the shortest form and there are no floats.

use crate::error::Error;
use crate::events::{Event, SCHEMA_VERSION};

/// Maximum payload size: a ledger entry is at most 65,535 bytes.
pub const MAX_PAYLOAD_BYTES: usize = 65_535;

/// The canonical CBOR encoding of an event.
pub fn encode(event: &Event) -> Result<Vec<u8>, Error> {
    cbor4ii::serde::to_vec(Vec::new(), event).map_err(|e| Error::Encode {
        message: e.to_string(),
    })
}

/// Decodes a payload and rejects anything that is not exactly the
/// canonical encoding of the decoded event (non-shortest integers,
/// indefinite lengths, reordered keys, trailing bytes), or whose schema
/// version is not [`SCHEMA_VERSION`].
///
/// Safe on untrusted input: size is checked first, the decoder bounds
/// nesting depth (256) and caps pre-allocation for length prefixes, so a
/// huge declared length fails at end of input instead of allocating.
pub fn decode_canonical(bytes: &[u8]) -> Result<Event, Error> {
    if bytes.len() > MAX_PAYLOAD_BYTES {
        return Err(Error::PayloadTooLarge {
            len: bytes.len(),
            max: MAX_PAYLOAD_BYTES,
        });
    }
    let event: Event = cbor4ii::serde::from_slice(bytes).map_err(|e| Error::Decode {
        message: e.to_string(),
    })?;
    if encode(&event)? != bytes {
        return Err(Error::NonCanonicalPayload);
    }
    if event.schema != SCHEMA_VERSION {
        return Err(Error::UnsupportedSchema {
            found: event.schema,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(event)
}

/// The JSON form of an event (pretty-printed).
pub fn to_json(event: &Event) -> Result<String, Error> {
    serde_json::to_string_pretty(event).map_err(|e| Error::Encode {
        message: e.to_string(),
    })
}

/// Parses the JSON form. On error, `path` names the offending field, e.g.
/// `body.transform.inputs[0].mass_g`.
pub fn from_json(json: &str) -> Result<Event, Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let event: Event = serde_path_to_error::deserialize(&mut de).map_err(|e| Error::Json {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })?;
    de.end().map_err(|e| Error::Json {
        path: ".".to_owned(),
        message: e.to_string(),
    })?;
    if event.schema != SCHEMA_VERSION {
        return Err(Error::UnsupportedSchema {
            found: event.schema,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(event)
}
