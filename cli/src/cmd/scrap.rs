//! Scrap: `scrap receive`, `scrap grade` and `rules publish`.

use std::collections::BTreeMap;

use passport_schema::grading::{Miss, check_grade, check_measurements, compute_grade};
use passport_schema::{
    DispatchScrap, EventBody, Grading, Instrument, NameGrader, RuleSet, RuleSetRef, ScrapOrigin,
    ScrapReceipt, SettleGrade, Supplier, VisualContaminant,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::args::{
    DispatchArgs, GradeArgs, NameGraderArgs, ReceiveArgs, RulesCmd, ScrapCmd, SettleArgs,
};
use crate::backend::Backend;
use crate::error::{CliError, EXIT_INVALID, Result};
use crate::keys::parse_kid;
use crate::output::{Report, Style, Table, grams, pct};
use crate::parse::{
    hash_file, id_or_new, parse_enum, parse_id, parse_opt_id, parse_versioned, read_json,
};
use crate::readings::{self, Averaged, Unit};
use crate::time::parse_time;
use crate::{Ctx, submitted};

pub(crate) fn scrap(ctx: &mut Ctx, cmd: ScrapCmd) -> Result<Report> {
    match cmd {
        ScrapCmd::Receive(a) => receive(ctx, a),
        ScrapCmd::Dispatch(a) => dispatch(ctx, a),
        ScrapCmd::NameGrader(a) => name_grader(ctx, a),
        ScrapCmd::Settle(a) => settle(ctx, a),
        ScrapCmd::Grade(a) => grade(ctx, a),
    }
}

fn receive(ctx: &mut Ctx, a: ReceiveArgs) -> Result<Report> {
    let sources = a
        .source_passports
        .iter()
        .map(|s| parse_id(s, "--source-passport"))
        .collect::<Result<Vec<_>>>()?;
    let origin_class: ScrapOrigin = match &a.origin_class {
        Some(o) => parse_enum(o, "--origin-class", "post_consumer, pre_consumer, home")?,
        None if !sources.is_empty() => ScrapOrigin::PostConsumer,
        None => {
            return Err(CliError::usage(
                "--origin-class is required for scrap without source passports \
                 (post_consumer, pre_consumer or home)",
            ));
        }
    };
    if a.tare_g > a.gross_g {
        return Err(CliError::usage(format!(
            "tare {} g exceeds gross {} g",
            a.tare_g, a.gross_g
        )));
    }
    let kid = a.supplier_kid.as_deref().map(parse_kid).transpose()?;
    let id = id_or_new(a.id.as_deref())?;
    let contract = parse_opt_id(a.contract.as_deref(), "--contract")?;
    let dispatch = parse_opt_id(a.dispatch.as_deref(), "--dispatch")?;
    let receipt = ScrapReceipt {
        id,
        gross_g: a.gross_g,
        tare_g: a.tare_g,
        net_g: a.gross_g - a.tare_g,
        supplier: Supplier::new(&a.supplier, &a.supplier_country, kid),
        source_passports: sources.clone(),
        origin_class,
        contract,
        dispatch,
        evidence: a
            .evidence
            .iter()
            .map(|p| hash_file(p))
            .collect::<Result<Vec<_>>>()?,
    };
    let net = receipt.net_g;
    let backend = ctx.backend()?;
    let r = ctx.sign_submit(backend.as_ref(), &a.key, EventBody::ReceiveScrap(receipt))?;
    let mut extra = vec![
        ("scrap lot", id.to_string()),
        ("net", grams(net)),
        ("origin class", format!("{origin_class:?}")),
    ];
    if !sources.is_empty() {
        extra.push(("source passports", sources.len().to_string()));
    }
    if let Some(c) = contract {
        extra.push(("take-back under contract", c.to_string()));
    }
    match dispatch {
        Some(d) => extra.push(("co-signed: dispatch", d.to_string())),
        None => extra.push(("declared", "unregistered supplier, evidence only".into())),
    }
    Ok(submitted(
        ctx,
        "receive_scrap",
        &r,
        &extra,
        json!({"id": id, "net_g": net, "origin_class": origin_class, "contract": contract,
               "dispatch": dispatch, "declared": dispatch.is_none()}),
    ))
}

fn name_grader(ctx: &mut Ctx, a: NameGraderArgs) -> Result<Report> {
    let lot = parse_id(&a.lot, "--lot")?;
    let grader = parse_kid(&a.grader)?;
    let backend = ctx.backend()?;
    let r = ctx.sign_submit(
        backend.as_ref(),
        &a.key,
        EventBody::NameGrader(NameGrader { lot, grader }),
    )?;
    Ok(submitted(
        ctx,
        "name_grader",
        &r,
        &[
            ("scrap lot", lot.to_string()),
            ("grader", grader.to_string()),
        ],
        json!({"lot": lot, "grader": grader}),
    ))
}

fn settle(ctx: &mut Ctx, a: SettleArgs) -> Result<Report> {
    let lot = parse_id(&a.lot, "--lot")?;
    let backend = ctx.backend()?;
    let r = ctx.sign_submit(
        backend.as_ref(),
        &a.key,
        EventBody::SettleGrade(SettleGrade {
            lot,
            grading: a.grading,
            reason: a.reason.clone(),
        }),
    )?;
    Ok(submitted(
        ctx,
        "settle_grade",
        &r,
        &[
            ("scrap lot", lot.to_string()),
            ("grading that applies", format!("entry {}", a.grading)),
        ],
        json!({"lot": lot, "grading": a.grading}),
    ))
}

fn dispatch(ctx: &mut Ctx, a: DispatchArgs) -> Result<Report> {
    let to = parse_kid(&a.to)?;
    let id = id_or_new(a.id.as_deref())?;
    let contract = parse_opt_id(a.contract.as_deref(), "--contract")?;
    let d = DispatchScrap {
        id,
        to,
        mass_g: a.mass_g,
        description: a.description.clone(),
        evidence: a
            .evidence
            .iter()
            .map(|p| hash_file(p))
            .collect::<Result<Vec<_>>>()?,
        contract,
    };
    let backend = ctx.backend()?;
    let r = ctx.sign_submit(backend.as_ref(), &a.key, EventBody::DispatchScrap(d))?;
    let mut extra = vec![
        ("dispatch", id.to_string()),
        ("to", to.to_string()),
        ("mass", grams(a.mass_g)),
    ];
    if let Some(c) = contract {
        extra.push(("take-back under contract", c.to_string()));
    }
    Ok(submitted(
        ctx,
        "dispatch_scrap",
        &r,
        &extra,
        json!({"id": id, "to": to, "mass_g": a.mass_g, "contract": contract}),
    ))
}

/// A grading the CLI has computed and checked, ready to sign.
pub(crate) struct GradePlan {
    /// The event body.
    pub grading: Grading,
    /// The computed grade (`None`: off-grade).
    pub grade: Option<String>,
    /// Why the rules would refuse it, if they would.
    pub refusal: Option<String>,
    /// The explanation, as JSON.
    pub json: Value,
    /// The explanation, as text.
    pub text: String,
}

/// What a grading needs besides the readings.
pub(crate) struct GradeInput<'a> {
    pub lot: Uuid,
    pub rule_set: &'a RuleSet,
    pub averaged: &'a Averaged,
    pub instrument: Instrument,
    pub serial: &'a str,
    pub calibrated_ms: i64,
    pub visual: BTreeMap<VisualContaminant, u32>,
    pub at_ms: i64,
    pub expect: Option<&'a str>,
}

