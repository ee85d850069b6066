//! Certificates and contracts: `scheme`, `cert`, `verify`, `contract`.

use base64::{Engine, engine::general_purpose::STANDARD};
use client::bundle::EvidenceBundle;
use client::verify::Verdict;
use ledger::Entry;
use passport_schema::{
    Bytes32, CertificateIssue, CertificateRevocation, CertificateStatus, CertificateView,
    CompositionLimit, ContractAcceptance, ContractAudit, ContractProposal, EventBody, GradeTerm,
    MaterialKind, MaterialSpec, RuleSetRef, Scheme, SchemeRef, TakeBackTerms, decode_canonical,
};
use serde_json::{Value, json};

use crate::args::{CertCmd, ContractCmd, ProposeArgs, SchemeCmd, VerifyArgs};
use crate::error::{CliError, EXIT_INVALID, Result};
use crate::keys::{parse_kid, parse_log_key};
use crate::output::{Report, Style, Table, fields, grams, indices, name, or_dash, pct, to_json};
use crate::parse::{id_or_new, parse_enum, parse_id, parse_versioned, read_json};
use crate::time::{fmt_time, parse_time};
use crate::{Ctx, submitted};

fn parse_limit(s: &str) -> Result<CompositionLimit> {
    let parts: Vec<&str> = s.split(':').collect();
    let [el, min, max] = parts.as_slice() else {
        return Err(CliError::usage(format!(
            "--limit {s:?}: expected ELEMENT:MIN_PPM:MAX_PPM (a bound may be empty)"
        )));
    };
    let num = |x: &str| -> Result<Option<u32>> {
        if x.is_empty() {
            Ok(None)
        } else {
            x.parse()
                .map(Some)
                .map_err(|_| CliError::usage(format!("--limit {s:?}: {x:?} is not ppm")))
        }
    };
    Ok(CompositionLimit {
        element: el.to_string(),
        min_ppm: num(min)?,
        max_ppm: num(max)?,
    })
}

pub(crate) fn scheme(ctx: &mut Ctx, cmd: SchemeCmd) -> Result<Report> {
    match cmd {
        SchemeCmd::Publish {
            key,
            file,
            name,
            min_recycled_share_ppm,
            limits,
            accept,
            require_measured,
            id,
            version,
            transition_days,
        } => {
            let s: Scheme = match file {
                Some(f) => read_json(&f)?,
                None => Scheme {
                    id: id_or_new(id.as_deref())?,
                    version,
                    name: name.unwrap_or_default(),
                    min_recycled_share_ppm,
                    composition_limits: limits
                        .iter()
                        .map(|l| parse_limit(l))
                        .collect::<Result<_>>()?,
                    accepted_rule_sets: accept
                        .iter()
                        .map(|a| match parse_versioned(a, "--accept-rule-set")? {
                            (id, Some(version)) => Ok(RuleSetRef { id, version }),
                            (_, None) => Err(CliError::usage(format!(
                                "--accept-rule-set {a:?}: give ID@VERSION"
                            ))),
                        })
                        .collect::<Result<_>>()?,
                    require_measured_composition: require_measured,
                    transition_days,
                },
            };
            let (id, version, name) = (s.id, s.version, s.name.clone());
            let backend = ctx.backend()?;
            let r = ctx.sign_submit(backend.as_ref(), &key, EventBody::PublishScheme(s))?;
            Ok(submitted(
                ctx,
                "publish_scheme",
                &r,
                &[
                    ("scheme", format!("{id}@{version}")),
                    ("name", name.clone()),
                ],
                json!({"id": id, "version": version, "name": name}),
            ))
        }
    }
}

