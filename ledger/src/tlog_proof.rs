//! C2SP tlog-proof (`c2sp.org/tlog-proof@v1`): one entry's offline-verifiable
//! proof of inclusion, as a small text file (extension `.tlog-proof`).
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64 opaque data>          (optional)
//! index <decimal entry index>
//! <base64 hash>                       (zero or more: the inclusion proof,
//! <base64 hash>                        leaf's sibling first, RFC 6962 §2.1.1)
//!
//! <the log's signed checkpoint note, verbatim, with any witness cosignatures>
//! ```
//!
//! Lines end in U+000A only. The `index` is an ASCII decimal without leading
//! zeroes (unless it is `0`); every hash is the standard (RFC 4648 §4,
//! padded, canonical) base64 of exactly 32 bytes; `extra`, when present, is
//! non-empty canonical base64 (no extra data means no `extra` line).
//!
//! **cupass convention.** cupass writes the entry's own COSE_Sign1 bytes as
//! the `extra` data, so a `.tlog-proof` file is self-contained: it carries
//! the entry, where it is, and the signed tree it is in
//! ([`TlogProof::for_entry`], [`TlogProof::verify_self_contained`]). The
//! spec says the extra data is not authenticated, and it is not trusted
//! here either: it is only a candidate entry, which counts once its leaf
//! hash is proved to be at `index` in the signed tree.
//!
//! [`TlogProof::parse`] checks the form only (so the spec's own example,
//! whose signatures are placeholders, parses); [`TlogProof::verify`] checks
//! the log's signature, the inclusion and, given a witness policy, its
//! quorum.
//!
//! ```
//! use ledger::{Log, MemoryStore, NoteSigner, cose::Entry, keys, tlog_proof::TlogProof};
//!
//! let log_key = NoteSigner::new("example.org/log", keys::generate_signing_key()?)?;
//! let log = Log::create(MemoryStore::new(), log_key)?;
//! let author = keys::generate_signing_key()?;
//! let entries = (0..5u8)
//!     .map(|i| Entry::sign(&author, "example.org/log", &[i]).and_then(|e| e.to_bytes()))
//!     .collect::<Result<Vec<_>, _>>()?;
//! let refs: Vec<&[u8]> = entries.iter().map(Vec::as_slice).collect();
//! let size = log.append_batch(&refs, Vec::new())?.tree_size;
//!
//! // Export entry 3 against the current checkpoint.
//! let note = log.checkpoint()?;
//! let proof = TlogProof::for_entry(&entries[3], &log.inclusion_proof(3, size)?, &note)?;
//! let text = proof.to_text()?;
//! assert!(text.starts_with("c2sp.org/tlog-proof@v1\nextra "));
//! assert!(text.ends_with(&note));
//!
//! // Round trip, then verify offline with only the log's key.
//! let back = TlogProof::parse(&text)?;
//! assert_eq!(back, proof);
//! let cp = back.verify_self_contained(log.verifier(), None)?;
//! assert_eq!(cp.size, size);
//! back.verify(&entries[3], log.verifier(), None)?;
//!
//! // Another entry, or the same proof moved to another index, is refused.
//! assert!(back.verify(&entries[2], log.verifier(), None).is_err());
//! let moved = TlogProof::parse(&text.replacen("\nindex 3\n", "\nindex 2\n", 1))?;
//! assert!(moved.verify_self_contained(log.verifier(), None).is_err());
//! # Ok::<(), ledger::Error>(())
//! ```

use base64::{Engine, engine::general_purpose::STANDARD};

use crate::{
    Error, Result,
    checkpoint::Checkpoint,
    hash::{Hash, leaf_hash},
    merkle::verify_inclusion,
    note::NoteVerifier,
    policy::Policy,
    proof::InclusionProof,
};

