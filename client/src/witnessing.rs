//! Collecting witness cosignatures (C2SP tlog-witness), blocking.
//!
//! [`add_checkpoint`] submits one signed checkpoint to one witness and maps
//! its answer to an [`AddOutcome`]. [`collect`] does that for every witness
//! of a C2SP tlog-policy that has a URL, in parallel, with a deadline,
//! retries once after a 409 from the size the witness says it holds, checks
//! the returned lines against the policy's witness keys and appends the
//! valid ones to the note.
//!
//! A log calls [`collect`] after signing each checkpoint:
//!
//! ```no_run
//! # fn demo(log: &ledger::Log<ledger::MemoryStore>, policy: &ledger::policy::Policy)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! use std::collections::BTreeMap;
//!
//! let mut sizes = BTreeMap::new(); // what each witness last cosigned (persist it)
//! let note = log.checkpoint()?;
//! let out = client::witnessing::collect(policy, &sizes, &note, |old, new| {
//!     log.consistency_proof(old, new).map(|p| p.hashes)
//! })?;
//! sizes.extend(out.known_sizes());
//! if out.quorum.quorum_met {
//!     // serve out.note: the checkpoint with the witnesses' cosignatures
//! }
//! # Ok(()) }
//! ```

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use ledger::{
    Checkpoint,
    cosignature::{AddCheckpointRequest, ParsedCosignature, SIZE_CONTENT_TYPE, parse_size_body},
    hash::Hash,
    policy::{Policy, PolicyWitness, QuorumReport},
};

/// The time [`add_checkpoint`] and [`collect`] give witnesses to answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response body read from a witness.
const BODY_LIMIT: u64 = 64 * 1024;

/// What a witness answered to `add-checkpoint`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddOutcome {
    /// 200: the witness's signature lines (each ending in a newline),
    /// not yet checked against any key.
    Cosigned(Vec<String>),
    /// 409: the witness holds a checkpoint of `known_size` (not the old size
    /// sent), or the same size with another root hash (a fork).
    Conflict {
        /// The size of the latest checkpoint the witness cosigned.
        known_size: u64,
    },
    /// Any other status: 400 malformed, 403 no trusted log signature,
    /// 404 unknown log, 422 bad consistency proof, 5xx.
    Refused {
        /// The HTTP status.
        status: u16,
        /// The witness's message.
        message: String,
    },
    /// No answer: refused connection, timeout, DNS failure.
    Unreachable(String),
    /// An answer that is not what the spec allows (a 200 whose body is not
    /// signature lines, a 409 without a size).
    BadResponse(String),
}

/// Why a request was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessingError {
    /// The witness URL is not `http://` or `https://`.
    #[error("{0:?} is not a witness URL: give its submission prefix, e.g. http://127.0.0.1:7380")]
    BadUrl(String),
    /// The request could not be formed: a note that is not a signed
    /// checkpoint, or a proof of more than 63 hashes.
    #[error("cannot build the add-checkpoint request: {0}")]
    BadRequest(String),
    /// The proof provider could not produce the consistency proof.
    #[error("no consistency proof from {old_size} to {new_size}: {reason}")]
    Proof {
        /// From.
        old_size: u64,
        /// To.
        new_size: u64,
        /// The provider's error.
        reason: String,
    },
}

/// Submits `note` to the witness at `witness_url` (its submission prefix;
/// `/add-checkpoint` is appended) with the consistency proof from
/// `old_size`, waiting at most [`DEFAULT_TIMEOUT`].
///
/// # Errors
///
/// [`WitnessingError::BadUrl`] or [`WitnessingError::BadRequest`]; every
/// answer (or its absence) is an [`AddOutcome`].
pub fn add_checkpoint(
    witness_url: &str,
    old_size: u64,
    proof_hashes: &[Hash],
    note: &str,
) -> Result<AddOutcome, WitnessingError> {
    add_checkpoint_with_timeout(witness_url, old_size, proof_hashes, note, DEFAULT_TIMEOUT)
}

