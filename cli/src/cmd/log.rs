//! The log: `log checkpoint`, `log proof`, `log entry`, `log verify`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::{Engine, engine::general_purpose::STANDARD};
use ed25519_dalek::VerifyingKey;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use ledger::hash::{Hash, empty_root, leaf_hash, node_hash};
use ledger::tiles::{TileClient, TileId, TileKind};
use ledger::{Checkpoint, Entry, NoteVerifier, SledConfig, SledStore, Store};
use passport_schema::{Context, Event, EventBody, MemoryState, decode_canonical};
use serde_json::{Value, json};

use crate::Ctx;
use crate::args::{LogCmd, ProofCmd};
use crate::backend::Http;
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
            let body = note.split("\n\n").next().unwrap_or_default();
            let cp = Checkpoint::parse_body(&format!("{body}\n"))
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
        LogCmd::Proof(ProofCmd::Inclusion {
            index,
            tree_size,
            log_key: k,
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
        LogCmd::Proof(ProofCmd::Consistency { old, new }) => {
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
                    ("occurred", crate::util::fmt_time(event.occurred_ms)),
                    ("leaf hash", STANDARD.encode(leaf_hash(&bytes))),
                ]),
                serde_json::to_string_pretty(&ev).unwrap_or_default()
            );
            Ok(Report::new(j, text))
        }
        LogCmd::Verify { log_key: k } => {
            let key = log_key(ctx, k.as_deref(), true)?
                .ok_or_else(|| CliError::usage("give --log-key"))?;
            verify(ctx, &key)
        }
    }
}

/// One step of a full verification.
struct Step {
    name: &'static str,
    ok: bool,
    detail: String,
}

/// The outcome of a full verification.
struct Outcome {
    steps: Vec<Step>,
    first_failing_entry: Option<u64>,
    entries: u64,
    tree_size: Option<u64>,
}

impl Outcome {
    fn pass(&mut self, name: &'static str, detail: String) {
        self.steps.push(Step {
            name,
            ok: true,
            detail,
        });
    }
    fn fail(mut self, name: &'static str, entry: Option<u64>, detail: String) -> Self {
        self.first_failing_entry = entry;
        self.steps.push(Step {
            name,
            ok: false,
            detail,
        });
        self
    }
}

fn bar(ctx: &Ctx, len: u64) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(
        Some(len),
        if ctx.progress {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    if let Ok(st) = ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({per_sec})") {
        pb.set_style(st.progress_chars("=> "));
    }
    pb
}

fn verify(ctx: &Ctx, key: &NoteVerifier) -> Result<Report> {
    let mut out = Outcome {
        steps: Vec::new(),
        first_failing_entry: None,
        entries: 0,
        tree_size: None,
    };
    let (note, entries, stored_leaves, views) = match &ctx.node {
        None => match read_local(ctx)? {
            Ok(l) => (l.note, l.entries, Some(l.leaves), Some(l.views)),
            Err((entry, detail)) => {
                out = out.fail("store", entry, detail);
                return Ok(report(ctx, out, key));
            }
        },
        Some(url) => {
            let http = Http::new(url)?;
            let note = crate::backend::Backend::checkpoint(&http)?;
            match read_remote(ctx, &http, &note, key) {
                Ok(entries) => (note, entries, None, None),
                Err((step, entry, detail)) => {
                    out = out.fail(step, entry, detail);
                    return Ok(report(ctx, out, key));
                }
            }
        }
    };
    let out = check_all(
        ctx,
        out,
        key,
        &note,
        &entries,
        stored_leaves.as_deref(),
        views.as_deref(),
    );
    Ok(report(ctx, out, key))
}

/// What a local store holds: the checkpoint, the entries, the stored leaf
/// hashes and the stored view records (`s/`-prefixed keys).
struct Local {
    note: String,
    entries: Vec<Vec<u8>>,
    leaves: Vec<Hash>,
    views: Vec<(Vec<u8>, Vec<u8>)>,
}

type LocalRead = std::result::Result<Local, (Option<u64>, String)>;