/// The first line of every tlog-proof.
pub const HEADER: &str = "c2sp.org/tlog-proof@v1";
/// The file extension the spec recommends (without the dot).
pub const FILE_EXTENSION: &str = "tlog-proof";
/// Longest tlog-proof text [`TlogProof::parse`] reads, in bytes.
pub const MAX_TEXT: usize = 256 * 1024;
/// Most extra bytes a proof may carry: the largest entry the log accepts.
pub const MAX_EXTRA: usize = crate::cose::MAX_ENTRY_SIZE;
/// Most inclusion-proof hashes: a tree of fewer than 2^64 leaves needs at most 64.
pub const MAX_HASHES: usize = 64;
/// Most signature lines the checkpoint note may carry (as [`crate::note`]).
const MAX_SIGNATURES: usize = 100;
const SIG_PREFIX: &str = "\u{2014} ";

/// A parsed C2SP tlog-proof.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    /// Opaque, unauthenticated extra data; for cupass, the entry's COSE bytes.
    /// `None` and an empty vector are both written as no `extra` line; only
    /// `None` parses back.
    pub extra: Option<Vec<u8>>,
    /// Zero-based index of the entry in the log.
    pub index: u64,
    /// Inclusion proof in the checkpointed tree, leaf's sibling first.
    pub hashes: Vec<Hash>,
    /// The log's signed checkpoint note, verbatim (ends in a newline).
    pub checkpoint: String,
}

fn malformed(m: impl Into<String>) -> Error {
    Error::MalformedTlogProof(m.into())
}

/// A key name as signed notes allow it: non-empty, no `+`, no whitespace.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c == '+' || c.is_whitespace())
}

/// Splits off the next line (without its newline); a missing newline is a
/// truncated proof.
fn next_line<'a>(rest: &'a str, what: &str) -> Result<(&'a str, &'a str)> {
    rest.split_once('\n')
        .ok_or_else(|| malformed(format!("truncated: missing {what}")))
}

/// Checks the checkpoint note's form: a checkpoint body, a blank line, and
/// 1 to 100 signature lines `— <name> <signature>` ending in a newline. The
/// signatures' encodings are not checked here: [`Checkpoint::open`] does.
fn check_note_form(note: &str) -> Result<()> {
    let (body, sigs) = note
        .split_once("\n\n")
        .ok_or_else(|| malformed("checkpoint: truncated: no blank line before its signatures"))?;
    // `body` lost its final newline to the split.
    let body = note.get(..=body.len()).unwrap_or_default();
    Checkpoint::parse_body(body).map_err(|e| malformed(format!("checkpoint: {e}")))?;
    if sigs.is_empty() {
        return Err(malformed("checkpoint: truncated: no signature lines"));
    }
    if !sigs.ends_with('\n') {
        return Err(malformed(
            "truncated: the last signature line lacks its newline",
        ));
    }
    for (n, line) in sigs.split_terminator('\n').enumerate() {
        if n >= MAX_SIGNATURES {
            return Err(malformed(format!(
                "checkpoint: more than {MAX_SIGNATURES} signature lines"
            )));
        }
        let rest = line.strip_prefix(SIG_PREFIX).ok_or_else(|| {
            malformed(format!(
                "checkpoint: signature line {line:?} does not start with \"\u{2014} \""
            ))
        })?;
        let ok = rest
            .split_once(' ')
            .is_some_and(|(name, sig)| valid_name(name) && !sig.is_empty() && !sig.contains(' '));
        if !ok {
            return Err(malformed(format!(
                "checkpoint: signature line {line:?} is not \"\u{2014} <name> <signature>\""
            )));
        }
    }
    Ok(())
}