pub(crate) fn cert(ctx: &mut Ctx, cmd: CertCmd) -> Result<Report> {
    match cmd {
        CertCmd::Issue {
            key,
            scheme,
            subject,
            claimed_share_ppm,
            claimed_mass_g,
            id,
        } => {
            let (sid, sver) = parse_versioned(&scheme, "--scheme")?;
            let subject = parse_id(&subject, "--subject")?;
            let id = id_or_new(id.as_deref())?;
            let backend = ctx.backend()?;
            let version = match sver {
                Some(v) => v,
                None => backend.scheme(&sid, None)?.version,
            };
            let (share, mass) = match (claimed_share_ppm, claimed_mass_g) {
                (Some(s), Some(m)) => (s, m),
                (s, m) => {
                    let lot = backend.lot(&subject)?;
                    (s.unwrap_or(lot.recycled.total_ppm), m.unwrap_or(lot.mass_g))
                }
            };
            let body = EventBody::IssueCertificate(CertificateIssue {
                id,
                scheme: SchemeRef { id: sid, version },
                subject,
                claimed_recycled_share_ppm: share,
                claimed_mass_g: mass,
            });
            let r = ctx.sign_submit(backend.as_ref(), &key, body)?;
            Ok(submitted(
                ctx,
                "issue_certificate",
                &r,
                &[
                    ("certificate", id.to_string()),
                    ("subject", subject.to_string()),
                    ("claimed share", pct(u64::from(share))),
                    ("claimed mass", grams(mass)),
                ],
                json!({"id": id, "subject": subject, "scheme": {"id": sid, "version": version},
                       "claimed_recycled_share_ppm": share, "claimed_mass_g": mass}),
            ))
        }
        CertCmd::Revoke { key, id, reason } => {
            let id = parse_id(&id, "certificate id")?;
            let backend = ctx.backend()?;
            let r = ctx.sign_submit(
                backend.as_ref(),
                &key,
                EventBody::RevokeCertificate(CertificateRevocation {
                    certificate: id,
                    reason,
                }),
            )?;
            Ok(submitted(
                ctx,
                "revoke_certificate",
                &r,
                &[("certificate", id.to_string())],
                json!({"certificate": id}),
            ))
        }
        CertCmd::Status { id } => {
            let id = parse_id(&id, "certificate id")?;
            let v = ctx.backend()?.certificate(&id)?;
            Ok(Report::new(to_json(&v), render_certificate(&ctx.style, &v)))
        }
        CertCmd::Bundle { id, out } => {
            let id = parse_id(&id, "certificate id")?;
            if out.is_none() && !ctx.json {
                return Err(CliError::usage(
                    "give -o FILE.cupass (or --json for a readable dump)",
                ));
            }
            let bytes = ctx.backend()?.bundle(&id)?;
            let bundle = EvidenceBundle::from_cbor(&bytes)?;
            if let Some(path) = &out {
                std::fs::write(path, &bytes).map_err(|e| {
                    CliError::failed(format!("cannot write {}: {e}", path.display()))
                })?;
            }
            let j = bundle_json(&bundle);
            let text = format!(
                "{} evidence bundle for certificate {id}\n{}",
                ctx.style.mark(true),
                fields(&[
                    ("entries", bundle.entries.len().to_string()),
                    (
                        "checkpoint",
                        bundle
                            .checkpoint
                            .lines()
                            .take(2)
                            .collect::<Vec<_>>()
                            .join(" size ")
                    ),
                    ("bytes", bytes.len().to_string()),
                    (
                        "file",
                        out.as_ref()
                            .map(|p| p.display().to_string())
                            .unwrap_or_else(|| "-".into())
                    ),
                    (
                        "verify with",
                        format!(
                            "cupass verify {} --log-key LOG_KEY",
                            out.as_ref()
                                .map(|p| p.display().to_string())
                                .unwrap_or_else(|| "FILE".into())
                        )
                    ),
                ])
            );
            Ok(Report::new(j, text))
        }
    }
}

