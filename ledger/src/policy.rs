//! C2SP tlog-policy files: which logs and witnesses are known, and the
//! quorum of witness cosignatures a checkpoint needs to be trusted.
//!
//! The format is line based; items are separated by spaces and tabs;
//! blank lines and lines starting with `#` are ignored:
//!
//! ```text
//! log <vkey> [<url>]
//! witness <name> <vkey> [<url>]
//! group <name> all|any|<k> <member>...
//! quorum <name>|none
//! ```
//!
//! Log vkeys are signed-note Ed25519 keys (type 0x01) named by the log's
//! origin; witness vkeys are `cosignature/v1` keys (type 0x04). Groups and
//! the quorum may only name witnesses and groups defined on earlier lines;
//! witnesses and groups share one namespace, `none` is reserved, and a name
//! may be a member of a group at most once. Exactly one `quorum` line.
//!
//! ```
//! use ledger::{Checkpoint, NoteSigner, keys, policy::Policy};
//! use ledger::cosignature::Cosigner;
//!
//! let log = NoteSigner::new("example.com/log", keys::generate_signing_key()?)?;
//! let w: Vec<Cosigner> = (1..=3)
//!     .map(|i| Cosigner::new(&format!("w{i}.example"), keys::generate_signing_key()?))
//!     .collect::<Result<_, _>>()?;
//! let text = format!(
//!     "# two of three\nlog {}\nwitness A {} http://127.0.0.1:7001\n\
//!      witness B {}\nwitness C {}\ngroup ABC 2 A B C\nquorum ABC\n",
//!     log.verifier(), w[0].verifier(), w[1].verifier(), w[2].verifier(),
//! );
//! let policy = Policy::parse(&text)?;
//!
//! let cp = Checkpoint { origin: "example.com/log".into(), size: 9, root: [1; 32] };
//! let mut note = cp.sign(&log)?;
//! note += &w[0].cosign(&cp.to_body(), 100)?;
//! assert!(!policy.check_quorum(&note)?.quorum_met);
//! note += &w[2].cosign(&cp.to_body(), 101)?;
//! let report = policy.check_quorum(&note)?;
//! assert!(report.quorum_met);
//! assert_eq!(report.cosigned_by(), ["A", "C"]);
//! # Ok::<(), ledger::Error>(())
//! ```

use std::collections::HashMap;

use crate::{
    Checkpoint, Error, NoteVerifier, Result,
    cosignature::{CosignatureVerifier, ParsedCosignature},
};

/// Most logs, witnesses or groups one policy may define (the spec asks
/// implementations to support at least 32 of each).
pub const MAX_ITEMS: usize = 256;

/// A log the policy accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyLog {
    /// The log's key; its name is the log's origin.
    pub verifier: NoteVerifier,
    /// The log's URL, if the policy gives one.
    pub url: Option<String>,
}

/// A witness the policy knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyWitness {
    /// The witness's name in this policy (not its key name).
    pub name: String,
    /// The witness's cosignature key.
    pub verifier: CosignatureVerifier,
    /// The witness's submission prefix URL, if the policy gives one.
    pub url: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Member {
    Witness(usize),
    Group(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Group {
    name: String,
    threshold: usize,
    members: Vec<Member>,
}

/// A parsed, well-formed policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    logs: Vec<PolicyLog>,
    witnesses: Vec<PolicyWitness>,
    groups: Vec<Group>,
    /// `None` is `quorum none`.
    quorum: Option<Member>,
}

/// A witness's valid cosignature on a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessCosignature {
    /// The witness's name in the policy.
    pub name: String,
    /// The cosignature's timestamp.
    pub timestamp: u64,
}

/// What [`Policy::check_quorum`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuorumReport {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The witnesses that validly cosigned it, in policy order.
    pub cosigned: Vec<WitnessCosignature>,
    /// Witnesses with a line under their key that does not verify, with why.
    pub invalid: Vec<(String, String)>,
    /// Whether the cosigners satisfy the quorum.
    pub quorum_met: bool,
}

