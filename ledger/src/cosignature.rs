//! C2SP tlog-cosignature (Ed25519, `cosignature/v1`) and the message bodies
//! of the C2SP tlog-witness `add-checkpoint` call.
//!
//! A cosignature is a signed-note signature line added to a checkpoint by a
//! *witness* (cosigner): `— <name> base64(key id || timestamp || signature)`,
//! where
//!
//! * the key id is the first four bytes of
//!   SHA-256(name || "\n" || 0x04 || 32-byte Ed25519 public key),
//! * the timestamp is a big-endian `u64` POSIX time (at most 2^63 − 1), and
//! * the 64-byte Ed25519 signature is over
//!   `"cosignature/v1\ntime <timestamp>\n"` followed by the whole checkpoint
//!   body (its final newline included, no signature lines).
//!
//! It states that, as of the timestamp, the checkpoint is the largest
//! consistent tree head the witness has observed for the log named by its
//! origin line. Verifier keys are vkeys with signature type 0x04:
//! `<name>+<hex key id>+<base64(0x04 || public key)>`.
//!
//! ```
//! use ledger::cosignature::{Cosigner, CosignatureVerifier};
//! use ledger::{Checkpoint, NoteSigner, keys};
//!
//! let log = NoteSigner::new("example.com/log", keys::generate_signing_key()?)?;
//! let cp = Checkpoint { origin: "example.com/log".into(), size: 3, root: [7; 32] };
//! let note = cp.sign(&log)?;
//!
//! let witness = Cosigner::new("witness.example/w1", keys::generate_signing_key()?)?;
//! let line = witness.cosign(&cp.to_body(), 1_679_315_147)?;
//! let cosigned = format!("{note}{line}");
//!
//! // A relying party holds the witness's vkey.
//! let vkey = witness.verifier().to_string();
//! let verifier = CosignatureVerifier::parse(&vkey)?;
//! assert_eq!(verifier.verify(&cosigned)?, 1_679_315_147);
//! // The log's own signature is still there for the log's verifier.
//! assert_eq!(Checkpoint::open(&cosigned, log.verifier())?, cp);
//! // A note without the line carries no cosignature by this witness.
//! assert!(verifier.verify(&note).is_err());
//! # Ok::<(), ledger::Error>(())
//! ```

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::note::valid_name;
use crate::{Checkpoint, Error, Result, hash::Hash};

/// The vkey signature type (and key id algorithm byte) of Ed25519 `cosignature/v1`.
pub const ALG_COSIGNATURE_V1: u8 = 0x04;
/// The largest timestamp a cosignature may carry (2^63 − 1).
pub const MAX_TIMESTAMP: u64 = i64::MAX as u64;
/// The most consistency proof lines an `add-checkpoint` request may carry.
pub const MAX_PROOF_LINES: usize = 63;
/// The `Content-Type` of a witness's 409 body: its latest cosigned size.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

const SIG_PREFIX: &str = "\u{2014} ";
const HEADER: &str = "cosignature/v1\n";
/// key id (4) || timestamp (8) || Ed25519 signature (64).
const SIG_LEN: usize = 4 + 8 + 64;

/// The 4-byte key id of an Ed25519 cosigner key under `name`:
/// `SHA-256(name || "\n" || 0x04 || key)[:4]`.
pub fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    crate::note::typed_key_id(name, ALG_COSIGNATURE_V1, key)
}

/// The message a `cosignature/v1` signs: the header line, the time line and
/// the checkpoint body.
pub fn signed_message(timestamp: u64, body: &str) -> Vec<u8> {
    format!("{HEADER}time {timestamp}\n{body}").into_bytes()
}

/// One cosignature line, decoded but not verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedCosignature {
    /// The cosigner's key name.
    pub name: String,
    /// The 4-byte key id.
    pub key_id: u32,
    /// The POSIX timestamp of the cosignature.
    pub timestamp: u64,
    /// The Ed25519 signature.
    pub signature: [u8; 64],
}

