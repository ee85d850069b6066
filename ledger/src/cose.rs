//! Ledger entries: COSE_Sign1 (RFC 9052) envelopes signed with Ed25519.
//!
//! We accept exactly one encoding: tag 18 around
//! `[protected: bstr, unprotected: {}, payload: bstr, signature: bstr]`,
//! with the protected header `{1: -8, 3: CONTENT_TYPE, 4: kid, "cupass-log":
//! origin}` in that order (RFC 8949 core deterministic order: the integer
//! labels, then the text label) and every length in its shortest form. The
//! `cupass-log` field names the log the entry was signed for (the log's
//! checkpoint origin line); the signature covers it, so an entry cannot be
//! replayed into another log. The entry is decoded, re-encoded and compared,
//! so there is one byte string per signed event and dedup by bytes is
//! meaningful.

use cbor4ii::core::{
    Value,
    dec::Decode,
    enc::{self, Encode},
    types,
    utils::{BufWriter, SliceReader},
};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::{Error, Result, error::hex_hash, hash::Hash, keys::kid};

/// The C2SP tiles limit, and so the largest entry we store.
pub const MAX_ENTRY_SIZE: usize = 65_535;
/// COSE_Sign1's CBOR tag.
pub const COSE_SIGN1_TAG: u64 = 18;
/// The COSE algorithm id for EdDSA.
pub const ALG_EDDSA: i64 = -8;
/// The content type every cupass entry carries in its protected header.
pub const CONTENT_TYPE: &str = "application/vnd.cupass.event+cbor";
/// The protected-header label (a text label) whose value is the origin of
/// the log the entry is signed for.
pub const LOG_LABEL: &str = "cupass-log";
/// The longest log origin an entry may name, in bytes.
pub const MAX_LOG_ORIGIN: usize = 255;

/// Checks that `origin` can be an entry's `cupass-log`: 1 to
/// [`MAX_LOG_ORIGIN`] bytes of printable ASCII without spaces or `+` (a
/// C2SP checkpoint origin that is also a valid note key name).
///
/// # Errors
///
/// [`Error::UnsupportedHeader`] naming what is wrong.
pub fn check_log_origin(origin: &str) -> Result<()> {
    if origin.is_empty() {
        return Err(Error::UnsupportedHeader("the log origin is empty".into()));
    }
    if origin.len() > MAX_LOG_ORIGIN {
        return Err(Error::UnsupportedHeader(format!(
            "the log origin is {} bytes; at most {MAX_LOG_ORIGIN} are allowed",
            origin.len()
        )));
    }
    if let Some(c) = origin.chars().find(|c| !c.is_ascii_graphic() || *c == '+') {
        return Err(Error::UnsupportedHeader(format!(
            "the log origin contains {c:?}; only printable ASCII without spaces or '+' is allowed"
        )));
    }
    Ok(())
}

/// A decoded, not yet verified, COSE_Sign1 entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    kid: Hash,
    log: String,
    protected: Vec<u8>,
    payload: Vec<u8>,
    signature: [u8; 64],
}

fn encode_into(w: &mut BufWriter, v: impl Encode) -> Result<()> {
    v.encode(w)
        .map_err(|e| Error::MalformedEntry(format!("encoding failed: {e:?}")))
}

fn protected_header(kid: &Hash, log: &str) -> Result<Vec<u8>> {
    let mut w = BufWriter::new(Vec::with_capacity(96 + log.len()));
    map_header(&mut w, 4)?;
    encode_into(&mut w, 1u8)?;
    encode_into(&mut w, ALG_EDDSA)?;
    encode_into(&mut w, 3u8)?;
    encode_into(&mut w, CONTENT_TYPE)?;
    encode_into(&mut w, 4u8)?;
    encode_into(&mut w, types::Bytes(&kid[..]))?;
    encode_into(&mut w, LOG_LABEL)?;
    encode_into(&mut w, log)?;
    Ok(w.into_inner())
}

fn map_header(w: &mut BufWriter, len: usize) -> Result<()> {
    types::Map::<()>::bounded(len, w)
        .map_err(|e| Error::MalformedEntry(format!("encoding failed: {e:?}")))
}

/// The COSE `Sig_structure` for Sign1 with empty external AAD.
fn sig_structure(protected: &[u8], payload: &[u8]) -> Result<Vec<u8>> {
    let mut w = BufWriter::new(Vec::with_capacity(protected.len() + payload.len() + 24));
    types::Array::<()>::bounded(4, &mut w)
        .map_err(|e| Error::MalformedEntry(format!("encoding failed: {e:?}")))?;
    encode_into(&mut w, "Signature1")?;
    encode_into(&mut w, types::Bytes(protected))?;
    encode_into(&mut w, types::Bytes(&[][..]))?;
    encode_into(&mut w, types::Bytes(payload))?;
    Ok(w.into_inner())
}

fn malformed(msg: &str) -> Error {
    Error::MalformedEntry(msg.to_string())
}

