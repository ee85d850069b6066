//! Material and passports: `lot`, `process`, `passport`, `transfer`, `service` (and
//! `service authorise`), `retire`, and the generic `submit`.

use std::collections::BTreeMap;

use passport_schema::{
    Alloy, Assay, CarbonFootprint, Composition, EndOfLife, EventBody, FootprintBoundary,
    FootprintMethod, InputUse, LotView, MaterialKind, OutputSpec, PassportIssue, PassportView,
    PrimaryLot, Process, RecycledShare, ServiceAuthorisation, ServiceEvent, ServiceKind, Transfer,
    Transformation, state::records::HistoryItem,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::args::{
    AuthoriseArgs, LotCmd, PassportCmd, ProcessArgs, RetireArgs, ServiceArgs, ServiceCmd,
    SubmitArgs, TransferArgs,
};
use crate::error::{CliError, Result};
use crate::keys::parse_kid;
use crate::output::{Report, Table, fields, grams, name, or_dash, pct, short, to_json};
use crate::parse::{hash_file, id_or_new, parse_composition, parse_enum, parse_id, read_json};
use crate::time::{fmt_time, parse_time};
use crate::{Ctx, submitted};

const KINDS: &str = "intermediate, refined, rod, foil, strip, wire, product, scrap";
const PROCESSES: &str = "melt, refine, cast, roll, draw, anneal, plate, assemble, disassemble";

pub(crate) fn lot(ctx: &mut Ctx, cmd: LotCmd) -> Result<Report> {
    match cmd {
        LotCmd::Register {
            key,
            mass_g,
            origin,
            supplier,
            brand,
            composition,
            id,
        } => {
            let lot = PrimaryLot {
                id: id_or_new(id.as_deref())?,
                mass_g,
                origin_country: origin,
                supplier,
                brand,
                composition: composition.as_deref().map(parse_composition).transpose()?,
            };
            let lot_id = lot.id;
            let backend = ctx.backend()?;
            let r = ctx.sign_submit(backend.as_ref(), &key, EventBody::RegisterPrimaryLot(lot))?;
            Ok(submitted(
                ctx,
                "register_primary_lot",
                &r,
                &[("lot", lot_id.to_string()), ("mass", grams(mass_g))],
                json!({"id": lot_id}),
            ))
        }
        LotCmd::Show { id } => {
            let id = parse_id(&id, "lot id")?;
            let v = ctx.backend()?.lot(&id)?;
            Ok(Report::new(to_json(&v), render_lot(ctx, &v)))
        }
        LotCmd::Assay {
            key,
            lot,
            instrument,
            serial,
            calibrated,
            spots,
            composition,
            evidence,
        } => {
            let material = parse_id(&lot, "--lot")?;
            let assay = Assay {
                material,
                instrument: parse_enum(&instrument, "--instrument", "xrf, libs, oes")?,
                instrument_serial: serial,
                calibrated_ms: crate::time::parse_time(&calibrated)?,
                spots,
                composition: parse_composition(&composition)?,
                evidence: evidence
                    .iter()
                    .map(|p| hash_file(p))
                    .collect::<Result<_>>()?,
            };
            let backend = ctx.backend()?;
            let r = ctx.sign_submit(backend.as_ref(), &key, EventBody::Assay(assay))?;
            Ok(submitted(
                ctx,
                "assay",
                &r,
                &[
                    ("material", material.to_string()),
                    ("composition", composition),
                ],
                json!({"material": material}),
            ))
        }
    }
}

/// One history change as a short phrase.
pub(crate) fn change_text(c: &Value) -> String {
    match c {
        Value::String(s) => s.replace('_', " "),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let inner = match v {
                    Value::Object(f) => f
                        .iter()
                        .filter(|(_, x)| !x.is_null())
                        .map(|(fk, fv)| {
                            let s = match fv {
                                Value::String(s) if s.len() == 64 => short(s),
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            };
                            format!("{fk}={s}")
                        })
                        .collect::<Vec<_>>()
                        .join(" "),
                    other => other.to_string(),
                };
                format!("{} {inner}", k.replace('_', " "))
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

fn history_table(items: &[HistoryItem]) -> String {
    let mut t = Table::new(&["entry", "time", "signer", "change"]);
    for h in items {
        t.row(vec![
            h.index.to_string(),
            fmt_time(h.occurred_ms),
            short(&h.signer.to_hex()),
            // The change's JSON form names its kind and fields generically.
            change_text(&to_json(&h.change)),
        ]);
    }
    t.render()
}

fn origin_text(origin_ppm: &BTreeMap<String, u32>) -> String {
    if origin_ppm.is_empty() {
        return "-".into();
    }
    origin_ppm
        .iter()
        .map(|(c, p)| format!("{c} {}", pct(u64::from(*p))))
        .collect::<Vec<_>>()
        .join(", ")
}

fn composition_text(c: Option<&Composition>) -> String {
    match c {
        Some(c) if !c.elements_ppm.is_empty() => c
            .elements_ppm
            .iter()
            .map(|(e, p)| format!("{e} {p} ppm"))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "-".into(),
    }
}

fn recycled_text(r: &RecycledShare) -> String {
    format!(
        "{} (post-consumer {}, pre-consumer {})",
        pct(u64::from(r.total_ppm)),
        pct(u64::from(r.post_consumer_ppm)),
        pct(u64::from(r.pre_consumer_ppm)),
    )
}

fn render_lot(ctx: &Ctx, v: &LotView) -> String {
    let s = &ctx.style;
    let grade = match &v.grade {
        Some(g) => format!(
            "{} (rule set {}@{}, entry {}){}",
            g.grade.as_deref().unwrap_or("off-grade"),
            g.rule_set.id,
            g.rule_set.version,
            g.index,
            if v.grade_disputed {
                "; disputed: the most conservative grading applies until settled"
            } else {
                ""
            }
        ),
        None => "-".into(),
    };
    let inputs = if v.inputs.is_empty() {
        "-".into()
    } else {
        v.inputs
            .iter()
            .map(|i| format!("{} ({})", i.material, grams(i.mass_g)))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut out = format!("{} {}\n", s.bold(&format!("lot {}", v.id)), name(&v.kind));
    out.push_str(&fields(&[
        ("owner", v.owner.to_string()),
        ("producer", v.producer.to_string()),
        ("mass", grams(v.mass_g)),
        ("remaining", grams(v.remaining_g)),
        ("recycled", recycled_text(&v.recycled)),
        ("primary origin", origin_text(&v.origin_ppm)),
        ("composition", composition_text(v.composition.as_ref())),
        ("grade", grade),
        ("custody", custody_text(v)),
        ("inputs", inputs),
        ("created", format!("entry {}", v.created_index)),
    ]));
    out.push('\n');
    out.push_str(&history_table(&v.history));
    out
}

/// How a received lot changed custody: co-signed by its supplier's
/// dispatch, or declared by the receiver alone.
fn custody_text(v: &LotView) -> String {
    match &v.creation {
        passport_schema::state::records::Creation::ScrapReceipt {
            dispatch: Some(i), ..
        } => format!("co-signed (supplier's dispatch, entry {i})"),
        passport_schema::state::records::Creation::ScrapReceipt { .. } if v.declared => {
            "declared (unregistered supplier; evidence hashes only)".into()
        }
        _ => "-".into(),
    }
}

fn parse_input(s: &str) -> Result<InputUse> {
    let (id, mass) = s
        .rsplit_once(':')
        .ok_or_else(|| CliError::usage(format!("--input {s:?}: expected ID:MASS_G")))?;
    Ok(InputUse {
        material: parse_id(id, "--input material")?,
        mass_g: mass
            .parse()
            .map_err(|_| CliError::usage(format!("--input {s:?}: {mass:?} is not grams")))?,
    })
}

fn parse_output(s: &str) -> Result<OutputSpec> {
    let mut parts = s.splitn(3, ':');
    let kind = parts.next().unwrap_or_default();
    let mass = parts.next().ok_or_else(|| {
        CliError::usage(format!(
            "--output {s:?}: expected KIND:MASS_G[:COMPOSITION]"
        ))
    })?;
    let kind: MaterialKind = parse_enum(kind, "--output kind", KINDS)?;
    Ok(OutputSpec {
        id: Uuid::now_v7(),
        kind,
        mass_g: mass
            .parse()
            .map_err(|_| CliError::usage(format!("--output {s:?}: {mass:?} is not grams")))?,
        composition: parts.next().map(parse_composition).transpose()?,
    })
}

pub(crate) fn process(ctx: &mut Ctx, a: ProcessArgs) -> Result<Report> {
    let t: Transformation = match &a.file {
        Some(f) => {
            if a.process.is_some() || !a.inputs.is_empty() || !a.outputs.is_empty() {
                return Err(CliError::usage("give a JSON file or the flags, not both"));
            }
            read_json(f)?
        }
        None => {
            let process: Process = parse_enum(
                a.process.as_deref().unwrap_or_default(),
                "--process",
                PROCESSES,
            )?;
            Transformation {
                process,
                inputs: a
                    .inputs
                    .iter()
                    .map(|s| parse_input(s))
                    .collect::<Result<_>>()?,
                outputs: a
                    .outputs
                    .iter()
                    .map(|s| parse_output(s))
                    .collect::<Result<_>>()?,
                losses_g: a.losses_g,
                tolerance_g: a.tolerance_g,
            }
        }
    };
    let outputs: Vec<(Uuid, MaterialKind, u64)> =
        t.outputs.iter().map(|o| (o.id, o.kind, o.mass_g)).collect();
    let process = t.process;
    let backend = ctx.backend()?;
    let r = ctx.sign_submit(backend.as_ref(), &a.key, EventBody::Transform(t))?;
    let mut rep = submitted(
        ctx,
        "transform",
        &r,
        &[("process", format!("{process:?}").to_lowercase())],
        json!({
            "process": process,
            "outputs": outputs.iter().map(|(id, k, m)| json!({"id": id, "kind": k, "mass_g": m})).collect::<Vec<_>>(),
        }),
    );
    let mut t = Table::new(&["output id", "kind", "mass"]);
    for (id, k, m) in &outputs {
        t.row(vec![
            id.to_string(),
            serde_json::to_value(k)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            grams(*m),
        ]);
    }
    rep.text.push_str(&t.render());
    Ok(rep)
}

pub(crate) fn passport(ctx: &mut Ctx, cmd: PassportCmd) -> Result<Report> {
    match cmd {
        PassportCmd::Issue { key, file } => {
            let p: PassportIssue = read_json(&file)?;
            let id = p.product;
            let backend = ctx.backend()?;
            let r = ctx.sign_submit(backend.as_ref(), &key, EventBody::IssuePassport(p))?;
            Ok(submitted(
                ctx,
                "issue_passport",
                &r,
                &[("passport", id.to_string())],
                json!({"product": id}),
            ))
        }
        PassportCmd::Show { id } => {
            let id = parse_id(&id, "passport id")?;
            let v = ctx.backend()?.passport(&id)?;
            Ok(Report::new(to_json(&v), render_passport(ctx, &v)))
        }
    }
}

fn render_passport(ctx: &Ctx, v: &PassportView) -> String {
    let s = &ctx.style;
    let p = &v.passport;
    let alloy = match &p.alloy {
        Alloy::Uns(a) => format!("UNS {a}"),
        Alloy::Gb(a) => format!("GB {a}"),
    };
    let certs = if v.certificates.is_empty() {
        "-".into()
    } else {
        v.certificates
            .iter()
            .map(|c| format!("{} ({})", c.id, name(&c.status)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "{} {} {}\n",
        s.bold(&format!("passport {}", v.id)),
        p.name,
        s.dim(&format!("[{}]", name(&v.status))),
    );
    out.push_str(&fields(&[
        ("model", p.model.clone()),
        (
            "serial/batch",
            format!("{} ({})", p.serial_or_batch, name(&p.granularity)),
        ),
        ("GS1 Digital Link", or_dash(p.gs1_digital_link.as_deref())),
        ("alloy", alloy),
        ("composition", composition_text(Some(&p.composition))),
        ("carbon footprint", footprint_text(&p.carbon_footprint)),
        (
            "conductivity",
            match p.conductivity_centi_iacs {
                Some(c) => format!("{}.{:02} %IACS", c / 100, c % 100),
                None => "-".into(),
            },
        ),
        ("manufacturer", v.manufacturer.to_string()),
        ("owner", v.owner.to_string()),
        ("mass", grams(v.mass_g)),
        ("recycled", recycled_text(&v.recycled)),
        ("primary origin", origin_text(&v.origin_ppm)),
        (
            "end of life",
            v.end_of_life_index
                .map_or_else(|| "no".into(), |i| i.to_string()),
        ),
        ("certificates", certs),
    ]));
    out.push_str("\nservice history\n");
    out.push_str(&history_table(&v.service_history));
    out.push_str("\nownership\n");
    out.push_str(&history_table(&v.ownership_history));
    out
}

/// `3100 g CO2e/kg (ISO 14067, cradle-to-gate, third-party verified)`.
fn footprint_text(f: &CarbonFootprint) -> String {
    let method = match f.method {
        FootprintMethod::Iso14067 => "ISO 14067",
        FootprintMethod::Pact => "PACT",
    };
    let boundary = match f.boundary {
        FootprintBoundary::CradleToGate => "cradle-to-gate",
        FootprintBoundary::CradleToGrave => "cradle-to-grave",
    };
    let verified = if f.third_party_verified {
        "third-party verified"
    } else {
        "not verified"
    };
    format!(
        "{} g CO2e/kg ({method}, {boundary}, {verified})",
        f.g_co2e_per_kg
    )
}

pub(crate) fn transfer(ctx: &mut Ctx, a: TransferArgs) -> Result<Report> {
    let material = parse_id(&a.id, "id")?;
    let to = parse_kid(&a.to)?;
    let contract = a
        .contract
        .as_deref()
        .map(|c| parse_id(c, "--contract"))
        .transpose()?;
    let backend = ctx.backend()?;
    let r = ctx.sign_submit(
        backend.as_ref(),
        &a.key,
        EventBody::Transfer(Transfer {
            material,
            to,
            contract,
        }),
    )?;
    let mut extra = vec![("material", material.to_string()), ("to", to.to_hex())];
    if let Some(c) = contract {
        extra.push(("delivery under contract", c.to_string()));
    }
    Ok(submitted(
        ctx,
        "transfer",
        &r,
        &extra,
        json!({"material": material, "to": to.to_hex(), "contract": contract}),
    ))
}

pub(crate) fn service(ctx: &mut Ctx, a: ServiceArgs) -> Result<Report> {
    if let Some(ServiceCmd::Authorise(a)) = a.cmd {
        return authorise_service(ctx, a);
    }
    let missing = |what: &str| CliError::usage(format!("service: {what} is required"));
    let key = a.key.ok_or_else(|| missing("--key"))?;
    let product = parse_id(&a.product.ok_or_else(|| missing("--product"))?, "--product")?;
    let kind: ServiceKind = parse_enum(
        &a.kind.ok_or_else(|| missing("--kind"))?,
        "--kind",
        "install, inspect, repair, refurbish, decommission",
    )?;
    let note = a.note.ok_or_else(|| missing("--note"))?;
    let evidence = hash_files(&a.evidence)?;
    let backend = ctx.backend()?;
    let r = ctx.sign_submit(
        backend.as_ref(),
        &key,
        EventBody::Service(ServiceEvent {
            product,
            kind,
            note,
            evidence: evidence.clone(),
        }),
    )?;
    Ok(submitted(
        ctx,
        "service",
        &r,
        &[
            ("product", product.to_string()),
            ("kind", format!("{kind:?}").to_lowercase()),
        ],
        json!({"product": product, "service": kind, "evidence": evidence}),
    ))
}

fn authorise_service(ctx: &mut Ctx, a: AuthoriseArgs) -> Result<Report> {
    let product = parse_id(&a.product, "--product")?;
    let actor = parse_kid(&a.actor)?;
    let until_ms = a.until.as_deref().map(parse_time).transpose()?;
    let backend = ctx.backend()?;
    let r = ctx.sign_submit(
        backend.as_ref(),
        &a.key,
        EventBody::AuthoriseService(ServiceAuthorisation {
            product,
            actor,
            until_ms,
        }),
    )?;
    Ok(submitted(
        ctx,
        "authorise_service",
        &r,
        &[
            ("product", product.to_string()),
            ("actor", actor.to_hex()),
            (
                "until",
                until_ms.map_or_else(|| "change of owner".into(), fmt_time),
            ),
        ],
        json!({"product": product, "actor": actor.to_hex(), "until_ms": until_ms}),
    ))
}

pub(crate) fn retire(ctx: &mut Ctx, a: RetireArgs) -> Result<Report> {
    let product = parse_id(&a.product, "--product")?;
    let evidence = hash_files(&a.evidence)?;
    let backend = ctx.backend()?;
    let r = ctx.sign_submit(
        backend.as_ref(),
        &a.key,
        EventBody::EndOfLife(EndOfLife {
            product,
            reason: a.reason,
            evidence,
        }),
    )?;
    Ok(submitted(
        ctx,
        "end_of_life",
        &r,
        &[("product", product.to_string())],
        json!({"product": product}),
    ))
}

pub(crate) fn submit(ctx: &mut Ctx, a: SubmitArgs) -> Result<Report> {
    let text = std::fs::read_to_string(&a.file)
        .map_err(|e| CliError::usage(format!("cannot read {}: {e}", a.file.display())))?;
    let event = passport_schema::from_json(&text)
        .map_err(|e| CliError::input(format!("{}: {e}", a.file.display())))?;
    let kind = event.kind().name();
    let signer = ctx.signer(&a.key)?;
    let backend = ctx.backend()?;
    let bytes = client::sign_event(&signer, &backend.origin()?, &event)?;
    let r = backend.submit(&bytes)?;
    Ok(submitted(ctx, kind, &r, &[], json!({})))
}

/// SHA-256 of each evidence file, in order.
fn hash_files(paths: &[std::path::PathBuf]) -> Result<Vec<passport_schema::Bytes32>> {
    paths.iter().map(|p| hash_file(p)).collect()
}
