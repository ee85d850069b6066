//! `cupass demo`: the Tongling scenario in a fresh local ledger, in one run.
//!
//! Two primary cathode suppliers, a secondary-copper refiner, a rod maker,
//! a foil maker, an electronics maker, a grid utility and its maintenance
//! contractor (service), two recyclers and a certifier. Products get passports and service
//! histories, reach end of life, come back as graded scrap (graded from
//! analyser CSVs through the same code as `cupass scrap grade`), are melted
//! with primary top-up and refined; a certificate is issued, another is
//! refused by the rules; a circular performance contract is delivered,
//! taken back and audited; the certificate's evidence bundle is exported
//! and verified offline.
//!
//! This module prepares the output directory and the ledger, runs the
//! scenario (`scenario`), exports and verifies the evidence bundle, and
//! hands what happened to the report (`report`). Entries are committed in
//! batches through [`client::PassportLedger::commit_batch`] wherever order
//! allows (`recorder`).

mod analyser;
mod recorder;
mod report;
mod scenario;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use client::bundle::EvidenceBundle;
use client::verify::Verdict;
use passport_schema::{CertificateView, ContractAudit, InputUse, LotView};

use crate::Ctx;
use crate::args::DemoArgs;
use crate::backend::{Backend, Local};
use crate::cmd::certs::bundle_json;
use crate::error::{CliError, Result};
use crate::output::Report;
use recorder::DAY;

/// The fewest passports `--passports` accepts.
const MIN_PASSPORTS: u32 = 20;
/// The most passports `--passports` accepts.
const MAX_PASSPORTS: u32 = 480;
/// The marker file the demo writes into a directory it creates; only a
/// directory holding it (or an empty one) is ever wiped by a later run.
pub const DEMO_MARKER: &str = ".cupass-demo";
/// The demo ledger's origin (the name its checkpoints are signed under).
const ORIGIN: &str = "tongling.cupass.example/demo";

/// Everything the demo writes, under the output directory.
struct Paths {
    /// The output directory.
    out: PathBuf,
    /// The local ledger.
    ledger: PathBuf,
    /// Actor key files.
    keys: PathBuf,
    /// Analyser CSVs.
    readings: PathBuf,
    /// The rule set, as published.
    rule_set: PathBuf,
    /// The scheme, as published.
    scheme: PathBuf,
    /// The first product's passport.
    passport_example: PathBuf,
    /// The certificate's evidence bundle (CBOR).
    bundle: PathBuf,
    /// The same bundle, as readable JSON.
    bundle_json: PathBuf,
}

impl Paths {
    fn under(out: PathBuf) -> Self {
        Paths {
            ledger: out.join("ledger"),
            keys: out.join("keys"),
            readings: out.join("readings"),
            rule_set: out.join("isri-illustrative-ruleset.json"),
            scheme: out.join("scheme.json"),
            passport_example: out.join("passport-example.json"),
            bundle: out.join("certificate.cupass"),
            bundle_json: out.join("certificate.json"),
            out,
        }
    }
}

/// What the ledger shows once the scenario has run: the exported evidence
/// bundle and its offline verdict, the contract audit, the certificate.
struct Evidence {
    /// The log verifier key file.
    log_pub: PathBuf,
    /// The log verifier key, as `client::init` printed it.
    verifier_key: String,
    /// Entries in the bundle.
    bundle_entries: usize,
    /// Size of the bundle file, bytes.
    bundle_bytes: usize,
    /// The bundle verified offline against the log key.
    verdict: Verdict,
    /// The circular performance contract, audited.
    audit: ContractAudit,
    /// The issued certificate.
    certificate: CertificateView,
    /// Entries in the log.
    size: u64,
    /// Time taken to record the scenario.
    recorded: Duration,
    /// Time taken in all.
    elapsed: Duration,
    /// What went into the first melt, with each input's view.
    melt_inputs: Vec<(InputUse, LotView)>,
}