fn miss_text(m: &Miss) -> String {
    match m {
        Miss::Copper { measured, min } => format!("Cu {measured} ppm < min {min}"),
        Miss::Element {
            element,
            measured: Some(v),
            max,
        } => format!("{element} {v} ppm > max {max}"),
        Miss::Element {
            element,
            measured: None,
            max,
        } => format!("{element} not measured (max {max})"),
        Miss::Visual {
            class,
            estimated,
            max,
        } => format!("{class:?} {estimated} ppm > max {max}").to_lowercase(),
    }
}

/// Computes the grade the rule set gives, and checks before signing what the
/// rules check of the measurements (`check_measurements`, the grading rule's
/// own: spots, calibration age, readings and visual estimates) and the
/// expected grade. The demo grades through this same function.
pub(crate) fn plan_grading(g: GradeInput<'_>, style: &Style) -> GradePlan {
    let rs = g.rule_set;
    let readings = g.averaged.readings();
    let grade = compute_grade(rs, &readings, &g.visual).map(|s| s.code.clone());
    let mut grades: Vec<_> = rs.grades.iter().collect();
    grades.sort_by_key(|x| x.precedence);
    let mut table = Table::new(&["grade", "min Cu", "result"]);
    let mut gj = Vec::new();
    for spec in &grades {
        let res = check_grade(spec, &readings, &g.visual);
        let (ok, why) = match &res {
            Ok(()) => (true, "matches".to_string()),
            Err(m) => (false, miss_text(m)),
        };
        let chosen = grade.as_deref() == Some(spec.code.as_str());
        table.row(vec![
            if chosen {
                style.bold(&spec.code)
            } else {
                spec.code.clone()
            },
            pct(u64::from(spec.min_cu_ppm)),
            format!("{} {why}", style.mark(ok)),
        ]);
        gj.push(
            json!({"code": spec.code, "precedence": spec.precedence, "matches": ok, "detail": why}),
        );
    }
    let grading = Grading {
        lot: g.lot,
        instrument: g.instrument,
        instrument_serial: g.serial.to_string(),
        calibrated_ms: g.calibrated_ms,
        readings,
        visual_ppm: g.visual.clone(),
        rule_set: RuleSetRef {
            id: rs.id,
            version: rs.version,
        },
        claimed_grade: grade.clone(),
    };
    let mut refusals: Vec<String> = check_measurements(rs, &grading, g.at_ms)
        .iter()
        .map(ToString::to_string)
        .collect();
    if let Some(exp) = g.expect {
        let want = if exp.eq_ignore_ascii_case("off-grade") {
            None
        } else {
            Some(exp)
        };
        if want != grade.as_deref() {
            refusals.push(format!(
                "the readings give {}, not the expected {exp}",
                grade.as_deref().unwrap_or("off-grade")
            ));
        }
    }
    let refusal = (!refusals.is_empty()).then(|| refusals.join("; "));
    let mut rt = Table::new(&["element", "mean", "spots"]);
    for el in &g.averaged.elements {
        let ppm = g.averaged.mean_ppm.get(el).copied().unwrap_or(0);
        rt.row(vec![
            el.clone(),
            format!("{ppm} ppm ({})", pct(u64::from(ppm))),
            g.averaged.spots.to_string(),
        ]);
    }
    let mut text = format!(
        "readings averaged over {} spots ({:?} input):\n{}\nrule set {} v{} ({}):\n{}",
        g.averaged.spots,
        g.averaged.unit,
        rt.render(),
        rs.id,
        rs.version,
        rs.name,
        table.render()
    );
    text.push_str(&format!(
        "computed grade: {}\n",
        style.bold(grade.as_deref().unwrap_or("off-grade (no grade matches)"))
    ));
    let json = json!({
        "lot": g.lot,
        "rule_set": {"id": rs.id, "version": rs.version, "name": rs.name},
        "spots": g.averaged.spots,
        "unit": g.averaged.unit,
        "mean_ppm": g.averaged.mean_ppm,
        "visual_ppm": g.visual,
        "grades": gj,
        "grade": grade,
        "refusal": refusal,
    });
    GradePlan {
        grading,
        grade,
        refusal,
        json,
        text,
    }
}

