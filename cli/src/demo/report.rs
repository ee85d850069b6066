//! The demo's report: the text tables and the JSON document, built from the scenario's outcome and the evidence.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::{Value, json};
use uuid::Uuid;

use super::scenario::Outcome;
use super::{Evidence, Paths};
use crate::cmd::certs::{render_audit, render_verdict};
use crate::error::EXIT_INVALID;
use crate::output::{Report, Style, Table, fields, grams, name, pct};

/// The demo's report: valid (exit 0) when the evidence bundle verified.
pub(super) fn report(s: &Style, paths: &Paths, o: &Outcome, ev: &Evidence) -> Report {
    Report {
        json: json_report(paths, o, ev),
        text: text_report(s, paths, o, ev),
        exit: if ev.verdict.valid { 0 } else { EXIT_INVALID },
    }
}

/// The human report: headline, what was recorded, the gradings, the
/// certified lot, the certificates, the contract audit, the bundle, the files.
fn text_report(s: &Style, paths: &Paths, o: &Outcome, ev: &Evidence) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} Tongling demo: {} entries in {} batches, recorded in {:.1} s (total {:.1} s)\n",
        s.mark(ev.verdict.valid),
        ev.size,
        o.batches,
        ev.recorded.as_secs_f64(),
        ev.elapsed.as_secs_f64()
    );
    text.push_str(&s.bold("What was recorded\n"));
    let mut t = Table::new(&["event kind", "entries"]);
    for (k, c) in &o.counts {
        t.row(vec![(*k).to_string(), c.to_string()]);
    }
    text.push_str(&t.render());
    let _ = writeln!(
        text,
        "\n{}",
        s.bold("Scrap graded from analyser CSVs (same code as `cupass scrap grade`)")
    );
    text.push_str(&grades_table(o));
    let _ = writeln!(
        text,
        "\n{}",
        s.bold("The certified lot and where its recycled share came from")
    );
    text.push_str(&certified_lot(o));
    text.push_str(&melt_table(ev));
    let _ = writeln!(
        text,
        "\n{} certificate {} ({}): {}",
        s.mark(true),
        o.certificate,
        ev.certificate.scheme_name,
        name(&ev.certificate.status)
    );
    let _ = writeln!(
        text,
        "{} certificate on refined lot {} REFUSED by the rules ({}): {}",
        s.mark(false),
        o.refused_lot,
        o.refusal.code,
        o.refusal.message
    );
    let _ = writeln!(text, "\n{}", s.bold("Circular performance contract audit"));
    text.push_str(&render_audit(s, &ev.audit));
    let _ = writeln!(text, "\n{}", s.bold("Evidence bundle, verified offline"));
    let _ = writeln!(
        text,
        "{} ({} entries, {} bytes)",
        paths.bundle.display(),
        ev.bundle_entries,
        ev.bundle_bytes
    );
    text.push_str(&render_verdict(s, &ev.verdict));
    let _ = writeln!(text, "\n{}", s.bold("Files"));
    text.push_str(&files(paths, ev));
    text.push_str(&try_next(paths, o, ev));
    text
}

/// One row per grading: lot, recycler, readings file, spots, mean Cu, grade.
fn grades_table(o: &Outcome) -> String {
    let mut t = Table::new(&["lot", "recycler", "readings file", "spots", "Cu", "grade"]);
    for g in &o.graded {
        t.row(vec![
            g.lot.to_string(),
            g.recycler.into(),
            g.file.clone(),
            g.spots.to_string(),
            pct(u64::from(g.cu_ppm)),
            g.grade.clone().unwrap_or_else(|| "off-grade".into()),
        ]);
    }
    t.render()
}

/// The certified lot: mass, derived recycled share, primary origin, route.
fn certified_lot(o: &Outcome) -> String {
    let v = &o.certified;
    fields(&[
        ("refined lot", o.certified_lot.to_string()),
        ("mass", grams(v.mass_g)),
        (
            "recycled share",
            format!(
                "{} = post-consumer {} + pre-consumer {} (derived, never typed in)",
                pct(u64::from(v.recycled.total_ppm)),
                pct(u64::from(v.recycled.post_consumer_ppm)),
                pct(u64::from(v.recycled.pre_consumer_ppm)),
            ),
        ),
        (
            "primary origin",
            v.origin_ppm
                .iter()
                .map(|(c, p)| format!("{c} {}", pct(u64::from(*p))))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "route",
            format!("melt (entry {}) -> refine -> 3 refined lots", o.melt_index),
        ),
    ])
}