/// Makes `out` a fresh, empty directory holding [`DEMO_MARKER`]. Refuses
/// (usage error) to wipe anything that is not an earlier demo's output.
fn prepare_out(out: &Path) -> Result<()> {
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(CliError::usage(format!(
                "cannot use --out {}: {e}",
                out.display()
            )));
        }
        Ok(m) if !m.is_dir() => {
            return Err(CliError::usage(format!(
                "--out {} exists and is not a directory; refusing to overwrite it",
                out.display()
            )));
        }
        Ok(_) => {
            let mut entries = std::fs::read_dir(out)?;
            if out.join(DEMO_MARKER).is_file() {
                std::fs::remove_dir_all(out)
                    .map_err(|e| CliError::failed(format!("cannot wipe {}: {e}", out.display())))?;
            } else if entries.next().is_some() {
                return Err(CliError::usage(format!(
                    "--out {} is not empty and not an earlier demo's output (no {DEMO_MARKER} \
                     file); refusing to wipe it. Choose a new or empty directory.",
                    out.display()
                )));
            }
        }
    }
    std::fs::create_dir_all(out)?;
    std::fs::write(
        out.join(DEMO_MARKER),
        "written by `cupass demo`: this directory is wiped by the next demo run into it\n",
    )?;
    Ok(())
}

/// Runs the demo.
pub fn demo(ctx: &mut Ctx, a: DemoArgs) -> Result<Report> {
    if ctx.node.is_some() {
        return Err(CliError::usage(
            "the demo builds a fresh local ledger; drop --node",
        ));
    }
    if !(MIN_PASSPORTS..=MAX_PASSPORTS).contains(&a.passports) || !a.passports.is_multiple_of(20) {
        return Err(CliError::usage(format!(
            "--passports must be a multiple of 20 from {MIN_PASSPORTS} to {MAX_PASSPORTS} (default 240)"
        )));
    }
    let started = Instant::now();
    let paths = Paths::under(a.out.clone().unwrap_or_else(|| ctx.dir.join("demo")));
    prepare_out(&paths.out)?;
    std::fs::create_dir_all(&paths.keys)?;
    std::fs::create_dir_all(&paths.readings)?;
    // The scenario replays its history in a second, dated as it happened,
    // so its log's genesis allows backdating over that whole history (a
    // production log keeps the 72-hour default).
    let options = client::Options {
        max_backdating_ms: scenario::HISTORY_DAYS_BACKDATED * DAY,
        ..client::Options::default()
    };
    let init = client::init(&paths.ledger, ORIGIN, scenario::OPERATOR, "CN", &options)?;
    let local = Local::open(&paths.ledger)?;
    let outcome = scenario::run(&local, &paths, a.passports, &ctx.style)?;
    let recorded = started.elapsed();
    let evidence = export_and_verify(
        &local,
        &paths,
        &outcome,
        init.verifier_key,
        started,
        recorded,
    )?;
    Ok(report::report(&ctx.style, &paths, &outcome, &evidence))
}

/// Exports the certificate's evidence bundle (CBOR and readable JSON),
/// verifies it offline against the log key, audits the contract, and reads
/// the views the report shows.
fn export_and_verify(
    local: &Local,
    paths: &Paths,
    outcome: &scenario::Outcome,
    verifier_key: String,
    started: Instant,
    recorded: Duration,
) -> Result<Evidence> {
    let bundle_bytes = local.bundle(&outcome.certificate)?;
    std::fs::write(&paths.bundle, &bundle_bytes)?;
    let bundle = EvidenceBundle::from_cbor(&bundle_bytes)?;
    std::fs::write(
        &paths.bundle_json,
        serde_json::to_string_pretty(&bundle_json(&bundle)).unwrap_or_default(),
    )?;
    let log_pub = client::DataDir(paths.ledger.clone()).log_pub();
    let log_key = crate::keys::parse_log_key(&log_pub.display().to_string())?;
    let verdict = client::bundle::verify_bundle(&std::fs::read(&paths.bundle)?, &log_key);
    let audit = local.contract_audit(&outcome.contract)?;
    let certificate = local.certificate(&outcome.certificate)?;
    let elapsed = started.elapsed();
    let size = local.ledger().log().size()?;
    let mut melt_inputs = Vec::new();
    for input in local.lot(&outcome.anode)?.inputs {
        let view = local.lot(&input.material)?;
        melt_inputs.push((input, view));
    }
    Ok(Evidence {
        log_pub,
        verifier_key,
        bundle_entries: bundle.entries.len(),
        bundle_bytes: bundle_bytes.len(),
        verdict,
        audit,
        certificate,
        size,
        recorded,
        elapsed,
        melt_inputs,
    })
}
