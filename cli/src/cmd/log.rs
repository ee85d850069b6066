//! The log: `log checkpoint`, `log proof` (also as a C2SP tlog-proof), `log entry`,
//! `log verify`, `log verify-proof`.

use base64::{Engine, engine::general_purpose::STANDARD};
use client::audit::{AuditError, Progress, Source, verify_log};
use client::http::NodeClient;
use client::verify::Verdict;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ledger::hash::leaf_hash;
use ledger::tlog_proof::TlogProof;
use ledger::{Checkpoint, Entry, NoteVerifier};
use passport_schema::decode_canonical;
use serde_json::{Value, json};
use std::path::Path;

use crate::Ctx;
use crate::args::{LogCmd, ProofArgs, ProofCmd};
use crate::error::{CliError, EXIT_INVALID, Result};
use crate::keys::parse_log_key;
use crate::output::{Report, Table, fields};

/// The log key: `--log-key`, else DIR/log.pub in local mode.
fn log_key(ctx: &Ctx, given: Option<&str>, required: bool) -> Result<Option<NoteVerifier>> {
    if let Some(k) = given {
        return parse_log_key(k).map(Some);
    }
    if ctx.node.is_none() {
        let p = ctx.dir.join("log.pub");
        if p.is_file() {
            return parse_log_key(&p.display().to_string()).map(Some);
        }
    }
    if required {
        return Err(CliError::usage(
            "give the log's verifier key with --log-key (the key string or a log.pub file)",
        ));
    }
    Ok(None)
}