/// What went into the melt and what each input counts as.
fn melt_table(ev: &Evidence) -> String {
    let mut t = Table::new(&["melt input", "kind", "consumed", "counts as", "grade"]);
    for (i, v) in &ev.melt_inputs {
        let counts = if v.recycled.post_consumer_ppm > 0 {
            "post-consumer (end-of-life passports)".to_string()
        } else if v.recycled.pre_consumer_ppm > 0 {
            "pre-consumer (declared)".into()
        } else {
            format!(
                "primary ({})",
                v.origin_ppm.keys().cloned().collect::<Vec<_>>().join(",")
            )
        };
        let grade = v
            .grade
            .as_ref()
            .and_then(|g| g.grade.clone())
            .unwrap_or_else(|| "-".into());
        t.row(vec![
            i.material.to_string(),
            name(&v.kind),
            grams(i.mass_g),
            counts,
            grade,
        ]);
    }
    t.render()
}

/// Where the demo wrote what.
fn files(paths: &Paths, ev: &Evidence) -> String {
    fields(&[
        ("ledger", paths.ledger.display().to_string()),
        (
            "log verifier key",
            format!("{} ({})", ev.log_pub.display(), ev.verifier_key),
        ),
        ("actor keys", paths.keys.display().to_string()),
        ("analyser CSVs", paths.readings.display().to_string()),
        ("evidence bundle", paths.bundle.display().to_string()),
        ("bundle, readable", paths.bundle_json.display().to_string()),
        (
            "rule set / scheme",
            format!("{} / {}", paths.rule_set.display(), paths.scheme.display()),
        ),
    ])
}

/// Commands to try on the demo's output.
fn try_next(paths: &Paths, o: &Outcome, ev: &Evidence) -> String {
    let ledger = paths.ledger.display();
    format!(
        "\nTry:\n  cupass --dir {ledger} cert status {}\n  cupass --dir {ledger} passport show {}\n  cupass verify {} --log-key {}\n  cupass --dir {ledger} log verify\n",
        o.certificate,
        o.products.last().map(|p| p.to_string()).unwrap_or_default(),
        paths.bundle.display(),
        ev.log_pub.display(),
    )
}

/// The JSON report (`--json`).
fn json_report(paths: &Paths, o: &Outcome, ev: &Evidence) -> Value {
    let grades: BTreeMap<Uuid, Option<String>> = o
        .graded
        .iter()
        .filter(|g| !g.take_back)
        .map(|g| (g.lot, g.grade.clone()))
        .collect();
    json!({
        "entries": ev.size,
        "batches": o.batches,
        "seconds": ev.elapsed.as_secs_f64(),
        "counts": o.counts,
        "passports": o.products.len(),
        "certificate": o.certificate,
        "certified_lot": o.certified_lot,
        "recycled_share_ppm": o.certified.recycled.total_ppm,
        "refused_certificate": {
            "subject": o.refused_lot,
            "error": o.refusal.code,
            "message": o.refusal.message,
        },
        "grades": grades,
        "contract": o.contract,
        "contract_audit": ev.audit,
        "verdict": ev.verdict,
        "files": {
            "dir": paths.out.display().to_string(),
            "ledger": paths.ledger.display().to_string(),
            "log_pub": ev.log_pub.display().to_string(),
            "keys": paths.keys.display().to_string(),
            "readings": paths.readings.display().to_string(),
            "bundle": paths.bundle.display().to_string(),
        },
        "keys": {
            "operator": o.keys.operator.display().to_string(),
            "refinery": o.keys.refinery.display().to_string(),
            "certifier": o.keys.certifier.display().to_string(),
            "electronics": o.keys.electronics.display().to_string(),
        },
    })
}
