//! The Tongling scenario, phase by phase: who signs what, in which batches, and what came of it ([`Outcome`]).
//!
//! Two primary cathode suppliers, a secondary-copper refiner, a rod maker,
//! a foil maker, an electronics maker, a grid utility and its maintenance
//! contractor (service), two recyclers and a certifier. Products get passports and service
//! histories, reach end of life ([`life`]), come back as graded scrap, are
//! melted with primary top-up and refined; a certificate is issued, another
//! is refused by the rules; a circular performance contract is delivered
//! and taken back ([`recycling`]). Each phase is one function, called in
//! order by [`run`]; entries are committed in batches wherever order allows.

mod life;
mod recycling;

use std::collections::BTreeMap;
use std::path::PathBuf;

use passport_schema::{Composition, LotView};
use uuid::Uuid;

use super::Paths;
use super::recorder::{Actor, DAY, Recorder};
use crate::backend::Local;
use crate::error::{CliError, Result};
use crate::output::Style;
use life::{
    end_of_life, issue_passports, primary_cathode, publish_rules, register_cast, semi_finished,
    service_history,
};
use recycling::{
    Grader, certificates, contract, grade_scrap, melt_and_refine, receive_scrap, take_back,
};

/// Grams per tonne.
const T: u64 = 1_000_000;

/// The ledger operator's registered name.
pub(super) const OPERATOR: &str = "Tongling Ledger Operator";

/// How many days of history the scenario records, the first event that
/// long before now.
const HISTORY_DAYS: i64 = 200;

/// The backdating window the demo log's genesis states: the whole history
/// plus the days the recorder's clock runs on through it.
pub(super) const HISTORY_DAYS_BACKDATED: i64 = 2 * HISTORY_DAYS;

/// What the scenario recorded, for the report.
pub(super) struct Outcome {
    /// Entries appended, by event kind (the genesis entry included).
    pub(super) counts: BTreeMap<&'static str, u64>,
    /// Batches committed (the genesis entry is the first).
    pub(super) batches: u64,
    /// The products that got passports, in issue order.
    pub(super) products: Vec<Uuid>,
    /// Every grading from an analyser CSV, in the order they were recorded.
    pub(super) graded: Vec<GradeRow>,
    /// The anode the first melt made (Hefei's scrap, the pre-consumer lot,
    /// Chinese cathode); its inputs make the report's melt table.
    pub(super) anode: Uuid,
    /// Index of the first melt's entry.
    pub(super) melt_index: u64,
    /// The refined lot that was certified.
    pub(super) certified_lot: Uuid,
    /// Its view when the certificate was issued.
    pub(super) certified: LotView,
    /// The certificate issued.
    pub(super) certificate: Uuid,
    /// The refined lot whose certificate the rules refused.
    pub(super) refused_lot: Uuid,
    /// Why they refused it.
    pub(super) refusal: CliError,
    /// The circular performance contract.
    pub(super) contract: Uuid,
    /// Key files of the actors the report points to.
    pub(super) keys: KeyFiles,
}

/// One grading from an analyser CSV.
pub(super) struct GradeRow {
    /// The scrap lot.
    pub(super) lot: Uuid,
    /// Who graded it.
    pub(super) recycler: &'static str,
    /// The readings file, relative to the output directory.
    pub(super) file: String,
    /// Spots in the file.
    pub(super) spots: u16,
    /// Mean copper, ppm.
    pub(super) cu_ppm: u32,
    /// The grade (`None`: off-grade).
    pub(super) grade: Option<String>,
    /// A lot taken back under the contract (not a recycler's lot).
    pub(super) take_back: bool,
}

/// Key files of the actors the report names.
pub(super) struct KeyFiles {
    /// The ledger operator's (inside the ledger directory).
    pub(super) operator: PathBuf,
    /// The secondary-copper refinery's.
    pub(super) refinery: PathBuf,
    /// The certifier's.
    pub(super) certifier: PathBuf,
    /// The electronics maker's (it issues the passports).
    pub(super) electronics: PathBuf,
}

/// Everyone in the scenario.
struct Cast {
    operator: Actor,
    jinguan: Actor,
    andes: Actor,
    refinery: Actor,
    rodmill: Actor,
    foil: Actor,
    electronics: Actor,
    utility: Actor,
    /// The utility's maintenance contractor (service under authorisation).
    maintenance: Actor,
    hefei: Actor,
    wuhu: Actor,
    certifier: Actor,
}

/// The primary cathode lots.
struct Cathode {
    /// Drawn into rod.
    for_rod: Uuid,
    /// Rolled into foil.
    for_foil: Uuid,
    /// Chinese top-up for the first melt.
    top_cn: Uuid,
    /// Chilean top-up for the second melt.
    top_cl: Uuid,
}

/// Copper of `ppm` purity (add the rest with `.with`).
fn cu(ppm: u32) -> Composition {
    Composition::new().with("Cu", ppm)
}

/// Runs the whole scenario on a fresh ledger (genesis only), writing key
/// files, readings and example files under `paths`.
pub(super) fn run(local: &Local, paths: &Paths, passports: u32, style: &Style) -> Result<Outcome> {
    let operator = Actor::operator(&paths.ledger, OPERATOR)?;
    let now = client::now_ms();
    let mut d = Recorder::new(local.ledger(), now - HISTORY_DAYS * DAY);
    let cast = register_cast(&mut d, paths, operator)?;
    let (rule_set, scheme) = publish_rules(&mut d, &cast, paths)?;
    let cathode = primary_cathode(&mut d, &cast)?;
    let (rod, foil) = semi_finished(&mut d, &cast, &cathode)?;
    let products = issue_passports(&mut d, &cast, paths, rod, foil, passports as usize)?;
    service_history(&mut d, &cast, &products)?;
    let (to_hefei, to_wuhu) = end_of_life(&mut d, &cast, &products)?;
    let scrap = receive_scrap(&mut d, &cast, &to_hefei, &to_wuhu)?;
    let grader = Grader {
        paths,
        rule_set: &rule_set,
        style,
    };
    let mut graded = grade_scrap(&mut d, &cast, &grader, &scrap)?;
    let refined = melt_and_refine(&mut d, &cast, &scrap, &cathode)?;
    let (certificate, certified, refusal) = certificates(&mut d, local, &cast, scheme, &refined)?;
    let rs_ref = passport_schema::RuleSetRef {
        id: rule_set.id,
        version: rule_set.version,
    };
    let contract = contract(&mut d, &cast, &refined, rs_ref, now)?;
    graded.extend(take_back(&mut d, &cast, &grader, contract)?);
    Ok(Outcome {
        counts: d.counts,
        batches: d.batches,
        products,
        graded,
        anode: refined.anode,
        melt_index: refined.melt_index,
        certified_lot: refined.certified,
        certified,
        certificate,
        refused_lot: refined.tainted,
        refusal,
        contract,
        keys: KeyFiles {
            operator: cast.operator.key_file.clone(),
            refinery: cast.refinery.key_file.clone(),
            certifier: cast.certifier.key_file.clone(),
            electronics: cast.electronics.key_file.clone(),
        },
    })
}
