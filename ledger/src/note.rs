//! C2SP signed notes with Ed25519 keys, and their key strings.
//!
//! A note is UTF-8 text ending in a newline, a blank line, then one line per
//! signature: `— <name> <base64(key id || signature)>`. The key id is the
//! first four bytes of SHA-256(name || "\n" || 0x01 || public key). Key
//! strings are the Go `sumdb/note` forms:
//! `<name>+<hex id>+<base64(0x01 || public key)>` for verifiers and
//! `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>` for signers.

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use crate::{Error, Result, hash::sha256};

/// The signed-note algorithm byte for Ed25519.
pub const ALG_ED25519: u8 = 0x01;
const SIG_PREFIX: &str = "\u{2014} ";
/// Most signature lines a note may carry before we stop reading it.
const MAX_SIGNATURES: usize = 100;

/// A key name must be non-empty and contain no `+` or whitespace.
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c == '+' || c.is_whitespace())
}

/// The 4-byte key id of an Ed25519 key under `name`.
pub fn key_id(name: &str, key: &VerifyingKey) -> u32 {
    typed_key_id(name, ALG_ED25519, key)
}

/// `SHA-256(name || "\n" || type byte || key)[:4]`: the key id of the
/// signed-note and cosignature key types alike.
pub(crate) fn typed_key_id(name: &str, alg: u8, key: &VerifyingKey) -> u32 {
    let mut buf = Vec::with_capacity(name.len() + 34);
    buf.extend_from_slice(name.as_bytes());
    buf.push(b'\n');
    buf.push(alg);
    buf.extend_from_slice(key.as_bytes());
    let h = sha256(&buf);
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// The parts of a verifier key string `<name>+<hex key id>+<base64(type ||
/// key)>`: name, key id (as written and as a number), type byte and key
/// bytes. The caller checks the type, the key and that the id matches.
pub(crate) struct VkeyParts<'a> {
    pub(crate) name: &'a str,
    pub(crate) id_hex: &'a str,
    pub(crate) id: u32,
    pub(crate) alg: u8,
    pub(crate) key: Vec<u8>,
}

/// Splits a verifier key string (see [`VkeyParts`]).
pub(crate) fn split_vkey(s: &str) -> Result<VkeyParts<'_>> {
    let mut parts = s.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(Error::MalformedKey(
            "expected <name>+<hex key id>+<base64 key>".into(),
        ));
    };
    if !valid_name(name) {
        return Err(Error::MalformedKey(format!("invalid key name {name:?}")));
    }
    let id = parse_key_id(id_hex)?;
    let raw = STANDARD
        .decode(b64)
        .map_err(|e| Error::MalformedKey(format!("key is not base64: {e}")))?;
    let Some((&alg, key)) = raw.split_first() else {
        return Err(Error::MalformedKey("empty key".into()));
    };
    Ok(VkeyParts {
        name,
        id_hex,
        id,
        alg,
        key: key.to_vec(),
    })
}

/// Verifies notes signed by one named Ed25519 key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    /// Builds a verifier for `key` under `name`.
    pub fn new(name: &str, key: VerifyingKey) -> Result<Self> {
        if !valid_name(name) {
            return Err(Error::MalformedKey(format!("invalid key name {name:?}")));
        }
        Ok(NoteVerifier {
            name: name.to_string(),
            id: key_id(name, &key),
            key,
        })
    }

    /// Parses `<name>+<hex id>+<base64(0x01 || key)>`.
    pub fn parse(s: &str) -> Result<Self> {
        let VkeyParts {
            name,
            id_hex,
            id,
            alg,
            key,
        } = split_vkey(s)?;
        let key = match alg {
            ALG_ED25519 if key.len() == 32 => crate::keys::checked_verifying_key(&key)
                .map_err(|e| Error::MalformedKey(e.to_string()))?,
            ALG_ED25519 => {
                return Err(Error::MalformedKey(format!(
                    "Ed25519 key is {} bytes, not 32",
                    key.len()
                )));
            }
            alg => {
                return Err(Error::MalformedKey(format!(
                    "unsupported algorithm byte 0x{alg:02x}; only Ed25519 (0x01)"
                )));
            }
        };
        if key_id(name, &key) != id {
            return Err(Error::MalformedKey(format!(
                "key id {id_hex} does not match the key and name"
            )));
        }
        Ok(NoteVerifier {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// The key name (for a log, its origin).
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

    /// Opens a signed note: checks its form and that it carries a valid
    /// signature by this key. Returns the note text (with its final newline).
    ///
    /// Signatures by other keys are ignored; a bad signature by this key fails.
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str> {
        let (text, sigs) = split_note(note)?;
        let mut count = 0;
        let mut verified = false;
        for line in sigs.split_terminator('\n') {
            count += 1;
            if count > MAX_SIGNATURES {
                return Err(Error::MalformedNote("too many signature lines".into()));
            }
            let (name, id, sig) = parse_sig_line(line)?;
            if name != self.name || id != self.id {
                continue;
            }
            let sig: [u8; 64] = sig.as_slice().try_into().map_err(|_| {
                Error::NoteSignature(format!("Ed25519 signature is {} bytes, not 64", sig.len()))
            })?;
            self.key
                .verify_strict(text.as_bytes(), &Signature::from_bytes(&sig))
                .map_err(|_| Error::NoteSignature(format!("invalid signature by {}", self.name)))?;
            verified = true;
        }
        if !verified {
            return Err(Error::NoteSignature(format!(
                "no signature by {}+{:08x}",
                self.name, self.id
            )));
        }
        Ok(text)
    }
}

impl std::fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, STANDARD.encode(raw))
    }
}