/// Reads `--rules`: a JSON file, `ID` or `ID@VERSION`.
pub(crate) fn resolve_rule_set(backend: &dyn Backend, spec: &str) -> Result<RuleSet> {
    let p = std::path::Path::new(spec);
    if p.is_file() {
        return read_json(p);
    }
    let (id, version) = parse_versioned(spec, "--rules")?;
    backend.rule_set(&id, version)
}

/// Parses `--visual CLASS=PPM` flags.
pub(crate) fn parse_visual(items: &[String]) -> Result<BTreeMap<VisualContaminant, u32>> {
    let mut out = BTreeMap::new();
    for s in items {
        let (c, p) = s
            .split_once('=')
            .ok_or_else(|| CliError::usage(format!("--visual {s:?}: expected CLASS=PPM")))?;
        let class: VisualContaminant = parse_enum(
            c,
            "visual class",
            "insulation, solder, oil, enamel, burnt, paint, attachments",
        )?;
        let ppm: u32 = p
            .parse()
            .map_err(|_| CliError::usage(format!("--visual {s:?}: {p:?} is not ppm")))?;
        out.insert(class, ppm);
    }
    Ok(out)
}

fn grade(ctx: &mut Ctx, a: GradeArgs) -> Result<Report> {
    let lot = parse_id(&a.lot, "--lot")?;
    let unit = Unit::parse(&a.unit)?;
    let instrument: Instrument = parse_enum(&a.instrument, "--instrument", "xrf, libs, oes")?;
    let calibrated_ms = parse_time(&a.calibrated)?;
    let visual = parse_visual(&a.visual)?;
    let text = std::fs::read_to_string(&a.readings).map_err(|e| {
        CliError::usage(format!(
            "cannot read readings {}: {e}",
            a.readings.display()
        ))
    })?;
    let averaged = readings::parse(&text, &a.readings.display().to_string(), unit)?;
    let backend = ctx.backend()?;
    let rule_set = resolve_rule_set(backend.as_ref(), &a.rules)?;
    let at_ms = ctx.now();
    let plan = plan_grading(
        GradeInput {
            lot,
            rule_set: &rule_set,
            averaged: &averaged,
            instrument,
            serial: &a.serial,
            calibrated_ms,
            visual,
            at_ms,
            expect: a.expect.as_deref(),
        },
        &ctx.style,
    );
    if let Some(why) = &plan.refusal {
        let mut j = plan.json.clone();
        crate::output::set(&mut j, "signed", json!(false));
        let text = format!(
            "{}{} not signed: the rules would reject this grading: {why}\n",
            plan.text,
            ctx.style.mark(false)
        );
        return Ok(Report {
            json: j,
            text,
            exit: EXIT_INVALID,
        });
    }
    if a.dry_run {
        let mut j = plan.json.clone();
        crate::output::set(&mut j, "signed", json!(false));
        return Ok(Report::new(
            j,
            format!("{}(dry run: nothing signed)\n", plan.text),
        ));
    }
    let grade = plan.grade.clone();
    let r = ctx.sign_submit(backend.as_ref(), &a.key, EventBody::Grade(plan.grading))?;
    let mut rep = submitted(
        ctx,
        "grade",
        &r,
        &[
            ("lot", lot.to_string()),
            ("grade", grade.clone().unwrap_or_else(|| "off-grade".into())),
        ],
        json!({"grading": plan.json, "signed": true}),
    );
    rep.text = format!("{}{}", plan.text, rep.text);
    Ok(rep)
}

pub(crate) fn rules(ctx: &mut Ctx, cmd: RulesCmd) -> Result<Report> {
    match cmd {
        RulesCmd::Publish {
            key,
            file,
            isri_illustrative,
        } => {
            let rs: RuleSet = match (file, isri_illustrative) {
                (_, true) => passport_schema::isri_illustrative_rule_set()?,
                (Some(f), false) => read_json(&f)?,
                (None, false) => return Err(CliError::usage("give a rule set JSON file")),
            };
            let (id, version, name) = (rs.id, rs.version, rs.name.clone());
            let grades: Vec<String> = rs.grades.iter().map(|g| g.code.clone()).collect();
            let backend = ctx.backend()?;
            let r = ctx.sign_submit(backend.as_ref(), &key, EventBody::PublishRuleSet(rs))?;
            Ok(submitted(
                ctx,
                "publish_rule_set",
                &r,
                &[
                    ("rule set", format!("{id}@{version}")),
                    ("name", name.clone()),
                    ("grades", grades.join(", ")),
                ],
                json!({"id": id, "version": version, "name": name, "grades": grades}),
            ))
        }
    }
}