pub(crate) fn log(ctx: &mut Ctx, cmd: LogCmd) -> Result<Report> {
    match cmd {
        LogCmd::Checkpoint { log_key: k } => {
            let key = log_key(ctx, k.as_deref(), false)?;
            let note = ctx.backend()?.checkpoint()?;
            let cp = Checkpoint::parse_note_unverified(&note)
                .map_err(|e| CliError::refused("bad_checkpoint", e.to_string()))?;
            let verified = key.as_ref().map(|k| {
                Checkpoint::open(&note, k)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
            let s = &ctx.style;
            let status = match &verified {
                Some(Ok(())) => format!(
                    "{} signed by {}",
                    s.mark(true),
                    key.as_ref().map(|k| k.to_string()).unwrap_or_default()
                ),
                Some(Err(e)) => format!("{} signature does not verify: {e}", s.mark(false)),
                None => "not checked (no --log-key)".into(),
            };
            let text = format!(
                "{}\n{}",
                fields(&[
                    ("origin", cp.origin.clone()),
                    ("tree size", cp.size.to_string()),
                    ("root", STANDARD.encode(cp.root)),
                    ("signature", status),
                ]),
                note
            );
            let exit = if matches!(verified, Some(Err(_))) {
                EXIT_INVALID
            } else {
                0
            };
            Ok(Report {
                json: json!({
                    "origin": cp.origin, "tree_size": cp.size, "root": STANDARD.encode(cp.root),
                    "checkpoint": note,
                    "verified": verified.as_ref().map(Result::is_ok),
                }),
                text,
                exit,
            })
        }
        LogCmd::Proof(ProofArgs {
            cmd:
                Some(ProofCmd::Inclusion {
                    index,
                    tree_size,
                    log_key: k,
                }),
            ..
        }) => {
            let key = log_key(ctx, k.as_deref(), false)?;
            let b = ctx.backend()?;
            let proof = b.inclusion_proof(index, tree_size)?;
            let entry = b.entry(index)?;
            let check = match (&key, &proof.checkpoint) {
                (Some(k), Some(_)) => Some(
                    proof
                        .verify_entry(&entry, k)
                        .map(|_| ())
                        .map_err(|e| e.to_string()),
                ),
                (_, None) => Some(if leaf_hash(&entry) != proof.leaf_hash {
                    Err("entry does not hash to the proof's leaf hash".to_string())
                } else {
                    ledger::merkle::verify_inclusion(
                        proof.index,
                        proof.tree_size,
                        &proof.leaf_hash,
                        &proof.hashes,
                        &proof.root,
                    )
                    .map_err(|e| e.to_string())
                }),
                (None, Some(_)) => None,
            };
            let s = &ctx.style;
            let verdict = match &check {
                Some(Ok(())) if key.is_some() && proof.checkpoint.is_some() => format!(
                    "{} entry {index} is in the tree of size {} signed by the log",
                    s.mark(true),
                    proof.tree_size
                ),
                Some(Ok(())) => format!(
                    "{} entry {index} is in the tree of size {} with root {} (no signed checkpoint checked)",
                    s.mark(true),
                    proof.tree_size,
                    STANDARD.encode(proof.root)
                ),
                Some(Err(e)) => format!("{} proof does not verify: {e}", s.mark(false)),
                None => "proof fetched; give --log-key to check it against the signed checkpoint"
                    .to_string(),
            };
            let mut t = Table::new(&["#", "hash"]);
            for (i, h) in proof.hashes.iter().enumerate() {
                t.row(vec![i.to_string(), STANDARD.encode(h)]);
            }
            let text = format!(
                "{}\n{}{}",
                fields(&[
                    ("index", proof.index.to_string()),
                    ("tree size", proof.tree_size.to_string()),
                    ("leaf hash", STANDARD.encode(proof.leaf_hash)),
                    ("root", STANDARD.encode(proof.root)),
                ]),
                t.render(),
                verdict + "\n"
            );
            let mut j = serde_json::to_value(&proof).unwrap_or(Value::Null);
            crate::output::set(&mut j, "verified", json!(check.as_ref().map(Result::is_ok)));
            Ok(Report {
                json: j,
                text,
                exit: if matches!(check, Some(Err(_))) {
                    EXIT_INVALID
                } else {
                    0
                },
            })
        }
        LogCmd::Proof(ProofArgs {
            cmd: Some(ProofCmd::Consistency { old, new }),
            ..
        }) => {
            let proof = ctx.backend()?.consistency_proof(old, new)?;
            let ok = proof.verify().map_err(|e| e.to_string());
            let s = &ctx.style;
            let mut t = Table::new(&["#", "hash"]);
            for (i, h) in proof.hashes.iter().enumerate() {
                t.row(vec![i.to_string(), STANDARD.encode(h)]);
            }
            let verdict = match &ok {
                Ok(()) => format!(
                    "{} the tree of size {} is a prefix of the tree of size {}",
                    s.mark(true),
                    proof.old_size,
                    proof.new_size
                ),
                Err(e) => format!("{} proof does not verify: {e}", s.mark(false)),
            };
            let text = format!(
                "{}{}{verdict}\n",
                fields(&[
                    ("old size", proof.old_size.to_string()),
                    ("old root", STANDARD.encode(proof.old_root)),
                    ("new size", proof.new_size.to_string()),
                    ("new root", STANDARD.encode(proof.new_root)),
                ]),
                t.render()
            );
            let mut j = serde_json::to_value(&proof).unwrap_or(Value::Null);
            crate::output::set(&mut j, "verified", json!(ok.is_ok()));
            Ok(Report {
                json: j,
                text,
                exit: if ok.is_ok() { 0 } else { EXIT_INVALID },
            })
        }
        LogCmd::Entry { index } => {
            let bytes = ctx.backend()?.entry(index)?;
            let entry = Entry::from_bytes(&bytes)?;
            let event = decode_canonical(entry.payload())?;
            let ev = serde_json::to_value(&event).unwrap_or(Value::Null);
            let j = json!({"index": index, "signer": hex::encode(entry.kid()), "event": ev});
            let text = format!(
                "{}{}\n",
                fields(&[
                    ("index", index.to_string()),
                    ("kind", event.kind().name().to_string()),
                    ("signer", hex::encode(entry.kid())),
                    ("occurred", crate::time::fmt_time(event.occurred_ms)),
                    ("leaf hash", STANDARD.encode(leaf_hash(&bytes))),
                ]),
                serde_json::to_string_pretty(&ev).unwrap_or_default()
            );
            Ok(Report::new(j, text))
        }
        LogCmd::Proof(ProofArgs {
            cmd: None,
            index: Some(index),
            tlog_proof: true,
            out,
            log_key: k,
        }) => export_tlog_proof(ctx, index, out.as_deref(), k.as_deref()),
        LogCmd::Proof(_) => Err(CliError::usage(
            "give `inclusion --index N`, `consistency --old N`, or `INDEX --tlog-proof [-o FILE]`",
        )),
        LogCmd::Verify { log_key: k } => {
            let key = log_key(ctx, k.as_deref(), true)?
                .ok_or_else(|| CliError::usage("give --log-key"))?;
            verify(ctx, &key)
        }
        LogCmd::VerifyProof {
            file,
            log_key: k,
            policy,
        } => verify_tlog_proof(ctx, &file, &k, policy.as_deref()),
    }
}

/// `log proof INDEX --tlog-proof`: entry INDEX's C2SP tlog-proof against the
/// current checkpoint (in node mode the node's `/checkpoint`, with its
/// witness cosignatures), carrying the entry's COSE bytes as `extra`.
fn export_tlog_proof(ctx: &Ctx, index: u64, out: Option<&Path>, k: Option<&str>) -> Result<Report> {
    let key = log_key(ctx, k, false)?;
    let b = ctx.backend()?;
    // The checkpoint first, then the proof for its size: a node that grows
    // meanwhile still answers for the tree this checkpoint signs.
    let note = b.checkpoint()?;
    let cp = Checkpoint::parse_note_unverified(&note)
        .map_err(|e| CliError::refused("bad_checkpoint", e.to_string()))?;
    if index >= cp.size {
        return Err(CliError::refused(
            "not_found",
            format!("entry {index} is not in the tree of size {}", cp.size),
        ));
    }
    let proof = b.inclusion_proof(index, Some(cp.size))?;
    let entry = b.entry(index)?;
    let tlog = TlogProof::for_entry(&entry, &proof, &note)
        .map_err(|e| CliError::refused("bad_proof", format!("{} sent {e}", b.describe())))?;
    let checked = match &key {
        Some(k) => {
            tlog.verify_self_contained(k, None).map_err(|e| {
                CliError::refused(
                    "bad_proof",
                    format!("the proof from {} does not verify: {e}", b.describe()),
                )
            })?;
            format!("verified with {k}")
        }
        None => "not checked (no --log-key)".to_string(),
    };
    let text = tlog.to_text()?;
    if let Some(path) = out {
        std::fs::write(path, &text)
            .map_err(|e| CliError::failed(format!("cannot write {}: {e}", path.display())))?;
    }
    let cosignatures = note
        .rsplit("\n\n")
        .next()
        .map_or(0, |sigs| sigs.lines().count().saturating_sub(1));
    let json = json!({
        "index": index,
        "origin": cp.origin,
        "tree_size": cp.size,
        "root": STANDARD.encode(cp.root),
        "leaf_hash": STANDARD.encode(proof.leaf_hash),
        "hashes": proof.hashes.len(),
        "file": out.map(|p| p.display().to_string()),
        "verified": key.is_some(),
        "tlog_proof": text,
    });
    let report_text = match out {
        None => text,
        Some(path) => format!(
            "{} tlog-proof of entry {index} written to {}\n{}",
            ctx.style.mark(true),
            path.display(),
            fields(&[
                ("origin", cp.origin.clone()),
                ("tree size", cp.size.to_string()),
                ("leaf hash", STANDARD.encode(proof.leaf_hash)),
                ("proof hashes", proof.hashes.len().to_string()),
                ("cosignatures", cosignatures.to_string()),
                ("checked", checked),
                (
                    "verify with",
                    format!(
                        "cupass log verify-proof {} --log-key LOG_KEY",
                        path.display()
                    ),
                ),
            ])
        ),
    };
    Ok(Report::new(json, report_text))
}

/// A stable code for why a tlog-proof was refused.
fn refusal_code(e: &ledger::Error) -> &'static str {
    use ledger::Error as E;
    match e {
        E::MalformedTlogProof(_) => "malformed_tlog_proof",
        E::MalformedNote(_) | E::MalformedCheckpoint(_) => "malformed_checkpoint",
        E::NoteSignature(_) | E::BadSignature(_) => "bad_log_signature",
        E::BadProof(_) => "bad_inclusion_proof",
        E::QuorumNotMet(_) => "quorum_not_met",
        E::BadCosignature(_) | E::NoCosignature(_) => "bad_cosignature",
        _ => "invalid",
    }
}

/// `log verify-proof FILE`: verifies a C2SP tlog-proof offline.
fn verify_tlog_proof(ctx: &Ctx, file: &Path, key: &str, policy: Option<&Path>) -> Result<Report> {
    use std::io::Read;
    let key = parse_log_key(key)?;
    let policy = policy
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", p.display())))?;
            ledger::policy::Policy::parse(&text)
                .map_err(|e| CliError::usage(format!("{}: {e}", p.display())))
        })
        .transpose()?;
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| {
            f.take(u64::try_from(ledger::tlog_proof::MAX_TEXT).unwrap_or(u64::MAX) + 1)
                .read_to_end(&mut bytes)
        })
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", file.display())))?;
    let result = std::str::from_utf8(&bytes)
        .map_err(|_| ledger::Error::MalformedTlogProof("the file is not UTF-8 text".into()))
        .and_then(TlogProof::parse)
        .and_then(|p| {
            let cp = p.verify_self_contained(&key, policy.as_ref())?;
            Ok((p, cp))
        });
    let s = &ctx.style;
    let (proof, cp) = match result {
        Ok(v) => v,
        Err(e) => {
            let code = refusal_code(&e);
            return Ok(Report {
                json: json!({
                    "valid": false, "file": file.display().to_string(), "log": key.name(),
                    "error": code, "reason": e.to_string(),
                }),
                text: format!("{} INVALID ({code}): {e}\n", s.bad("✗")),
                exit: EXIT_INVALID,
            });
        }
    };
    let entry = proof.extra.as_deref().unwrap_or_default();
    let (signer, kind) = match Entry::from_bytes(entry) {
        Ok(e) => (
            hex::encode(e.kid()),
            decode_canonical(e.payload())
                .map(|ev| ev.kind().name().to_string())
                .unwrap_or_else(|_| "not a cupass event".into()),
        ),
        Err(_) => ("-".into(), "not a COSE_Sign1 entry".into()),
    };
    let witnesses = match &policy {
        Some(p) => {
            let r = p.evaluate_cosignatures(&proof.checkpoint)?;
            format!("cosigned by {} (quorum met)", r.cosigned_by().join(", "))
        }
        None => "not checked (no --policy)".into(),
    };
    let text = format!(
        "{}{} VALID: entry {} is in log {} at tree size {}\n",
        fields(&[
            ("index", proof.index.to_string()),
            ("origin", cp.origin.clone()),
            ("tree size", cp.size.to_string()),
            ("root", STANDARD.encode(cp.root)),
            ("leaf hash", STANDARD.encode(leaf_hash(entry))),
            ("kind", kind.clone()),
            ("signer", signer.clone()),
            ("witnesses", witnesses.clone()),
        ]),
        s.good("✓"),
        proof.index,
        cp.origin,
        cp.size
    );
    Ok(Report::new(
        json!({
            "valid": true, "file": file.display().to_string(), "log": key.name(),
            "index": proof.index, "tree_size": cp.size, "root": STANDARD.encode(cp.root),
            "leaf_hash": STANDARD.encode(leaf_hash(entry)), "kind": kind, "signer": signer,
            "witnesses": policy.as_ref().map(|_| witnesses),
        }),
        text,
    ))
}

