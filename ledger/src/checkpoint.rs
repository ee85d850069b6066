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

    /// Reads the checkpoint in a signed note **without verifying it**: for
    /// showing what a note claims (a tree size to ask proofs for, a note
    /// whose key is not at hand), never for trusting it. [`Checkpoint::open`]
    /// is the verifying read.
    ///
    /// The note must still have a signed note's form: the checkpoint body, a
    /// blank line and at least one well-formed signature line.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedNote`] if `note` is not in signed-note form (no
    /// blank line, no or malformed signature lines, control characters);
    /// [`Error::MalformedCheckpoint`] if its text is not a checkpoint body.
    ///
    /// # Examples
    ///
    /// ```
    /// use ledger::{Checkpoint, Error, NoteVerifier};
    ///
    /// // A log's checkpoint after five entries, signed with the Go
    /// // `sumdb/note` test key "PeterNeumann".
    /// let note = "PeterNeumann\n5\nfKo0Xb2JKmZFTWxlEuo8PqPw0+whvj/C4jdXBf049nI=\n\n\
    ///     \u{2014} PeterNeumann x08go6+ppVTztWGpLOiLcY3c8WOhAVlTBOF02t1cqU9JLWGYMgTEmdT07\
    ///     t52cnYcCsJQ3XRYu03G0Lcts5Y3xM+G2Qs=\n";
    /// let cp = Checkpoint::parse_note_unverified(note)?;
    /// assert_eq!((cp.origin.as_str(), cp.size), ("PeterNeumann", 5));
    ///
    /// // Nothing was verified: only the log's key says the note is genuine.
    /// let key = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    /// assert_eq!(Checkpoint::open(note, &NoteVerifier::parse(key)?)?, cp);
    /// let forged = note.replacen("\n5\n", "\n6\n", 1);
    /// assert_eq!(Checkpoint::parse_note_unverified(&forged)?.size, 6);
    /// assert!(Checkpoint::open(&forged, &NoteVerifier::parse(key)?).is_err());
    ///
    /// // A body without its signature block is not a note.
    /// assert!(matches!(
    ///     Checkpoint::parse_note_unverified(&cp.to_body()),
    ///     Err(Error::MalformedNote(_))
    /// ));
    /// # Ok::<(), ledger::Error>(())
    /// ```
    pub fn parse_note_unverified(note: &str) -> Result<Checkpoint> {
        Checkpoint::parse_body(crate::note::unverified_text(note)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(size: u64) -> (Checkpoint, String) {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
        let signer = NoteSigner::new("example.org/log", key).unwrap();
        let cp = Checkpoint {
            origin: "example.org/log".into(),
            size,
            root: [9; 32],
        };
        let note = cp.sign(&signer).unwrap();
        (cp, note)
    }

    #[test]
    fn parse_note_unverified_reads_what_open_reads() {
        let (cp, note) = signed(42);
        assert_eq!(Checkpoint::parse_note_unverified(&note).unwrap(), cp);
        // The body callers used to cut out by hand, with its final newline.
        let body = format!("{}\n", note.split("\n\n").next().unwrap());
        assert_eq!(Checkpoint::parse_body(&body).unwrap(), cp);
        // A second signature line (another witness, say) is fine.
        let (_, other) = signed(42);
        let cosigned = format!("{note}{}", other.rsplit("\n\n").next().unwrap());
        assert_eq!(Checkpoint::parse_note_unverified(&cosigned).unwrap(), cp);
    }

    #[test]
    fn parse_note_unverified_refuses_what_is_not_a_signed_note() {
        let (cp, note) = signed(1);
        let bad_note = |n: &str| {
            assert!(
                matches!(
                    Checkpoint::parse_note_unverified(n),
                    Err(Error::MalformedNote(_))
                ),
                "{n:?}"
            );
        };
        bad_note(&cp.to_body());
        bad_note(&format!("{}\n", cp.to_body()));
        bad_note(note.trim_end_matches('\n'));
        bad_note(&note.replace('\u{2014}', "-"));
        bad_note(&format!("{}\n{note}", cp.to_body()));
        bad_note(&note.replacen("\n1\n", "\n1\r\n", 1));
        let sig = note.rsplit("\n\n").next().unwrap();
        bad_note(&format!("{note}{}", sig.repeat(100)));
        assert!(matches!(
            Checkpoint::parse_note_unverified(&note.replacen("\n1\n", "\n01\n", 1)),
            Err(Error::MalformedCheckpoint(_))
        ));
    }
}
