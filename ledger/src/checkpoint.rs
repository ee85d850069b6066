//! C2SP tlog-checkpoint bodies: `<origin>\n<tree size>\n<base64 root>\n`.

use base64::{Engine, engine::general_purpose::STANDARD};

use crate::{
    Error, Result,
    hash::Hash,
    note::{NoteSigner, NoteVerifier},
};

/// A checkpoint: the origin, tree size and root hash a log commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (also the name of its signing key).
    pub origin: String,
    /// Number of entries in the tree.
    pub size: u64,
    /// RFC 9162 root hash of those entries.
    pub root: Hash,
}

impl Checkpoint {
    /// The checkpoint body, ready to be signed as a note.
    pub fn to_body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// Parses a checkpoint body; extension lines after the root are ignored.
    pub fn parse_body(body: &str) -> Result<Checkpoint> {
        let bad = |m: &str| Error::MalformedCheckpoint(m.to_string());
        if !body.ends_with('\n') {
            return Err(bad("body must end with a newline"));
        }
        let mut lines = body.split_terminator('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| bad("missing origin line"))?;
        let size_line = lines.next().ok_or_else(|| bad("missing tree size line"))?;
        let canonical = !size_line.is_empty()
            && size_line.bytes().all(|b| b.is_ascii_digit())
            && (size_line == "0" || !size_line.starts_with('0'));
        if !canonical {
            return Err(bad("tree size is not a canonical decimal number"));
        }
        let size = size_line
            .parse::<u64>()
            .map_err(|_| bad("tree size does not fit in 64 bits"))?;
        let root_line = lines.next().ok_or_else(|| bad("missing root hash line"))?;
        let root = STANDARD
            .decode(root_line)
            .map_err(|_| bad("root hash is not base64"))?;
        let root: Hash = root
            .as_slice()
            .try_into()
            .map_err(|_| bad("root hash is not 32 bytes"))?;
        if lines.any(str::is_empty) {
            return Err(bad("empty extension line"));
        }
        Ok(Checkpoint {
            origin: origin.to_string(),
            size,
            root,
        })
    }

    /// Signs the checkpoint as a note with the log key.
    pub fn sign(&self, signer: &NoteSigner) -> Result<String> {
        if signer.verifier().name() != self.origin {
            return Err(Error::MalformedCheckpoint(format!(
                "origin {:?} differs from the key name {:?}",
                self.origin,
                signer.verifier().name()
            )));
        }
        signer.sign(&self.to_body())
    }

    /// Verifies a signed checkpoint note and parses its body. The origin must
    /// equal the verifier's key name.
    pub fn open(note: &str, verifier: &NoteVerifier) -> Result<Checkpoint> {
        let body = verifier.open(note)?;
        let cp = Checkpoint::parse_body(body)?;
        if cp.origin != verifier.name() {
            return Err(Error::MalformedCheckpoint(format!(
                "origin {:?} is not the log's name {:?}",
                cp.origin,
                verifier.name()
            )));
        }
        Ok(cp)
    }
}