/// Reads the checkpoint, every entry and the stored leaf hashes straight
/// from the sled store (no open-time check, so tampering gets named).
fn read_local(ctx: &Ctx) -> Result<LocalRead> {
    let path = ctx.dir.join("store");
    if !path.exists() {
        return Err(CliError::usage(format!(
            "{} holds no ledger",
            ctx.dir.display()
        )));
    }
    let store = SledStore::open(&path, &SledConfig::default())?;
    let Some(note) = store.checkpoint()? else {
        return Ok(Err((None, "the store holds no signed checkpoint".into())));
    };
    let size = store.tree_size()?;
    let pb = bar(ctx, size);
    pb.set_message("reading");
    let mut entries = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    let mut i = 0;
    while i < size {
        let end = (i + 4096).min(size);
        let chunk = store.entries(i, end)?;
        let got = chunk.len() as u64;
        entries.extend(chunk);
        pb.inc(got);
        if got < end - i {
            pb.finish_and_clear();
            return Ok(Err((
                Some(i + got),
                format!("entry {} is missing from the store", i + got),
            )));
        }
        i = end;
    }
    pb.finish_and_clear();
    let mut leaves = Vec::with_capacity(entries.len());
    let mut n = 0;
    while let Some(w) = TileId::width_at(0, n, size) {
        let tile = store.tile(0, n)?.unwrap_or_default();
        let hashes: Vec<Hash> = tile
            .chunks_exact(32)
            .filter_map(|c| Hash::try_from(c).ok())
            .collect();
        if hashes.len() != usize::from(w) {
            return Ok(Err((
                Some(n * 256),
                format!(
                    "hash tile 0/{n} holds {} hashes, the tree needs {w}",
                    hashes.len()
                ),
            )));
        }
        leaves.extend(hashes);
        n += 1;
    }
    let views = store.aux_scan_prefix(node::state::STATE_PREFIX)?;
    Ok(Ok(Local {
        note,
        entries,
        leaves,
        views,
    }))
}

type RemoteErr = (&'static str, Option<u64>, String);

/// Fetches and checks the tiles and entry bundles of the checkpoint's tree.
fn read_remote(
    ctx: &Ctx,
    http: &Http,
    note: &str,
    key: &NoteVerifier,
) -> std::result::Result<Vec<Vec<u8>>, RemoteErr> {
    let cp = Checkpoint::open(note, key)
        .map_err(|e| ("checkpoint", None, format!("checkpoint: {e}")))?;
    let mut client = TileClient::new(cp.size, |id: TileId| {
        http.tile(&id.path(TileKind::Hashes))
            .map_err(|e| ledger::Error::BadTile(e.message))
    });
    client
        .verify_all(&cp.root)
        .map_err(|e| ("tiles", None, format!("hash tiles: {e}")))?;
    let pb = bar(ctx, cp.size);
    pb.set_message("fetching");
    let mut entries = Vec::new();
    let mut n = 0;
    while let Some(w) = TileId::width_at(0, n, cp.size) {
        let id = TileId {
            level: 0,
            index: n,
            width: w,
        };
        let bundle = http
            .tile(&id.path(TileKind::Entries))
            .map_err(|e| ("entries", Some(n * 256), e.message))?;
        let got = client
            .verify_entries(n, &bundle)
            .map_err(|e| ("entries", Some(n * 256), format!("entry bundle {n}: {e}")))?;
        pb.inc(got.len() as u64);
        entries.extend(got);
        n += 1;
    }
    pb.finish_and_clear();
    Ok(entries)
}

/// RFC 9162 MTH over leaf hashes.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [h] => *h,
        _ => {
            let n = leaves.len() as u64;
            let k = 1u64 << (63 - (n - 1).leading_zeros());
            let (l, r) = leaves.split_at(usize::try_from(k).unwrap_or(0));
            node_hash(&mth(l), &mth(r))
        }
    }
}