impl QuorumReport {
    /// The policy names of the witnesses that validly cosigned.
    pub fn cosigned_by(&self) -> Vec<&str> {
        self.cosigned.iter().map(|c| c.name.as_str()).collect()
    }
}

fn policy_error(line: usize, reason: impl Into<String>) -> Error {
    Error::MalformedPolicy {
        line,
        reason: reason.into(),
    }
}

impl Policy {
    /// Parses a policy file.
    ///
    /// # Errors
    ///
    /// [`Error::MalformedPolicy`] with the 1-based line number for: a
    /// control character other than tab; an unknown keyword; a wrong number
    /// of fields; a bad vkey (wrong type, weak key, bad key id); a duplicate
    /// log or witness key; a name defined twice, `none` defined or used as a
    /// member, or a reference to a name not defined on an earlier line; a
    /// threshold that is not `all`, `any` or a decimal 1 ≤ k ≤ n; a member
    /// listed twice; more than [`MAX_ITEMS`] of a kind; no or two `quorum`
    /// lines (a missing one is reported at the last line).
    pub fn parse(text: &str) -> Result<Policy> {
        let mut logs: Vec<PolicyLog> = Vec::new();
        let mut witnesses: Vec<PolicyWitness> = Vec::new();
        let mut groups: Vec<Group> = Vec::new();
        let mut names: HashMap<String, Member> = HashMap::new();
        let mut quorum: Option<Option<Member>> = None;
        for (i, line) in text.split('\n').enumerate() {
            let n = i + 1;
            if let Some(c) = line
                .chars()
                .find(|&c| ((c as u32) < 0x20 && c != '\t') || c == '\u{7f}')
            {
                return Err(policy_error(
                    n,
                    format!(
                        "control character U+{:04X} (only tab and newline are allowed)",
                        c as u32
                    ),
                ));
            }
            let fields: Vec<&str> = line.split([' ', '\t']).filter(|f| !f.is_empty()).collect();
            let Some((&keyword, args)) = fields.split_first() else {
                continue;
            };
            if keyword.starts_with('#') {
                continue;
            }
            match keyword {
                "log" => {
                    let (vkey, url) = match args {
                        [vkey] => (*vkey, None),
                        [vkey, url] => (*vkey, Some((*url).to_string())),
                        _ => return Err(policy_error(n, "expected `log <vkey> [<url>]`")),
                    };
                    let verifier = NoteVerifier::parse(vkey)
                        .map_err(|e| policy_error(n, format!("log key: {e}")))?;
                    if logs.iter().any(|l| l.verifier.key() == verifier.key()) {
                        return Err(policy_error(n, "duplicate log key"));
                    }
                    if logs.len() == MAX_ITEMS {
                        return Err(policy_error(n, format!("more than {MAX_ITEMS} logs")));
                    }
                    logs.push(PolicyLog { verifier, url });
                }
                "witness" => {
                    let (name, vkey, url) = match args {
                        [name, vkey] => (*name, *vkey, None),
                        [name, vkey, url] => (*name, *vkey, Some((*url).to_string())),
                        _ => {
                            return Err(policy_error(
                                n,
                                "expected `witness <name> <vkey> [<url>]`",
                            ));
                        }
                    };
                    define(&names, name, n)?;
                    let verifier = CosignatureVerifier::parse(vkey)
                        .map_err(|e| policy_error(n, format!("witness key: {e}")))?;
                    if witnesses.iter().any(|w| w.verifier.key() == verifier.key()) {
                        return Err(policy_error(n, "duplicate witness key"));
                    }
                    if witnesses.len() == MAX_ITEMS {
                        return Err(policy_error(n, format!("more than {MAX_ITEMS} witnesses")));
                    }
                    names.insert(name.to_string(), Member::Witness(witnesses.len()));
                    witnesses.push(PolicyWitness {
                        name: name.to_string(),
                        verifier,
                        url,
                    });
                }
                "group" => {
                    let [name, threshold, members @ ..] = args else {
                        return Err(policy_error(
                            n,
                            "expected `group <name> all|any|<k> <member>...`",
                        ));
                    };
                    define(&names, name, n)?;
                    if members.is_empty() {
                        return Err(policy_error(n, "a group needs at least one member"));
                    }
                    let mut resolved = Vec::with_capacity(members.len());
                    for m in members.iter() {
                        if *m == "none" {
                            return Err(policy_error(n, "`none` cannot be a group member"));
                        }
                        let member = *names.get(*m).ok_or_else(|| {
                            policy_error(n, format!("{m:?} is not defined on an earlier line"))
                        })?;
                        if resolved.contains(&member) {
                            return Err(policy_error(n, format!("{m:?} is listed twice")));
                        }
                        resolved.push(member);
                    }
                    let k = match *threshold {
                        "all" => resolved.len(),
                        "any" => 1,
                        t => {
                            let k = t
                                .parse::<usize>()
                                .ok()
                                .filter(|_| {
                                    t.bytes().all(|b| b.is_ascii_digit()) && !t.starts_with('0')
                                })
                                .ok_or_else(|| {
                                    policy_error(
                                        n,
                                        format!(
                                            "threshold {t:?} is not all, any or a decimal number"
                                        ),
                                    )
                                })?;
                            if k > resolved.len() {
                                return Err(policy_error(
                                    n,
                                    format!(
                                        "threshold {k} exceeds the group's {} members",
                                        resolved.len()
                                    ),
                                ));
                            }
                            k
                        }
                    };
                    if groups.len() == MAX_ITEMS {
                        return Err(policy_error(n, format!("more than {MAX_ITEMS} groups")));
                    }
                    names.insert((*name).to_string(), Member::Group(groups.len()));
                    groups.push(Group {
                        name: (*name).to_string(),
                        threshold: k,
                        members: resolved,
                    });
                }
                "quorum" => {
                    let [name] = args else {
                        return Err(policy_error(n, "expected `quorum <name>`"));
                    };
                    if quorum.is_some() {
                        return Err(policy_error(n, "a second quorum line"));
                    }
                    quorum = Some(if *name == "none" {
                        None
                    } else {
                        Some(*names.get(*name).ok_or_else(|| {
                            policy_error(n, format!("{name:?} is not defined on an earlier line"))
                        })?)
                    });
                }
                other => {
                    return Err(policy_error(
                        n,
                        format!("unknown keyword {other:?} (log, witness, group, quorum)"),
                    ));
                }
            }
        }
        let quorum =
            quorum.ok_or_else(|| policy_error(text.lines().count().max(1), "no quorum line"))?;
        Ok(Policy {
            logs,
            witnesses,
            groups,
            quorum,
        })
    }