impl Entry {
    /// Signs `payload` with `key` for the log whose origin is `log_origin`,
    /// producing the entry. The origin goes into the protected header, so
    /// the signature binds the entry to that log.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedHeader`] if `log_origin` fails
    /// [`check_log_origin`]; [`Error::EntryTooLarge`] past 65,535 bytes.
    pub fn sign(key: &SigningKey, log_origin: &str, payload: &[u8]) -> Result<Entry> {
        check_log_origin(log_origin)?;
        let kid = kid(&key.verifying_key());
        let protected = protected_header(&kid, log_origin)?;
        let tbs = sig_structure(&protected, payload)?;
        let signature = key.sign(&tbs).to_bytes();
        let entry = Entry {
            kid,
            log: log_origin.to_string(),
            protected,
            payload: payload.to_vec(),
            signature,
        };
        let size = entry.to_bytes()?.len();
        if size > MAX_ENTRY_SIZE {
            return Err(Error::EntryTooLarge {
                size,
                limit: MAX_ENTRY_SIZE,
            });
        }
        Ok(entry)
    }

    /// Parses entry bytes, accepting only the canonical encoding. Does not verify.
    pub fn from_bytes(bytes: &[u8]) -> Result<Entry> {
        if bytes.len() > MAX_ENTRY_SIZE {
            return Err(Error::EntryTooLarge {
                size: bytes.len(),
                limit: MAX_ENTRY_SIZE,
            });
        }
        let mut reader = SliceReader::new(bytes);
        let value = Value::decode(&mut reader)
            .map_err(|e| Error::MalformedEntry(format!("not CBOR: {e}")))?;
        let Value::Tag(tag, inner) = value else {
            return Err(malformed("not a tagged COSE_Sign1 (expected CBOR tag 18)"));
        };
        if tag != COSE_SIGN1_TAG {
            return Err(Error::WrongTag(tag));
        }
        let Value::Array(items) = *inner else {
            return Err(malformed("COSE_Sign1 body is not an array"));
        };
        let [protected, unprotected, payload, signature]: [Value; 4] =
            items.try_into().map_err(|v: Vec<Value>| {
                Error::MalformedEntry(format!("COSE_Sign1 has {} elements, not 4", v.len()))
            })?;
        let Value::Bytes(protected) = protected else {
            return Err(malformed("protected header is not a byte string"));
        };
        match unprotected {
            Value::Map(m) if m.is_empty() => {}
            Value::Map(_) => {
                return Err(Error::UnsupportedHeader(
                    "unprotected header must be empty".into(),
                ));
            }
            _ => return Err(malformed("unprotected header is not a map")),
        }
        let Value::Bytes(payload) = payload else {
            return Err(malformed(
                "payload is not a byte string (detached payloads are not accepted)",
            ));
        };
        let Value::Bytes(signature) = signature else {
            return Err(malformed("signature is not a byte string"));
        };
        let signature: [u8; 64] = signature.as_slice().try_into().map_err(|_| {
            Error::MalformedEntry(format!("signature is {} bytes, not 64", signature.len()))
        })?;
        let (kid, log) = parse_protected(&protected)?;
        let entry = Entry {
            kid,
            log,
            protected,
            payload,
            signature,
        };
        if entry.to_bytes()? != bytes {
            return Err(Error::NonCanonicalEntry(
                "re-encoding differs (non-shortest lengths, indefinite items or trailing bytes)",
            ));
        }
        Ok(entry)
    }

    /// The canonical encoded entry.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut w = BufWriter::new(Vec::with_capacity(self.payload.len() + 160));
        tag_head(&mut w, COSE_SIGN1_TAG)?;
        types::Array::<()>::bounded(4, &mut w)
            .map_err(|e| Error::MalformedEntry(format!("encoding failed: {e:?}")))?;
        encode_into(&mut w, types::Bytes(self.protected.as_slice()))?;
        map_header(&mut w, 0)?;
        encode_into(&mut w, types::Bytes(self.payload.as_slice()))?;
        encode_into(&mut w, types::Bytes(&self.signature[..]))?;
        Ok(w.into_inner())
    }

    /// The signer's key id (SHA-256 of its public key).
    pub fn kid(&self) -> &Hash {
        &self.kid
    }

    /// The origin of the log this entry was signed for (its `cupass-log`
    /// protected header). Authenticated once [`Entry::verify`] passes.
    pub fn log(&self) -> &str {
        &self.log
    }

    /// The signed payload.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }

    /// The raw 64-byte signature.
    pub fn signature(&self) -> &[u8; 64] {
        &self.signature
    }

    /// The serialized protected header.
    pub fn protected(&self) -> &[u8] {
        &self.protected
    }

    /// The bytes the signature covers (COSE `Sig_structure`).
    pub fn to_be_signed(&self) -> Result<Vec<u8>> {
        sig_structure(&self.protected, &self.payload)
    }

    fn check_kid(&self, key: &VerifyingKey) -> Result<()> {
        let expected = kid(key);
        if expected != self.kid {
            return Err(Error::KidMismatch {
                found: hex_hash(&self.kid),
                expected: hex_hash(&expected),
            });
        }
        Ok(())
    }

    /// Verifies the signature with `verify_strict` against `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<()> {
        self.check_kid(key)?;
        let tbs = self.to_be_signed()?;
        key.verify_strict(&tbs, &Signature::from_bytes(&self.signature))
            .map_err(|e| Error::BadSignature(e.to_string()))
    }
}