/// [`add_checkpoint`] with a timeout for the whole exchange.
///
/// # Errors
///
/// As [`add_checkpoint`].
pub fn add_checkpoint_with_timeout(
    witness_url: &str,
    old_size: u64,
    proof_hashes: &[Hash],
    note: &str,
    timeout: Duration,
) -> Result<AddOutcome, WitnessingError> {
    if !(witness_url.starts_with("http://") || witness_url.starts_with("https://")) {
        return Err(WitnessingError::BadUrl(witness_url.to_string()));
    }
    Checkpoint::parse_note_unverified(note)
        .map_err(|e| WitnessingError::BadRequest(e.to_string()))?;
    let body = AddCheckpointRequest {
        old_size,
        proof: proof_hashes.to_vec(),
        note: note.to_string(),
    }
    .to_body()
    .map_err(|e| WitnessingError::BadRequest(e.to_string()))?;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/add-checkpoint", witness_url.trim_end_matches('/'));
    let mut resp = match agent
        .post(&url)
        .header("content-type", "text/plain; charset=utf-8")
        .send(body.as_bytes())
    {
        Ok(r) => r,
        Err(e) => return Ok(AddOutcome::Unreachable(format!("{url}: {e}"))),
    };
    let status = resp.status().as_u16();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = match resp
        .body_mut()
        .with_config()
        .limit(BODY_LIMIT)
        .read_to_vec()
    {
        Ok(b) => b,
        Err(e) => {
            return Ok(AddOutcome::Unreachable(format!(
                "{url}: reading the answer: {e}"
            )));
        }
    };
    Ok(match status {
        200 => match signature_lines(&body) {
            Ok(lines) => AddOutcome::Cosigned(lines),
            Err(why) => AddOutcome::BadResponse(format!("{url} answered 200 but {why}")),
        },
        409 => {
            let media = content_type.split(';').next().unwrap_or_default().trim();
            match parse_size_body(&body) {
                Ok(known_size) if media.eq_ignore_ascii_case(SIZE_CONTENT_TYPE) => {
                    AddOutcome::Conflict { known_size }
                }
                _ => AddOutcome::BadResponse(format!(
                    "{url} answered 409 without a {SIZE_CONTENT_TYPE} size body"
                )),
            }
        }
        status => AddOutcome::Refused {
            status,
            message: String::from_utf8_lossy(&body).trim().to_string(),
        },
    })
}

/// Splits a 200 body into signature lines; each must start with `— ` and
/// end in a newline.
fn signature_lines(body: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(body).map_err(|_| "its body is not UTF-8".to_string())?;
    if text.is_empty() || !text.ends_with('\n') {
        return Err("its body is not newline-terminated signature lines".into());
    }
    text.split_inclusive('\n')
        .map(|l| {
            if l.starts_with("\u{2014} ") && !l.contains('\r') {
                Ok(l.to_string())
            } else {
                Err(format!("{l:?} is not a signature line"))
            }
        })
        .collect()
}

/// What happened with one witness during [`collect`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessReport {
    /// The witness's name in the policy.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// The old size of the first request.
    pub old_size: u64,
    /// The final answer (after the retry, if there was one), or why no
    /// request was sent.
    pub outcome: Result<AddOutcome, WitnessingError>,
    /// Whether a 409 led to a second request from the witness's size.
    pub retried: bool,
    /// The returned lines that are valid cosignatures by this witness's key
    /// (appended to the note).
    pub accepted: Vec<String>,
    /// Lines under this witness's key that did not verify, with why.
    pub rejected: Vec<String>,
}

impl WitnessReport {
    /// The size the witness now holds for the log, if its answer tells:
    /// the new size after a valid cosignature, the known size after a 409.
    pub fn known_size(&self, new_size: u64) -> Option<u64> {
        match &self.outcome {
            Ok(AddOutcome::Cosigned(_)) if !self.accepted.is_empty() => Some(new_size),
            Ok(AddOutcome::Conflict { known_size }) => Some(*known_size),
            _ => None,
        }
    }
}

/// The result of [`collect`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collected {
    /// The note with every valid cosignature appended.
    pub note: String,
    /// The checkpoint's tree size.
    pub size: u64,
    /// One report per contacted witness, in policy order.
    pub witnesses: Vec<WitnessReport>,
    /// Policy witnesses without a URL, not contacted.
    pub skipped: Vec<String>,
    /// The policy's verdict on [`Collected::note`] (the log's own signature
    /// is not checked: the caller signed it).
    pub quorum: QuorumReport,
}