impl ParsedCosignature {
    /// Decodes `— <name> base64(key id || u64 timestamp || signature)` (with
    /// or without the final newline).
    ///
    /// # Errors
    ///
    /// [`Error::BadCosignature`] if the line lacks the em dash, the name or
    /// valid base64, if the signature is not 4 + 8 + 64 bytes, or if the
    /// timestamp exceeds 2^63 − 1.
    pub fn parse(line: &str) -> Result<Self> {
        let bad = |m: &str| Error::BadCosignature(m.to_string());
        let line = line.strip_suffix('\n').unwrap_or(line);
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or_else(|| bad("signature line lacks the em dash"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("signature line has no key name"))?;
        if !valid_name(name) {
            return Err(bad("invalid key name"));
        }
        let raw = STANDARD
            .decode(b64)
            .map_err(|e| Error::BadCosignature(format!("signature is not base64: {e}")))?;
        let raw: [u8; SIG_LEN] = raw.as_slice().try_into().map_err(|_| {
            Error::BadCosignature(format!(
                "cosignature is {} bytes, not {SIG_LEN} (key id, timestamp, Ed25519 signature)",
                raw.len()
            ))
        })?;
        let (id, rest) = raw.split_at(4);
        let (ts, sig) = rest.split_at(8);
        let key_id = u32::from_be_bytes(id.try_into().map_err(|_| bad("short key id"))?);
        let timestamp = u64::from_be_bytes(ts.try_into().map_err(|_| bad("short timestamp"))?);
        if timestamp > MAX_TIMESTAMP {
            return Err(bad("timestamp exceeds 2^63 - 1"));
        }
        Ok(ParsedCosignature {
            name: name.to_string(),
            key_id,
            timestamp,
            signature: sig.try_into().map_err(|_| bad("short signature"))?,
        })
    }
}

/// Verifies `cosignature/v1` lines by one named Ed25519 witness key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// A verifier for `key` under `name`.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedKey`] if the name is empty or holds `+` or whitespace.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self> {
        if !valid_name(name) {
            return Err(Error::MalformedKey(format!("invalid key name {name:?}")));
        }
        Ok(CosignatureVerifier {
            name: name.to_string(),
            id: key_id(name, &key),
            key,
        })
    }

    /// Parses a vkey `<name>+<hex key id>+<base64(0x04 || public key)>`.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedKey`] if the string is not of that form, the type
    /// byte is not 0x04, the key is not 32 bytes or is a weak (small-order
    /// or mixed-order) point, or the key id does not match name and key.
    pub fn parse(vkey: &str) -> Result<Self> {
        let crate::note::VkeyParts {
            name,
            id_hex,
            id,
            alg,
            key,
        } = crate::note::split_vkey(vkey)?;
        let key = match alg {
            ALG_COSIGNATURE_V1 => crate::keys::checked_verifying_key(&key)
                .map_err(|e| Error::MalformedKey(e.to_string()))?,
            alg => {
                return Err(Error::MalformedKey(format!(
                    "signature type 0x{alg:02x} is not an Ed25519 cosignature/v1 key (0x04)"
                )));
            }
        };
        if key_id(name, &key) != id {
            return Err(Error::MalformedKey(format!(
                "key id {id_hex} does not match the key and name"
            )));
        }
        Ok(CosignatureVerifier {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// The witness's key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 4-byte key id.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The Ed25519 public key.
    pub fn key(&self) -> &VerifyingKey {
        &self.key
    }

    /// Checks one parsed cosignature over `body`, a checkpoint body.
    ///
    /// # Errors
    ///
    /// [`Error::NoCosignature`] if the line is by another name or key id;
    /// [`Error::BadCosignature`] if it is this key's and does not verify.
    pub fn verify_parsed(&self, body: &str, cosig: &ParsedCosignature) -> Result<u64> {
        if cosig.name != self.name || cosig.key_id != self.id {
            return Err(Error::NoCosignature(self.to_string()));
        }
        let msg = signed_message(cosig.timestamp, body);
        self.key
            .verify_strict(&msg, &Signature::from_bytes(&cosig.signature))
            .map_err(|_| Error::BadCosignature(format!("invalid cosignature by {}", self.name)))?;
        Ok(cosig.timestamp)
    }

    /// Finds this witness's cosignature in a signed checkpoint note, verifies
    /// it and returns its timestamp. Lines by other keys are ignored (and
    /// may be anything well-formed: log signatures, other witnesses).
    ///
    /// The log's own signature is not checked here: see
    /// [`Checkpoint::open`] and [`crate::policy::Policy::check_quorum`].
    ///
    /// # Errors
    ///
    /// [`Error::MalformedNote`] or [`Error::MalformedCheckpoint`] if `note`
    /// is not a signed checkpoint note; [`Error::NoCosignature`] if no line
    /// carries this name and key id; [`Error::BadCosignature`] if such a
    /// line is malformed or does not verify.
    pub fn verify(&self, note: &str) -> Result<u64> {
        let body = crate::note::unverified_text(note)?;
        Checkpoint::parse_body(body)?;
        let sigs = note.get(body.len() + 1..).unwrap_or_default();
        let mut found = None;
        for line in sigs.split_terminator('\n') {
            let Some((name, b64)) = line
                .strip_prefix(SIG_PREFIX)
                .and_then(|r| r.split_once(' '))
            else {
                continue;
            };
            if name != self.name {
                continue;
            }
            let id = STANDARD.decode(b64).ok().and_then(|raw| {
                raw.get(..4)
                    .and_then(|id| <[u8; 4]>::try_from(id).ok())
                    .map(u32::from_be_bytes)
            });
            if id != Some(self.id) {
                continue;
            }
            let ts = self.verify_parsed(body, &ParsedCosignature::parse(line)?)?;
            found.get_or_insert(ts);
        }
        found.ok_or_else(|| Error::NoCosignature(self.to_string()))
    }
}

impl std::fmt::Display for CosignatureVerifier {
    /// The vkey string.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, STANDARD.encode(raw))
    }
}

/// Produces `cosignature/v1` lines with one named Ed25519 witness key.
#[derive(Clone)]
pub struct Cosigner {
    verifier: CosignatureVerifier,
    key: SigningKey,
}

impl Cosigner {
    /// A cosigner for `key` under `name`.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedKey`] if the name is empty or holds `+` or whitespace.
    pub fn new(name: &str, key: SigningKey) -> Result<Self> {
        Ok(Cosigner {
            verifier: CosignatureVerifier::new(name, key.verifying_key())?,
            key,
        })
    }

    /// Parses the secret key string written by [`Cosigner::to_secret_string`]:
    /// `PRIVATE+KEY+<name>+<hex key id>+<base64(0x04 || seed)>` (the signed
    /// note signer-key form with the cosignature type byte).
    ///
    /// # Errors
    ///
    /// [`Error::MalformedKey`] if the string is not of that form or its key
    /// id does not match.
    pub fn parse(s: &str) -> Result<Self> {
        let bad = |m: &str| Error::MalformedKey(m.to_string());
        let rest = s
            .trim_end()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| bad("witness key must start with PRIVATE+KEY+"))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad("expected PRIVATE+KEY+<name>+<hex key id>+<base64 key>"));
        };
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| bad("witness key is not base64"))?;
        let seed: [u8; 32] = match raw.split_first() {
            Some((&ALG_COSIGNATURE_V1, seed)) => seed
                .try_into()
                .map_err(|_| bad("Ed25519 seed is not 32 bytes"))?,
            _ => return Err(bad("witness key type is not cosignature/v1 (0x04)")),
        };
        let cosigner = Cosigner::new(name, SigningKey::from_bytes(&seed))?;
        if format!("{:08x}", cosigner.verifier.id) != id_hex.to_ascii_lowercase() {
            return Err(bad("key id does not match the key and name"));
        }
        Ok(cosigner)
    }

    /// The secret key string. It is secret: never log it.
    pub fn to_secret_string(&self) -> String {
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.verifier.name,
            self.verifier.id,
            STANDARD.encode(raw)
        )
    }

    /// The matching verifier (its `Display` is the vkey).
    pub fn verifier(&self) -> &CosignatureVerifier {
        &self.verifier
    }

    /// The witness's key name.
    pub fn name(&self) -> &str {
        &self.verifier.name
    }

    /// Cosigns a checkpoint body at `timestamp` and returns the signature
    /// line, `— <name> <base64>` with its final newline, ready to be
    /// appended to the signed checkpoint note.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedCheckpoint`] if `body` is not a checkpoint body;
    /// [`Error::BadCosignature`] if `timestamp` exceeds 2^63 − 1.
    pub fn cosign(&self, body: &str, timestamp: u64) -> Result<String> {
        if timestamp > MAX_TIMESTAMP {
            return Err(Error::BadCosignature("timestamp exceeds 2^63 - 1".into()));
        }
        if body.contains("\n\n") || body.chars().any(|c| (c as u32) < 0x20 && c != '\n') {
            return Err(Error::MalformedCheckpoint(
                "checkpoint body holds a blank line or a control character".into(),
            ));
        }
        Checkpoint::parse_body(body)?;
        let sig = self.key.sign(&signed_message(timestamp, body));
        let mut raw = Vec::with_capacity(SIG_LEN);
        raw.extend_from_slice(&self.verifier.id.to_be_bytes());
        raw.extend_from_slice(&timestamp.to_be_bytes());
        raw.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{SIG_PREFIX}{} {}\n",
            self.verifier.name,
            STANDARD.encode(raw)
        ))
    }
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("Cosigner")
            .field("verifier", &self.verifier.to_string())
            .finish_non_exhaustive()
    }
}