impl TlogProof {
    /// The cupass form: a proof for `entry` that carries the entry itself as
    /// `extra`, from an inclusion proof and the checkpoint note to ship
    /// (e.g. a node's `/checkpoint`, with its witness cosignatures).
    ///
    /// Nothing is trusted here: the entry, the proof and the note must only
    /// agree (same leaf hash, same tree size and root, a path that leads to
    /// that root). [`TlogProof::verify`] is what checks signatures.
    ///
    /// # Errors
    ///
    /// [`Error::BadProof`] if `entry` does not hash to the proof's leaf, the
    /// proof is for another tree than `checkpoint`, or its path does not
    /// lead to the root; [`Error::MalformedNote`] /
    /// [`Error::MalformedCheckpoint`] if `checkpoint` is not a signed
    /// checkpoint note; [`Error::EntryTooLarge`] for an entry above
    /// [`MAX_EXTRA`] bytes.
    pub fn for_entry(entry: &[u8], proof: &InclusionProof, checkpoint: &str) -> Result<TlogProof> {
        if entry.len() > MAX_EXTRA {
            return Err(Error::EntryTooLarge {
                size: entry.len(),
                limit: MAX_EXTRA,
            });
        }
        if leaf_hash(entry) != proof.leaf_hash {
            return Err(Error::BadProof(
                "entry does not hash to the proof's leaf hash".into(),
            ));
        }
        let cp = Checkpoint::parse_note_unverified(checkpoint)?;
        if cp.size != proof.tree_size || cp.root != proof.root {
            return Err(Error::BadProof(format!(
                "the inclusion proof is for tree size {}, the checkpoint for tree size {} \
                 (or their roots differ)",
                proof.tree_size, cp.size
            )));
        }
        verify_inclusion(
            proof.index,
            proof.tree_size,
            &proof.leaf_hash,
            &proof.hashes,
            &proof.root,
        )?;
        Ok(TlogProof {
            extra: Some(entry.to_vec()),
            index: proof.index,
            hashes: proof.hashes.clone(),
            checkpoint: checkpoint.to_string(),
        })
    }

    /// The proof's text, byte for byte as the spec lays it out.
    ///
    /// The text is parsed back before it is returned, so this never writes
    /// what [`TlogProof::parse`] would refuse.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedTlogProof`] for anything [`TlogProof::parse`]
    /// refuses: a checkpoint that is not a signed checkpoint note, more than
    /// [`MAX_HASHES`] hashes, more than [`MAX_EXTRA`] extra bytes, a text
    /// above [`MAX_TEXT`] bytes.
    pub fn to_text(&self) -> Result<String> {
        let mut text = format!("{HEADER}\n");
        if let Some(extra) = self.extra.as_deref().filter(|e| !e.is_empty()) {
            text.push_str("extra ");
            text.push_str(&STANDARD.encode(extra));
            text.push('\n');
        }
        text.push_str(&format!("index {}\n", self.index));
        for h in &self.hashes {
            text.push_str(&STANDARD.encode(h));
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&self.checkpoint);
        TlogProof::parse(&text)?;
        Ok(text)
    }