/// Batch-verifies signatures of entries `range` and returns the first failing index.
fn verify_sigs(
    decoded: &[(Entry, Event)],
    keys: &HashMap<[u8; 32], VerifyingKey>,
    offset: usize,
    pb: &ProgressBar,
    done: &AtomicU64,
) -> Option<(u64, String)> {
    for (c, chunk) in decoded.chunks(256).enumerate() {
        let base = offset + c * 256;
        let mut es = Vec::with_capacity(chunk.len());
        let mut ks = Vec::with_capacity(chunk.len());
        for (j, (e, ev)) in chunk.iter().enumerate() {
            let k = match &ev.body {
                EventBody::Genesis(g) => {
                    ledger::keys::checked_verifying_key(&g.operator.public_key.0).ok()
                }
                _ => keys.get(e.kid()).copied(),
            };
            let Some(k) = k else {
                return Some((
                    (base + j) as u64,
                    format!("signer {} is not a registered key", hex::encode(e.kid())),
                ));
            };
            es.push(e);
            ks.push(k);
        }
        if ledger::cose::verify_batch(&es, &ks).is_err() {
            for (j, (e, k)) in es.iter().zip(&ks).enumerate() {
                if let Err(err) = e.verify(k) {
                    return Some(((base + j) as u64, format!("bad signature: {err}")));
                }
            }
            return Some((base as u64, "batch verification failed".into()));
        }
        done.fetch_add(chunk.len() as u64, Ordering::Relaxed);
        pb.inc(chunk.len() as u64);
    }
    None
}

fn check_all(
    ctx: &Ctx,
    mut out: Outcome,
    key: &NoteVerifier,
    note: &str,
    entries: &[Vec<u8>],
    stored: Option<&[Hash]>,
    views: Option<&[(Vec<u8>, Vec<u8>)]>,
) -> Outcome {
    let n = entries.len() as u64;
    out.entries = n;
    let cp = match Checkpoint::open(note, key) {
        Ok(cp) => cp,
        Err(e) => return out.fail("checkpoint", None, format!("checkpoint: {e}")),
    };
    out.tree_size = Some(cp.size);
    out.pass(
        "checkpoint",
        format!("signed by {} at tree size {}", key.name(), cp.size),
    );
    // Decode every entry and learn every registered key.
    let mut decoded = Vec::with_capacity(entries.len());
    let mut keys: HashMap<[u8; 32], VerifyingKey> = HashMap::new();
    for (i, bytes) in entries.iter().enumerate() {
        let entry = match Entry::from_bytes(bytes) {
            Ok(e) => e,
            Err(e) => return out.fail("decode", Some(i as u64), format!("entry {i}: {e}")),
        };
        let event = match decode_canonical(entry.payload()) {
            Ok(e) => e,
            Err(e) => return out.fail("decode", Some(i as u64), format!("entry {i}: {e}")),
        };
        let pk = match &event.body {
            EventBody::Genesis(g) => Some(g.operator.public_key.0),
            EventBody::RegisterActor(r) => Some(r.public_key.0),
            _ => None,
        };
        if let Some(pk) = pk
            && let Ok(vk) = ledger::keys::checked_verifying_key(&pk)
        {
            keys.entry(passport_schema::kid_of(&pk)).or_insert(vk);
        }
        decoded.push((entry, event));
    }
    out.pass("decode", format!("{n} canonical COSE_Sign1 entries"));
    // Signatures: batch verification, split across two threads.
    let pb = bar(ctx, n);
    pb.set_message("signatures");
    let done = AtomicU64::new(0);
    let mid = decoded.len() / 2;
    let (a, b) = decoded.split_at(mid);
    let (ra, rb) = std::thread::scope(|s| {
        let ha = s.spawn(|| verify_sigs(a, &keys, 0, &pb, &done));
        let rb = verify_sigs(b, &keys, mid, &pb, &done);
        (ha.join().ok().flatten(), rb)
    });
    pb.finish_and_clear();
    if let Some((i, d)) = ra.or(rb) {
        return out.fail("signature", Some(i), format!("entry {i}: {d}"));
    }
    out.pass(
        "signature",
        format!("{n} signatures (batch verification on 2 threads)"),
    );
    // The tree.
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e)).collect();
    if let Some(stored) = stored {
        for (i, (l, s)) in leaves.iter().zip(stored).enumerate() {
            if l != s {
                return out.fail(
                    "tree",
                    Some(i as u64),
                    format!("entry {i}: its bytes do not hash to the stored leaf hash"),
                );
            }
        }
    }
    if n != cp.size {
        return out.fail(
            "tree",
            None,
            format!(
                "the store holds {n} entries but the checkpoint signs {}",
                cp.size
            ),
        );
    }
    let root = mth(&leaves);
    if root != cp.root {
        return out.fail(
            "tree",
            None,
            format!(
                "rebuilt root {} differs from the checkpoint's {}",
                STANDARD.encode(root),
                STANDARD.encode(cp.root)
            ),
        );
    }
    out.pass(
        "tree",
        format!(
            "rebuilt root {} equals the signed checkpoint",
            STANDARD.encode(root)
        ),
    );
    // The rules.
    let pb = bar(ctx, n);
    pb.set_message("rules");
    let mut state = MemoryState::new();
    for (i, (entry, event)) in decoded.iter().enumerate() {
        let cx = Context {
            index: i as u64,
            signer: *entry.kid(),
        };
        if let Err(e) = state.apply(&cx, event) {
            pb.finish_and_clear();
            return out.fail(
                "rule",
                Some(i as u64),
                format!("entry {i} ({}): {e}", event.kind()),
            );
        }
        pb.inc(1);
    }
    pb.finish_and_clear();
    out.pass("rule", format!("{n} entries pass every rule on replay"));
    // The stored views (local mode) must be exactly what the replay derived.
    if let Some(views) = views {
        let prefix = node::state::STATE_PREFIX;
        let replayed = state.entries();
        let mut stored = views
            .iter()
            .map(|(k, v)| (k.strip_prefix(prefix).unwrap_or(k), v));
        let mut derived = replayed.iter();
        loop {
            match (stored.next(), derived.next()) {
                (None, None) => break,
                (Some((sk, sv)), Some((dk, dv))) if sk == dk.as_slice() && sv == dv => {}
                (s, d) => {
                    let key = s
                        .map(|(k, _)| k)
                        .or(d.map(|(k, _)| k.as_slice()))
                        .unwrap_or_default();
                    // Keys are `<kind>/<binary id>`: show the id in hex.
                    let (kind, id) = match key.iter().position(|b| *b == b'/') {
                        Some(p) => key.split_at(p + 1),
                        None => (key, &[][..]),
                    };
                    return out.fail(
                        "views",
                        None,
                        format!(
                            "view record {}{} differs from the replay of the log",
                            String::from_utf8_lossy(kind),
                            hex::encode(id)
                        ),
                    );
                }
            }
        }
        out.pass(
            "views",
            format!("{} view records equal the replay", replayed.len()),
        );
    }
    out
}