impl Collected {
    /// Witness name → the size it now holds, for the next call's old sizes.
    pub fn known_sizes(&self) -> BTreeMap<String, u64> {
        self.witnesses
            .iter()
            .filter_map(|w| w.known_size(self.size).map(|s| (w.name.clone(), s)))
            .collect()
    }
}

/// [`collect_with_timeout`] with [`DEFAULT_TIMEOUT`].
///
/// # Errors
///
/// As [`collect_with_timeout`].
pub fn collect<F>(
    policy: &Policy,
    old_sizes: &BTreeMap<String, u64>,
    note: &str,
    proofs: F,
) -> Result<Collected, WitnessingError>
where
    F: Fn(u64, u64) -> ledger::Result<Vec<Hash>> + Sync,
{
    collect_with_timeout(policy, old_sizes, note, proofs, DEFAULT_TIMEOUT)
}

/// Asks every policy witness with a URL, in parallel, to cosign `note` (a
/// checkpoint the caller's log signed), and appends the valid cosignatures.
///
/// `old_sizes` maps policy witness names to the size each last cosigned (a
/// missing name means 0); `proofs(old, new)` returns the consistency proof
/// hashes between two sizes of the log (for a [`ledger::Log`]:
/// `|o, n| log.consistency_proof(o, n).map(|p| p.hashes)`). A witness that
/// answers 409 with a size between 1 and the new size other than the one
/// sent is asked once more, from that size. Every witness gets `timeout`
/// in all, retry included.
///
/// # Errors
///
/// [`WitnessingError::BadRequest`] if `note` is not a signed checkpoint
/// note. Per-witness failures are in [`Collected::witnesses`].
pub fn collect_with_timeout<F>(
    policy: &Policy,
    old_sizes: &BTreeMap<String, u64>,
    note: &str,
    proofs: F,
    timeout: Duration,
) -> Result<Collected, WitnessingError>
where
    F: Fn(u64, u64) -> ledger::Result<Vec<Hash>> + Sync,
{
    let cp = Checkpoint::parse_note_unverified(note)
        .map_err(|e| WitnessingError::BadRequest(e.to_string()))?;
    let body = note
        .rfind("\n\n")
        .and_then(|i| note.get(..=i))
        .ok_or_else(|| WitnessingError::BadRequest("note has no signature block".into()))?;
    let deadline = Instant::now() + timeout;
    let (with_url, skipped): (Vec<&PolicyWitness>, Vec<&PolicyWitness>) =
        policy.witnesses().iter().partition(|w| w.url.is_some());
    let proofs = &proofs;
    let witnesses: Vec<WitnessReport> = std::thread::scope(|s| {
        let handles: Vec<_> = with_url
            .iter()
            .map(|w| {
                let old = old_sizes.get(&w.name).copied().unwrap_or(0);
                s.spawn(move || ask(w, old, note, body, cp.size, proofs, deadline))
            })
            .collect();
        handles
            .into_iter()
            .zip(&with_url)
            .map(|(h, w)| {
                h.join().unwrap_or_else(|_| WitnessReport {
                    name: w.name.clone(),
                    url: w.url.clone().unwrap_or_default(),
                    old_size: 0,
                    outcome: Ok(AddOutcome::Unreachable(
                        "the request thread panicked".into(),
                    )),
                    retried: false,
                    accepted: Vec::new(),
                    rejected: Vec::new(),
                })
            })
            .collect()
    });
    let mut cosigned = note.to_string();
    for w in &witnesses {
        for line in &w.accepted {
            cosigned.push_str(line);
        }
    }
    let quorum = policy
        .evaluate_cosignatures(&cosigned)
        .map_err(|e| WitnessingError::BadRequest(e.to_string()))?;
    Ok(Collected {
        note: cosigned,
        size: cp.size,
        witnesses,
        skipped: skipped.iter().map(|w| w.name.clone()).collect(),
        quorum,
    })
}