    /// Parses a tlog-proof strictly. Checks the form only; nothing is
    /// verified (see [`TlogProof::verify`]).
    ///
    /// Refused: a text above [`MAX_TEXT`] bytes or with a control character
    /// other than U+000A (so no CR); a first line other than
    /// `c2sp.org/tlog-proof@v1`; an `extra` line that is empty, not
    /// canonical padded base64 or above [`MAX_EXTRA`] bytes; a missing
    /// `index` line, or an index with a sign, leading zero, other
    /// characters or above 2^64 − 1; a hash line that is not canonical
    /// base64 of 32 bytes; more than [`MAX_HASHES`] hashes; a missing blank
    /// line before the checkpoint; a checkpoint that is not a checkpoint
    /// body (origin, canonical size, 32-byte root, extension lines), a blank
    /// line and 1 to 100 lines `— <name> <signature>` ending in a newline
    /// (a truncated file fails here). Signature encodings are left to
    /// verification, so the spec's example, with placeholder signatures,
    /// parses.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedTlogProof`], naming the first thing that is wrong.
    ///
    /// # Examples
    ///
    /// ```
    /// use ledger::{Error, tlog_proof::TlogProof};
    ///
    /// let text = "c2sp.org/tlog-proof@v1\nindex 0\n\nexample.com/log\n1\n\
    ///     PH6byTDck/AfppmF7yQtn56GHzxTVaokzl70tLinDMs=\n\n\u{2014} example.com/log AAAA\n";
    /// let proof = TlogProof::parse(text)?;
    /// assert_eq!((proof.index, proof.hashes.len(), &proof.extra), (0, 0, &None));
    /// assert_eq!(proof.to_text()?, text);
    ///
    /// let padded = text.replace("index 0", "index 00");
    /// assert!(matches!(TlogProof::parse(&padded), Err(Error::MalformedTlogProof(_))));
    /// # Ok::<(), ledger::Error>(())
    /// ```
    pub fn parse(text: &str) -> Result<TlogProof> {
        if text.len() > MAX_TEXT {
            return Err(malformed(format!(
                "{} bytes; the limit is {MAX_TEXT}",
                text.len()
            )));
        }
        if let Some(c) = text.chars().find(|&c| (c as u32) < 0x20 && c != '\n') {
            return Err(malformed(format!(
                "control character U+{:04X} (lines end in U+000A only)",
                c as u32
            )));
        }
        let (first, rest) = next_line(text, "the newline after the first line")?;
        if first != HEADER {
            return Err(malformed(format!("first line is not {HEADER:?}")));
        }
        let (mut line, mut rest) = next_line(rest, "the newline after the extra or index line")?;
        let mut extra = None;
        if let Some(b64) = line.strip_prefix("extra ") {
            if b64.is_empty() {
                return Err(malformed(
                    "empty extra line (without extra data the line is omitted)",
                ));
            }
            if b64.len() > MAX_EXTRA.div_ceil(3) * 4 {
                return Err(malformed(format!(
                    "extra data is above the limit of {MAX_EXTRA} bytes"
                )));
            }
            let raw = STANDARD
                .decode(b64)
                .map_err(|e| malformed(format!("extra data is not canonical base64: {e}")))?;
            extra = Some(raw);
            (line, rest) = next_line(rest, "the newline after the index line")?;
        }
        let digits = line
            .strip_prefix("index ")
            .ok_or_else(|| malformed("expected the line \"index <N>\""))?;
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'));
        if !canonical {
            return Err(malformed(format!(
                "index {digits:?} is not a decimal without leading zeroes"
            )));
        }
        let index = digits
            .parse::<u64>()
            .map_err(|_| malformed(format!("index {digits} does not fit in 64 bits")))?;
        let mut hashes = Vec::new();
        loop {
            let (line, after) = next_line(
                rest,
                "the blank line before the checkpoint (a hash line lacks its newline, or the file ends early)",
            )?;
            rest = after;
            if line.is_empty() {
                break;
            }
            if hashes.len() == MAX_HASHES {
                return Err(malformed(format!("more than {MAX_HASHES} proof hashes")));
            }
            let raw = STANDARD.decode(line).map_err(|e| {
                malformed(format!(
                    "proof hash {} is not canonical base64: {e}",
                    hashes.len()
                ))
            })?;
            let h: Hash = raw.as_slice().try_into().map_err(|_| {
                malformed(format!(
                    "proof hash {} is {} bytes, not 32",
                    hashes.len(),
                    raw.len()
                ))
            })?;
            hashes.push(h);
        }
        if rest.is_empty() {
            return Err(malformed("truncated: no checkpoint after the blank line"));
        }
        check_note_form(rest)?;
        Ok(TlogProof {
            extra,
            index,
            hashes,
            checkpoint: rest.to_string(),
        })
    }