/// Progress bars for a long audit, on stderr when it is a terminal.
struct Bars {
    draw: bool,
    bar: std::cell::RefCell<Option<ProgressBar>>,
}

impl Progress for Bars {
    fn start(&self, phase: &'static str, len: u64) {
        let pb = ProgressBar::with_draw_target(
            Some(len),
            if self.draw {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        if let Ok(st) = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({per_sec})")
        {
            pb.set_style(st.progress_chars("=> "));
        }
        pb.set_message(phase);
        *self.bar.borrow_mut() = Some(pb);
    }
    fn advance(&self, n: u64) {
        if let Some(pb) = self.bar.borrow().as_ref() {
            pb.inc(n);
        }
    }
    fn finish(&self) {
        if let Some(pb) = self.bar.borrow_mut().take() {
            pb.finish_and_clear();
        }
    }
}

fn verify(ctx: &Ctx, key: &NoteVerifier) -> Result<Report> {
    let bars = Bars {
        draw: ctx.progress,
        bar: std::cell::RefCell::new(None),
    };
    let verdict = match &ctx.node {
        None => verify_log(&Source::Dir(&ctx.dir), key, &bars),
        Some(url) => {
            let node = NodeClient::new(url)?;
            verify_log(&Source::Node(&node), key, &bars)
        }
    };
    let verdict = verdict.map_err(|e| match e {
        AuditError::Store(e) => match e {
            client::Error::Config(m) => CliError::usage(m),
            other => CliError::from(other),
        },
        AuditError::Node(e) => CliError::from(e),
        other => CliError::failed(other.to_string()),
    })?;
    Ok(report(ctx, &verdict, key))
}

fn report(ctx: &Ctx, v: &Verdict, key: &NoteVerifier) -> Report {
    let s = &ctx.style;
    let mut t = Table::new(&["", "step", "detail"]);
    for c in &v.checks {
        t.row(vec![
            s.mark(c.ok),
            c.part.name().to_string(),
            c.detail.clone(),
        ]);
    }
    let mut text = t.render();
    match v.failure() {
        None => text.push_str(&format!(
            "{} VALID: {} entries of log {} verified\n",
            s.good("✓"),
            v.entries,
            key.name()
        )),
        Some(f) => text.push_str(&format!(
            "{} INVALID: {}{}\n",
            s.bad("✗"),
            v.first_failing_entry
                .map(|i| format!("first failing entry {i}: "))
                .unwrap_or_default(),
            f.detail
        )),
    }
    let j = json!({
        "valid": v.valid,
        "log": key.name(),
        "entries": v.entries,
        "tree_size": v.tree_size,
        "first_failing_entry": v.first_failing_entry,
        "steps": v.checks.iter().map(|c| json!({"step": c.part.name(), "ok": c.ok, "detail": c.detail})).collect::<Vec<_>>(),
    });
    Report {
        json: j,
        text,
        exit: if v.valid { 0 } else { EXIT_INVALID },
    }
}