fn ask<F>(
    w: &PolicyWitness,
    old: u64,
    note: &str,
    body: &str,
    new_size: u64,
    proofs: &F,
    deadline: Instant,
) -> WitnessReport
where
    F: Fn(u64, u64) -> ledger::Result<Vec<Hash>>,
{
    let url = w.url.clone().unwrap_or_default();
    let send = |from: u64| -> Result<AddOutcome, WitnessingError> {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Ok(AddOutcome::Unreachable("deadline passed".into()));
        }
        // A size above the checkpoint's gets no proof: the witness says 400.
        let proof = if from <= new_size {
            proofs(from, new_size).map_err(|e| WitnessingError::Proof {
                old_size: from,
                new_size,
                reason: e.to_string(),
            })?
        } else {
            Vec::new()
        };
        add_checkpoint_with_timeout(&url, from, &proof, note, remaining)
    };
    let mut outcome = send(old);
    let mut retried = false;
    if let Ok(AddOutcome::Conflict { known_size }) = outcome
        && known_size != old
        && known_size <= new_size
    {
        retried = true;
        outcome = send(known_size);
    }
    let mut accepted = Vec::new();
    let mut rejected = Vec::new();
    if let Ok(AddOutcome::Cosigned(lines)) = &outcome {
        for line in lines {
            // Lines by other keys are ignored, as the spec requires.
            let Ok(parsed) = ParsedCosignature::parse(line) else {
                continue;
            };
            if parsed.name != w.verifier.name() || parsed.key_id != w.verifier.key_id() {
                continue;
            }
            match w.verifier.verify_parsed(body, &parsed) {
                Ok(_) => accepted.push(line.clone()),
                Err(e) => rejected.push(e.to_string()),
            }
        }
    }
    WitnessReport {
        name: w.name.clone(),
        url,
        old_size: old,
        outcome,
        retried,
        accepted,
        rejected,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example response body in C2SP tlog-witness.
    const SPEC_RESPONSE: &str = "\u{2014} witness.example/w1 CMp+6LWBU0anHGH5aNDTJkH/gj79sG+T6+iP2ThYN5krrDJbR1HDnucjL39QsZTSvVjyQLrdk3DXDqI5G2HgLatVs0pWh6Up69HVOw==\n\
        \u{2014} witness.example/w1 I7rEps0pvK2UqkS2gSpVUDhrhVtQV9lgF6pRrWAvjJHjyWpW7VcE3SiOlVlbQNt64vWhO+DlkL0+UfzuOBMh9ChdMkP1vi/lCAsmlw==\n\
        \u{2014} witness.example/w2 AWui8Sk55XjYLOijihBjhqEH6nS1ndDymE0a+6idX7pLcnoB+dhnz0854aLZgrrKbYKA7nC3HNJhm/kWl7oJlqU3rXXvpysAdyP3wQ==\n";

    #[test]
    fn the_spec_response_is_three_signature_lines() {
        let lines = signature_lines(SPEC_RESPONSE.as_bytes()).unwrap();
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.ends_with('\n')));
        assert!(lines[2].starts_with("\u{2014} witness.example/w2 AWui8Sk55"));
        // The example's bytes are placeholders, not real cosignature/v1
        // lines: the first one's timestamp field is above 2^63 - 1, so
        // `collect` would reject it even under the right key.
        assert!(ParsedCosignature::parse(&lines[0]).is_err());
    }

    #[test]
    fn bodies_that_are_not_signature_lines_are_refused() {
        for bad in [
            "",
            "\u{2014} w AAAA",
            "- w AAAA\n",
            "\u{2014} w AAAA\r\n",
            "\u{2014} w AAAA\n\n",
            "hello\n",
        ] {
            assert!(signature_lines(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(signature_lines(b"\xff\n").is_err());
    }

    #[test]
    fn requests_that_cannot_be_formed_are_not_sent() {
        let note = "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n\
            \u{2014} o Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
        assert!(matches!(
            add_checkpoint("ftp://w", 0, &[], note),
            Err(WitnessingError::BadUrl(_))
        ));
        assert!(matches!(
            add_checkpoint("http://127.0.0.1:1", 0, &[[0; 32]; 64], note),
            Err(WitnessingError::BadRequest(_))
        ));
        assert!(matches!(
            add_checkpoint("http://127.0.0.1:1", 0, &[], "o\n1\n"),
            Err(WitnessingError::BadRequest(_))
        ));
    }
}