fn parse_key_id(hex: &str) -> Result<u32> {
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::MalformedKey(format!(
            "key id {hex:?} is not 8 hex digits"
        )));
    }
    u32::from_str_radix(hex, 16).map_err(|e| Error::MalformedKey(e.to_string()))
}

/// The text of a signed note, checking only its form: a text without blank
/// lines, a blank line, and well-formed signature lines. No signature is
/// verified, so the text must not be trusted.
pub(crate) fn unverified_text(note: &str) -> Result<&str> {
    let (text, sigs) = split_note(note)?;
    if text.contains("\n\n") {
        return Err(Error::MalformedNote("blank line in the note text".into()));
    }
    for (count, line) in sigs.split_terminator('\n').enumerate() {
        if count >= MAX_SIGNATURES {
            return Err(Error::MalformedNote("too many signature lines".into()));
        }
        parse_sig_line(line)?;
    }
    Ok(text)
}

/// Splits a note into its text and signature block, checking the form.
fn split_note(note: &str) -> Result<(&str, &str)> {
    if note.chars().any(|c| (c as u32) < 0x20 && c != '\n') {
        return Err(Error::MalformedNote("control character in note".into()));
    }
    let split = note
        .rfind("\n\n")
        .ok_or_else(|| Error::MalformedNote("no blank line before the signatures".into()))?;
    let text = note.get(..=split).unwrap_or_default();
    let sigs = note.get(split + 2..).unwrap_or_default();
    if sigs.is_empty() || !sigs.ends_with('\n') {
        return Err(Error::MalformedNote(
            "signature block is empty or lacks its final newline".into(),
        ));
    }
    Ok((text, sigs))
}

fn parse_sig_line(line: &str) -> Result<(&str, u32, Vec<u8>)> {
    let rest = line.strip_prefix(SIG_PREFIX).ok_or_else(|| {
        Error::MalformedNote(format!("signature line {line:?} lacks the em dash"))
    })?;
    let (name, b64) = rest
        .split_once(' ')
        .ok_or_else(|| Error::MalformedNote("signature line has no key name".into()))?;
    if !valid_name(name) || b64.is_empty() {
        return Err(Error::MalformedNote("malformed signature line".into()));
    }
    let raw = STANDARD
        .decode(b64)
        .map_err(|e| Error::MalformedNote(format!("signature is not base64: {e}")))?;
    if raw.len() < 5 {
        return Err(Error::MalformedNote("signature too short".into()));
    }
    let (id, sig) = raw.split_at(4);
    let id: [u8; 4] = id
        .try_into()
        .map_err(|_| Error::MalformedNote("signature too short".into()))?;
    let id = u32::from_be_bytes(id);
    Ok((name, id, sig.to_vec()))
}

/// Signs notes with one named Ed25519 key.
#[derive(Clone)]
pub struct NoteSigner {
    verifier: NoteVerifier,
    key: SigningKey,
}

impl NoteSigner {
    /// Builds a signer for `key` under `name`.
    pub fn new(name: &str, key: SigningKey) -> Result<Self> {
        Ok(NoteSigner {
            verifier: NoteVerifier::new(name, key.verifying_key())?,
            key,
        })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 || seed)>`.
    pub fn parse(s: &str) -> Result<Self> {
        let rest = s
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| Error::MalformedKey("signer key must start with PRIVATE+KEY+".into()))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id_hex), Some(b64)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(Error::MalformedKey(
                "expected PRIVATE+KEY+<name>+<hex key id>+<base64 key>".into(),
            ));
        };
        let id = parse_key_id(id_hex)?;
        let raw = STANDARD
            .decode(b64)
            .map_err(|_| Error::MalformedKey("signer key is not base64".into()))?;
        let seed: [u8; 32] = match raw.split_first() {
            Some((&ALG_ED25519, seed)) => seed
                .try_into()
                .map_err(|_| Error::MalformedKey("Ed25519 seed is not 32 bytes".into()))?,
            _ => {
                return Err(Error::MalformedKey(
                    "unsupported signer key algorithm".into(),
                ));
            }
        };
        let signer = NoteSigner::new(name, SigningKey::from_bytes(&seed))?;
        if signer.verifier.id != id {
            return Err(Error::MalformedKey(format!(
                "key id {id_hex} does not match the key and name"
            )));
        }
        Ok(signer)
    }

    /// The signer key string. It is secret: never log it.
    pub fn to_secret_string(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.verifier.name,
            self.verifier.id,
            STANDARD.encode(raw)
        )
    }

    /// The 32-byte Ed25519 seed. It is secret: never log it.
    pub fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// The matching verifier.
    pub fn verifier(&self) -> &NoteVerifier {
        &self.verifier
    }

    /// Signs `text` (which must end in a newline) and returns the signed note.
    pub fn sign(&self, text: &str) -> Result<String> {
        if !text.ends_with('\n') || text.contains("\n\n") {
            return Err(Error::MalformedNote(
                "note text must end in a newline and contain no blank line".into(),
            ));
        }
        if text.chars().any(|c| (c as u32) < 0x20 && c != '\n') {
            return Err(Error::MalformedNote(
                "control character in note text".into(),
            ));
        }
        let sig = self.key.sign(text.as_bytes());
        let mut raw = self.verifier.id.to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        Ok(format!(
            "{text}\n{SIG_PREFIX}{} {}\n",
            self.verifier.name,
            STANDARD.encode(raw)
        ))
    }
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("NoteSigner")
            .field("verifier", &self.verifier.to_string())
            .finish_non_exhaustive()
    }
}
