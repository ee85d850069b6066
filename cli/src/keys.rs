//! Key files and the ways a command line names a key or an actor.

use std::path::Path;

use client::keyfile::{Permissions, read_key_file};
use ledger::{NoteSigner, NoteVerifier};
use passport_schema::Bytes32;

use crate::error::{CliError, Result};

/// Reads a signing key file (`PRIVATE+KEY+...`), warning on stderr-bound
/// `warnings` if others can read it.
pub fn read_signer(path: &Path, warnings: &mut Vec<String>) -> Result<NoteSigner> {
    if !path.exists() {
        return Err(CliError::usage(format!(
            "key file {} does not exist (create one with `cupass key new --name ORG -o FILE`)",
            path.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                warnings.push(format!(
                    "key file {} is readable by others (mode {:o}); run chmod 600 on it",
                    path.display(),
                    mode & 0o777
                ));
            }
        }
    }
    read_key_file(path, Permissions::Warn).map_err(|e| CliError::usage(e.to_string()))
}

/// The 32-byte Ed25519 public key of a key file (secret or `.pub`) or of a
/// verifier key string.
fn verifier_from_text(text: &str) -> Option<NoteVerifier> {
    let line = text.trim();
    if line.starts_with("PRIVATE+KEY+") {
        return NoteSigner::parse(line).ok().map(|s| s.verifier().clone());
    }
    NoteVerifier::parse(line).ok()
}

/// A public key given as 64 hex digits, a verifier key string
/// (`name+keyid+base64`), or a path to a key file or `.pub` file.
pub fn parse_public_key(s: &str) -> Result<[u8; 32]> {
    if let Some(b) = Bytes32::from_hex(s) {
        return Ok(b.0);
    }
    if let Some(v) = verifier_from_text(s) {
        return Ok(*v.key().as_bytes());
    }
    let p = Path::new(s);
    if p.is_file() {
        let text = std::fs::read_to_string(p)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", p.display())))?;
        return verifier_from_text(&text)
            .map(|v| *v.key().as_bytes())
            .ok_or_else(|| CliError::usage(format!("{} holds no key string", p.display())));
    }
    Err(CliError::usage(format!(
        "{s:?} is not a public key: give 64 hex digits, a key string name+id+base64, \
         or a key file"
    )))
}

/// An actor's key id given as 64 hex digits, or the key id of a public key
/// (any form [`parse_public_key`] takes).
pub fn parse_kid(s: &str) -> Result<Bytes32> {
    if let Some(b) = Bytes32::from_hex(s) {
        // 64 hex digits are a key id here (a raw public key must come as a key string or file).
        return Ok(b);
    }
    let pk = parse_public_key(s).map_err(|_| {
        CliError::usage(format!(
            "{s:?} is not an actor: give its key id (64 hex digits) or its key file / .pub file"
        ))
    })?;
    Ok(Bytes32(passport_schema::kid_of(&pk)))
}

/// The key id of a signer.
pub fn signer_kid(s: &NoteSigner) -> Bytes32 {
    Bytes32(passport_schema::kid_of(s.verifier().key().as_bytes()))
}

/// A log verifier key given as the key string or a path to a file holding it.
pub fn parse_log_key(s: &str) -> Result<NoteVerifier> {
    if let Ok(v) = NoteVerifier::parse(s.trim()) {
        return Ok(v);
    }
    let p = Path::new(s);
    if p.is_file() {
        let text = std::fs::read_to_string(p)
            .map_err(|e| CliError::usage(format!("cannot read {}: {e}", p.display())))?;
        return NoteVerifier::parse(text.trim()).map_err(|e| {
            CliError::usage(format!(
                "{} does not hold a log key string: {e}",
                p.display()
            ))
        });
    }
    Err(CliError::usage(format!(
        "--log-key {s:?} is neither a key string (origin+keyid+base64) nor a readable file"
    )))
}