fn report(ctx: &Ctx, out: Outcome, key: &NoteVerifier) -> Report {
    let s = &ctx.style;
    let ok = out.steps.iter().all(|x| x.ok);
    let mut t = Table::new(&["", "step", "detail"]);
    for st in &out.steps {
        t.row(vec![s.mark(st.ok), st.name.to_string(), st.detail.clone()]);
    }
    let mut text = t.render();
    let failing = out.steps.iter().find(|x| !x.ok);
    match failing {
        None => text.push_str(&format!(
            "{} VALID: {} entries of log {} verified\n",
            s.good("✓"),
            out.entries,
            key.name()
        )),
        Some(f) => text.push_str(&format!(
            "{} INVALID: {}{}\n",
            s.bad("✗"),
            out.first_failing_entry
                .map(|i| format!("first failing entry {i}: "))
                .unwrap_or_default(),
            f.detail
        )),
    }
    let j = json!({
        "valid": ok,
        "log": key.name(),
        "entries": out.entries,
        "tree_size": out.tree_size,
        "first_failing_entry": out.first_failing_entry,
        "steps": out.steps.iter().map(|x| json!({"step": x.name, "ok": x.ok, "detail": x.detail})).collect::<Vec<_>>(),
    });
    Report {
        json: j,
        text,
        exit: if ok { 0 } else { EXIT_INVALID },
    }
}