fn tag_head(w: &mut BufWriter, tag: u64) -> Result<()> {
    // A tag head is major type 6 with the tag number as its argument.
    let mut tmp = BufWriter::new(Vec::new());
    encode_into(&mut tmp, tag)?;
    let mut head = tmp.into_inner();
    if let Some(first) = head.first_mut() {
        *first |= 6 << 5;
    }
    enc::Write::push(w, &head).map_err(|e| Error::MalformedEntry(format!("encoding failed: {e}")))
}

fn parse_protected(bytes: &[u8]) -> Result<(Hash, String)> {
    let mut reader = SliceReader::new(bytes);
    let value = Value::decode(&mut reader)
        .map_err(|e| Error::MalformedEntry(format!("protected header is not CBOR: {e}")))?;
    let Value::Map(fields) = value else {
        return Err(malformed("protected header is not a map"));
    };
    let (mut alg, mut ct, mut kid, mut log) = (None, None, None, None);
    fn once<T>(slot: &mut Option<T>, v: T, label: &str) -> Result<()> {
        if slot.replace(v).is_some() {
            return Err(Error::UnsupportedHeader(format!(
                "protected header label {label} appears twice"
            )));
        }
        Ok(())
    }
    for (k, v) in fields {
        match (k, v) {
            (Value::Integer(1), Value::Integer(a)) => once(&mut alg, a, "1")?,
            (Value::Integer(3), Value::Text(t)) => once(&mut ct, t, "3")?,
            (Value::Integer(4), Value::Bytes(b)) => once(&mut kid, b, "4")?,
            (Value::Text(l), Value::Text(t)) if l == LOG_LABEL => {
                once(&mut log, t, "\"cupass-log\"")?;
            }
            (Value::Integer(label), _) if matches!(label, 1 | 3 | 4) => {
                return Err(Error::UnsupportedHeader(format!(
                    "header {label} has the wrong type"
                )));
            }
            (Value::Text(l), _) if l == LOG_LABEL => {
                return Err(Error::UnsupportedHeader(format!(
                    "header {LOG_LABEL:?} is not a text string"
                )));
            }
            (k, _) => {
                return Err(Error::UnsupportedHeader(format!(
                    "unexpected protected header label {k:?}"
                )));
            }
        }
    }
    let alg = alg.ok_or_else(|| Error::UnsupportedHeader("missing alg (1)".into()))?;
    if alg != i128::from(ALG_EDDSA) {
        return Err(Error::UnsupportedAlgorithm(
            i64::try_from(alg).unwrap_or(i64::MIN),
        ));
    }
    let ct = ct.ok_or_else(|| Error::UnsupportedHeader("missing content type (3)".into()))?;
    if ct != CONTENT_TYPE {
        return Err(Error::UnsupportedHeader(format!(
            "content type {ct:?}; expected {CONTENT_TYPE:?}"
        )));
    }
    let kid = kid.ok_or_else(|| Error::UnsupportedHeader("missing kid (4)".into()))?;
    let kid: Hash = kid.as_slice().try_into().map_err(|_| {
        Error::UnsupportedHeader(format!(
            "kid is {} bytes; expected 32 (SHA-256 of the key)",
            kid.len()
        ))
    })?;
    let log =
        log.ok_or_else(|| Error::UnsupportedHeader(format!("missing log origin ({LOG_LABEL:?})")))?;
    check_log_origin(&log)?;
    if protected_header(&kid, &log)? != bytes {
        return Err(Error::NonCanonicalEntry(
            "protected header is not in canonical order and form",
        ));
    }
    Ok((kid, log))
}

/// Verifies many entries at once with Ed25519 batch verification.
///
/// Keys must have passed [`crate::keys::checked_verifying_key`]. On failure
/// the entries are re-checked one by one, so the error names the first bad
/// entry's position.
pub fn verify_batch(entries: &[&Entry], keys: &[VerifyingKey]) -> Result<()> {
    if entries.len() != keys.len() {
        return Err(Error::BadSignature(format!(
            "{} entries but {} keys",
            entries.len(),
            keys.len()
        )));
    }
    let mut messages = Vec::with_capacity(entries.len());
    let mut sigs = Vec::with_capacity(entries.len());
    for (e, k) in entries.iter().zip(keys) {
        e.check_kid(k)?;
        messages.push(e.to_be_signed()?);
        sigs.push(Signature::from_bytes(&e.signature));
    }
    let refs: Vec<&[u8]> = messages.iter().map(Vec::as_slice).collect();
    if ed25519_dalek::verify_batch(&refs, &sigs, keys).is_ok() {
        return Ok(());
    }
    for (i, (e, k)) in entries.iter().zip(keys).enumerate() {
        e.verify(k)
            .map_err(|err| Error::BadSignature(format!("entry {i} of the batch: {err}")))?;
    }
    // Batch verification is stricter than verify_strict in rare edge cases.
    Err(Error::BadSignature("batch verification failed".into()))
}