    /// Verifies that `entry` is at [`index`](Self::index) in the tree the
    /// checkpoint commits to: the checkpoint note carries a valid signature
    /// by `log` (and its origin is `log`'s name), `leaf_hash(entry)` and the
    /// hashes lead to its root, and, given a `policy`, the note's witness
    /// cosignatures meet the policy's quorum. The `extra` data plays no part.
    ///
    /// Returns the verified checkpoint.
    ///
    /// # Errors
    ///
    /// [`Error::NoteSignature`] if the log did not sign the checkpoint (or a
    /// signature by its key is bad); [`Error::MalformedNote`] /
    /// [`Error::MalformedCheckpoint`] for a note that is not a signed
    /// checkpoint of `log`'s origin; [`Error::BadProof`] if the index is not
    /// below the tree size, the number of hashes is wrong for the index and
    /// size, or the path does not lead to the root; [`Error::QuorumNotMet`]
    /// if the policy's quorum of witnesses did not cosign it.
    pub fn verify(
        &self,
        entry: &[u8],
        log: &NoteVerifier,
        policy: Option<&Policy>,
    ) -> Result<Checkpoint> {
        let cp = Checkpoint::open(&self.checkpoint, log)?;
        verify_inclusion(
            self.index,
            cp.size,
            &leaf_hash(entry),
            &self.hashes,
            &cp.root,
        )
        .map_err(|e| match e {
            Error::BadProof(m) => Error::BadProof(format!(
                "entry is not proved at index {} of the tree of size {}: {m}",
                self.index, cp.size
            )),
            other => other,
        })?;
        if let Some(policy) = policy {
            let report = policy.check_quorum_with_log(&self.checkpoint, log)?;
            if !report.quorum_met {
                let mut why = format!(
                    "the checkpoint is cosigned by [{}], short of the policy's quorum",
                    report.cosigned_by().join(", ")
                );
                for (name, reason) in &report.invalid {
                    why.push_str(&format!("; {name}: {reason}"));
                }
                return Err(Error::QuorumNotMet(why));
            }
        }
        Ok(cp)
    }