/// The body of a tlog-witness `add-checkpoint` request: `old <size>\n`, at
/// most 63 base64 consistency proof lines, a blank line, then the signed
/// checkpoint note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// The size of the checkpoint the client believes the witness holds.
    pub old_size: u64,
    /// The consistency proof from `old_size` to the checkpoint's size.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note (it may carry several signatures).
    pub note: String,
}

impl AddCheckpointRequest {
    /// The request body bytes.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedWitnessMessage`] if the proof has more than 63
    /// hashes or the note does not end in a newline.
    pub fn to_body(&self) -> Result<String> {
        if self.proof.len() > MAX_PROOF_LINES {
            return Err(Error::MalformedWitnessMessage(format!(
                "{} proof lines; at most {MAX_PROOF_LINES} may be sent",
                self.proof.len()
            )));
        }
        if !self.note.ends_with('\n') {
            return Err(Error::MalformedWitnessMessage(
                "the checkpoint note must end in a newline".into(),
            ));
        }
        let mut out = format!("old {}\n", self.old_size);
        for h in &self.proof {
            out.push_str(&STANDARD.encode(h));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.note);
        Ok(out)
    }

    /// Parses a request body. The note is only split off, not checked: the
    /// witness verifies it against its log keys.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedWitnessMessage`] if the body is not UTF-8, the old
    /// size line is not `old` and a canonical decimal, a proof line is not a
    /// base64 32-byte hash, there are more than 63 of them, or the blank
    /// line or the note is missing.
    pub fn parse(body: &[u8]) -> Result<Self> {
        let bad = |m: &str| Error::MalformedWitnessMessage(m.to_string());
        let body = std::str::from_utf8(body).map_err(|_| bad("body is not UTF-8"))?;
        let (first, mut rest) = body
            .split_once('\n')
            .ok_or_else(|| bad("missing the old size line"))?;
        let size = first
            .strip_prefix("old ")
            .ok_or_else(|| bad("first line must be `old <size>`"))?;
        let old_size =
            parse_decimal(size).ok_or_else(|| bad("old size is not a canonical decimal"))?;
        let mut proof = Vec::new();
        loop {
            let (line, after) = rest
                .split_once('\n')
                .ok_or_else(|| bad("missing the blank line before the checkpoint"))?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(bad("more than 63 consistency proof lines"));
            }
            let raw = STANDARD
                .decode(line)
                .map_err(|_| bad("proof line is not base64"))?;
            proof.push(
                raw.as_slice()
                    .try_into()
                    .map_err(|_| bad("proof line is not a 32-byte hash"))?,
            );
        }
        if rest.is_empty() || !rest.ends_with('\n') {
            return Err(bad("missing the checkpoint note"));
        }
        Ok(AddCheckpointRequest {
            old_size,
            proof,
            note: rest.to_string(),
        })
    }
}