/// The readable dump of a bundle: entries in base64 with their decoded events.
pub(crate) fn bundle_json(b: &EvidenceBundle) -> Value {
    let entries: Vec<Value> = b
        .entries
        .iter()
        .map(|e| {
            let decoded = Entry::from_bytes(&e.entry).ok().map(|en| {
                let ev = decode_canonical(en.payload())
                    .ok()
                    .and_then(|x| serde_json::to_value(x).ok());
                json!({"signer": hex::encode(en.kid()), "event": ev})
            });
            json!({
                "index": e.index,
                "entry": STANDARD.encode(&e.entry),
                "proof": e.proof.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
                "decoded": decoded,
            })
        })
        .collect();
    json!({
        "format": b.format,
        "log_key": b.log_key,
        "checkpoint": b.checkpoint,
        "subject": b.subject,
        "entries": entries,
    })
}

fn render_certificate(s: &Style, v: &CertificateView) -> String {
    let active = matches!(v.status, CertificateStatus::Active);
    let all = v.all_criteria_hold;
    let mut out = format!(
        "{} certificate {} is {} ({}, entry {})\n",
        s.mark(active && all),
        v.id,
        if active {
            s.good("active")
        } else {
            s.bad(&name(&v.status))
        },
        if all {
            "every criterion holds now"
        } else {
            "NOT every criterion holds now"
        },
        v.status_index,
    );
    out.push_str(&fields(&[
        (
            "scheme",
            format!("{} ({}@{})", v.scheme_name, v.scheme.id, v.scheme.version),
        ),
        ("subject", v.subject.to_string()),
        (
            "claimed share",
            pct(u64::from(v.claimed_recycled_share_ppm)),
        ),
        (
            "derived share",
            pct(u64::from(v.derived_recycled_share_ppm)),
        ),
        ("claimed mass", grams(v.claimed_mass_g)),
        ("issuer", v.issuer.to_string()),
        ("issued", format!("entry {}", v.issued_index)),
    ]));
    if let Some(r) = &v.revocation {
        out.push_str(&fields(&[(
            "revoked",
            format!("entry {}: {}", r.index, r.reason),
        )]));
    }
    out.push('\n');
    let mut t = Table::new(&["criterion", "result", "detail", "evidence"]);
    for c in &v.criteria {
        t.row(vec![
            name(&c.criterion),
            s.pass_fail(c.pass),
            c.detail.clone(),
            indices(&c.evidence),
        ]);
    }
    out.push_str(&t.render());
    out
}

/// The text form of a bundle verdict.
pub(crate) fn render_verdict(s: &Style, v: &Verdict) -> String {
    let mut out = String::new();
    let mut t = Table::new(&["", "part", "detail"]);
    for c in &v.checks {
        t.row(vec![
            s.mark(c.ok),
            c.part.name().to_string(),
            c.detail.clone(),
        ]);
    }
    out.push_str(&t.render());
    let subject = v
        .subject
        .map(|u| u.to_string())
        .unwrap_or_else(|| "?".into());
    if v.valid {
        out.push_str(&format!(
            "{} VALID: {subject} as of tree size {}{}{}\n",
            s.good("✓"),
            v.tree_size.unwrap_or(0),
            v.as_of_ms
                .map(|t| format!(", integrated at {}", crate::time::fmt_time(t)))
                .unwrap_or_default(),
            v.recycled_share_ppm
                .map(|p| format!(", derived recycled share {}", pct(u64::from(p))))
                .unwrap_or_default()
        ));
    } else if let Some(f) = v.failure() {
        out.push_str(&format!(
            "{} INVALID: {} check failed: {}\n",
            s.bad("✗"),
            f.part.name(),
            f.detail
        ));
    }
    out
}