    /// The logs, in file order.
    pub fn logs(&self) -> &[PolicyLog] {
        &self.logs
    }

    /// The witnesses, in file order.
    pub fn witnesses(&self) -> &[PolicyWitness] {
        &self.witnesses
    }

    /// The witnesses that have a URL, as (policy name, URL): the ones a log
    /// contacts to collect cosignatures.
    pub fn witness_urls(&self) -> Vec<(&str, &str)> {
        self.witnesses
            .iter()
            .filter_map(|w| w.url.as_deref().map(|u| (w.name.as_str(), u)))
            .collect()
    }

    /// Whether the quorum is `none`.
    pub fn quorum_is_none(&self) -> bool {
        self.quorum.is_none()
    }

    /// Verifies a cosigned checkpoint note: it must be signed by one of the
    /// policy's logs (key name = origin), then reports which witnesses
    /// validly cosigned it and whether the quorum is met.
    ///
    /// An unmet quorum is not an error: look at
    /// [`QuorumReport::quorum_met`].
    ///
    /// # Errors
    ///
    /// [`Error::MalformedNote`] / [`Error::MalformedCheckpoint`] if `note`
    /// is not a signed checkpoint; [`Error::NoteSignature`] if no log of
    /// the policy signed it.
    pub fn check_quorum(&self, note: &str) -> Result<QuorumReport> {
        let claimed = Checkpoint::parse_note_unverified(note)?;
        let mut last = None;
        for log in self
            .logs
            .iter()
            .filter(|l| l.verifier.name() == claimed.origin)
        {
            match Checkpoint::open(note, &log.verifier) {
                Ok(_) => return self.evaluate_cosignatures(note),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            Error::NoteSignature(format!(
                "the policy lists no log with origin {:?}",
                claimed.origin
            ))
        }))
    }

    /// Like [`Policy::check_quorum`] with the log's key given by the caller
    /// (for policies whose logs are known from context).
    ///
    /// # Errors
    ///
    /// As [`Checkpoint::open`].
    pub fn check_quorum_with_log(&self, note: &str, log: &NoteVerifier) -> Result<QuorumReport> {
        Checkpoint::open(note, log)?;
        self.evaluate_cosignatures(note)
    }

    /// Evaluates the witness cosignatures on a note **without checking the
    /// log's signature**: for a log judging the note it just signed itself.
    /// Anyone else uses [`Policy::check_quorum`].
    ///
    /// # Errors
    ///
    /// [`Error::MalformedNote`] / [`Error::MalformedCheckpoint`] if `note`
    /// is not a signed checkpoint note.
    pub fn evaluate_cosignatures(&self, note: &str) -> Result<QuorumReport> {
        let checkpoint = Checkpoint::parse_note_unverified(note)?;
        let mut cosigned = Vec::new();
        let mut invalid = Vec::new();
        let mut witnessed = vec![false; self.witnesses.len()];
        for (i, w) in self.witnesses.iter().enumerate() {
            match w.verifier.verify(note) {
                Ok(timestamp) => {
                    if let Some(slot) = witnessed.get_mut(i) {
                        *slot = true;
                    }
                    cosigned.push(WitnessCosignature {
                        name: w.name.clone(),
                        timestamp,
                    });
                }
                Err(Error::NoCosignature(_)) => {}
                Err(e) => invalid.push((w.name.clone(), e.to_string())),
            }
        }
        let mut group_ok = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            // Members are defined earlier, so their verdicts are known.
            let count = g
                .members
                .iter()
                .filter(|m| holds(**m, &witnessed, &group_ok))
                .count();
            group_ok.push(count >= g.threshold);
        }
        let quorum_met = self.quorum.is_none_or(|q| holds(q, &witnessed, &group_ok));
        Ok(QuorumReport {
            checkpoint,
            cosigned,
            invalid,
            quorum_met,
        })
    }

    /// Which witness of the policy a signature line is by, if any.
    pub fn witness_of_line(&self, line: &str) -> Option<&PolicyWitness> {
        let c = ParsedCosignature::parse(line).ok()?;
        self.witnesses
            .iter()
            .find(|w| w.verifier.name() == c.name && w.verifier.key_id() == c.key_id)
    }

    /// The group names, in file order (for diagnostics).
    pub fn group_names(&self) -> Vec<&str> {
        self.groups.iter().map(|g| g.name.as_str()).collect()
    }
}