/// A canonical ASCII decimal: digits, no leading zero unless it is `0`.
fn parse_decimal(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

/// The body of a 409 response (`Content-Type: text/x.tlog.size`): the size
/// of the latest cosigned checkpoint in decimal and a newline.
pub fn size_body(size: u64) -> String {
    format!("{size}\n")
}

/// Parses a 409 `text/x.tlog.size` body.
///
/// # Errors
///
/// [`Error::MalformedWitnessMessage`] unless the body is a canonical
/// decimal followed by exactly one newline.
pub fn parse_size_body(body: &[u8]) -> Result<u64> {
    std::str::from_utf8(body)
        .ok()
        .and_then(|s| s.strip_suffix('\n'))
        .and_then(parse_decimal)
        .ok_or_else(|| {
            Error::MalformedWitnessMessage("size body is not `<decimal size>\\n`".into())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hash::sha256;

    /// The cosigned checkpoint in C2SP tlog-cosignature.
    const SPEC_COSIGNED: &str = "example.com/behind-the-sofa\n20852163\n\
        CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
        \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
        \u{2014} witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";

    /// The request body in C2SP tlog-witness.
    const SPEC_REQUEST: &str = "old 20852014\n\
        PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n\
        jrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n\
        5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n\
        /6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\
        \n\
        example.com/behind-the-sofa\n\
        20852163\n\
        CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\
        \n\
        \u{2014} example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n\
        \u{2014} example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";

    fn cosigner(seed: u8) -> Cosigner {
        Cosigner::new("witness.example/w1", SigningKey::from_bytes(&[seed; 32])).unwrap()
    }

    #[test]
    fn spec_example_line_decodes_to_the_spec_timestamp() {
        let line = SPEC_COSIGNED.lines().last().unwrap();
        let c = ParsedCosignature::parse(line).unwrap();
        assert_eq!(c.name, "witness.example.com/w1");
        assert_eq!(c.key_id, 0x8d66_cf3f);
        // The spec's signed message example shows `time 1679315147`.
        assert_eq!(c.timestamp, 1_679_315_147);
    }

    #[test]
    fn signed_message_is_the_spec_example() {
        let body = SPEC_COSIGNED.split("\n\n").next().unwrap().to_string() + "\n";
        let msg = signed_message(1_679_315_147, &body);
        assert_eq!(
            String::from_utf8(msg).unwrap(),
            "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n\
             CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        );
    }

    #[test]
    fn key_id_uses_type_byte_4() {
        let c = cosigner(1);
        let mut buf = b"witness.example/w1\n\x04".to_vec();
        buf.extend_from_slice(c.verifier().key().as_bytes());
        let h = sha256(&buf);
        assert_eq!(
            c.verifier().key_id().to_be_bytes(),
            [h[0], h[1], h[2], h[3]]
        );
        // Not the signed-note (0x01) key id.
        assert_ne!(
            c.verifier().key_id(),
            crate::note::key_id("witness.example/w1", c.verifier().key())
        );
    }

    #[test]
    fn line_layout_is_keyid_timestamp_signature() {
        let c = cosigner(2);
        let body = "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let line = c.cosign(body, 0x0102_0304_0506_0708).unwrap();
        let b64 = line
            .strip_prefix("\u{2014} witness.example/w1 ")
            .unwrap()
            .strip_suffix('\n')
            .unwrap();
        let raw = STANDARD.decode(b64).unwrap();
        assert_eq!(raw.len(), 76);
        assert_eq!(raw[..4], c.verifier().key_id().to_be_bytes());
        assert_eq!(raw[4..12], [1, 2, 3, 4, 5, 6, 7, 8]);
        let sig = Signature::from_bytes(&raw[12..].try_into().unwrap());
        c.verifier()
            .key()
            .verify_strict(&signed_message(0x0102_0304_0506_0708, body), &sig)
            .unwrap();
    }

    #[test]
    fn verify_finds_checks_and_refuses() {
        let c = cosigner(3);
        let body = "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
        let log_line = SPEC_COSIGNED.lines().nth(4).unwrap();
        let note = format!("{body}\n{log_line}\n");
        let line = c.cosign(body, 42).unwrap();
        let v = c.verifier();
        assert_eq!(v.verify(&format!("{note}{line}")).unwrap(), 42);
        // Missing.
        assert!(matches!(v.verify(&note), Err(Error::NoCosignature(_))));
        // Over another body.
        let other = note.replacen("\n1\n", "\n2\n", 1);
        assert!(matches!(
            v.verify(&format!("{other}{line}")),
            Err(Error::BadCosignature(_))
        ));
        // Another key under the same name is not this witness.
        let imposter = cosigner(4).cosign(body, 42).unwrap();
        assert!(matches!(
            v.verify(&format!("{note}{imposter}")),
            Err(Error::NoCosignature(_))
        ));
        // Timestamp flipped: the signature covers it.
        let raw = STANDARD
            .decode(line.trim_end().rsplit(' ').next().unwrap())
            .unwrap();
        let mut tampered = raw.clone();
        tampered[11] ^= 1;
        let tampered = format!(
            "\u{2014} witness.example/w1 {}\n",
            STANDARD.encode(&tampered)
        );
        assert!(matches!(
            v.verify(&format!("{note}{tampered}")),
            Err(Error::BadCosignature(_))
        ));
        // Timestamp above 2^63 - 1.
        let mut huge = raw;
        huge[4] = 0x80;
        let huge = format!("\u{2014} witness.example/w1 {}\n", STANDARD.encode(&huge));
        assert!(matches!(
            v.verify(&format!("{note}{huge}")),
            Err(Error::BadCosignature(_))
        ));
        assert!(c.cosign(body, MAX_TIMESTAMP + 1).is_err());
        assert!(c.cosign("not a checkpoint\n", 1).is_err());
    }

    #[test]
    fn vkeys_round_trip_and_refuse_other_types() {
        let c = cosigner(5);
        let vkey = c.verifier().to_string();
        assert_eq!(&CosignatureVerifier::parse(&vkey).unwrap(), c.verifier());
        // A signed-note (type 0x01) vkey for the same key is refused.
        let note_vkey = crate::NoteVerifier::new("witness.example/w1", *c.verifier().key())
            .unwrap()
            .to_string();
        assert!(CosignatureVerifier::parse(&note_vkey).is_err());
        // A wrong key id is refused.
        let mut wrong = vkey.clone();
        wrong.replace_range(19..20, if &vkey[19..20] == "0" { "1" } else { "0" });
        assert!(CosignatureVerifier::parse(&wrong).is_err());
        // A small-order key is refused.
        let mut raw = vec![ALG_COSIGNATURE_V1];
        raw.extend_from_slice(&[0; 32]);
        raw[1] = 1; // the identity point
        let id = {
            let mut buf = b"w\n\x04".to_vec();
            buf.extend_from_slice(&raw[1..]);
            let h = sha256(&buf);
            u32::from_be_bytes([h[0], h[1], h[2], h[3]])
        };
        assert!(
            CosignatureVerifier::parse(&format!("w+{id:08x}+{}", STANDARD.encode(raw))).is_err()
        );
        // Secret key strings round trip.
        let secret = c.to_secret_string();
        assert_eq!(Cosigner::parse(&secret).unwrap().verifier(), c.verifier());
        assert!(Cosigner::parse(&secret.replace("w1+", "w2+")).is_err());
    }

    #[test]
    fn spec_request_parses_and_re_encodes_byte_for_byte() {
        let req = AddCheckpointRequest::parse(SPEC_REQUEST.as_bytes()).unwrap();
        assert_eq!(req.old_size, 20_852_014);
        assert_eq!(req.proof.len(), 4);
        assert_eq!(
            STANDARD.encode(req.proof[0]),
            "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw="
        );
        assert!(
            req.note
                .starts_with("example.com/behind-the-sofa\n20852163\n")
        );
        let cp = Checkpoint::parse_note_unverified(&req.note).unwrap();
        assert_eq!(cp.size, 20_852_163);
        assert_eq!(req.to_body().unwrap(), SPEC_REQUEST);
    }

    #[test]
    fn malformed_requests_are_refused() {
        let note = SPEC_REQUEST.split_once("\n\n").unwrap().1;
        for body in [
            String::new(),
            "old 1".to_string(),
            format!("old 01\n\n{note}"),
            format!("old -1\n\n{note}"),
            format!("old  1\n\n{note}"),
            format!("new 1\n\n{note}"),
            format!("old 1\nnot base64!\n\n{note}"),
            format!("old 1\nAAAA\n\n{note}"),
            "old 1\n\n".to_string(),
            "old 1\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n".to_string(),
            format!(
                "old 1\n{}\n{note}",
                "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n".repeat(64)
            ),
        ] {
            assert!(
                matches!(
                    AddCheckpointRequest::parse(body.as_bytes()),
                    Err(Error::MalformedWitnessMessage(_))
                ),
                "{body:?}"
            );
        }
        assert!(AddCheckpointRequest::parse(b"old 1\n\n\xff\n").is_err());
        // 63 lines are fine.
        let ok = format!(
            "old 1\n{}\n{note}",
            "PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n".repeat(63)
        );
        assert_eq!(
            AddCheckpointRequest::parse(ok.as_bytes())
                .unwrap()
                .proof
                .len(),
            63
        );
    }

    #[test]
    fn size_body_is_decimal_and_newline() {
        assert_eq!(size_body(20_852_014), "20852014\n");
        assert_eq!(size_body(0), "0\n");
        assert_eq!(parse_size_body(b"20852014\n").unwrap(), 20_852_014);
        for bad in [&b"20852014"[..], b"020\n", b"1\n\n", b" 1\n", b"", b"x\n"] {
            assert!(parse_size_body(bad).is_err(), "{bad:?}");
        }
    }
}