pub(crate) fn status(ctx: &mut Ctx, a: crate::args::StatusArgs) -> Result<Report> {
    use passport_schema::status::Status;
    let log_key = parse_log_key(&a.log_key)?;
    let key = client::status::parse_status_key(&a.kind, &a.id).map_err(CliError::usage)?;
    let bytes = ctx.backend()?.status(&key)?;
    let proved = client::status::StatusAnswer::verify(&bytes, &log_key)
        .map_err(|e| CliError::refused("bad_status_proof", e))?;
    let (json_status, line) = match &proved.status {
        None => (
            serde_json::Value::Null,
            format!("{key} does not exist in the log (proof of absence)"),
        ),
        Some(Status::Certificate(c)) => (
            serde_json::to_value(c).unwrap_or_default(),
            match c.revoked_index {
                Some(i) => format!(
                    "{key}: REVOKED at entry {i} (issued at entry {})",
                    c.issued_index
                ),
                None => format!("{key}: not revoked (issued at entry {})", c.issued_index),
            },
        ),
        Some(Status::Key(k)) => (
            serde_json::to_value(k).unwrap_or_default(),
            match k.revoked_index {
                Some(i) => format!(
                    "{key}: REVOKED at entry {i} (registered at entry {})",
                    k.registered_index
                ),
                None => format!(
                    "{key}: never revoked (registered at entry {})",
                    k.registered_index
                ),
            },
        ),
        Some(Status::Material(m)) => (
            serde_json::to_value(m).unwrap_or_default(),
            format!(
                "{key}: {} of {} g remaining, {} g claimed, {}",
                m.remaining_g,
                m.mass_g,
                m.claimed_g,
                if m.certificates.is_empty() {
                    "no certificate exists for it".to_string()
                } else {
                    format!(
                        "certificates {}",
                        m.certificates
                            .iter()
                            .map(|c| c.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
        ),
    };
    let json = serde_json::json!({
        "key": key.to_string(),
        "exists": proved.status.is_some(),
        "status": json_status,
        "tree_size": proved.tree_size,
        "as_of_ms": proved.as_of_ms,
    });
    let text = format!(
        "{} {line}\n  proved against the status commitment at tree size {}, integrated at {}\n",
        ctx.style.mark(true),
        proved.tree_size,
        crate::time::fmt_time(proved.as_of_ms)
    );
    Ok(Report::new(json, text))
}

pub(crate) fn verify(ctx: &mut Ctx, a: VerifyArgs) -> Result<Report> {
    let key = parse_log_key(&a.log_key)?;
    let bytes = std::fs::read(&a.file)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", a.file.display())))?;
    let max_age_ms = a
        .max_age
        .as_deref()
        .map(|d| {
            humantime::parse_duration(d)
                .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                .map_err(|e| CliError::usage(format!("--max-age {d:?}: {e} (e.g. 24h, 7days)")))
        })
        .transpose()?;
    let node = ctx
        .node
        .as_deref()
        .map(client::http::NodeClient::new)
        .transpose()?;
    let policy = a
        .policy
        .as_ref()
        .map(|p| {
            let text = std::fs::read_to_string(p)
                .map_err(|e| CliError::usage(format!("cannot read {}: {e}", p.display())))?;
            ledger::policy::Policy::parse(&text)
                .map_err(|e| CliError::usage(format!("{}: {e}", p.display())))
        })
        .transpose()?;
    let fresh = client::freshness::Freshness {
        node: node.as_ref(),
        max_age_ms,
        now_ms: client::now_ms(),
        policy: policy.as_ref(),
    };
    let verdict = client::freshness::verify_fresh(&bytes, &key, &fresh)?;
    let json = serde_json::to_value(&verdict)
        .map_err(|e| CliError::failed(format!("encoding verdict: {e}")))?;
    Ok(Report {
        json,
        text: render_verdict(&ctx.style, &verdict),
        exit: if verdict.valid { 0 } else { EXIT_INVALID },
    })
}

fn proposal_from_flags(a: &ProposeArgs) -> Result<ContractProposal> {
    let customer = parse_kid(a.customer.as_deref().unwrap_or_default())?;
    let kinds = if a.kinds.is_empty() {
        vec![MaterialKind::Refined]
    } else {
        a.kinds
            .iter()
            .map(|k| {
                parse_enum(
                    k,
                    "--kind",
                    "refined, rod, foil, strip, wire, product, intermediate, scrap",
                )
            })
            .collect::<Result<Vec<MaterialKind>>>()?
    };
    let grade_rules = match &a.grade_rules {
        Some(r) => match parse_versioned(r, "--grade-rules")? {
            (id, Some(version)) => Some(RuleSetRef { id, version }),
            (_, None) => {
                return Err(CliError::usage(format!(
                    "--grade-rules {r:?}: expected ID@VERSION"
                )));
            }
        },
        None => None,
    };
    let grades = a
        .grades
        .iter()
        .map(|g| {
            let rule_set = grade_rules.ok_or_else(|| {
                CliError::usage(
                    "--grade needs --grade-rules ID@VERSION: the rule set it is earned under",
                )
            })?;
            let (code, diff) = g.rsplit_once('=').ok_or_else(|| {
                CliError::usage(format!("--grade {g:?}: expected CODE=DIFFERENTIAL"))
            })?;
            Ok(GradeTerm {
                rule_set,
                code: code.to_string(),
                differential_per_tonne_minor: diff.parse().map_err(|_| {
                    CliError::usage(format!("--grade {g:?}: {diff:?} is not a whole number"))
                })?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(ContractProposal {
        id: id_or_new(a.id.as_deref())?,
        customer,
        spec: MaterialSpec {
            description: a.description.clone(),
            kinds,
            min_cu_ppm: a.min_cu_ppm,
        },
        start_ms: parse_time(a.start.as_deref().unwrap_or_default())?,
        end_ms: parse_time(a.end.as_deref().unwrap_or_default())?,
        take_back: TakeBackTerms {
            min_share_ppm: a.take_back_share_ppm,
            grades,
            currency: a.currency.clone(),
        },
        min_recycled_share_ppm: a.min_recycled_share_ppm,
    })
}

pub(crate) fn contract(ctx: &mut Ctx, cmd: ContractCmd) -> Result<Report> {
    match cmd {
        ContractCmd::Propose(a) => {
            let p: ContractProposal = match &a.file {
                Some(f) => read_json(f)?,
                None => proposal_from_flags(&a)?,
            };
            let (id, customer) = (p.id, p.customer);
            let backend = ctx.backend()?;
            let r = ctx.sign_submit(backend.as_ref(), &a.key, EventBody::ProposeContract(p))?;
            Ok(submitted(
                ctx,
                "propose_contract",
                &r,
                &[
                    ("contract", id.to_string()),
                    ("customer", customer.to_hex()),
                ],
                json!({"id": id, "customer": customer.to_hex()}),
            ))
        }
        ContractCmd::Accept { key, id } => {
            let id = parse_id(&id, "contract id")?;
            let backend = ctx.backend()?;
            let proposal = proposal_leaf_hash(backend.as_ref(), &id)?;
            let r = ctx.sign_submit(
                backend.as_ref(),
                &key,
                EventBody::AcceptContract(ContractAcceptance::new(id, proposal)),
            )?;
            Ok(submitted(
                ctx,
                "accept_contract",
                &r,
                &[
                    ("contract", id.to_string()),
                    ("proposal", proposal.to_hex()),
                ],
                json!({"contract": id, "proposal": proposal.to_hex()}),
            ))
        }
        ContractCmd::Audit { id } => {
            let id = parse_id(&id, "contract id")?;
            let v = ctx.backend()?.contract_audit(&id)?;
            Ok(Report::new(to_json(&v), render_audit(&ctx.style, &v)))
        }
    }
}

/// The leaf hash of the entry that proposed contract `id`, which an
/// acceptance commits to. The contract view names the proposal's index; the
/// hash is computed here from the entry's own bytes, which must be that
/// proposal, and must agree with the view's.
fn proposal_leaf_hash(backend: &dyn crate::backend::Backend, id: &uuid::Uuid) -> Result<Bytes32> {
    let view = backend.contract_audit(id)?;
    let bytes = backend.entry(view.proposed_index)?;
    let leaf = Bytes32(ledger::hash::leaf_hash(&bytes));
    let proposes_it = Entry::from_bytes(&bytes)
        .ok()
        .and_then(|e| decode_canonical(e.payload()).ok())
        .is_some_and(|ev| matches!(&ev.body, EventBody::ProposeContract(p) if p.id == *id));
    if !proposes_it || leaf != view.proposal_leaf_hash {
        return Err(CliError::failed(format!(
            "entry {} is not the proposal of contract {id} that {} names (leaf hash {}, the view says {})",
            view.proposed_index,
            backend.describe(),
            leaf.to_hex(),
            view.proposal_leaf_hash.to_hex()
        )));
    }
    Ok(leaf)
}

/// The text form of a contract audit.
pub(crate) fn render_audit(s: &Style, v: &ContractAudit) -> String {
    let all = v.all_terms_hold;
    let cur = &v.currency;
    let mut out = format!(
        "{} contract {}: {}\n",
        s.mark(all),
        v.contract,
        if all {
            s.good("every term holds")
        } else {
            s.bad("a term fails")
        }
    );
    out.push_str(&fields(&[
        ("producer", v.producer.to_string()),
        ("customer", v.customer.to_string()),
        (
            "period",
            format!("{} to {}", fmt_time(v.start_ms), fmt_time(v.end_ms)),
        ),
        (
            "proposed / accepted",
            format!(
                "entry {} / entry {}",
                v.proposed_index,
                or_dash(v.accepted_index)
            ),
        ),
        ("delivered", grams(v.delivered_g)),
        ("taken back", grams(v.taken_back_g)),
        ("eligible taken back", grams(v.eligible_taken_back_g)),
        (
            "take-back ratio",
            v.take_back_ratio_ppm.map_or_else(|| "-".into(), pct),
        ),
        (
            "settlement value",
            format!("{} {cur} (minor units)", v.settlement_value_minor),
        ),
    ]));
    out.push_str("\nterms\n");
    let mut t = Table::new(&["term", "result", "figures", "evidence"]);
    for term in &v.terms {
        t.row(vec![
            name(&term.term),
            s.pass_fail(term.pass),
            term.detail.clone(),
            indices(&term.evidence),
        ]);
    }
    out.push_str(&t.render());
    out.push_str("\ngrade mix\n");
    let mut g = Table::new(&[
        "grade",
        "mass",
        "eligible",
        "differential/t",
        "value",
        "evidence",
    ]);
    for l in &v.grade_mix {
        g.row(vec![
            l.grade
                .clone()
                .unwrap_or_else(|| "ungraded/off-grade".into()),
            grams(l.mass_g),
            if l.eligible { "yes" } else { "no" }.into(),
            format!("{} {cur}", l.differential_per_tonne_minor),
            format!("{} {cur}", l.value_minor),
            indices(&l.evidence),
        ]);
    }
    out.push_str(&g.render());
    out.push_str("\ndeliveries\n");
    let mut d = Table::new(&[
        "entry",
        "material",
        "mass",
        "recycled",
        "guarantee",
        "Cu",
        "spec",
    ]);
    for x in &v.deliveries {
        d.row(vec![
            x.index.to_string(),
            x.material.to_string(),
            grams(x.mass_g),
            pct(u64::from(x.recycled_share_ppm)),
            s.pass_fail(x.meets_recycled_guarantee),
            x.cu_ppm.map_or_else(|| "-".into(), |c| format!("{c} ppm")),
            s.pass_fail(x.meets_spec),
        ]);
    }
    out.push_str(&d.render());
    out
}