fn holds(m: Member, witnessed: &[bool], groups: &[bool]) -> bool {
    match m {
        Member::Witness(i) => witnessed.get(i).copied().unwrap_or(false),
        Member::Group(i) => groups.get(i).copied().unwrap_or(false),
    }
}

fn define(names: &HashMap<String, Member>, name: &str, line: usize) -> Result<()> {
    if name == "none" {
        return Err(policy_error(line, "`none` is reserved"));
    }
    if names.contains_key(name) {
        return Err(policy_error(line, format!("{name:?} is already defined")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::{NoteSigner, cosignature::Cosigner};

    fn log() -> NoteSigner {
        NoteSigner::new("example.com/log", SigningKey::from_bytes(&[9; 32])).unwrap()
    }

    fn witness(i: u8) -> Cosigner {
        Cosigner::new(&format!("w{i}.example"), SigningKey::from_bytes(&[i; 32])).unwrap()
    }

    fn vk(i: u8) -> String {
        witness(i).verifier().to_string()
    }

    /// The spec's two-level example, with real keys.
    fn spec_example() -> String {
        format!(
            "log {}\n\nwitness X1 {}\nwitness X2 {}\nwitness X3 {}\ngroup X-witnesses 2 X1 X2 X3\n\n\
             witness Y1 {}\nwitness Y2 {}\nwitness Y3 {}\ngroup Y-witnesses any Y1 Y2 Y3\n\n\
             group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n",
            log().verifier(),
            vk(1),
            vk(2),
            vk(3),
            vk(4),
            vk(5),
            vk(6)
        )
    }

    fn note_cosigned_by(who: &[u8]) -> String {
        let cp = Checkpoint {
            origin: "example.com/log".into(),
            size: 5,
            root: [3; 32],
        };
        let mut note = cp.sign(&log()).unwrap();
        for &i in who {
            note += &witness(i)
                .cosign(&cp.to_body(), 1000 + u64::from(i))
                .unwrap();
        }
        note
    }

    #[test]
    fn spec_example_quorum() {
        let p = Policy::parse(&spec_example()).unwrap();
        assert_eq!(p.witnesses().len(), 6);
        assert_eq!(p.group_names(), ["X-witnesses", "Y-witnesses", "X-and-Y"]);
        let met = |who: &[u8]| p.check_quorum(&note_cosigned_by(who)).unwrap().quorum_met;
        assert!(met(&[1, 2, 4]));
        assert!(met(&[1, 3, 6]));
        assert!(met(&[1, 2, 3, 4, 5, 6]));
        assert!(!met(&[1, 4]));
        assert!(!met(&[1, 2, 3]));
        assert!(!met(&[4, 5, 6, 1]));
        assert!(!met(&[]));
        let r = p.check_quorum(&note_cosigned_by(&[2, 5])).unwrap();
        assert_eq!(r.cosigned_by(), ["X2", "Y2"]);
        assert_eq!(r.cosigned[1].timestamp, 1005);
    }

    #[test]
    fn quorum_none_and_single_witness() {
        let none = Policy::parse(&format!("log {}\nquorum none\n", log().verifier())).unwrap();
        assert!(none.quorum_is_none());
        assert!(
            none.check_quorum(&note_cosigned_by(&[]))
                .unwrap()
                .quorum_met
        );
        let one = Policy::parse(&format!("witness A {}\nquorum A\n", vk(1))).unwrap();
        assert!(
            one.evaluate_cosignatures(&note_cosigned_by(&[1]))
                .unwrap()
                .quorum_met
        );
        assert!(
            !one.evaluate_cosignatures(&note_cosigned_by(&[2]))
                .unwrap()
                .quorum_met
        );
        // No logs listed: check_quorum cannot trust any log.
        assert!(matches!(
            one.check_quorum(&note_cosigned_by(&[1])),
            Err(Error::NoteSignature(_))
        ));
        assert!(
            one.check_quorum_with_log(&note_cosigned_by(&[1]), log().verifier())
                .unwrap()
                .quorum_met
        );
    }

    #[test]
    fn a_bad_cosignature_does_not_count_and_a_bad_log_signature_fails() {
        let p = Policy::parse(&format!(
            "log {}\nwitness A {}\nwitness B {}\ngroup G all A B\nquorum G\n",
            log().verifier(),
            vk(1),
            vk(2)
        ))
        .unwrap();
        let good = note_cosigned_by(&[1, 2]);
        assert!(p.check_quorum(&good).unwrap().quorum_met);
        // B's line moved to another checkpoint body: it must not count.
        let other = Checkpoint {
            origin: "example.com/log".into(),
            size: 6,
            root: [3; 32],
        };
        let mut forged = other.sign(&log()).unwrap();
        forged += &witness(1).cosign(&other.to_body(), 1).unwrap();
        forged += good.lines().last().unwrap();
        forged.push('\n');
        let r = p.check_quorum(&forged).unwrap();
        assert!(!r.quorum_met);
        assert_eq!(r.cosigned_by(), ["A"]);
        assert_eq!(r.invalid.len(), 1);
        // A note by another log key is refused outright.
        let stranger =
            NoteSigner::new("example.com/log", SigningKey::from_bytes(&[8; 32])).unwrap();
        let cp = Checkpoint::parse_note_unverified(&good).unwrap();
        assert!(p.check_quorum(&cp.sign(&stranger).unwrap()).is_err());
    }

    #[test]
    fn whitespace_comments_and_urls() {
        let text = format!(
            "  # comment\n\t\nlog\t{} https://log.example/\n  witness  A {}   http://127.0.0.1:1/w  \n\
             witness B {}\n# quorum B\ngroup  G\tany A B\nquorum G",
            log().verifier(),
            vk(1),
            vk(2)
        );
        let p = Policy::parse(&text).unwrap();
        assert_eq!(p.logs()[0].url.as_deref(), Some("https://log.example/"));
        assert_eq!(p.witness_urls(), [("A", "http://127.0.0.1:1/w")]);
        let line = note_cosigned_by(&[2]).lines().last().unwrap().to_string();
        assert_eq!(p.witness_of_line(&line).unwrap().name, "B");
    }

    #[test]
    fn malformed_or_ambiguous_policies_name_their_line() {
        let l = log().verifier().to_string();
        let (a, b) = (vk(1), vk(2));
        let cases: Vec<(String, usize)> = vec![
            (format!("witness A {a}\n"), 1),
            (format!("witness A {a}\nquorum A\nquorum A\n"), 3),
            (format!("witness A {a}\nwitness A {b}\nquorum A\n"), 2),
            (format!("witness A {a}\nwitness B {a}\nquorum A\n"), 2),
            (format!("log {l}\nlog {l}\nquorum none\n"), 2),
            (format!("witness none {a}\nquorum none\n"), 1),
            (format!("witness A {a}\ngroup G 1 A none\nquorum G\n"), 2),
            (format!("witness A {a}\ngroup G 1 A A\nquorum G\n"), 2),
            (format!("witness A {a}\ngroup G 2 A\nquorum G\n"), 2),
            (format!("witness A {a}\ngroup G 0 A\nquorum G\n"), 2),
            (format!("witness A {a}\ngroup G 01 A\nquorum G\n"), 2),
            (format!("witness A {a}\ngroup G +1 A\nquorum G\n"), 2),
            (format!("witness A {a}\ngroup G most A\nquorum G\n"), 2),
            (format!("witness A {a}\ngroup G any\nquorum G\n"), 2),
            (format!("witness A {a}\ngroup G any B\nquorum G\n"), 2),
            (format!("witness A {a}\ngroup A any A\nquorum A\n"), 2),
            (format!("quorum A\nwitness A {a}\n"), 1),
            (
                format!("witness A {a}\ngroup G any A\ngroup H any G\ngroup G any H\nquorum G\n"),
                4,
            ),
            // A log key where a witness key belongs, and the other way round.
            (format!("witness A {l}\nquorum A\n"), 1),
            (format!("log {a}\nquorum none\n"), 1),
            (format!("witness A {a} url extra\nquorum A\n"), 1),
            ("log\nquorum none\n".to_string(), 1),
            (format!("witness A {a}\nquorum\n"), 2),
            (format!("witness A {a}\nquorum A B\n"), 2),
            (format!("witness A {a}\nlogs {l}\nquorum A\n"), 2),
            (format!("witness A {a}\r\nquorum A\n"), 1),
            (format!("witness A {a}\nquorum A\n\u{7}\n"), 3),
            ("".to_string(), 1),
        ];
        for (text, line) in cases {
            match Policy::parse(&text) {
                Err(Error::MalformedPolicy { line: got, .. }) => {
                    assert_eq!(got, line, "{text:?}");
                }
                other => panic!("{text:?} gave {other:?}"),
            }
        }
    }
}