    /// [`TlogProof::verify`] with the `extra` data as the entry: the cupass
    /// form, where the file carries its entry's COSE bytes. The extra data
    /// is trusted only once it is proved included.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedTlogProof`] if the proof carries no extra data;
    /// otherwise as [`TlogProof::verify`].
    pub fn verify_self_contained(
        &self,
        log: &NoteVerifier,
        policy: Option<&Policy>,
    ) -> Result<Checkpoint> {
        let entry = self.extra.as_deref().ok_or_else(|| {
            malformed("no extra line: the proof does not carry its entry; give the entry")
        })?;
        self.verify(entry, log, policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The spec's example, byte for byte (placeholder signatures).
    const SPEC_EXAMPLE: &str = "c2sp.org/tlog-proof@v1
extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ
index 73894
gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=
B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=
EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=
RoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=
AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=

example.com/fancylog
109482
sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=

\u{2014} example.com/fancylog hI2DJw[...]1roloI=
\u{2014} witness1.example mJirIklj[...]qY9v2B/5bg==
\u{2014} witness2.example TnKKVHLX[...]xwYwrSjgow==
\u{2014} witness3.example S4X82uH5[...]3oEcROGLFQ==
";

    #[test]
    fn spec_example_parses_and_round_trips() {
        let p = TlogProof::parse(SPEC_EXAMPLE).unwrap();
        assert_eq!(p.index, 73894);
        assert_eq!(p.hashes.len(), 5);
        assert!(
            p.extra
                .as_deref()
                .unwrap()
                .starts_with(b"age-v1.2.1-darwin-arm64.tar.gz")
        );
        assert!(p.checkpoint.starts_with("example.com/fancylog\n109482\n"));
        assert_eq!(p.to_text().unwrap(), SPEC_EXAMPLE);
    }

    #[test]
    fn refusals() {
        let bad = |t: &str| match TlogProof::parse(t) {
            Err(Error::MalformedTlogProof(m)) => m,
            other => panic!("{t:?}: {other:?}"),
        };
        let ex = SPEC_EXAMPLE;
        assert!(bad(&ex.replacen("@v1", "@v2", 1)).contains("first line"));
        assert!(bad(&ex.replace('\n', "\r\n")).contains("control"));
        assert!(bad(&ex.replacen("index 73894", "index 073894", 1)).contains("leading"));
        assert!(bad(&ex.replacen("index 73894", "index +73894", 1)).contains("leading"));
        assert!(bad(&ex.replacen("index 73894", "index  73894", 1)).contains("leading"));
        assert!(bad(&ex.replacen("index 73894", "index 18446744073709551616", 1)).contains("64"));
        assert!(bad(&ex.replacen("index 73894", "Index 73894", 1)).contains("index"));
        let no_extra = ex.replacen(
            "extra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\n",
            "",
            1,
        );
        assert!(TlogProof::parse(&no_extra).unwrap().extra.is_none());
        assert!(bad(&no_extra.replacen("index", "extra \nindex", 1)).contains("empty extra"));
        assert!(bad(&no_extra.replacen("index", "extra QQ\nindex", 1)).contains("base64"));
        assert!(bad(&no_extra.replacen("index", "extra QR==\nindex", 1)).contains("base64"));
        // extra after index, or twice, is not the format.
        assert!(
            bad(&ex.replacen("index 73894\n", "index 73894\nextra QQ==\n", 1)).contains("hash")
        );
        assert!(bad(&ex.replacen("extra", "extra QQ==\nextra", 1)).contains("index"));
        // Hashes: 32 bytes, canonical base64, no blank line inside.
        assert!(bad(&ex.replacen("PlQ=\n", "PlR=\n", 1)).contains("hash 0"));
        assert!(bad(&ex.replacen("gSKy", "gSK", 1)).contains("hash 0"));
        assert!(
            bad(&ex.replacen(
                "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\n",
                "AAAA\n",
                1
            ))
            .contains("not 32")
        );
        let blank_inside = ex.replacen("PlQ=\n", "PlQ=\n\n", 1);
        assert!(bad(&blank_inside).contains("checkpoint"));
        let many = format!(
            "{HEADER}\nindex 0\n{}\n{}",
            "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n".repeat(65),
            ex.split_once("\n\n").unwrap().1
        );
        assert!(bad(&many).contains("more than 64"));
        // Checkpoint form.
        assert!(bad(&ex.replacen("\n109482\n", "\n0109482\n", 1)).contains("checkpoint"));
        assert!(bad(&ex.replacen("\u{2014} witness1", "- witness1", 1)).contains("signature line"));
        assert!(
            bad(&ex.replacen("\u{2014} witness1.example ", "\u{2014} witness1.example", 1))
                .contains("signature line")
        );
        assert!(bad(&format!("{ex}\n")).contains("signature line"));
        assert!(bad(&format!("{ex}trailing\n")).contains("signature line"));
        let sig = "\u{2014} w AAAA\n";
        assert!(bad(&format!("{ex}{}", sig.repeat(97))).contains("more than 100"));
        assert!(bad(&format!("{ex}{}", "a".repeat(MAX_TEXT))).contains("limit"));
        // Every truncation is refused, except one that drops whole
        // cosignature lines: that is a note with fewer cosignatures, which
        // only a witness policy can tell apart.
        let first_sig_end = ex.find("1roloI=\n").unwrap() + "1roloI=\n".len();
        for cut in 0..ex.len() {
            if let Some(t) = ex.get(..cut) {
                if cut >= first_sig_end && t.ends_with('\n') {
                    TlogProof::parse(t).unwrap();
                } else {
                    bad(t);
                }
            }
        }
    }

    #[test]
    fn to_text_refuses_what_parse_refuses() {
        let mut p = TlogProof::parse(SPEC_EXAMPLE).unwrap();
        p.checkpoint = "not a note\n".into();
        assert!(matches!(p.to_text(), Err(Error::MalformedTlogProof(_))));
        let mut p = TlogProof::parse(SPEC_EXAMPLE).unwrap();
        p.extra = Some(Vec::new());
        assert!(!p.to_text().unwrap().contains("extra"));
        p.hashes = vec![[0; 32]; 65];
        assert!(matches!(p.to_text(), Err(Error::MalformedTlogProof(_))));
    }
}
